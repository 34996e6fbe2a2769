"""Batches of run events reach the channel layer in the order they were queued, each whole
before the next: a workspace socket once got a run's "running" before its "queued", the two
transactions' batches interleaved at each await of the layer."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from datagran.runs import publish


class SlowLayer:
    """A layer whose every send yields to the loop (as a real one does), recording them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await asyncio.sleep(0.001 if group.startswith("run_") else 0)
        self.sent.append((group, message["event"]["status"]))


def test_two_batches_queued_in_turn_are_sent_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    layer = SlowLayer()
    monkeypatch.setattr(publish, "get_channel_layer", lambda: layer)
    batches = [[("run_1", {"status": status}), ("workspace_1", {"status": status})]
               for status in ("queued", "running", "succeeded")]
    futures = [publish.publish(batch) for batch in batches]
    for future in futures:
        future.result(timeout=10)
    assert layer.sent == [(group, status) for status in ("queued", "running", "succeeded")
                          for group in ("run_1", "workspace_1")]
