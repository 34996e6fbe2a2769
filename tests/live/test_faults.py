"""Production mode, broken on purpose, against real servers on loopback: PostgreSQL, Redis or
RabbitMQ, two `rundramatiq` worker processes under a supervisor, and `manage.py scheduler`.

Heartbeats are tuned short here (0.5 s, timeout 3 s) so the reaper decides within seconds."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from tests.graphs import edge, node
from tests.live.server import LiveServer
from tests.operators.fake_crm import fake_crm
from tests.operators.local_http import JsonHandler, serve
from tests.proxy import TcpProxy

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
            "ORDER BY seq LIMIT 1", [run_id]).fetchone()[0]["node"]  # type: ignore[index]
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
    """The broker (Redis DB 11) is reached through a proxy, so a test can take it away
    without touching the shared Redis server."""
    with TcpProxy(6379) as proxy, LiveServer(mode="redis", schedulers=2, extra_env={
            **FAST_FAULTS, "BROKER_URL": f"redis://127.0.0.1:{proxy.port}/11"}) as live:
        live.broker_proxy = proxy  # type: ignore[attr-defined]
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
                            "trigger = 'schedule'", [p["id"]]).fetchone()[0]  # type: ignore[index]
    assert fires and all(count == 1 for _, count in fires), fires
    assert runs == len(fires)


def restart_broker(proxy: TcpProxy) -> None:
    """A broker restart that keeps nothing on disk: every connection to it drops and the
    queued messages are gone (the broker's database emptied while the proxy is down)."""
    proxy.stop()
    redis.Redis(host="127.0.0.1", port=6379, db=11).flushdb()
    time.sleep(1)
    proxy.resume()


def test_work_queued_when_the_broker_restarts_still_runs(redis_server: LiveServer) -> None:
    server = redis_server
    for proc in server.worker_procs.values():  # no worker takes anything for now
        os.killpg(proc.pid, signal.SIGSTOP)
    try:
        graph = {"nodes": [node("a", "connector.sample_dataset"),
                           node("b", "transform.sample", n=3)],
                 "edges": [edge("a", "table", "b", "table")]}
        run_id = start(server, pipeline(server, graph)["id"])
        restart_broker(server.broker_proxy)  # type: ignore[attr-defined]  # set by the fixture
    finally:
        for proc in server.worker_procs.values():
            os.killpg(proc.pid, signal.SIGCONT)
    run = wait(server, run_id, timeout=90)
    assert run["status"] == "succeeded"


# --- one attempt at a time, each record sent once, stops that stop ---------------------------
# The workers reach PostgreSQL through a TCP proxy the test can cut; the web server and the
# scheduler (the reaper) reach it directly. Redis DB 3 is this group's broker.

class Receiver:
    """A webhook receiver on loopback that keeps every request's Idempotency-Key and record
    keys; ``block_at`` holds that request (after counting it) until ``release`` is set."""

    def __init__(self, delay: float = 0.0, block_at: int = 0) -> None:
        self.delay, self.block_at = delay, block_at
        self.requests: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()
        self.blocked, self.release = threading.Event(), threading.Event()

    def handler(self) -> type[JsonHandler]:
        receiver = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                records = json.loads(self.body())["records"]
                with receiver.lock:
                    receiver.requests.append((self.headers["Idempotency-Key"],
                                              [r["key"] for r in records]))
                    n = len(receiver.requests)
                if n == receiver.block_at:
                    receiver.blocked.set()
                    receiver.release.wait(30)
                time.sleep(receiver.delay)
                self.reply(200, {"received": len(records)})

        return Handler

    def deliveries(self) -> Counter[str]:
        return Counter(key for _, keys in self.requests for key in keys)


class Proxies:
    """One proxy per worker, so a test can cut all of them or the path of one worker."""

    def __init__(self, proxies: list[TcpProxy]) -> None:
        self.each = proxies

    def drop(self) -> None:
        for proxy in self.each:
            proxy.drop()

    def freeze(self) -> None:
        for proxy in self.each:
            proxy.freeze()

    def resume(self) -> None:
        for proxy in self.each:
            proxy.resume()


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[LiveServer, Proxies]]:
    redis.Redis.from_url("redis://127.0.0.1:6379/3").flushdb()
    env = {**FAST_FAULTS, "BROKER_URL": "redis://127.0.0.1:6379/3"}
    with TcpProxy(5432) as p0, TcpProxy(5432) as p1, LiveServer(
            mode="redis", workers=0, schedulers=1, extra_env=env) as live:
        direct = live.env["DATABASE_URL"]
        start_worker = live.start_worker

        def through_its_proxy(i: int) -> None:  # the supervisor's restarts too
            port = (p0, p1)[i].port
            live.env["DATABASE_URL"] = direct.replace("127.0.0.1:5432/", f"127.0.0.1:{port}/")
            start_worker(i)

        live.start_worker = through_its_proxy  # type: ignore[method-assign]
        for i in range(2):
            live.start_worker(i)
        yield live, Proxies([p0, p1])


