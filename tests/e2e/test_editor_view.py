"""The editor's view and placement, as a person meets them in Chromium: every node in view
and clickable on opening and after the output drawer opens and closes (the minimap never over
one); a dropped node where it was dropped; paste and duplicate at the pointer; auto-layout at a
readable zoom; the toolbar's links; plain validation on the form; the dashboard's webhook panel.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.live.server import LiveServer

from .support import DEMO_WORKSPACE, use_workspace

pytestmark = pytest.mark.e2e

CHURN = "Customer churn → CSV export"
CRM = "Customer churn → CRM"
IRIS = "Iris classifier"
# Auto-layout's least zoom (frontend/src/editor/layout.ts READABLE_ZOOM).
READABLE_ZOOM = 0.6
# A new node is centred on the drop point or the pointer (layout.ts DEFAULT_NODE_SIZE / 2).
HALF_W, HALF_H = 102, 48


def open_pipeline(page: Page, name: str) -> None:
    use_workspace(page, DEMO_WORKSPACE)
    page.get_by_role("link", name=name).click()
    expect(page.get_by_test_id("canvas")).to_have_attribute("data-ready", "true")


def new_pipeline(page: Page, name: str) -> None:
    page.get_by_role("button", name="New pipeline").click()
    page.get_by_role("dialog").get_by_label("Name", exact=True).fill(name)
    page.locator("button[form=pipeline-form]").click()
    expect(page.get_by_role("button", name=name)).to_be_visible()


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found, f"{locator} has no box"
    return {"x": found["x"], "y": found["y"], "width": found["width"],
            "height": found["height"]}


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["width"] and a["x"] + a["width"] > b["x"]
            and a["y"] < b["y"] + b["height"] and a["y"] + a["height"] > b["y"])


def zoom(page: Page) -> float:
    style = page.locator(".react-flow__viewport").get_attribute("style") or ""
    found = re.search(r"scale\(([\d.]+)\)", style)
    assert found, style
    return float(found.group(1))


def assert_every_node_reachable(page: Page) -> None:
    """Each node lies wholly inside the canvas, under no minimap, and a real click at its
    centre selects it (the inspector shows its id)."""
    canvas = box(page.get_by_test_id("canvas"))
    minimap = page.locator(".react-flow__minimap")
    mini = box(minimap) if minimap.count() else None
    nodes = page.get_by_test_id("op-node")
    ids = [nodes.nth(i).get_attribute("data-node-id") for i in range(nodes.count())]
    assert ids
    for node_id in ids:
        node = page.locator(f"[data-testid=op-node][data-node-id='{node_id}']")
        b = box(node)
        assert canvas["x"] <= b["x"] and b["x"] + b["width"] <= canvas["x"] + canvas["width"], (
            node_id, b, canvas)
        assert canvas["y"] <= b["y"] and b["y"] + b["height"] <= canvas["y"] + canvas["height"], (
            node_id, b, canvas)
        assert mini is None or not overlaps(b, mini), (node_id, b, mini)
        page.mouse.click(b["x"] + b["width"] / 2, b["y"] + 12)
        expect(page.get_by_test_id("inspector")).to_contain_text(f"· {node_id}")


def test_every_node_stays_in_view_and_clickable_as_the_drawer_opens_and_closes(
        page: Page) -> None:
    open_pipeline(page, IRIS)
    assert_every_node_reachable(page)
    chip = page.get_by_test_id("run-status")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(chip).to_have_attribute("data-status", "succeeded", timeout=60_000)

    # Selecting a node opens its output under the canvas, which shrinks.
    page.locator("[data-node-id=export]").click()
    drawer = page.get_by_test_id("output-drawer")
    expect(drawer).to_have_class(re.compile(r"drawer-open"))
    assert_every_node_reachable(page)
    drawer.locator(".drawer-head").click()
    expect(drawer).not_to_have_class(re.compile(r"drawer-open"))
    assert_every_node_reachable(page)

    # Pan a node under the minimap's corner: the minimap moves away instead of covering it.
    node = box(page.locator("[data-node-id=export]"))
    canvas = box(page.get_by_test_id("canvas"))
    pane = page.locator(".react-flow__pane")
    start = (canvas["x"] + 30, canvas["y"] + 30)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + (canvas["x"] + canvas["width"] - 60 - node["x"] - node["width"]),
                    start[1] + (canvas["y"] + canvas["height"] - 50 - node["y"] - node["height"]),
                    steps=8)
    page.mouse.up()
    expect(pane).to_be_visible()
    moved = box(page.locator("[data-node-id=export]"))
    minimap = page.locator(".react-flow__minimap")
    if minimap.count():
        assert not overlaps(moved, box(minimap))
    page.mouse.click(moved["x"] + moved["width"] / 2, moved["y"] + 12)
    expect(page.get_by_test_id("inspector")).to_contain_text("· export")


def test_a_dropped_node_stays_where_it_was_dropped_and_paste_lands_at_the_pointer(
        page: Page) -> None:
    new_pipeline(page, "E2E placement")
    canvas = box(page.get_by_test_id("canvas"))
    nodes = page.get_by_test_id("op-node")

    def drop(operator: str, x: float, y: float) -> None:
        item = page.locator(f"[data-operator='{operator}']")
        item.drag_to(page.get_by_test_id("canvas"),
                     target_position={"x": x - canvas["x"], "y": y - canvas["y"]})

    def assert_centred_at(node: Locator, x: float, y: float) -> None:
        z = zoom(page)
        b = box(node)
        assert abs(b["x"] - (x - HALF_W * z)) <= 4, (b, x, z)
        assert abs(b["y"] - (y - HALF_H * z)) <= 4, (b, y, z)

    first_at = (canvas["x"] + 180, canvas["y"] + 140)
    drop("connector.sample_dataset", *first_at)
    expect(nodes).to_have_count(1)
    assert_centred_at(nodes.nth(0), *first_at)
    second_at = (canvas["x"] + 480, canvas["y"] + 320)
    drop("transform.split", *second_at)
    expect(nodes).to_have_count(2)
    assert_centred_at(nodes.nth(1), *second_at)
    assert_centred_at(nodes.nth(0), *first_at)  # the first did not move either

    # Copy the first node, point somewhere else, paste: the copy is centred on the pointer.
    page.locator("[data-node-id=n1]").click()
    page.keyboard.press("Control+c")
    paste_at = (canvas["x"] + 200, canvas["y"] + 420)
    page.mouse.move(*paste_at)
    page.keyboard.press("Control+v")
    expect(nodes).to_have_count(3)
    assert_centred_at(page.locator("[data-node-id=n3]"), *paste_at)

    # Duplicate (Ctrl+D) lands at the pointer too, not on top of the original.
    page.locator("[data-node-id=n2]").click()
    dup_at = (canvas["x"] + 560, canvas["y"] + 130)
    page.mouse.move(*dup_at)
    page.keyboard.press("Control+d")
    expect(nodes).to_have_count(4)
    assert_centred_at(page.locator("[data-node-id=n4]"), *dup_at)

    # The inspector's Duplicate button (pointer off the canvas) puts the copy beside it.
    page.locator("[data-node-id=n1]").click()
    page.get_by_role("button", name="Duplicate node").click()
    expect(nodes).to_have_count(5)
    assert not overlaps(box(page.locator("[data-node-id=n5]")),
                        box(page.locator("[data-node-id=n1]")))


def test_auto_layout_never_zooms_out_past_readable_text(page: Page) -> None:
    open_pipeline(page, CRM)
    page.get_by_role("button", name="Auto-layout").click()
    page.wait_for_function(
        "() => !document.querySelector('.react-flow__viewport').style.transition")
    expect(page.locator(".react-flow__viewport")).to_have_attribute(
        "style", re.compile(r"scale\((0\.[6-9]\d*|1)\)"))
    assert zoom(page) >= READABLE_ZOOM
    # The start of the pipeline is in view: its first node is inside the canvas.
    canvas = box(page.get_by_test_id("canvas"))
    first = box(page.get_by_test_id("op-node").first)
    assert canvas["x"] <= first["x"] <= canvas["x"] + canvas["width"] - first["width"]


def test_the_toolbar_links_to_the_dashboard_the_deploy_page_and_the_last_run(
        page: Page, server: LiveServer) -> None:
    open_pipeline(page, CHURN)
    pipeline_url = page.url
    page.get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(re.compile(re.escape(pipeline_url) + "/dashboard$"))
    page.get_by_role("link", name="Editor").click()
    page.get_by_role("link", name="Deploy").click()
    expect(page).to_have_url(re.compile(re.escape(pipeline_url) + "/deploy$"))
    page.go_back()
    chip = page.get_by_test_id("run-status")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(chip).to_have_attribute("data-status", "succeeded", timeout=60_000)
    run_id = chip.get_attribute("data-run-id")
    page.get_by_role("link", name="Open the last run").click()
    expect(page).to_have_url(re.compile(rf"/runs/{run_id}$"))


def test_validation_speaks_plainly_and_features_leave_out_the_target(page: Page) -> None:
    open_pipeline(page, CHURN)
    # A range hint is neutral while the value is in range, a problem once it is not.
    page.locator("[data-node-id=split]").click()
    field = page.locator("[data-field=test_size]")
    hint = field.locator(".field-hint")
    expect(hint).to_have_text("Between 0 and 1 (exclusive).")
    expect(hint).not_to_have_attribute("data-bad", "true")
    field.locator("input").fill("1.5")
    expect(hint).to_have_attribute("data-bad", "true")
    expect(field.locator(".field-error")).to_have_text("Test size must be less than 1, got 1.5.")
    field.locator("input").fill("0.3")
    expect(hint).not_to_have_attribute("data-bad", "true")
    expect(field.locator(".field-error")).to_have_count(0)

    # No columns chosen: said in the form's words.
    page.locator("[data-node-id=features]").click()
    columns = page.locator("[data-field=columns]")
    columns.get_by_role("button", name="None").click()
    expect(columns.locator(".field-error")).to_have_text(
        "Choose at least one column for Columns.")
    page.keyboard.press("Control+z")
    expect(columns.locator(".field-error")).to_have_count(0)

    # The model's features never offer its target; "All" leaves it out.
    page.locator("[data-node-id=train]").click()
    features = page.locator("[data-field=features]")
    expect(features.locator(".checklist-item")).not_to_have_count(0)
    expect(features.locator(".checklist-item", has_text=re.compile(r"^churned"))).to_have_count(0)
    features.get_by_role("button", name="All").click()
    expect(features.locator(".field-error")).to_have_count(0)
    expect(page.locator(".chip-status.chip-ok")).to_be_visible()


def test_the_webhook_panel_offers_turn_off_only_when_a_webhook_is_on(page: Page) -> None:
    open_pipeline(page, IRIS)
    page.get_by_role("link", name="Dashboard").click()
    panel = page.get_by_test_id("webhook")
    expect(panel.get_by_role("button", name="Create webhook URL")).to_be_visible()
    expect(panel.get_by_role("button", name="Turn off")).to_have_count(0)
    panel.get_by_role("button", name="Create webhook URL").click()
    page.get_by_role("dialog").get_by_role("button", name="Create").click()
    expect(panel.get_by_test_id("webhook-url")).to_be_visible()
    panel.get_by_role("button", name="Turn off").click()
    page.get_by_role("dialog").get_by_role("button", name="Turn off").click()
    expect(panel.get_by_role("button", name="Turn off")).to_have_count(0)
    expect(panel.get_by_role("button", name="Create webhook URL")).to_be_visible()


def test_a_bad_cron_names_the_field_and_its_allowed_range(page: Page, server: LiveServer) -> None:
    open_pipeline(page, CHURN)
    page.get_by_role("link", name="Dashboard").click()
    schedules = page.get_by_test_id("schedules")
    schedules.get_by_role("button", name="Add schedule").click()
    form = page.get_by_test_id("schedule-form")
    form.get_by_label("Cron expression").fill("75 * * * *")
    expect(form.locator(".field-error")).to_have_text("minute must be 0–59, got 75.")
    expect(form.get_by_role("button", name="Add schedule")).to_be_disabled()
    pipeline_id = page.url.split("/pipelines/")[1].split("/")[0]
    assert server.api("GET", f"/api/pipelines/{pipeline_id}/schedules/") == []
