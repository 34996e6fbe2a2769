"""Version history in a real browser: compare any two saved versions of a pipeline (nodes
added and removed, params old → new, connections) and restore an older one onto the canvas.

Run: .venv/bin/python -m pytest tests/e2e/test_versions.py
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.live.server import LiveServer

from .support import DEMO_WORKSPACE, use_workspace

pytestmark = pytest.mark.e2e


def save(page: Page) -> None:
    page.keyboard.press("Control+s")
    expect(page.get_by_test_id("save-state")).to_have_text("Saved")


def build_two_versions(page: Page, name: str) -> None:
    """An empty pipeline (version 1), sample → split saved (2), then the split's test size
    changed and a "Remove duplicates" node added after the sample, saved (3)."""
    use_workspace(page, DEMO_WORKSPACE)
    page.get_by_role("button", name="New pipeline").click()
    page.get_by_role("dialog").get_by_label("Name", exact=True).fill(name)
    page.locator("button[form=pipeline-form]").click()
    expect(page.get_by_role("button", name=name)).to_be_visible()
    page.locator("[data-operator='connector.sample_dataset']").click()
    page.locator("[data-operator='transform.split']").click()  # auto-connects to the selection
    expect(page.get_by_test_id("op-node")).to_have_count(2)
    save(page)

    page.locator("[data-node-id=n2]").click()
    page.locator("[data-field=test_size] input").fill("0.3")
    page.locator("[data-node-id=n1]").click()
    page.locator("[data-operator='transform.drop_duplicates']").click()
    expect(page.get_by_test_id("op-node")).to_have_count(3)
    save(page)


def open_history(page: Page) -> Locator:
    page.get_by_role("button", name="Version history").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_test_id("version")).to_have_count(3)
    return dialog


def version_hashes(server: LiveServer, page: Page) -> list[str]:
    """Oldest first: the hashes of versions 1, 2, 3."""
    pipeline_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    versions = server.api("GET", f"/api/pipelines/{pipeline_id}/versions/")
    return [v["hash"] for v in reversed(versions)]


def test_comparing_two_versions_shows_what_changed_and_restore_brings_the_older_back(
        page: Page, server: LiveServer) -> None:
    build_two_versions(page, "E2E versions")
    v1, v2, v3 = version_hashes(server, page)
    dialog = open_history(page)

    # Comparing the first version starts against the current one; then pick 2 → 3.
    dialog.get_by_role("button", name="Compare v1").click()
    expect(dialog.get_by_role("heading", name="Compare versions")).to_be_visible()
    from_, to = dialog.get_by_label("From", exact=True), dialog.get_by_label("To", exact=True)
    expect(from_).to_have_value(v1)
    expect(to).to_have_value(v3)
    summary = dialog.get_by_test_id("diff-summary").get_by_role("listitem")
    expect(summary).to_have_text(["3 nodes added", "2 connections added"])
    from_.select_option(v2)

    expect(summary).to_have_text(["1 node added", "1 node changed", "1 connection added"])
    added = dialog.locator("[data-testid=diff-node][data-change=added]")
    expect(added).to_have_count(1)
    expect(added).to_contain_text("Remove duplicates")
    expect(added).to_have_attribute("data-node-id", "n3")
    changed = dialog.locator("[data-testid=diff-node][data-change=changed][data-node-id=n2]")
    expect(changed.get_by_test_id("diff-field")).to_have_text(["test_size: 0.25 → 0.3"])
    edge = dialog.locator("[data-testid=diff-edge][data-change=added]")
    expect(edge).to_have_text(re.compile(r"Sample dataset\s*table\s*→\s*Remove duplicates\s*table"))

    # The other way round, the node is removed and the param goes back.
    dialog.get_by_role("button", name="Swap versions").click()
    expect(from_).to_have_value(v3)
    expect(dialog.locator("[data-testid=diff-node][data-change=removed]")).to_contain_text(
        "Remove duplicates")
    expect(changed.get_by_test_id("diff-field")).to_have_text(["test_size: 0.3 → 0.25"])
    to.select_option(v3)
    expect(dialog.get_by_test_id("diff-empty")).to_contain_text("Same version on both sides")
    to.select_option(v2)

    # Restore version 2 from the comparison: the canvas shows it, unsaved until saved.
    dialog.get_by_test_id("compare-to").get_by_role("button", name="Restore v2").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_test_id("op-node")).to_have_count(2)
    expect(page.locator("[data-node-id=n3]")).to_have_count(0)
    expect(page.get_by_test_id("save-state")).to_have_text("Unsaved changes")
    page.locator("[data-node-id=n2]").click()
    expect(page.locator("[data-field=test_size] input")).to_have_value("0.25")
    save(page)
    dialog = open_history(page)
    expect(dialog.locator("[data-testid=version][data-version=v2]")).to_contain_text("Current")
