"""Cancel and the time limit stop SQL work in the database itself, not only in Python: the
engine calls ctx.interrupts.interrupt() from another thread, and each query has its own
statement time limit. Against the real PostgreSQL and MariaDB servers and SQLite."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from operators import LocalContext, OperatorError, get_operator
from operators.connectors._sql import STOPPED, TIMED_OUT

from .sql_helpers import BACKENDS, Scratch, pg_running, pg_sleeper, scratch

query_op = get_operator("connector.sql_query")
table_op = get_operator("action.sql_table")


def long_query(s: Scratch) -> tuple[str, Callable[[], int]]:
    """A query that runs for minutes, and how many statements of it the server is running
    (always 0 for SQLite, which runs in this process)."""
    marker = f"dg_h2_{uuid.uuid4().hex[:12]}"
    if s.kind == "postgresql":
        sql, key = pg_sleeper(120)
        return sql, lambda: pg_running(s.engine, key)
    if s.kind == "mysql":
        # (Not BENCHMARK: MariaDB's statement limit makes it answer 0 instead of failing.)
        return (f"SELECT COUNT(*) AS n, '{marker}' AS m FROM seq_1_to_100000000000 "
                "WHERE MD5(seq) = 'x'", lambda: statements(s, marker))
    return (f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
            f"SELECT max(x) AS x, '{marker}' AS m FROM c"), lambda: 0


def statements(s: Scratch, text: str) -> int:
    """How many statements containing ``text`` the server is running."""
    if s.kind == "postgresql":
        sql = ("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
               "AND pid <> pg_backend_pid() AND query LIKE %(like)s")
    else:
        sql = ("SELECT count(*) FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' "
               "AND ID <> CONNECTION_ID() AND INFO LIKE %(like)s")
    with s.engine.connect() as c:
        return int(c.exec_driver_sql(sql, {"like": f"%{text}%"}).scalar_one())


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def run_until_error(s: Scratch, ctx: LocalContext, sql: str,
                    **raw: Any) -> tuple[OperatorError, float]:
    ctx.connections["db"] = s.conn
    params = query_op.parse_params({"connection": "db", "query": sql, **raw})
    started = time.monotonic()
    with pytest.raises(OperatorError) as err:
        query_op.run(ctx, params)
    return err.value, time.monotonic() - started


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    with scratch(request.param, tmp_path) as s:
        s.run("CREATE TABLE {t} (id INTEGER)")  # SQLite: the file exists
        yield s


def test_an_interrupt_stops_a_running_query_in_the_database(db: Scratch) -> None:
    sql, running = long_query(db)
    ctx = db.context()
    fired: list[float] = []
    seen: list[bool] = []

    def interrupt_once_running() -> None:
        # The query is on the server (SQLite: give it a second in its loop), then cancel.
        seen.append(wait_for(lambda: running() > 0) if db.kind != "sqlite" else True)
        time.sleep(0.5 if db.kind != "sqlite" else 1)
        fired.append(time.monotonic())
        ctx.interrupts.interrupt()

    thread = threading.Thread(target=interrupt_once_running)
    thread.start()
    error, _ = run_until_error(db, ctx, sql)
    stopped_after = time.monotonic() - fired[0]
    thread.join()
    print(f"{db.kind}: query stopped {stopped_after:.3f} s after the interrupt")
    assert seen == [True], "the query never showed on the server"
    assert error.message == STOPPED
    assert stopped_after < 10
    assert wait_for(lambda: running() == 0, 5), "the server still runs the query"


def test_each_statement_has_its_own_time_limit(db: Scratch) -> None:
    sql, running = long_query(db)
    error, elapsed = run_until_error(db, db.context(), sql, timeout_seconds=1)
    print(f"{db.kind}: a 1 s statement limit stopped the query after {elapsed:.3f} s")
    assert error.message == TIMED_OUT.format(timeout=1)
    assert error.field == "timeout_seconds"
    assert elapsed < 10
    assert wait_for(lambda: running() == 0, 5)


SLOW_INSERT = {
    "postgresql": ["CREATE FUNCTION {t}_slow() RETURNS trigger LANGUAGE plpgsql AS "
                   "'BEGIN PERFORM pg_sleep(120); RETURN NEW; END'",
                   "CREATE TRIGGER {t}_slow BEFORE INSERT ON {t} FOR EACH ROW "
                   "EXECUTE FUNCTION {t}_slow()"],
    "mysql": ["CREATE TRIGGER {t}_slow BEFORE INSERT ON {t} FOR EACH ROW "
              "SET @{t} = BENCHMARK(50000000000, MD5('x'))"],
}
# What the server shows while the insert runs: PostgreSQL the INSERT, MariaDB the trigger's.
SLOW_STATEMENT = {"postgresql": "INSERT INTO {t}", "mysql": "@{t} = BENCHMARK"}


@pytest.mark.services
@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_an_interrupt_stops_the_actions_running_insert(kind: str, tmp_path: Path) -> None:
    with scratch(kind, tmp_path) as s:
        s.run("CREATE TABLE {t} (id INTEGER PRIMARY KEY, v INTEGER)", *SLOW_INSERT[kind])
        try:
            ctx = s.context(connections={"db": s.conn})
            shown = SLOW_STATEMENT[kind].replace("{t}", s.table)
            params = table_op.parse_params({"connection": "db", "table": s.table,
                                            "key_columns": ["id"]})
            seen: list[bool] = []

            def interrupt_once_running() -> None:
                seen.append(wait_for(lambda: statements(s, shown) > 0))
                ctx.interrupts.interrupt()

            threading.Thread(target=interrupt_once_running).start()
            started = time.monotonic()
            with pytest.raises(OperatorError) as err:
                table_op.run(ctx, params, table=pd.DataFrame({"id": [1, 2], "v": [1, 2]}))
            print(f"{kind}: the insert stopped {time.monotonic() - started:.3f} s after it "
                  "started (interrupted once seen on the server)")
            assert seen == [True] and err.value.message == STOPPED
            assert time.monotonic() - started < 10
            assert wait_for(lambda: statements(s, shown) == 0, 5)
            assert s.rows("id") == []
        finally:
            if kind == "postgresql":
                s.run("DROP TABLE {t}", "DROP FUNCTION {t}_slow()")


def test_a_node_interrupted_before_its_query_starts_reads_nothing(db: Scratch) -> None:
    ctx = db.context()
    ctx.interrupts.interrupt()  # e.g. cancelled while connecting
    error, _ = run_until_error(db, ctx, "SELECT 1 AS one")
    assert error.message == STOPPED
