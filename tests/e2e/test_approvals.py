"""Actions and approvals in a real browser (Debian's Chromium via Playwright) against one live
server for the module: the editor's toolbar says "Waiting for your approval" with a jump to
the node, whose drawer shows what will be sent right under the approval message; rejecting
ends the run cancelled ("Rejected by demo"), not failed; the overview jumps to the waiting
node and approving a dry run there records without sending; the run page's header and
timeline agree on the duration; switching nodes starts the table at the top."""
from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.live.server import LiveServer, wait_run

pytestmark = pytest.mark.e2e


def approval_pipeline(server: LiveServer, name: str, **crm: Any) -> str:
    """Customers → the first 60 → a HubSpot upsert waiting for approval. Its host does not
    resolve (no network needed): the gate is reached all the same."""
    connection = server.api("POST", "/api/connections/", {
        "name": f"Offline HubSpot {name}", "kind": "hubspot",
        "fields": {"base_url": "https://api.hubapi.invalid", "access_token": "x"}})

    def node(node_id: str, operator: str, x: int, **params: Any) -> dict[str, Any]:
        return {"id": node_id, "operator": operator, "params": params,
                "position": {"x": x, "y": 100}}

    def edge(source: str, target: str) -> dict[str, str]:
        return {"source": source, "source_port": "table", "target": target,
                "target_port": "table"}

    graph = {"nodes": [node("data", "connector.sample_dataset", 0, dataset="customers"),
                       node("top", "transform.sort_limit", 260, limit=60, order_by=[
                           {"column": "customer_id", "descending": False}]),
                       node("crm", "action.hubspot_upsert", 520,
                            connection=connection["id"], key_column="email",
                            mappings=[{"column": "plan", "property": "plan"}],
                            **{"require_approval": True, **crm})],
             "edges": [edge("data", "top"), edge("top", "crm")]}
    return str(server.api("POST", "/api/pipelines/", {"name": name, "graph": graph})["id"])


def waiting_run(server: LiveServer, pipeline_id: str) -> str:
    run = server.api("POST", f"/api/pipelines/{pipeline_id}/runs/", {})
    for _ in range(300):
        if server.api("GET", f"/api/runs/{run['id']}/")["waiting_node"] == "crm":
            return str(run["id"])
        time.sleep(0.2)
    raise AssertionError("the run never reached its approval gate")


def test_the_editor_says_waiting_for_your_approval_and_a_rejection_cancels_the_run(
        page: Page, server: LiveServer) -> None:
    pipeline_id = approval_pipeline(server, "Approve in the editor")
    page.goto(f"{server.base_url}/pipelines/{pipeline_id}")
    page.get_by_role("button", name="Run", exact=True).click()
    bar = page.get_by_test_id("toolbar-approval")
    expect(bar).to_contain_text("Waiting for your approval", timeout=60_000)
    bar.get_by_role("button", name="Go to node").click()
    drawer = page.get_by_test_id("output-drawer")
    expect(drawer).to_contain_text("HubSpot upsert · crm")
    banner = drawer.get_by_test_id("approval-banner")
    expect(banner).to_contain_text("Waiting for your approval")
    # What will be sent, right under the message (it said "No output" there before).
    first_row = drawer.locator("tbody tr").first
    expect(first_row).to_contain_text("customer_00001@example.com")
    expect(first_row).to_contain_text("dry_run")
    expect(drawer).not_to_contain_text("No output")
    banner_box, row_box = banner.bounding_box(), first_row.bounding_box()
    assert banner_box and row_box and banner_box["y"] < row_box["y"]
    banner.get_by_role("button", name="Reject").click()
    chip = page.get_by_test_id("run-status")
    expect(chip).to_have_attribute("data-status", "cancelled", timeout=30_000)
    expect(bar).to_have_count(0)
    expect(drawer.get_by_test_id("node-cancelled-note")).to_have_text(
        "Rejected by demo: nothing was sent.")
    expect(drawer.locator(".banner-error")).to_have_count(0)
    # The inspector of the selected node says it neutrally, not as the node's error.
    expect(page.locator(".inspector-run-note")).to_have_text("Rejected by demo: nothing was sent.")
    expect(page.locator(".inspector-run-error")).to_have_count(0)
    # A cancelled run counts the nodes that finished, not all of them.
    expect(chip).to_contain_text("2/3")
    run = server.api("GET", f"/api/runs/{chip.get_attribute('data-run-id')}/")
    assert run["status"] == "cancelled" and run["error"] == "Rejected by demo: nothing was sent."
    crm = next(n for n in run["nodes"] if n["node_id"] == "crm")
    assert crm["error_field"] == "" and "results" not in crm["outputs"]


def test_the_overview_jumps_to_the_waiting_node_and_approving_a_dry_run_sends_nothing(
        page: Page, server: LiveServer) -> None:
    pipeline_id = approval_pipeline(server, "Approve a dry run", dry_run=True)
    run_id = waiting_run(server, pipeline_id)
    page.goto(f"{server.base_url}/")
    item = page.locator("[data-testid=active-item][data-waiting=crm]")
    expect(item).to_contain_text("Waiting for your approval")
    item.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/runs/{run_id}\?node=crm$"))
    expect(page.get_by_test_id("node-panel")).to_have_attribute("data-node-id", "crm")
    expect(page.get_by_test_id("run-waiting")).to_contain_text("Waiting for your approval")
    expect(page.get_by_test_id("node-preview")).to_contain_text("customer_00001@example.com")
    page.get_by_test_id("node-panel").get_by_role("button", name="Approve and send").click()
    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000)
    expect(page.get_by_test_id("run-waiting")).to_have_count(0)
    # Approved in dry run: the results record what would have been sent, nothing sent (the
    # host does not even resolve: a real send would have failed the node).
    preview = server.api("GET", f"/api/runs/{run_id}/nodes/crm/preview/")
    assert preview["total_rows"] == 60 and {r[1] for r in preview["rows"]} == {"dry_run"}
    # One duration: the header says what the timeline totals.
    header = page.get_by_test_id("run-duration").inner_text()
    expect(page.get_by_test_id("gantt").locator(".gantt-total")).to_have_text(
        f"Total {header}")


def test_switching_nodes_on_the_run_page_starts_the_table_at_the_top(
        page: Page, server: LiveServer) -> None:
    pipeline_id = approval_pipeline(server, "Scroll tables", dry_run=True,
                                    require_approval=False)
    run = wait_run(server, str(server.api(
        "POST", f"/api/pipelines/{pipeline_id}/runs/", {})["id"]))
    page.goto(f"{server.base_url}/runs/{run['id']}?node=data")
    table = page.get_by_test_id("node-preview")
    expect(table.locator("tbody tr").first).to_be_visible()
    table.evaluate("el => { el.scrollTop = 400; }")
    assert table.evaluate("el => el.scrollTop") > 0
    page.locator("[data-testid=node-row][data-node-id=top]").click()
    expect(page.get_by_test_id("node-panel")).to_have_attribute("data-node-id", "top")
    expect(table.locator("tbody tr").first).to_be_visible()
    assert table.evaluate("el => el.scrollTop") == 0
