"""One workspace may not hold every worker thread: with two threads, a workspace runs at
most one node at a time in the process, so another workspace's run still finishes while
the first one's nodes are stuck."""
from __future__ import annotations

import time

import pytest

from datagran.runs.models import NodeRun, Run
from tests.conftest import wait_for_run
from tests.graphs import chain_graph, edge, node

pytestmark = pytest.mark.django_db(transaction=True)


def start(client, graph) -> str:
    pipeline = client.post("/api/pipelines/", {"name": "P", "graph": graph},
                           format="json").json()
    return client.post(f"/api/pipelines/{pipeline['id']}/runs/", {},
                       format="json").json()["id"]


def test_a_stuck_workspace_leaves_a_thread_for_another_tenants_run(api, other_api,
                                                                   worker) -> None:
    stuck = {"nodes": [node("a", "connector.sample_dataset"),
                       node("s1", "test.slow", seconds=60), node("s2", "test.slow", seconds=60)],
             "edges": [edge("a", "table", "s1", "table"), edge("a", "table", "s2", "table")]}
    hog = start(api, stuck)
    deadline = time.monotonic() + 20
    while not NodeRun.objects.filter(run_id=hog, status="running").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    began = time.monotonic()
    other = wait_for_run(start(other_api, chain_graph()), timeout=30)
    print(f"another tenant's run finished in {time.monotonic() - began:.2f} s "
          "beside a stuck workspace")
    try:
        assert other.status == "succeeded"
        # The stuck workspace never held both threads.
        statuses = dict(NodeRun.objects.filter(run_id=hog).values_list("node_id", "status"))
        assert sorted(statuses.values()).count("running") == 1, statuses
    finally:
        api.post(f"/api/runs/{hog}/cancel/")
    assert wait_for_run(hog).status == "cancelled"
    assert Run.objects.get(pk=hog).nodes.filter(status="running").count() == 0
