from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError

from operators import LocalContext, OperatorError, get_operator
from operators.base import ApprovalRequired
from operators.connections import MySQLConnection, PostgresConnection, SqlAlchemyConnection
from operators.connectors._sql import CONNECT_FAILED

from .action_helpers import assert_secret_nowhere, statuses
from .sql_helpers import BACKENDS, Scratch, local_context, scratch

op = get_operator("action.sql_table")
SCORES = pd.DataFrame({
    "id": [1, 2, 3],
    "name": ["Ana", "Ben", None],
    "risk": [0.25, 0.5, 0.75],
    "vip": [True, False, True],
    "scored_at": pd.to_datetime(["2024-05-01 10:00", "2024-05-01 11:30", "2024-05-02 09:15"]),
})


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Scratch]:
    with scratch(request.param, tmp_path) as s:
        yield s


def write(db: Scratch, table: pd.DataFrame = SCORES, ctx: LocalContext | None = None,
          **raw: Any) -> pd.DataFrame:
    ctx = ctx if ctx is not None else db.context()
    ctx.connections.setdefault("db", db.conn)
    params = op.parse_params({"connection": "db", "table": db.table, "key_columns": ["id"],
                              **raw})
    return op.run(ctx, params, table=table)["results"]


def test_append_creates_the_table_from_the_columns_and_writes_every_row(db: Scratch) -> None:
    ctx = db.context()
    results = write(db, ctx=ctx)
    assert statuses(results) == {"1": "sent", "2": "sent", "3": "sent"}
    rows = db.rows("id, name, risk, vip, scored_at")
    assert [(r[0], r[1], r[2], bool(r[3])) for r in rows] == [
        (1, "Ana", 0.25, True), (2, "Ben", 0.5, False), (3, None, 0.75, True)]
    assert pd.Timestamp(rows[1][4]) == pd.Timestamp("2024-05-01 11:30")
    assert set(ctx.send_log) == {"1", "2", "3"}


def test_a_second_run_appends_nothing_and_a_changed_row_is_appended_again(db: Scratch) -> None:
    ctx = db.context()
    write(db, ctx=ctx)
    assert set(statuses(write(db, ctx=ctx)).values()) == {"skipped"}
    results = write(db, SCORES.assign(risk=[0.25, 0.9, 0.75]), ctx=ctx)
    assert statuses(results) == {"1": "skipped", "2": "sent", "3": "skipped"}
    assert db.rows("id, risk", order="id, risk") == [(1, 0.25), (2, 0.5), (2, 0.9), (3, 0.75)]


def test_upsert_updates_existing_keys_and_inserts_new_ones(db: Scratch) -> None:
    ctx = db.context()
    write(db, ctx=ctx, mode="upsert")
    changed = pd.concat([SCORES.assign(risk=[0.25, 0.9, 0.75]),
                         SCORES.iloc[:1].assign(id=4, name="Dara")], ignore_index=True)
    results = write(db, changed, ctx=ctx, mode="upsert")
    assert statuses(results) == {"1": "skipped", "2": "sent", "3": "skipped", "4": "sent"}
    assert db.rows("id, name, risk") == [(1, "Ana", 0.25), (2, "Ben", 0.9), (3, None, 0.75),
                                         (4, "Dara", 0.25)]


def test_upsert_on_a_composite_key_with_no_other_column_leaves_existing_rows(
        db: Scratch) -> None:
    pairs = pd.DataFrame({"id": [1, 1], "tag": ["a", "b"]})
    write(db, pairs, mode="upsert", key_columns=["id", "tag"])
    results = write(db, pd.concat([pairs, pd.DataFrame({"id": [2], "tag": ["a"]})]),
                    mode="upsert", key_columns=["id", "tag"])
    assert list(results["record_key"]) == ['["1","a"]', '["1","b"]', '["2","a"]']
    assert db.rows("id, tag", order="id, tag") == [(1, "a"), (1, "b"), (2, "a")]


def test_upsert_needs_a_unique_key_on_the_key_columns(db: Scratch) -> None:
    db.run("CREATE TABLE {t} (id INTEGER, name VARCHAR(50), risk FLOAT, vip BOOLEAN, "
           "scored_at TIMESTAMP NULL)")
    with pytest.raises(OperatorError) as err:
        write(db, mode="upsert")
    assert err.value.field == "key_columns" and "primary key or unique index" in str(err.value)
    assert db.rows() == []


def test_replace_writes_the_whole_table_anew_even_rows_sent_before(db: Scratch) -> None:
    ctx = db.context()
    write(db, ctx=ctx, mode="replace")
    results = write(db, SCORES.iloc[1:], ctx=ctx, mode="replace")
    assert set(statuses(results).values()) == {"sent"}
    assert db.rows("id") == [(2,), (3,)]


