"""Tables bigger than memory: what operators see of them.

Two shapes, beside the plain ``pandas.DataFrame`` a small operator still receives:

* A **relational** operator (select, filter, join, aggregate, ...) implements ``query``: it
  describes its output as SQL over its inputs, and an engine runs it (DuckDB embedded, out of
  core; or Spark), reading and writing Parquet directly. The operator never holds a row. Its
  SQL is written once, in DuckDB's dialect; ``operators.engines`` transpiles it for Spark with
  sqlglot. Identifiers and values enter SQL only through ``ident`` and ``lit``.

* An operator that needs rows in memory (fitting a model, predicting, sending records) sets
  ``lazy_inputs = True`` and receives ``Table`` handles: it reads them in batches
  (``batches``), the first rows (``head``) or a bounded sample (``sample``), and may return
  an iterator of DataFrames on a table port, which the engine writes batch by batch.

Nothing here knows Django.
"""
from __future__ import annotations

import hashlib
import math
import os
import queue
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from .schema import Schema, schema_of

BATCH_ROWS = 65_536
COMPRESS_ROWS = 2_000_000

# A column's schema type as the SQL type every engine casts it to (DuckDB's names; sqlglot
# maps them for Spark: BIGINT, DOUBLE, BOOLEAN, STRING, TIMESTAMP).
SQL_TYPES = {"int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "str": "VARCHAR",
             "datetime": "TIMESTAMP"}


# --- writing SQL safely ------------------------------------------------------------------------

ERR_EMPTY_NAME = ("A column has an empty name, which the engine cannot read: give it a name "
                  "first (Rename columns).")


def ident(name: str) -> str:
    """A column or table name as a quoted SQL identifier: any text is safe here but the empty
    one, which no SQL engine accepts (an OperatorError)."""
    if str(name) == "":
        from .base import OperatorError

        raise OperatorError(ERR_EMPTY_NAME)
    return exp.to_identifier(str(name), quoted=True).sql("duckdb")


def lit(value: Any) -> str:
    """A Python value as a SQL literal (text quoted and escaped, None as NULL, a timestamp as
    TIMESTAMP '...'): never pasted into SQL any other way."""
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC").tz_localize(None)
        return f"TIMESTAMP {lit(ts.isoformat(sep=' '))}"
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return f"CAST({lit(str(value).lower())} AS DOUBLE)"  # 'nan', 'inf', '-inf'
    return exp.convert(value).sql("duckdb")


def cast(sql: str, col_type: str) -> str:
    """``sql`` cast to the SQL type of a schema type."""
    return f"CAST({sql} AS {SQL_TYPES.get(col_type, 'VARCHAR')})"


def columns_sql(schema: Schema) -> str:
    """``"a", "b", ...``: every column of ``schema`` by name, in order."""
    return ", ".join(ident(c["name"]) for c in schema)


def parse_one_select(sql: str) -> exp.Query:
    """``sql`` parsed as DuckDB SQL; a ValueError unless it is one query."""
    statements = sqlglot.parse(sql, read="duckdb")
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ValueError("not a single query")
    query: exp.Query = statements[0]
    return query


# --- a relational operator's inputs and outputs ------------------------------------------------

@dataclass(frozen=True)
class Rel:
    """A table in a query: ``ref`` is what goes after FROM (a quoted name), ``schema`` its
    columns in order, exactly as the engine will produce them."""

    ref: str
    schema: Schema

    @property
    def names(self) -> list[str]:
        return [c["name"] for c in self.schema]

    def types(self) -> dict[str, str]:
        return {c["name"]: c["type"] for c in self.schema}


class Query(Protocol):
    """What ``Operator.query`` builds with. One per node execution; an engine implements it.

    ``define`` names a SELECT (a common table expression) and returns it as a ``Rel`` other
    SELECTs read FROM; what the operator returns per output port is such a ``Rel``, whose
    schema the engine enforces by casting each column to its type. ``fetch`` runs a small
    query now (the distinct values a pivot turns into columns, the means a fill uses) over
    what has been defined so far, at most ``limit`` rows, refused past it. ``materialize`` is
    ``define`` for a costly SELECT read by several statements of the node (a split's row
    hashes: its counts, its train and its test): the engine may compute it once and keep it
    until the node ends instead of computing it again in each."""

    engine: str  # "duckdb" or "spark": for messages only, the SQL is DuckDB's either way

    def define(self, sql: str, schema: Schema) -> Rel: ...

    def materialize(self, sql: str, schema: Schema) -> Rel: ...

    def fetch(self, sql: str, *, limit: int = 10_000) -> pd.DataFrame: ...

    def log(self, message: str) -> None: ...


