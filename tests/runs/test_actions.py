"""Actions inside runs: the approval gate pauses the run with the exact preview; approval
sends, rejection cancels the run; nothing is sent twice across runs."""
from __future__ import annotations

import time

import pytest
from django.test import override_settings

from datagran.runs.models import NodeRun, Run
from tests.conftest import wait_for_run
from tests.graphs import edge, node
from tests.operators.fake_crm import fake_crm

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def crm(settings):
    with fake_crm() as fake, override_settings(
            DATAGRAN={**settings.DATAGRAN, "URL_ALLOWLIST": ["127.0.0.1"]}):
        yield fake


def webhook_pipeline(api, crm, *, rows: int = 5) -> dict:
    connection = api.post("/api/connections/", {
        "name": "hook", "kind": "webhook",
        "fields": {"url": f"{crm.url}/hooks/churn", "secret": crm.webhook_secret}},
        format="json").json()
    graph = {"nodes": [node("data", "connector.sample_dataset", dataset="customers"),
                       node("top", "transform.sort_limit",
                            order_by=[{"column": "customer_id", "descending": False}],
                            limit=rows),
                       node("hook", "action.webhook", connection=connection["id"],
                            key_column="email", columns=["email", "plan"],
                            require_approval=True)],
             "edges": [edge("data", "table", "top", "table"),
                       edge("top", "table", "hook", "table")]}
    return api.post("/api/pipelines/", {"name": "Hook", "graph": graph}, format="json").json()


def wait_for_node(run_id: str, node_id: str, status: str, timeout: float = 30) -> NodeRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = NodeRun.objects.get(run_id=run_id, node_id=node_id)
        if found.status == status:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{node_id} never became {status}: {found.status}")


def test_an_action_waits_for_approval_showing_exactly_what_it_would_send(api, worker,
                                                                         crm) -> None:
    pipeline = webhook_pipeline(api, crm)
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    wait_for_node(run_id, "hook", "waiting")
    assert Run.objects.get(pk=run_id).status == "running" and crm.requests == []
    preview = api.get(f"/api/runs/{run_id}/nodes/hook/preview/?port=preview").json()
    assert preview["total_rows"] == 5
    assert {r[1] for r in preview["rows"]} == {"dry_run"}
    response = api.post(f"/api/runs/{run_id}/nodes/hook/approve/")
    assert response.status_code == 200
    assert wait_for_run(run_id).status == "succeeded"
    assert [r["key"] for r in crm.received["webhook"]] == [
        f"customer_{i:05d}@example.com" for i in range(1, 6)]
    approved = NodeRun.objects.get(run_id=run_id, node_id="hook")
    assert approved.approved_by.username == "alice"


def test_a_rerun_sends_nothing_already_sent(api, worker, crm) -> None:
    pipeline = webhook_pipeline(api, crm)
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    wait_for_node(run_id, "hook", "waiting")
    api.post(f"/api/runs/{run_id}/nodes/hook/approve/")
    wait_for_run(run_id)
    again = api.post(f"/api/pipelines/{pipeline['id']}/runs/", {"force": True},
                     format="json").json()["id"]
    # Everything was sent with the same content: no approval needed, nothing sent.
    assert wait_for_run(again).status == "succeeded"
    assert len(crm.received["webhook"]) == 5
    results = api.get(f"/api/runs/{again}/nodes/hook/preview/").json()
    assert {r[1] for r in results["rows"]} == {"skipped"}


def test_rejecting_cancels_the_run_sends_nothing_and_is_no_field_error(api, worker,
                                                                       crm) -> None:
    pipeline = webhook_pipeline(api, crm)
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    wait_for_node(run_id, "hook", "waiting")
    assert api.post(f"/api/runs/{run_id}/nodes/data/approve/").status_code == 409
    assert api.post(f"/api/runs/{run_id}/nodes/hook/reject/").status_code == 200
    run = wait_for_run(run_id)
    assert run.status == "cancelled" and crm.requests == []
    assert run.error == "Rejected by alice: nothing was sent."
    rejected = NodeRun.objects.get(run=run, node_id="hook")
    assert rejected.status == "cancelled" and rejected.error_field == ""
    assert rejected.error == "Rejected by alice: nothing was sent."
    assert rejected.approved_by.username == "alice"
    # Nothing was recorded as sent either: a later approved run sends every record.
    assert api.post(f"/api/runs/{run_id}/nodes/hook/approve/").status_code == 409


def test_a_viewer_cannot_approve(api, worker, crm, user, other_user) -> None:
    from datagran.workspaces.services import membership_add
    from tests.conftest import token_client

    pipeline = webhook_pipeline(api, crm)
    membership_add(workspace=user.personal_workspace, user=other_user, role="viewer")
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    wait_for_node(run_id, "hook", "waiting")
    assert token_client(other_user).post(
        f"/api/runs/{run_id}/nodes/hook/approve/").status_code == 403
    api.post(f"/api/runs/{run_id}/cancel/")


def test_two_runs_sending_at_once_send_each_record_once(api) -> None:
    """Two attempts of one action node in concurrent runs of a pipeline: the second waits
    for the first, then finds its records sent (both used to find them unsent and send)."""
    import threading

    from datagran.runs.context import RunContext
    from datagran.workspaces.models import Workspace
    from operators.actions._delivery import Record, deliver

    graph = {"nodes": [node("data", "connector.sample_dataset", dataset="customers")],
             "edges": []}
    pipeline = api.post("/api/pipelines/", {"name": "Two at once", "graph": graph},
                        format="json").json()
    workspace = Workspace.objects.get(pk=pipeline["workspace"])
    received: list[str] = []

    def send(batch: list[Record]) -> dict[str, str]:
        time.sleep(0.3)  # a slow receiver: the other run reaches the send log meanwhile
        received.extend(r.key for r in batch)
        return {}

    def one_run() -> None:
        from django.db import connection
        try:
            ctx = RunContext(workspace_id=workspace.pk, pipeline_id=pipeline["id"],
                             node_id="send")
            deliver(ctx, [Record(f"k{i}", {"i": i}, f"h{i}") for i in range(4)], send,
                    dry_run=False, require_approval=False, batch_size=2)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(received) == ["k0", "k1", "k2", "k3"]