def webhook_graph(server: LiveServer, url: str, rows: int = 500) -> dict:
    hook = server.api("POST", "/api/connections/", {
        "name": f"hook-{uuid.uuid4().hex[:6]}", "kind": "webhook",
        "fields": {"url": url, "secret": "s"}})
    return {"nodes": [
        node("data", "connector.sample_dataset", dataset="customers"),
        node("few", "transform.sort_limit",
             order_by=[{"column": "customer_id", "descending": False}], limit=rows),
        node("send", "action.webhook", connection=hook["id"], key_column="customer_id",
             columns=["customer_id", "plan"], batch_size=5)],
        "edges": [edge("data", "table", "few", "table"), edge("few", "table", "send", "table")]}


def node_of(run: dict, node_id: str) -> dict:
    return next(n for n in run["nodes"] if n["node_id"] == node_id)


def test_dropping_the_workers_database_connections_mid_send_delivers_each_record_once(
        proxied: tuple[LiveServer, Proxies]) -> None:
    server, proxy = proxied
    receiver = Receiver(delay=0.02)
    with serve(receiver.handler()) as url:
        run_id = start(server, pipeline(server, webhook_graph(server, f"{url}/hook"))["id"])
        deadline = time.monotonic() + 60
        while len(receiver.requests) < 3:
            assert time.monotonic() < deadline, "the webhook was never called"
            time.sleep(0.02)
        drops = 0
        while server.api("GET", f"/api/runs/{run_id}/")["status"] not in DONE and drops < 40:
            proxy.drop()  # every worker connection, the heartbeat's included
            drops += 1
            time.sleep(0.3)
        run = wait(server, run_id)
    twice = [k for k, n in receiver.deliveries().items() if n > 1]
    print(f"{drops} connection drops during the send: {len(receiver.requests)} requests, "
          f"{len(receiver.deliveries())} records received, {len(twice)} delivered twice")
    assert run["status"] == "succeeded", node_of(run, "send")
    assert drops >= 3
    assert len(receiver.deliveries()) == 500 and twice == []
    # The heartbeat outlived the drops: the reaper never handed the node to another worker.
    assert node_of(run, "send")["attempts"] == 1


def test_a_worker_killed_mid_batch_sends_only_that_batch_again_with_the_same_key(
        proxied: tuple[LiveServer, Proxies]) -> None:
    server, _ = proxied
    receiver = Receiver(block_at=4)
    with serve(receiver.handler()) as url:
        run_id = start(server, pipeline(server, webhook_graph(server, f"{url}/hook",
                                                              rows=40))["id"])
        assert receiver.blocked.wait(60), "the fourth batch never arrived"
        for proc in list(server.worker_procs.values()):  # whichever was sending
            os.killpg(proc.pid, signal.SIGKILL)
        receiver.release.set()
        run = wait(server, run_id, timeout=120)
        preview = server.api("GET", f"/api/runs/{run_id}/nodes/send/preview/"
                                    "?port=results&limit=100")
    counts = receiver.deliveries()
    twice = sorted(k for k, n in counts.items() if n > 1)
    fourth_key, fourth = receiver.requests[3]
    print(f"SIGKILL mid-batch: {len(receiver.requests)} requests, {len(twice)} records "
          "delivered twice")
    assert run["status"] == "succeeded", node_of(run, "send")
    assert len(counts) == 40
    assert twice == sorted(fourth)  # that one batch, no other
    assert [key for key, keys in receiver.requests if keys == fourth] == [fourth_key] * 2
    names = [c["name"] for c in preview["columns"]]
    rows = [dict(zip(names, row, strict=True)) for row in preview["rows"]]
    flagged = sorted(r["record_key"] for r in rows
                     if r["reason"].startswith("Possibly delivered twice"))
    assert flagged == sorted(fourth)


