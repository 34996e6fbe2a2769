"""Pushdown: table operators run inside the SQL database a source reads (PostgreSQL,
MySQL/MariaDB, SQLite), their DuckDB SQL transpiled by sqlglot as for Spark.

The source's query becomes the first common table expression, exactly as written (it is in
the database's own dialect); a second one gives its columns the values and types the source
node would have produced through pandas (an integer column with a missing value becomes a
float, NaN becomes missing, text compares byte by byte: PostgreSQL's ``COLLATE "C"``,
MariaDB's ``utf8mb4_nopad_bin``, SQLite's ``BINARY``); the operators' ``query`` build the
rest, each definition transpiled on its own. A construct whose result would differ from the
DuckDB engine's is refused (``NotPushable``, saying why): the caller then runs the nodes
itself. The result is read through the database's cursor a batch at a time, cast to the
declared schema and written to Parquet: bounded memory.

No Django here; the connection is ``operators.connectors._sql.Database`` (host rules,
read-only session, statement timeout, cancel)."""
from __future__ import annotations

import datetime as dt
import math
import re
import sqlite3
import uuid
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp
from sqlglot.dialects.mysql import MySQL
from sqlglot.dialects.postgres import Postgres
from sqlglot.dialects.sqlite import SQLite
from sqlglot.errors import ErrorLevel, SqlglotError

from ..schema import Schema
from ..tables import SQL_TYPES, Rel, ident

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy as sa

    from ..base import Context

BATCH_ROWS = 50_000
# The operators that may run inside a database, and the connection kinds that may run them.
PUSHABLE = frozenset({"transform.filter_rows", "transform.select_columns",
                      "transform.rename_columns", "transform.join", "transform.aggregate"})
DIALECT_OF = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}
DATABASE_NAMES = {"postgres": "PostgreSQL", "mysql": "MySQL/MariaDB", "sqlite": "SQLite"}
# A query that sorts its rows: the order would not survive being a subquery.
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


class NotPushable(Exception):
    """This part cannot run inside the database with the DuckDB engine's result."""


# --- dialects ----------------------------------------------------------------------------------

def _pg_isnan(self: Any, e: exp.IsNan) -> str:
    # PostgreSQL's NaN equals itself (and sorts above every number).
    return f"({self.sql(e, 'this')} = CAST('NaN' AS DOUBLE PRECISION))"


def _no_nan(self: Any, e: exp.IsNan) -> str:
    # MySQL and SQLite keep no NaN: never true, NULL for NULL as in DuckDB.
    x = self.sql(e, "this")
    return f"({x} <> {x})"


def _strpos(self: Any, e: exp.Contains) -> str:
    return f"(STRPOS({self.sql(e, 'this')}, {self.sql(e, 'expression')}) > 0)"


def _instr(self: Any, e: exp.Contains) -> str:
    return f"(INSTR({self.sql(e, 'this')}, {self.sql(e, 'expression')}) > 0)"


class _Postgres(Postgres):
    class Generator(Postgres.Generator):  # type: ignore[valid-type,misc]
        TRANSFORMS: dict[type[exp.Expr], Any] = {
            **Postgres.Generator.TRANSFORMS, exp.IsNan: _pg_isnan, exp.Contains: _strpos}


class _MySQL(MySQL):
    class Generator(MySQL.Generator):  # type: ignore[valid-type,misc]
        TRANSFORMS: dict[type[exp.Expr], Any] = {
            **MySQL.Generator.TRANSFORMS, exp.IsNan: _no_nan, exp.Contains: _instr}


class _SQLite(SQLite):
    class Generator(SQLite.Generator):  # type: ignore[valid-type,misc]
        TRANSFORMS: dict[type[exp.Expr], Any] = {
            **SQLite.Generator.TRANSFORMS, exp.IsNan: _no_nan, exp.Contains: _instr}


