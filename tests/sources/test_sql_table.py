"""connector.sql_query in table mode and on SQLAlchemy URLs, against the real PostgreSQL and
MariaDB servers (a database of their own, dg_h5_*, created and dropped) and SQLite files:
chosen columns, the pickers' lists, incremental runs that ask the database only for rows at
or after the last cursor, the accumulated table, hostile names, and URLs that must be
refused."""
from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from pydantic import SecretStr, ValidationError
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from operators import LocalContext, OperatorError, get_operator
from operators.connections import (
    MySQLConnection,
    PostgresConnection,
    SqlAlchemyConnection,
    SQLiteConnection,
)
from operators.connectors import _dlt
from operators.connectors._connection import check_connection
from operators.connectors._sql import SQLITE_NOT_A_PATH, SQLITE_OUTSIDE, STOPPED, TIMED_OUT

from ..operators.action_helpers import assert_secret_nowhere
from ..operators.sql_helpers import local_context, pg_running
from ..operators.test_sql_interrupt import wait_for

OP = get_operator("connector.sql_query")
PASSWORD = "dg-h5-canary-password"
SERVERS = {"postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432",
           "mysql": "mysql+pymysql://root@127.0.0.1:3306"}
BACKENDS = [pytest.param("postgresql", marks=pytest.mark.services),
            pytest.param("mysql", marks=pytest.mark.services), "sqlite"]


@dataclass
class Db:
    kind: str
    name: str  # the database (a file name for SQLite)
    engine: sa.Engine  # the test's own, read-write, for setting things up
    root: Path  # the SQLite folder of the contexts

    def conn(self) -> PostgresConnection | MySQLConnection | SQLiteConnection:
        if self.kind == "postgresql":
            return PostgresConnection(database=self.name, user="postgres")
        if self.kind == "mysql":
            return MySQLConnection(database=self.name, user="root")
        return SQLiteConnection(path=self.name)

    def url(self) -> str:
        return f"sqlite:///{self.name}" if self.kind == "sqlite" \
            else f"{SERVERS[self.kind]}/{self.name}"

    def run(self, *statements: str) -> None:
        with self.engine.begin() as c:
            for statement in statements:
                c.exec_driver_sql(statement)

    def count(self, table: str) -> int:
        with self.engine.connect() as c:
            return int(c.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())

    def context(self, conn: Any = None, **kwargs: Any) -> LocalContext:
        return local_context(self.root, connections={"db": conn or self.conn()}, **kwargs)


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[Db]:
    """A database of the test's own with an orders table (20 rows), a view and a canary."""
    name = f"dg_h5_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / name}", poolclass=sa.pool.NullPool)
        try:
            yield _filled(Db(kind, name, engine, tmp_path))
        finally:
            engine.dispose()
        return
    admin = sa.create_engine(f"{SERVERS[kind]}/{'postgres' if kind == 'postgresql' else ''}",
                             poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name}")
    engine = sa.create_engine(f"{SERVERS[kind]}/{name}", poolclass=sa.pool.NullPool)
    try:
        yield _filled(Db(kind, name, engine, tmp_path))
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE {name}" + (" WITH (FORCE)" if kind ==
                                                           "postgresql" else ""))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    with database(request.param, tmp_path) as d:
        yield d


def _filled(db: Db) -> Db:
    db.run("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer VARCHAR(50), "
           "amount FLOAT, seq INTEGER NOT NULL, updated_at TIMESTAMP NULL)",
           "CREATE TABLE canary (id INTEGER)", "INSERT INTO canary VALUES (1)",
           "CREATE VIEW big_orders AS SELECT id, amount FROM orders WHERE amount > 100")
    rows = ", ".join(f"({i}, 'customer {i}', {i * 10.0}, {i}, '2024-01-{i:02d} 10:00:00')"
                     for i in range(1, 21))
    db.run(f"INSERT INTO orders VALUES {rows}")
    return db


def run(ctx: LocalContext, **raw: Any) -> pd.DataFrame:
    params = OP.parse_params({"connection": "db", "mode": "table", "table": "orders", **raw})
    table: pd.DataFrame = OP.run(ctx, params)["table"]
    return table


def cursor_of(db: Db) -> str:
    # SQLite keeps timestamps as text, compared as text: an integer cursor there.
    return "seq" if db.kind == "sqlite" else "updated_at"