def test_a_row_the_database_refuses_fails_alone_with_the_databases_reason(
        db: Scratch) -> None:
    db.run("CREATE TABLE {t} (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, risk FLOAT, "
           "vip BOOLEAN, scored_at TIMESTAMP NULL)")
    ctx = db.context()
    results = write(db, ctx=ctx)
    assert statuses(results) == {"1": "sent", "2": "sent", "3": "failed"}
    reason = results["reason"][2].lower()
    assert "name" in reason and "null" in reason and "\n" not in reason
    assert db.rows("id") == [(1,), (2,)]
    assert set(ctx.send_log) == {"1", "2"}


def test_a_table_missing_one_of_the_columns_is_reported_on_the_table(db: Scratch) -> None:
    db.run("CREATE TABLE {t} (id INTEGER PRIMARY KEY, name VARCHAR(50))")
    with pytest.raises(OperatorError) as err:
        write(db)
    assert err.value.field == "table"
    assert err.value.message == (f"Table {db.table!r} has no column 'risk', 'vip', "
                                 "'scored_at'.")


def test_dry_run_and_approval_do_not_even_connect(tmp_path: Path) -> None:
    unreachable = PostgresConnection(host="127.0.0.1", port=1, database="x", user="x")
    ctx = local_context(tmp_path, connections={"db": unreachable})
    params = {"connection": "db", "table": "scores", "key_columns": ["id"]}
    preview = op.run(ctx, op.parse_params({**params, "dry_run": True}), table=SCORES)["results"]
    assert json.loads(preview["payload"][0]) == {
        "id": 1, "name": "Ana", "risk": 0.25, "vip": True, "scored_at": "2024-05-01T10:00:00"}
    with pytest.raises(ApprovalRequired) as waiting:
        op.run(ctx, op.parse_params({**params, "require_approval": True}), table=SCORES)
    pd.testing.assert_frame_equal(waiting.value.preview, preview)
    ctx.approved = True
    with pytest.raises(OperatorError) as err:
        op.run(ctx, op.parse_params({**params, "require_approval": True}), table=SCORES)
    assert err.value.field == "connection"


@pytest.mark.services
def test_bad_credentials_are_reported_on_the_connection_without_the_password(
        tmp_path: Path) -> None:
    password = "canary-mysql-password-SECRET"
    ctx = local_context(tmp_path, connections={"db": MySQLConnection(
        database="test", user="root", password=SecretStr(password))})
    with pytest.raises(OperatorError) as err:
        op.run(ctx, op.parse_params({"connection": "db", "table": "scores",
                                     "key_columns": ["id"]}), table=SCORES)
    assert err.value.field == "connection" and err.value.message == CONNECT_FAILED
    assert_secret_nowhere(password, err.value, ctx.logs)


def test_a_key_column_that_is_not_in_the_table_is_reported_on_its_field() -> None:
    schema = [{"name": "id", "type": "int"}]
    params = op.parse_params({"connection": "db", "table": "t", "key_columns": ["nope"]})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, table=schema)
    assert err.value.field == "key_columns"


@pytest.mark.parametrize("raw", [
    {"table": "scores; DROP TABLE users"}, {"table": "1scores"}, {"table": "public.scores"},
    {"table": ""}, {"table": "a" * 64}, {"table": 'sc"ores'}, {"mode": "merge"},
    {"key_columns": []}, {"batch_size": 10_001}, {"batch_size": 0},
])
def test_it_rejects_table_names_and_params_that_are_not_safe(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        op.parse_params({"connection": "db", "table": "scores", "key_columns": ["id"], **raw})


def test_times_with_a_time_zone_are_stored_as_the_same_instant(db: Scratch) -> None:
    paris = pd.DataFrame({"id": [1], "at": pd.to_datetime(["2024-05-01 10:00"]).tz_localize(
        "Europe/Paris")})
    write(db, paris)
    stored = pd.Timestamp(db.rows("at")[0][0])
    # PostgreSQL keeps the zone; MySQL and SQLite hold the UTC time without one.
    assert (stored.tz_convert("UTC") if stored.tzinfo else stored.tz_localize("UTC")) == \
        pd.Timestamp("2024-05-01 08:00", tz="UTC")


def test_a_sqlalchemy_url_connection_writes_like_its_kind(db: Scratch) -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    ctx = db.context(connections={"db": SqlAlchemyConnection(url=SecretStr(url))})
    write(db, ctx=ctx, mode="upsert")
    results = write(db, SCORES.assign(risk=[0.1, 0.5, 0.75]), ctx=ctx, mode="upsert")
    assert statuses(results) == {"1": "sent", "2": "skipped", "3": "skipped"}
    assert [r[0] for r in db.rows("risk")] == [0.1, 0.5, 0.75]
