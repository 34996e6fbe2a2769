"""The content-addressed artifact store: tables as Parquet, models as skops files, other
files as bytes, each under the SHA-256 of its bytes, on a local folder or any fsspec URL
(storage.py). Nothing here knows about runs."""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from operators.base import Schema, TrainedModel, schema_of
from operators.tables import (
    BATCH_ROWS,
    ParquetTable,
    arrow_to_pandas,
    parquet_options,
    schema_of_arrow,
)

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
            # In row groups of BATCH_ROWS, as streamed outputs are: DuckDB reads a file's row
            # groups in parallel, so a 1M-row upload in one group was read on one thread
            # (40 ms where eight groups take 25 on two cores).
            pq.write_table(table, sink, row_group_size=BATCH_ROWS,
                           **parquet_options(table.schema))
            digest = self._put("table", sink.getvalue().to_pybytes())
        self.memo.put(digest, table)
        return TableRef(hash=digest, rows=len(df), schema=schema_of(df))

    def put_table_batches(self, batches: Iterable[pd.DataFrame], folder: str) -> TableRef:
        """A table an operator produced in batches (an iterator of DataFrames), written to a
        file in ``folder`` batch by batch and then stored: never whole in memory."""
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{uuid.uuid4().hex}.parquet")
        writer, schema, rows = None, None, 0
        try:
            for df in batches:
                table = pa.Table.from_pandas(df, preserve_index=False)
                if writer is None:
                    schema = table.schema
                    writer = pq.ParquetWriter(path, schema, compression="snappy")
                elif not table.schema.equals(schema, check_metadata=False):
                    # a later batch's column gained missing values (int64 → Int64 ...)
                    table = table.cast(schema, safe=False) if _castable(table.schema, schema) \
                        else table
                writer.write_table(table)
                rows += table.num_rows
        except BaseException:
            if writer is not None:
                writer.close()
            if os.path.exists(path):
                os.unlink(path)
            raise
        if writer is None:
            return self.put_table(pd.DataFrame())
        writer.close()
        return self.put_table_file(path, schema_of_arrow(pq.read_schema(path)), rows)

    def put_table_file(self, path: str, schema: Schema, rows: int,
                       table: pa.Table | None = None, digest: str | None = None) -> TableRef:
        """Store a Parquet file an engine wrote (consuming it): its hash is read from disk in
        chunks, so a table bigger than memory is stored as it is, unless the engine hashed
        the bytes as it wrote them (``digest``). ``table``: the same rows in memory, when the
        engine kept them, for the memo (the next node reads them there)."""
        digest = self._put_path("table", path, digest)
        if table is not None:
            self.memo.put(digest, table)
        return TableRef(hash=digest, rows=rows, schema=schema)

    def stored_again(self, table: ParquetTable) -> TableRef | None:
        """A stored table a node hands on unchanged (a source's dataset, an export's input):
        the artifact it is, marked used, without hashing its file again; None when the
        file is not a stored artifact (or no longer is)."""
        if table.digest is None or not self._reuse(self.key("table", table.digest)):
            return None
        return TableRef(hash=table.digest, rows=table.rows, schema=table.schema)

    def keep_bytes(self, memory_mb: int) -> int:
        """How large a table an engine may also hand back in memory for the memo: a quarter
        of a node's memory limit, and no more than the memo holds."""
        return min(self.memo.budget, memory_mb * 1024 * 1024 // 4)

    def table_source(self, digest: str, folder: str) -> str | pa.Table:
        """What an engine reads the table from: the memo's Arrow table when this process
        wrote or read it lately, else a local path to its Parquet file."""
        held = self.memo.arrow(digest)
        return held if held is not None else self.table_path(digest, folder)

    def table_path(self, digest: str, folder: str) -> str:
        """A local path to the table's Parquet file, for an engine to read (a copy in
        ``folder`` when the store is remote)."""
        return self.storage.local_path(self.key("table", digest), folder)

    def open_table(self, digest: str, folder: str, memory_mb: int) -> ParquetTable:
        """The table as an ``operators.tables.Table``: read in batches, never whole."""
        return ParquetTable(self.table_path(digest, folder), memory_mb=memory_mb,
                            temp_dir=folder, digest=digest)

    def table_info(self, digest: str) -> tuple[int, int]:
        """(rows, bytes in memory): of the memo's copy, or estimated from the file's footer
        without reading the file (``footer_bytes``)."""
        held = self.memo.shape(digest)
        if held is not None:
            return held
        meta = pq.read_metadata(self.storage.source(self.key("table", digest)))
        return meta.num_rows, footer_bytes(meta)

    def read_table(self, digest: str) -> pd.DataFrame:
        """The table as a DataFrame of the caller's own: from the memo when this process
        wrote or read it lately, else from its Parquet file."""
        df = self.memo.get(digest)
        if df is not None:
            return df
        df = arrow_to_pandas(pq.read_table(self.storage.source(self.key("table", digest))))
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

    def put_file_path(self, path: str, digest: str | None = None) -> str:
        """Store the local file at ``path`` (consuming it) as a file artifact; its hash is
        read from disk in chunks, so a file bigger than memory is stored as it is (unless
        the caller knows it: ``digest``)."""
        return self._put_path("file", path, digest)

    def _put_path(self, kind: str, path: str, digest: str | None = None) -> str:
        """Store the local file at ``path`` (consuming it) under its SHA-256, read in chunks
        (or ``digest``, when its writer computed it); a copy already stored is reused and the
        file removed."""
        if digest is None:
            sha = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    sha.update(chunk)
            digest = sha.hexdigest()
        key = self.key(kind, digest)
        if self._reuse(key):
            os.unlink(path)
        else:
            self.storage.write_file(key, path)
        return digest

    def read_file(self, digest: str) -> bytes:
        return self.storage.read(self.key("file", digest))


def footer_bytes(meta: pq.FileMetaData) -> int:
    """A table's size in memory from its Parquet footer: the larger of its uncompressed
    pages and its rows times each column's width (8 bytes a number, time or text offset,
    plus a text's length guessed from its smallest and largest values; 1 a boolean). The
    pages alone say little of a dictionary-encoded column: a text column of two cities
    takes 3 MB of pages for 5M rows, and 200 MB as a DataFrame."""
    pages = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    fields = meta.schema.to_arrow_schema()
    flat = meta.num_row_groups > 0 and meta.num_columns == len(fields)  # no nested columns
    width = 0
    for j, field in enumerate(fields):
        if pa.types.is_boolean(field.type):
            width += 1
            continue
        width += 8
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type) or \
                pa.types.is_binary(field.type):
            stats = meta.row_group(0).column(j).statistics if flat else None
            if stats is not None and stats.has_min_max:
                width += (len(stats.min) + len(stats.max)) // 2
    return max(pages, meta.num_rows * width)


def _castable(actual: pa.Schema, expected: pa.Schema) -> bool:
    return actual.names == expected.names


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
