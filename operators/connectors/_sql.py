"""SQLAlchemy engines for the SQL connections (PostgreSQL, MySQL/MariaDB, SQLite), shared by
connector.sql_query and action.sql_table, and driver errors turned into safe messages."""
from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from ..connections import MySQLConnection, PostgresConnection, SQLiteConnection

SQLConnection = PostgresConnection | MySQLConnection | SQLiteConnection
SQL_MODELS = (PostgresConnection, MySQLConnection, SQLiteConnection)
SQL_KINDS = ["postgresql", "mysql", "sqlite"]
CONNECT_TIMEOUT = 10


def engine_for(conn: SQLConnection, *, read_only: bool, timeout: int) -> Engine:
    """An engine without a pool (each run connects afresh and leaves nothing open).
    ``read_only`` makes the database itself refuse writes, whatever the SQL text says;
    ``timeout`` bounds each statement (PostgreSQL) or each wait for the server (MySQL)."""
    if isinstance(conn, SQLiteConnection):
        # Opened through a URI so read-only is enforced by SQLite ("mode=ro").
        mode = "ro" if read_only else "rwc"
        uri = f"file:{quote(conn.path)}?mode={mode}"
        return sa.create_engine("sqlite+pysqlite://", poolclass=NullPool,
                                creator=lambda: sqlite3.connect(uri, uri=True, timeout=timeout))
    if isinstance(conn, PostgresConnection):
        url = sa.URL.create("postgresql+psycopg", username=conn.user,
                            password=conn.password.get_secret_value() or None,
                            host=conn.host, port=conn.port, database=conn.database)
        options = f"-c statement_timeout={timeout * 1000}"
        if read_only:
            options += " -c default_transaction_read_only=on"
        return sa.create_engine(url, poolclass=NullPool, connect_args={
            "connect_timeout": CONNECT_TIMEOUT, "options": options,
            "application_name": "datagran"})
    url = sa.URL.create("mysql+pymysql", username=conn.user,
                        password=conn.password.get_secret_value() or None, host=conn.host,
                        port=conn.port, database=conn.database, query={"charset": "utf8mb4"})
    engine = sa.create_engine(url, poolclass=NullPool, connect_args={
        "connect_timeout": CONNECT_TIMEOUT, "read_timeout": timeout, "write_timeout": timeout})
    if read_only:
        @sa.event.listens_for(engine, "connect")
        def _read_only(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
    return engine


def driver_message(exc: BaseException, conn: SQLConnection) -> str:
    """The first line of what the database driver said, with the password removed in case
    a driver ever quotes it. SQLAlchemy's own text (the SQL, the parameters, a link) is left
    out: the parameters may hold row values and the link helps nobody on the canvas."""
    if getattr(exc, "orig", None) is None and exc.__cause__ is not None:
        exc = exc.__cause__  # pandas wraps SQLAlchemy's error, which wraps the driver's
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    # PyMySQL's errors are (code, message): show the message as MySQL's client does.
    text = f"{args[1]} ({args[0]})" if len(args) == 2 and isinstance(args[0], int) \
        else str(orig)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    message = lines[0] if lines else type(orig).__name__
    password = "" if isinstance(conn, SQLiteConnection) else conn.password.get_secret_value()
    if password:
        message = message.replace(password, "***")
    return message[:500]
