"""What an action keeps of a table bigger than memory while it sends it: the keys that appear
more than once (counted by DuckDB, out of core), and its results table (a Parquet file
written chunk by chunk). A table of one chunk or less keeps both in memory, as before."""
from __future__ import annotations

import os
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..tables import ParquetTable, Table

# Rows read, turned into records and classified at a time; a batch never spans two chunks.
CHUNK_ROWS = 10_000


@dataclass(frozen=True)
class Scratch:
    """Where a delivery keeps what it must not hold: ``folder`` (the engine's temporary
    folder), under ``memory_mb`` for its DuckDB key index."""

    folder: str = ""
    memory_mb: int = 256

    @classmethod
    def of(cls, table: Table) -> Scratch:
        if isinstance(table, ParquetTable):
            return cls(table.temp_dir or "", max(64, table.memory_mb // 4))
        return cls()

    @property
    def where(self) -> str:
        return self.folder or tempfile.gettempdir()


class KeyCounts(Protocol):
    def add(self, keys: list[str]) -> None: ...

    def counts(self, keys: list[str]) -> dict[str, int]:
        """Of ``keys``, those added more than once: {key: times}."""
        ...

    def close(self) -> None: ...


class MemoryKeyCounts:
    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()

    def add(self, keys: list[str]) -> None:
        self.seen.update(keys)

    def counts(self, keys: list[str]) -> dict[str, int]:
        return {k: self.seen[k] for k in keys if self.seen[k] > 1}

    def close(self) -> None:
        pass


class DuckKeyCounts:
    """Every key in a DuckDB table that spills to ``scratch.folder``; the repeated ones are
    grouped once, when first asked for."""

    def __init__(self, scratch: Scratch) -> None:
        from ..engines import EngineSettings
        from ..engines.duck import connect

        self.con = connect(EngineSettings(memory_mb=scratch.memory_mb, threads=1,
                                          temp_dir=os.path.join(scratch.where, "dg-keys")))
        self.con.execute("CREATE TABLE keys (k VARCHAR)")
        self.grouped = False

    def add(self, keys: list[str]) -> None:
        self.con.register("chunk", pa.table({"k": pa.array(keys, pa.string())}))
        self.con.execute("INSERT INTO keys SELECT k FROM chunk")
        self.con.unregister("chunk")

    def counts(self, keys: list[str]) -> dict[str, int]:
        if not self.grouped:
            self.con.execute("CREATE TABLE repeated AS SELECT k, count(*) AS n FROM keys "
                             "GROUP BY k HAVING count(*) > 1; DROP TABLE keys")
            self.grouped = True
        self.con.register("chunk", pa.table({"k": pa.array(keys, pa.string())}))
        rows = self.con.execute("SELECT k, n FROM repeated WHERE k IN (SELECT k FROM chunk)"
                                ).fetchall()
        self.con.unregister("chunk")
        return {str(k): int(n) for k, n in rows}

    def close(self) -> None:
        self.con.close()


def key_counts(scratch: Scratch, chunked: bool) -> KeyCounts:
    return DuckKeyCounts(scratch) if chunked else MemoryKeyCounts()


_RESULT_SCHEMA = pa.schema([(name, pa.string()) for name in
                            ("record_key", "status", "reason", "payload")])


class ResultSink:
    """The results table, chunk by chunk: held while it is at most one chunk, else written to
    a Parquet file and handed on as batches read back from it (the file is removed once they
    have been read)."""

    def __init__(self, scratch: Scratch) -> None:
        self.scratch = scratch
        self.held: list[pd.DataFrame] = []
        self.rows = 0
        self.path = ""
        self.writer: pq.ParquetWriter | None = None

    def add(self, frame: pd.DataFrame) -> None:
        self.rows += len(frame)
        self.held.append(frame)
        if self.rows > CHUNK_ROWS:
            if self.writer is None:
                os.makedirs(self.scratch.where, exist_ok=True)
                self.path = os.path.join(self.scratch.where, f"results-{uuid.uuid4().hex}.parquet")
                self.writer = pq.ParquetWriter(self.path, _RESULT_SCHEMA)
            for held in self.held:
                self.writer.write_table(pa.Table.from_pandas(held, schema=_RESULT_SCHEMA,
                                                             preserve_index=False))
            self.held = []

    def result(self, empty: pd.DataFrame) -> pd.DataFrame | Iterator[pd.DataFrame]:
        if self.writer is None:
            if not self.held:
                return empty
            return self.held[0] if len(self.held) == 1 else pd.concat(self.held,
                                                                      ignore_index=True)
        self.writer.close()
        return _read_then_remove(self.path)

    def discard(self) -> None:
        if self.writer is not None:
            self.writer.close()
            os.unlink(self.path)
            self.writer = None


def _read_then_remove(path: str) -> Iterator[pd.DataFrame]:
    try:
        yield from ParquetTable(path).batches()
    finally:
        os.unlink(path)
