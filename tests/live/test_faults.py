"""Production mode, broken on purpose, against real servers on loopback: PostgreSQL, Redis or
RabbitMQ, two `rundramatiq` worker processes under a supervisor, and `manage.py scheduler`.

Heartbeats are tuned short here (0.5 s, timeout 3 s) so the reaper decides within seconds."""
from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.graphs import edge, node
from tests.live.server import LiveServer
from tests.operators.fake_crm import fake_crm

pytestmark = pytest.mark.services

FAST_FAULTS = {"DATAGRAN_HEARTBEAT_SECONDS": "0.5", "DATAGRAN_HEARTBEAT_TIMEOUT_SECONDS": "3",
               "DATAGRAN_RESEND_QUEUED_AFTER_SECONDS": "4",
               "DATAGRAN_URL_ALLOWLIST": "127.0.0.1"}
DONE = ("succeeded", "failed", "cancelled")


@pytest.fixture(scope="module", params=["redis", "rabbitmq"])
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with LiveServer(mode=request.param, schedulers=1, extra_env=FAST_FAULTS) as live:
        yield live


def pipeline(server: LiveServer, graph: dict, name: str = "") -> dict:
    return server.api("POST", "/api/pipelines/", {"name": name or uuid.uuid4().hex[:8],
                                                  "graph": graph})


def start(server: LiveServer, pipeline_id: str) -> str:
    return server.api("POST", f"/api/pipelines/{pipeline_id}/runs/", {"force": True})["id"]


def wait(server: LiveServer, run_id: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = server.api("GET", f"/api/runs/{run_id}/")
        if run["status"] in DONE:
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} still {run['status']}: {run['nodes']}")


