"""The Content-Security-Policy in a real browser: every page of the app, the sign-in page, the
API docs and the admin render under it without one violation, and the policy is enforced (an
injected inline script does not run, and is reported)."""
from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from datagran.core.middleware import CONTENT_SECURITY_POLICY
from tests.live.server import LiveServer, pipeline_ids, start_run

from .support import DEMO_WORKSPACE, login, use_workspace

pytestmark = pytest.mark.e2e

REPORT = """document.addEventListener("securitypolicyviolation", (e) =>
  window.cspViolation(`${e.violatedDirective} blocked ${e.blockedURI} on ${location.pathname}`));
"""


def test_every_page_renders_under_the_policy_without_a_violation(
        browser: Browser, server: LiveServer) -> None:
    iris = pipeline_ids(server)["Iris classifier"]
    run = start_run(server, iris)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    violations: list[str] = []
    errors: list[str] = []
    context.expose_function("cspViolation", lambda text: violations.append(text))
    context.add_init_script(REPORT)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    checks: list[tuple[str, Any]] = [
        ("/", lambda: expect(page.get_by_role("heading", name="Overview")).to_be_visible()),
        ("/runs", lambda: expect(page.get_by_test_id("run-row").first).to_be_visible()),
        (f"/runs/{run['id']}", lambda: expect(page.get_by_test_id("gantt-bar")
                                              ).to_have_count(len(run["nodes"]))),
        (f"/pipelines/{iris}", lambda: expect(page.locator(".react-flow__node")
                                              ).to_have_count(len(run["nodes"]))),
        ("/models", lambda: expect(page.get_by_test_id("model-row").first).to_be_visible()),
        ("/api/docs/", lambda: expect(page.locator(".swagger-ui .title")
                                      ).to_contain_text("Datagran API")),
        ("/admin/", lambda: expect(page.locator("#site-name")).to_be_visible()),
    ]
    login(page, server)  # the sign-in page, then the pipelines list
    use_workspace(page, DEMO_WORKSPACE)
    for path, rendered in checks:
        response = page.goto(server.base_url + path)
        assert response is not None and response.ok, path
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        rendered()
    page.wait_for_timeout(500)  # late reports (charts drawn after data arrives)
    assert not violations and not errors, (violations, errors)

    # The policy holds: an inline script injected into the app neither runs nor goes unseen.
    ran = page.evaluate("""() => { const s = document.createElement("script");
        s.textContent = "window.injected = true"; document.head.appendChild(s);
        return window.injected === true; }""")
    page.wait_for_timeout(200)
    assert ran is False and any("script-src" in v for v in violations), violations
    context.close()
