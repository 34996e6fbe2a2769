"""Screenshots of editing: new pipeline, click-to-add, a refused connection, params, save,
draft recovery. python frontend/scripts/shoot_edit.py [base_url] [outdir]"""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765"
OUT = Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/shots")
OUT.mkdir(parents=True, exist_ok=True)


def handle_center(page, node_id: str, port: str, kind: str):
    box = page.locator(
        f"[data-node-id='{node_id}'] .react-flow__handle-{'right' if kind == 'out' else 'left'}"
        f"[data-handleid='{port}']"
    ).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


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
        page.goto(f"{BASE}/")
        page.fill("input[name=username]", "demo")
        page.fill("input[name=password]", "datagran-demo")
        page.click("button[type=submit]")
        page.wait_for_selector(".pipelines-page")
        page.click("button:has-text('New pipeline')")
        page.fill("#pipeline-form input", "Scratch pipeline")
        page.screenshot(path=str(OUT / "20-new-dialog.png"))
        page.click("button[form=pipeline-form]")
        page.wait_for_selector("[data-testid=canvas]")
        page.wait_for_timeout(600)
        page.screenshot(path=str(OUT / "21-empty-editor.png"))
        page.click("[data-operator='connector.sample_dataset']")
        page.wait_for_timeout(200)
        page.click("[data-operator='transform.split']")  # auto-connects from the selection
        page.wait_for_timeout(200)
        page.click("[data-operator='model.train_classifier']")
        page.wait_for_timeout(1200)
        page.screenshot(path=str(OUT / "22-added.png"))
        # A refused connection: model output → table input of a new filter node.
        page.keyboard.press("Escape")
        page.click("[data-operator='transform.filter_rows']")
        page.wait_for_timeout(500)
        sx, sy = handle_center(page, "n3", "model", "out")
        tx, ty = handle_center(page, "n4", "table", "in")
        page.mouse.move(sx, sy)
        page.mouse.down()
        page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=5)
        page.mouse.move(tx, ty, steps=8)
        page.wait_for_timeout(300)
        page.screenshot(path=str(OUT / "23-refused-drag.png"))
        page.mouse.up()
        page.wait_for_timeout(300)
        page.screenshot(path=str(OUT / "24-refused-toast.png"))
        # Params with validation errors: the classifier needs a target.
        page.locator("[data-node-id=n3]").dispatch_event("click")
        page.wait_for_timeout(1200)
        page.screenshot(path=str(OUT / "25-train-form.png"))
        page.keyboard.press("Control+s")
        page.wait_for_timeout(1000)
        page.screenshot(path=str(OUT / "26-after-save.png"))
        page.reload()
        page.wait_for_selector("[data-testid=canvas]")
        page.wait_for_timeout(1000)
        page.screenshot(path=str(OUT / "27-reloaded.png"))
        browser.close()
        print("\n".join(logs[-30:]))


if __name__ == "__main__":
    main()
