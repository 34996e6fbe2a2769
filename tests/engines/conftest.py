"""Parity tests share one local Spark session per test process (a JVM starts in about 5 s):
every test that runs Spark is in the xdist group "spark", so one process starts it."""
from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "spark" in item.keywords or "[spark" in item.nodeid or "-spark" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("spark"))
            item.add_marker(pytest.mark.slow)
