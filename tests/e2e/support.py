"""Helpers the browser tests share (the fixtures are in conftest.py)."""
from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Page, expect

from tests.live.server import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEMO_USER, DEMO_PASSWORD = "demo", "datagran-demo"
DEMO_WORKSPACE = "Demo workspace"


def login(page: Page, server: LiveServer, path: str = "/pipelines") -> None:
    """Open `path` signed out, sign in on the login page it redirects to, land on `path`."""
    page.goto(f"{server.base_url}{path}")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=" + re.escape(path) + "$"))
    page.fill("input[name=username]", DEMO_USER)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(server.base_url + path) + "$"))
    if path == "/pipelines":
        expect(page.get_by_role("heading", name="Pipelines", exact=True)).to_be_visible()


def use_workspace(page: Page, name: str) -> None:
    select = page.get_by_label("Workspace")
    option = select.locator("option").filter(has_text=re.compile("^" + re.escape(name)))
    expect(option).to_have_count(1)
    select.select_option(value=option.get_attribute("value"))


def pipeline_ids(server: LiveServer) -> dict[str, str]:
    return {p["name"]: p["id"] for p in server.api("GET", "/api/pipelines/")}


def wait_run(server: LiveServer, run_id: str, timeout: float = 90) -> dict[str, Any]:
    """Poll the API until the run has finished; return its JSON."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = server.api("GET", f"/api/runs/{run_id}/")
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish within {timeout} s")


def start_run(server: LiveServer, pipeline_id: str, *, force: bool = False,
              wait: bool = True) -> dict[str, Any]:
    body = {"force": True} if force else {}
    run = server.api("POST", f"/api/pipelines/{pipeline_id}/runs/", body)
    return wait_run(server, run["id"]) if wait else run
