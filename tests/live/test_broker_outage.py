"""Starting runs while the broker (Redis, through a TCP proxy) is down or hung: the start
request answers at once with the run recorded, and the run's messages are sent within
seconds of the broker coming back, by the process that could not send them (there is no
scheduler here to re-send stale queued nodes, whose delay is 60 s)."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from tests.graphs import chain_graph
from tests.live.server import REDIS_URL, LiveServer, start_run, wait_run
from tests.proxy import TcpProxy

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[LiveServer, TcpProxy]]:
    for db in (4, 5, 6):
        redis.Redis.from_url(f"{REDIS_URL}/{db}").flushdb()
    with TcpProxy(6379) as proxy, LiveServer(mode="redis", workers=1, extra_env={
            "BROKER_URL": f"redis://127.0.0.1:{proxy.port}/4",
            "CHANNEL_LAYER_URL": f"{REDIS_URL}/5", "CACHE_URL": f"{REDIS_URL}/6"}) as server:
        yield server, proxy


def start_during(server: LiveServer, proxy: TcpProxy, fault: str) -> None:
    pipeline = server.api("POST", "/api/pipelines/", {"name": fault, "graph": chain_graph()})
    assert start_run(server, pipeline["id"], force=True)["status"] == "succeeded"
    getattr(proxy, fault)()
    try:
        began = time.monotonic()
        run = start_run(server, pipeline["id"], force=True, wait=False)
        answered = time.monotonic() - began
        print(f"\nbroker {fault}: the start answered in {answered * 1000:.0f} ms")
        # Recorded and queued, without waiting out the client's 5 s socket timeout.
        assert run["status"] == "queued" and answered < 5
        time.sleep(3)  # the outage goes on; the sender keeps trying
        assert server.api("GET", f"/api/runs/{run['id']}/")["status"] == "queued"
    finally:
        proxy.resume()
    back = time.monotonic()
    finished = wait_run(server, run["id"], timeout=30)
    print(f"broker {fault}: the run finished {time.monotonic() - back:.2f} s after it was back")
    assert finished["status"] == "succeeded"


def test_a_run_started_while_the_broker_is_down_runs_when_it_is_back(proxied) -> None:
    server, proxy = proxied
    start_during(server, proxy, "stop")


def test_a_run_start_does_not_wait_for_a_hung_broker(proxied) -> None:
    server, proxy = proxied
    start_during(server, proxy, "freeze")
