"""Sticky notes and frames on the canvas in a real browser (issue 20): add a note and write in
it, add a frame and name it, save, reload: both are back, and the pipeline's versions are as
they were (annotations are saved with the pipeline, outside its graph and hash).

Run: .venv/bin/python -m pytest tests/e2e/test_annotations.py
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.live.server import LiveServer

pytestmark = pytest.mark.e2e

NOTE_TEXT = "Churn data: read it first.\nThen train."


def pipeline_id(page: Page) -> str:
    match = re.search(r"/pipelines/([0-9a-f-]{36})$", page.url)
    assert match, page.url
    return match.group(1)


def test_notes_and_frames_are_saved_outside_the_graph_and_come_back(
        page: Page, server: LiveServer) -> None:
    page.get_by_role("button", name="New pipeline").click()
    page.get_by_role("dialog").get_by_label("Name", exact=True).fill("E2E notes")
    page.locator("button[form=pipeline-form]").click()
    expect(page.get_by_role("button", name="E2E notes")).to_be_visible()
    save_state = page.get_by_test_id("save-state")
    page.locator("[data-operator='connector.sample_dataset']").click()
    page.keyboard.press("Control+s")
    expect(save_state).to_have_text("Saved")
    pid = pipeline_id(page)
    versions = server.api("GET", f"/api/pipelines/{pid}/versions/")
    saved_graph = server.api("GET", f"/api/pipelines/{pid}/")["graph"]

    tools = page.get_by_role("toolbar", name="Annotations")
    # A new note opens for writing.
    tools.get_by_role("button", name="Note").click()
    text = page.get_by_role("textbox", name="Note text")
    expect(text).to_be_focused()
    page.keyboard.type(NOTE_TEXT)
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    note = page.get_by_test_id("note")
    expect(note).to_have_count(1)
    expect(note).to_contain_text("Then train.")
    expect(save_state).to_have_text("Unsaved changes")

    # Undo takes the note's text and the note away, redo brings them back.
    page.keyboard.press("Control+z")
    expect(note).to_contain_text("Double-click to write")
    page.keyboard.press("Control+z")
    expect(note).to_have_count(0)
    page.keyboard.press("Control+Shift+z")
    page.keyboard.press("Control+Shift+z")
    expect(note).to_contain_text("Then train.")

    # A frame, named on double-click, coloured from its palette.
    tools.get_by_role("button", name="Frame").click()
    frame = page.get_by_test_id("frame")
    expect(frame).to_have_count(1)
    frame.locator(".ann-frame-title").dblclick()
    page.get_by_role("textbox", name="Frame title").fill("Training")
    page.keyboard.press("Enter")
    expect(frame).to_contain_text("Training")
    page.get_by_role("button", name="Green frame").click()
    expect(frame).to_have_attribute("data-color", "green")

    # They are not operator nodes: the graph keeps its one node.
    expect(page.get_by_test_id("op-node")).to_have_count(1)

    page.keyboard.press("Control+s")
    expect(save_state).to_have_text("Saved")
    stored = server.api("GET", f"/api/pipelines/{pid}/")
    assert sorted((a["kind"], a["text"], a["color"]) for a in stored["annotations"]) == [
        ("frame", "Training", "green"), ("note", NOTE_TEXT, "yellow")]
    assert stored["graph"] == saved_graph
    assert server.api("GET", f"/api/pipelines/{pid}/versions/") == versions

    page.reload()
    expect(page.get_by_test_id("op-node")).to_have_count(1)
    expect(note).to_have_count(1)
    expect(note).to_contain_text("Then train.")
    expect(frame).to_have_count(1)
    expect(frame).to_contain_text("Training")
    expect(frame).to_have_attribute("data-color", "green")
    expect(save_state).to_have_text("Saved")
    expect(page.get_by_test_id("draft-banner")).to_have_count(0)

    # Written in again on double-click; deleted with the Delete key, and undone.
    note.dblclick()
    text.press("End")
    text.type(" Done.")
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    expect(note).to_contain_text("Then train. Done.")
    note.click()
    page.keyboard.press("Delete")
    expect(note).to_have_count(0)
    page.keyboard.press("Control+z")
    expect(note).to_contain_text("Then train. Done.")
    page.keyboard.press("Control+s")
    expect(save_state).to_have_text("Saved")
    stored = server.api("GET", f"/api/pipelines/{pid}/")
    assert NOTE_TEXT + " Done." in [a["text"] for a in stored["annotations"]]
    assert server.api("GET", f"/api/pipelines/{pid}/versions/") == versions

    # An unsaved note survives a reload as a draft, like an unsaved graph edit.
    tools.get_by_role("button", name="Note").click()
    page.keyboard.type("Unsaved thought")
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    expect(save_state).to_have_text("Unsaved changes")
    page.wait_for_timeout(800)  # the draft is written after a short pause
    page.once("dialog", lambda d: d.accept())
    page.reload()
    banner = page.get_by_test_id("draft-banner")
    expect(banner).to_be_visible()
    expect(note).to_have_count(1)
    banner.get_by_role("button", name="Restore draft").click()
    expect(note).to_have_count(2)
    expect(note.filter(has_text="Unsaved thought")).to_have_count(1)
    expect(save_state).to_have_text("Unsaved changes")
