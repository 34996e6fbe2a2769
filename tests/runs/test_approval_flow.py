"""The approval gate inside runs, as the browser sees it through the API: a HubSpot action
whose host does not resolve still stops at its gate with its preview; the runs list names
the node waiting; a rejection cancels the run (not a failure, no field at fault) and sends
nothing; a dry-run-only connection refuses a real send; a run's duration is its timeline's."""
from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from datagran.runs.models import NodeRun, Run, SendLog
from tests.conftest import wait_for_run
from tests.graphs import edge, node
from tests.operators.fake_crm import fake_crm
from tests.runs.test_actions import wait_for_node

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def crm(settings):
    with fake_crm(hubspot_token="tok") as fake, override_settings(
            DATAGRAN={**settings.DATAGRAN, "URL_ALLOWLIST": ["127.0.0.1"]}):
        yield fake


def hubspot_pipeline(api, base_url: str, **params: Any) -> dict:
    connection = api.post("/api/connections/", {
        "name": "CRM", "kind": "hubspot",
        "fields": {"base_url": base_url, "access_token": "tok",
                   **params.pop("fields", {})}}, format="json").json()
    graph = {"nodes": [node("data", "connector.sample_dataset", dataset="customers"),
                       node("top", "transform.sort_limit",
                            order_by=[{"column": "customer_id", "descending": False}],
                            limit=3),
                       node("crm", "action.hubspot_upsert", connection=connection["id"],
                            key_column="email", **params)],
             "edges": [edge("data", "table", "top", "table"),
                       edge("top", "table", "crm", "table")]}
    return api.post("/api/pipelines/", {"name": "To CRM", "graph": graph},
                    format="json").json()


def test_an_unresolvable_crm_host_still_reaches_the_gate_and_the_list_names_the_node(
        api, worker) -> None:
    pipeline = hubspot_pipeline(api, "https://api.hubapi.invalid", require_approval=True)
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    wait_for_node(run_id, "crm", "waiting")
    preview = api.get(f"/api/runs/{run_id}/nodes/crm/preview/?port=preview").json()
    assert preview["total_rows"] == 3 and {r[1] for r in preview["rows"]} == {"dry_run"}
    listed = api.get("/api/runs/?status=running").json()["results"]
    assert [(r["id"], r["waiting_node"]) for r in listed] == [(run_id, "crm")]
    assert api.get(f"/api/runs/{run_id}/").json()["waiting_node"] == "crm"
    # Approved, the host is checked before anything is sent: a failure on the connection.
    assert api.post(f"/api/runs/{run_id}/nodes/crm/approve/").status_code == 200
    run = wait_for_run(run_id)
    failed = NodeRun.objects.get(run=run, node_id="crm")
    assert run.status == "failed" and failed.error_field == "connection"
    assert "api.hubapi.invalid" in failed.error
    assert api.get(f"/api/runs/{run_id}/").json()["waiting_node"] is None


def test_rejecting_cancels_the_run_and_sends_nothing(api, worker, crm) -> None:
    pipeline = hubspot_pipeline(api, crm.url, require_approval=True)
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    wait_for_node(run_id, "crm", "waiting")
    body = api.post(f"/api/runs/{run_id}/nodes/crm/reject/").json()
    assert body["status"] == "cancelled" and body["error"] == \
        "Rejected by alice: nothing was sent."
    crm_node = next(n for n in body["nodes"] if n["node_id"] == "crm")
    assert (crm_node["status"], crm_node["error_field"]) == ("cancelled", "")
    assert crm.requests == [] and not SendLog.objects.exists()
    # A second decision finds nothing waiting.
    assert api.post(f"/api/runs/{run_id}/nodes/crm/reject/").status_code == 409


def test_a_dry_run_only_connection_fails_a_real_send_and_nothing_is_received(
        api, worker, crm) -> None:
    pipeline = hubspot_pipeline(api, crm.url, fields={"dry_run_only": True})
    run = wait_for_run(api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"])
    failed = NodeRun.objects.get(run=run, node_id="crm")
    assert run.status == "failed" and failed.error == (
        "Connection 'CRM' is marked dry run only; turn on Dry run or change the connection.")
    assert failed.error_field == "dry_run"
    assert crm.requests == [] and not SendLog.objects.exists()


def test_a_runs_duration_spans_its_timeline(api, worker) -> None:
    graph = {"nodes": [node("data", "connector.sample_dataset", dataset="customers"),
                       node("top", "transform.sort_limit",
                            order_by=[{"column": "customer_id", "descending": False}],
                            limit=3)],
             "edges": [edge("data", "table", "top", "table")]}
    pipeline = api.post("/api/pipelines/", {"name": "Short", "graph": graph},
                        format="json").json()
    run = wait_for_run(api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"])
    first = min(t for n in NodeRun.objects.filter(run=run)
                for t in (n.queued_at, n.started_at) if t)
    assert first <= run.started_at
    assert run.duration_ms == int((run.finished_at - first).total_seconds() * 1000)
    assert Run.objects.get(pk=run.pk).duration_ms == run.duration_ms
