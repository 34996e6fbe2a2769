"""Rows from a SQL database (PostgreSQL, MySQL/MariaDB, SQLite or any SQLAlchemy URL whose
dialect is installed): a SELECT query, or a table chosen from the database's own list with
its columns, loaded incrementally on a column through dlt's ``sql_table``."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal, cast

import pandas as pd
import sqlalchemy as sa
from pandas.errors import DatabaseError
from pydantic import Field, ValidationInfo, field_validator
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..base import Context, Operator, OperatorError, Params, Port, Schema
from . import _dlt
from ._connection import load_connection
from ._rest import Output
from ._sql import SQL_KINDS, SQL_MODELS, Database, SQLConnection, secrets_of

# Comments and opening parentheses before the first keyword: "-- x\n(SELECT ...)".
_LEADING = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*", re.DOTALL)
# What reads or writes the database server's files, or runs SQL from a string, even in a
# read-only session: MySQL's LOAD_FILE and INTO OUTFILE/DUMPFILE, PostgreSQL's file and
# large-object functions, dblink and query_to_xml, SQLite's load_extension. Matched as whole
# words anywhere in the text, strings and comments included: no difference between this
# reading of the SQL and the database's (escapes, MySQL's executable /*! comments, nested
# comments) can hide one. PostgreSQL's U&"..." spells an identifier with escapes: refused.
_REFUSED = re.compile(
    r"\b(load_file|outfile|dumpfile|pg_read_file|pg_read_binary_file|pg_stat_file|"
    r"pg_ls_\w+|lo_import|lo_export|lo_from_bytea|dblink\w*|query_to_xml\w*|"
    r"cursor_to_xml\w*|load_extension|sys_exec|sys_eval)\b|\bu&[\"']",
    re.IGNORECASE)
REFUSED_SQL = ("must not read or write the database server's files or run SQL from a string: "
               "{what} is refused")


Mode = Literal["query", "table"]
SAMPLE_ROWS = 100
MAX_TABLES = 5_000  # tables and views the table picker lists
OPTIONS_TIMEOUT = 30  # seconds for listing tables or columns
# Schemas of the server itself, never offered (PostgreSQL's pg_* ones too).
_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast"}
NOT_A_TABLE = ("{name!r} is not a table or view of this database (that the connection's user "
               "may see); choose one from the list.")
NOT_A_COLUMN = "Table {table!r} has no column {name!r}; choose from its columns."


def _names(values: list[str], field: str) -> list[str]:
    for i, value in enumerate(values):
        if not value or len(value) > 300 or "\0" in value:
            raise ValueError(f"{field}.{i}: a column name of 1 to 300 characters")
    if len(set(values)) != len(values):
        raise ValueError(f"{field}: a column is listed twice")
    return values


class SqlQueryParams(Params):
    connection: str = Field(..., min_length=1, description="The database to read.",
                            json_schema_extra={"x-connection": [*SQL_KINDS]})
    mode: Mode = Field("query", description="query: the rows of a SELECT query. table: the "
                       "rows of a table or view, its columns chosen, loaded incrementally on a "
                       "column if one is chosen.",
                       json_schema_extra={"x-labels": {"query": "SQL query", "table": "Table"}})
    query: str | None = Field(None, max_length=100_000, validate_default=True,
                              description="Query mode: a SELECT query (WITH ... SELECT is "
                              "fine). The database is opened read-only.")
    table: str | None = Field(None, max_length=300, validate_default=True,
                              description="Table mode: the table or view, from the database's "
                              "list (schema.table outside the default schema).",
                              json_schema_extra={"x-options-from": "source"})
    columns: list[str] = Field(default_factory=list, max_length=1000,
                               description="Table mode: the columns to read (empty: all).",
                               json_schema_extra={"x-options-from": "source"})
    incremental_column: str | None = Field(
        None, min_length=1, max_length=300,
        description="Table mode: a column that grows with every change (updated_at, an id); "
        "each run reads only the rows where it is at least the last run's highest value. "
        "Empty: every run reads the whole table.",
        json_schema_extra={"x-options-from": "source"})
    primary_key: list[str] = Field(default_factory=list, max_length=20,
                                   description="Table mode: the columns identifying a row "
                                   "(empty: the table's primary key), to merge changed rows "
                                   "into the accumulated table.",
                                   json_schema_extra={"x-options-from": "source"})
    output: Output = Field("new", description="Table mode: new: the rows this run read. "
                           "accumulated: every row loaded so far, the new ones merged in by "
                           "primary key.")
    row_limit: int | None = Field(None, ge=1, le=10_000_000,
                                  description="Read at most this many rows, e.g. for a "
                                  "preview; empty reads them all.")
    chunk_size: int = Field(50_000, ge=100, le=1_000_000,
                            description="Rows fetched from the database at a time.")
    pushdown: bool = Field(True, description="Run the filter, select, rename, join and "
                           "aggregate nodes that follow inside the database when it computes "
                           "them exactly as here (the run page says which ran there), unless "
                           "the rows are read incrementally or a row limit is set; off: they "
                           "run here on the rows read.")
    timeout_seconds: int = Field(300, ge=1, le=3600,
                                 description="Time limit for the query (on SQLite: for "
                                 "waiting on a locked file).")

    @field_validator("query")
    @classmethod
    def _select_only(cls, query: str | None, info: ValidationInfo) -> str | None:
        if query is None:
            if info.data.get("mode", "query") == "query":
                raise ValueError("a SELECT query is needed in query mode")
            return query
        # A courtesy for a clear message; the read-only session is what really stops writes.
        words = _LEADING.sub("", query, count=1).split(None, 1)
        if not words or words[0].lower() not in ("select", "with"):
            raise ValueError("must be a SELECT query (or WITH ... SELECT)")
        refused = _REFUSED.search(query)
        if refused:
            raise ValueError(REFUSED_SQL.format(what=" ".join(refused.group(0).split())))
        return query

    @field_validator("table")
    @classmethod
    def _a_table_in_table_mode(cls, table: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("mode") == "table" and not table:
            raise ValueError("choose a table in table mode")
        if table is not None and "\0" in table:
            raise ValueError("not a table name")
        return table

    @field_validator("columns")
    @classmethod
    def _column_names(cls, columns: list[str]) -> list[str]:
        return _names(columns, "columns")

    @field_validator("primary_key")
    @classmethod
    def _key_names(cls, columns: list[str]) -> list[str]:
        return _names(columns, "primary_key")


class SqlQuery(Operator):
    """Reads rows from a SQL database, in one of two modes. Query mode runs a SELECT query;
    the session is read-only: the database refuses any write, even one hidden in a CTE or a
    function. Table mode reads a table or view picked from the database's list, with the
    columns chosen (no SQL is written: names are checked against the database's own and
    quoted); with an incremental column, each run reads only the rows where that column is
    at least the last successful run's highest value (a WHERE the database evaluates), and
    the output is either those rows or everything loaded so far merged by primary key.

    Example: ``{"connection": "c1", "query": "SELECT id, plan, spend FROM customers WHERE
    active", "row_limit": 1000}``, or ``{"connection": "c1", "mode": "table", "table":
    "orders", "columns": ["id", "amount", "updated_at"], "incremental_column":
    "updated_at"}``.
    """

    name = "connector.sql_query"
    label = "SQL database"
    description = "Rows from a SQL query or a table (only what changed), on PostgreSQL, " \
        "MySQL/MariaDB, SQLite or any SQLAlchemy database."
    category = "connector"
    icon = "database-zap"
    keywords = ("sql", "query", "select", "table", "database", "postgresql", "postgres",
                "mysql", "mariadb", "sqlite", "sqlalchemy", "incremental", "import")
    outputs = (Port("table", "table"),)
    Params = SqlQueryParams
    # The rows behind the same query or table change: never reused from the cache.
    reuse_output = False
    example = {"connection": "c1",
               "query": "SELECT id, plan, spend FROM customers WHERE active",
               "row_limit": 1000}

    def run(self, ctx: Context, params: SqlQueryParams) -> dict[str, pd.DataFrame]:
        conn = cast(SQLConnection, load_connection(ctx, params.connection, *SQL_MODELS))
        db = Database(ctx, conn, read_only=True, timeout=params.timeout_seconds)
        try:
            if params.mode == "table":
                name = getattr(ctx, "connection_names", {}).get(params.connection,
                                                               params.connection)
                return {"table": self._load_table(ctx, db, params, name, conn)}
            with db.connect() as connection, ctx.on_interrupt(db.interrupt):
                try:
                    table = self._read(ctx, db, connection, params)
                except (SQLAlchemyError, DatabaseError) as exc:
                    raise db.failure(exc, "The query failed", field="query") from None
        finally:
            db.close()
        ctx.log(f"Read {len(table)} rows, {len(table.columns)} columns.")
        return {"table": table}

    def _read(self, ctx: Context, db: Database, connection: Connection,
              params: SqlQueryParams) -> pd.DataFrame:
        assert params.query is not None
        limit = params.row_limit
        chunk_size = min(params.chunk_size, limit) if limit else params.chunk_size
        # Server-side cursors, so only one chunk at a time is held in memory. The SQL goes to
        # the driver as it is: not through text(), which takes ':x' for a parameter, and with
        # no parameters at all, or the drivers take '%b' for one.
        streaming = connection.execution_options(stream_results=True,
                                                 max_row_buffer=chunk_size, no_parameters=True)
        chunks: list[pd.DataFrame] = []
        rows = 0
        db.check()
        for chunk in pd.read_sql(params.query, streaming, chunksize=chunk_size):
            # An interrupt between two fetches finds no statement to stop: look here too.
            db.check()
            chunks.append(chunk)
            rows += len(chunk)
            ctx.log(f"Read {rows} rows so far.")
            if limit:
                ctx.progress(min(1.0, rows / limit))
                if rows >= limit:
                    break
        # Some statements end early instead of failing when stopped (MariaDB's SLEEP).
        db.check()
        if not chunks:
            return pd.DataFrame()
        table = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
        return table.iloc[:limit].reset_index(drop=True) if limit else table

    # --- live lookups (serving) --------------------------------------------------------------
    def lookup(self, ctx: Context, params: SqlQueryParams, column: str, keys: list[Any]
               ) -> pd.DataFrame:
        """The rows whose ``column`` is one of ``keys``: the query as a subquery (or the
        table's chosen columns) with ``WHERE column IN (...)``, the keys passed as the
        driver's parameters, on a pooled read-only session."""
        why = self.lookup_refusal(params)
        if why:
            raise OperatorError(f"{self.label} cannot be looked up by key: {why}.")
        conn = cast(SQLConnection, load_connection(ctx, params.connection, *SQL_MODELS))
        db, tables = _pooled(ctx, conn, min(params.timeout_seconds, LOOKUP_TIMEOUT))
        with db.connect() as connection:
            try:
                if params.mode == "table":
                    table, wanted = _reflected(tables, connection, params)
                    if column not in table.c:
                        raise OperatorError(NOT_A_COLUMN.format(table=params.table,
                                                                name=column))
                    result = connection.execute(sa.select(*[table.c[c] for c in wanted])
                                                .where(table.c[column].in_(keys)))
                else:
                    assert params.query is not None
                    sql, args = keyed_query(params.query, column, len(keys),
                                            connection.dialect)
                    result = connection.exec_driver_sql(sql, tuple(keys))
                names = list(result.keys())
                return pd.DataFrame.from_records(result.fetchall(), columns=names,
                                                 coerce_float=True)
            except SQLAlchemyError as exc:
                raise db.failure(exc, "The lookup failed", field="query") from None

    def lookup_refusal(self, params: SqlQueryParams) -> str | None:
        if params.row_limit is not None:
            return "a row limit keeps only some rows, and which ones a key lookup cannot tell"
        if params.mode == "table" and params.incremental_column and params.output == "new":
            return "it reads only the rows new since the last run (output new)"
        return None

    # --- table mode ------------------------------------------------------------------------
    def _table(self, db: Database, params: SqlQueryParams) -> tuple[sa.Table, list[str]]:
        """The chosen table, reflected, and the columns to read; every name checked against
        the database's own (OperatorError naming the param otherwise)."""
        assert params.table is not None
        with db.connect() as connection:
            try:
                table = reflect(connection, params.table)
            except SQLAlchemyError as exc:
                raise db.failure(exc, "Cannot read the table's columns", field="table") \
                    from None
        have = [str(c.name) for c in table.columns]
        for field, names in (("columns", params.columns), ("primary_key", params.primary_key),
                             ("incremental_column", [params.incremental_column] if
                              params.incremental_column else [])):
            for name in names:
                if name not in have:
                    raise OperatorError(NOT_A_COLUMN.format(table=params.table, name=name),
                                        field=field)
        wanted = list(params.columns) or have
        return table, wanted

    def _load_table(self, ctx: Context, db: Database, params: SqlQueryParams, name: str,
                    conn: SQLConnection) -> pd.DataFrame:
        import dlt
        from dlt.sources.sql_database import sql_table

        table, wanted = self._table(db, params)
        key = _dlt.state_key(self.name, params.model_dump(mode="json"))
        cursor = params.incremental_column
        primary_key = list(params.primary_key) or [str(c.name) for c in
                                                   table.primary_key.columns]
        # What the last run left matters only to continue from its cursor or to merge into its
        # accumulated table.
        prev = _dlt.previous(ctx, key, keyed=bool(primary_key)) \
            if cursor is not None or params.output == "accumulated" else None
        if cursor is not None and not primary_key:
            ctx.log(f"{params.table} has no primary key: the rows at the last run's highest "
                    f"{cursor} are read again each run; choose primary_key to drop them.")
        incremental = None
        if cursor is not None:
            start = prev.cursor if prev is not None else None
            # Closed range: rows at the last value are read again and dropped by _dlt.load
            # unless they changed; ascending, so a row limit never skips older rows.
            incremental = dlt.sources.incremental(
                cursor, initial_value=None if start is None else
                cursor_value(start, table.c[cursor].type), range_start="closed",
                row_order="asc")
        # The cursor and the key are read even when not chosen: the load needs them.
        included = list(dict.fromkeys([*wanted, *([cursor] if cursor else []), *primary_key]))
        resource = sql_table(credentials=db.engine, table=table.name, schema=table.schema,
                             metadata=table.metadata, incremental=incremental,
                             chunk_size=params.chunk_size,
                             backend="pyarrow", reflection_level="full",
                             type_adapter_callback=_dlt_type,
                             included_columns=None if included == [str(c.name) for c in
                                                                   table.columns]
                             else included)
        if params.row_limit is not None:
            resource.add_limit(params.row_limit, count_rows=True)
        source = _dlt.Source(name=name, records=self._rows(db, resource),
                             secrets=secrets_of(conn), primary_key=primary_key,
                             cursor_column=cursor, declared=declared(table, included))
        with ctx.on_interrupt(db.interrupt):
            out = _dlt.load(ctx, source, key=key, prev=prev, output=params.output)
        # The columns in the order chosen (dlt reads them in the table's order).
        first = [c for c in included if c in out.columns]
        return out[first + [c for c in out.columns if c not in first]]

    @staticmethod
    def _rows(db: Database, resource: Any) -> Iterator[Any]:
        """dlt's Arrow tables; a database error as the message to show. Read to the end (the
        row limit is dlt's, a LIMIT the database applies), so dlt closes its cursor."""
        try:
            for item in resource:
                yield item
                db.check()
        except Exception as exc:
            cause = _sql_error(exc)
            if cause is None:
                raise
            raise db.failure(cause, "Reading the table failed", field="table") from None

    # --- the params form -------------------------------------------------------------------
    def options(self, ctx: Context, params: dict[str, Any], field: str) -> list[str]:
        if field not in ("table", "columns", "incremental_column", "primary_key"):
            return super().options(ctx, params, field)
        connection_id = params.get("connection")
        if not isinstance(connection_id, str) or not connection_id:
            raise OperatorError("Choose the connection first.", field="connection")
        table_name = params.get("table")
        if field != "table" and (not isinstance(table_name, str) or not table_name
                                 or len(table_name) > 300):
            raise OperatorError("Choose the table first.", field="table")
        conn = cast(SQLConnection, load_connection(ctx, connection_id, *SQL_MODELS))
        db = Database(ctx, conn, read_only=True, timeout=OPTIONS_TIMEOUT)
        try:
            with db.connect() as connection:
                try:
                    if field == "table":
                        return [shown for shown, _schema, _name in tables(connection)]
                    assert isinstance(table_name, str)
                    return [str(c.name) for c in reflect(connection, table_name).columns]
                except SQLAlchemyError as exc:
                    raise db.failure(exc, "Cannot list them", field=field) from None
        finally:
            db.close()

    def sample(self, ctx: Context, params: SqlQueryParams) -> pd.DataFrame:
        conn = cast(SQLConnection, load_connection(ctx, params.connection, *SQL_MODELS))
        db = Database(ctx, conn, read_only=True, timeout=params.timeout_seconds)
        try:
            if params.mode == "query":
                first = params.model_copy(update={"row_limit": min(
                    params.row_limit or SAMPLE_ROWS, SAMPLE_ROWS), "chunk_size": SAMPLE_ROWS})
                with db.connect() as connection, ctx.on_interrupt(db.interrupt):
                    try:
                        return self._read(ctx, db, connection, first)
                    except (SQLAlchemyError, DatabaseError) as exc:
                        raise db.failure(exc, "The query failed", field="query") from None
            table, wanted = self._table(db, params)
            select = sa.select(*(table.c[c] for c in wanted)).limit(SAMPLE_ROWS)
            with db.connect() as connection, ctx.on_interrupt(db.interrupt):
                try:
                    return pd.read_sql(select, connection)
                except (SQLAlchemyError, DatabaseError) as exc:
                    raise db.failure(exc, "Reading the table failed", field="table") from None
        finally:
            db.close()

    def infer_schema(self, ctx: Context, params: SqlQueryParams) -> dict[str, Schema | None]:
        # Knowing the columns means reading the database, which validation does not: they
        # are known once the form sampled them or the node ran.
        return {"table": ctx.known_schema(_dlt.state_key(self.name,
                                                         params.model_dump(mode="json")))}


# --- the database's own names ----------------------------------------------------------------
def tables(connection: Connection) -> list[tuple[str, str | None, str]]:
    """(as shown, schema, name) of the tables and views the connection's user may see: those
    of the default schema by name, those of the other schemas (PostgreSQL's and the like; on
    MySQL a schema is another database, not listed) as schema.name."""
    inspector = sa.inspect(connection)
    schemas: list[str | None] = [None]
    if connection.dialect.name not in ("mysql", "mariadb", "sqlite"):
        default = inspector.default_schema_name
        schemas += [s for s in inspector.get_schema_names() if s != default
                    and s not in _SYSTEM_SCHEMAS and not s.startswith("pg_")]
    found: list[tuple[str, str | None, str]] = []
    for schema in schemas:
        names = sorted({*inspector.get_table_names(schema), *inspector.get_view_names(schema)})
        found += [(n if schema is None else f"{schema}.{n}", schema, n) for n in names]
        if len(found) >= MAX_TABLES:
            break
    return found[:MAX_TABLES]


# --- live lookups ------------------------------------------------------------------------------

LOOKUP_TIMEOUT = 5  # seconds a lookup's statement may run (a request waits for it)
LOOKUP_POOL = 4  # connections kept open per database for lookups
# Per pool: the Database, and the tables reflected through it (table mode).
_pools: OrderedDict[str, tuple[Database, dict[str, tuple[sa.Table, list[str]]]]] = \
    OrderedDict()
_pools_guard = threading.Lock()
MAX_POOLS = 16


def keyed_query(query: str, column: str, count: int, dialect: Any) -> tuple[str, str]:
    """``query`` as a subquery keeping the rows whose ``column`` is one of ``count``
    parameters, in the driver's parameter style; (sql, style)."""
    style = dialect.paramstyle
    body = query.strip().rstrip(";").rstrip()
    if style in ("format", "pyformat"):
        mark, body = "%s", body.replace("%", "%%")  # a literal % when parameters are passed
    elif style == "qmark":
        mark = "?"
    else:
        raise OperatorError(f"The database's driver takes parameters as {style}, which a "
                            f"lookup does not write.")
    name = dialect.identifier_preparer.quote(column)
    return (f"SELECT * FROM ({body}\n) dg_lookup WHERE dg_lookup.{name} IN "
            f"({', '.join([mark] * count)})", style)


def _pooled(ctx: Context, conn: SQLConnection, timeout: int
            ) -> tuple[Database, dict[str, tuple[sa.Table, list[str]]]]:
    """A pooled read-only Database per connection (its settings and secrets, the host rules),
    kept for the next lookups with the tables reflected through it; the least recently used
    beyond MAX_POOLS is closed."""
    # The secrets by value: a changed password is another pool (a dump shows them masked).
    key = hashlib.sha256(json.dumps([type(conn).__name__, conn.model_dump(mode="json"),
                                     secrets_of(conn), list(ctx.url_allowlist),
                                     getattr(ctx, "sqlite_root", None), timeout],
                                    default=str).encode()).hexdigest()
    with _pools_guard:
        found = _pools.get(key)
        if found is not None:
            _pools.move_to_end(key)
            return found
        found = (Database(ctx, conn, read_only=True, timeout=timeout, pool_size=LOOKUP_POOL),
                 {})
        _pools[key] = found
        while len(_pools) > MAX_POOLS:
            _key, (old, _tables) = _pools.popitem(last=False)
            old.close()
        return found


def _reflected(tables: dict[str, tuple[sa.Table, list[str]]], connection: Connection,
               params: SqlQueryParams) -> tuple[sa.Table, list[str]]:
    """The chosen table and columns, reflected once per pool."""
    assert params.table is not None
    key = f"{params.table}\0{json.dumps(params.columns)}"
    found = tables.get(key)
    if found is None:
        table = reflect(connection, params.table)
        have = [str(c.name) for c in table.columns]
        missing = [c for c in params.columns if c not in have]
        if missing:
            raise OperatorError(NOT_A_COLUMN.format(table=params.table, name=missing[0]),
                                field="columns")
        found = (table, list(params.columns) or have)
        tables[key] = found
    return found


def reflect(connection: Connection, shown: str) -> sa.Table:
    """The table the picker showed as ``shown``, reflected; OperatorError(field="table") if
    the database has no such table or view. The name is never put into SQL by us: it must be
    one the database listed, and SQLAlchemy quotes it."""
    for label, schema, name in tables(connection):
        if label == shown:
            return sa.Table(name, sa.MetaData(schema=schema), autoload_with=connection)
    raise OperatorError(NOT_A_TABLE.format(name=shown[:300]), field="table")


_TYPES: list[tuple[type, str]] = [(bool, "bool"), (int, "int"), (float, "float"),
                                  (Decimal, "float"), (dt.datetime, "datetime"),
                                  (dt.date, "datetime")]


def declared(table: sa.Table, columns: list[str]) -> Schema:
    """The columns' types as the database declares them (str where it cannot say)."""
    schema: Schema = []
    for name in columns:
        try:
            python = table.c[name].type.python_type
        except NotImplementedError:
            python = str
        kind = next((k for t, k in _TYPES if issubclass(python, t)), "str")
        schema.append({"name": name, "type": kind})
    return schema


def _dlt_type(kind: sa.types.TypeEngine[Any]) -> sa.types.TypeEngine[Any]:
    """dlt 1.31 types columns by SQLAlchemy's classes, where a Float (no longer a Numeric in
    SQLAlchemy 2.1) is unknown and warned about at every run: it is a double."""
    if isinstance(kind, sa.Float) and not isinstance(kind, sa.Numeric):
        return sa.Numeric(asdecimal=False)
    return kind


def cursor_value(value: Any, kind: sa.types.TypeEngine[Any]) -> Any:
    """The last run's cursor (as JSON kept it) as the column's own type, so the database
    compares like with like."""
    try:
        python = kind.python_type
    except NotImplementedError:
        return value
    try:
        if issubclass(python, dt.datetime):
            when = dt.datetime.fromisoformat(str(value))
            if when.tzinfo is not None and not getattr(kind, "timezone", False):
                when = when.astimezone(dt.UTC).replace(tzinfo=None)
            return when
        if issubclass(python, dt.date):
            return dt.date.fromisoformat(str(value)[:10])
        if issubclass(python, bool):
            return value
        if issubclass(python, int):
            return int(value)
        if issubclass(python, float | Decimal):
            return Decimal(str(value)) if issubclass(python, Decimal) else float(value)
    except (TypeError, ValueError):
        return value
    return value


def _sql_error(exc: BaseException) -> SQLAlchemyError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, SQLAlchemyError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
