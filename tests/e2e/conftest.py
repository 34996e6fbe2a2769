"""Fixtures of the browser tests: one live server per test module (embedded mode: daphne, an
in-process worker, SQLite), one Debian Chromium per session, a signed-in page per test."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.live.server import LiveServer

from .support import CHROMIUM, CHROMIUM_ARGS, login


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    if not (Path(__file__).resolve().parents[2] / "frontend/dist/.vite/manifest.json").exists():
        pytest.fail("the frontend is not built: `make frontend` (make test builds it)")
    with LiveServer(mode="embedded") as live:
        yield live


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `make chromium` (make test does)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    """A signed-in page on the pipelines list, 1280×800; fails the test on uncaught errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  accept_downloads=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    login(pg, server)
    yield pg
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
