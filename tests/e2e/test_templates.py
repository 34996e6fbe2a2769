"""The template gallery in a real browser: "New pipeline" shows every template as a card with
a picture of its graph and what it needs; choosing one creates the pipeline and opens it in
the editor. A template whose connection the workspace lacks says so and cannot be created. A
pipeline saved as a template from the list is offered in the gallery, made anew, and deleted.

Run: .venv/bin/python -m pytest tests/e2e/test_templates.py -p no:cacheprovider
"""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.live.server import LiveServer

from .support import DEMO_WORKSPACE, use_workspace

pytestmark = pytest.mark.e2e

IRIS = "Iris classifier"


def templates(server: LiveServer) -> list[dict[str, Any]]:
    return server.api("GET", f"/api/templates/?workspace={workspace_id(server)}")


def workspace_id(server: LiveServer) -> str:
    return next(w["id"] for w in server.api("GET", "/api/workspaces/")
                if w["name"] == DEMO_WORKSPACE)


def pipelines(server: LiveServer) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in server.api(
        "GET", f"/api/pipelines/?workspace={workspace_id(server)}")}


def sql_connections(server: LiveServer) -> list[dict[str, Any]]:
    return [c for c in server.api("GET", f"/api/connections/?workspace={workspace_id(server)}")
            if c["kind"] in ("sqlite", "postgresql", "mysql", "sqlalchemy")]


def open_gallery(page: Page) -> Locator:
    page.goto(page.url.split("/pipelines")[0] + "/pipelines")
    use_workspace(page, DEMO_WORKSPACE)
    page.get_by_role("button", name="New pipeline").click()
    dialog = page.get_by_role("dialog", name="New pipeline")
    expect(dialog.get_by_role("radio", name="Blank pipeline")).to_be_checked()
    return dialog


def card(dialog: Locator, template: dict[str, Any]) -> Locator:
    return dialog.locator(f"[data-testid=template-card][data-template='{template['id']}']")


def test_a_template_needing_a_connection_the_workspace_lacks_says_so(
        page: Page, server: LiveServer) -> None:
    # The demo's SQLite database removed: this workspace has no SQL database any more.
    for connection in sql_connections(server):
        server.api("DELETE", f"/api/connections/{connection['id']}/")
    sql = next(t for t in templates(server) if t["id"] == "sql-export")
    dialog = open_gallery(page)
    card(dialog, sql).get_by_role("radio").click()
    expect(dialog.get_by_role("alert")).to_contain_text(
        "needs a SQL database connection and this workspace has none")
    expect(dialog.get_by_role("link", name="add one under Connections")).to_be_visible()
    expect(page.locator("button[form=pipeline-form]")).to_be_disabled()
    assert sql["name"] not in pipelines(server)


def test_each_template_is_drawn_and_opens_in_the_editor_once_chosen(
        page: Page, server: LiveServer) -> None:
    # The demo has its HubSpot connection and a SQLite database (unless a test removed it).
    if not sql_connections(server):
        server.api("POST", "/api/connections/", {
            "name": "Warehouse", "kind": "sqlite", "fields": {"path": "warehouse.sqlite"},
            "workspace": workspace_id(server)})
    builtins = [t for t in templates(server) if t["kind"] == "builtin"]
    assert len(builtins) >= 8
    for template in builtins:
        dialog = open_gallery(page)
        chosen = card(dialog, template)
        expect(chosen.get_by_role("radio")).to_have_accessible_name(template["name"])
        thumbnail = chosen.get_by_test_id("graph-thumbnail")
        expect(thumbnail).to_have_attribute("data-nodes", str(len(template["graph"]["nodes"])))
        expect(thumbnail).to_have_attribute("data-edges", str(len(template["graph"]["edges"])))
        for need in template["needs"]:
            expect(chosen).to_contain_text(need["label"])
        chosen.get_by_role("radio").click()
        expect(chosen.get_by_role("radio")).to_be_checked()
        # The name and description are the template's, until the user types their own.
        expect(dialog.get_by_label("Name", exact=True)).to_have_value(template["name"])
        expect(dialog.locator("textarea")).to_have_value(template["description"])
        for need in template["needs"]:
            expect(dialog.get_by_label(f"{need['label']} connection")).to_be_visible()
        page.get_by_role("button", name="Create from template").click()
        # The editor opens on the new pipeline, every node of the template on its canvas.
        expect(page).to_have_url(re.compile(r"/pipelines/[0-9a-f-]{36}$"))
        expect(page.get_by_role("button", name=template["name"])).to_be_visible()
        expect(page.get_by_test_id("op-node")).to_have_count(len(template["graph"]["nodes"]))
        made = pipelines(server)[template["name"]]
        assert [n["id"] for n in made["graph"]["nodes"]] == [
            n["id"] for n in template["graph"]["nodes"]]
        assert page.url.endswith(made["id"])


def test_a_pipeline_saved_as_a_template_is_offered_made_anew_and_deleted(
        page: Page, server: LiveServer) -> None:
    use_workspace(page, DEMO_WORKSPACE)
    page.get_by_role("button", name=f"Make a template of {IRIS}").click()
    dialog = page.get_by_role("dialog", name="Make a template")
    expect(dialog.get_by_label("Name", exact=True)).to_have_value(IRIS)
    dialog.get_by_label("Name", exact=True).fill("Flowers, classified")
    page.locator("button[form=pipeline-form]").click()
    expect(page.get_by_text("Saved “Flowers, classified” as a template")).to_be_visible()
    own = [t for t in templates(server) if t["kind"] == "workspace"]
    assert [t["name"] for t in own] == ["Flowers, classified"]

    gallery = open_gallery(page)
    mine = card(gallery, own[0])
    expect(gallery.get_by_role("heading", name="This workspace's templates")).to_be_visible()
    expect(mine.get_by_test_id("graph-thumbnail")).to_have_attribute("data-nodes", "5")
    mine.get_by_role("radio").click()
    gallery.get_by_label("Name", exact=True).fill("Iris, again")
    page.get_by_role("button", name="Create from template").click()
    expect(page.get_by_role("button", name="Iris, again")).to_be_visible()
    expect(page.get_by_test_id("op-node")).to_have_count(5)

    gallery = open_gallery(page)
    card(gallery, own[0]).get_by_role("button", name="Delete template Flowers, classified").click()
    card(gallery, own[0]).get_by_role("button", name="Delete", exact=True).click()
    expect(card(gallery, own[0])).to_have_count(0)
    assert [t for t in templates(server) if t["kind"] == "workspace"] == []
    assert "Iris, again" in pipelines(server)  # what was made from it stays
