"""Orchestration overhead per node (issue 8): a chain of 100 pass-through nodes (select the
same columns) on a tiny table, in the embedded default (SQLite, in-process worker threads)
and in production mode (PostgreSQL, two `rundramatiq` worker processes of two threads, Redis
and then RabbitMQ as the broker).

Prints the run's wall time minus the nodes' own time (loading inputs, running the operator,
storing outputs, as each node logs it), per node; the hop from one node finishing to the next
starting as the database records them, and each node's whole orchestration (its hop in plus
its recorded time that was not its own), p50 and p95; and the ratio of the run to the same
100 operator calls in a plain loop, measured in the same process. A worker claims the
successor in the transaction that records its node's success, so the recorded hop is zero:
the orchestration figure is the one that shows what a node costs between operators.
Targets: under 5 ms a node embedded; hop p50 under 20 ms and p95 under 100 ms with Redis or
RabbitMQ. Medians of four runs after a warm-up."""
from __future__ import annotations

import statistics
import sys
import time

from embedded import Embedded  # noqa: E402  (sets Django up)
from graphs import pass_through, plain_pass_through
from production import NodeTiming, Production, chain_figures, median_figures

N = 100
RUNS = 4


def chain() -> dict:
    return pass_through(N - 1, chain=True)


def plain_loop() -> float:
    return plain_pass_through(N - 1, chain=True)


def embedded() -> dict[str, float]:
    from datagran.runs.lifecycle import run_start
    from datagran.runs.models import RUN_DONE, NodeRun, Run

    bench = Embedded(threads=4)
    pipeline = bench.pipeline("chain", chain())
    results = []
    for attempt in range(RUNS + 1):  # the first is a warm-up
        run = run_start(pipeline=pipeline, user=bench.user, force=True)
        while Run.objects.get(pk=run.pk).status not in RUN_DONE:
            time.sleep(0.02)  # a slow poll: the worker threads share this process
        run = Run.objects.get(pk=run.pk)
        if run.status != "succeeded":
            raise SystemExit(f"the benchmark run failed: {run.error}")
        nodes = sorted((NodeTiming.of(n.node_id, n.started_at, n.finished_at, n.logs)
                        for n in NodeRun.objects.filter(run=run)),
                       key=lambda n: int(n.node_id[1:]))
        if attempt:
            results.append(chain_figures(nodes, (run.finished_at - run.created_at)
                                         .total_seconds()))
    bench.stop()
    return median_figures(results)


def production(mode: str) -> dict[str, float]:
    with Production(mode) as prod:
        pipeline = prod.pipeline("chain", chain())
        results = []
        for attempt in range(RUNS + 1):
            wall, run_id = prod.run(pipeline)
            nodes = sorted(prod.nodes(run_id), key=lambda n: int(n.node_id[1:]))
            if attempt:
                results.append(chain_figures(nodes, wall))
    return median_figures(results)


def report(title: str, f: dict[str, float], baseline: float, target: str) -> None:
    print(title)
    print(f"  run wall time           {f['wall'] * 1000:8.1f} ms")
    print(f"  nodes' own time         {f['own'] * 1000:8.1f} ms (load inputs, run, store)")
    print(f"  overhead per node       {f['per_node']:8.2f} ms ({target})")
    print(f"  hop p50 / p95           {f['hop50']:8.2f} / {f['hop95']:.2f} ms")
    print(f"  orchestration p50 / p95 {f['orch50']:8.2f} / {f['orch95']:.2f} ms a node")
    print(f"  per node vs plain loop  {(f['wall'] - baseline) / N * 1000:8.2f} ms")
    print(f"  ratio to plain loop     {f['wall'] / baseline:8.1f}x", flush=True)


def main() -> None:
    modes = sys.argv[1:] or ["embedded", "redis", "rabbitmq"]
    baseline = statistics.median(plain_loop() for _ in range(5))
    print(f"{N}-node chain; the same {N} operator calls in a plain loop: "
          f"{baseline * 1000:.1f} ms")
    for mode in modes:
        if mode == "embedded":
            report("embedded default (SQLite, in-process worker, 4 threads)", embedded(),
                   baseline, "target < 5 ms")
        else:
            report(f"{mode} + PostgreSQL, two worker processes of 2 threads",
                   production(mode), baseline, "hop target: p50 < 20 ms, p95 < 100 ms")


if __name__ == "__main__":
    main()
