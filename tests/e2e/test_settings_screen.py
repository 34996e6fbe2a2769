"""The settings screen in a real browser: an API token made with a name, its key shown once
and working until it is revoked (an empty name refused, nothing written); an invitation sent
(the console e-mail carries the link the screen shows once), listed and revoked; a member's
role changed and ownership transferred, both in the audit log, after which the screen turns
read-only with the reason; and the top bar fitting at 1280 and 1440 px without cutting the
workspace's name.

Run: .venv/bin/python -m pytest tests/e2e/test_settings_screen.py -p no:xdist
"""
from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from tests.live.server import LiveServer

from .support import DEMO_WORKSPACE, use_workspace

pytestmark = pytest.mark.e2e
LONG_NAME = "Customer analytics and retention, EMEA team"


def status_with_key(server: LiveServer, key: str) -> int:
    request = urllib.request.Request(server.base_url + "/api/workspaces/",
                                     headers={"Authorization": f"Token {key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def open_settings(page: Page, tab: str) -> None:
    use_workspace(page, DEMO_WORKSPACE)
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    page.get_by_role("tab", name=tab).click()


def test_an_api_token_is_shown_once_works_and_stops_working_when_revoked(
        page: Page, server: LiveServer) -> None:
    open_settings(page, "API tokens")
    before = len(server.api("GET", "/api/tokens/"))
    # An empty name is refused, naming the field, and makes no token.
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("alert").filter(has_text="give the token a name")).to_be_visible()
    assert len(server.api("GET", "/api/tokens/")) == before

    page.get_by_label("Name").fill("nightly export")
    page.get_by_role("button", name="Create token").click()
    key = page.get_by_test_id("new-token-key").inner_text()
    assert status_with_key(server, key) == 200
    page.reload()
    expect(page.locator("tr[data-token='nightly export']")).to_contain_text("active")
    assert key not in page.content()  # shown once

    page.get_by_role("button", name="Revoke nightly export").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke token").click()
    expect(page.locator("tr[data-token='nightly export']")).to_contain_text("revoked")
    assert status_with_key(server, key) == 401


def test_an_invitation_is_mailed_listed_and_revoked(page: Page, server: LiveServer) -> None:
    open_settings(page, "Invitations")
    page.get_by_label("E-mail").fill("ivy@example.com")
    page.get_by_label("Role").select_option("viewer")
    page.get_by_role("button", name="Send invitation").click()
    link = page.get_by_role("status").locator("code").inner_text()
    found = re.fullmatch(re.escape(server.base_url) + r"/settings/invitations#accept=([\w-]+)",
                         link)
    assert found, link
    token = found[1]
    assert link in server.log("daphne")  # the console e-mail backend printed the mail
    row = page.locator("tr[data-invitation='ivy@example.com']")
    expect(row).to_contain_text("viewer")
    # The link opens the screen's accept card; it admits only the invited address.
    page.goto(server.base_url + "/pipelines")  # opened afresh, as from a mail
    page.goto(link)
    page.get_by_role("button", name="Accept invitation").click()
    expect(page.get_by_role("alert").filter(has_text="not to your e-mail address")).to_be_visible()
    page.get_by_role("button", name="Not now").click()

    row.get_by_role("button", name="Revoke the invitation of ivy@example.com").click()
    expect(row).to_have_count(0)
    workspace = next(w["id"] for w in server.api("GET", "/api/workspaces/")
                     if w["name"] == DEMO_WORKSPACE)
    assert server.api("GET", f"/api/workspaces/{workspace}/invitations/") == []
    assert server.request("POST", f"/api/invitations/{token}/accept/")[0] == 404


def test_a_role_change_and_an_ownership_transfer_are_audited_then_the_screen_is_read_only(
        page: Page, server: LiveServer) -> None:
    server.manage("shell", "-c", (
        "from django.contrib.auth import get_user_model;"
        "from datagran.workspaces.models import Workspace;"
        "from datagran.workspaces.services import membership_add;"
        "u = get_user_model().objects.create_user('ivy', 'ivy@example.com');"
        f"membership_add(workspace=Workspace.objects.get(name='{DEMO_WORKSPACE}'), user=u,"
        " role='viewer')"))
    open_settings(page, "Members")
    page.get_by_label("Role of ivy").select_option("editor")
    expect(page.get_by_text("ivy is now editor.")).to_be_visible()

    page.get_by_role("tab", name="Audit log").click()
    audit = page.get_by_role("table", name="Audit log")
    expect(audit.locator("tbody tr").first).to_contain_text("member.role")
    expect(audit.locator("tbody tr").first).to_contain_text("ivy")
    page.get_by_label("Action").select_option("member.join")
    expect(page.get_by_text("Nothing recorded yet.")).to_be_visible()
    page.get_by_label("Action").select_option("member.role")
    expect(audit.locator("tbody tr")).to_have_count(1)

    page.get_by_role("tab", name="Members").click()
    page.locator("tr[data-member='ivy']").get_by_role("button",
                                                      name="Transfer ownership").click()
    page.get_by_role("dialog").get_by_role("button", name="Transfer ownership").click()
    expect(page.get_by_text("you are editor")).to_be_visible()
    expect(page.get_by_role("button", name="Remove ivy")).to_be_disabled()
    assert "owners" in (page.get_by_role("button", name="Remove ivy").get_attribute("title") or "")
    expect(page.get_by_label("Role of ivy")).to_have_count(0)
    page.get_by_role("tab", name="Audit log").click()
    expect(page.get_by_text("The audit log is for owners")).to_be_visible()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1440, 900)])
def test_the_top_bar_fits_and_never_cuts_the_workspace_name(
        page: Page, server: LiveServer, width: int, height: int) -> None:
    server.manage("shell", "-c", (
        "from django.contrib.auth import get_user_model;"
        "from datagran.workspaces.models import Workspace;"
        "from datagran.workspaces.services import workspace_create;"
        f"Workspace.objects.filter(name='{LONG_NAME}').exists() or workspace_create("
        f"name='{LONG_NAME}', owner=get_user_model().objects.get(username='demo'))"))
    page.set_viewport_size({"width": width, "height": height})
    page.reload()
    use_workspace(page, LONG_NAME)
    fit = page.evaluate("""() => {
        const bar = document.querySelector('.topbar');
        const select = document.querySelector('.workspace-switcher select');
        const style = getComputedStyle(select);
        const ctx = document.createElement('canvas').getContext('2d');
        ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const text = select.options[select.selectedIndex].text;
        const room = select.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight);
        const nav = document.querySelector('.topnav').getBoundingClientRect();
        return {text, need: ctx.measureText(text).width, room,
                overflow: bar.scrollWidth - bar.clientWidth,
                navEnd: nav.right, selectStart: select.getBoundingClientRect().left};
    }""")
    assert fit["text"] == LONG_NAME
    assert fit["room"] >= fit["need"], fit
    assert fit["overflow"] <= 0 and fit["navEnd"] <= fit["selectStart"], fit
    for name in ("Overview", "Pipelines", "Runs", "Models", "Datasets", "Connections"):
        expect(page.get_by_role("navigation", name="Main").get_by_role(
            "link", name=name, exact=True)).to_be_in_viewport()
    expect(page.get_by_role("link", name="Settings")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