# --- reading a table ---------------------------------------------------------------------------
def test_table_mode_reads_the_chosen_columns_in_chunks(db: Db) -> None:
    ctx = db.context()
    table = run(ctx, columns=["id", "amount"], chunk_size=100)
    assert list(table.columns) == ["id", "amount"]
    assert sorted(table["id"].tolist()) == list(range(1, 21))
    assert table.loc[table["id"] == 3, "amount"].tolist() == [30.0]
    assert ctx.source_reports[-1]["records"] == 20
    # Every column when none is chosen; a view reads like a table.
    assert set(run(db.context())) == {"id", "customer", "amount", "seq", "updated_at"}
    assert sorted(run(db.context(), table="big_orders")["id"]) == list(range(11, 21))


def test_a_row_limit_stops_reading(db: Db) -> None:
    ctx = db.context()
    assert len(run(ctx, row_limit=7, chunk_size=100)) == 7


def test_the_pickers_list_the_tables_and_a_tables_columns(db: Db) -> None:
    ctx = db.context()
    tables = OP.options(ctx, {"connection": "db"}, "table")
    assert {"orders", "canary", "big_orders"} <= set(tables)
    columns = OP.options(ctx, {"connection": "db", "table": "orders"}, "columns")
    assert columns == ["id", "customer", "amount", "seq", "updated_at"]
    assert OP.options(ctx, {"connection": "db", "table": "orders"},
                      "incremental_column") == columns
    with pytest.raises(OperatorError) as err:
        OP.options(ctx, {"connection": "db"}, "columns")
    assert err.value.field == "table"
    schema = OP.describe()["params_schema"]["properties"]
    assert all(schema[f]["x-options-from"] == "source"
               for f in ("table", "columns", "incremental_column", "primary_key"))


@pytest.mark.services
def test_tables_outside_the_default_schema_are_listed_qualified_and_read(
        tmp_path: Path) -> None:
    with database("postgresql", tmp_path) as db:
        db.run("CREATE SCHEMA sales", "CREATE TABLE sales.leads (id INTEGER PRIMARY KEY, "
               "email VARCHAR(50))", "INSERT INTO sales.leads VALUES (1, 'a@example.com')")
        ctx = db.context()
        assert "sales.leads" in OP.options(ctx, {"connection": "db"}, "table")
        assert OP.options(ctx, {"connection": "db", "table": "sales.leads"},
                          "columns") == ["id", "email"]
        assert run(ctx, table="sales.leads")["email"].tolist() == ["a@example.com"]


# --- incremental -------------------------------------------------------------------------------
def test_the_next_run_asks_only_for_rows_at_or_after_the_cursor(db: Db) -> None:
    ctx = db.context()
    cursor = cursor_of(db)
    first = run(ctx, incremental_column=cursor)
    assert len(first) == 20 and ctx.source_reports[-1]["full_refresh"]
    # A new row and a changed row move the cursor; a row changed without moving its
    # updated_at (older than the cursor) is not read again: the database filtered.
    db.run("INSERT INTO orders VALUES (21, 'customer 21', 210, 21, '2024-01-21 10:00:00')",
           "UPDATE orders SET amount = 999, seq = 22, updated_at = '2024-01-22 10:00:00' "
           "WHERE id = 5",
           "UPDATE orders SET customer = 'renamed quietly' WHERE id = 2")
    second = run(ctx, incremental_column=cursor)
    assert sorted(second["id"]) == [5, 21]
    assert second.loc[second["id"] == 5, "amount"].tolist() == [999.0]
    report = ctx.source_reports[-1]
    assert (report["records"], report["new"], report["updated"]) == (2, 1, 1)
    assert report["cursor_field"] == cursor and not report["full_refresh"]
    assert str(report["cursor_before"]).startswith("2024-01-20" if cursor == "updated_at"
                                                   else "20")
    # Nothing changed: the row at the cursor is read again by the database (>=) and dropped.
    assert len(run(ctx, incremental_column=cursor)) == 0
    # A full refresh starts over.
    ctx.full_refresh = True
    assert len(run(ctx, incremental_column=cursor)) == 21


@pytest.mark.services
@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_the_filter_is_a_where_the_server_evaluates(kind: str, tmp_path: Path) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with database(kind, tmp_path) as db:
        ctx = db.context()
        run(ctx, incremental_column="updated_at", columns=["id"])
        sa.event.listen(sa.Engine, "before_cursor_execute", seen)
        try:
            assert len(run(ctx, incremental_column="updated_at", columns=["id"])) == 0
        finally:
            sa.event.remove(sa.Engine, "before_cursor_execute", seen)
    reads = [" ".join(s.split()) for s in statements if "FROM orders" in s]
    assert len(reads) == 1 and "WHERE orders.updated_at >=" in reads[0]
    assert "ORDER BY orders.updated_at ASC" in reads[0]


