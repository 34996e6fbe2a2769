"""`make worker` (manage.py runworkers) against real Redis and PostgreSQL: one worker process
killed while runs flow leaves the others working, and a replacement takes messages within
seconds (Dramatiq's own CLI stopped the whole group when one process died)."""
from __future__ import annotations

import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.graphs import chain_graph, edge, node
from tests.live.server import REDIS_URL, LiveServer, start_run, wait_run

pytestmark = pytest.mark.services
ENV = {"BROKER_URL": f"{REDIS_URL}/4", "CHANNEL_LAYER_URL": f"{REDIS_URL}/5",
       "CACHE_URL": f"{REDIS_URL}/6"}
READY = re.compile(r"worker process (\d+) ready \(pid (\d+)")


# The scheduler's reaper and re-send bring back the nodes a killed process was running or had
# fetched, within seconds here.
FAST_FAULTS = {"DATAGRAN_HEARTBEAT_SECONDS": "0.5", "DATAGRAN_HEARTBEAT_TIMEOUT_SECONDS": "3",
               "DATAGRAN_RESEND_QUEUED_AFTER_SECONDS": "4"}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    for db in (4, 5, 6):
        redis.Redis.from_url(f"{REDIS_URL}/{db}").flushdb()
    with LiveServer(mode="redis", workers=0, schedulers=1,
                    extra_env={**ENV, **FAST_FAULTS}) as live:
        yield live


def ready_pids(server: LiveServer) -> list[int]:
    """The worker processes that said they were ready, in order."""
    return [int(m.group(2)) for m in READY.finditer(server.log("workers"))]


def wait_ready(server: LiveServer, count: int, timeout: float = 120) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(pids := ready_pids(server)) >= count:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"{count} ready worker processes expected:\n{server.log('workers')}")


def children(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def alive(pid: int) -> bool:
    """Running (an exited process nobody has reaped yet, a zombie, is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_killed_worker_process_is_replaced_while_the_others_keep_running_nodes(
        server: LiveServer) -> None:
    began = time.monotonic()
    supervisor = server._spawn("workers", [sys.executable, "manage.py", "runworkers",
                                           "--processes", "2", "--threads", "2"])
    first, second = wait_ready(server, 2)
    print(f"\ncold start of `make worker` to two processes ready: "
          f"{time.monotonic() - began:.2f} s")
    assert children(supervisor.pid) == {first, second}
    pipeline = server.api("POST", "/api/pipelines/", {"name": "Chain", "graph": chain_graph()})
    assert start_run(server, pipeline["id"], force=True)["status"] == "succeeded"

    # An idle process killed, as the out-of-memory killer would: the other one goes on.
    killed = time.monotonic()
    os.kill(first, signal.SIGKILL)
    after = [start_run(server, pipeline["id"], force=True) for _ in range(3)]
    print(f"three runs after the kill finished {time.monotonic() - killed:.2f} s after it")
    assert [run["status"] for run in after] == ["succeeded"] * 3
    replacement = wait_ready(server, 3, timeout=60)[2]
    booted = re.findall(r"ready \(pid \d+, \d+ threads\) ([\d.]+ s) after its fork",
                        server.log("workers"))
    print(f"replacement ready {booted[2]} after its fork (at most "
          f"{time.monotonic() - killed:.2f} s after the kill)")
    assert children(supervisor.pid) == {second, replacement}  # the survivor was not restarted
    assert "killed by SIGKILL" in server.log("workers")

    # A process killed while runs flow: every run still finishes.
    flowing = [start_run(server, pipeline["id"], force=True, wait=False) for _ in range(4)]
    killed = time.monotonic()
    os.kill(second, signal.SIGKILL)
    finished = [wait_run(server, run["id"], timeout=60) for run in flowing]
    print(f"four runs in flight at the second kill finished "
          f"{time.monotonic() - killed:.2f} s after it")
    assert [run["status"] for run in finished] == ["succeeded"] * 4
    newest = wait_ready(server, 4, timeout=60)[3]
    assert children(supervisor.pid) == {replacement, newest}

    # Each replacement takes messages itself: with the other one frozen, a run still finishes.
    for frozen in (replacement, newest):
        os.kill(frozen, signal.SIGSTOP)
        try:
            run = start_run(server, pipeline["id"], force=True)
        finally:
            os.kill(frozen, signal.SIGCONT)
        assert run["status"] == "succeeded"


def test_sigterm_stops_every_worker_process_and_the_supervisor(server: LiveServer) -> None:
    supervisor = next(p for p in server.procs if "runworkers" in str(p.args))
    pids = children(supervisor.pid)
    assert len(pids) == 2
    os.kill(supervisor.pid, signal.SIGTERM)
    assert supervisor.wait(timeout=60) == 0
    assert not [pid for pid in pids if alive(pid)]  # no orphan left
    assert server.log("workers").count("stopping: finishing its nodes") == 2


def test_worker_processes_stop_when_their_supervisor_is_killed(server: LiveServer) -> None:
    # Otherwise they would work on unsupervised beside the ones a restarted supervisor forks.
    supervisor = server._spawn("workers-killed", [sys.executable, "manage.py", "runworkers",
                                                  "--processes", "2", "--threads", "1"])
    deadline = time.monotonic() + 120
    while server.log("workers-killed").count(" ready (pid") < 2:
        assert time.monotonic() < deadline, server.log("workers-killed")
        time.sleep(0.1)
    pids = children(supervisor.pid)
    os.kill(supervisor.pid, signal.SIGKILL)
    supervisor.wait(timeout=10)
    deadline = time.monotonic() + 30
    while [pid for pid in pids if alive(pid)]:
        assert time.monotonic() < deadline, "orphaned worker processes kept running"
        time.sleep(0.1)
    assert server.log("workers-killed").count("stopping: finishing its nodes") == 2


def test_sigterm_to_every_process_as_systemd_sends_it_lets_running_nodes_finish(
        server: LiveServer, tmp_path: Path) -> None:
    # systemd (KillMode=control-group) signals the supervisor and each child at once, and the
    # supervisor passes its signal on: two SIGTERMs per child must still mean "finish".
    supervisor = server._spawn("workers-systemd", [sys.executable, "manage.py", "runworkers",
                                                   "--processes", "1", "--threads", "1"])
    marker = tmp_path / "started"
    graph = {"nodes": [node("data", "connector.sample_dataset"),
                       node("slow", "test.slow", seconds=3, marker=str(marker))],
             "edges": [edge("data", "table", "slow", "table")]}
    pipeline = server.api("POST", "/api/pipelines/", {"name": "Slow", "graph": graph})
    run = start_run(server, pipeline["id"], force=True, wait=False)
    deadline = time.monotonic() + 120
    while not (marker.exists() and marker.read_text()):
        assert time.monotonic() < deadline, server.log("workers-systemd")
        time.sleep(0.05)
    os.killpg(supervisor.pid, signal.SIGTERM)
    assert supervisor.wait(timeout=60) == 0
    finished = wait_run(server, run["id"], timeout=10)
    slow = next(n for n in finished["nodes"] if n["node_id"] == "slow")
    assert finished["status"] == "succeeded" and slow["attempts"] == 1, finished
