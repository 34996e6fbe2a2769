"""Live updates while the channel layer's Redis (behind a TCP proxy) is down: an open socket
stays open, a new one connects with its snapshot from the database, and both get the run's
final state from the database although the layer lost every event."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import redis
from websockets.sync.client import ClientConnection, connect

from tests.graphs import edge, node
from tests.live.server import REDIS_URL, LiveServer
from tests.proxy import TcpProxy

pytestmark = pytest.mark.services
DONE = ("succeeded", "failed", "cancelled")


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[LiveServer, TcpProxy]]:
    for db in (4, 5, 6):
        redis.Redis.from_url(f"{REDIS_URL}/{db}").flushdb()
    with TcpProxy(6379) as proxy, LiveServer(mode="redis", workers=1, extra_env={
            "BROKER_URL": f"{REDIS_URL}/4", "CACHE_URL": f"{REDIS_URL}/6",
            "CHANNEL_LAYER_URL": f"redis://127.0.0.1:{proxy.port}/5",
            "DATAGRAN_SOCKET_POLL_SECONDS": "1"}) as server:
        yield server, proxy


def open_socket(stack: ExitStack, server: LiveServer,
                run_id: str) -> tuple[ClientConnection, dict]:
    ws = stack.enter_context(connect(f"{server.ws_url}/ws/runs/{run_id}/", additional_headers={
        "Authorization": f"Token {server.token}"}))
    snapshot = json.loads(ws.recv(timeout=10))
    assert snapshot["type"] == "snapshot"
    return ws, snapshot


def final_status(ws: ClientConnection, snapshot: dict, timeout: float = 60) -> str:
    """Read the socket until the run's final state; the seqs must follow on."""
    seq, status = snapshot["seq"], snapshot["run"]["status"]
    deadline = time.monotonic() + timeout
    while status not in DONE:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        assert message["seq"] == seq + 1, (seq, message)
        seq = message["seq"]
        status = message.get("run", {}).get("status", status)
    return status


def slow_pipeline(server: LiveServer) -> str:
    graph = {"nodes": [node("data", "connector.sample_dataset"),
                       node("slow", "test.slow", seconds=2),
                       node("cols", "transform.select_columns", columns=["target"])],
             "edges": [edge("data", "table", "slow", "table"),
                       edge("slow", "table", "cols", "table")]}
    return server.api("POST", "/api/pipelines/", {"name": "Slow", "graph": graph})["id"]


def test_sockets_follow_a_run_from_the_database_while_the_channel_layer_is_down(
        proxied) -> None:
    server, proxy = proxied
    pipeline = slow_pipeline(server)
    run = server.api("POST", f"/api/pipelines/{pipeline}/runs/", {"force": True})
    with ExitStack() as stack:
        before, before_snapshot = open_socket(stack, server, run["id"])
        proxy.stop()
        try:
            down = time.monotonic()
            during, during_snapshot = open_socket(stack, server, run["id"])  # not a 500
            print(f"\nlayer down: a new socket got its snapshot in "
                  f"{time.monotonic() - down:.2f} s")
            assert final_status(during, during_snapshot) == "succeeded"
            took = server.api("GET", f"/api/runs/{run['id']}/")["duration_ms"]
            print(f"layer down: the new socket saw the final state "
                  f"{time.monotonic() - down:.2f} s after the outage began (the run took "
                  f"{took} ms)")
            assert final_status(before, before_snapshot) == "succeeded"
            print(f"layer down: final state on both sockets {time.monotonic() - down:.2f} s "
                  f"after the outage began")
        finally:
            proxy.resume()

    # Back: a new run's events reach a socket opened now.
    run = server.api("POST", f"/api/pipelines/{pipeline}/runs/", {"force": True})
    with ExitStack() as stack:
        after, after_snapshot = open_socket(stack, server, run["id"])
        assert final_status(after, after_snapshot) == "succeeded"