WRITERS: dict[str, type[sqlglot.Dialect]] = {"postgres": _Postgres, "mysql": _MySQL,
                                             "sqlite": _SQLite}
# What no dialect here computes as DuckDB does (medians pick values by position).
_REFUSED_EVERYWHERE = (exp.PercentileDisc, exp.PercentileCont, exp.Quantile)
_REFUSED: dict[str, tuple[type[exp.Expr], ...]] = {
    "postgres": (), "mysql": (), "sqlite": (exp.StddevSamp, exp.Stddev, exp.StddevPop)}


def transpile(sql: str, dialect: str) -> str:
    """DuckDB SQL in ``dialect``; NotPushable where sqlglot or these rules have no exact
    equivalent."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
        for node in tree.walk():
            if isinstance(node, _REFUSED_EVERYWHERE + _REFUSED[dialect]):
                raise NotPushable(f"{DATABASE_NAMES[dialect]} has no exact "
                                  f"{node.key.upper()}")
        return tree.sql(WRITERS[dialect], unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise NotPushable(f"no {DATABASE_NAMES[dialect]} equivalent: "
                          f"{str(exc).splitlines()[0]}") from None


def quoted(name: str, dialect: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(WRITERS[dialect])


# --- which operators may run in which database (before and after the types are known) --------

def refusal(dialect: str, operator: str, params: Any, inputs: dict[str, Schema] | None
            ) -> str | None:
    """Why ``operator`` with ``params`` (parsed) cannot run inside ``dialect`` with the DuckDB
    engine's result; None when it can. ``inputs``: the input schemas once known (at run
    time); None when planning."""
    name = DATABASE_NAMES[dialect]
    if operator not in PUSHABLE:
        return "it has no SQL form for a database"
    if operator == "transform.aggregate":
        types = {c["name"]: c["type"] for c in (inputs or {}).get("table") or []}
        for agg in params.aggregations:
            if agg.function == "median":
                return f"{name} has no median computed as pandas computes it"
            if agg.function == "std" and dialect == "sqlite":
                return "SQLite has no standard deviation"
            if dialect == "postgres" and types and types.get(agg.column) == "bool" \
                    and agg.function in ("sum", "mean", "min", "max"):
                return f"PostgreSQL has no {agg.function} of true/false values"
    if operator == "transform.join" and params.how == "outer" and dialect == "mysql":
        return "MySQL/MariaDB has no full outer join"
    if operator == "transform.join" and params.how in ("right", "outer") and \
            dialect == "sqlite" and sqlite3.sqlite_version_info < (3, 39):
        return f"SQLite {sqlite3.sqlite_version} has no right or full outer join"
    if operator == "transform.filter_rows":
        for cond in params.conditions:
            values = cond.value if isinstance(cond.value, list) else [cond.value]
            for value in values:
                number = value
                if isinstance(value, str):
                    try:
                        number = float(value)
                    except ValueError:
                        continue
                if isinstance(number, float) and not math.isfinite(number):
                    return f"{name} has no NaN or infinite value to compare with"
    return None


def source_refusal(params: Any) -> str | None:
    """Why a ``connector.sql_query`` node (params parsed) cannot start a pushed group."""
    if not getattr(params, "pushdown", True):
        return "pushdown is turned off on it"
    if params.mode == "table" and params.incremental_column:
        return "it reads only the rows changed since the last run (incremental_column)"
    if params.mode == "table" and params.output != "new":
        return "its output accumulates the rows of earlier runs"
    if params.row_limit is not None:
        return "it reads only the first rows (row_limit)"
    if params.query and _ORDER_BY.search(params.query):
        return "its query sorts the rows (ORDER BY), an order a subquery does not keep"
    return None


# --- the source's columns, as the source node would have read them ----------------------------

@dataclass(frozen=True)
class SourceColumns:
    schema: Schema
    select: str  # the normalising SELECT list, in the database's dialect


_PG_INT = {"int2", "int4", "int8", "oid"}
_PG_FLOAT = {"float4", "float8", "numeric"}
_PG_TEXT = {"text", "varchar", "name"}
_MY_INT = {1, 2, 3, 8, 9}  # TINY, SHORT, LONG, LONGLONG, INT24
_MY_FLOAT = {5, 0, 246}  # DOUBLE, DECIMAL, NEWDECIMAL (FLOAT is single precision: refused)
_MY_TEXT = {15, 252, 253, 254}  # VARCHAR, BLOB/TEXT, VAR_STRING, STRING (binary refused)
_MY_TIME = {7, 12}  # TIMESTAMP, DATETIME


def probe_source(connection: sa.Connection, dialect: str, query: str, *,
                 typed: bool = False) -> SourceColumns:
    """The columns of the source query with the types pandas gives them, and the SELECT that
    makes the database's values the same ones. Reads the query's description (LIMIT 0) and,
    where pandas' type depends on the data (an integer with a missing value is a float, a
    SQLite column is typed per value), one aggregate over it in the database. ``typed``: a
    table read through dlt and Arrow, where integers and true/false keep their type with
    missing values."""
    sub = f"(\n{query.rstrip().rstrip(';')}\n) AS dg_probe"
    raw = connection.connection.dbapi_connection
    assert raw is not None
    with closing(raw.cursor()) as cursor:
        cursor.execute(f"SELECT * FROM {sub} LIMIT 0")
        description = list(cursor.description or [])
        names = [str(d[0]) for d in description]
        if len(set(names)) != len(names):
            raise NotPushable("the query names two columns alike")
        kinds = [_kind(dialect, cursor, d, i) for i, d in enumerate(description)]
        facts = _facts(cursor, dialect, sub, names, kinds)
    schema: Schema = []
    select: list[str] = []
    for name, kind, fact in zip(names, kinds, facts, strict=True):
        col = quoted(name, dialect)
        if dialect == "sqlite":
            kind = _sqlite_kind(name, fact)
        has_null = bool(fact[0]) if dialect != "sqlite" else bool(fact[4])
        if kind == "int" and has_null and not typed:
            kind = "float"  # pandas: an integer column with a missing value
        if kind == "bool" and has_null and not typed:
            raise NotPushable(f"column {name!r} holds true/false with missing values")
        if kind is None or kind.startswith("?"):
            raise NotPushable(f"column {name!r} has a type pushdown does not read "
                              f"({kind[1:] if kind else 'unknown'})")
        select.append(f"{_normalised(dialect, col, kind)} AS {col}")
        schema.append({"name": name, "type": kind})
    if not schema:
        raise NotPushable("the query has no columns")
    return SourceColumns(schema=schema, select=", ".join(select))


def _kind(dialect: str, cursor: Any, description: Any, index: int) -> str | None:
    """The schema type of a column from the driver's description ("?name" if refused)."""
    if dialect == "sqlite":
        return "sqlite"
    code = description[1]
    if dialect == "postgres":
        info = cursor.connection.adapters.types.get(code)
        name = info.name if info is not None else str(code)
        if name in _PG_INT:
            return "int"
        if name in _PG_FLOAT:
            return "float"
        if name in _PG_TEXT:
            return "str"
        if name == "bool":
            return "bool"
        if name == "timestamp":
            return "datetime"
        return f"?{name}"
    fields = getattr(getattr(cursor, "_result", None), "fields", None)
    binary = fields is not None and fields[index].charsetnr == 63
    if code in _MY_INT:
        return "int"
    if code in _MY_FLOAT:
        return "float"
    if code in _MY_TEXT and not binary:
        return "str"
    if code in _MY_TIME:
        return "datetime"
    return f"?MySQL type {code}"


