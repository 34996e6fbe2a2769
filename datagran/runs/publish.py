"""Sending run events to the channel layer, from any thread, without blocking the caller.

Every process keeps one event loop for publishing: in the embedded default it is the ASGI
server's own loop (the in-memory channel layer's queues live there); elsewhere a daemon
thread's loop, so each event does not pay for a new loop and a new Redis connection."""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)
_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def use_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Publish on this (running) loop from now on: the embedded server calls it."""
    global _loop
    _loop = loop


def _publisher_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="datagran-publish",
                             daemon=True).start()
            _loop = loop
        return _loop


def run_group(run_id: object) -> str:
    return f"run_{run_id}"


def workspace_group(workspace_id: object) -> str:
    return f"workspace_{workspace_id}"


async def _send(messages: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    for group, event in messages:
        try:
            await layer.group_send(group, {"type": "run.event", "event": event})
        except Exception:  # noqa: BLE001 - the database has the event; clients resync
            log.exception("publishing an event to %s failed", group)


def publish(messages: list[tuple[str, dict[str, Any]]]) -> asyncio.Future[None]:
    """Queue (group, event) pairs for sending, in order; returns a future for tests."""
    return asyncio.run_coroutine_threadsafe(_send(messages), _publisher_loop())
