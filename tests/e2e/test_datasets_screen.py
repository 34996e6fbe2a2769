"""The datasets screen in a real browser: a file dropped on the page uploads with a progress
bar; a changed file under the same name is the next version and the same file "unchanged";
preview and column statistics; deleting what a pipeline reads is refused, naming it; an upload
over the limit shows the server's message; the upload node's picker shows the versions and
pins the one it names.

The module's live server takes uploads up to 1 MB (DATAGRAN_UPLOAD_MAX_BYTES), so the refused
file is small; the browser's upload is throttled so the progress bar is seen."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.live.server import LiveServer

from .support import DEMO_WORKSPACE, use_workspace

pytestmark = pytest.mark.e2e

LIMIT = 1_000_000
V1 = "id,city,score\n1,Oslo,0.5\n2,Lima,\n3,Oslo,2.5\n"
V2 = V1 + "4,Pune,4.0\n"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(mode="embedded", extra_env={"DATAGRAN_UPLOAD_MAX_BYTES": str(LIMIT)}) as live:
        yield live


@pytest.fixture
def screen(page: Page, server: LiveServer) -> Page:
    use_workspace(page, DEMO_WORKSPACE)
    page.get_by_role("link", name="Datasets", exact=True).click()
    expect(page.get_by_role("heading", name="Datasets", exact=True)).to_be_visible()
    return page


def workspace_id(server: LiveServer) -> str:
    return next(w["id"] for w in server.api("GET", "/api/workspaces/")
                if w["name"] == DEMO_WORKSPACE)


def versions(server: LiveServer, name: str) -> list[dict[str, Any]]:
    rows = server.api("GET", f"/api/datasets/?workspace={workspace_id(server)}")
    return sorted((d for d in rows if d["name"] == name), key=lambda d: d["version"])


def choose(page: Page, path: Path) -> None:
    page.get_by_test_id("datasets-file-input").set_input_files(str(path))


def upload_item(page: Page, name: str) -> Any:
    return page.get_by_test_id("upload-item").filter(has_text=name).first


def test_a_dropped_file_uploads_with_a_progress_bar(screen: Page, server: LiveServer) -> None:
    page = screen
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 200_000})
    # About 850 KB: under the module's limit, several seconds at the throttled speed.
    transfer = page.evaluate_handle("""() => {
        const rows = ["id,value,label"];
        for (let i = 0; i < 40000; i++) rows.push(`${i},${i * 1.5},label-${i % 97}`);
        const dt = new DataTransfer();
        dt.items.add(new File([rows.join("\\n") + "\\n"], "dropped.csv", {type: "text/csv"}));
        return dt;
    }""")
    page.get_by_test_id("datasets-page").dispatch_event("dragenter", {"dataTransfer": transfer})
    expect(page.get_by_text("Drop to upload")).to_be_visible()
    page.get_by_test_id("datasets-page").dispatch_event("drop", {"dataTransfer": transfer})
    bar = page.get_by_role("progressbar", name="Uploading dropped.csv")
    expect(bar).to_be_visible()
    expect(page.get_by_text("Drop to upload")).to_be_hidden()
    expect(upload_item(page, "dropped.csv")).to_have_attribute("data-state", "done",
                                                               timeout=60_000)
    expect(upload_item(page, "dropped.csv")).to_contain_text("New dataset dropped.csv.")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    expect(page.get_by_test_id("dataset-row").filter(has_text="dropped.csv")).to_contain_text(
        "40,000 rows × 3 columns")
    detail = page.get_by_test_id("dataset-detail")
    expect(detail.get_by_role("heading", name="dropped.csv")).to_be_visible()
    expect(detail.get_by_test_id("dataset-preview").locator("tbody tr").first).to_contain_text(
        "label-0")
    [stored] = versions(server, "dropped.csv")
    assert stored["row_count"] == 40_000


def test_a_changed_file_is_the_next_version_and_the_same_file_unchanged(
        screen: Page, server: LiveServer, tmp_path: Path) -> None:
    page = screen
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "sales.csv", tmp_path / "b" / "sales.csv"
    first.write_text(V1)
    second.write_text(V2)
    choose(page, first)
    expect(upload_item(page, "sales.csv")).to_contain_text("New dataset sales.csv.")
    choose(page, second)
    expect(page.get_by_text("Version 2 of sales.csv.")).to_be_visible()
    detail = page.get_by_test_id("dataset-detail")
    expect(detail.get_by_test_id("version-row")).to_have_count(2)
    latest = detail.locator("[data-testid=version-row][data-version='2']")
    expect(latest).to_contain_text("latest")
    expect(latest).to_contain_text("demo")
    expect(page.get_by_test_id("dataset-row").filter(has_text="sales.csv")).to_have_count(1)

    choose(page, second)
    expect(page.get_by_text("Unchanged: version 2 of sales.csv already has this content.")
           ).to_be_visible()
    expect(detail.get_by_test_id("version-row")).to_have_count(2)
    assert [d["version"] for d in versions(server, "sales.csv")] == [1, 2]

    # The older version's own rows and statistics.
    detail.locator("[data-testid=version-row][data-version='1']").get_by_role(
        "button", name="v1").click()
    expect(detail.get_by_role("tab", name="Preview of v1")).to_be_visible()
    expect(detail.get_by_test_id("dataset-preview").locator("tbody tr")).to_have_count(3)
    detail.get_by_role("tab", name="Column statistics").click()
    score = detail.get_by_test_id("dataset-stats").locator("tr[data-column=score]")
    expect(score).to_contain_text("float")
    expect(score.locator("td").nth(2)).to_have_text("1")  # nulls
    expect(score.locator("td").nth(6)).to_have_text("1.5")  # mean
    city = detail.get_by_test_id("dataset-stats").locator("tr[data-column=city]")
    expect(city).to_contain_text("Oslo (2), Lima (1)")


def test_deleting_what_a_pipeline_reads_is_refused_naming_it(
        screen: Page, server: LiveServer, tmp_path: Path) -> None:
    page = screen
    ws = workspace_id(server)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "kept.csv").write_text(V1)
    (tmp_path / "b" / "kept.csv").write_text(V2)
    choose(page, tmp_path / "a" / "kept.csv")
    expect(upload_item(page, "kept.csv")).to_have_attribute("data-state", "done")
    choose(page, tmp_path / "b" / "kept.csv")
    expect(page.get_by_text("Version 2 of kept.csv.")).to_be_visible()
    one, two = versions(server, "kept.csv")
    graph = {"nodes": [{"id": "u", "operator": "connector.upload",
                        "params": {"dataset": one["id"]}}], "edges": []}
    server.api("POST", f"/api/pipelines/?workspace={ws}",
               {"name": "Kept report", "graph": graph, "workspace": ws})
    page.reload()
    page.get_by_test_id("dataset-row").filter(has_text="kept.csv").click()
    detail = page.get_by_test_id("dataset-detail")
    expect(detail.get_by_test_id("dataset-used-by")).to_contain_text("Kept report")

    detail.get_by_role("button", name="Delete dataset").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(detail.get_by_test_id("delete-refused")).to_contain_text(
        "Dataset 'kept.csv' is used by 'Kept report'")
    expect(detail.get_by_test_id("version-row")).to_have_count(2)
    assert [d["id"] for d in versions(server, "kept.csv")] == [one["id"], two["id"]]

    detail.get_by_role("button", name="Delete version 1").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(detail.get_by_test_id("delete-refused")).to_contain_text(
        "Version 1 of 'kept.csv' is used by 'Kept report'")
    assert len(versions(server, "kept.csv")) == 2

    # The version no pipeline reads may go.
    detail.get_by_role("button", name="Delete version 2").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(detail.get_by_test_id("version-row")).to_have_count(1)
    assert [d["id"] for d in versions(server, "kept.csv")] == [one["id"]]


def test_a_file_over_the_limit_shows_the_servers_message(
        screen: Page, server: LiveServer, tmp_path: Path) -> None:
    big = tmp_path / "huge.csv"
    big.write_text("x\n" + "1234567890\n" * (LIMIT // 10))
    choose(screen, big)
    item = upload_item(screen, "huge.csv")
    expect(item).to_have_attribute("data-state", "failed", timeout=30_000)
    expect(item).to_contain_text(
        "the upload limit is 1,000,000 bytes (DATAGRAN_UPLOAD_MAX_BYTES)")
    assert versions(server, "huge.csv") == []
    # A body past the limit and the multipart slack is refused (413) from its headers.
    enormous = tmp_path / "enormous.csv"
    enormous.write_text("x\n" + "1234567890\n" * (3 * LIMIT // 10))
    choose(screen, enormous)
    item = upload_item(screen, "enormous.csv")
    expect(item).to_have_attribute("data-state", "failed", timeout=30_000)
    expect(item).to_contain_text(re.compile(r"the limit for /api/datasets/ is [\d,]+ bytes "
                                            r"\(DATAGRAN_UPLOAD_MAX_BYTES\)"))
    assert versions(server, "enormous.csv") == []


def test_the_upload_node_picker_shows_versions_and_pins_one(
        screen: Page, server: LiveServer, tmp_path: Path) -> None:
    page = screen
    ws = workspace_id(server)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "picked.csv").write_text(V1)
    (tmp_path / "b" / "picked.csv").write_text(V2)
    choose(page, tmp_path / "a" / "picked.csv")
    expect(upload_item(page, "picked.csv")).to_have_attribute("data-state", "done")
    choose(page, tmp_path / "b" / "picked.csv")
    expect(page.get_by_text("Version 2 of picked.csv.")).to_be_visible()
    one, two = versions(server, "picked.csv")
    graph = {"nodes": [{"id": "u", "operator": "connector.upload", "position": {"x": 0, "y": 0},
                        "params": {"dataset": one["id"]}}], "edges": []}
    pipeline = server.api("POST", f"/api/pipelines/?workspace={ws}",
                          {"name": "Picks a version", "graph": graph, "workspace": ws})
    page.goto(f"{server.base_url}/pipelines/{pipeline['id']}")
    page.locator("[data-node-id=u]").click()
    field = page.locator("[data-field=dataset]")
    picker = field.locator("select")
    expect(picker.locator("option:checked")).to_have_text(re.compile(r"picked\.csv · v1 ·"))
    expect(picker.locator("optgroup[label='picked.csv'] option")).to_have_count(2)
    expect(field.get_by_test_id("dataset-pin")).to_contain_text("Reads version 1 of picked.csv")
    field.get_by_role("button", name="Use v2").click()
    expect(picker.locator("option:checked")).to_have_text(
        re.compile(r"picked\.csv · v2 \(latest\)"))
    expect(picker).to_have_value(two["id"])
