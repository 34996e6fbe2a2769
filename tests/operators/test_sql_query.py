from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from operators import LocalContext, OperatorError, get_operator
from operators.connections import (
    HttpConnection,
    MySQLConnection,
    PostgresConnection,
    SQLiteConnection,
)
from operators.connectors._sql import CONNECT_FAILED, Database

from .action_helpers import assert_secret_nowhere
from .sql_helpers import BACKENDS, Scratch, local_context, scratch

op = get_operator("connector.sql_query")
PASSWORD = "canary-db-password-SECRET"


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Scratch]:
    with scratch(request.param, tmp_path) as s:
        s.run("CREATE TABLE {t} (id INTEGER PRIMARY KEY, name VARCHAR(50), score FLOAT)")
        values = ", ".join(f"({i}, 'name {i}', {i / 4})" for i in range(1, 251))
        s.run(f"INSERT INTO {{t}} VALUES {values}")
        yield s


def query(db: Scratch, sql: str, ctx: LocalContext | None = None, **raw: Any) -> pd.DataFrame:
    ctx = ctx or db.context()
    ctx.connections["db"] = db.conn
    params = op.parse_params({"connection": "db", "query": sql.replace("{t}", db.table), **raw})
    return op.run(ctx, params)["table"]


def test_it_reads_every_row_chunk_by_chunk(db: Scratch) -> None:
    ctx = db.context()
    table = query(db, "SELECT id, name, score FROM {t} ORDER BY id", ctx, chunk_size=100)
    assert list(table.columns) == ["id", "name", "score"]
    assert list(table["id"]) == list(range(1, 251))
    assert table["name"][9] == "name 10" and table["score"][9] == 2.5
    assert ctx.logs == ["Read 100 rows so far.", "Read 200 rows so far.",
                        "Read 250 rows so far.", "Read 250 rows, 3 columns."]


def test_a_row_limit_stops_reading_early(db: Scratch) -> None:
    ctx = db.context()
    table = query(db, "SELECT id FROM {t} ORDER BY id", ctx, row_limit=150, chunk_size=100)
    assert list(table["id"]) == list(range(1, 151))
    assert ctx.progress_values == [100 / 150, 1.0]


def test_percent_signs_and_colons_in_the_sql_are_left_alone(db: Scratch) -> None:
    db.run("INSERT INTO {t} VALUES (900, 'a%b:c', 0)")
    table = query(db, "SELECT name, '10:30' AS t FROM {t} WHERE name LIKE 'a%b:%'")
    assert table.to_dict("list") == {"name": ["a%b:c"], "t": ["10:30"]}


def test_an_empty_result_keeps_its_columns(db: Scratch) -> None:
    table = query(db, "SELECT id, name FROM {t} WHERE id < 0")
    assert list(table.columns) == ["id", "name"] and len(table) == 0


def test_a_syntax_error_is_reported_on_the_query_with_the_drivers_words(db: Scratch) -> None:
    with pytest.raises(OperatorError) as err:
        query(db, "SELECT id FROM {t} WHERE WHERE")
    assert err.value.field == "query"
    assert err.value.message.startswith("The query failed: ")
    assert "syntax" in err.value.message.lower() and "\n" not in err.value.message


def test_an_unknown_table_is_reported_on_the_query(db: Scratch) -> None:
    with pytest.raises(OperatorError) as err:
        query(db, "SELECT * FROM dg_no_such_table")
    assert err.value.field == "query" and "dg_no_such_table" in err.value.message


def test_the_session_is_read_only_whatever_the_sql_says(db: Scratch) -> None:
    session = Database(db.context(), db.conn, read_only=True, timeout=10)
    try:
        with pytest.raises(SQLAlchemyError), session.engine.begin() as c:
            c.exec_driver_sql(f"DELETE FROM {db.table}")
    finally:
        session.close()
    assert len(db.rows("id")) == 250


def test_a_pooled_lookup_session_is_read_only_without_a_transaction_too(db: Scratch) -> None:
    # Serving's lookups run one statement a checkout outside a transaction (autocommit).
    session = Database(db.context(), db.conn, read_only=True, timeout=10, pool_size=2)
    try:
        for _ in range(2):  # a fresh connection, then one back from the pool
            with pytest.raises(SQLAlchemyError), session.engine.connect() as c:
                c.exec_driver_sql(f"DELETE FROM {db.table}")
    finally:
        session.close()
    assert len(db.rows("id")) == 250


