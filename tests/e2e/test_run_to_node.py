"""Running part of a pipeline from the canvas, in a real browser: "Run up to here" and "Run this
node" from a node's bar, its context menu (by keyboard too) and the Run menu; the plan chip
right the moment a run is shown finished; an empty pipeline that says so and cannot run.

Each test works on its own copy of the demo's Iris classifier (its split seeded differently, so
no test finds another's cached outputs), made through the API; everything else is done the
way a person does it."""
from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.live.server import LiveServer, pipeline_ids

pytestmark = pytest.mark.e2e

RUN_TIMEOUT = 60_000


def iris_copy(server: LiveServer, name: str, seed: int) -> str:
    iris = server.api("GET", f"/api/pipelines/{pipeline_ids(server)['Iris classifier']}/")
    graph = copy.deepcopy(iris["graph"])
    next(n for n in graph["nodes"] if n["id"] == "split")["params"]["seed"] = seed
    return server.api("POST", "/api/pipelines/", {
        "name": name, "workspace": iris["workspace"], "graph": graph})["id"]


def open_editor(page: Page, server: LiveServer, pipeline_id: str) -> None:
    page.goto(f"{server.base_url}/pipelines/{pipeline_id}")
    expect(page.locator("[data-testid=op-node]").first).to_be_visible()


def node(page: Page, node_id: str) -> Locator:
    return page.locator(f"[data-testid=op-node][data-node-id={node_id}]")


def record_chips(page: Page) -> None:
    """Note every (run, run status, plan chip) the toolbar shows, from now on."""
    page.evaluate("""() => {
      window.__seen = [];
      const note = () => {
        const run = document.querySelector('[data-testid=run-status]');
        const plan = document.querySelector('[data-testid=plan-summary]');
        window.__seen.push([run ? run.dataset.runId : null, run ? run.dataset.status : null,
                            plan ? plan.textContent : null]);
      };
      new MutationObserver(note).observe(document.body, {subtree: true, childList: true,
                                                         attributes: true, characterData: true});
      note();
    }""")


def wait_for_new_run(page: Page, before: str | None) -> str:
    chip = page.get_by_test_id("run-status")
    if before:
        expect(chip).not_to_have_attribute("data-run-id", before, timeout=RUN_TIMEOUT)
    expect(chip).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT)
    return chip.get_attribute("data-run-id") or ""


def current_run(page: Page) -> str | None:
    chip = page.get_by_test_id("run-status")
    return chip.get_attribute("data-run-id") if chip.count() else None


def nodes_of_run(server: LiveServer, run_id: str) -> dict[str, Any]:
    return {n["node_id"]: n for n in server.api("GET", f"/api/runs/{run_id}/")["nodes"]}


def test_run_up_to_here_runs_the_node_and_what_feeds_it_and_the_plan_is_right_at_once(
        page: Page, server: LiveServer) -> None:
    open_editor(page, server, iris_copy(server, "Up to train", seed=101))
    expect(page.get_by_test_id("plan-summary")).to_have_text(re.compile(r"of 5 nodes will run"))
    record_chips(page)

    node(page, "train").hover()
    node(page, "train").get_by_role("button", name="Run up to here").click()
    run_id = wait_for_new_run(page, None)

    # The nodes up to train ran; predict and the export after it did not.
    for ran in ("data", "split", "train"):
        expect(node(page, ran)).to_have_attribute("data-status", "succeeded")
    for untouched in ("predict", "export"):
        expect(node(page, untouched)).to_have_attribute("data-status", "")
    expect(page.get_by_test_id("run-status")).to_contain_text("3/3")
    assert set(nodes_of_run(server, run_id)) == {"data", "split", "train"}

    # What the next run recomputes: predict and the export, from the moment it is finished.
    expect(page.get_by_test_id("plan-summary")).to_have_text("2 of 5 nodes will run")
    expect(node(page, "train")).to_have_attribute("data-plan", "cached")
    expect(node(page, "predict")).to_have_attribute("data-plan", "run")
    seen = page.evaluate("window.__seen")
    shown_finished = {plan for run, status, plan in seen if run == run_id and status == "succeeded"}
    assert shown_finished == {"2 of 5 nodes will run"}, seen


