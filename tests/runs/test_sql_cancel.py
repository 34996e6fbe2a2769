"""Cancelling a run stops its SQL query where it runs (issue 14, S6 and item 6): a SQLite
recursive query no longer keeps a worker thread busy, and PostgreSQL no longer runs the
statement, within seconds of the cancel. In the embedded default, through the API."""
from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from django.test import override_settings

from datagran.runs.models import NodeRun
from tests.graphs import node
from tests.operators.sql_helpers import pg_running, pg_sleeper

pytestmark = pytest.mark.django_db(transaction=True)
SPIN = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) AS x FROM c"


def wait_until(condition: Callable[[], bool], seconds: float) -> float | None:
    """Seconds until ``condition`` held, or None if it did not within ``seconds``."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def start_query(api, kind: str, fields: dict, sql: str) -> str:
    connection = api.post("/api/connections/", {"name": "db", "kind": kind, "fields": fields},
                          format="json")
    assert connection.status_code == 201, connection.json()
    graph = {"nodes": [node("q", "connector.sql_query", connection=connection.json()["id"],
                            query=sql)], "edges": []}
    pipeline = api.post("/api/pipelines/", {"name": "spin", "graph": graph}, format="json")
    run_id = api.post(f"/api/pipelines/{pipeline.json()['id']}/runs/").json()["id"]
    assert wait_until(lambda: NodeRun.objects.get(run_id=run_id).status == "running", 30)
    return run_id


def cpu_busy() -> bool:
    """Whether this process (web and worker threads in the embedded default) used more than
    a fifth of a core over the last half second."""
    before = time.process_time()
    time.sleep(0.5)
    return time.process_time() - before > 0.1


@pytest.mark.slow  # burns a core on purpose
def test_cancel_stops_a_sqlite_query_spinning_in_a_worker_thread(api, worker,
                                                                 settings) -> None:
    with override_settings(DATAGRAN={**settings.DATAGRAN, "SQLITE_ROOT": "off"}):
        run_id = start_query(api, "sqlite", {"path": ":memory:"}, SPIN)
        assert cpu_busy()  # the query spins
        assert api.post(f"/api/runs/{run_id}/cancel/").status_code in (200, 202)
        idle_after = wait_until(lambda: not cpu_busy(), 30)
    print(f"sqlite: CPU idle {idle_after} s after cancel")
    assert idle_after is not None and idle_after < 10
    assert NodeRun.objects.get(run_id=run_id).status == "cancelled"


@pytest.mark.services
def test_cancel_stops_a_postgresql_query_on_the_server(api, worker, settings) -> None:
    sql, key = pg_sleeper(120)
    monitor = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                               poolclass=sa.pool.NullPool)
    with override_settings(DATAGRAN={**settings.DATAGRAN, "URL_ALLOWLIST": ["127.0.0.1"]}):
        run_id = start_query(api, "postgresql", {"database": "postgres", "user": "postgres"},
                             sql)
        assert wait_until(lambda: pg_running(monitor, key) == 1, 10) is not None
        assert api.post(f"/api/runs/{run_id}/cancel/").status_code in (200, 202)
        gone_after = wait_until(lambda: pg_running(monitor, key) == 0, 30)
    monitor.dispose()
    print(f"postgresql: query gone from the server {gone_after} s after cancel")
    assert gone_after is not None and gone_after < 10
    assert NodeRun.objects.get(run_id=run_id).status == "cancelled"
