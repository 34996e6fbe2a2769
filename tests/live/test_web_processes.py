"""`manage.py serve --processes 2` against real PostgreSQL and Redis: two daphne processes
behind one port share the connections, one killed by a signal leaves the other answering
every request, and the supervisor replaces it."""
from __future__ import annotations

import http.client
import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live.server import LiveServer, pipeline_ids, start_run

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(mode="redis", workers=1, web_processes=2) as live:
        yield live


def daphnes(server: LiveServer) -> set[int]:
    parent = server.procs[-1].pid  # manage.py serve, started last
    return {int(p) for p in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()}


def wait_for(count: int, server: LiveServer, timeout: float = 60) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(found := daphnes(server)) == count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{count} web processes expected:\n{server.log('daphne')}")


def fresh_get(server: LiveServer, path: str) -> int:
    """A GET on a new connection (so the kernel picks a process for it)."""
    request = urllib.request.Request(server.base_url + path,
                                     headers={"Authorization": f"Token {server.token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def gone(pid: int, timeout: float = 10) -> None:
    """Until the supervisor has reaped ``pid``: every thread of it has exited then, and its
    listening socket is closed (a zombie leader may still have threads holding it)."""
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists():
        assert time.monotonic() < deadline, f"process {pid} was not reaped"
        time.sleep(0.02)


def connections_of(pid: int, port: int) -> int:
    """How many established TCP connections on ``port`` process ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01" and \
                    fields[9] in inodes:
                count += 1
    return count


def test_the_processes_share_the_connections_of_a_few_clients(server: LiveServer) -> None:
    # Opened at once, as a load balancer or a benchmark's clients do: with one shared
    # listening socket, one process's accept loop took all of them and the other idled.
    processes = wait_for(2, server)
    clients = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
               for _ in range(16)]
    try:
        for client in clients:
            client.connect()
        for client in clients:
            client.request("GET", "/api/pipelines/",
                           headers={"Authorization": f"Token {server.token}"})
        assert [c.getresponse().status for c in clients] == [200] * 16
        held = {pid: connections_of(pid, server.port) for pid in processes}
        assert sum(held.values()) == 16 and min(held.values()) >= 1, held
    finally:
        for client in clients:
            client.close()


def test_two_processes_serve_and_a_killed_one_is_replaced(server: LiveServer) -> None:
    first = wait_for(2, server)
    iris = pipeline_ids(server)["Iris classifier"]
    assert start_run(server, iris)["status"] == "succeeded"
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    # Each process listens on a socket of its own: connections the kernel had queued on the
    # victim's when it died are lost, every one made once it is gone is answered.
    gone(victim)
    statuses = [fresh_get(server, "/api/pipelines/") for _ in range(40)]
    assert statuses == [200] * 40
    replaced = wait_for(2, server)
    assert victim not in replaced and len(replaced - first) == 1
    assert "web process" in server.log("daphne") and "killed by SIGKILL" in server.log("daphne")
    # The replacement serves too: the survivor stopped, every request still answered.
    survivor = next(iter(first - {victim}))
    os.kill(survivor, signal.SIGKILL)
    gone(survivor)
    deadline = time.monotonic() + 60
    while True:
        try:
            assert fresh_get(server, "/api/pipelines/") == 200
            break
        except OSError:
            assert time.monotonic() < deadline, server.log("daphne")
            time.sleep(0.2)
    assert len(wait_for(2, server)) == 2


def test_embedded_mode_refuses_several_processes() -> None:
    import subprocess
    import sys

    from tests.live.server import ROOT

    env = {k: v for k, v in os.environ.items() if k not in ("BROKER_URL",
                                                             "DJANGO_SETTINGS_MODULE")}
    done = subprocess.run([sys.executable, "manage.py", "serve", "--processes", "2",
                           "--port", "0"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert "needs the production set-up" in done.stderr
