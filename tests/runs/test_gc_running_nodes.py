"""The collector and running nodes: a node that writes a table already stored (a
deduplicated write) marks it used, and nothing a running node may have written or reused is
deleted, although no finished run names it yet."""
from __future__ import annotations

import os
import time

import pandas as pd
import pytest
from django.utils import timezone

from datagran.datasets.artifacts import artifact_store
from datagran.datasets.gc import artifacts_gc
from datagran.runs.models import NodeRun, NodeStatus, Run
from tests.conftest import wait_for_run
from tests.graphs import chain_graph

pytestmark = pytest.mark.django_db(transaction=True)
TWO_DAYS = 2 * 24 * 3600


@pytest.fixture
def store(settings, tmp_path):
    settings.DATAGRAN = {**settings.DATAGRAN, "ARTIFACTS_URL": str(tmp_path / "store"),
                         "TABLE_MEMO_BYTES": 0}
    return artifact_store()


def age(store, ref: dict, seconds: float) -> None:
    path = store.storage.root / store.key(ref["kind"], ref["hash"])
    past = time.time() - seconds
    os.utime(path, (past, past))


def a_running_node(api) -> NodeRun:
    """A node of a real run, marked running now: what a worker in the middle of it looks
    like to the collector."""
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": chain_graph()},
                        format="json").json()
    run = wait_for_run(api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"])
    Run.objects.filter(pk=run.pk).update(status="running")
    node = NodeRun.objects.filter(run=run).first()
    NodeRun.objects.filter(pk=node.pk).update(status=NodeStatus.RUNNING,
                                              started_at=timezone.now())
    return node


def test_a_deduplicated_write_by_a_running_node_keeps_the_old_object(api, worker,
                                                                     store) -> None:
    table = pd.DataFrame({"x": range(100)})
    ref = store.put_table(table).as_json()
    age(store, ref, TWO_DAYS)  # stored long ago, by a run nothing keeps
    a_running_node(api)
    again = store.put_table(table).as_json()  # the running node computes the same table
    assert again["hash"] == ref["hash"]
    result = artifacts_gc(unreferenced=True)
    print(f"collector with a node running: {result}")
    assert store.exists(ref), "the collector deleted what a running node is about to record"


def test_the_collector_spares_a_running_nodes_writes_and_takes_them_once_it_is_gone(
        api, worker, store) -> None:
    node = a_running_node(api)
    ref = {"kind": "file", "hash": store.put_file(b"written by the running node")}
    artifacts_gc(unreferenced=True)
    assert store.exists(ref)
    NodeRun.objects.filter(pk=node.pk).update(status=NodeStatus.FAILED)  # it ended
    age(store, ref, 5)
    artifacts_gc(unreferenced=True)
    assert not store.exists(ref)  # unreferenced once no node may still record it
