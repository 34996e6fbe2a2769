"""Sources in a real browser, against a local HubSpot fake speaking its search API: a HubSpot
connection made on the Connections screen, the HubSpot node dropped on the canvas, its resource
picked by label and its properties from the suggestions for that resource plus one typed in;
the run page's Loaded panel after the first run (250 records in 3 pages, read from the start),
after a record changed (1 updated, the cursor moved on from where the first run ended), and
after a Full refresh from the Run menu (everything again, the run tagged Full refresh). A SQL
source in table mode (a SQLite file): its table and columns chosen from what the database
lists (the server's refusal shown under the field), a sample of its rows, and the node after
it picking from those columns before anything ran. A Google service account key pasted whole
in a hidden text area.

Run: flock /tmp/dg-live.lock .venv/bin/python -m pytest tests/e2e/test_sources_screen.py -p no:xdist
Screenshots (1280×800) go to $DATAGRAN_SCREENSHOTS (default /tmp/datagran-screens).
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.live.server import LiveServer
from tests.sources.fake_hubspot import FakeHubSpot, fake_hubspot

from .support import DEMO_WORKSPACE, use_workspace

pytestmark = pytest.mark.e2e

TOKEN = "pat-e2e-hubspot-5b1c"
CONNECTION = "HubSpot (local fake)"
RUN_TIMEOUT = 90_000
SCREENS = Path(os.environ.get("DATAGRAN_SCREENSHOTS", "/tmp/datagran-screens"))


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    # The fake is on loopback, which an administrator would allow-list; the SQLite folder
    # holds a small shop database.
    with tempfile.TemporaryDirectory(prefix="datagran-sqlite-") as folder:
        with sqlite3.connect(Path(folder) / "shop.db") as db:
            db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, "
                       "spend REAL, updated_at TEXT)")
            db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)", [
                (1, "ada@example.com", 120.5, "2024-01-02"),
                (2, "bob@example.com", 0.0, "2024-01-03"),
                (3, "cy@example.com", 42.0, "2024-01-04")])
            db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER)")
        with LiveServer(mode="embedded", extra_env={"DATAGRAN_URL_ALLOWLIST": "127.0.0.1",
                                                    "DATAGRAN_SQLITE_ROOT": folder}) as live:
            yield live


@pytest.fixture(scope="module")
def hubspot() -> Iterator[FakeHubSpot]:
    with fake_hubspot(TOKEN) as fake:
        for i in range(250):
            fake.put("contacts", f"{1000 + i}", email=f"person{i}@example.com",
                     firstname=f"First{i}", lastname=f"Last{i}", phone=f"+1555{i:04d}",
                     lifecyclestage="lead")
        yield fake


def demo_workspace(server: LiveServer) -> str:
    return next(w["id"] for w in server.api("GET", "/api/workspaces/")
                if w["name"] == DEMO_WORKSPACE)


def create_connection(page: Page, url: str) -> None:
    """On the Connections screen, as an owner does: kind HubSpot, the fake's address, a token."""
    page.get_by_role("link", name="Connections", exact=True).click()
    page.get_by_role("button", name="New connection").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Kind").select_option(label="HubSpot")
    dialog.get_by_label("Name").fill(CONNECTION)
    dialog.get_by_label("Base url").fill(url)
    dialog.get_by_label("Access token").fill(TOKEN)
    dialog.get_by_role("button", name="Test").click()
    expect(dialog.get_by_test_id("connection-test-result")).to_contain_text("accepted")
    dialog.get_by_role("button", name="Create connection").click()
    expect(dialog).to_be_hidden()


def chips(field: Locator) -> list[str]:
    return [t.strip() for t in field.locator(".tag").all_inner_texts()]


