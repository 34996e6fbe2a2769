"""A plugin package installed by entry point shows its operator in the canvas's palette, and
it can be added to a pipeline, on a live server that has the plugin on its PYTHONPATH."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.live.server import LiveServer
from tests.plugins.install import EXAMPLE_PLUGIN, install_plugin

from .support import DEMO_WORKSPACE, use_workspace

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    """This module's live server: the example plugin installed in a folder on its path."""
    with tempfile.TemporaryDirectory(prefix="datagran-plugin-") as folder:
        site = install_plugin(EXAMPLE_PLUGIN, Path(folder) / "site-packages")
        path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
        with LiveServer(mode="embedded", extra_env={"PYTHONPATH": path}) as live:
            yield live


def test_the_plugin_operator_is_in_the_palette_and_goes_on_the_canvas(page: Page) -> None:
    use_workspace(page, DEMO_WORKSPACE)
    page.get_by_role("link", name="Customer churn → CSV export").click()
    nodes = page.locator("[data-testid=op-node]")
    expect(nodes.first).to_be_visible()
    before = nodes.count()
    palette = page.get_by_role("complementary", name="Operators")
    palette.get_by_label("Search operators").fill("plugin")
    item = palette.locator("[data-testid=palette-item][data-operator='example.shout']")
    expect(item).to_contain_text("Shout")
    expect(palette.locator("[data-testid=palette-item]")).to_have_count(1)
    item.click()
    expect(nodes).to_have_count(before + 1)
    expect(nodes.filter(has_text="Shout")).to_have_count(1)