def _facts(cursor: Any, dialect: str, sub: str, names: list[str],
           kinds: list[str | None]) -> list[tuple[Any, ...]]:
    """Per column, what the data says: (has a missing value,) on PostgreSQL and MySQL;
    (integers, reals, texts, blobs, missing values) on SQLite. One pass over the query."""
    parts: list[str] = []
    for name, kind in zip(names, kinds, strict=True):
        col = quoted(name, dialect)
        if dialect == "sqlite":
            parts += [f"sum(typeof({col}) = '{t}')" for t in ("integer", "real", "text",
                                                             "blob", "null")]
        elif kind in ("int", "bool"):
            parts.append(f"max(CASE WHEN {col} IS NULL THEN 1 ELSE 0 END)")
        else:
            parts.append("0")
    width = 5 if dialect == "sqlite" else 1
    if all(part == "0" for part in parts):  # nothing depends on the data: no pass over it
        return [(0,)] * len(names)
    cursor.execute(f"SELECT {', '.join(parts)} FROM {sub}")
    row = cursor.fetchone() or ()
    values = [int(v or 0) for v in row]
    return [tuple(values[i * width:(i + 1) * width]) for i in range(len(names))]


def _sqlite_kind(name: str, fact: tuple[Any, ...]) -> str:
    integers, reals, texts, blobs, nulls = fact
    if blobs or (texts and (integers or reals)):
        return "?mixed values"
    if texts:
        return "str"
    if reals:
        return "float"
    if integers:
        return "int"
    return "?no values"