def run_and_open(page: Page, start: Callable[[], None], previous: str | None = None) -> str:
    """In the editor (whose last run is `previous`), start a run with `start`, wait until it
    succeeded, open its page; its id."""
    chip = page.get_by_test_id("run-status")
    if previous:
        expect(chip).to_have_attribute("data-run-id", previous)
    start()
    other = re.compile("^(?!" + re.escape(previous or "") + "$).+")
    expect(chip).to_have_attribute("data-run-id", other, timeout=RUN_TIMEOUT)
    expect(chip).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    run_id = chip.get_attribute("data-run-id") or ""
    page.get_by_role("link", name="Open the last run").click()
    expect(page).to_have_url(re.compile(f"/runs/{re.escape(run_id)}"))
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    return run_id


def test_a_hubspot_source_loads_then_only_changes_then_everything_on_full_refresh(
        page: Page, server: LiveServer, hubspot: FakeHubSpot) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    use_workspace(page, DEMO_WORKSPACE)
    create_connection(page, hubspot.url)
    pipeline = server.api("POST", "/api/pipelines/", {
        "name": "Contacts from HubSpot", "workspace": demo_workspace(server)})["id"]
    page.goto(f"{server.base_url}/pipelines/{pipeline}")

    # Drop the HubSpot node on the canvas and open its settings.
    palette = page.get_by_role("complementary", name="Operators")
    palette.get_by_label("Search operators").fill("hubspot")
    palette.locator("[data-operator='connector.hubspot']").drag_to(
        page.get_by_test_id("canvas"), target_position={"x": 300, "y": 200})
    node = page.get_by_test_id("op-node")
    expect(node).to_have_count(1)
    node.click()
    inspector = page.get_by_test_id("inspector")
    inspector.get_by_label("Connection").select_option(label=CONNECTION)

    # The resource is picked by its label; the properties suggested follow it.
    resource = inspector.get_by_label("Resource")
    expect(resource.locator("option")).to_have_text(["Contacts", "Companies", "Deals"])
    resource.select_option(label="Deals")
    properties = inspector.locator("[data-field=properties]")
    combo = properties.get_by_role("combobox")
    combo.click()
    expect(page.get_by_role("option", name="dealname", exact=True)).to_be_visible()
    expect(page.get_by_role("option", name="phone", exact=True)).to_have_count(0)
    combo.press("Escape")
    resource.select_option(label="Contacts")
    assert chips(properties) == ["email", "firstname", "lastname", "lifecyclestage"]
    combo.click()
    listbox = page.get_by_role("listbox", name="Choices")
    # The chips already taken are not offered again.
    expect(listbox.get_by_role("option", name="email", exact=True)).to_have_count(0)
    listbox.get_by_role("option", name="phone", exact=True).click()
    combo.fill("hs_score")
    expect(listbox).to_contain_text("Enter takes “hs_score”.")
    combo.press("Enter")
    # Removing a chip by its button.
    properties.get_by_role("button", name="Remove lifecyclestage").click()
    assert chips(properties) == ["email", "firstname", "lastname", "phone", "hs_score"]
    combo.click()
    combo.fill("job")
    expect(listbox.get_by_role("option")).to_have_text(["jobtitle"])
    expect(page.get_by_role("toolbar", name="Pipeline")).not_to_contain_text("issue")
    page.screenshot(path=str(SCREENS / "sources-form.png"))
    # By keyboard: down to the choice, Enter takes it.
    combo.press("ArrowDown")
    combo.press("Enter")
    combo.press("Escape")
    expect(listbox).to_be_hidden()
    assert chips(properties) == ["email", "firstname", "lastname", "phone", "hs_score", "jobtitle"]

    # First run: everything, from the start.
    run = page.get_by_role("button", name="Run", exact=True)
    first = run_and_open(page, run.click)
    report = page.get_by_test_id("source-report")
    expect(report.get_by_test_id("source-records")).to_have_text("250 records")
    expect(report.get_by_test_id("source-pages")).to_have_text("3 pages")
    expect(report.get_by_test_id("source-changes")).to_have_text("250 new · 0 updated")
    cursor = report.get_by_test_id("source-cursor")
    expect(cursor).to_contain_text("updatedAt")
    expect(cursor).to_contain_text("the start")
    expect(cursor).to_contain_text("full refresh")
    expect(page.get_by_test_id("run-full-refresh")).to_have_count(0)
    first_after = cursor.locator(".mono").last.inner_text()
    assert first_after.startswith("2023-"), first_after
    page.get_by_test_id("node-panel").screenshot(path=str(SCREENS / "sources-run-first.png"))
    stored = server.api("GET", f"/api/pipelines/{pipeline}/")["graph"]["nodes"][0]["params"]
    assert stored["properties"] == ["email", "firstname", "lastname", "phone", "hs_score",
                                    "jobtitle"]

    # The editor's output drawer says it too.
    page.get_by_role("link", name="Editor").click()
    node.click()
    drawer = page.get_by_test_id("output-drawer")
    head = drawer.locator(".drawer-head")
    expect(head).to_be_enabled()
    if head.get_attribute("aria-expanded") != "true":
        head.click()
    expect(drawer.get_by_test_id("source-records")).to_have_text("250 records")
    drawer.screenshot(path=str(SCREENS / "sources-editor-drawer.png"))

    # A contact changes in HubSpot: the next run fetches it alone, as updated.
    hubspot.put("contacts", "1007", firstname="Renamed")
    second = run_and_open(page, run.click, first)
    expect(report.get_by_test_id("source-records")).to_have_text("1 record")
    expect(report.get_by_test_id("source-changes")).to_have_text("0 new · 1 updated")
    expect(cursor).not_to_contain_text("full refresh")
    # The cursor moved on from where the first run ended.
    expect(cursor.locator(".mono").first).to_have_text(first_after)
    second_after = cursor.locator(".mono").last.inner_text()
    assert second_after > first_after, (first_after, second_after)
    page.set_viewport_size({"width": 1280, "height": 800})
    report.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENS / "sources-run-page.png"))

    # Full refresh from the Run menu: said what it does, then everything is read again.
    page.get_by_role("link", name="Editor").click()

    def full_refresh() -> None:
        page.get_by_role("button", name="More run options").click()
        page.get_by_role("menuitem", name="Full refresh").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text(
            "Sources read everything again from the start; cursors start over.")
        dialog.get_by_role("button", name="Run full refresh").click()

    requests_before = len(hubspot.requests)
    run_and_open(page, full_refresh, second)
    expect(page.get_by_test_id("run-full-refresh")).to_have_text("Full refresh")
    expect(report.get_by_test_id("source-records")).to_have_text("250 records")
    expect(report.get_by_test_id("source-pages")).to_have_text("3 pages")
    expect(report.get_by_test_id("source-changes")).to_have_text("250 new · 0 updated")
    expect(cursor).to_contain_text("full refresh")
    # Read from the start: what was asked of HubSpot filters from the epoch, not the cursor.
    asked = [json.loads(r["body"]) for r in hubspot.requests[requests_before:]]
    assert len(asked) == 3, asked
    assert {f["value"] for a in asked for g in a["filterGroups"] for f in g["filters"]} == {"0"}


