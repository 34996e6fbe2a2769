"""Orchestration overhead per node, embedded default (SQLite, in-process Dramatiq worker).

A chain of 100 pass-through nodes (select the same columns) on a tiny table. Prints the run's
wall time minus the operators' own time, per node, and the hop from one node finishing to the
next starting (p50, p95), against the same 100 operator calls in a plain loop.
Target (issue 8): under 5 ms a node embedded."""
from __future__ import annotations

import statistics
import time

from embedded import Embedded  # noqa: E402  (sets Django up)

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
    from datagran.runs.models import NodeRun

    bench = Embedded(threads=4)
    pipeline = bench.pipeline("chain", chain())
    results = []
    for attempt in range(4):  # the first is a warm-up
        wall, run = bench.run(pipeline)
        nodes = sorted(NodeRun.objects.filter(run=run), key=lambda n: int(n.node_id[1:]))
        own = sum((n.finished_at - n.started_at).total_seconds() for n in nodes)
        hops = [(b.started_at - a.finished_at).total_seconds() * 1000
                for a, b in zip(nodes, nodes[1:], strict=False)]
        if attempt:
            results.append((wall, own, hops))
    bench.stop()
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