def test_the_accumulated_output_merges_changed_rows_by_primary_key(db: Db) -> None:
    ctx = db.context()
    cursor = cursor_of(db)
    assert len(run(ctx, incremental_column=cursor, output="accumulated")) == 20
    db.run("UPDATE orders SET amount = 1, seq = 30, updated_at = '2024-02-01 10:00:00' "
           "WHERE id = 7")
    table = run(ctx, incremental_column=cursor, output="accumulated")
    assert len(table) == 20 and table["id"].nunique() == 20
    assert table.loc[table["id"] == 7, "amount"].tolist() == [1.0]
    report = ctx.source_reports[-1]
    assert (report["records"], report["new"], report["updated"]) == (1, 0, 1)


# --- hostile params ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["orders; DROP TABLE canary", "canary\" ; DROP TABLE canary --",
                                  "orders` ; DROP TABLE canary; --", "../orders"])
def test_a_table_name_that_is_not_in_the_database_is_refused(db: Db, name: str) -> None:
    ctx = db.context()
    with pytest.raises(OperatorError) as err:
        run(ctx, table=name)
    assert err.value.field == "table" and "is not a table or view" in err.value.message
    with pytest.raises(OperatorError) as err:
        OP.options(ctx, {"connection": "db", "table": name}, "columns")
    assert err.value.field == "table"
    assert db.count("canary") == 1 and ctx.source_reports == []


@pytest.mark.parametrize(("field", "value"), [
    ("columns", ["id", "amount; DROP TABLE canary"]), ("columns", ["no_such_column"]),
    ("incremental_column", "id) OR 1=1 --"), ("primary_key", ["nope"])])
def test_a_column_not_in_the_table_is_refused(db: Db, field: str, value: Any) -> None:
    ctx = db.context()
    with pytest.raises(OperatorError) as err:
        run(ctx, **{field: value})
    assert err.value.field == field and "has no column" in err.value.message
    assert db.count("canary") == 1 and ctx.source_reports == []


def test_table_mode_needs_a_table_and_query_mode_a_query() -> None:
    with pytest.raises(ValidationError) as err:
        OP.parse_params({"connection": "db", "mode": "table"})
    assert err.value.errors()[0]["loc"] == ("table",)
    with pytest.raises(ValidationError) as err:
        OP.parse_params({"connection": "db", "mode": "query"})
    assert err.value.errors()[0]["loc"] == ("query",)
    with pytest.raises(ValidationError):
        OP.parse_params({"connection": "db", "mode": "table", "table": "t",
                         "columns": ["a", "a"]})
    # An existing pipeline's params are a query-mode node, unchanged.
    params: Any = OP.parse_params({"connection": "db", "query": "SELECT 1"})
    assert params.mode == "query" and params.table is None


# --- sample and schema -------------------------------------------------------------------------
def test_a_sample_is_the_first_rows_and_its_columns_are_the_schema(db: Db) -> None:
    db.run("INSERT INTO orders SELECT id + 100, customer, amount, seq, updated_at FROM orders",
           "INSERT INTO orders SELECT id + 200, customer, amount, seq, updated_at FROM orders",
           "INSERT INTO orders SELECT id + 400, customer, amount, seq, updated_at FROM orders")
    ctx = db.context()
    params: Any = OP.parse_params({"connection": "db", "mode": "table", "table": "orders",
                                   "columns": ["id", "customer"]})
    sample = OP.sample(ctx, params)
    assert list(sample.columns) == ["id", "customer"] and len(sample) == 100
    query: Any = OP.parse_params({"connection": "db", "query": "SELECT id FROM orders"})
    assert len(OP.sample(ctx, query)) == 100
    assert OP.describe()["samples"] is True
    # What the server remembers of a sample is what validation then knows.
    assert OP.infer_schema(ctx, params) == {"table": None}
    key = _dlt.state_key(OP.name, params.model_dump(mode="json"))
    ctx.known_schemas[key] = [{"name": "id", "type": "int"}, {"name": "customer",
                                                              "type": "str"}]
    assert OP.infer_schema(ctx, params)["table"] == ctx.known_schemas[key]


# --- any SQLAlchemy URL ------------------------------------------------------------------------
def test_a_sqlalchemy_url_reads_in_both_modes(db: Db) -> None:
    conn = SqlAlchemyConnection(url=SecretStr(db.url()))
    ctx = db.context(conn)
    assert sorted(run(ctx, columns=["id"])["id"]) == list(range(1, 21))
    params = OP.parse_params({"connection": "db", "query": "SELECT count(*) AS n FROM orders"})
    assert OP.run(ctx, params)["table"]["n"].tolist() == [20]
    assert "orders" in OP.options(ctx, {"connection": "db"}, "table")
    # The session is read-only there too.
    with pytest.raises(OperatorError):
        OP.run(ctx, OP.parse_params({"connection": "db", "query":
                                     "WITH x AS (SELECT 1) SELECT * FROM x; DELETE FROM canary"}))
    assert db.count("canary") == 1