# --- tables read in parts ----------------------------------------------------------------------

class CteQuery:
    """The part of a ``Query`` the DuckDB and Spark engines share: each definition becomes a
    common table expression of the one statement that writes an output."""

    def __init__(self) -> None:
        self.ctes: list[tuple[str, str]] = []
        self.prefix = f"q{uuid.uuid4().hex[:8]}_"

    def define(self, sql: str, schema: Schema) -> Rel:
        name = f"{self.prefix}{len(self.ctes)}"
        self.ctes.append((name, sql))
        return Rel(ident(name), [dict(c) for c in schema])

    def materialize(self, sql: str, schema: Schema) -> Rel:
        """Computed again by each statement that reads it, unless the engine keeps it."""
        return self.define(sql, schema)

    def statement(self, body: str) -> str:
        if not self.ctes:
            return body
        return "WITH " + ", ".join(f"{ident(n)} AS ({s})" for n, s in self.ctes) + " " + body


@runtime_checkable
class Table(Protocol):
    """A table an operator reads without holding it whole (``lazy_inputs = True``)."""

    schema: Schema
    rows: int

    def batches(self, rows: int = BATCH_ROWS, columns: list[str] | None = None
                ) -> Iterator[pd.DataFrame]: ...

    def head(self, n: int) -> pd.DataFrame: ...

    def sample(self, n: int, *, seed: int, stratify: str | None = None,
               columns: list[str] | None = None) -> pd.DataFrame:
        """All rows if there are at most ``n``, else about ``n`` rows chosen by a hash of
        each row and ``seed`` (DuckDB's: the same rows from a DataFrame and from a Parquet
        file of the same table, whatever the engine), in proportion per value of
        ``stratify`` when given; in the table's order. With ``columns``, only those columns
        are hashed and returned (rows equal on them are alike to whoever reads only them)."""
        ...

    def to_pandas(self) -> pd.DataFrame: ...


@dataclass
class FrameTable:
    """A DataFrame seen as a ``Table``: serving's request rows, a unit test's input."""

    frame: pd.DataFrame
    schema: Schema = field(init=False)
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        from .schema import schema_of

        self.schema, self.rows = schema_of(self.frame), len(self.frame)

    def batches(self, rows: int = BATCH_ROWS, columns: list[str] | None = None
                ) -> Iterator[pd.DataFrame]:
        frame = self.frame if columns is None else self.frame[columns]
        for start in range(0, max(len(frame), 1), rows):
            yield frame.iloc[start:start + rows].reset_index(drop=True)

    def head(self, n: int) -> pd.DataFrame:
        return self.frame.head(n).reset_index(drop=True)

    def sample(self, n: int, *, seed: int, stratify: str | None = None,
               columns: list[str] | None = None) -> pd.DataFrame:
        frame = self.frame if columns is None else self.frame[columns]
        if len(frame) <= n:
            return frame.reset_index(drop=True)
        from .engines.duck import sample_positions

        return frame.iloc[sample_positions(frame, n, seed=seed, stratify=stratify)
                          ].reset_index(drop=True)

    def to_pandas(self) -> pd.DataFrame:
        return self.frame


