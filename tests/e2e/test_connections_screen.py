"""The connections screen in a real browser: a connection created from its kind's form and
tested against a local API that refuses a wrong token (401), its secret write-only ("set" and
Replace), the dry-run-only switch shown as a tag, deleting one in use refused naming the
pipeline, and a node's picker creating a connection inline and selecting it.

Run: .venv/bin/python -m pytest tests/e2e/test_connections_screen.py -p no:xdist
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from datagran.pipelines.demo import DEMO_HUBSPOT
from tests.live.server import LiveServer
from tests.operators.local_http import JsonHandler, serve

from .support import DEMO_WORKSPACE, use_workspace

pytestmark = pytest.mark.e2e
TOKEN = "right-token-81d0"
CRM_PIPELINE = "Customer churn → CRM"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    # The stand-in API is on loopback, which an administrator would allow-list.
    with LiveServer(mode="embedded", extra_env={"DATAGRAN_URL_ALLOWLIST": "127.0.0.1"}) as live:
        yield live


class TokenApi(JsonHandler):
    """A CRM stand-in: 200 to the right bearer token, 401 to any other."""

    def do_GET(self) -> None:
        ok = self.headers.get("Authorization") == f"Bearer {TOKEN}"
        self.reply(200 if ok else 401, {"results": []} if ok else {"message": "bad token"})


@pytest.fixture(scope="module")
def crm_api() -> Iterator[str]:
    with serve(TokenApi) as url:
        yield url


def connections(server: LiveServer) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in server.api("GET", "/api/connections/")}


def open_screen(page: Page, server: LiveServer) -> None:
    use_workspace(page, DEMO_WORKSPACE)
    page.get_by_role("link", name="Connections", exact=True).click()
    expect(page.get_by_role("heading", name="Connections", exact=True)).to_be_visible()


def row(page: Page, name: str):
    return page.get_by_test_id("connection-row").filter(has_text=name)


def test_create_test_and_replace_a_secret_from_the_kinds_form(page: Page, server: LiveServer,
                                                              crm_api: str) -> None:
    open_screen(page, server)
    page.get_by_role("button", name="New connection").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Kind").select_option(label="HubSpot")
    dialog.get_by_label("Name").fill("Sales CRM")
    dialog.get_by_label("Base url").fill(crm_api)
    dialog.get_by_label("Access token").fill("wrong-token")
    dialog.get_by_role("button", name="Test").click()
    expect(dialog.get_by_test_id("connection-test-result")).to_have_text(
        "The server refused the credentials (401).")
    assert "Sales CRM" not in connections(server)  # testing saves nothing

    dialog.get_by_label("Dry run only").check(force=True)
    dialog.get_by_role("button", name="Create connection").click()
    expect(dialog).to_be_hidden()
    created = row(page, "Sales CRM")
    expect(created).to_contain_text("Not used")
    expect(created.get_by_text("Dry run only")).to_be_visible()
    stored = connections(server)["Sales CRM"]
    assert stored["config"]["dry_run_only"] is True and stored["secrets_set"] == ["access_token"]

    # The row's Test uses the stored (wrong) token.
    created.get_by_role("button", name="Test").click()
    expect(created.get_by_test_id("row-test-result")).to_have_text(
        "The server refused the credentials (401).")

    # Editing: the secret is only "set"; Replace takes a new one, which the Test then uses.
    created.get_by_role("button", name="Edit").click()
    expect(dialog.get_by_test_id("secret-set-access_token")).to_have_text("set")
    assert "wrong-token" not in dialog.inner_html()
    dialog.get_by_role("button", name="Replace Access token").click()
    dialog.get_by_label("Access token").fill(TOKEN)
    dialog.get_by_role("button", name="Test").click()
    expect(dialog.get_by_test_id("connection-test-result")).to_contain_text(
        "accepted the credentials")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    created.get_by_role("button", name="Test").click()
    expect(created.get_by_test_id("row-test-result")).to_contain_text("accepted the credentials")


def test_a_connection_in_use_shows_its_pipeline_and_is_not_deleted(page: Page,
                                                                   server: LiveServer) -> None:
    open_screen(page, server)
    demo = row(page, DEMO_HUBSPOT)
    expect(demo.get_by_role("link", name=CRM_PIPELINE)).to_be_visible()
    demo.get_by_role("button", name=f"Delete {DEMO_HUBSPOT}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("dialog").get_by_role("alert")).to_contain_text(f"“{CRM_PIPELINE}”")
    assert DEMO_HUBSPOT in connections(server)
    page.keyboard.press("Escape")
    expect(row(page, DEMO_HUBSPOT)).to_be_visible()

    # The pipeline link leads to the pipeline.
    row(page, DEMO_HUBSPOT).get_by_role("link", name=CRM_PIPELINE).click()
    expect(page).to_have_url(re.compile(r"/pipelines/[0-9a-f-]{36}"))


def test_a_nodes_form_creates_a_connection_inline_and_selects_it(page: Page,
                                                                 server: LiveServer,
                                                                 crm_api: str) -> None:
    use_workspace(page, DEMO_WORKSPACE)
    page.get_by_role("link", name=CRM_PIPELINE).click()
    page.locator("[data-node-id=crm]").click()
    field = page.locator("[data-field=connection]")
    field.get_by_role("button", name="New connection…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Kind")).to_have_value("hubspot")  # the only kind the node takes
    dialog.get_by_label("Name").fill("Inline CRM")
    dialog.get_by_label("Base url").fill(crm_api)
    dialog.get_by_label("Access token").fill(TOKEN)
    dialog.get_by_role("button", name="Create connection").click()
    expect(dialog).to_be_hidden()
    created = connections(server)["Inline CRM"]
    expect(field.locator("select")).to_have_value(created["id"])
    expect(field.locator("select option:checked")).to_have_text("Inline CRM")