def test_a_blip_while_recording_a_result_keeps_the_finished_work(
        proxied: tuple[LiveServer, Proxies], tmp_path: Path) -> None:
    server, proxy = proxied
    marker = tmp_path / "started"
    run_id = start(server, pipeline(server, slow_graph(marker, seconds=2))["id"])
    wait_for_file(marker)
    time.sleep(1.5)
    proxy.freeze()  # the node finishes while its worker cannot reach the database
    time.sleep(1.2)
    proxy.drop()  # then the connection dies under the recording
    proxy.resume()
    run = wait(server, run_id)
    assert run["status"] == "succeeded"
    assert node_of(run, "slow")["attempts"] == 1  # recorded, not recomputed


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_cancel_stops_native_work_and_the_worker_goes_idle(
        proxied: tuple[LiveServer, Proxies], tmp_path: Path) -> None:
    server, _ = proxied
    marker = tmp_path / "spinning"
    graph = {"nodes": [node("data", "connector.sample_dataset"),
                       node("spin", "test.duckdb_spin", marker=str(marker))],
             "edges": [edge("data", "table", "spin", "table")]}
    run_id = start(server, pipeline(server, graph)["id"])
    pid = int(wait_for_file(marker))
    time.sleep(1.0)
    busy_from = cpu_seconds(pid)
    time.sleep(1.0)
    busy = cpu_seconds(pid) - busy_from
    server.api("POST", f"/api/runs/{run_id}/cancel/")
    cancelled = time.monotonic()
    idle_after = None
    samples = [(cancelled, cpu_seconds(pid))]
    while time.monotonic() - cancelled < 15:
        time.sleep(0.25)
        samples.append((time.monotonic(), cpu_seconds(pid)))
        window = [s for s in samples if s[0] >= samples[-1][0] - 1.0]
        if samples[-1][0] - window[0][0] >= 0.7 and window[-1][1] - window[0][1] < 0.1:
            # under a tenth of a core over the last second: the spin stopped at its start
            idle_after = window[0][0] - cancelled
            break
    print(f"CPU while spinning: {busy:.2f} s per s; idle {idle_after} s after cancel")
    assert busy > 0.2  # it really was spinning in DuckDB (on a machine shared with others)
    assert idle_after is not None and idle_after < 10
    run = server.api("GET", f"/api/runs/{run_id}/")
    assert node_of(run, "spin")["status"] == "cancelled"


def test_sigterm_finishes_the_running_node_and_hands_the_rest_to_another_worker(
        proxied: tuple[LiveServer, Proxies], tmp_path: Path) -> None:
    server, _ = proxied
    markers = [tmp_path / f"m{i}" for i in range(3)]
    graph = {"nodes": [node("data", "connector.sample_dataset"),
                       node("s0", "test.slow", seconds=2, marker=str(markers[0])),
                       node("s1", "test.slow", seconds=0, marker=str(markers[1])),
                       node("s2", "test.slow", seconds=0, marker=str(markers[2]))],
             "edges": [edge("data", "table", "s0", "table"), edge("s0", "table", "s1", "table"),
                       edge("s1", "table", "s2", "table")]}
    run_id = start(server, pipeline(server, graph)["id"])
    stopping = int(wait_for_file(markers[0]))
    os.kill(stopping, signal.SIGTERM)  # a deploy stops this worker process
    run = wait(server, run_id, timeout=60)
    pids = [int(m.read_text()) for m in markers[1:]]
    print(f"stopped worker {stopping}; the next nodes ran in {pids}")
    assert run["status"] == "succeeded"
    assert node_of(run, "s0")["attempts"] == 1  # its own node finished, not re-run
    assert stopping not in pids
    deadline = time.monotonic() + 30
    while Path(f"/proc/{stopping}").exists() and "Z" not in Path(
            f"/proc/{stopping}/stat").read_text().split(")")[-1].split()[0]:
        assert time.monotonic() < deadline, "the stopped worker did not exit"
        time.sleep(0.1)


def test_a_hung_database_stops_the_nodes_own_attempt_before_another_starts(
        proxied: tuple[LiveServer, Proxies], tmp_path: Path) -> None:
    server, proxy = proxied
    timeline = tmp_path / "timeline"
    graph = {"nodes": [node("data", "connector.sample_dataset"),
                       node("slow", "test.slow", seconds=8, timeline=str(timeline))],
             "edges": [edge("data", "table", "slow", "table")]}
    run_id = start(server, pipeline(server, graph)["id"])
    pid = int(wait_for_file(timeline).split()[1])
    running = next(i for i, p in server.worker_procs.items() if p.pid == os.getpgid(pid))
    # That worker's database hangs (no answer, no error); the other worker's does not, and
    # the reaper (direct) re-queues the node once its heartbeat is 3 s old.
    proxy.each[running].freeze()
    time.sleep(6)
    proxy.resume()
    run = wait(server, run_id)
    attempts: list[list[Any]] = []  # [start, stop], stop None while running
    for line in timeline.read_text().splitlines():
        event, _pid, at = line.split()
        if event == "start":
            attempts.append([float(at), None])
        elif event == "stop":
            next(a for a in attempts if a[1] is None)[1] = float(at)
    print(f"worker {running}'s database frozen; attempts (start, stop) relative to the first "
          "start: "
          f"{[(round(a - attempts[0][0], 2), round(b - attempts[0][0], 2)) for a, b in attempts]}")
    assert run["status"] == "succeeded" and node_of(run, "slow")["attempts"] == 2
    assert len(attempts) == 2
    (_, first_stop), (second_start, _) = attempts
    assert first_stop <= second_start  # never two attempts at once
