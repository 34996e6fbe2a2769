"""The model and serving screens in a real browser, one live server for the module: a model
name typed in the editor is the registry's, a version page draws the confusion matrix, ROC
and precision-recall curves and importance bars, the versions table fits the page, and a
pipeline serves only once a version is promoted, with drift's sample size shown.

Run: .venv/bin/python -m pytest tests/e2e/test_models_screens.py -m e2e
"""
from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.live.server import LiveServer, pipeline_ids, start_run

from .support import DEMO_WORKSPACE, use_workspace

pytestmark = pytest.mark.e2e

IRIS = "Iris classifier"
CHURN = "Customer churn → CSV export"
CHURN_MODEL = f"{CHURN} / train"


@pytest.fixture(scope="module")
def ids(server: LiveServer) -> dict[str, str]:
    return pipeline_ids(server)


@pytest.fixture(scope="module")
def churn_model(server: LiveServer, ids: dict[str, str]) -> dict[str, Any]:
    """The churn model with two versions (the second with another seed), none promoted."""
    pipeline = ids[CHURN]
    assert start_run(server, pipeline)["status"] == "succeeded"
    saved = server.api("GET", f"/api/pipelines/{pipeline}/")["graph"]
    graph = json.loads(json.dumps(saved))
    next(n for n in graph["nodes"] if n["id"] == "train")["params"]["seed"] = 11
    server.api("PATCH", f"/api/pipelines/{pipeline}/", {"graph": graph})
    assert start_run(server, pipeline)["status"] == "succeeded"
    model = next(m for m in server.api("GET", "/api/models/") if m["name"] == CHURN_MODEL)
    assert model["version_count"] == 2 and model["aliases"] == {}
    return model


def open_page(page: Page, server: LiveServer, path: str) -> None:
    use_workspace(page, DEMO_WORKSPACE)
    page.goto(f"{server.base_url}{path}")


def test_a_model_name_typed_in_the_editor_is_the_registrys(page: Page,
                                                           server: LiveServer) -> None:
    use_workspace(page, DEMO_WORKSPACE)
    page.get_by_role("link", name=IRIS).click()
    page.locator("[data-node-id=train]").click()
    name = page.locator("[data-field=model_name] input")
    expect(name).to_have_value("")
    name.fill("Iris species")
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("save-state")).to_have_text("Saved")
    chip = page.get_by_test_id("run-status")
    before = chip.get_attribute("data-run-id") if chip.count() else None
    page.get_by_role("button", name="Run", exact=True).click()
    if before:
        expect(chip).not_to_have_attribute("data-run-id", before)
    expect(chip).to_have_attribute("data-status", "succeeded", timeout=60_000)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Models").click()
    expect(page.get_by_test_id("model-row").filter(has_text="Iris species")).to_have_count(1)
    expect(page.get_by_test_id("model-row").filter(has_text="Iris classifier /")
           ).to_have_count(0)


def test_a_version_page_draws_the_confusion_matrix_curves_and_importance(
        page: Page, server: LiveServer, churn_model: dict[str, Any]) -> None:
    open_page(page, server, "/models")
    page.get_by_test_id("model-row").filter(has_text=CHURN_MODEL).click()
    page.locator("[data-testid=version-row][data-version='1']").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/versions/1$"))
    version = server.api("GET", f"/api/models/{churn_model['id']}/versions/1/")
    matrix = version["evaluation"]["confusion"]
    cells = page.get_by_test_id("confusion-cell")
    expect(cells).to_have_count(4)  # no / yes, actual × predicted
    for i, actual in enumerate(matrix["labels"]):
        for j, predicted in enumerate(matrix["labels"]):
            expect(page.locator(f"[data-testid=confusion-cell][data-actual='{actual}']"
                                f"[data-predicted='{predicted}']")
                   ).to_have_text(str(matrix["counts"][i][j]))
    auc = f"{version['metrics']['roc_auc']:.3f}"
    expect(page.get_by_test_id("auc")).to_have_text(f"AUC {auc}")
    expect(page.get_by_role("img", name=f"ROC curve, AUC {auc}")).to_be_visible()
    expect(page.get_by_test_id("ap")).to_contain_text("AP 0.")
    expect(page.get_by_test_id("importance-card")).to_be_visible()
    expect(page.get_by_test_id("importance-list").locator("li")).to_have_count(6)
    # Lineage: the dataset by name, and only the node that reads the model, by its label.
    expect(page.locator("[data-testid=lineage-node][data-kind=dataset]")
           ).to_contain_text("customers")
    readers = page.locator("[data-testid=lineage-node][data-kind=output]")
    expect(readers).to_have_count(1)
    expect(readers).to_contain_text("Predict")


@pytest.mark.parametrize("size", [(1280, 800), (1440, 900)])
def test_the_versions_table_fits_with_its_promote_buttons_and_checkboxes(
        page: Page, server: LiveServer, churn_model: dict[str, Any],
        size: tuple[int, int]) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    open_page(page, server, f"/models/{churn_model['id']}")
    card = page.locator("table[aria-label=Versions]").locator("xpath=ancestor::section[1]")
    box = card.bounding_box()
    assert box is not None
    for n in (1, 2):
        for control in (page.get_by_role("button", name=f"Promote version {n}"),
                        page.get_by_role("checkbox", name=f"Compare version {n}")):
            expect(control).to_be_visible()
            inner = control.bounding_box()
            assert inner is not None
            assert box["x"] <= inner["x"] and inner["x"] + inner["width"] <= box["x"] + box[
                "width"], (size, control, inner, box)
    expect(page.get_by_role("img", name=re.compile(r"^Metrics .* of versions v2, v1$"))
           ).to_be_visible()


def test_a_pipeline_serves_only_once_a_version_is_promoted(
        page: Page, server: LiveServer, ids: dict[str, str],
        churn_model: dict[str, Any]) -> None:
    open_page(page, server, f"/pipelines/{ids[CHURN]}/deploy")
    state = page.get_by_test_id("serving-state")
    expect(state).to_have_attribute("data-state", "waiting")
    expect(state).to_have_text("On · waiting for a promoted version")
    expect(page.get_by_test_id("serving-waiting")).to_contain_text("promote one")
    try_it = page.get_by_test_id("try-it")
    try_it.get_by_role("button", name="Predict").click()
    expect(try_it).to_contain_text("is promoted to production yet")
    expect(page.get_by_test_id("prediction")).to_have_count(0)

    # Log every request, so the drift panel has one to count.
    page.get_by_label("Log requests (%)").fill("100")
    page.get_by_test_id("endpoint").get_by_role("button", name="Save").click()
    expect(page.get_by_label("Log requests (%)")).to_have_value("100")

    page.get_by_test_id("serving-waiting").get_by_role("link", name="Open the model").click()
    page.get_by_role("button", name="Promote version 2").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Alias")).to_have_value("production")
    dialog.get_by_role("button", name="Promote").click()
    expect(page.locator("[data-testid=alias][data-alias=production]")
           ).to_have_attribute("data-version", "2")
    page.go_back()
    expect(state).to_have_attribute("data-state", "serving")
    expect(state).to_have_text("Serving")
    try_it.get_by_role("button", name="Predict").click()
    expect(page.get_by_test_id("prediction")).to_contain_text(f"{CHURN_MODEL} v2")
    drift = page.get_by_test_id("drift")
    expect(page.get_by_test_id("drift-sample")).to_have_text("n = 1 request")
    expect(drift.get_by_test_id("drift-too-few")).to_contain_text("from 100 logged requests")
    expect(page.get_by_test_id("drift-warning")).to_have_count(0)
