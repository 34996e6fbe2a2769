"""Orchestration overhead per node, embedded default (SQLite, in-process Dramatiq worker).

A chain of 100 pass-through nodes (select the same columns) on a tiny table. Prints the run's
wall time minus the operators' own time, per node, and the hop from one node finishing to the
next starting (p50, p95), against the same 100 operator calls in a plain loop.
Target (issue 8): under 5 ms a node embedded."""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["DATAGRAN_DATA_DIR"] = tempfile.mkdtemp(prefix="datagran-bench-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datagran.settings")
os.environ.pop("BROKER_URL", None)

import django  # noqa: E402

django.setup()

import dramatiq  # noqa: E402
from django.core.management import call_command  # noqa: E402

N = 100


def chain() -> dict:
    nodes = [{"id": "n0", "operator": "connector.sample_dataset", "params": {"dataset": "iris"}}]
    edges = []
    for i in range(1, N):
        nodes.append({"id": f"n{i}", "operator": "transform.select_columns",
                      "params": {"columns": ["sepal_length", "target"]}})
        edges.append({"source": f"n{i-1}", "source_port": "table", "target": f"n{i}",
                      "target_port": "table"})
    return {"nodes": nodes, "edges": edges}


def plain_loop() -> float:
    from operators import LocalContext, get_operator

    ctx, t = LocalContext(), time.perf_counter()
    table = get_operator("connector.sample_dataset").run(
        ctx, get_operator("connector.sample_dataset").parse_params({"dataset": "iris"}))["table"]
    op = get_operator("transform.select_columns")
    params = op.parse_params({"columns": ["sepal_length", "target"]})
    for _ in range(1, N):
        table = op.run(ctx, params, table=table)["table"]
    return time.perf_counter() - t


def main() -> None:
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    from datagran.pipelines.services import pipeline_create
    from datagran.runs import tasks  # noqa: F401
    from datagran.runs.models import NodeRun, Run
    from datagran.runs.services import run_start
    from datagran.workspaces.services import workspace_personal

    user = get_user_model().objects.create_user("bench")
    pipeline = pipeline_create(workspace=workspace_personal(user=user), user=user,
                               name="chain", graph=chain())
    worker = dramatiq.Worker(dramatiq.get_broker(), worker_threads=4, worker_timeout=100)
    worker.start()
    results = []
    for attempt in range(4):  # the first is a warm-up
        t = time.perf_counter()
        run = run_start(pipeline=pipeline, user=user)
        while Run.objects.get(pk=run.pk).status not in ("succeeded", "failed"):
            time.sleep(0.005)
        wall = time.perf_counter() - t
        nodes = sorted(NodeRun.objects.filter(run=run), key=lambda n: int(n.node_id[1:]))
        own = sum((n.finished_at - n.started_at).total_seconds() for n in nodes)
        hops = [(b.started_at - a.finished_at).total_seconds() * 1000
                for a, b in zip(nodes, nodes[1:], strict=False)]
        if attempt:
            results.append((wall, own, hops))
    worker.stop()
    wall, own, hops = sorted(results, key=lambda r: r[0])[len(results) // 2]
    baseline = statistics.median(plain_loop() for _ in range(5))
    hops.sort()
    print(f"{N}-node chain, embedded default (SQLite, in-process worker, 4 threads)")
    print(f"  run wall time          {wall * 1000:8.1f} ms")
    print(f"  operators' own time    {own * 1000:8.1f} ms (each node: load, run, store Parquet)")
    print(f"  plain loop, same ops   {baseline * 1000:8.1f} ms")
    print(f"  overhead per node      {(wall - own) / N * 1000:8.2f} ms (target < 5 ms)")
    print(f"  per node vs plain loop {(wall - baseline) / N * 1000:8.2f} ms")
    print(f"  hop p50 / p95          {hops[len(hops) // 2]:8.2f} / "
          f"{hops[int(len(hops) * 0.95)]:.2f} ms")
    print(f"  ratio to plain loop    {wall / baseline:8.1f}x")


if __name__ == "__main__":
    main()
