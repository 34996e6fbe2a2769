"""Runs per minute (issue 8): many small pipelines (20 pipelines of 4 nodes: a sample table,
filter rows, select columns, sort and limit), 100 runs started over the HTTP API as fast as
one client sends them, run by two `rundramatiq` worker processes of two threads, Redis and
PostgreSQL.

Prints runs a minute from the first run's creation to the last one's end, against the same
pipelines' operator calls in a plain loop (runs a minute of the bare computation), measured in
the same process. Median of three rounds after a warm-up."""
from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from production import Production

PIPELINES = 20
RUNS = 100
ROUNDS = 3


def small(i: int) -> dict:
    threshold = 4.5 + i * 0.05  # a different pipeline each, the same shape
    nodes = [
        {"id": "data", "operator": "connector.sample_dataset", "params": {"dataset": "iris"}},
        {"id": "filter", "operator": "transform.filter_rows", "params": {"conditions": [
            {"column": "sepal_length", "op": ">", "value": threshold}]}},
        {"id": "select", "operator": "transform.select_columns",
         "params": {"columns": ["sepal_length", "petal_length", "target"]}},
        {"id": "top", "operator": "transform.sort_limit",
         "params": {"order_by": [{"column": "petal_length", "descending": True}],
                    "limit": 10}},
    ]
    order = [n["id"] for n in nodes]
    edges = [{"source": a, "source_port": "table", "target": b, "target_port": "table"}
             for a, b in zip(order, order[1:], strict=False)]
    return {"nodes": nodes, "edges": edges}


def plain_loop() -> float:
    """Runs a minute of the same operator calls, without any orchestration."""
    from operators import LocalContext, get_operator

    ctx = LocalContext()
    graphs = [small(i) for i in range(PIPELINES)]
    ops = {n["operator"]: get_operator(n["operator"]) for n in graphs[0]["nodes"]}
    t = time.perf_counter()
    for r in range(RUNS):
        table: Any = None
        for spec in graphs[r % PIPELINES]["nodes"]:
            op = ops[spec["operator"]]
            params = op.parse_params(spec["params"])
            inputs: dict[str, Any] = {} if table is None else {"table": table}
            table = op.run(ctx, params, **inputs)["table"]
    return RUNS / (time.perf_counter() - t) * 60


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "redis"
    baseline = statistics.median(plain_loop() for _ in range(3))
    rates, sending = [], []
    with Production(mode) as prod:
        pipelines = [prod.pipeline(f"small-{i}", small(i)) for i in range(PIPELINES)]
        for attempt in range(ROUNDS + 1):  # the first is a warm-up
            count = RUNS if attempt else PIPELINES
            t = time.perf_counter()
            runs = [prod.start(pipelines[r % PIPELINES]) for r in range(count)]
            sent = time.perf_counter() - t
            prod.wait(runs, timeout=600)
            if attempt:
                rates.append(count / prod.span(runs) * 60)
                sending.append(sent)
    rate = statistics.median(rates)
    print(f"throughput: {RUNS} runs of {PIPELINES} 4-node pipelines, {mode} + PostgreSQL, two "
          "worker processes of 2 threads")
    print(f"  runs a minute (median of {ROUNDS}) {rate:8.0f}   rounds: "
          f"{', '.join(f'{r:.0f}' for r in rates)}")
    print(f"  sending the {RUNS} starts took  {statistics.median(sending):8.2f} s (one client, "
          "one request at a time)")
    print(f"  plain loop, same calls       {baseline:8.0f} runs a minute")
    print(f"  ratio plain loop / runs      {baseline / rate:8.1f}x")


if __name__ == "__main__":
    main()
