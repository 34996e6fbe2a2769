"""The scheduler's loop (manage.py scheduler and the embedded thread run the same one): it
ticks until told to stop, and a failed tick is logged, not the end of the loop."""
from __future__ import annotations

import logging

import pytest

from datagran.schedules import ticks


def test_it_ticks_until_told_to_stop_and_outlives_a_failed_tick(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def tick() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise ConnectionError("the database went away")

    monkeypatch.setattr(ticks, "tick", tick)
    with caplog.at_level(logging.ERROR, logger="datagran.scheduler"):
        ticks.ticks_run(interval=0, stopping=lambda: len(calls) == 3)
    assert calls == [0, 1, 2]
    assert "scheduler tick failed" in caplog.text


def test_once_is_one_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(ticks, "tick", lambda: calls.append("tick"))
    ticks.ticks_run(interval=60, once=True)
    assert calls == ["tick"]