def test_a_sql_table_is_chosen_from_the_database_and_its_sample_feeds_the_next_node(
        page: Page, server: LiveServer) -> None:
    workspace = demo_workspace(server)
    connection = server.api("POST", "/api/connections/", {
        "name": "Shop database", "kind": "sqlite", "fields": {"path": "shop.db"},
        "workspace": workspace})["id"]
    # The table was renamed since the node was set up: its columns cannot be listed.
    graph = {"nodes": [
        {"id": "shop", "operator": "connector.sql_query", "position": {"x": 0, "y": 0},
         "params": {"connection": connection, "mode": "table", "table": "old_customers"}},
        {"id": "keep", "operator": "transform.select_columns", "position": {"x": 320, "y": 0},
         "params": {"columns": ["email"]}}],
        "edges": [{"source": "shop", "source_port": "table", "target": "keep",
                   "target_port": "table"}]}
    pipeline = server.api("POST", "/api/pipelines/", {
        "name": "Customers from SQL", "workspace": workspace, "graph": graph})["id"]
    use_workspace(page, DEMO_WORKSPACE)
    page.goto(f"{server.base_url}/pipelines/{pipeline}")
    page.locator("[data-testid=op-node][data-node-id=keep]").click()
    inspector = page.get_by_test_id("inspector")
    expect(inspector.locator("[data-field=columns]")).to_contain_text(
        "Columns are not known yet")

    page.locator("[data-testid=op-node][data-node-id=shop]").click()
    expect(inspector.get_by_label("Mode").locator("option:checked")).to_have_text("Table")
    table = inspector.locator("[data-field=table]")
    columns = inspector.locator("[data-field=columns]")
    # The server's refusals, under the field: a table that is gone, no connection chosen.
    columns.get_by_role("combobox").click()
    expect(columns.get_by_test_id("options-error")).to_contain_text("old_customers")
    columns.get_by_role("combobox").press("Escape")
    inspector.get_by_label("Connection").select_option(value="")
    table.get_by_role("combobox").click()
    expect(table.get_by_test_id("options-error")).to_have_text("Choose the connection first.")
    table.get_by_role("combobox").press("Escape")
    inspector.get_by_label("Connection").select_option(label="Shop database · SQLite")

    # The tables the database lists; the columns of the one chosen.
    table_box = table.get_by_role("combobox")
    table_box.click()
    listbox = page.get_by_role("listbox", name="Choices")
    expect(listbox.get_by_role("option")).to_have_text(["customers", "orders"])
    listbox.get_by_role("option", name="customers").click()
    expect(table_box).to_have_value("customers")
    column_box = columns.get_by_role("combobox")
    column_box.click()
    expect(listbox.get_by_role("option")).to_have_text(["id", "email", "spend", "updated_at"])
    expect(columns.get_by_test_id("options-error")).to_have_count(0)
    listbox.get_by_role("option", name="email").click()
    listbox.get_by_role("option", name="spend").click()
    # Only the table's columns are taken: a typed name that is none of them is refused.
    column_box.fill("password")
    column_box.press("Enter")
    expect(columns.get_by_role("alert")).to_have_text("“password” is not one of the choices.")
    column_box.fill("")
    column_box.press("Escape")
    assert chips(columns) == ["email", "spend"]

    # A sample: the rows the source would read, and their columns known downstream at once.
    inspector.get_by_role("button", name="Sample").click()
    expect(inspector.get_by_test_id("sample-meta")).to_have_text("3 rows · 2 columns")
    sample = inspector.get_by_test_id("sample-table")
    expect(sample.locator("tbody tr")).to_have_count(3)
    expect(sample).to_contain_text("ada@example.com")
    page.screenshot(path=str(SCREENS / "sources-sql-sample.png"))
    page.locator("[data-testid=op-node][data-node-id=keep]").click()
    checklist = inspector.locator("[data-field=columns] .checklist-item")
    expect(checklist).to_have_count(2)
    expect(checklist).to_contain_text(["email", "spend"])
    expect(checklist.filter(has_text="email").get_by_role("checkbox")).to_be_checked()


