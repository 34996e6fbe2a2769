"""Reuse on the canvas, in a real browser: "Make sub-pipeline" on a selection, the run of the
pipeline that now calls it (the called nodes shown nested on the run page), "Expand", each one
undo step; and a pipeline from the palette's "Pipelines"."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .support import DEMO_WORKSPACE, use_workspace
from .test_canvas import back_to_pipelines, open_pipeline, run_and_wait, save_state

pytestmark = pytest.mark.e2e

CHURN = "Customer churn → CSV export"


def node(page: Page, node_id: str):
    return page.locator(f"[data-testid=op-node][data-node-id='{node_id}']")


def test_make_subpipeline_run_it_then_expand_it_back(page: Page) -> None:
    open_pipeline(page, CHURN)
    node(page, "features").click()
    node(page, "split").click(modifiers=["Control"])
    panel = page.get_by_role("complementary", name="Details")
    expect(panel.get_by_role("heading", name="2 nodes selected")).to_be_visible()
    panel.get_by_label("New pipeline's name").fill("Churn features and split")
    panel.get_by_role("button", name="Make sub-pipeline").click()
    # The selection is gone, a node calling the new pipeline took its place, with a port
    # where each edge crossed the selection.
    expect(node(page, "features")).to_have_count(0)
    expect(node(page, "split")).to_have_count(0)
    call = page.locator("[data-testid=op-node]").filter(has_text="Churn features and split")
    expect(call).to_have_count(1)
    expect(call.locator("[data-port=customers]")).to_have_count(1)  # the one input
    expect(call.locator(".op-port-out")).to_have_count(3)  # features, split's train and test
    expect(call).to_contain_text("Churn features and split v1")
    page.keyboard.press("Control+s")
    expect(save_state(page)).to_have_text("Saved")
    run_and_wait(page)
    expect(call.get_by_test_id("call-progress")).to_have_text("2 of 2 called nodes done")
    # Unfolded, the calling node lists its called nodes with their statuses.
    call.get_by_role("button", name="Called nodes").click()
    called = call.get_by_test_id("called-nodes").locator("li")
    expect(called).to_have_count(2)
    expect(called.first).to_have_attribute("data-status", "succeeded")
    expect(called.first).to_contain_text("features")
    expect(node(page, "export")).to_have_attribute("data-status", "succeeded")

    # The run page nests the called nodes under their call, folding.
    page.get_by_role("link", name="Open the last run").click()
    row = page.get_by_test_id("call-row")
    expect(row).to_contain_text("Churn features and split v1")
    expect(row).to_contain_text("2 of 2 done")
    inner = page.locator("[data-testid=node-row][data-node-id$='.features']")
    expect(inner).to_have_count(1)
    row.get_by_role("button").click()
    expect(inner).to_have_count(0)
    page.go_back()

    # Expand puts the nodes back; one undo puts the call back, one redo the nodes.
    call = page.locator("[data-testid=op-node]").filter(has_text="Churn features and split")
    call.click()
    page.get_by_role("complementary", name="Details").get_by_role("button", name="Expand").click()
    expect(call).to_have_count(0)
    nodes = page.locator("[data-testid=op-node]")
    expect(nodes).to_have_count(7)
    expect(page.locator("[data-testid=op-node]").filter(has_text="Split")).to_have_count(1)
    page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+z")
    expect(call).to_have_count(1)
    page.keyboard.press("Control+Shift+z")
    expect(call).to_have_count(0)
    page.keyboard.press("Control+s")
    expect(save_state(page)).to_have_text("Saved")
    run_and_wait(page)
    expect(node(page, "export")).to_have_attribute("data-status", "succeeded")

    # The new pipeline is in the list, and in the palette of other pipelines.
    back_to_pipelines(page)
    use_workspace(page, DEMO_WORKSPACE)
    expect(page.get_by_role("link", name="Churn features and split")).to_be_visible()
    page.get_by_role("link", name="Customer churn → CRM").click()
    palette = page.get_by_role("complementary", name="Operators")
    palette.get_by_label("Search operators").fill("churn features")
    entry = palette.get_by_test_id("palette-item").filter(has_text="Churn features and split")
    expect(entry).to_contain_text("in: customers")
    before = page.locator("[data-testid=op-node]").count()
    entry.click()
    expect(page.locator("[data-testid=op-node]")).to_have_count(before + 1)
    added = page.locator("[data-testid=op-node].selected")
    expect(added).to_contain_text("Churn features and split")
    expect(added.locator("[data-port=customers]")).to_have_count(1)