def wait_for_file(path: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def slow_graph(marker: Path, seconds: float = 3) -> dict:
    return {"nodes": [node("data", "connector.sample_dataset", dataset="iris"),
                      node("slow", "test.slow", seconds=seconds, marker=str(marker)),
                      node("cols", "transform.select_columns", columns=["target"])],
            "edges": [edge("data", "table", "slow", "table"),
                      edge("slow", "table", "cols", "table")]}


def test_a_worker_killed_mid_node_runs_the_node_again_elsewhere(server: LiveServer,
                                                                tmp_path: Path) -> None:
    marker = tmp_path / "started"
    p = pipeline(server, slow_graph(marker))
    run_id = start(server, p["id"])
    os.kill(int(wait_for_file(marker)), signal.SIGKILL)  # the process running the node
    run = wait(server, run_id)
    slow = next(n for n in run["nodes"] if n["node_id"] == "slow")
    assert run["status"] == "succeeded", run
    assert slow["attempts"] == 2 and any("stopped" in line for line in slow["logs"])
    # Its first attempt ran on the worker that ran "data", which claimed it as it recorded
    # data's success (queued and started at once, no broker message): still at least once.
    with psycopg.connect(server.env["DATABASE_URL"], autocommit=True) as conn:
        first = conn.execute(
            "SELECT payload FROM runs_runevent WHERE run_id = %s AND type = 'node' AND "
            "payload->'node'->>'node_id' = 'slow' AND payload->'node'->>'status' = 'running' "
            "ORDER BY seq LIMIT 1", [run_id]).fetchone()[0]["node"]
    assert first["attempts"] == 1 and first["queued_at"] == first["started_at"]


def test_a_node_that_kills_its_worker_every_time_fails_as_a_worker_crash(
        server: LiveServer) -> None:
    graph = {"nodes": [node("data", "connector.sample_dataset"), node("boom", "test.crash")],
             "edges": [edge("data", "table", "boom", "table")]}
    run = wait(server, start(server, pipeline(server, graph)["id"]), timeout=120)
    boom = next(n for n in run["nodes"] if n["node_id"] == "boom")
    assert run["status"] == "failed"
    assert boom["attempts"] == 3 and boom["error"].startswith("Worker crashed")
    assert server.restarts >= 3  # the supervisor brought each killed worker back


def test_cancel_stops_a_running_node_promptly_and_nothing_further_runs(
        server: LiveServer, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    run_id = start(server, pipeline(server, slow_graph(marker, seconds=60))["id"])
    wait_for_file(marker)
    server.api("POST", f"/api/runs/{run_id}/cancel/")
    t = time.monotonic()
    # A worker thread is free again well before the 60 s node would have ended.
    follow_up = start(server, pipeline(server, slow_graph(tmp_path / "x", seconds=0))["id"])
    assert wait(server, follow_up, timeout=30)["status"] == "succeeded"
    assert time.monotonic() - t < 30
    nodes = {n["node_id"]: n["status"] for n in server.api("GET", f"/api/runs/{run_id}/")["nodes"]}
    assert nodes == {"data": "succeeded", "slow": "cancelled", "cols": "cancelled"}


def test_fifty_concurrent_branching_runs_all_finish_without_loss_or_double_sends(
        server: LiveServer) -> None:
    with fake_crm() as crm:
        hook = server.api("POST", "/api/connections/", {
            "name": f"hook-{uuid.uuid4().hex[:6]}", "kind": "webhook",
            "fields": {"url": f"{crm.url}/hooks/runs", "secret": crm.webhook_secret}})
        graph = {"nodes": [
            node("data", "connector.sample_dataset", dataset="customers"),
            node("basic", "transform.filter_rows",
                 conditions=[{"column": "plan", "op": "==", "value": "basic"}]),
            node("other", "transform.filter_rows",
                 conditions=[{"column": "plan", "op": "!=", "value": "basic"}]),
            node("few", "transform.sort_limit",
                 order_by=[{"column": "customer_id", "descending": False}], limit=10),
            node("send", "action.webhook", connection=hook["id"], key_column="email",
                 columns=["email", "plan"])],
            "edges": [edge("data", "table", "basic", "table"),
                      edge("data", "table", "other", "table"),
                      edge("basic", "table", "few", "table"),
                      edge("few", "table", "send", "table")]}
        p = pipeline(server, graph)
        runs = [start(server, p["id"]) for _ in range(50)]
        finished = [wait(server, r, timeout=300) for r in runs]
    errors = [(n["node_id"], n["error"]) for r in finished for n in r["nodes"] if n["error"]]
    assert [r["status"] for r in finished] == ["succeeded"] * 50, errors[:5]
    assert all(len(r["nodes"]) == 5 for r in finished)
    assert all(n["attempts"] == 1 for r in finished for n in r["nodes"])
    keys = [r["key"] for r in crm.received["webhook"]]
    assert len(keys) == 10 and len(set(keys)) == 10  # sent once, in whichever run came first


@pytest.fixture(scope="module")
def redis_server() -> Iterator[LiveServer]:
    with LiveServer(mode="redis", schedulers=2, extra_env=FAST_FAULTS) as live:
        yield live


def test_two_schedulers_fire_each_occurrence_exactly_once(redis_server: LiveServer) -> None:
    server = redis_server
    p = pipeline(server, {"nodes": [node("a", "connector.sample_dataset")], "edges": []})
    schedule = server.api("POST", f"/api/pipelines/{p['id']}/schedules/",
                          {"cron": "* * * * *"})
    with psycopg.connect(server.env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("UPDATE schedules_schedule SET next_fire_at = now() + interval '1 second'"
                     " WHERE id = %s", [schedule["id"]])
        time.sleep(6)
        # The window may also take in the next minute's occurrence: each fires once.
        fires = conn.execute("SELECT fire_time, count(*) FROM schedules_schedulefire WHERE "
                             "schedule_id = %s GROUP BY fire_time", [schedule["id"]]).fetchall()
        runs = conn.execute("SELECT count(*) FROM runs_run WHERE pipeline_id = %s AND "
                            "trigger = 'schedule'", [p["id"]]).fetchone()[0]
    assert fires and all(count == 1 for _, count in fires), fires
    assert runs == len(fires)


def restart_redis() -> None:
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"], check=False,
                   capture_output=True)
    subprocess.run("mkdir -p /var/lib/redis /var/log/redis && redis-server --daemonize yes "
                   "--bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no "
                   "--dir /var/lib/redis --logfile /var/log/redis/ci.log", shell=True,
                   check=True, capture_output=True)
    deadline = time.monotonic() + 20
    while subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True,
                         text=True).stdout.strip() != "PONG":
        assert time.monotonic() < deadline, "redis did not come back"
        time.sleep(0.2)


def test_work_queued_when_the_broker_restarts_still_runs(redis_server: LiveServer) -> None:
    server = redis_server
    for proc in server.worker_procs.values():  # no worker takes anything for now
        os.killpg(proc.pid, signal.SIGSTOP)
    try:
        graph = {"nodes": [node("a", "connector.sample_dataset"),
                           node("b", "transform.sample", n=3)],
                 "edges": [edge("a", "table", "b", "table")]}
        run_id = start(server, pipeline(server, graph)["id"])
        restart_redis()  # Redis keeps nothing on disk: the queued message is gone
    finally:
        for proc in server.worker_procs.values():
            os.killpg(proc.pid, signal.SIGCONT)
    run = wait(server, run_id, timeout=90)
    assert run["status"] == "succeeded"