class ParquetTable:
    """A Parquet file (an artifact) as a ``Table``: batches are read as they are consumed;
    a sample is chosen by DuckDB under its memory limit."""

    def __init__(self, path: str, *, memory_mb: int = 1024, temp_dir: str | None = None,
                 digest: str | None = None) -> None:
        self.path = path
        self.digest = digest  # the artifact's hash, when the file is a stored table
        self.memory_mb, self.temp_dir = memory_mb, temp_dir
        meta = pq.read_metadata(path)
        self.rows = meta.num_rows
        self.schema = schema_of_arrow(meta.schema.to_arrow_schema())

    def batches(self, rows: int = BATCH_ROWS, columns: list[str] | None = None
                ) -> Iterator[pd.DataFrame]:
        # pre_buffer off: with it, pyarrow keeps every row group's bytes it has read until
        # the file is closed (300 MB more by the end of 20M rows); without, memory is flat.
        with pq.ParquetFile(self.path, pre_buffer=False) as pf:
            produced = False
            for batch in pf.iter_batches(batch_size=rows, columns=columns):
                produced = True
                yield arrow_to_pandas(pa.Table.from_batches([batch]))
            if not produced:
                yield arrow_to_pandas(pf.schema_arrow.empty_table()
                                      if columns is None else
                                      pf.schema_arrow.empty_table().select(columns))

    def head(self, n: int) -> pd.DataFrame:
        with pq.ParquetFile(self.path) as pf:
            parts, got = [], 0
            for batch in pf.iter_batches(batch_size=max(min(n, BATCH_ROWS), 1)):
                parts.append(batch.slice(0, n - got))
                got += parts[-1].num_rows
                if got >= n:
                    break
            table = pa.Table.from_batches(parts, schema=pf.schema_arrow) if parts else \
                pf.schema_arrow.empty_table()
        return arrow_to_pandas(table)

    def sample(self, n: int, *, seed: int, stratify: str | None = None,
               columns: list[str] | None = None) -> pd.DataFrame:
        if self.rows <= n:
            frame = self.to_pandas()
            return frame if columns is None else frame[columns]
        from .engines.duck import sample_parquet

        return sample_parquet(self, n, seed=seed, stratify=stratify, columns=columns)

    def to_pandas(self) -> pd.DataFrame:
        return arrow_to_pandas(pq.read_table(self.path))


# A schema type as the Arrow type an engine writes it with.
ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
               "str": pa.string(), "datetime": pa.timestamp("us")}
PROBE_ROWS = 100


class MappedBatches:
    """A table output made row by row from a table input: ``fn(state, batch)`` applied to
    each batch of ``source`` (a model's predictions, say), giving the batch's rows in their
    order with the columns ``added`` last (replacing input columns of the same names).
    ``reads``: the only columns ``fn`` reads, when the operator knows them.

    Iterating it gives ``fn(state, batch)`` batch by batch, read as they are consumed (a
    table in memory). From a Parquet file the engine maps Arrow batches (``map_batch``):
    ``fn`` sees only the columns it reads, and the batch's own columns are written as they
    were read, its added ones appended: on the worker, or on Spark's executors partition by
    partition (``operators.engines.run_mapped``), ``state`` broadcast to them: so ``fn`` is a
    module-level function and ``state`` can be pickled."""

    def __init__(self, source: Table, fn: Callable[[Any, pd.DataFrame], pd.DataFrame],
                 state: Any, added: tuple[str, ...], reads: Iterable[str] | None = None
                 ) -> None:
        self.source, self.fn, self.state, self.added = source, fn, state, added
        wanted = None if reads is None else set(reads)
        self.reads = None if wanted is None else \
            tuple(c["name"] for c in source.schema if c["name"] in wanted)
        self._batches: Iterator[pd.DataFrame] | None = None

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return self

    def __next__(self) -> pd.DataFrame:
        if self._batches is None:
            self._batches = (self.fn(self.state, batch) for batch in self.source.batches())
        return next(self._batches)

    def added_schema(self, label: str) -> Schema:
        """The columns ``fn`` adds, with their types: from ``fn`` run on the first rows."""
        probe = self.fn(self.state, self.source.head(PROBE_ROWS))
        kept = [c["name"] for c in self.source.schema if c["name"] not in self.added]
        got = schema_of(probe)
        if [c["name"] for c in got[:len(kept)]] != kept:
            raise RuntimeError(f"{label}: a mapped table must keep its input's columns first.")
        return [dict(c) for c in got[len(kept):]]


