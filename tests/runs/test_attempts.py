"""One attempt of a node at a time: an attempt that is no longer the current one (the reaper
handed the node to another worker) can neither send nor record anything; the time limit
interrupts native work, and a node whose code ignores every interrupt is failed and its
thread abandoned."""
from __future__ import annotations

import time

import pytest
from django.test import override_settings

from datagran.runs import heartbeat
from datagran.runs.context import RunContext
from datagran.runs.heartbeat import NodeInterrupted
from datagran.runs.lifecycle import node_fail
from datagran.runs.models import NodeRun, Run, SendLog
from tests.conftest import wait_for_run
from tests.graphs import chain_graph, edge, node

pytestmark = pytest.mark.django_db(transaction=True)


def start(api, graph) -> str:
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": graph}, format="json").json()
    return api.post(f"/api/pipelines/{pipeline['id']}/runs/", {}, format="json").json()["id"]


def superseded(api, worker) -> tuple[Run, NodeRun, RunContext]:
    """Node a of a run, running its second attempt, and the context of its first."""
    worker.pause()
    run = Run.objects.get(pk=start(api, chain_graph()))
    NodeRun.objects.filter(run=run, node_id="a").update(status="running", attempts=2)
    Run.objects.filter(pk=run.pk).update(status="running")
    a = NodeRun.objects.get(run=run, node_id="a")
    ctx = RunContext(workspace_id=run.workspace_id, pipeline_id=run.pipeline_id,
                     run_id=run.pk, node_id="a", node_pk=a.pk, attempt=1)
    return run, a, ctx


def test_a_superseded_attempt_can_neither_send_nor_record(api, worker) -> None:
    run, a, old = superseded(api, worker)
    with pytest.raises(NodeInterrupted):
        old.mark_in_flight({"r1": "h1"}, "batch-1")  # before its request: nothing goes out
    with pytest.raises(NodeInterrupted):
        old.mark_sent({"r1": "h1"})
    assert not SendLog.objects.exists()
    node_fail(run_id=run.pk, node_id="a", logs=old.logs, message="the old attempt's error",
              attempts=1)
    a.refresh_from_db()
    assert (a.status, a.error) == ("running", "")
    current = RunContext(workspace_id=run.workspace_id, pipeline_id=run.pipeline_id,
                         run_id=run.pk, node_id="a", node_pk=a.pk, attempt=2)
    current.mark_in_flight({"r1": "h1"}, "batch-1")
    assert current.in_flight({"r1": "h1"}) == {"r1": "batch-1"}


def test_the_time_limit_interrupts_native_work(api, worker, settings) -> None:
    graph = {"nodes": [node("data", "connector.sample_dataset"),
                       node("spin", "test.duckdb_spin")],
             "edges": [edge("data", "table", "spin", "table")]}
    with override_settings(DATAGRAN={**settings.DATAGRAN, "NODE_TIME_LIMIT_SECONDS": 2,
                                     "HEARTBEAT_SECONDS": 0.2}):
        began = time.monotonic()
        run = wait_for_run(start(api, graph), timeout=30)
    spin = NodeRun.objects.get(run=run, node_id="spin")
    print(f"a 2 s time limit ended a DuckDB spin after {time.monotonic() - began:.1f} s")
    assert spin.status == "failed" and spin.error == ("The node ran longer than its time "
                                                      "limit of 2 s.")


def test_a_node_that_ignores_every_interrupt_is_failed_and_its_thread_abandoned(
        api, worker, settings, monkeypatch) -> None:
    monkeypatch.setattr(heartbeat, "ABANDON_AFTER_SECONDS", 1.0)
    graph = {"nodes": [node("data", "connector.sample_dataset"),
                       node("stuck", "test.slow", seconds=8, stubborn=True)],
             "edges": [edge("data", "table", "stuck", "table")]}
    with override_settings(DATAGRAN={**settings.DATAGRAN, "NODE_TIME_LIMIT_SECONDS": 1,
                                     "HEARTBEAT_SECONDS": 0.2}):
        began = time.monotonic()
        run = wait_for_run(start(api, graph), timeout=30)
        failed_after = time.monotonic() - began
        stuck = NodeRun.objects.get(run=run, node_id="stuck")
        print(f"failed {failed_after:.1f} s after the start, the 8 s sleep still going")
        assert run.status == "failed" and "its thread was abandoned" in stuck.error
        assert failed_after < 8  # failed while the thread was still asleep
        time.sleep(8 - failed_after + 1)  # the thread wakes: its result is fenced out
    stuck.refresh_from_db()
    assert stuck.status == "failed" and stuck.outputs == {}
