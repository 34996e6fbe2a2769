"""Query the input tables with SQL, in an in-process DuckDB sealed off from files and network,
or on the table engines (DuckDB out of core, Spark) through ``query``: the same SQL, checked by
sqlglot to read nothing but its input tables, then sealed again by each engine."""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Collection
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import sqlglot
from pydantic import Field
from sqlglot import exp
from sqlglot.errors import SqlglotError

from ..base import Context, Operator, OperatorError, Params, Port, Schema
from ..engines.duck import SealedSql
from ..tables import BATCH_ROWS, Query, Rel, ident
from ._common import conform_frame, empty_frame

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
ERR_TIME_LIMIT = "The query ran longer than its time limit of {seconds:g} s."
ERR_INTERRUPTED = "The query was stopped: the run was cancelled or reached its time limit."
ERR_ROWS = "The query returned more than {limit:,} rows, the limit (DATAGRAN_SQL_MAX_ROWS)."
ERR_BYTES = ("The query's result is larger than {limit:,} bytes, the limit "
             "(DATAGRAN_SQL_MAX_RESULT_BYTES).")
ERR_OUTSIDE = ("The query may only read the input tables a, b and c in a single SELECT: files, "
               "URLs and extensions are not allowed ({what}).")
ERR_NO_TABLE = "Table with name {name} does not exist: the query reads the input tables a, b and c."
ERR_NOT_CONNECTED = "Table {name} is not connected: connect a table to input {name!r}."
ERR_CTE_NAME = "A WITH name may not be {name}: a, b and c are the input tables."
ERR_UNREADABLE = "The query could not be checked: {error}"
ERR_SETTINGS = ("The query may not read the engine's settings or variables ({name}(...)): "
                "they name the server's folders and limits.")
# Table functions that make rows from numbers or lists and read nothing: allowed in FROM.
PURE_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
# Scalar functions that read the engine's configuration (its spill folder, memory limit)
# rather than the input tables.
SETTINGS_FUNCTIONS = frozenset({"current_setting", "getvariable"})
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


def _single_select(query: str) -> exp.Expression:
    """The query parsed (DuckDB's dialect), refused unless it is one SELECT reading nothing
    but the input tables: DuckDB's parser says what kind of statement it is, sqlglot's tree
    what it reads. Every engine relies on this; DuckDB's own sealing comes on top."""
    con = duckdb.connect(":memory:", config=dict(_SEALED))
    try:
        kinds = [s.type.name for s in con.extract_statements(query)]
    except duckdb.Error as exc:
        raise _fail(str(exc)) from None
    finally:
        con.close()
    if kinds != ["SELECT"]:
        raise _fail("Only a single SELECT query is allowed"
                    + (f"; this is {', '.join(kinds)}." if kinds else "."))
    try:
        statements = sqlglot.parse(query, read="duckdb")
    except SqlglotError as exc:
        raise _fail(ERR_UNREADABLE.format(error=str(exc).splitlines()[0])) from None
    tree = statements[0] if len(statements) == 1 else None
    if not isinstance(tree, exp.Query) or not isinstance(tree, exp.Expression):
        kind = type(tree).__name__.upper() if tree is not None else "?"
        raise _fail(f"Only a single SELECT query is allowed; this is {kind}.")
    return tree


def _cte_names(tree: exp.Expression) -> set[str]:
    return {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}


def _cte_references(tree: exp.Expression) -> set[int]:
    """The tables (by ``id``) that name a WITH query in their own scope: a WITH name used
    outside the query that defines it is a table like any other (on Spark it would reach
    the session's catalog)."""
    from sqlglot.optimizer.scope import Scope, traverse_scope

    try:
        scopes = traverse_scope(tree)
    except SqlglotError:
        return set()  # then only a, b and c can be read
    return {id(table) for scope in scopes for table in scope.tables
            if isinstance(scope.sources.get(table.alias_or_name), Scope)}


def check_tables(tree: exp.Expression, connected: Collection[str]) -> None:
    """Refuse any table but a, b, c (those ``connected``) and the query's own WITH names: no
    table functions but pure ones (range, unnest), no qualified names (main.a, parquet."x"),
    no file or URL strings used as tables; and no function reading the engine's settings."""
    for name in sorted(_cte_names(tree) & set(TABLES)):
        raise _fail(ERR_CTE_NAME.format(name=name))
    for call in tree.find_all(exp.Anonymous):
        if call.name.lower() in SETTINGS_FUNCTIONS:
            raise _fail(ERR_SETTINGS.format(name=call.name.lower()))
    for lateral in tree.find_all(exp.Lateral):  # LATERAL f(...): a table function too
        if not isinstance(lateral.this, (exp.Subquery, exp.Select)):
            _check_table_function(lateral.this, "LATERAL")
    ctes = _cte_references(tree)
    for table in tree.find_all(exp.Table):
        this = table.this
        if not isinstance(this, exp.Identifier):
            _check_table_function(this, "FROM")
            continue
        if table.args.get("db") or table.args.get("catalog"):
            raise _fail(ERR_OUTSIDE.format(what=table.sql("duckdb")))
        name = this.name.lower()
        if id(table) in ctes:
            continue
        if name in TABLES:
            if name not in connected:
                raise _fail(ERR_NOT_CONNECTED.format(name=name))
            continue
        if any(ch in name for ch in "/\\:."):
            raise _fail(ERR_OUTSIDE.format(what=repr(this.name)))
        raise _fail(ERR_NO_TABLE.format(name=this.name))


