"""A limit the server enforces (issue 14, S9) reaches the user as the server words it."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.live.server import LiveServer


def test_a_description_over_the_limit_is_refused_in_the_dialog_with_the_servers_message(
        page: Page, server: LiveServer) -> None:
    page.get_by_role("button", name="New pipeline").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill("Too long")
    dialog.locator("textarea").fill("d" * 10_001)
    page.locator("button[form=pipeline-form]").click()
    expect(dialog.locator(".field-error")).to_have_text(
        "description: Ensure this field has no more than 10000 characters.")
    assert "Too long" not in {p["name"] for p in server.api("GET", "/api/pipelines/")}
