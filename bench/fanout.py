"""Fan-out (issue 8): 1,000 pass-through nodes (select the same columns) under one source on
a tiny table, run by two `rundramatiq` worker processes of two threads, Redis and PostgreSQL.

Prints the run's time from its creation to its end against the 10 s target, nodes a second,
and the ratio to the same 1,000 operator calls in a plain loop, measured in the same process.
Median of three runs after a warm-up."""
from __future__ import annotations

import statistics
import sys

from graphs import pass_through, plain_pass_through
from production import Production, pct

N = 1000
RUNS = 3
TARGET = 10.0


def fan_out() -> dict:
    return pass_through(N, chain=False)


def plain_loop() -> float:
    return plain_pass_through(N, chain=False)


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "redis"
    baseline = statistics.median(plain_loop() for _ in range(3))
    walls, starts = [], []
    with Production(mode) as prod:
        pipeline = prod.pipeline("fan-out", fan_out())
        for attempt in range(RUNS + 1):  # the first is a warm-up
            wall, run_id = prod.run(pipeline, timeout=600)
            row = prod.db.execute("SELECT created_at FROM runs_run WHERE id = %s",
                                  [run_id]).fetchone()
            assert row is not None, f"run {run_id} is not in the database"
            created = row[0]
            children = [n for n in prod.nodes(run_id) if n.node_id != "n0"]
            if attempt:
                walls.append(wall)
                # How long after the run's creation the children started: the spread shows
                # whether the workers drained the fan-out steadily.
                starts.append(sorted((n.started - created).total_seconds() for n in children))
    wall = statistics.median(walls)
    middle = starts[walls.index(wall)] if wall in walls else starts[0]
    print(f"fan-out: 1 source and {N} pass-through nodes, {mode} + PostgreSQL, two worker "
          "processes of 2 threads")
    print(f"  run time (median of {RUNS})   {wall:8.2f} s (target < {TARGET:g} s; "
          f"{wall / TARGET:.2f} of it)   runs: {', '.join(f'{w:.2f}' for w in walls)}")
    print(f"  nodes a second            {N / wall:8.0f}")
    print(f"  children started by       p50 {pct(middle, 0.5):.2f} s, last {middle[-1]:.2f} s")
    print(f"  plain loop, same calls    {baseline * 1000:8.1f} ms")
    print(f"  ratio to plain loop       {wall / baseline:8.1f}x")


if __name__ == "__main__":
    main()
