"""The workspace pages in a real browser (Debian's Chromium via Playwright) against one live
server for the module: overview, runs (live across tabs), run detail (graph, Gantt, failing
node), models (promote), deploy (endpoint, Try it).

Run: .venv/bin/python -m pytest tests/e2e -m e2e
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from playwright.sync_api import Browser, Page, expect
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from tests.live.server import LiveServer, pipeline_ids, start_run

from .support import DEMO_WORKSPACE, login, use_workspace

pytestmark = pytest.mark.e2e

IRIS = "Iris classifier"
CHURN = "Customer churn → CSV export"
IRIS_MODEL = "Iris classifier / train"


def setosa_only(workspace: str) -> dict[str, Any]:
    """A pipeline that fails at train: after the filter only one class is left."""
    def node(node_id: str, operator: str, x: int, **params: Any) -> dict[str, Any]:
        return {"id": node_id, "operator": operator, "params": params,
                "position": {"x": x, "y": 100}}

    def edge(source: str, sport: str, target: str, tport: str) -> dict[str, str]:
        return {"source": source, "source_port": sport, "target": target, "target_port": tport}

    return {
        "name": "Setosa only", "workspace": workspace,
        "graph": {
            "nodes": [
                node("data", "connector.sample_dataset", 0, dataset="iris"),
                node("setosa", "transform.filter_rows", 260, conditions=[
                    {"column": "target", "op": "==", "value": "setosa"}]),
                node("split", "transform.split", 520, test_size=0.3, seed=1),
                node("train", "model.train_classifier", 780, target="target"),
                node("predict", "model.predict", 1040),
            ],
            "edges": [
                edge("data", "table", "setosa", "table"),
                edge("setosa", "table", "split", "table"),
                edge("split", "train", "train", "train"),
                edge("split", "test", "train", "test"),
                edge("train", "model", "predict", "model"),
                edge("split", "test", "predict", "table"),
            ],
        },
    }


@pytest.fixture(scope="module")
def ids(server: LiveServer) -> dict[str, str]:
    return pipeline_ids(server)


@pytest.fixture(scope="module")
def iris_run(server: LiveServer, ids: dict[str, str]) -> dict[str, Any]:
    run = start_run(server, ids[IRIS])
    assert run["status"] == "succeeded", run
    return run


@pytest.fixture(scope="module")
def failed_run(server: LiveServer, ids: dict[str, str]) -> dict[str, Any]:
    workspace = server.api("GET", f"/api/pipelines/{ids[IRIS]}/")["workspace"]
    pipeline = server.api("POST", "/api/pipelines/", setosa_only(workspace))
    run = start_run(server, pipeline["id"])
    assert run["status"] == "failed", run
    return run


def open_page(page: Page, server: LiveServer, path: str) -> None:
    """The demo workspace, then `path` by a full load (the workspace choice is remembered)."""
    use_workspace(page, DEMO_WORKSPACE)
    page.goto(f"{server.base_url}{path}")


# --- overview and runs list --------------------------------------------------------------------

def test_overview_and_runs_render_real_runs(page: Page, server: LiveServer,
                                            iris_run: dict[str, Any],
                                            failed_run: dict[str, Any]) -> None:
    open_page(page, server, "/")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview")
           ).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("stat-runs-today").locator(".stat-value")).not_to_have_text("0")
    expect(page.get_by_test_id("stat-failures")).to_contain_text("1")
    failure = page.get_by_test_id("failure-item")
    expect(failure).to_have_count(1)
    expect(failure).to_contain_text("Setosa only")
    expect(failure).to_contain_text("single class")
    expect(page.get_by_test_id("models-card")).to_contain_text(IRIS_MODEL)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    expect(page).to_have_url(re.compile(r"/runs$"))
    row = page.locator(f"[data-testid=run-row][data-run-id='{iris_run['id']}']")
    expect(row).to_have_attribute("data-status", "succeeded")
    expect(row).to_contain_text(IRIS)
    expect(row).to_contain_text(iris_run["version"][:8])

    # Filters live in the URL; a status filter leaves only the failed run.
    page.get_by_role("group", name="Status").get_by_role("button", name="Failed").click()
    expect(page).to_have_url(re.compile(r"/runs\?status=failed$"))
    rows = page.get_by_test_id("run-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-run-id", failed_run["id"])
    page.get_by_label("Search runs by pipeline name").fill("iris")
    expect(page.get_by_text("No run matches these filters.")).to_be_visible()
    page.get_by_role("button", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/runs$"))
    row.click()
    expect(page).to_have_url(re.compile(f"/runs/{iris_run['id']}"))


def test_a_run_started_in_one_tab_appears_live_in_another(browser: Browser,
                                                          server: LiveServer,
                                                          ids: dict[str, str]) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    watcher = context.new_page()
    watcher.on("pageerror", lambda e: errors.append(str(e)))
    login(watcher, server, "/runs")
    use_workspace(watcher, DEMO_WORKSPACE)
    expect(watcher.get_by_test_id("live-indicator")).to_have_attribute("data-state", "live")
    watcher.evaluate("window.__notReloaded = true")

    starter = context.new_page()
    starter.on("pageerror", lambda e: errors.append(str(e)))
    starter.goto(f"{server.base_url}/pipelines/{ids[CHURN]}/dashboard")
    starter.get_by_role("button", name="Run now").click()
    expect(starter).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    run_id = starter.url.rsplit("/", 1)[1]

    row = watcher.locator(f"[data-testid=run-row][data-run-id='{run_id}']")
    expect(row).to_be_visible(timeout=20_000)
    expect(row).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect(row).to_contain_text(CHURN)
    assert watcher.evaluate("window.__notReloaded") is True
    # The run page the starter landed on followed the same run to the end.
    expect(starter.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    context.close()
    assert not errors, errors


# --- run detail ---------------------------------------------------------------------------------

def test_run_detail_draws_the_version_and_one_gantt_bar_per_node(
        page: Page, server: LiveServer, iris_run: dict[str, Any]) -> None:
    open_page(page, server, f"/runs/{iris_run['id']}")
    nodes = iris_run["nodes"]
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_test_id("run-graph-node")).to_have_count(len(nodes))
    expect(page.locator("[data-testid=run-graph-node][data-status=succeeded]")
           ).to_have_count(len(nodes))
    expect(page.get_by_test_id("gantt-row")).to_have_count(len(nodes))
    expect(page.get_by_test_id("gantt-bar")).to_have_count(len(nodes))
    for n in nodes:
        expect(page.locator(f"[data-testid=gantt-row][data-node-id='{n['node_id']}'] "
                            "[data-testid=gantt-bar]")).to_have_count(1)

    # A node's output: preview rows and a CSV link.
    page.locator("[data-testid=gantt-row][data-node-id=split]").click()
    panel = page.get_by_test_id("node-panel")
    expect(panel).to_have_attribute("data-node-id", "split")
    expect(panel.get_by_test_id("node-preview").locator("tbody tr").first).to_be_visible()
    csv = panel.get_by_role("link", name="CSV")
    assert "port=" in (csv.get_attribute("href") or "")
    # The model it registered.
    expect(page.get_by_test_id("run-models")).to_contain_text(IRIS_MODEL)


def test_failed_run_shows_the_failing_node_and_its_message(
        page: Page, server: LiveServer, failed_run: dict[str, Any]) -> None:
    open_page(page, server, f"/runs/{failed_run['id']}")
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "failed")
    expect(page.get_by_test_id("run-error")).to_contain_text("single class")
    expect(page.locator("[data-testid=run-graph-node][data-node-id=train]")
           ).to_have_attribute("data-status", "failed")
    expect(page.locator("[data-testid=run-graph-node][data-node-id=predict]")
           ).to_have_attribute("data-status", "skipped")
    panel = page.get_by_test_id("node-panel")
    expect(panel).to_have_attribute("data-node-id", "train")
    expect(panel.get_by_test_id("node-error")).to_contain_text("single class")
    expect(panel.get_by_test_id("node-error")).to_contain_text("target")  # the field at fault
    expect(page.get_by_role("button", name="Re-run from train")).to_be_visible()
    # The cache makes a re-run start at the failed node: the upstream nodes are reused.
    page.get_by_role("button", name="Re-run from train").click()
    expect(page).not_to_have_url(re.compile(failed_run["id"]))
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "failed")
    expect(page.locator("[data-testid=node-row][data-node-id=data]")).to_contain_text("cached")


# --- models -------------------------------------------------------------------------------------

def test_models_list_and_promote_moves_the_alias(page: Page, server: LiveServer,
                                                 ids: dict[str, str],
                                                 iris_run: dict[str, Any]) -> None:
    # A second version of the model: another seed (a forced re-run would reproduce the first).
    saved = server.api("GET", f"/api/pipelines/{ids[IRIS]}/")["graph"]
    graph = json.loads(json.dumps(saved))
    next(n for n in graph["nodes"] if n["id"] == "train")["params"]["seed"] = 11
    server.api("PATCH", f"/api/pipelines/{ids[IRIS]}/", {"graph": graph})
    start_run(server, ids[IRIS])
    server.api("PATCH", f"/api/pipelines/{ids[IRIS]}/", {"graph": saved})
    open_page(page, server, "/models")
    row = page.get_by_test_id("model-row").filter(has_text=IRIS_MODEL)
    expect(row).to_have_count(1)
    expect(page.locator("table[aria-label=Models] th").filter(has_text="accuracy")).to_have_count(1)
    row.get_by_role("link", name=IRIS_MODEL).click()
    expect(page.get_by_role("heading", name=IRIS_MODEL)).to_be_visible()
    expect(page.get_by_test_id("version-row")).to_have_count(2)

    def promote(version: int) -> None:
        page.get_by_role("button", name=f"Promote version {version}").click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_label("Alias")).to_have_value("production")
        dialog.get_by_role("button", name="Promote").click()
        expect(page.locator("[data-testid=alias][data-alias=production]")
               ).to_have_attribute("data-version", str(version))

    promote(1)
    expect(page.locator("[data-testid=version-row][data-version='1'] [data-alias=production]")
           ).to_be_visible()
    promote(2)
    expect(page.locator("[data-testid=version-row][data-version='2'] [data-alias=production]")
           ).to_be_visible()
    expect(page.locator("[data-testid=version-row][data-version='1'] [data-alias=production]")
           ).to_have_count(0)
    model = next(m for m in server.api("GET", "/api/models/") if m["name"] == IRIS_MODEL)
    assert model["aliases"] == {"production": 2}
    # The two versions side by side.
    expect(page.get_by_test_id("compare")).to_contain_text("accuracy")

    page.locator("[data-testid=version-row][data-version='2']").get_by_role("link").click()
    expect(page.get_by_test_id("lineage-node")).not_to_have_count(0)
    expect(page.locator("[data-testid=lineage-node][data-kind=model_version]")).to_have_count(1)
    expect(page.locator("[data-testid=lineage-node][data-kind=dataset]")).to_contain_text("iris")


class Sneaky(BaseEstimator):
    def predict(self, X):  # noqa: ANN001, ANN201
        return np.zeros(len(X))


def test_import_a_model_and_refuse_untrusted_types(page: Page, server: LiveServer,
                                                    tmp_path: Path) -> None:
    open_page(page, server, "/models")
    sneaky = tmp_path / "sneaky.skops"
    sneaky.write_bytes(sio.dumps(Sneaky()))
    page.get_by_role("button", name="Import model").click()
    dialog = page.get_by_role("dialog", name="Import a model")
    dialog.get_by_label("Model file").set_input_files(str(sneaky))
    dialog.get_by_label("Name").fill("Imported in the browser")
    dialog.get_by_role("button", name="Import").click()
    expect(dialog.get_by_role("alert").filter(has_text="Sneaky")).not_to_have_count(0)

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    good = tmp_path / "good.skops"
    good.write_bytes(sio.dumps(LogisticRegression().fit(X, [0, 0, 1, 1])))
    dialog.get_by_label("Model file").set_input_files(str(good))
    dialog.get_by_label("Metrics (JSON)").fill('{"accuracy": 0.75}')
    dialog.get_by_role("button", name="Import").click()
    expect(page).to_have_url(re.compile(r"/models/[0-9a-f-]{36}/versions/1$"))
    expect(page.get_by_role("heading", name="Imported in the browser")).to_be_visible()
    expect(page.get_by_text("0.7500")).to_be_visible()


# --- deploy -------------------------------------------------------------------------------------

def test_deploy_page_shows_the_endpoint_and_answers_try_it(
        page: Page, server: LiveServer, ids: dict[str, str],
        iris_run: dict[str, Any]) -> None:
    model = next(m for m in server.api("GET", "/api/models/") if m["name"] == IRIS_MODEL)
    if "production" not in model["aliases"]:  # the pipeline serves once a version is promoted
        server.api("POST", f"/api/models/{model['id']}/aliases/",
                   {"alias": "production", "version": 1})
    open_page(page, server, f"/pipelines/{ids[IRIS]}/deploy")
    expect(page.get_by_test_id("endpoint-url")).to_contain_text(
        f"/api/pipelines/{ids[IRIS]}/predict")
    expect(page.get_by_test_id("serving-state")).to_have_attribute("data-enabled", "true")
    curl = page.get_by_test_id("curl")
    expect(curl).to_contain_text("Authorization: Token <your token>")
    expect(curl).to_contain_text("sepal_length")
    expect(page.get_by_test_id("input-schema").get_by_role(
        "row", name=re.compile("petal_width"))).to_contain_text("required")
    openapi = page.get_by_test_id("openapi-link").get_attribute("href")
    assert openapi
    document = server.api("GET", openapi)
    assert "petal_width" in next(iter(document["paths"].values()))["post"]["requestBody"][
        "content"]["application/json"]["schema"]["properties"]["rows"]["items"]["required"]

    try_it = page.get_by_test_id("try-it")
    try_it.get_by_role("button", name="Predict").click()
    prediction = page.get_by_test_id("prediction")
    expect(prediction).to_contain_text("setosa")
    expect(prediction).to_contain_text(IRIS_MODEL)

    bad = {"rows": [{"sepal_length": "long", "sepal_width": 3.0, "petal_length": 1.0}]}
    try_it.get_by_label("Request body").fill(json.dumps(bad))
    try_it.get_by_role("button", name="Predict").click()
    problems = page.get_by_test_id("problems")
    expect(problems).to_contain_text("petal_width")
    expect(problems).to_contain_text("missing")
    expect(problems).to_contain_text("expected a number")


def test_batch_scoring_is_made_from_the_deploy_page_and_listed_with_its_last_run(
        page: Page, server: LiveServer, ids: dict[str, str],
        iris_run: dict[str, Any]) -> None:
    model = next(m for m in server.api("GET", "/api/models/") if m["name"] == IRIS_MODEL)
    if "production" not in model["aliases"]:
        server.api("POST", f"/api/models/{model['id']}/aliases/",
                   {"alias": "production", "version": 1})
    open_page(page, server, f"/pipelines/{ids[IRIS]}/deploy")
    card = page.get_by_test_id("batch-scoring")
    expect(card.get_by_label("Rows to score")).to_contain_text("read afresh")
    card.get_by_role("button", name="New scoring pipeline").click()
    # The new pipeline opens in the editor: rows → the deployment's scores → a CSV export.
    expect(page).to_have_url(re.compile(r"/pipelines/[0-9a-f-]{36}$"))
    expect(page.locator("[data-testid=op-node]")).to_have_count(3)
    expect(page.locator("[data-node-id=score]")).to_contain_text("Score with deployment")
    scoring = page.url.rsplit("/", 1)[1]
    run = start_run(server, scoring)
    assert run["status"] == "succeeded", [(n["node_id"], n["error"]) for n in run["nodes"]]
    open_page(page, server, f"/pipelines/{ids[IRIS]}/deploy")
    row = card.get_by_role("row", name=re.compile("batch scores"))
    expect(row).to_contain_text("paused")
    expect(row).to_contain_text("0 2 * * *")
    expect(row.locator("[data-status=succeeded]")).to_be_visible()
    expect(row).to_contain_text("150")


def test_deploy_page_before_any_run_is_an_empty_state(page: Page, server: LiveServer,
                                                      ids: dict[str, str]) -> None:
    fresh = server.api("POST", "/api/pipelines/", {
        "name": "Never run", "workspace": server.api("GET", f"/api/pipelines/{ids[IRIS]}/")[
            "workspace"],
        "graph": server.api("GET", f"/api/pipelines/{ids[IRIS]}/")["graph"]})
    open_page(page, server, f"/pipelines/{fresh['id']}/deploy")
    empty = page.get_by_test_id("stats-empty")
    expect(empty).to_contain_text("Run the pipeline first")
    expect(empty.get_by_role("button", name="Run the pipeline")).to_be_visible()


def test_dashboard_strip_schedule_preview_and_webhook(page: Page, server: LiveServer,
                                                      ids: dict[str, str],
                                                      iris_run: dict[str, Any]) -> None:
    open_page(page, server, "/pipelines")
    page.get_by_role("button", name=f"Dashboard of {IRIS}", exact=True).click()
    expect(page).to_have_url(re.compile(f"/pipelines/{ids[IRIS]}/dashboard$"))
    expect(page.get_by_test_id("run-cell").first).to_be_visible()
    expect(page.locator(f"[data-testid=run-cell][href='/runs/{iris_run['id']}']")).to_have_count(1)
    expect(page.get_by_test_id("slow-node").first).to_be_visible()

    schedules = page.get_by_test_id("schedules")
    schedules.get_by_role("button", name="Add schedule").click()
    form = page.get_by_test_id("schedule-form")
    cron = form.get_by_label("Cron expression")
    cron.fill("61 * * * *")
    expect(form.locator(".field-error")).to_contain_text("minute")
    cron.fill("0 6 * * *")
    expect(form.get_by_test_id("schedule-preview").locator("li")).to_have_count(5)
    form.get_by_label("Time zone").select_option("UTC")
    form.get_by_role("button", name="Add schedule").click()
    item = schedules.get_by_test_id("schedule")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Every day at 06:00")
    item.get_by_label("Pause schedule 0 6 * * *").click(force=True)
    expect(item).to_have_attribute("data-enabled", "false")
    saved = server.api("GET", f"/api/pipelines/{ids[IRIS]}/schedules/")
    assert [(s["cron"], s["timezone"], s["enabled"]) for s in saved] == [
        ("0 6 * * *", "UTC", False)]

    webhook = page.get_by_test_id("webhook")
    webhook.get_by_role("button", name="Create webhook URL").click()
    page.get_by_role("dialog").get_by_role("button", name="Create").click()
    url = webhook.get_by_label("Webhook URL", exact=True)
    expect(url).to_have_value(re.compile(rf"/api/hooks/{ids[IRIS]}/"))
    status, _ = server.request("POST", url.input_value().replace(server.base_url, ""))
    assert status == 201
