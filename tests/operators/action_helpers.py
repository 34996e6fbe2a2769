"""Helpers shared by the tests of actions and API connectors."""
from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from operators.actions import http


def record_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Replace the retry wait with one that only notes how long it would have slept."""
    waits: list[float] = []
    monkeypatch.setattr(http, "pause", waits.append)
    return waits


def assert_secret_nowhere(secret: str, *outputs: Any) -> None:
    """Fail if ``secret`` shows in any result cell, log line or error message given."""
    for output in outputs:
        if isinstance(output, pd.DataFrame):
            texts = [str(v) for v in output.to_numpy().ravel()] + [str(c) for c in output]
        elif isinstance(output, BaseException):
            texts = [str(output), repr(output), str(getattr(output, "message", ""))]
        elif isinstance(output, list):
            texts = [str(line) for line in output]
        else:
            texts = [str(output)]
        assert not [t for t in texts if secret in t], f"{secret!r} leaked into {output!r}"


def statuses(results: pd.DataFrame) -> dict[str, str]:
    return dict(zip(results["record_key"], results["status"], strict=True))


def reasons(results: pd.DataFrame) -> dict[str, str]:
    return dict(zip(results["record_key"], results["reason"], strict=True))