@pytest.mark.parametrize(("url", "package"), [
    (f"snowflake://me:{PASSWORD}@acct/db", "snowflake-sqlalchemy"),
    (f"mssql+pyodbc://me:{PASSWORD}@db.example.com/sales", "pyodbc"),
    (f"duckdb:///x.db?password={PASSWORD}", "duckdb-engine"),
])
def test_a_url_whose_dialect_is_not_installed_names_the_package(url: str,
                                                                 package: str) -> None:
    conn = SqlAlchemyConnection(url=SecretStr(url))
    ctx = LocalContext(connections={"db": conn})
    with pytest.raises(OperatorError) as err:
        run(ctx)
    assert "url" in err.value.message and f"pip install {package}" in err.value.message
    assert err.value.field == "connection"
    assert_secret_nowhere(PASSWORD, err.value, ctx.logs)
    checked = check_connection(conn, url_allowlist=[], sqlite_root=None)
    assert not checked.ok and package in checked.message and PASSWORD not in checked.message


@pytest.mark.parametrize("url", ["not a url", "postgresql://u:p@/db?host=/var/run/postgresql",
                                 "postgresql://u:p@db.example.com/db?hostaddr=10.0.0.1",
                                 "mysql+pymysql://u:p@db.example.com/db?unix_socket=/tmp/s"])
def test_a_url_that_would_go_elsewhere_is_refused_before_connecting(url: str) -> None:
    ctx = LocalContext(connections={"db": SqlAlchemyConnection(url=SecretStr(url))})
    with pytest.raises(OperatorError) as err:
        run(ctx)
    assert "url" in err.value.message and err.value.field == "connection"
    assert "u:p" not in err.value.message


@pytest.mark.services
@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_a_private_host_in_a_url_needs_the_allowlist(kind: str) -> None:
    url = SERVERS[kind].replace("@", f":{PASSWORD}@", 1) + "/postgres"
    conn = SqlAlchemyConnection(url=SecretStr(url.replace("127.0.0.1", "localhost")))
    ctx = LocalContext(connections={"db": conn})
    with pytest.raises(OperatorError) as err:
        run(ctx)
    assert "DATAGRAN_URL_ALLOWLIST" in err.value.message
    assert_secret_nowhere(PASSWORD, err.value, ctx.logs)
    checked = check_connection(conn, url_allowlist=[], sqlite_root=None)
    assert not checked.ok and "DATAGRAN_URL_ALLOWLIST" in checked.message


def test_a_sqlite_url_obeys_the_sqlite_folder(tmp_path: Path) -> None:
    inside = tmp_path / "root"
    inside.mkdir()
    sa.create_engine(f"sqlite:///{inside / 'a.db'}").connect().close()
    refused = {f"sqlite:///{tmp_path / 'outside.db'}": SQLITE_OUTSIDE,
               "sqlite:///../outside.db": SQLITE_OUTSIDE,
               f"sqlite:///{inside / 'a.db'}?mode=rwc": SQLITE_NOT_A_PATH,
               "sqlite:///file:a.db?uri=true": SQLITE_NOT_A_PATH}
    for url, message in refused.items():
        ctx = LocalContext(sqlite_root=str(inside),
                           connections={"db": SqlAlchemyConnection(url=SecretStr(url))})
        with pytest.raises(OperatorError) as err:
            OP.run(ctx, OP.parse_params({"connection": "db", "query": "SELECT 1 AS one"}))
        assert err.value.message == message, url
    assert not (tmp_path / "outside.db").exists()
    ctx = LocalContext(sqlite_root=str(inside), connections={
        "db": SqlAlchemyConnection(url=SecretStr("sqlite:///a.db"))})
    table = OP.run(ctx, OP.parse_params({"connection": "db", "query": "SELECT 1 AS one"}))
    assert table["table"]["one"].tolist() == [1]
    checked = check_connection(SqlAlchemyConnection(url=SecretStr("sqlite:///a.db")),
                               url_allowlist=[], sqlite_root=str(inside))
    assert checked.ok, checked.message


