"""Sending run events to the channel layer, from any thread, without blocking the caller.

Every process keeps one event loop for publishing: in the embedded default it is the ASGI
server's own loop (the in-memory channel layer's queues live there); elsewhere a daemon
thread's loop, so each event does not pay for a new loop and a new Redis connection.

The layer is only the fast path (the database has every event, and sockets read what they
missed from it), but a send is not given up at the first error: after a Redis blip each
pooled connection fails once as it is next used, so a failed send is tried again on another
(fresh) connection before the event is left to the sockets' catch-up."""
from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from typing import Any

from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)
_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()
SEND_ATTEMPTS = 3
SEND_TIMEOUT_SECONDS = 2.0  # a hung layer holds up the events behind it no longer


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


def member_group(workspace_id: object, user_id: object) -> str:
    """The sockets of one user on one workspace: told when the user loses access."""
    return f"member_{workspace_id}_{user_id}"


# One lock per publishing loop, taken by each batch in the order the batches were queued:
# without it two batches' sends interleaved at every await, and a workspace socket got a
# run's "running" before its "queued" (each batch sends the run's group first).
_batch_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


async def _send(messages: list[tuple[str, dict[str, Any]]]) -> None:
    loop = asyncio.get_running_loop()
    lock = _batch_locks.setdefault(loop, asyncio.Lock())  # only ever touched on that loop
    async with lock:
        await _send_batch(messages)


async def _send_batch(messages: list[tuple[str, dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    down = False  # once the layer is found down, the rest of the batch is tried once each
    for group, message in messages:
        for attempt in range(1 if down else SEND_ATTEMPTS):
            try:
                await asyncio.wait_for(layer.group_send(group, message), SEND_TIMEOUT_SECONDS)
                down = False
                break
            except Exception as exc:  # noqa: BLE001 - the database has the event
                if attempt + 1 < SEND_ATTEMPTS and not down:
                    await asyncio.sleep(0.05 * (attempt + 1))
                    continue
                down = True
                log.warning("publishing to %s failed (%r); its sockets read it from the "
                            "database", group, exc)


def send_to_groups(messages: list[tuple[str, dict[str, Any]]]) -> Future[None]:
    """Queue (group, channel message) pairs for sending, in order; a future for tests."""
    return asyncio.run_coroutine_threadsafe(_send(messages), _publisher_loop())


def publish(messages: list[tuple[str, dict[str, Any]]]) -> Future[None]:
    """Queue (group, run event) pairs for sending, in order; returns a future for tests."""
    return send_to_groups([(group, {"type": "run.event", "event": event})
                           for group, event in messages])


def membership_removed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """post_delete of a Membership: once committed, that user's open sockets on the workspace
    close (they also re-check membership every SOCKET_POLL_SECONDS)."""
    group = member_group(instance.workspace_id, instance.user_id)
    transaction.on_commit(lambda: send_to_groups([(group, {"type": "access.revoked"})]))
