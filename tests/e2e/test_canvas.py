"""The canvas in a real browser: Debian's Chromium driven by Playwright against a live server
(daphne + in-process workers + SQLite, as `make run` serves it). DRAFT by the frontend work;
uses tests/live/server.py; the fixtures (server, browser, page) are in conftest.py.

Run: .venv/bin/python -m pytest tests/e2e -m e2e
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.live.server import LiveServer

from .support import DEMO_WORKSPACE, use_workspace

pytestmark = pytest.mark.e2e

CHURN = "Customer churn → CSV export"


def open_pipeline(page: Page, name: str) -> None:
    use_workspace(page, DEMO_WORKSPACE)
    page.get_by_role("link", name=name).click()
    expect(page.locator("[data-testid=op-node]").first).to_be_visible()


def new_pipeline(page: Page, name: str) -> None:
    page.get_by_role("button", name="New pipeline").click()
    page.get_by_role("dialog").get_by_label("Name", exact=True).fill(name)
    page.locator("button[form=pipeline-form]").click()
    expect(page.get_by_role("button", name=name)).to_be_visible()  # the editor's title


def run_and_wait(page: Page, status: str = "succeeded") -> None:
    """Start a run and wait until that run (not an earlier one) ends with `status`."""
    chip = page.get_by_test_id("run-status")
    before = chip.get_attribute("data-run-id") if chip.count() else None
    page.get_by_role("button", name="Run", exact=True).click()
    if before:
        expect(chip).not_to_have_attribute("data-run-id", before)
    expect(chip).to_have_attribute("data-status", status, timeout=60_000)


def back_to_pipelines(page: Page, *, confirm_leave: bool = False) -> None:
    """The editor's back button, then the pipelines list: the button leads to the workspace
    overview ("/") or straight to the list ("/pipelines"), depending on the editor."""
    page.get_by_role("button", name="Back to pipelines").click()
    if confirm_leave:
        page.get_by_role("dialog").get_by_role("button", name="Leave").click()
    expect(page).not_to_have_url(re.compile(r"/pipelines/[^/]+$"))
    if urlparse(page.url).path == "/":
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Pipelines").click()
    expect(page.get_by_role("heading", name="Pipelines", exact=True)).to_be_visible()


def save_state(page: Page):
    return page.get_by_test_id("save-state")


# --- the app shell ---------------------------------------------------------------------------

def test_login_required_and_routes_not_swallowed(server: LiveServer, browser: Browser) -> None:
    context = browser.new_context()
    pg = context.new_page()
    pg.goto(f"{server.base_url}/pipelines/anything")
    expect(pg).to_have_url(re.compile(r"/accounts/login/\?next=/pipelines/anything$"))
    login_then = pg.request.get(f"{server.base_url}/api/no-such-endpoint/")
    assert login_then.status in (401, 403, 404)
    assert "datagran-boot" not in login_then.text()
    context.close()


def test_shell_serves_client_routes_but_not_server_prefixes(page: Page,
                                                            server: LiveServer) -> None:
    shell = page.request.get(f"{server.base_url}/pipelines/some-id")
    assert shell.status == 200 and "datagran-boot" in shell.text()
    for path in ("/api/no-such-endpoint/", "/static/nope.js", "/ws/nope/", "/favicon.ico"):
        res = page.request.get(f"{server.base_url}{path}")
        assert res.status == 404, path
        assert "datagran-boot" not in res.text(), path


# --- pipelines list --------------------------------------------------------------------------

def test_list_search_create_rename_duplicate_delete(page: Page) -> None:
    use_workspace(page, DEMO_WORKSPACE)
    rows = page.get_by_test_id("pipeline-row")
    expect(rows.first).to_be_visible()
    count = rows.count()
    assert count >= 2
    page.get_by_label("Search pipelines").fill("iris")
    expect(rows).to_have_count(1)
    page.get_by_label("Search pipelines").fill("")

    page.get_by_role("button", name="Rename Iris classifier").click()
    page.get_by_role("dialog").get_by_label("Name", exact=True).fill("Iris flowers")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("link", name="Iris flowers")).to_be_visible()

    page.get_by_role("button", name="Duplicate Iris flowers").click()
    expect(page.get_by_role("link", name="Iris flowers (copy)")).to_be_visible()
    expect(rows).to_have_count(count + 1)

    page.get_by_role("button", name="Delete Iris flowers (copy)").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("cannot be undone")
    dialog.get_by_role("button", name="Delete").click()
    expect(rows).to_have_count(count)
    page.reload()
    use_workspace(page, DEMO_WORKSPACE)
    expect(page.get_by_role("link", name="Iris flowers (copy)")).to_have_count(0)


# --- editing ---------------------------------------------------------------------------------

def test_build_refuse_save_undo_and_draft(page: Page, server: LiveServer) -> None:
    new_pipeline(page, "E2E build")
    expect(save_state(page)).to_have_text("Saved")
    page.locator("[data-operator='connector.sample_dataset']").click()
    page.locator("[data-operator='transform.split']").click()  # auto-connects to the selection
    nodes = page.get_by_test_id("op-node")
    expect(nodes).to_have_count(2)
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    expect(save_state(page)).to_have_text("Unsaved changes")

    # The inspector's form comes from the params schema; change a number.
    page.locator("[data-node-id=n2]").click()
    test_size = page.locator("[data-field=test_size] input")
    expect(test_size).to_have_value("0.25")
    test_size.fill("0.3")

    page.keyboard.press("Control+s")
    expect(save_state(page)).to_have_text("Saved")
    saved = [p for p in server.api("GET", "/api/pipelines/") if p["name"] == "E2E build"][0]
    assert [n["operator"] for n in saved["graph"]["nodes"]] == [
        "connector.sample_dataset", "transform.split"]
    assert saved["graph"]["nodes"][1]["params"]["test_size"] == 0.3
    assert saved["graph"]["edges"] == [{"source": "n1", "source_port": "table",
                                        "target": "n2", "target_port": "table"}]

    # Undo / redo across edits.
    page.locator(".react-flow__pane").click(position={"x": 30, "y": 30})
    page.keyboard.press("Control+z")
    expect(save_state(page)).to_have_text("Unsaved changes")
    page.keyboard.press("Control+Shift+z")
    expect(save_state(page)).to_have_text("Saved")

    # A refused connection says why.
    page.locator("[data-operator='model.train_classifier']").click()
    page.locator(".react-flow__pane").click(position={"x": 30, "y": 30})
    page.locator("[data-operator='model.predict']").click()
    drag(page, ("n3", "metrics", "out"), ("n4", "model", "in"))
    expect(page.locator(".toast-error").filter(
        has_text="Cannot connect table output to model input.")).to_be_visible()
    expect(page.locator(".react-flow__edge")).to_have_count(1)

    # Unsaved edits survive a reload as a draft.
    expect(save_state(page)).to_have_text("Unsaved changes")
    page.wait_for_timeout(800)  # the draft is written after a short pause
    page.once("dialog", lambda d: d.accept())
    page.reload()
    banner = page.get_by_test_id("draft-banner")
    expect(banner).to_be_visible()
    expect(nodes).to_have_count(2)
    banner.get_by_role("button", name="Restore draft").click()
    expect(nodes).to_have_count(4)
    expect(save_state(page)).to_have_text("Unsaved changes")


def drag(page: Page, src: tuple[str, str, str], dst: tuple[str, str, str]) -> None:
    def centre(node: str, port: str, kind: str) -> tuple[float, float]:
        side = "right" if kind == "out" else "left"
        box = page.locator(f"[data-node-id='{node}'] .react-flow__handle-{side}"
                           f"[data-handleid='{port}']").bounding_box()
        assert box, f"no handle {node}.{port}"
        return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2

    sx, sy = centre(*src)
    tx, ty = centre(*dst)
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=5)
    page.mouse.move(tx, ty, steps=8)
    page.mouse.up()


def test_export_and_import_json(page: Page, tmp_path: Path) -> None:
    open_pipeline(page, CHURN)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Export JSON").click()
    exported = json.loads(Path(dl.value.path()).read_text())
    assert len(exported["graph"]["nodes"]) == 7
    exported["graph"]["nodes"] = exported["graph"]["nodes"][:2]
    exported["graph"]["edges"] = exported["graph"]["edges"][:1]
    path = tmp_path / "two.json"
    path.write_text(json.dumps(exported))
    page.get_by_test_id("import-file").set_input_files(str(path))
    expect(page.get_by_test_id("op-node")).to_have_count(2)
    page.keyboard.press("Control+z")
    expect(page.get_by_test_id("op-node")).to_have_count(7)


# --- running ---------------------------------------------------------------------------------

def test_run_shows_live_states_and_outputs(page: Page) -> None:
    open_pipeline(page, CHURN)
    run_and_wait(page)
    expect(page.locator("[data-testid=op-node][data-status=succeeded]")).to_have_count(7)
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "7")

    page.locator("[data-node-id=features]").click()
    drawer = page.get_by_test_id("output-drawer")
    expect(drawer.locator("table.data-table tbody tr").first).to_be_visible()
    expect(drawer).to_contain_text("rows out")
    csv = drawer.get_by_role("link", name="CSV")
    assert "format=csv" in (csv.get_attribute("href") or "")

    drawer.get_by_role("tab", name="Schema & stats").click()
    expect(drawer.locator("table.stats-table")).to_contain_text("tenure_months")
    drawer.get_by_role("tab", name="Logs").click()
    expect(drawer.locator("pre.logs")).not_to_be_empty()

    page.locator("[data-node-id=train]").dispatch_event("click")
    drawer.get_by_role("tab", name="Metrics").click()
    expect(drawer.get_by_test_id("metrics")).to_contain_text("accuracy")

    page.locator("[data-node-id=export]").dispatch_event("click")
    drawer.get_by_role("tab", name="Files").click()
    expect(drawer.get_by_role("link", name=re.compile(r"churn_at_risk"))).to_be_visible()

    # The list shows the last run's status.
    back_to_pipelines(page)
    row = page.get_by_test_id("pipeline-row").filter(has_text=CHURN)
    expect(row.locator("[data-status=succeeded]")).to_be_visible()


def test_dataset_upload_and_column_pickers(page: Page, tmp_path: Path) -> None:
    new_pipeline(page, "E2E upload")
    page.locator("[data-operator='connector.upload']").click()
    page.locator("[data-operator='transform.filter_rows']").click()
    page.locator("[data-node-id=n1]").click()
    csv = tmp_path / "people.csv"
    csv.write_text("name,age,city\nAda,36,London\nLinus,28,Helsinki\nGrace,45,Arlington\n")
    page.get_by_test_id("dataset-upload").set_input_files(str(csv))
    picker = page.locator("[data-field=dataset] select")
    expect(picker.locator("option:checked")).to_have_text(re.compile("people"))
    expect(page.locator("[data-field=dataset]")).to_contain_text("3 rows")

    # The filter's column picker offers the uploaded table's columns.
    page.locator("[data-node-id=n2]").click()
    page.get_by_role("button", name="Add condition").click()
    column = page.locator("[data-field=conditions] [data-field=column] select")
    expect(column.locator("option")).to_contain_text(["name · str", "age · int", "city · str"])
    column.select_option("age")
    page.locator("[data-field=conditions] [data-field=op] select").select_option(label=">")
    page.locator("[data-field=conditions] [data-field=value] input").fill("30")
    page.keyboard.press("Control+s")
    expect(save_state(page)).to_have_text("Saved")
    run_and_wait(page)
    page.locator("[data-node-id=n2]").click()
    drawer = page.get_by_test_id("output-drawer")
    expect(drawer.locator("table.data-table tbody tr")).to_have_count(2)


def test_leaving_with_unsaved_changes_asks_first(page: Page) -> None:
    new_pipeline(page, "E2E leave")
    page.locator("[data-operator='connector.sample_dataset']").click()
    page.get_by_role("button", name="Back to pipelines").click()
    dialog = page.get_by_role("dialog", name="Leave without saving?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id("op-node")).to_have_count(1)
    back_to_pipelines(page, confirm_leave=True)


def test_sign_out(page: Page, server: LiveServer) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto(f"{server.base_url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))


def test_run_resyncs_after_a_gap_in_the_event_stream(page: Page) -> None:
    """Drop one websocket message of the first connection: the canvas sees the gap in
    `seq`, reconnects and takes a fresh snapshot, and ends with the true final state."""
    connections = {"count": 0}

    def route(ws) -> None:
        connections["count"] += 1
        first = connections["count"] == 1
        seen = {"n": 0}
        server_ws = ws.connect_to_server()

        def forward(message) -> None:
            seen["n"] += 1
            if first and seen["n"] == 3:
                return  # lost in transit
            ws.send(message)

        server_ws.on_message(forward)

    page.route_web_socket(re.compile(r"/ws/runs/"), route)
    open_pipeline(page, CHURN)
    # A model never trained here (no cached result), so every node runs and streams its
    # events; a few hundred trees, not thousands: a loaded CI machine took over a minute.
    page.locator("[data-node-id=train]").dispatch_event("click")
    page.locator("[data-field=algorithm] select").select_option(label="Random forest")
    page.locator("[data-field=n_estimators] input").fill(str(150 + int(time.time()) % 200))
    run_and_wait(page)
    expect(page.locator("[data-testid=op-node][data-status=succeeded]")).to_have_count(7)
    assert connections["count"] >= 2


# --- run planning ----------------------------------------------------------------------------

def test_plan_marks_cached_and_will_run_nodes(page: Page, server: LiveServer) -> None:
    """Before a run each node says whether the run reuses its cached output or computes it
    (POST /plan/), and the toolbar sums it up; an edit marks the edited node and everything
    downstream "will run" at once, and the server agrees; Force re-run reuses nothing."""
    seed = 1000 + int(time.time() * 1000) % 100_000  # outputs no earlier test has cached

    def n(node_id: str, operator: str, x: int, **params: object) -> dict:
        return {"id": node_id, "operator": operator, "params": params,
                "position": {"x": x, "y": 120}}

    def e(src: str, sp: str, dst: str, dp: str) -> dict:
        return {"source": src, "source_port": sp, "target": dst, "target_port": dp}

    graph = {
        "nodes": [
            n("data", "connector.sample_dataset", 0, dataset="iris"),
            n("split", "transform.split", 260, test_size=0.3, seed=seed, stratify="target"),
            n("train", "model.train_classifier", 520, target="target",
              algorithm="random_forest", n_estimators=20, seed=seed),
            n("predict", "model.predict", 780),
            n("export", "action.export_file", 1040, format="csv", filename="plan_e2e"),
        ],
        "edges": [e("data", "table", "split", "table"), e("split", "train", "train", "train"),
                  e("split", "test", "train", "test"), e("train", "model", "predict", "model"),
                  e("split", "test", "predict", "table"), e("predict", "table", "export", "table")],
    }
    ws = next(w for w in server.api("GET", "/api/workspaces/") if w["name"] == DEMO_WORKSPACE)
    p = server.api("POST", f"/api/pipelines/?workspace={ws['id']}",
                   {"name": "E2E plan", "graph": graph})
    page.goto(f"{server.base_url}/pipelines/{p['id']}")
    expect(page.get_by_test_id("op-node")).to_have_count(5)

    def plan_of(node_id: str) -> Locator:
        return page.locator(f"[data-testid=op-node][data-node-id={node_id}]")

    def expect_plan(statuses: dict[str, str]) -> None:
        for node_id, status in statuses.items():
            node = plan_of(node_id)
            expect(node).to_have_attribute("data-plan", status)
            expect(node.locator(".op-plan")).to_have_text(
                "cached" if status == "cached" else "will run")

    summary = page.get_by_test_id("plan-summary")
    # Never run with this seed: the split and everything after it will run.
    expect_plan({"split": "run", "train": "run", "predict": "run", "export": "run"})
    expect(summary).to_have_text(re.compile(r"^[45] of 5 nodes will run$"))

    run_and_wait(page)
    # Everything is cached now, except the action: actions always run.
    expect_plan({"data": "cached", "split": "cached", "train": "cached",
                 "predict": "cached", "export": "run"})
    expect(summary).to_have_text("1 of 5 nodes will run")

    # Edit the model: it and what follows it will run, at once and by the server's plan.
    page.locator("[data-node-id=train]").click()
    def plans_the_edit(r) -> bool:
        if not (r.url.endswith("/plan/") and r.request.method == "POST"):
            return False
        nodes = json.loads(r.request.post_data or "{}")["graph"]["nodes"]
        return next(x for x in nodes if x["id"] == "train")["params"]["n_estimators"] == 21

    with page.expect_response(plans_the_edit) as planned:
        page.locator("[data-field=n_estimators] input").fill("21")
        expect_plan({"data": "cached", "split": "cached", "train": "run",
                     "predict": "run", "export": "run"})
        expect(summary).to_have_text("3 of 5 nodes will run")
    assert planned.value.json()["nodes"] == {"data": "cached", "split": "cached",
                                             "train": "run", "predict": "run", "export": "run"}
    expect_plan({"data": "cached", "split": "cached", "train": "run",
                 "predict": "run", "export": "run"})

    # Force re-run: saves the edit, then recomputes every node, cached or not.
    chip = page.get_by_test_id("run-status")
    before = chip.get_attribute("data-run-id")
    page.get_by_role("button", name="More run options").click()
    page.get_by_role("menuitem", name=re.compile("Force re-run")).click()
    expect(chip).not_to_have_attribute("data-run-id", before or "")
    expect(chip).to_have_attribute("data-status", "succeeded", timeout=60_000)
    run = server.api("GET", f"/api/runs/{chip.get_attribute('data-run-id')}/")
    assert [nr["cached"] for nr in run["nodes"]] == [False] * 5
    expect(page.locator("[data-testid=op-node] .op-cached")).to_have_count(0)
    expect(save_state(page)).to_have_text("Saved")
    expect_plan({"data": "cached", "split": "cached", "train": "cached",
                 "predict": "cached", "export": "run"})