def test_a_service_account_key_is_pasted_whole_and_stays_hidden(page: Page,
                                                                server: LiveServer) -> None:
    key = json.dumps({"type": "service_account",
                      "client_email": "reader@proj.iam.gserviceaccount.com",
                      "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE "
                      "KEY-----\n"}, indent=2)
    use_workspace(page, DEMO_WORKSPACE)
    page.get_by_role("link", name="Connections", exact=True).click()
    page.get_by_role("button", name="New connection").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Kind").select_option(label="Google Sheets")
    dialog.get_by_label("Name").fill("Finance sheets")
    secret = dialog.get_by_label("Service account json")
    expect(secret).to_have_js_property("tagName", "TEXTAREA")
    expect(secret).to_have_css("-webkit-text-security", "disc")
    secret.fill(key)
    expect(secret).to_have_value(key)  # every line kept
    dialog.screenshot(path=str(SCREENS / "sources-service-account.png"))
    dialog.get_by_role("button", name="Create connection").click()
    expect(dialog).to_be_hidden()
    stored = next(c for c in server.api("GET", "/api/connections/")
                  if c["name"] == "Finance sheets")
    assert stored["secrets_set"] == ["service_account_json"]
    assert "PRIVATE KEY" not in json.dumps(stored)


def test_nodes_pushed_into_the_database_say_so_on_the_canvas_and_the_run_page(
        page: Page, server: LiveServer) -> None:
    """A SQL source, a filter and a select after it: the filter runs inside SQLite as part of
    the select's query. The canvas and the run page mark both; the pushed node's panel names
    the node that ran it and shows no output of its own, and the select's output is right."""
    workspace = demo_workspace(server)
    connection = server.api("POST", "/api/connections/", {
        "name": "Shop (pushdown)", "kind": "sqlite", "fields": {"path": "shop.db"},
        "workspace": workspace})["id"]
    graph = {"nodes": [
        {"id": "shop", "operator": "connector.sql_query", "position": {"x": 0, "y": 0},
         "params": {"connection": connection, "query": "SELECT id, email, spend FROM customers"}},
        {"id": "spenders", "operator": "transform.filter_rows", "position": {"x": 320, "y": 0},
         "params": {"conditions": [{"column": "spend", "op": ">", "value": 10}]}},
        {"id": "emails", "operator": "transform.select_columns", "position": {"x": 640, "y": 0},
         "params": {"columns": ["email", "spend"]}}],
        "edges": [{"source": "shop", "source_port": "table", "target": "spenders",
                   "target_port": "table"},
                  {"source": "spenders", "source_port": "table", "target": "emails",
                   "target_port": "table"}]}
    pipeline = server.api("POST", "/api/pipelines/", {
        "name": "Spenders from SQL", "workspace": workspace, "graph": graph})["id"]
    use_workspace(page, DEMO_WORKSPACE)
    page.goto(f"{server.base_url}/pipelines/{pipeline}")
    run_id = run_and_open(page, page.get_by_role("button", name="Run", exact=True).click)

    rows = page.get_by_test_id("node-row")
    expect(rows.and_(page.locator("[data-node-id=shop]")).get_by_test_id("pushdown-badge")
           ).to_have_text("pushed down")
    expect(rows.and_(page.locator("[data-node-id=spenders]")).get_by_test_id("pushdown-badge")
           ).to_have_text("pushed down")
    expect(rows.and_(page.locator("[data-node-id=emails]")).get_by_test_id("pushdown-badge")
           ).to_have_text("2 in SQLite")
    page.screenshot(path=str(SCREENS / "pushdown-run-page.png"))

    rows.and_(page.locator("[data-node-id=spenders]")).click()
    panel = page.get_by_test_id("node-panel")
    expect(panel.get_by_test_id("pushdown-note")).to_contain_text("Pushed down into SQLite")
    expect(panel.locator(".node-logs")).to_contain_text(
        "Pushed down into SQLite: runs inside the query of Select columns (emails).")
    panel.screenshot(path=str(SCREENS / "pushdown-pushed-node.png"))
    rows.and_(page.locator("[data-node-id=emails]")).click()
    expect(panel.get_by_test_id("pushdown-note")).to_have_text("Ran 2 nodes in SQLite")
    output = server.api("GET", f"/api/runs/{run_id}/nodes/emails/preview/?port=table")
    assert output["rows"] == [["ada@example.com", 120.5], ["cy@example.com", 42.0]]

    page.goto(f"{server.base_url}/pipelines/{pipeline}")
    expect(page.locator("[data-testid=op-node][data-node-id=spenders]").get_by_test_id(
        "pushdown-badge")).to_have_text("pushed down")
    page.screenshot(path=str(SCREENS / "pushdown-canvas.png"))