def _normalised(dialect: str, col: str, kind: str) -> str:
    if dialect == "postgres":
        if kind == "float":
            return f"NULLIF(CAST({col} AS DOUBLE PRECISION), CAST('NaN' AS DOUBLE PRECISION))"
        if kind == "str":
            return f'CAST({col} AS TEXT) COLLATE "C"'
        return col
    if dialect == "mysql":
        if kind == "float":
            return f"CAST({col} AS DOUBLE)"
        if kind == "str":
            return f"CAST({col} AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_nopad_bin"
        return col
    if kind == "float":
        return f"CAST({col} AS REAL)"
    if kind == "str":
        return f"{col} COLLATE BINARY"
    return col


# --- the operators' query inside the database --------------------------------------------------

class DatabaseQuery:
    """``operators.tables.Query`` whose definitions become common table expressions of one
    statement the database runs. Tracks which definitions have a row order (an aggregate's
    ORDER BY, kept by a filter, select or rename after it) so the final SELECT sorts so:
    MySQL and MariaDB drop the ORDER BY of a subquery."""

    def __init__(self, dialect: str, label: str, ctx: Context) -> None:
        self.engine = dialect  # never "spark": the operators write their DuckDB forms
        self.dialect, self.label, self.ctx = dialect, label, ctx
        self.ctes: list[tuple[str, str]] = []  # (quoted name, body in the dialect)
        self.orders: dict[str, list[tuple[str, exp.Ordered]]] = {}
        self.prefix = f"dg{uuid.uuid4().hex[:8]}_"

    def source(self, query: str, columns: SourceColumns) -> Rel:
        raw = f"{self.prefix}src{len(self.ctes)}"
        self.ctes.append((quoted(raw, self.dialect), f"\n{query.rstrip().rstrip(';')}\n"))
        name = f"{self.prefix}{len(self.ctes)}"
        self.ctes.append((quoted(name, self.dialect),
                          f"SELECT {columns.select} FROM {quoted(raw, self.dialect)}"))
        return Rel(ident(name), [dict(c) for c in columns.schema])

    def define(self, sql: str, schema: Schema) -> Rel:
        name = f"{self.prefix}{len(self.ctes)}"
        self.orders[ident(name)] = self._order(sql, schema)
        self.ctes.append((quoted(name, self.dialect), transpile(sql, self.dialect)))
        return Rel(ident(name), [dict(c) for c in schema])

    def materialize(self, sql: str, schema: Schema) -> Rel:
        """A definition like any other: the database runs the node as one statement."""
        return self.define(sql, schema)

    def _order(self, sql: str, schema: Schema) -> list[tuple[str, exp.Ordered]]:
        """The row order the definition promises, as (output column, ORDER BY term)."""
        tree = sqlglot.parse_one(sql, read="duckdb")
        if not isinstance(tree, exp.Select):
            return []
        names = {c["name"] for c in schema}
        order = tree.args.get("order")
        if order is not None:
            found = []
            for term in order.expressions:
                if not isinstance(term.this, exp.Column) or term.this.name not in names:
                    raise NotPushable("a row order on a computed value")
                found.append((term.this.name, term))
            return found
        source = tree.args.get("from_") or tree.args.get("from")
        if tree.args.get("joins") or tree.args.get("group") or tree.args.get("distinct") \
                or source is None or not isinstance(source.this, exp.Table):
            return []
        inherited = self.orders.get(exp.to_identifier(source.this.name, quoted=True
                                                      ).sql("duckdb"), [])
        if not inherited:
            return []
        renamed: dict[str, str] = {}
        for projection in tree.expressions:
            if isinstance(projection, exp.Star):
                renamed.update({n: n for n, _ in inherited})
            elif isinstance(projection.unalias(), exp.Column):
                renamed.setdefault(projection.unalias().name, projection.alias_or_name)
        if any(n not in renamed for n, _ in inherited):
            raise NotPushable("a later node drops a column the row order is by")
        return [(renamed[n], term) for n, term in inherited]

    def statement(self, rel: Rel) -> str:
        """The whole statement: every definition, then the output cast to its schema in the
        order it promises."""
        columns = ", ".join(
            f"CAST(dg_out.{ident(c['name'])} AS {SQL_TYPES.get(c['type'], 'VARCHAR')}) AS "
            f"{ident(c['name'])}" for c in rel.schema)
        body = f"SELECT {columns} FROM {rel.ref} AS dg_out"
        order = self.orders.get(rel.ref, [])
        if order:
            terms = []
            for name, term in order:
                term = term.copy()
                term.set("this", exp.column(name, table="dg_out", quoted=True))
                terms.append(term.sql("duckdb"))
            body += " ORDER BY " + ", ".join(terms)
        final = transpile(body, self.dialect)
        return "WITH " + ", ".join(f"{n} AS ({s})" for n, s in self.ctes) + " " + final

    def fetch(self, sql: str, *, limit: int = 10_000) -> pd.DataFrame:
        raise NotPushable("a lookup query before the main one")

    def log(self, message: str) -> None:
        self.ctx.log(message)


