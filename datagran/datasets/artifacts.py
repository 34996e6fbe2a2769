"""The content-addressed artifact store: tables as Parquet, models as skops files, other
files as bytes, each under the SHA-256 of its bytes. Nothing here knows about runs."""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import zipfile
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

    def ref_path(self, ref: dict[str, Any]) -> Path:
        """The file an output ref points to."""
        suffix = {"table": ".parquet", "model": ".skops"}.get(ref.get("kind", ""), ".bin")
        return self.path(f"{ref.get('kind', 'file')}s", ref["hash"], suffix)

    def exists(self, ref: dict[str, Any]) -> bool:
        """Whether the artifact an output ref points to is still stored."""
        return self.ref_path(ref).exists()

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
        return self._put("models", canonical_skops(sio.dumps(payload)), ".skops")

    def read_model(self, digest: str) -> TrainedModel:
        data = self.path("models", digest, ".skops").read_bytes()
        return TrainedModel(**load_trusted(data))

    # --- plain files -------------------------------------------------------------------------
    def put_file(self, data: bytes) -> str:
        return self._put("files", data, ".bin")

    def file_path(self, digest: str) -> Path:
        return self.path("files", digest, ".bin")


def canonical_skops(data: bytes) -> bytes:
    """The same model, always the same bytes: skops names its array files and memo entries
    by Python object ids and stamps the zip with the time. Renumber both in order of first
    appearance and fix the timestamps, so an exact replay reproduces the model file."""
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        schema = json.loads(src.read("schema.json"))
        ids: dict[Any, int] = {}
        files: dict[str, str] = {}

        def walk(node: Any) -> Any:
            if isinstance(node, dict):
                out = {}
                for key, value in node.items():
                    if key == "__id__":
                        value = ids.setdefault(value, len(ids))
                    elif key == "file" and isinstance(value, str) and value in src.namelist():
                        suffix = value[value.rfind("."):] if "." in value else ""
                        value = files.setdefault(value, f"{len(files)}{suffix}")
                    out[key] = walk(value)
                return out
            if isinstance(node, list):
                return [walk(v) for v in node]
            return node

        schema = walk(schema)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
            entries = [("schema.json", json.dumps(schema, indent=2).encode())] + sorted(
                (new, src.read(old)) for old, new in files.items())
            for name, content in entries:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                dst.writestr(info, content)
    return out.getvalue()


def load_trusted(data: bytes) -> Any:
    """Load a skops file, trusting only scikit-learn, NumPy and SciPy types."""
    untrusted = sio.get_untrusted_types(data=data)
    refused = [t for t in untrusted if not t.startswith(TRUSTED_TYPE_PREFIXES)]
    if refused:
        raise UntrustedModel(refused)
    return sio.loads(data, trusted=untrusted)


def artifact_store() -> ArtifactStore:
    return ArtifactStore(settings.DATAGRAN["ARTIFACT_ROOT"])