@pytest.mark.services
def test_a_write_hidden_in_a_function_or_a_cte_is_refused_by_postgresql(
        tmp_path: Path) -> None:
    with scratch("postgresql", tmp_path) as s:
        function = f"{s.table}_wipe"
        s.run("CREATE TABLE {t} (id INTEGER)", "INSERT INTO {t} VALUES (1)",
              f"CREATE FUNCTION {function}() RETURNS int LANGUAGE sql AS "
              "'DELETE FROM {t}; SELECT 1'")
        try:
            with pytest.raises(OperatorError) as err:
                query(s, f"SELECT {function}()")
            assert "read-only transaction" in err.value.message
            with pytest.raises(OperatorError):
                query(s, "WITH gone AS (DELETE FROM {t} RETURNING id) SELECT * FROM gone")
            assert s.rows("id") == [(1,)]
        finally:
            s.run(f"DROP FUNCTION {function}()")


@pytest.mark.services
@pytest.mark.parametrize("conn", [
    MySQLConnection(database="test", user="root", password=SecretStr(PASSWORD)),
    PostgresConnection(database="postgres", user="dg_no_such_role",
                       password=SecretStr(PASSWORD)),
])
def test_bad_credentials_are_reported_on_the_connection_without_the_password(
        conn: Any, tmp_path: Path) -> None:
    ctx = local_context(tmp_path, connections={"db": conn})
    with pytest.raises(OperatorError) as err:
        op.run(ctx, op.parse_params({"connection": "db", "query": "SELECT 1"}))
    assert err.value.field == "connection" and err.value.message == CONNECT_FAILED
    assert_secret_nowhere(PASSWORD, err.value, ctx.logs)


def test_a_sqlite_file_that_does_not_exist_is_reported_on_the_connection(
        tmp_path: Path) -> None:
    ctx = local_context(tmp_path,
                        connections={"db": SQLiteConnection(path=str(tmp_path / "none.db"))})
    with pytest.raises(OperatorError) as err:
        op.run(ctx, op.parse_params({"connection": "db", "query": "SELECT 1"}))
    assert err.value.field == "connection" and err.value.message == CONNECT_FAILED
    assert not (tmp_path / "none.db").exists()  # read-only: not created either


def test_a_connection_of_another_kind_is_refused() -> None:
    ctx = LocalContext(connections={"db": HttpConnection(base_url="https://x.test")})
    with pytest.raises(OperatorError) as err:
        op.run(ctx, op.parse_params({"connection": "db", "query": "SELECT 1"}))
    assert err.value.message == ("Connection 'db' is not a postgresql or mysql or sqlite "
                                 "or sqlalchemy connection.")


@pytest.mark.parametrize("sql", ["DELETE FROM t", "  -- note\n DROP TABLE t", "",
                                 "INSERT INTO t SELECT 1", "UPDATE t SET a = 1"])
def test_it_rejects_sql_that_is_not_a_select(sql: str) -> None:
    with pytest.raises(ValidationError):
        op.parse_params({"connection": "db", "query": sql})


@pytest.mark.parametrize("sql", ["-- note\n(SELECT 1)", "/* x */ with a as (select 1) "
                                 "select * from a", "\n\tselect 1"])
def test_it_accepts_selects_after_comments_and_parentheses(sql: str) -> None:
    params: Any = op.parse_params({"connection": "db", "query": sql})
    assert params.query == sql


@pytest.mark.parametrize("raw", [{"row_limit": 0}, {"chunk_size": 99},
                                 {"chunk_size": 1_000_001}, {"timeout_seconds": 0}])
def test_it_rejects_limits_out_of_bounds(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        op.parse_params({"connection": "db", "query": "SELECT 1", **raw})


def test_the_form_offers_every_sql_connection_kind_and_the_schema_is_unknown() -> None:
    schema = op.describe()["params_schema"]
    assert schema["properties"]["connection"]["x-connection"] == ["postgresql", "mysql",
                                                                  "sqlite", "sqlalchemy"]
    params = op.parse_params({"connection": "db", "query": "SELECT 1"})
    assert op.infer_schema(LocalContext(), params) == {"table": None}
