"""Query the input tables with SQL, in an in-process DuckDB sealed off from files and network."""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from pydantic import Field

from ..base import Context, Operator, OperatorError, Params, Port, Schema
from ._common import conform, empty_frame

TABLES = ("a", "b", "c")
# A runaway query (a cross join, a huge range()) is stopped by memory and time, not by the
# worker dying: DATAGRAN_SQL_MEMORY_LIMIT (DuckDB syntax) and DATAGRAN_SQL_TIME_LIMIT_SECONDS.
MEMORY_LIMIT = os.environ.get("DATAGRAN_SQL_MEMORY_LIMIT", "1GB")
TIME_LIMIT_SECONDS = float(os.environ.get("DATAGRAN_SQL_TIME_LIMIT_SECONDS", "300"))
# DuckDB's memory limit bounds its own work, not the result it hands over: a result is
# fetched in Arrow batches and refused past DATAGRAN_SQL_MAX_ROWS rows or
# DATAGRAN_SQL_MAX_RESULT_BYTES bytes (Arrow's size), before it is all in memory.
MAX_ROWS = int(os.environ.get("DATAGRAN_SQL_MAX_ROWS", "10000000"))
MAX_RESULT_BYTES = int(os.environ.get("DATAGRAN_SQL_MAX_RESULT_BYTES", str(1 << 30)))
BATCH_ROWS = 65_536
ERR_TIME_LIMIT = "The query ran longer than its time limit of {seconds:g} s."
ERR_INTERRUPTED = "The query was stopped: the run was cancelled or reached its time limit."
ERR_ROWS = "The query returned more than {limit:,} rows, the limit (DATAGRAN_SQL_MAX_ROWS)."
ERR_BYTES = ("The query's result is larger than {limit:,} bytes, the limit "
             "(DATAGRAN_SQL_MAX_RESULT_BYTES).")
# Order matters: lock_configuration comes last, so that a query cannot undo the others.
_SEALED: dict[str, str | int | bool] = {
    "memory_limit": MEMORY_LIMIT,
    "threads": 2,
    "enable_external_access": False,  # no files, URLs, ATTACH, COPY, INSTALL
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "python_enable_replacements": False,  # no reading Python variables by name
    "lock_configuration": True,  # no SET/RESET
}
_TYPES = {
    **dict.fromkeys(("tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint",
                     "usmallint", "uinteger", "ubigint"), "int"),
    **dict.fromkeys(("float", "double", "decimal"), "float"),
    "boolean": "bool",
    **dict.fromkeys(("date", "timestamp", "timestamp_s", "timestamp_ms", "timestamp_ns",
                     "timestamp with time zone"), "datetime"),
}  # anything else (text, lists, intervals, ...) arrives as text


class SqlParams(Params):
    query: str = Field(
        ..., min_length=1, max_length=20_000,
        description="One SELECT query (DuckDB SQL) over the input tables a, b and c, such as "
        "SELECT plan, avg(spend) AS spend FROM a GROUP BY plan.",
    )


def _fail(message: str) -> OperatorError:
    return OperatorError(message, field="query")