def _check_table_function(this: exp.Expression, where: str) -> None:
    """A table function read in FROM or LATERAL: only the pure ones (range, unnest)."""
    if isinstance(this, (exp.GenerateSeries, exp.Unnest)):
        return
    function = (this.name if isinstance(this, exp.Anonymous) else this.sql_name()
                if isinstance(this, exp.Func) else type(this).__name__).lower()
    if function not in PURE_TABLE_FUNCTIONS:
        raise _fail(ERR_OUTSIDE.format(what=f"{function}(...) in {where}"))


def sealed_query(query: str, connected: Collection[str]) -> exp.Expression:
    """The query's tree once it is known to read only the ``connected`` input tables."""
    tree = _single_select(query)
    check_tables(tree, connected)
    return tree


def over(tree: exp.Expression, refs: dict[str, str]) -> str:
    """The checked query reading the engine's tables: a, b and c replaced by ``refs`` (the
    quoted names an engine gave them), still named a, b and c inside the query, comments
    dropped. DuckDB's dialect."""
    ctes = _cte_names(tree)

    def swap(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Table) or not isinstance(node.this, exp.Identifier):
            return node
        name = node.this.name.lower()
        if name in ctes or name not in refs or node.args.get("db"):
            return node
        new = node.copy()
        new.set("this", exp.to_table(refs[name], dialect="duckdb").this)
        if not node.alias:
            new.set("alias", exp.TableAlias(this=node.this.copy()))
        return new

    return tree.copy().transform(swap).sql("duckdb", comments=False)


def _connect(query: str, frames: dict[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    sealed_query(query, frames)
    con = duckdb.connect(":memory:", config=dict(_SEALED))
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
            relation = _as_five_types(con.sql(query))
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


# Whole numbers wider than a table's 64 bits: cast to it in DuckDB, so a value past it is
# DuckDB's conversion error (on the engines too), not pandas' OverflowError.
_WIDE_INTS = frozenset({"hugeint", "uhugeint", "ubigint"})


def _as_five_types(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """Columns of a type outside the five (a list, a struct, an interval) as DuckDB's text of
    them, the text every engine's cast writes (pandas' text of the Python objects differed);
    wider whole numbers as 64-bit ones."""
    if all(t.id in _TYPES and t.id not in _WIDE_INTS for t in relation.types):
        return relation

    def column(i: int, name: str, t: Any) -> str:
        if t.id in _WIDE_INTS:
            return f"CAST(#{i} AS BIGINT) AS {ident(name)}"
        return f"#{i}" if t.id in _TYPES else f"CAST(#{i} AS VARCHAR) AS {ident(name)}"

    return relation.project(", ".join(
        column(i, name, t)
        for i, (name, t) in enumerate(zip(relation.columns, relation.types, strict=True), 1)))


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

    On the table engines (``query``) the query is checked by sqlglot first (one SELECT over
    a, b, c and its own WITH names), then run sealed: on DuckDB with external access off, on
    Spark transpiled, where a construct without a Spark equivalent fails the node naming it.

    Version 2: columns of other types than the five (lists, structs, intervals) are DuckDB's
    text of them, as every engine writes them (was pandas' text of Python objects); table
    functions other than range, generate_series and unnest are refused before running.
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
    version = "2"
    example = {"query": "SELECT a.*, b.region FROM a JOIN b ON a.store_id = b.id"}

    def run(self, ctx: Context, params: SqlParams, a: pd.DataFrame,
            b: pd.DataFrame | None = None, c: pd.DataFrame | None = None
            ) -> dict[str, pd.DataFrame]:
        frames = {n: f for n, f in zip(TABLES, (a, b, c), strict=True) if f is not None}
        result, schema = _query(params.query, frames, rows=True, ctx=ctx)
        result = conform_frame(result, schema)
        ctx.log(f"The query returned {len(result)} rows.")
        return {"table": result}

    def query(self, q: Query, params: SqlParams, a: Rel, b: Rel | None = None,
              c: Rel | None = None) -> dict[str, Rel]:
        rels = {n: r for n, r in zip(TABLES, (a, b, c), strict=True) if r is not None}
        tree = sealed_query(params.query, rels)
        # The columns and types pandas' ``run`` gives (repeated names made distinct), from
        # DuckDB over empty tables: what the engine casts to. On Spark it also proves the
        # query binds in DuckDB first (a Spark-only function such as reflect() does not).
        schema = _query(params.query, {n: empty_frame(r.schema) for n, r in rels.items()},
                        rows=False)[1]
        names = ", ".join(ident(col["name"]) for col in schema)
        sql = over(tree, {n: r.ref for n, r in rels.items()})
        return {"table": q.define(f"SELECT * FROM ({sql}) AS {ident('result')}({names})",
                                  schema)}

    def sealed(self) -> SealedSql:
        """What the engines enforce around ``query``: no outside access, and these limits."""
        return SealedSql(
            field="query", max_rows=MAX_ROWS, max_bytes=MAX_RESULT_BYTES,
            seconds=TIME_LIMIT_SECONDS, rows_message=ERR_ROWS.format(limit=MAX_ROWS),
            bytes_message=ERR_BYTES.format(limit=MAX_RESULT_BYTES),
            time_message=ERR_TIME_LIMIT.format(seconds=TIME_LIMIT_SECONDS),
            denied_message=ERR_OUTSIDE.format(what="denied by the engine"))

    def infer_schema(self, ctx: Context, params: SqlParams, **inputs: Schema | None
                     ) -> dict[str, Schema | None]:
        # An input absent from ``inputs`` is not connected; one that is None is unknown.
        if any(schema is None for schema in inputs.values()):
            sealed_query(params.query, inputs)  # still refuse what is not a sealed SELECT
            return {"table": None}
        frames = {name: empty_frame(schema) for name, schema in inputs.items()
                  if schema is not None}
        return {"table": _query(params.query, frames, rows=False)[1]}
