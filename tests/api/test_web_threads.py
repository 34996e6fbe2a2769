"""A web process runs at most DATAGRAN_WEB_THREADS requests at once; the others wait their
turn in its event loop, and every one is answered. (Many requests computing at once in one
process share one interpreter lock: one-row predictions from 8 clients took 12.6 ms of CPU
each in 16 threads against 8.0 ms in one.)"""
from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path

from datagran.core.handler import SyncChainASGIHandler

running = 0
most = 0
guard = threading.Lock()


def slow(request: HttpRequest) -> HttpResponse:
    global running, most
    with guard:
        running += 1
        most = max(most, running)
    time.sleep(0.05)
    with guard:
        running -= 1
    return HttpResponse(b"done")


urlpatterns = [path("slow/", slow)]


async def get(handler: SyncChainASGIHandler, index: int) -> tuple[int, bytes]:
    scope = {"type": "http", "method": "GET", "path": "/slow/", "raw_path": b"/slow/",
             "query_string": b"", "headers": [(b"host", b"testserver")],
             "server": ("testserver", 80), "client": ("127.0.0.1", 40000 + index),
             "scheme": "http", "http_version": "1.1", "asgi": {"version": "3.0"}}
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    disconnected = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await disconnected.wait()  # the client stays until the answer came
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await handler(scope, receive, send)
    disconnected.set()
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.mark.parametrize("threads", [1, 2])
def test_a_process_runs_at_most_web_threads_requests_at_once(threads: int) -> None:
    global most
    most = 0
    with override_settings(ROOT_URLCONF=__name__,
                           DATAGRAN={**settings.DATAGRAN, "WEB_THREADS": threads}):
        handler = SyncChainASGIHandler()

        async def all_of_them() -> list[tuple[int, bytes]]:
            return await asyncio.gather(*(get(handler, i) for i in range(6)))

        answers = asyncio.run(all_of_them())
    assert answers == [(200, b"done")] * 6
    assert most == threads
