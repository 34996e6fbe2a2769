"""Table nodes on Spark through the normal worker path: a `rundramatiq` worker whose
DATAGRAN_SPARK_MASTER is local[2] runs upload → filter → SQL transform → aggregate, and each
node's output equals the same pipeline's output on the default DuckDB engine (an embedded
server). Redis DBs 1 and 2 and a PostgreSQL database dg_h1_… are this test's own."""
from __future__ import annotations

import io
import json
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.graphs import edge, node
from tests.live.server import REDIS_URL, LiveServer, start_run

# Two servers, a JVM and a run on each: minutes on a two-core machine (265 s measured).
pytestmark = [pytest.mark.live, pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(900)]

NODES = ("filter", "sql", "aggregate")


class SparkServer(LiveServer):
    """A production server (daphne, PostgreSQL, Redis) whose workers run tables on Spark."""

    def _production_env(self) -> None:
        import redis

        # Created from the template database by LiveServer.start, as every live server's.
        self.database = f"dg_h1_live_{uuid.uuid4().hex[:10]}"
        for db in (1, 2):
            redis.Redis.from_url(f"{REDIS_URL}/{db}").flushdb()
        self.env.update({
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{self.database}",
            "BROKER_URL": f"{REDIS_URL}/1", "CHANNEL_LAYER_URL": f"{REDIS_URL}/2",
            "CACHE_URL": f"{REDIS_URL}/2", "dramatiq_worker_timeout": "100",
            "DATAGRAN_SPARK_MASTER": "local[2]"})


def orders_csv() -> bytes:
    rng = np.random.default_rng(7)
    n = 2_000
    frame = pd.DataFrame({
        "id": np.arange(n),
        "plan": rng.choice(["pro", "free", "enterprise", ""], n),
        "spend": np.where(rng.random(n) < 0.1, np.nan, rng.gamma(2.0, 30.0, n).round(2)),
        "visits": rng.integers(0, 20, n),
        "note": rng.choice(["it's", 'say "hi"', "naïve", "a,b"], n),
    })
    return frame.to_csv(index=False).encode()


def upload(server: LiveServer, content: bytes) -> str:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"orders.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode() + content + \
        f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(server.base_url + "/api/datasets/", data=body, headers={
        "Authorization": f"Token {server.token}",
        "Content-Type": f"multipart/form-data; boundary={boundary}"}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return str(json.loads(response.read())["id"])


def graph(dataset: str) -> dict[str, Any]:
    return {"nodes": [
        node("data", "connector.upload", dataset=dataset),
        node("filter", "transform.filter_rows", conditions=[
            {"column": "visits", "op": ">=", "value": 3},
            {"column": "plan", "op": "!=", "value": "free"}]),
        node("sql", "transform.sql", query=(
            "SELECT plan, spend * 2 AS double_spend, visits, note, "
            "CASE WHEN spend > 50 THEN 'big' ELSE 'small' END AS size "
            "FROM a WHERE spend IS NOT NULL OR note LIKE '%''%'")),
        node("aggregate", "transform.aggregate", group_by=["plan", "size"], aggregations=[
            {"column": "double_spend", "function": "sum"},
            {"column": "visits", "function": "mean"},
            {"column": "note", "function": "nunique"},
            {"column": "visits", "function": "count", "name": "rows"}])],
        "edges": [edge("data", "table", "filter", "table"), edge("filter", "table", "sql", "a"),
                  edge("sql", "table", "aggregate", "table")]}


def outputs(server: LiveServer, content: bytes) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    pipeline = server.api("POST", "/api/pipelines/", {"name": "Orders",
                                                      "graph": graph(upload(server, content))})
    run = start_run(server, pipeline["id"])
    assert run["status"] == "succeeded", json.dumps(run)[:3000]
    tables = {}
    for name in NODES:
        status, data = server.request(
            "GET", f"/api/runs/{run['id']}/nodes/{name}/output/?format=parquet")
        assert status == 200, data[:500]
        tables[name] = pd.read_parquet(io.BytesIO(data))
    return run, tables


@pytest.fixture(scope="module")
def on_duckdb() -> Iterator[tuple[dict[str, Any], dict[str, pd.DataFrame]]]:
    with LiveServer(mode="embedded") as server:
        yield outputs(server, orders_csv())


def logs_of(run: dict[str, Any], node_id: str) -> str:
    return "\n".join(next(n for n in run["nodes"] if n["node_id"] == node_id)["logs"])


def test_a_worker_on_spark_computes_what_duckdb_computes(on_duckdb: Any) -> None:
    reference_run, reference = on_duckdb
    with SparkServer(mode="redis", workers=1) as server:
        run, got = outputs(server, orders_csv())
        worker_log = server.log("worker0")
    for name in NODES:
        assert "Computed on Spark (local[2])" in logs_of(run, name), logs_of(run, name)
        assert "Computed on DuckDB" in logs_of(reference_run, name)
        expected = reference[name]
        actual = got[name]
        if name == "sql":  # no ORDER BY: the same rows, in any order
            key = list(expected.columns)
            expected = expected.sort_values(key).reset_index(drop=True)
            actual = actual.sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(actual, expected, check_exact=False, rtol=1e-9)
    assert len(got["aggregate"]) > 3 and got["aggregate"]["rows"].sum() == len(got["sql"])
    assert "Traceback" not in worker_log