def map_batch(fn: Callable[[Any, pd.DataFrame], pd.DataFrame], state: Any,
              added: tuple[str, ...], reads: tuple[str, ...] | None,
              new: list[tuple[str, pa.DataType]], batch: pa.RecordBatch) -> pa.RecordBatch:
    """One Arrow batch of a ``MappedBatches``: ``fn`` on the columns it reads (as pandas),
    the batch's other columns as they are, the added ones last as ``new`` types them."""
    frame = arrow_to_pandas(pa.Table.from_batches(
        [batch.select(list(reads)) if reads is not None else batch]))
    out = fn(state, frame)
    names = [n for n in batch.schema.names if n not in added]
    columns = [batch.column(n) for n in names]
    for name, arrow_type in new:
        columns.append(pa.array(out[name], from_pandas=True).cast(arrow_type))
    return pa.RecordBatch.from_arrays(columns, names=names + [n for n, _ in new])


def as_table(value: pd.DataFrame | Table) -> Table:
    """What an operator with ``lazy_inputs`` received, as a ``Table`` either way (serving and
    unit tests hand it DataFrames)."""
    return FrameTable(value) if isinstance(value, pd.DataFrame) else value


def collect(value: pd.DataFrame | Iterable[pd.DataFrame] | Table) -> pd.DataFrame:
    """A table output as one DataFrame: an operator may return an iterator of batches."""
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, Table):
        return value.to_pandas()
    parts = list(value)
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


# --- one conversion from Arrow, whoever wrote the file -----------------------------------------

def parquet_options(schema: pa.Schema, rows: int = 0) -> dict[str, Any]:
    """How every node output is written (``pyarrow.parquet.write_table`` / ``ParquetWriter``
    keywords). Writing every intermediate is on the critical path of each run: uncompressed,
    without column statistics (nothing reads them) and dictionary-encoding only text (numbers
    and times rarely repeat enough to pay for it), a 1M-row table writes in about 40% of the
    CPU time of pyarrow's defaults and two thirds of DuckDB's COPY, in a file up to twice as
    large. A table of more than ``COMPRESS_ROWS`` (when the caller knows) is compressed
    (snappy): its bytes cost every reader, copy and hash more than compressing them."""
    return {"compression": "snappy" if rows > COMPRESS_ROWS else "none",
            "write_statistics": False,
            "use_dictionary": [f.name for f in schema
                               if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]}


