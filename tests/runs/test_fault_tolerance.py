"""Keeping runs moving when parts fail: dead workers' nodes are re-queued or failed by the
reaper, passing faults are retried with backoff, lost messages are re-sent, and a workspace
never runs more than its limit at once."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from datagran.runs.models import NodeRun, Run
from datagran.runs.recovery import nodes_reap, nodes_resend
from tests.conftest import wait_for_run
from tests.graphs import chain_graph, edge, node

pytestmark = pytest.mark.django_db(transaction=True)


def start(api, graph, **body: Any) -> str:
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": graph}, format="json").json()
    return api.post(f"/api/pipelines/{pipeline['id']}/runs/", body, format="json").json()["id"]


def as_if_a_worker_died(run_id: str, node_id: str, attempts: int) -> None:
    """The state a SIGKILLed worker leaves: running, with a heartbeat long gone."""
    old = timezone.now() - timedelta(minutes=5)
    NodeRun.objects.filter(run_id=run_id, node_id=node_id).update(
        status="running", started_at=old, heartbeat_at=old, attempts=attempts)
    Run.objects.filter(pk=run_id).update(status="running")


def test_the_reaper_requeues_a_node_whose_worker_died_and_the_run_finishes(api, worker) -> None:
    worker.pause()
    run_id = start(api, chain_graph())
    as_if_a_worker_died(run_id, "a", attempts=1)
    assert nodes_reap() == 1
    node = NodeRun.objects.get(run_id=run_id, node_id="a")
    assert node.status == "queued" and "stopped" in node.logs[-1]
    worker.resume()
    assert wait_for_run(run_id).status == "succeeded"
    assert NodeRun.objects.get(run_id=run_id, node_id="a").attempts == 2


def test_after_the_last_attempt_the_reaper_fails_the_node_as_a_worker_crash(api, worker) -> None:
    worker.pause()
    run_id = start(api, chain_graph())
    as_if_a_worker_died(run_id, "a", attempts=3)
    nodes_reap()
    run = Run.objects.get(pk=run_id)
    node = NodeRun.objects.get(run_id=run_id, node_id="a")
    assert node.status == "failed" and node.error.startswith("Worker crashed")
    assert NodeRun.objects.get(run_id=run_id, node_id="b").status == "skipped"
    assert run.status == "failed"


def test_the_reaper_leaves_a_beating_or_finished_node_alone(api, worker) -> None:
    run_id = start(api, chain_graph())
    wait_for_run(run_id)
    assert nodes_reap() == 0
    assert set(NodeRun.objects.filter(run_id=run_id).values_list("status", flat=True)) == {
        "succeeded"}


def test_a_passing_fault_is_retried_with_backoff_until_it_succeeds(api, worker, tmp_path,
                                                                   settings) -> None:
    graph = {"nodes": [node("a", "connector.sample_dataset"),
                       node("f", "test.flaky", counter=str(tmp_path / "n"), fail_times=2)],
             "edges": [edge("a", "table", "f", "table")]}
    with override_settings(DATAGRAN={**settings.DATAGRAN, "RETRY_BACKOFF_SECONDS": 0.05}):
        run = wait_for_run(start(api, graph))
    flaky = NodeRun.objects.get(run=run, node_id="f")
    assert run.status == "succeeded" and flaky.attempts == 3
    assert sum("retrying" in line for line in flaky.logs) == 2


def test_a_fault_that_persists_fails_after_the_last_attempt(api, worker, tmp_path,
                                                            settings) -> None:
    graph = {"nodes": [node("a", "connector.sample_dataset"),
                       node("f", "test.flaky", counter=str(tmp_path / "n"), fail_times=99)],
             "edges": [edge("a", "table", "f", "table")]}
    with override_settings(DATAGRAN={**settings.DATAGRAN, "RETRY_BACKOFF_SECONDS": 0.01}):
        run = wait_for_run(start(api, graph))
    flaky = NodeRun.objects.get(run=run, node_id="f")
    assert run.status == "failed" and "gave up after 3 attempts" in flaky.error


def test_a_node_whose_message_was_lost_is_sent_again(api, worker, settings) -> None:
    worker.pause()
    run_id = start(api, chain_graph())
    import dramatiq

    dramatiq.get_broker().flush_all()  # the broker lost the message
    NodeRun.objects.filter(run_id=run_id, node_id="a").update(
        queued_at=timezone.now() - timedelta(minutes=5))
    worker.resume()
    assert nodes_resend() == 1
    assert wait_for_run(run_id).status == "succeeded"


def test_cancel_interrupts_a_running_node_promptly(api, worker, settings) -> None:
    graph = {"nodes": [node("a", "connector.sample_dataset"),
                       node("s", "test.slow", seconds=30), node("b", "transform.sample", n=5)],
             "edges": [edge("a", "table", "s", "table"), edge("s", "table", "b", "table")]}
    with override_settings(DATAGRAN={**settings.DATAGRAN, "HEARTBEAT_SECONDS": 0.1}):
        run_id = start(api, graph)
        import time

        deadline = time.monotonic() + 20
        while NodeRun.objects.get(run_id=run_id, node_id="s").status != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        api.post(f"/api/runs/{run_id}/cancel/")
        # The worker thread is free again long before the 30 s sleep would end.
        follow_up = start(api, chain_graph())
        assert wait_for_run(follow_up, timeout=10).status == "succeeded"
    statuses = dict(NodeRun.objects.filter(run_id=run_id).values_list("node_id", "status"))
    assert statuses == {"a": "succeeded", "s": "cancelled", "b": "cancelled"}


def test_a_workspace_runs_at_most_its_limit_and_the_rest_wait(api, worker, settings) -> None:
    with override_settings(DATAGRAN={**settings.DATAGRAN, "MAX_CONCURRENT_RUNS": 1}):
        worker.pause()
        runs = [start(api, chain_graph(), force=True) for _ in range(3)]
        assert [Run.objects.get(pk=r).status for r in runs] == ["queued", "pending", "pending"]
        worker.resume()
        assert [wait_for_run(r).status for r in runs] == ["succeeded"] * 3
        ordered = sorted(Run.objects.filter(pk__in=runs), key=lambda r: r.started_at)
        assert all(a.finished_at <= b.started_at for a, b in zip(ordered, ordered[1:],
                                                                strict=False))
