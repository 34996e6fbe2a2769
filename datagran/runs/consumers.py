"""The run and workspace websockets. The run socket sends a snapshot first, then the run's
events in strict seq order; the channel layer may drop or reorder messages, so a gap is
filled from the database.

The database is the record and the channel layer (Redis) only the fast path, so a socket
outlives the layer failing: it connects without it (the snapshot comes from the database, the
groups are joined when the layer answers again) and stays open while it is down (receiving is
tried again, not fatal). Every POLL_SECONDS a socket checks from the database that its user is
still a member of the workspace (closing with 4403 if not), joins its groups again, and the run
socket sends whatever events it has not seen, so a final event the layer lost still arrives.
A member removed from a workspace is told at once, through a group of their own."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings

from datagran.core.exceptions import NotFound
from datagran.workspaces.selectors import role_in

from .events import events_after
from .publish import member_group, run_group, workspace_group
from .selectors import run_get, run_snapshot

log = logging.getLogger(__name__)
CLOSE_UNAUTHENTICATED = 4401
CLOSE_REVOKED = 4403
CLOSE_NOT_FOUND = 4404
LAYER_TIMEOUT_SECONDS = 2.0  # a hung channel layer does not hold up a socket longer
LAYER_RETRY_MAX_SECONDS = 5.0


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """A socket of one user on one workspace that survives the channel layer failing."""

    user: Any = None
    workspace_id: object = None
    wanted: list[str]
    open = False

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        # Channels' AsyncConsumer.__call__, with a channel-layer receive that survives the
        # layer failing and a periodic tick.
        self.scope, self.base_send, self.wanted = scope, send, []
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        try:
            await await_many_dispatch([receive, self._layer_receive, self._tick],
                                      self.dispatch)
        except StopConsumer:
            pass

    async def _layer_receive(self) -> dict[str, Any]:
        pause = 0.25
        while True:
            try:
                return await self.channel_layer.receive(self.channel_name)
            except Exception as exc:  # noqa: BLE001 - the database still answers
                log.warning("channel layer receive failed (%r); trying again", exc)
                await asyncio.sleep(pause)
                pause = min(2 * pause, LAYER_RETRY_MAX_SECONDS)

    async def _tick(self) -> dict[str, Any]:
        await asyncio.sleep(settings.DATAGRAN["SOCKET_POLL_SECONDS"])
        return {"type": "socket.tick"}

    async def start(self, *groups: str) -> None:
        """Accept, having joined the groups if the layer answers (else at the next tick)."""
        self.wanted = [*groups, member_group(self.workspace_id, self.user.pk)]
        await self._join()
        await self.accept()
        self.open = True

    async def _join(self) -> None:
        for group in self.wanted:
            try:
                await asyncio.wait_for(self.channel_layer.group_add(group, self.channel_name),
                                       LAYER_TIMEOUT_SECONDS)
            except Exception as exc:  # noqa: BLE001 - joined again at the next tick
                log.warning("joining %s failed (%r): following the database until the "
                            "channel layer answers", group, exc)
                return

    async def disconnect(self, code: int) -> None:
        self.open = False
        for group in self.wanted:
            try:
                await asyncio.wait_for(
                    self.channel_layer.group_discard(group, self.channel_name),
                    LAYER_TIMEOUT_SECONDS)
            except Exception:  # noqa: BLE001 - the layer expires it
                return

    async def socket_tick(self, message: dict[str, Any]) -> None:
        if not self.open:
            return
        if await database_sync_to_async(role_in)(user=self.user,
                                                 workspace_id=self.workspace_id) is None:
            await self.access_revoked({})
            return
        await self.catch_up()
        await self._join()

    async def access_revoked(self, message: dict[str, Any]) -> None:
        """The user left the workspace (or was removed): nothing more reaches them."""
        if self.open:
            self.open = False
            await self.close(code=CLOSE_REVOKED)

    async def catch_up(self) -> None:
        """What a socket sends from the database when it has heard nothing for a while."""


class RunConsumer(LiveConsumer):
    async def connect(self) -> None:
        self.run_id = self.scope["url_route"]["kwargs"]["run_id"]
        self.last_seq = 0
        self.user = self.scope.get("user")
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            run = await database_sync_to_async(run_get)(user=self.user, run_id=self.run_id)
        except NotFound:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.workspace_id = run.workspace_id
        # Join the group before reading the snapshot, so no event falls between the two.
        await self.start(run_group(self.run_id))
        snapshot = await database_sync_to_async(run_snapshot)(run_id=self.run_id)
        self.last_seq = snapshot["seq"]
        await self.send_json({"type": "snapshot", "seq": snapshot["seq"], "run": snapshot})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The only request a client makes: "send me everything after seq N" (resync).
        if self.open and isinstance(content, dict) and content.get("type") == "resync":
            await self._send_missing(until=None)

    async def run_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if not self.open or event["seq"] <= self.last_seq:
            return
        if event["seq"] > self.last_seq + 1:
            await self._send_missing(until=event["seq"])
        await self.send_json(event)
        self.last_seq = event["seq"]

    async def catch_up(self) -> None:
        await self._send_missing(until=None)

    async def _send_missing(self, *, until: int | None) -> None:
        for event in await database_sync_to_async(events_after)(
                run_id=self.run_id, seq=self.last_seq, until=until):
            await self.send_json(event)
            self.last_seq = event["seq"]


class WorkspaceConsumer(LiveConsumer):
    """Run-level events of every run in a workspace, for the live runs list. Best effort:
    a client refetches the list when it (re)connects."""

    async def connect(self) -> None:
        self.workspace_id = self.scope["url_route"]["kwargs"]["workspace_id"]
        self.user = self.scope.get("user")
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if await database_sync_to_async(role_in)(user=self.user,
                                                 workspace_id=self.workspace_id) is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.start(workspace_group(self.workspace_id))

    async def run_event(self, message: dict[str, Any]) -> None:
        if self.open:
            await self.send_json(message["event"])