def link_or_copy(source: str, target: str) -> None:
    """``target`` (which must not exist) as a hard link to ``source``, or a copy of it on
    another file system: a stored file handed on without its bytes being copied. Nothing is
    written through a name that exists (a file or a link planted in a shared temporary
    folder): FileExistsError."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:  # another file system, or hard links not allowed there
        with open(source, "rb") as src, open(target, "xb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


HASH_QUEUE_CHUNKS = 8


class HashedFile:
    """A file to write a Parquet table into (a ``ParquetWriter``'s sink) whose SHA-256 is
    computed as the bytes come, on a thread of its own (hashlib lets go of the interpreter
    lock): the artifact store's digest without reading the file again after it is written,
    and mostly while the writer encodes the next batch. 20 MB: 28 ms instead of 38.
    ``on_thread`` False: hashed as written, in the caller's thread (a small table: starting
    and joining a thread costs more than its hash)."""

    def __init__(self, path: str, *, on_thread: bool = True) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._sha = hashlib.sha256()
        # Bounded: a writer faster than the hash (a busy machine) waits rather than holding
        # the file's bytes in memory.
        self._chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=HASH_QUEUE_CHUNKS)
        self._hasher: threading.Thread | None = None
        if on_thread:
            self._hasher = threading.Thread(target=self._hash, daemon=True,
                                            name="datagran-hash")
            self._hasher.start()
        self._size = 0
        self.closed = False

    def __enter__(self) -> HashedFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _hash(self) -> None:
        while (chunk := self._chunks.get()) is not None:
            self._sha.update(chunk)

    def write(self, data: Any) -> int:
        if self._hasher is None:
            size = self._file.write(data)
            self._sha.update(data)
            self._size += size
            return size
        chunk = bytes(data)  # the writer may reuse its buffer once this returns
        self._file.write(chunk)
        self._chunks.put(chunk)
        self._size += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._size

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self._hasher is not None:
                self._chunks.put(None)
                self._hasher.join()
            self._file.close()

    def digest(self) -> str:
        """The SHA-256 of everything written (the file closed first)."""
        self.close()
        return self._sha.hexdigest()


WRITE_AHEAD_BATCHES = 2


class ParquetWriterThread:
    """A ``ParquetWriter`` on a thread of its own: ``write_batch`` hands a batch over (at most
    ``WRITE_AHEAD_BATCHES`` waiting) and returns, and the thread encodes, compresses and
    writes it (pyarrow lets go of the interpreter lock) while the caller computes the next
    one: a model's next predictions, DuckDB's next rows. The writer is made for the first
    batch's schema with ``options(schema)``. An error of the thread is raised by the next
    ``write_batch`` or by ``close``; leaving the block on an error of the caller's writes no
    more batches. ``on_thread`` False: each batch is written by ``write_batch`` itself (a
    small table: starting and joining a thread costs more than it saves)."""

    def __init__(self, sink: Any, options: Callable[[pa.Schema], dict[str, Any]], *,
                 on_thread: bool = True) -> None:
        self.sink, self.options = sink, options
        self._writer: pq.ParquetWriter | None = None
        self._started = False  # a writer was made (and the file begun)
        self._batches: queue.Queue[pa.RecordBatch | None] = queue.Queue(
            maxsize=WRITE_AHEAD_BATCHES)
        self._error: BaseException | None = None
        self._abandoned = False
        self._thread: threading.Thread | None = None
        if on_thread:
            self._thread = threading.Thread(target=self._write, daemon=True,
                                            name="datagran-parquet-writer")
            self._thread.start()

    def __enter__(self) -> ParquetWriterThread:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self._abandoned = self._abandoned or kind is not None
        self._stop()
        if kind is None and self._error is not None:
            raise self._error

    def _write(self) -> None:
        while (batch := self._batches.get()) is not None:
            if self._error is not None or self._abandoned:
                continue  # taken off the queue, not written
            try:
                self._write_one(batch)
            except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
                self._error = exc

    def _write_one(self, batch: pa.RecordBatch) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.sink, batch.schema,
                                            **self.options(batch.schema))
            self._started = True
        self._writer.write_batch(batch)

    def write_batch(self, batch: pa.RecordBatch) -> None:
        if self._error is not None:
            raise self._error
        if self._thread is None:
            self._write_one(batch)
        else:
            self._batches.put(batch)

    def close(self, schema: pa.Schema | None = None) -> None:
        """Every batch written and the file closed; with no batch, a file of no rows with
        ``schema``."""
        self._stop()
        if self._error is not None:
            raise self._error
        if not self._started and schema is not None:
            pq.ParquetWriter(self.sink, schema, **self.options(schema)).close()
            self._started = True

    def _stop(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._batches.put(None)
            self._thread.join()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            try:
                writer.close()
            except BaseException as exc:  # noqa: BLE001 - the first error is the one raised
                self._error = self._error or exc


def schema_of_arrow(schema: pa.Schema) -> Schema:
    return [{"name": f.name, "type": arrow_type(f.type)} for f in schema]


def arrow_type(t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "datetime"
    if pa.types.is_dictionary(t):
        return arrow_type(t.value_type)
    return "str"


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """The same DataFrame from a Parquet file whether pandas, DuckDB or Spark wrote it:
    integers and booleans with missing values become pandas' nullable Int64 and boolean
    (never floats and objects), decimals become floats, dates and time stamps datetime64.
    A file pandas wrote keeps the dtypes its metadata records."""
    if table.schema.pandas_metadata:
        return table.to_pandas()
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        t = column.type
        if pa.types.is_dictionary(t):
            column, t = column.cast(t.value_type), t.value_type
        if pa.types.is_decimal(t):
            column, t = column.cast(pa.float64()), pa.float64()
        if pa.types.is_date(t):
            column, t = column.cast(pa.timestamp("us")), pa.timestamp("us")
        if pa.types.is_integer(t) and column.null_count:
            columns[name] = pd.Series(column.to_pandas(types_mapper=pd.ArrowDtype),
                                      dtype="Int64")
        elif pa.types.is_boolean(t) and column.null_count:
            columns[name] = pd.Series(column.to_pandas(types_mapper=pd.ArrowDtype),
                                      dtype="boolean")
        elif pa.types.is_integer(t) and t != pa.int64():
            columns[name] = column.cast(pa.int64()).to_pandas()
        else:
            columns[name] = column.to_pandas()
    if len(columns) != table.num_columns:  # repeated names (a query's result may have them)
        return table.to_pandas()
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))
