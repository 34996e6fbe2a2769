"""The content-addressed artifact store: tables as Parquet, models as skops files, other
files as bytes, each under the SHA-256 of its bytes, on a local folder or any fsspec URL
(storage.py). Nothing here knows about runs."""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from operators.base import Schema, TrainedModel, schema_of

from .memo import TableMemo
from .model_files import BadModelFile, UntrustedModel, load_trusted
from .storage import Storage, StorageSettingError, open_storage

__all__ = ["Artifact", "ArtifactStore", "BadModelFile", "StorageSettingError", "TableRef",
           "UntrustedModel", "artifact_store", "canonical_skops", "load_trusted"]

@dataclass(frozen=True)
class TableRef:
    hash: str
    rows: int
    schema: Schema

    def as_json(self) -> dict[str, Any]:
        return {"kind": "table", "hash": self.hash, "rows": self.rows, "schema": self.schema}


# kind → (folder, suffix). A ref without a kind (a node's written files) is a file.
KINDS = {"table": ("tables", ".parquet"), "model": ("models", ".skops"), "file": ("files", ".bin")}
FOLDERS = {folder: (kind, suffix) for kind, (folder, suffix) in KINDS.items()}
DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Artifact:
    kind: str
    hash: str
    size: int
    used: float  # last use, seconds since the epoch: the LRU order

    @property
    def ref(self) -> dict[str, str]:
        return {"kind": self.kind, "hash": self.hash}


class ArtifactStore:
    """Tables, models and files under the SHA-256 of their bytes, on a local folder or any
    fsspec URL. Callers name an artifact by its output ref ({"kind", "hash"}), never by a
    path, so they work the same on both."""

    def __init__(self, storage: Storage, memo_bytes: int = 0) -> None:
        self.storage = storage
        self.memo = TableMemo(memo_bytes)

    @property
    def url(self) -> str:
        return self.storage.url

    @staticmethod
    def key(kind: str, digest: str) -> str:
        if not DIGEST.fullmatch(digest):
            raise ValueError(f"not an artifact hash: {digest[:80]!r}")
        if kind not in KINDS:
            raise ValueError(f"not an artifact kind: {kind[:40]!r}")
        folder, suffix = KINDS[kind]
        return f"{folder}/{digest[:2]}/{digest}{suffix}"

    def _ref_key(self, ref: dict[str, Any]) -> str:
        return self.key(ref.get("kind") or "file", ref["hash"])

    def _put(self, kind: str, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        key = self.key(kind, digest)
        if not self._reuse(key):
            self.storage.write(key, data)
        return digest

    def _reuse(self, key: str) -> bool:
        """Whether the object is stored already; if so it is marked used now, before the
        node that wrote it again records its result (the collector keeps recent objects)."""
        if not self.storage.exists(key):
            return False
        self.storage.touch([key])
        return True

    # --- any artifact, by its output ref -----------------------------------------------------
    def exists(self, ref: dict[str, Any]) -> bool:
        """Whether the artifact an output ref points to is still stored."""
        return self.storage.exists(self._ref_key(ref))

    def open(self, ref: dict[str, Any]) -> BinaryIO:
        """A binary file object to stream from (a download); the caller closes it."""
        return self.storage.open(self._ref_key(ref))

    def size(self, ref: dict[str, Any]) -> int:
        return self.storage.size(self._ref_key(ref))

    def touch(self, refs: list[dict[str, Any]]) -> None:
        """Mark artifacts as just used: the LRU eviction takes them last."""
        self.storage.touch([self._ref_key(ref) for ref in refs])

    def last_used(self, ref: dict[str, Any]) -> float | None:
        """When the artifact was last written or used (Unix time); None if it is gone."""
        return self.storage.used(self._ref_key(ref))

    def delete(self, ref: dict[str, Any]) -> None:
        self.storage.delete(self._ref_key(ref))

    def artifacts(self) -> Iterator[Artifact]:
        """Every stored artifact with its size and last use."""
        for obj in self.storage.objects():
            folder, _, name = obj.key.rpartition("/")
            kind, suffix = FOLDERS.get(folder.split("/")[0], ("", ""))
            digest = name.removesuffix(suffix)
            if kind and name.endswith(suffix) and DIGEST.fullmatch(digest):
                yield Artifact(kind=kind, hash=digest, size=obj.size, used=obj.used)

    def check(self) -> None:
        """Reach the store; a StorageSettingError names the setting to fix."""
        self.storage.check()

    # --- tables ------------------------------------------------------------------------------
    def put_table(self, df: pd.DataFrame) -> TableRef:
        table = pa.Table.from_pandas(df, preserve_index=False)
        digest = self.memo.find(table)
        if digest is None or not self._reuse(self.key("table", digest)):
            sink = pa.BufferOutputStream()
            # Writing every intermediate is on the critical path of each run: uncompressed,
            # without column statistics (nothing reads them) and dictionary-encoding only text
            # (numbers and times rarely repeat enough to pay for it), a 1M-row table writes in
            # about 40% of the CPU time of the defaults, in a file up to twice as large.
            pq.write_table(table, sink, compression="none", write_statistics=False,
                           use_dictionary=[f.name for f in table.schema
                                           if pa.types.is_string(f.type)
                                           or pa.types.is_large_string(f.type)])
            digest = self._put("table", sink.getvalue().to_pybytes())
        self.memo.put(digest, table)
        return TableRef(hash=digest, rows=len(df), schema=schema_of(df))

    def read_table(self, digest: str) -> pd.DataFrame:
        """The table as a DataFrame of the caller's own: from the memo when this process
        wrote or read it lately, else from its Parquet file."""
        df = self.memo.get(digest)
        if df is not None:
            return df
        df = pd.read_parquet(self.storage.source(self.key("table", digest)))
        if self.memo.budget:
            self.memo.put(digest, pa.Table.from_pandas(df, preserve_index=False))
        return df

    # --- models ------------------------------------------------------------------------------
    def put_model(self, model: TrainedModel) -> str:
        payload = {
            "estimator": model.estimator, "features": model.features, "target": model.target,
            "task": model.task, "classes": list(model.classes), "algorithm": model.algorithm,
        }
        import skops.io as sio  # 1.5 s to import (it lists scikit-learn's types): on first use

        return self._put("model", canonical_skops(sio.dumps(payload)))

    def read_model(self, digest: str) -> TrainedModel:
        data = self.storage.read(self.key("model", digest))
        return TrainedModel(**load_trusted(data))

    # --- plain files -------------------------------------------------------------------------
    def put_file(self, data: bytes) -> str:
        return self._put("file", data)

    def read_file(self, digest: str) -> bytes:
        return self.storage.read(self.key("file", digest))


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


_stores: dict[tuple[int, str, str], ArtifactStore] = {}


def artifact_store() -> ArtifactStore:
    """The store the settings name (DATAGRAN_ARTIFACTS_URL, DATAGRAN_ARTIFACTS_OPTIONS).
    One per process: a remote filesystem keeps its connections, and a forked worker makes
    its own."""
    url, options = settings.DATAGRAN["ARTIFACTS_URL"], settings.DATAGRAN["ARTIFACTS_OPTIONS"]
    cache_key = (os.getpid(), url, options)
    store = _stores.get(cache_key)
    if store is None:
        store = _stores[cache_key] = ArtifactStore(
            open_storage(url, options), memo_bytes=settings.DATAGRAN["TABLE_MEMO_BYTES"])
    return store
