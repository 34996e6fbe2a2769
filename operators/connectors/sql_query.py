"""A table from a SELECT query against a PostgreSQL, MySQL/MariaDB or SQLite database."""
from __future__ import annotations

import re
from typing import cast

import pandas as pd
from pandas.errors import DatabaseError
from pydantic import Field, field_validator
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..base import Context, Operator, Params, Port, Schema
from ._connection import load_connection
from ._sql import SQL_KINDS, SQL_MODELS, Database, SQLConnection

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


class SqlQueryParams(Params):
    connection: str = Field(..., min_length=1, description="The database to query.",
                            json_schema_extra={"x-connection": [*SQL_KINDS]})
    query: str = Field(..., min_length=1, max_length=100_000,
                       description="A SELECT query (WITH ... SELECT is fine). The database "
                       "is opened read-only.")
    row_limit: int | None = Field(None, ge=1, le=10_000_000,
                                  description="Read at most this many rows, e.g. for a "
                                  "preview; empty reads them all.")
    chunk_size: int = Field(50_000, ge=100, le=1_000_000,
                            description="Rows fetched from the database at a time.")
    timeout_seconds: int = Field(300, ge=1, le=3600,
                                 description="Time limit for the query (on SQLite: for "
                                 "waiting on a locked file).")

    @field_validator("query")
    @classmethod
    def _select_only(cls, query: str) -> str:
        # A courtesy for a clear message; the read-only session is what really stops writes.
        words = _LEADING.sub("", query, count=1).split(None, 1)
        if not words or words[0].lower() not in ("select", "with"):
            raise ValueError("must be a SELECT query (or WITH ... SELECT)")
        refused = _REFUSED.search(query)
        if refused:
            raise ValueError(REFUSED_SQL.format(what=" ".join(refused.group(0).split())))
        return query


class SqlQuery(Operator):
    """Runs a SELECT query and outputs its rows. The session is read-only: the database
    refuses any write, even one hidden in a CTE or a function.

    Example: ``{"connection": "c1", "query": "SELECT id, plan, spend FROM customers WHERE
    active", "row_limit": 1000}``.
    """

    name = "connector.sql_query"
    label = "SQL query"
    description = "Rows from a SELECT query on PostgreSQL, MySQL/MariaDB or SQLite."
    category = "connector"
    icon = "database-zap"
    keywords = ("sql", "query", "select", "database", "postgresql", "postgres", "mysql",
                "mariadb", "sqlite", "import")
    outputs = (Port("table", "table"),)
    Params = SqlQueryParams
    example = {"connection": "c1",
               "query": "SELECT id, plan, spend FROM customers WHERE active",
               "row_limit": 1000}

    def run(self, ctx: Context, params: SqlQueryParams) -> dict[str, pd.DataFrame]:
        conn = cast(SQLConnection, load_connection(ctx, params.connection, *SQL_MODELS))
        db = Database(ctx, conn, read_only=True, timeout=params.timeout_seconds)
        try:
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

    def infer_schema(self, ctx: Context, params: SqlQueryParams) -> dict[str, Schema | None]:
        # Knowing the columns means running the query; validation does not touch databases.
        return {"table": None}
