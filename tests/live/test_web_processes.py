"""`manage.py serve --processes 2` against real PostgreSQL and Redis: two daphne processes
behind one port answer requests, one killed by a signal leaves the other answering every
request, and the supervisor replaces it."""
from __future__ import annotations

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


def test_two_processes_serve_and_a_killed_one_is_replaced(server: LiveServer) -> None:
    first = wait_for(2, server)
    iris = pipeline_ids(server)["Iris classifier"]
    assert start_run(server, iris)["status"] == "succeeded"
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    statuses = [fresh_get(server, "/api/pipelines/") for _ in range(40)]
    assert statuses == [200] * 40
    replaced = wait_for(2, server)
    assert victim not in replaced and len(replaced - first) == 1
    assert "web process" in server.log("daphne") and "killed by SIGKILL" in server.log("daphne")
    # The replacement serves too: the survivor stopped, every request still answered.
    survivor = next(iter(first - {victim}))
    os.kill(survivor, signal.SIGKILL)
    time.sleep(0.2)
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
