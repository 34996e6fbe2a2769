"""What the production-mode benchmarks share: the live test server (daphne and two
`manage.py rundramatiq` worker processes of two threads each, under a supervisor) against real
Redis or RabbitMQ and PostgreSQL on loopback; pipelines saved and runs started over its HTTP
API, timings read from PostgreSQL. Also the figures of a run's node timings, which the
embedded benchmarks share."""
from __future__ import annotations

import re
import signal
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live.server import PG_ADMIN_URL, RABBITMQ_URL, REDIS_URL, LiveServer  # noqa: E402

DONE = ("succeeded", "failed", "cancelled")
# The node's own time, as the worker logs it: load inputs, run the operator, store outputs.
FINISHED = re.compile(r"Finished in ([0-9.]+) s\.")


@dataclass
class NodeTiming:
    node_id: str
    started: datetime
    finished: datetime
    own: float  # seconds in the operator, its inputs' loading and its outputs' storing

    @classmethod
    def of(cls, node_id: str, started: datetime, finished: datetime,
           logs: list[str]) -> NodeTiming:
        own = next((float(m.group(1)) for line in logs if (m := FINISHED.search(line))), 0.0)
        return cls(node_id, started, finished, own)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def chain_figures(nodes: list[NodeTiming], wall: float) -> dict[str, float]:
    """Figures of a chain run, nodes in chain order. A hop is from a node's finish to its
    successor's start as the database records them; a node's orchestration is its hop in plus
    its recorded time that was not its own (claiming, loading the graph, recording success)."""
    own = sum(n.own for n in nodes)
    hops = [(b.started - a.finished).total_seconds() * 1000
            for a, b in zip(nodes, nodes[1:], strict=False)]
    orchestration = [
        ((n.finished - n.started).total_seconds() - n.own) * 1000 + hop
        for n, hop in zip(nodes[1:], hops, strict=True)]
    return {"wall": wall, "own": own, "per_node": (wall - own) / len(nodes) * 1000,
            "hop50": pct(hops, 0.5), "hop95": pct(hops, 0.95),
            "orch50": pct(orchestration, 0.5), "orch95": pct(orchestration, 0.95)}


def median_figures(results: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


class BenchServer(LiveServer):
    """The live test server on Redis databases of its own (13, 14), so a benchmark neither
    takes nor flushes the messages of live tests running at the same time (11, 12)."""

    def _production_env(self) -> None:
        import psycopg
        import redis

        self.database = f"datagran_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        for db in (13, 14):
            redis.Redis.from_url(f"{REDIS_URL}/{db}").flushdb()
        self.env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{self.database}"
        self.env["CHANNEL_LAYER_URL"] = f"{REDIS_URL}/14"
        self.env["BROKER_URL"] = f"{REDIS_URL}/13" if self.mode == "redis" else RABBITMQ_URL
        self.env["dramatiq_worker_timeout"] = "100"  # as `make worker` sets it (LIMITS.md)


class Production:
    """A production server for benchmarks; `with Production("redis") as prod: ...`."""

    def __init__(self, mode: str = "redis", workers: int = 2,
                 env: dict[str, str] | None = None) -> None:
        self.mode = mode
        self.server = BenchServer(mode=mode, workers=workers, extra_env=env or {})

    def __enter__(self) -> Production:
        import psycopg

        # A benchmark stopped with SIGTERM (a timeout) still stops its servers on the way out.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        self.server.start()
        self.db = psycopg.connect(self.server.env["DATABASE_URL"], autocommit=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()
        self.server.stop()

    def pipeline(self, name: str, graph: dict[str, Any]) -> str:
        return self.server.api("POST", "/api/pipelines/", {"name": name, "graph": graph})["id"]

    def start(self, pipeline_id: str) -> str:
        return self.server.api("POST", f"/api/pipelines/{pipeline_id}/runs/",
                               {"force": True})["id"]

    def wait(self, run_ids: list[str], timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.db.execute("SELECT status, error FROM runs_run WHERE id = ANY(%s)",
                                   [run_ids]).fetchall()
            if all(status in DONE for status, _ in rows):
                failed = [error for status, error in rows if status != "succeeded"]
                if failed:
                    raise SystemExit(f"a benchmark run did not succeed: {failed[0]}")
                return
            time.sleep(0.02)
        raise SystemExit(f"runs still going after {timeout} s")

    def span(self, run_ids: list[str]) -> float:
        """Seconds from the first run's creation to the last one's end, server clocks."""
        row = self.db.execute(
            "SELECT min(created_at), max(finished_at) FROM runs_run WHERE id = ANY(%s)",
            [run_ids]).fetchone()
        assert row is not None  # an aggregate always has its row
        first, last = row
        return (last - first).total_seconds()

    def run(self, pipeline_id: str, timeout: float = 300) -> tuple[float, str]:
        """Start a run and wait for it: (seconds from its creation to its end, run id)."""
        run_id = self.start(pipeline_id)
        self.wait([run_id], timeout)
        return self.span([run_id]), run_id

    def nodes(self, run_id: str) -> list[NodeTiming]:
        rows = self.db.execute("SELECT node_id, started_at, finished_at, logs FROM "
                               "runs_noderun WHERE run_id = %s", [run_id]).fetchall()
        return [NodeTiming.of(*row) for row in rows]