# --- a dialect Datagran does not know ----------------------------------------------------------
class OtherDialect(PGDialect_psycopg):
    """A dialect under another name, speaking to PostgreSQL through psycopg: what an installed
    third-party dialect goes through (its host checked and dialled, its own driver)."""

    name = "dgother"
    supports_statement_cache = True


registry.register("dgother.psycopg", __name__, "OtherDialect")


@pytest.mark.services
def test_another_dialect_is_dialled_at_the_address_that_was_checked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with database("postgresql", tmp_path) as db:
        url = f"dgother+psycopg://postgres:{PASSWORD}@127.0.0.1:5432/{db.name}"
        ctx = LocalContext(connections={"db": SqlAlchemyConnection(url=SecretStr(url))})
        with pytest.raises(OperatorError) as err:
            run(ctx)
        assert "DATAGRAN_URL_ALLOWLIST" in err.value.message
        assert_secret_nowhere(PASSWORD, err.value)
        # A name only our resolver knows: the driver can connect only at the checked address.
        calls: list[str] = []
        real = socket.getaddrinfo

        def resolver(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host != "dg-h5-other.test":
                return real(host, port, *args, **kwargs)
            calls.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

        monkeypatch.setattr(socket, "getaddrinfo", resolver)
        ctx = LocalContext(url_allowlist=["127.0.0.1/32"], connections={
            "db": SqlAlchemyConnection(url=SecretStr(url.replace("127.0.0.1",
                                                                 "dg-h5-other.test")))})
        assert sorted(run(ctx, columns=["id"])["id"]) == list(range(1, 21))
        assert calls
        # Its writes: append works, upsert is PostgreSQL/MySQL/SQLite only.
        action = get_operator("action.sql_table")
        rows = pd.DataFrame({"id": [1], "v": [2.0]})
        params = {"connection": "db", "table": "written", "key_columns": ["id"]}
        with pytest.raises(OperatorError) as err:
            action.run(ctx, action.parse_params({**params, "mode": "upsert"}), table=rows)
        assert err.value.field == "mode" and "dgother" in err.value.message
        action.run(ctx, action.parse_params(params), table=rows)
        assert db.count("written") == 1


# --- stopping ----------------------------------------------------------------------------------
@pytest.mark.services
def test_cancel_and_the_time_limit_stop_a_table_read_on_the_server(tmp_path: Path) -> None:
    with database("postgresql", tmp_path) as db:
        key = uuid.uuid4().int % 2**31  # finds the statement on the server (pg_running)
        db.run("CREATE VIEW slow AS SELECT 1 AS id, pg_advisory_xact_lock_shared"
               f"({key})::text AS k, pg_sleep(120)::text AS s")
        ctx = db.context()
        seen: list[bool] = []

        def interrupt_once_running() -> None:
            seen.append(wait_for(lambda: pg_running(db.engine, key) > 0))
            ctx.interrupts.interrupt()

        thread = threading.Thread(target=interrupt_once_running)
        thread.start()
        try:
            with pytest.raises(OperatorError) as err:
                run(ctx, table="slow")
        finally:
            thread.join()
        assert seen == [True] and err.value.message == STOPPED
        assert wait_for(lambda: pg_running(db.engine, key) == 0)
        with pytest.raises(OperatorError) as err:
            run(db.context(), table="slow", timeout_seconds=1)
        assert err.value.message == TIMED_OUT.format(timeout=1)
        assert err.value.field == "timeout_seconds" and ctx.source_reports == []


def test_a_column_added_to_the_table_is_reported_new_and_an_empty_read_keeps_the_columns(
        db: Db) -> None:
    ctx = db.context()
    cursor = cursor_of(db)
    run(ctx, incremental_column=cursor)
    db.run("ALTER TABLE orders ADD region VARCHAR(20)",
           "INSERT INTO orders (id, customer, amount, seq, updated_at, region) "
           "VALUES (50, 'c', 5, 50, '2024-03-01 10:00:00', 'north')")
    table = run(ctx, incremental_column=cursor)
    assert table["region"].tolist() == ["north"]
    assert ctx.source_reports[-1]["new_columns"] == ["region"]
    # Nothing new: no rows, the same columns.
    empty = run(ctx, incremental_column=cursor)
    assert len(empty) == 0 and list(empty.columns) == list(table.columns)
    # The chosen columns in the order chosen; the cursor the load needs comes last.
    chosen = run(db.context(), incremental_column=cursor, columns=["region", "id"])
    assert list(chosen.columns) == ["region", "id", cursor]
    assert run(db.context(), table="canary", columns=["id"], row_limit=1)["id"].tolist() == [1]
    db.run("DELETE FROM canary")
    assert list(run(db.context(), table="canary").columns) == ["id"]

