"""The content-addressed artifact store: tables as Parquet, models as skops files, other
files as bytes, each under the SHA-256 of its bytes. Nothing here knows about runs."""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import skops.io as sio
from django.conf import settings

from operators.base import Schema, TrainedModel, schema_of

# Model files may only contain types from these packages; anything else is refused by name.
TRUSTED_TYPE_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


class UntrustedModel(Exception):
    def __init__(self, types: list[str]) -> None:
        super().__init__(f"The model file needs types that are not trusted: {', '.join(types)}")
        self.types = types


@dataclass(frozen=True)
class TableRef:
    hash: str
    rows: int
    schema: Schema

    def as_json(self) -> dict[str, Any]:
        return {"kind": "table", "hash": self.hash, "rows": self.rows, "schema": self.schema}


class ArtifactStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, kind: str, digest: str, suffix: str) -> Path:
        return self.root / kind / digest[:2] / f"{digest}{suffix}"

    def _put(self, kind: str, data: bytes, suffix: str) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(kind, digest, suffix)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a reader never sees half a file.
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        return digest

    def exists(self, ref: dict[str, Any]) -> bool:
        """Whether the artifact an output ref points to is still stored."""
        suffix = {"table": ".parquet", "model": ".skops"}.get(ref.get("kind", ""), ".bin")
        return self.path(f"{ref.get('kind', 'file')}s", ref["hash"], suffix).exists()

    # --- tables ------------------------------------------------------------------------------
    def put_table(self, df: pd.DataFrame) -> TableRef:
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), sink)
        digest = self._put("tables", sink.getvalue().to_pybytes(), ".parquet")
        return TableRef(hash=digest, rows=len(df), schema=schema_of(df))

    def table_path(self, digest: str) -> Path:
        return self.path("tables", digest, ".parquet")

    def read_table(self, digest: str) -> pd.DataFrame:
        return pd.read_parquet(self.table_path(digest))

    # --- models ------------------------------------------------------------------------------
    def put_model(self, model: TrainedModel) -> str:
        payload = {
            "estimator": model.estimator, "features": model.features, "target": model.target,
            "task": model.task, "classes": list(model.classes), "algorithm": model.algorithm,
        }
        return self._put("models", sio.dumps(payload), ".skops")

    def read_model(self, digest: str) -> TrainedModel:
        data = self.path("models", digest, ".skops").read_bytes()
        return TrainedModel(**load_trusted(data))

    # --- plain files -------------------------------------------------------------------------
    def put_file(self, data: bytes) -> str:
        return self._put("files", data, ".bin")

    def file_path(self, digest: str) -> Path:
        return self.path("files", digest, ".bin")


def load_trusted(data: bytes) -> Any:
    """Load a skops file, trusting only scikit-learn, NumPy and SciPy types."""
    untrusted = sio.get_untrusted_types(data=data)
    refused = [t for t in untrusted if not t.startswith(TRUSTED_TYPE_PREFIXES)]
    if refused:
        raise UntrustedModel(refused)
    return sio.loads(data, trusted=untrusted)


def artifact_store() -> ArtifactStore:
    return ArtifactStore(settings.DATAGRAN["ARTIFACT_ROOT"])
