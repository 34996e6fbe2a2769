"""Helpers the browser tests share (the fixtures are in conftest.py)."""
from __future__ import annotations

import re

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
