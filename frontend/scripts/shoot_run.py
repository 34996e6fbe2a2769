"""Screenshots of a slow run: live states while running, then Cancel.
python frontend/scripts/shoot_run.py [base_url] [outdir]"""
from __future__ import annotations

import random
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765"
OUT = Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/shots")


def main() -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{BASE}/")
        page.fill("input[name=username]", "demo")
        page.fill("input[name=password]", "datagran-demo")
        page.click("button[type=submit]")
        page.wait_for_selector(".pipelines-page")
        page.wait_for_timeout(400)
        page.select_option("select[aria-label=Workspace]", label="Demo workspace · owner")
        page.get_by_role("link", name="Customer churn → CSV export").click()
        page.wait_for_selector("[data-testid=op-node]")
        page.locator("[data-node-id=train]").dispatch_event("click")
        page.locator("[data-field=algorithm] select").select_option(label="Random forest")
        page.locator("[data-field=n_estimators] input").fill(str(random.randint(1900, 2000)))
        page.locator(".react-flow__pane").click(position={"x": 40, "y": 40})
        page.get_by_role("button", name="Run", exact=True).click()
        page.wait_for_selector("[data-node-id=train][data-status=running]", timeout=30000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUT / "30-running.png"))
        page.get_by_role("button", name="Cancel").click()
        page.wait_for_selector("[data-testid=run-status][data-status=cancelled]", timeout=30000)
        page.wait_for_timeout(600)
        page.screenshot(path=str(OUT / "31-cancelled.png"))
        page.keyboard.press("Control+z")
        page.keyboard.press("Control+z")
        page.keyboard.press("Control+s")
        page.wait_for_timeout(800)
        browser.close()


if __name__ == "__main__":
    main()
