"""Screenshots of the app for a human look: python frontend/scripts/shoot.py [base_url] [outdir].

Logs in as the demo user, shoots the pipelines list, opens the first pipeline, runs it and
shoots the editor while running and after. Uses Debian's Chromium; downloads nothing."""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765"
OUT = Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/shots")
OUT.mkdir(parents=True, exist_ok=True)


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        logs: list[str] = []
        page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: logs.append(f"pageerror: {e}"))

        def on_ws(ws):
            logs.append(f"ws open {ws.url}")
            ws.on("framereceived", lambda f: logs.append(f"ws <- {str(f)[:160]}"))
            ws.on("close", lambda _: logs.append("ws closed"))

        page.on("websocket", on_ws)
        page.goto(f"{BASE}/")
        page.screenshot(path=str(OUT / "00-login.png"))
        page.fill("input[name=username]", "demo")
        page.fill("input[name=password]", "datagran-demo")
        page.click("button[type=submit]")
        page.wait_for_selector(".pipelines-page")
        page.wait_for_timeout(500)
        page.select_option("select[aria-label=Workspace]", label="Demo workspace · owner")
        page.wait_for_selector("[data-testid=pipeline-row]")
        page.wait_for_timeout(300)
        page.screenshot(path=str(OUT / "01-list.png"))
        page.get_by_role("link", name="Customer churn → CSV export").click()
        page.wait_for_selector("[data-testid=op-node]")
        page.wait_for_timeout(1200)
        page.screenshot(path=str(OUT / "02-editor.png"))
        page.click("[data-testid=op-node] >> nth=1")
        page.wait_for_timeout(600)
        page.screenshot(path=str(OUT / "03-node-selected.png"))
        page.click("button:has-text('Run')")
        page.wait_for_timeout(700)
        page.screenshot(path=str(OUT / "04-running.png"))
        page.wait_for_selector("[data-testid=run-status][data-status=succeeded], "
                               "[data-testid=run-status][data-status=failed]", timeout=60000)
        page.wait_for_timeout(800)
        page.screenshot(path=str(OUT / "05-after-run.png"))
        page.locator("[data-node-id=train]").dispatch_event("click")
        page.wait_for_timeout(1200)
        page.screenshot(path=str(OUT / "06-model-output.png"))
        page.locator("[role=tab]:has-text('Metrics')").first.click()
        page.wait_for_timeout(1200)
        page.screenshot(path=str(OUT / "07-metrics.png"))
        page.locator("[data-node-id=at_risk]").dispatch_event("click")
        page.wait_for_timeout(1000)
        page.screenshot(path=str(OUT / "08-filter-form.png"))
        page.click("button[aria-label='Version history']")
        page.wait_for_timeout(800)
        page.screenshot(path=str(OUT / "09-versions.png"))
        page.keyboard.press("Escape")
        page.click("button[aria-label='Fit View']")
        page.wait_for_timeout(500)
        page.screenshot(path=str(OUT / "10-fit.png"))
        browser.close()
        (OUT / "console.log").write_text("\n".join(logs))
        print("\n".join(logs[-30:]))


if __name__ == "__main__":
    main()
