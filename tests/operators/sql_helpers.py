"""Scratch tables on the real PostgreSQL and MariaDB servers on loopback, and in SQLite files,
for the tests of the SQL connector and action. Each table has a unique name and is dropped.
The servers are on loopback, so contexts allow-list 127.0.0.1 as an administrator would; the
SQLite files lie in the test's own folder, the context's SQLite root."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from operators.base import LocalContext
from operators.connections import MySQLConnection, PostgresConnection, SQLiteConnection

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.services),
            pytest.param("mysql", marks=pytest.mark.services)]


@dataclass
class Scratch:
    kind: str
    conn: PostgresConnection | MySQLConnection | SQLiteConnection
    engine: sa.Engine
    table: str
    root: Path

    def context(self, **kwargs: Any) -> LocalContext:
        return local_context(self.root, **kwargs)

    def run(self, *statements: str) -> None:
        with self.engine.begin() as c:
            c = c.execution_options(no_parameters=True)  # a '%' in the SQL is just a '%'
            for statement in statements:
                c.exec_driver_sql(statement.replace("{t}", self.table))

    def rows(self, columns: str = "*", order: str = "id") -> list[tuple[Any, ...]]:
        with self.engine.connect() as c:
            return [tuple(r) for r in c.exec_driver_sql(
                f"SELECT {columns} FROM {self.table} ORDER BY {order}")]


def local_context(root: Path, **kwargs: Any) -> LocalContext:
    """A context that may reach the servers on loopback and SQLite files under ``root``."""
    return LocalContext(**{"url_allowlist": ["127.0.0.1"], "sqlite_root": str(root), **kwargs})


def connection_for(kind: str, tmp_path: Path) -> PostgresConnection | MySQLConnection | \
        SQLiteConnection:
    if kind == "postgresql":
        return PostgresConnection(database="postgres", user="postgres")
    if kind == "mysql":
        return MySQLConnection(database="test", user="root")
    return SQLiteConnection(path=str(tmp_path / "scratch.db"))


def _url(conn: Any) -> sa.URL | str:
    if isinstance(conn, PostgresConnection):
        return sa.URL.create("postgresql+psycopg", username=conn.user, host=conn.host,
                             port=conn.port, database=conn.database)
    if isinstance(conn, MySQLConnection):
        return sa.URL.create("mysql+pymysql", username=conn.user, host=conn.host,
                             port=conn.port, database=conn.database)
    return f"sqlite:///{conn.path}"


@contextmanager
def scratch(kind: str, tmp_path: Path) -> Iterator[Scratch]:
    conn = connection_for(kind, tmp_path)
    engine = sa.create_engine(_url(conn), poolclass=sa.pool.NullPool)
    table = f"dg_test_{uuid.uuid4().hex[:12]}"
    try:
        yield Scratch(kind, conn, engine, table, tmp_path)
    finally:
        with engine.begin() as c:
            c.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        engine.dispose()


def pg_sleeper(seconds: int) -> tuple[str, int]:
    """A PostgreSQL query sleeping ``seconds`` and a key that finds it on the server: through
    a server-side cursor the statement shows as FETCH, so its text cannot be searched."""
    key = uuid.uuid4().int % 2**31
    return f"SELECT pg_advisory_xact_lock_shared({key}) AS k, pg_sleep({seconds}) AS s", key


def pg_running(engine: sa.Engine, key: int) -> int:
    """How many active statements hold the advisory lock of a pg_sleeper query."""
    with engine.connect() as c:
        return int(c.exec_driver_sql(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE "
            "l.locktype = 'advisory' AND l.classid = 0 AND l.objid = %(key)s "
            "AND a.state = 'active'", {"key": key}).scalar_one())