def _connect(query: str, frames: dict[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:", config=dict(_SEALED))
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        con.close()
        raise _fail(str(exc)) from None
    kinds = [s.type.name for s in statements]
    if kinds != ["SELECT"]:
        con.close()
        raise _fail("Only a single SELECT query is allowed"
                    + (f"; this is {', '.join(kinds)}." if kinds else "."))
    for name, frame in frames.items():
        con.register(name, frame)
    return con


def _query(query: str, frames: dict[str, pd.DataFrame], *, rows: bool,
           ctx: Context | None = None) -> tuple[pd.DataFrame, Schema]:
    """The result (zero rows unless ``rows``) and its schema, mapped from DuckDB's types.
    Cancelling the node (``ctx``) or the time limit interrupts the query."""
    con = _connect(query, frames)
    timed_out = threading.Event()

    def time_limit() -> None:
        timed_out.set()
        con.interrupt()

    timer = threading.Timer(TIME_LIMIT_SECONDS, time_limit)
    timer.start()
    try:
        with ctx.on_interrupt(con.interrupt) if ctx else contextlib.nullcontext():
            relation = con.sql(query)
            result = _fetch(relation if rows else relation.limit(0))
            types = [_TYPES.get(t.id, "str") for t in relation.types]
    except duckdb.InterruptException:
        raise _fail(ERR_TIME_LIMIT.format(seconds=TIME_LIMIT_SECONDS) if timed_out.is_set()
                    else ERR_INTERRUPTED) from None
    except duckdb.OutOfMemoryException:
        raise _fail(f"The query needed more than its memory limit of {MEMORY_LIMIT}.") from None
    except duckdb.PermissionException:
        raise _fail("The query may only read the input tables a, b and c: files, URLs and "
                    "extensions are not allowed.") from None
    except duckdb.Error as exc:
        raise _fail(_explain(str(exc), frames)) from None
    finally:
        timer.cancel()
        con.close()
    schema = [{"name": str(n), "type": t} for n, t in zip(result.columns, types, strict=True)]
    return result, schema


def _fetch(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """The result in Arrow batches, refused as soon as it passes the row or byte limit."""
    reader = relation.to_arrow_reader(BATCH_ROWS)
    batches, count, size = [], 0, 0
    for batch in reader:
        count, size = count + batch.num_rows, size + batch.nbytes
        if count > MAX_ROWS:
            raise _fail(ERR_ROWS.format(limit=MAX_ROWS))
        if size > MAX_RESULT_BYTES:
            raise _fail(ERR_BYTES.format(limit=MAX_RESULT_BYTES))
        batches.append(batch)
    table = pa.Table.from_batches(batches, schema=reader.schema)
    # Repeated names made distinct as DuckDB's own DataFrames have them (id, id_1, ...).
    return table.rename_columns(list(relation.limit(0).df().columns)).to_pandas()


def _explain(message: str, frames: dict[str, Any]) -> str:
    for name in TABLES:
        if name not in frames and f"Table with name {name} does not exist" in message:
            return f"Table {name} is not connected: connect a table to input {name!r}."
    return message


class Sql(Operator):
    """Runs a SQL SELECT over up to three tables, connected as ``a``, ``b`` and ``c``.

    Example: ``{"query": "SELECT a.*, b.region FROM a JOIN b ON a.store_id = b.id"}``.

    DuckDB's SQL dialect, with everything that reaches outside the input tables switched
    off: reading files or URLs (read_csv, read_parquet, ...), COPY, ATTACH, INSTALL, LOAD,
    PRAGMA and SET are refused. The result's columns and types are checked on the canvas,
    before running, against the input schemas.
    """

    name = "transform.sql"
    label = "SQL transform"
    description = "Transform tables with a SQL SELECT query."
    category = "transform"
    icon = "code"
    keywords = ("sql", "query", "select", "duckdb", "join", "group by", "where", "window")
    inputs = (Port("a", "table", label="A"), Port("b", "table", label="B", optional=True),
              Port("c", "table", label="C", optional=True))
    outputs = (Port("table", "table"),)
    Params = SqlParams
    example = {"query": "SELECT a.*, b.region FROM a JOIN b ON a.store_id = b.id"}

    def run(self, ctx: Context, params: SqlParams, a: pd.DataFrame,
            b: pd.DataFrame | None = None, c: pd.DataFrame | None = None
            ) -> dict[str, pd.DataFrame]:
        frames = {n: f for n, f in zip(TABLES, (a, b, c), strict=True) if f is not None}
        result, schema = _query(params.query, frames, rows=True, ctx=ctx)
        result = result.assign(**{col["name"]: conform(result[col["name"]], col["type"])
                                  for col in schema})
        ctx.log(f"The query returned {len(result)} rows.")
        return {"table": result}

    def infer_schema(self, ctx: Context, params: SqlParams, **inputs: Schema | None
                     ) -> dict[str, Schema | None]:
        # An input absent from ``inputs`` is not connected; one that is None is unknown.
        if any(schema is None for schema in inputs.values()):
            _connect(params.query, {}).close()  # still refuse what is not a SELECT
            return {"table": None}
        frames = {name: empty_frame(schema) for name, schema in inputs.items()
                  if schema is not None}
        return {"table": _query(params.query, frames, rows=False)[1]}
