"""Incremental sources through real runs (database, Dramatiq worker, artifact store): the
cursor belongs to the last succeeded run, a failed run never moves it, "Full refresh" starts
over, a replay uses exactly the records the replayed run loaded without calling the source,
a column gone from the source fails the node that uses it by name, the run page's report,
and the artifact GC keeping the accumulated table the next run merges into."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from datagran.datasets.artifacts import artifact_store
from datagran.datasets.gc import artifacts_gc
from datagran.runs.models import NodeRun, Run
from tests.conftest import wait_for_run
from tests.graphs import edge, node

from . import engine_ops
from .fake_hubspot import FakeHubSpot, fake_hubspot

pytestmark = pytest.mark.django_db(transaction=True)

REPORT_FIELDS = {"records", "pages", "retries", "new", "updated", "cursor_field",
                 "cursor_before", "cursor_after", "full_refresh", "new_columns",
                 "missing_columns"}


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with fake_hubspot() as fake, override_settings(
            DATAGRAN={**settings.DATAGRAN, "URL_ALLOWLIST": ["127.0.0.1"]}):
        for i in range(150):
            fake.put("contacts", str(i), email=f"c{i}@example.com")
        yield fake


@pytest.fixture
def records() -> Iterator[dict[str, list[dict[str, Any]]]]:
    engine_ops.RECORDS.clear()
    engine_ops.READS.clear()
    engine_ops.FAILING.clear()
    yield engine_ops.RECORDS
    engine_ops.RECORDS.clear()
    engine_ops.FAILING.clear()


def hubspot_pipeline(api: Any, fake: FakeHubSpot, *, gate: bool = False) -> str:
    connection = api.post("/api/connections/", {
        "name": "Our HubSpot", "kind": "hubspot",
        "fields": {"base_url": fake.url, "access_token": "hs-token"}}, format="json").json()
    nodes = [node("contacts", "connector.hubspot", connection=connection["id"],
                  resource="contacts", properties=["email"])]
    edges = []
    if gate:
        nodes.append(node("gate", "test.fail_while_asked", name="gate"))
        edges.append(edge("contacts", "table", "gate", "table"))
    graph = {"nodes": nodes, "edges": edges}
    response = api.post("/api/pipelines/", {"name": "Contacts", "graph": graph}, format="json")
    assert response.status_code == 201, response.json()
    return str(response.json()["id"])


def run(api: Any, pipeline_id: str, **body: Any) -> dict[str, Any]:
    response = api.post(f"/api/pipelines/{pipeline_id}/runs/", body, format="json")
    assert response.status_code == 201, response.json()
    wait_for_run(response.json()["id"])
    detail: dict[str, Any] = api.get(f"/api/runs/{response.json()['id']}/").json()
    return detail


def node_of(detail: dict[str, Any], node_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(n for n in detail["nodes"] if n["node_id"] == node_id)
    return found


def output_ids(api: Any, run_id: str, node_id: str = "contacts") -> list[str]:
    preview = api.get(f"/api/runs/{run_id}/nodes/{node_id}/preview/?limit=500").json()
    column = [c["name"] for c in preview["columns"]].index("id")
    return sorted(str(row[column]) for row in preview["rows"])


def test_the_second_run_fetches_only_what_changed_since_the_first(api, worker,
                                                                  hubspot) -> None:
    pipeline = hubspot_pipeline(api, hubspot)
    first = run(api, pipeline)
    assert first["status"] == "succeeded" and first["full_refresh"] is False
    report = node_of(first, "contacts")["source"]
    assert set(report) == REPORT_FIELDS  # the cursor state stays on the server
    assert (report["records"], report["pages"], report["new"], report["updated"]) == \
        (150, 2, 150, 0)
    assert report["cursor_before"] is None and report["full_refresh"] is True
    assert report["cursor_field"] == "updatedAt" and report["cursor_after"]

    hubspot.put("contacts", "7", email="changed@example.com")
    hubspot.put("contacts", "500", email="new@example.com")
    hubspot.requests.clear()
    second = run(api, pipeline)
    assert output_ids(api, second["id"]) == ["500", "7"]
    report2 = node_of(second, "contacts")["source"]
    assert (report2["records"], report2["new"], report2["updated"]) == (2, 1, 1)
    assert report2["cursor_before"] == report["cursor_after"] and not report2["full_refresh"]
    assert report2["cursor_after"] > report2["cursor_before"]
    # HubSpot was asked only for what changed since the first run's cursor.
    body = json.loads(hubspot.requests[0]["body"])
    assert body["filterGroups"][0]["filters"][0]["operator"] == "GTE"
    assert "state" not in json.dumps(second["nodes"])


def test_a_run_whose_downstream_node_fails_does_not_move_the_cursor(api, worker, hubspot,
                                                                    records) -> None:
    pipeline = hubspot_pipeline(api, hubspot, gate=True)
    assert run(api, pipeline)["status"] == "succeeded"
    hubspot.put("contacts", "7", email="changed@example.com")
    engine_ops.FAILING.add("gate")
    failed = run(api, pipeline)
    assert failed["status"] == "failed" and node_of(failed, "gate")["status"] == "failed"
    # The source itself loaded the change, but its run failed: the cursor stays.
    assert output_ids(api, failed["id"]) == ["7"]
    engine_ops.FAILING.clear()
    again = run(api, pipeline)
    assert again["status"] == "succeeded"
    assert output_ids(api, again["id"]) == ["7"]
    assert node_of(again, "contacts")["source"]["cursor_before"] == \
        node_of(failed, "contacts")["source"]["cursor_before"]


def test_full_refresh_starts_over(api, worker, hubspot) -> None:
    pipeline = hubspot_pipeline(api, hubspot)
    run(api, pipeline)
    hubspot.put("contacts", "7", email="changed@example.com")
    refreshed = run(api, pipeline, full_refresh=True)
    assert refreshed["full_refresh"] is True
    report = node_of(refreshed, "contacts")["source"]
    assert report["records"] == 150 and report["full_refresh"] and report["cursor_before"] is None
    assert len(output_ids(api, refreshed["id"])) == 150
    listed = api.get(f"/api/runs/?pipeline={pipeline}").json()["results"]
    assert [r["full_refresh"] for r in listed] == [True, False]
    # The next ordinary run continues from the refresh's cursor.
    assert node_of(run(api, pipeline), "contacts")["source"]["records"] == 0


@pytest.mark.parametrize("value", ["yes", 1, "true", None, {"a": 1}])
def test_full_refresh_must_be_a_boolean(api, hubspot, value: Any) -> None:
    pipeline = hubspot_pipeline(api, hubspot)
    response = api.post(f"/api/pipelines/{pipeline}/runs/", {"full_refresh": value},
                        format="json")
    assert response.status_code == 400, response.json()
    assert "full_refresh" in response.json()["extra"]["fields"]
    assert not Run.objects.exists() and hubspot.requests == []


def test_a_replay_returns_the_records_that_run_loaded_without_calling_the_source(
        api, worker, hubspot) -> None:
    pipeline = hubspot_pipeline(api, hubspot)
    original = run(api, pipeline)
    hubspot.put("contacts", "7", email="changed@example.com")
    hubspot.put("contacts", "900", email="new@example.com")
    later = run(api, pipeline)
    hubspot.put("contacts", "901", email="newer@example.com")
    hubspot.requests.clear()
    for replayed in (original, later):
        response = api.post(f"/api/runs/{replayed['id']}/replay/")
        assert response.status_code == 201, response.json()
        assert wait_for_run(response.json()["id"]).status == "succeeded"
        replay = api.get(f"/api/runs/{response.json()['id']}/").json()
        assert output_ids(api, replay["id"]) == output_ids(api, replayed["id"])
        contacts = node_of(replay, "contacts")
        assert contacts["cached"] and contacts["source"] is None
        assert f"Records as loaded by run {replayed['id'][:8]}" in contacts["logs"][0]
    assert hubspot.requests == []
    # A replay records no cursor: the next run continues from the last real run.
    assert output_ids(api, run(api, pipeline)["id"]) == ["901"]


def test_a_replay_whose_records_are_gone_is_refused_naming_the_node(api, worker,
                                                                    hubspot) -> None:
    pipeline = hubspot_pipeline(api, hubspot)
    original = run(api, pipeline)
    ref = NodeRun.objects.get(run_id=original["id"], node_id="contacts").outputs["table"]
    artifact_store().delete(ref)
    asked = len(hubspot.requests)
    response = api.post(f"/api/runs/{original['id']}/replay/")
    assert response.status_code == 409, response.json()
    assert "contacts" in response.json()["message"]
    assert Run.objects.count() == 1 and len(hubspot.requests) == asked  # no run, no request


def source_pipeline(api: Any, downstream: dict[str, Any] | None = None,
                    **params: Any) -> str:
    nodes = [node("src", "test.changing_source", name="rows", **params)]
    edges = []
    if downstream is not None:
        nodes.append(downstream)
        edges.append(edge("src", "table", downstream["id"], "table"))
    response = api.post("/api/pipelines/", {"name": "Rows", "graph": {
        "nodes": nodes, "edges": edges}}, format="json")
    assert response.status_code == 201, response.json()
    return str(response.json()["id"])


def test_a_column_gone_from_the_source_fails_the_node_that_uses_it_by_name(
        api, worker, records) -> None:
    records["rows"] = [{"id": i, "updated": i, "plan": "pro", "region": "eu"}
                       for i in range(5)]
    pipeline = source_pipeline(api, node("keep", "transform.select_columns",
                                         columns=["id", "region"]))
    assert run(api, pipeline)["status"] == "succeeded"
    records["rows"] = [{"id": i, "updated": i, "plan": "pro"} for i in range(3, 8)]
    failed = run(api, pipeline)
    assert failed["status"] == "failed"
    report = node_of(failed, "src")["source"]
    assert report["missing_columns"] == ["region"]
    keep = node_of(failed, "keep")
    assert keep["status"] == "failed" and keep["error_field"] == "columns"
    assert "'region'" in keep["error"]
    assert "Gone since the last run: region." in node_of(failed, "src")["logs"]


def test_the_gc_keeps_the_table_the_next_run_merges_into(api, worker, records) -> None:
    records["rows"] = [{"id": i, "updated": i} for i in range(4)]
    pipeline = source_pipeline(api, output="accumulated")
    first = run(api, pipeline)
    Run.objects.update(created_at="2000-01-01T00:00:00Z")  # older than ARTIFACT_KEEP_DAYS
    accumulated = NodeRun.objects.get(run_id=first["id"]).source["state"]["accumulated"]
    output = NodeRun.objects.get(run_id=first["id"]).outputs["table"]["hash"]
    assert accumulated == output  # the first run's output is what it accumulated
    Run.objects.filter(pk=first["id"]).update(status="failed")  # not kept as the latest run
    artifacts_gc(unreferenced=True)
    # The run's output is gone, the state's accumulated table too: the source starts over.
    assert not artifact_store().exists({"kind": "table", "hash": accumulated})
    Run.objects.filter(pk=first["id"]).update(status="succeeded")

    records["rows"] = [{"id": i, "updated": i} for i in range(4)]
    second = run(api, pipeline)
    records["rows"].append({"id": 9, "updated": 9})
    state = NodeRun.objects.get(run_id=second["id"]).source["state"]["accumulated"]
    Run.objects.update(created_at="2000-01-01T00:00:00Z")
    NodeRun.objects.update(outputs={})  # no run's output names it: only the state holds it
    artifacts_gc(unreferenced=True)
    assert artifact_store().exists({"kind": "table", "hash": state})
    third = run(api, pipeline)
    report = node_of(third, "src")["source"]
    assert (report["new"], report["updated"]) == (1, 0) and not report["full_refresh"]
    assert output_ids(api, third["id"], "src") == ["0", "1", "2", "3", "9"]