# --- reading the result ------------------------------------------------------------------------

_ARROW = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string(),
          "datetime": pa.timestamp("us")}


def _value(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return bool(value)
    if kind == "datetime":
        if isinstance(value, str):
            return dt.datetime.fromisoformat(value)
        return value
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, Decimal):
        return str(value)
    return str(value) if not isinstance(value, str) else value


def write_result(result: Any, schema: Schema, path: str, check: Any,
                 rows: int = BATCH_ROWS) -> int:
    """The rows of ``result`` (a streamed SQLAlchemy result) as a Parquet file of exactly
    ``schema``, a batch at a time; ``check()`` runs between batches (a cancel). The count."""
    arrow_schema = pa.schema([(c["name"], _ARROW.get(c["type"], pa.string())) for c in schema])
    kinds = [c["type"] for c in schema]
    total = 0
    with pq.ParquetWriter(path, arrow_schema, compression="snappy") as writer:
        while True:
            batch: Sequence[Any] = result.fetchmany(rows)
            check()
            if not batch:
                break
            columns = [pa.array([_value(row[i], kind) for row in batch], type=arrow_schema[i].type)
                       for i, kind in enumerate(kinds)]
            writer.write_table(pa.Table.from_arrays(columns, schema=arrow_schema))
            total += len(batch)
        if total == 0:
            writer.write_table(arrow_schema.empty_table())
    return total