def test_run_this_node_reuses_its_inputs_and_is_offered_only_once_they_are_cached(
        page: Page, server: LiveServer) -> None:
    open_editor(page, server, iris_copy(server, "Predict alone", seed=202))
    expect(page.get_by_test_id("plan-summary")).to_be_visible()

    # Nothing ran yet: its inputs have no cached output, and the menu says what to do instead.
    node(page, "predict").click(button="right")
    menu = page.get_by_role("menu", name="Run from predict")
    alone = menu.get_by_role("menuitem", name=re.compile("^Run this node"))
    expect(alone).to_have_attribute("aria-disabled", "true")
    expect(alone).to_contain_text("no cached output yet: use Run up to here")
    alone.click(force=True)  # past Playwright's own refusal: what a person's click does
    expect(menu).to_be_visible()  # a disabled item does nothing
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    assert current_run(page) is None

    # By keyboard: the focused train node's context menu (Shift+F10), down to "Run up to here".
    page.locator(".react-flow__node[data-id=train]").focus()
    page.keyboard.press("Shift+F10")
    train_menu = page.get_by_role("menu", name="Run from train")
    expect(train_menu.get_by_role("menuitem").first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(train_menu.get_by_role("menuitem", name=re.compile("^Run up to here"))).to_be_focused()
    page.keyboard.press("Enter")
    first = wait_for_new_run(page, None)
    assert set(nodes_of_run(server, first)) == {"data", "split", "train"}

    # Now predict runs alone: its inputs come from the cache, nothing after it runs.
    node(page, "predict").click(button="right")
    expect(alone).not_to_have_attribute("aria-disabled", "true")
    alone.click()
    second = wait_for_new_run(page, first)
    nodes = nodes_of_run(server, second)
    assert set(nodes) == {"split", "train", "predict"}
    assert nodes["split"]["cached"] and nodes["train"]["cached"]
    assert nodes["predict"]["status"] == "succeeded" and not nodes["predict"]["cached"]
    expect(node(page, "data")).to_have_attribute("data-status", "")
    expect(node(page, "export")).to_have_attribute("data-status", "")
    expect(node(page, "train").locator(".op-cached")).to_be_visible()


def test_the_run_menu_runs_the_selected_node_forced_or_not(page: Page,
                                                           server: LiveServer) -> None:
    open_editor(page, server, iris_copy(server, "Menu", seed=303))
    more = page.get_by_role("button", name="More run options")
    more.click()
    up_to = page.get_by_role("menu", name="Run options").get_by_role(
        "menuitem", name=re.compile("^Run up to here"))
    expect(up_to).to_have_attribute("aria-disabled", "true")
    expect(up_to).to_contain_text("Select one node on the canvas.")
    page.keyboard.press("Escape")

    node(page, "split").click()
    more.click()
    expect(up_to).to_contain_text("split")
    up_to.click()
    run_id = wait_for_new_run(page, None)
    assert set(nodes_of_run(server, run_id)) == {"data", "split"}
    expect(page.get_by_test_id("plan-summary")).to_have_text("3 of 5 nodes will run")


def test_an_empty_pipeline_is_not_valid_and_says_why_it_cannot_run(page: Page,
                                                                   server: LiveServer) -> None:
    iris = server.api("GET", f"/api/pipelines/{pipeline_ids(server)['Iris classifier']}/")
    empty = server.api("POST", "/api/pipelines/", {"name": "Nothing yet",
                                                   "workspace": iris["workspace"]})["id"]
    page.goto(f"{server.base_url}/pipelines/{empty}")
    toolbar = page.get_by_role("toolbar", name="Pipeline")
    expect(toolbar).to_contain_text("Empty: add a node to start")
    expect(toolbar).not_to_contain_text("Valid")
    run = page.get_by_role("button", name="Run", exact=True)
    expect(run).to_be_disabled()
    expect(run).to_have_attribute("title", "Empty: add a node to start.")

    # A node whose input is missing: still nothing can run, and the toolbar says why.
    page.locator("[data-testid=palette-item][data-operator='transform.select_columns']").click()
    expect(page.locator("[data-testid=op-node]")).to_have_count(1)
    expect(toolbar).not_to_contain_text("Empty")
    blocked = page.get_by_test_id("run-blocked")
    expect(blocked).to_contain_text("Fix the")
    expect(run).to_be_disabled()
    expect(run).to_have_attribute("title", re.compile("^Fix the"))
    # Nothing was started.
    assert server.api("GET", f"/api/runs/?pipeline={empty}")["results"] == []
