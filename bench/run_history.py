"""Run history at scale (issue 5): 100,000 runs and 1,000,000 node runs in PostgreSQL.

Prints the time of the runs list (first page, a filtered page), the stats endpoint for the
workspace and for one pipeline, each through the real API view (auth, serialisation), against
a bare `SELECT count(*)` on the run table in the same run. Target: each under 200 ms."""
from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB = "datagran_bench_history"
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{DB}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datagran.settings")
RUNS, NODES_PER_RUN = 100_000, 10


def fresh_database() -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")


def generate(workspace_id: uuid.UUID, pipelines: list, user_id: int) -> None:
    """Runs spread over 90 days with a mix of statuses, each with ten node runs."""
    from django.db import connection

    pipeline_ids = [str(p.pk) for p in pipelines]
    versions = [p.current_version_id for p in pipelines]
    with connection.cursor() as cur:
        cur.execute("""
            INSERT INTO runs_run (id, workspace_id, pipeline_id, version_id, status, trigger,
                created_by_id, created_at, started_at, finished_at, error, seq, duration_ms,
                rows_processed)
            SELECT md5(g::text)::uuid, %s, (%s::uuid[])[1 + g %% 4], (%s::int[])[1 + g %% 4],
                (ARRAY['succeeded','succeeded','succeeded','failed','succeeded','cancelled',
                       'succeeded','succeeded','succeeded','succeeded'])[1 + g %% 10],
                (ARRAY['manual','api','schedule','webhook'])[1 + (g / 7) %% 4], %s,
                now() - (g || ' minutes')::interval * 1.3,
                now() - (g || ' minutes')::interval * 1.3,
                now() - (g || ' minutes')::interval * 1.3 + interval '2 seconds',
                '', 20, 500 + (g * 7919) %% 20000, (g * 31) %% 100000
            FROM generate_series(1, %s) g
        """, [workspace_id, pipeline_ids, versions, user_id, RUNS])
        cur.execute("""
            INSERT INTO runs_noderun (run_id, node_id, operator, status, attempts, started_at,
                finished_at, duration_ms, rows_out, cached, error, error_field, traceback, logs,
                outputs, files)
            SELECT r.id, 'n' || k, 'transform.select_columns', 'succeeded', 1, r.started_at,
                r.finished_at, 10 * k, 1000, false, '', '', '', '[]', '{}', '[]'
            FROM runs_run r CROSS JOIN generate_series(1, %s) k
        """, [NODES_PER_RUN])
        cur.execute("ANALYZE")


def timed(fn: Callable[[], object], repeat: int = 7) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


def main() -> None:
    fresh_database()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    from datagran.pipelines.services import pipeline_create
    from datagran.workspaces.services import workspace_personal

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench")
    workspace = workspace_personal(user=user)
    graph = {"nodes": [{"id": "a", "operator": "connector.sample_dataset"}], "edges": []}
    pipelines = [pipeline_create(workspace=workspace, user=user, name=f"P{i}", graph=graph)
                 for i in range(4)]
    t = time.perf_counter()
    generate(workspace.pk, pipelines, user.pk)
    print(f"generated {RUNS:,} runs and {RUNS * NODES_PER_RUN:,} node runs "
          f"in {time.perf_counter() - t:.1f} s")

    client = APIClient()
    client.force_authenticate(user)

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]

    def count() -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM runs_run")
            cur.fetchone()

    base = timed(count)
    p = pipelines[1].pk
    rows = [
        ("runs list, first page (50)", "/api/runs/"),
        ("runs list, filtered: failed runs of one pipeline",
         f"/api/runs/?pipeline={p}&status=failed"),
        ("runs list, slowest first", "/api/runs/?ordering=-duration_ms"),
        ("stats, workspace, 30 days", "/api/runs/stats/?days=30"),
        ("stats, one pipeline, 90 days", f"/api/runs/stats/?pipeline={p}&days=90"),
    ]
    print(f"{'SELECT count(*) FROM runs_run':52s} {base:8.1f} ms   (baseline)")
    for label, url in rows:
        ms = timed(partial(get, url))
        flag = "ok" if ms < 200 else "OVER 200 ms"
        print(f"{label:52s} {ms:8.1f} ms   {ms / base:6.1f}x baseline   {flag}")
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        connection.close()
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
