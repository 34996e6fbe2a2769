"""The run websocket: a snapshot first, then the run's events in strict seq order. The
channel layer may drop or reorder messages, so a gap is filled from the database."""
from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from datagran.core.exceptions import NotFound
from datagran.workspaces.selectors import role_in

from .events import events_after
from .publish import run_group, workspace_group
from .selectors import run_get, run_snapshot

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class RunConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.run_id = self.scope["url_route"]["kwargs"]["run_id"]
        self.last_seq = 0
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            await database_sync_to_async(run_get)(user=user, run_id=self.run_id)
        except NotFound:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # Join the group before reading the snapshot, so no event falls between the two.
        await self.channel_layer.group_add(run_group(self.run_id), self.channel_name)
        await self.accept()
        snapshot = await database_sync_to_async(run_snapshot)(run_id=self.run_id)
        self.last_seq = snapshot["seq"]
        await self.send_json({"type": "snapshot", "seq": snapshot["seq"], "run": snapshot})

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "run_id"):
            await self.channel_layer.group_discard(run_group(self.run_id), self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # The only request a client makes: "send me everything after seq N" (resync).
        if isinstance(content, dict) and content.get("type") == "resync":
            await self._send_missing(until=None)

    async def run_event(self, message: dict[str, Any]) -> None:
        event = message["event"]
        if event["seq"] <= self.last_seq:
            return
        if event["seq"] > self.last_seq + 1:
            await self._send_missing(until=event["seq"])
        await self.send_json(event)
        self.last_seq = event["seq"]

    async def _send_missing(self, *, until: int | None) -> None:
        for event in await database_sync_to_async(events_after)(
                run_id=self.run_id, seq=self.last_seq, until=until):
            await self.send_json(event)
            self.last_seq = event["seq"]


class WorkspaceConsumer(AsyncJsonWebsocketConsumer):
    """Run-level events of every run in a workspace, for the live runs list. Best effort:
    a client refetches the list when it (re)connects."""

    async def connect(self) -> None:
        self.workspace_id = self.scope["url_route"]["kwargs"]["workspace_id"]
        self.group = workspace_group(self.workspace_id)
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if await database_sync_to_async(role_in)(user=user,
                                                 workspace_id=self.workspace_id) is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def run_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
