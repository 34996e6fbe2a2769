"""Write the table to a table of a PostgreSQL, MySQL/MariaDB or SQLite database (or of any
SQLAlchemy URL's database: append and replace)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Literal, cast

import pandas as pd
import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..base import (
    Context,
    Operator,
    OperatorError,
    Params,
    Port,
    Schema,
    column_field,
    require_columns,
)
from ..connectors._connection import load_connection
from ..connectors._sql import SQL_KINDS, SQL_MODELS, Database, SQLConnection, driver_message
from ..tables import Table, as_table
from ._delivery import (
    RESULTS_PORT,
    RESULTS_SCHEMA,
    Record,
    Results,
    StopSending,
    approval_field,
    deliver_chunks,
    dry_run_field,
    make_records,
    table_chunks,
)
from ._scratch import Scratch

Mode = Literal["append", "replace", "upsert"]
_TYPES: dict[str, Any] = {"int": sa.BigInteger, "float": sa.Float(53), "bool": sa.Boolean,
                          "datetime": sa.DateTime, "str": sa.Text}


class SqlTableParams(Params):
    connection: str = Field(..., min_length=1, description="The database to write to.",
                            json_schema_extra={"x-connection": [*SQL_KINDS]})
    table: str = Field(..., pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$",
                       description="The table's name: letters, digits and '_' (lower case "
                       "is easiest to query). Created if it does not exist.")
    mode: Mode = Field("append", description="append adds the rows; replace drops the table "
                       "and writes it anew; upsert inserts new keys and updates existing ones.")
    key_columns: list[str] = column_field(
        ..., min_length=1, max_length=10,
        description="The columns identifying a row: each row's record key and, for upsert, "
        "the key the table must have a primary key or unique index on.")
    batch_size: int = Field(1000, ge=1, le=10_000, description="Rows per transaction.")
    timeout_seconds: int = Field(300, ge=1, le=3600, description="Time limit per statement.")
    dry_run: bool = dry_run_field()
    require_approval: bool = approval_field()


class SqlTable(Operator):
    """Writes the rows to a database table, each batch in one transaction. A batch the
    database refuses is retried row by row, so only the rows at fault fail, with the
    database's reason. Rows already written with the same content are skipped, except in
    replace mode, which always writes the whole table. A missing table is created from the
    columns' types (with a primary key on the key columns for replace and upsert).

    Example: ``{"connection": "c1", "table": "churn_scores", "mode": "upsert",
    "key_columns": ["customer_id"]}``.
    """

    name = "action.sql_table"
    label = "Write SQL table"
    description = "Append, replace or upsert the rows into a database table."
    category = "action"
    icon = "database"
    keywords = ("sql", "database", "table", "write", "insert", "upsert", "postgresql",
                "mysql", "mariadb", "sqlite", "export", "load")
    inputs = (Port("table", "table"),)
    outputs = (RESULTS_PORT,)
    Params = SqlTableParams
    example = {"connection": "c1",
               "table": "churn_scores",
               "mode": "upsert",
               "key_columns": ["customer_id"]}
    batch_only = True
    lazy_inputs = True

    def run(self, ctx: Context, params: SqlTableParams,
            table: pd.DataFrame | Table) -> dict[str, Results]:
        source = as_table(table)
        require_columns(source.schema, params.key_columns, field="key_columns")
        conn = cast(SQLConnection, load_connection(ctx, params.connection, *SQL_MODELS))
        chunks = table_chunks(source, lambda rows: make_records(
            rows, params.key_columns, f"{params.connection}/{params.table}",
            lambda _key, row: row))
        writer = _Writer(ctx, conn, params, source)
        try:
            # Cancel and the time limit stop the running statement; no batch starts after.
            with ctx.on_interrupt(writer.db.interrupt):
                results = deliver_chunks(
                    ctx, chunks, writer.send, dry_run=params.dry_run,
                    require_approval=params.require_approval, batch_size=params.batch_size,
                    # A replaced table holds only what this run writes.
                    skip_sent=params.mode != "replace", prepare=writer.prepare,
                    # Appending a batch again would add its rows twice.
                    resend_in_flight=params.mode == "upsert",
                    via=(params.connection, conn), scratch=Scratch.of(source))
        finally:
            writer.close()
        return {"results": results}

    def infer_schema(self, ctx: Context, params: SqlTableParams,
                     table: Schema | None = None) -> dict[str, Schema | None]:
        require_columns(table, params.key_columns, field="key_columns")
        return {"results": RESULTS_SCHEMA}


class _Writer:
    """Connects only when something is really written (not for dry runs or previews)."""

    def __init__(self, ctx: Context, conn: SQLConnection, params: SqlTableParams,
                 table: Table) -> None:
        self.conn, self.params, self.schema = conn, params, table.schema
        # The time zone of a column is in its dtype, not in the schema: an empty head has it.
        self.aware = {str(name) for name, dtype in table.head(0).dtypes.items()
                      if getattr(dtype, "tz", None) is not None}
        self.db = Database(ctx, conn, read_only=False, timeout=params.timeout_seconds)
        self.engine = self.db.engine
        self.connection: sa.Connection | None = None
        self.statement: Any = None

    def prepare(self) -> None:
        self.connection = self.db.connect()
        try:
            with self.connection.begin():
                table = self._table(self.connection)
        except SQLAlchemyError as exc:
            raise self.db.failure(exc, f"Cannot prepare table {self.params.table!r}",
                                  field="table") from None
        self.statement = self._statement(table)

    def _table(self, connection: sa.Connection) -> sa.Table:
        p = self.params
        exists = sa.inspect(connection).has_table(p.table)
        if exists and p.mode == "replace":
            sa.Table(p.table, sa.MetaData()).drop(connection)
            exists = False
        if not exists:
            table = self._definition(primary_key=p.mode != "append")
            table.create(connection)
            return table
        table = sa.Table(p.table, sa.MetaData(), autoload_with=connection)
        missing = [c["name"] for c in self.schema if c["name"] not in table.columns]
        if missing:
            raise OperatorError(f"Table {p.table!r} has no column "
                                f"{', '.join(repr(m) for m in missing)}.", field="table")
        if p.mode == "upsert" and not _has_unique_key(connection, p.table, p.key_columns):
            raise OperatorError(f"Upsert needs a primary key or unique index on "
                                f"({', '.join(p.key_columns)}) in table {p.table!r}.",
                                field="key_columns")
        return table

    def _definition(self, *, primary_key: bool) -> sa.Table:
        keys = set(self.params.key_columns)
        columns = []
        for column in self.schema:
            kind = _TYPES[column["type"]]
            if column["type"] == "datetime":
                kind = sa.DateTime(timezone=column["name"] in self.aware)
            elif column["name"] in keys and column["type"] == "str":
                kind = sa.String(255)  # MySQL cannot index unbounded text
            columns.append(sa.Column(column["name"], kind, nullable=column["name"] not in keys,
                                     primary_key=primary_key and column["name"] in keys))
        return sa.Table(self.params.table, sa.MetaData(), *columns)

    def _statement(self, table: sa.Table) -> Any:
        if self.params.mode != "upsert":
            return sa.insert(table)
        keys = self.params.key_columns
        others = [c["name"] for c in self.schema if c["name"] not in keys]
        if self.engine.dialect.name not in ("postgresql", "mysql", "mariadb", "sqlite"):
            # Another SQLAlchemy dialect: no portable upsert statement.
            raise OperatorError(f"Upsert is available on PostgreSQL, MySQL/MariaDB and SQLite, "
                                f"not on {self.engine.dialect.name}: choose append or replace.",
                                field="mode")
        if self.engine.dialect.name in ("mysql", "mariadb"):
            stmt = mysql.insert(table)
            # With nothing else to update, setting a key to itself makes the insert a no-op.
            return stmt.on_duplicate_key_update(
                {c: stmt.inserted[c] for c in others or keys[:1]})
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(table)
        if not others:
            return stmt.on_conflict_do_nothing(index_elements=keys)
        return stmt.on_conflict_do_update(index_elements=keys,
                                          set_={c: stmt.excluded[c] for c in others})

    def send(self, batch: list[Record]) -> dict[str, str]:
        rows = [self._values(r.payload) for r in batch]
        if self._execute(rows) is None:
            return {}
        # The database refused the batch: find the rows at fault, each in its own transaction.
        failures = {}
        for record, row in zip(batch, rows, strict=True):
            error = self._execute([row])
            if error is not None:
                failures[record.key] = error
        return failures

    def _execute(self, rows: list[dict[str, Any]]) -> str | None:
        connection = self.connection
        if connection is None:
            raise RuntimeError("prepare() connects before the first batch")
        self.db.check()
        try:
            with connection.begin():
                connection.execute(self.statement, rows)
        except DBAPIError as exc:
            # Stopped or past its time limit: the node ends here, no later batch is tried.
            self.db.check()
            if self.db.ran_too_long(exc):
                raise self.db.failure(exc, "", field="timeout_seconds") from None
            if exc.connection_invalidated:
                raise StopSending(f"Lost the database connection: "
                                  f"{driver_message(exc, self.conn)}") from None
            return driver_message(exc, self.conn)
        except SQLAlchemyError as exc:
            return driver_message(exc, self.conn)
        return None

    def _values(self, row: dict[str, Any]) -> dict[str, Any]:
        if self.engine.dialect.name == "postgresql":
            return row
        # MySQL and SQLite store datetimes without a time zone: store them as UTC.
        return {k: v.astimezone(dt.UTC).replace(tzinfo=None)
                if isinstance(v, dt.datetime) and v.tzinfo else v for k, v in row.items()}

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.db.close()


def _has_unique_key(connection: sa.Connection, table: str, keys: list[str]) -> bool:
    inspector = sa.inspect(connection)
    wanted = set(keys)
    candidates: list[list[Any]] = [
        inspector.get_pk_constraint(table).get("constrained_columns") or []]
    candidates += [u["column_names"] for u in inspector.get_unique_constraints(table)]
    candidates += [i["column_names"] for i in inspector.get_indexes(table) if i.get("unique")]
    return any(set(c) == wanted for c in candidates)
