"""Cached node outputs: an unchanged node is not recomputed; after an edit only the edited
node and its descendants run; actions always run; force ignores the cache."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from datagran.datasets.artifacts import artifact_store
from datagran.runs.models import CacheEntry, NodeRun
from tests.conftest import wait_for_run
from tests.graphs import classifier_graph

pytestmark = pytest.mark.django_db(transaction=True)


def run_of(api, pipeline_id: str, **body: Any) -> dict[str, NodeRun]:
    run_id = api.post(f"/api/pipelines/{pipeline_id}/runs/", body, format="json").json()["id"]
    assert wait_for_run(run_id).status == "succeeded"
    return {n.node_id: n for n in NodeRun.objects.filter(run_id=run_id)}


def cached(nodes: dict[str, NodeRun]) -> set[str]:
    return {node_id for node_id, n in nodes.items() if n.cached}


@pytest.fixture
def pipeline(api) -> dict:
    return api.post("/api/pipelines/", {"name": "P", "graph": classifier_graph()},
                    format="json").json()


def test_an_unchanged_rerun_reuses_every_output_but_actions_still_run(api, worker,
                                                                     pipeline) -> None:
    first = run_of(api, pipeline["id"])
    assert cached(first) == set()
    second = run_of(api, pipeline["id"])
    assert cached(second) == {"data", "split", "train", "predict"}
    assert not second["export"].cached and second["export"].status == "succeeded"
    assert second["predict"].outputs == first["predict"].outputs
    assert second["predict"].rows_out == 45


def test_after_editing_a_node_only_it_and_its_descendants_run(api, worker, pipeline) -> None:
    run_of(api, pipeline["id"])
    graph = copy.deepcopy(pipeline["graph"])
    next(n for n in graph["nodes"] if n["id"] == "train")["params"]["n_estimators"] = 20
    plan = api.post(f"/api/pipelines/{pipeline['id']}/plan/", {"graph": graph},
                    format="json").json()["nodes"]
    assert plan == {"data": "cached", "split": "cached", "train": "run", "predict": "run",
                    "export": "run"}
    api.put(f"/api/pipelines/{pipeline['id']}/", {"name": "P", "graph": graph}, format="json")
    assert cached(run_of(api, pipeline["id"])) == {"data", "split"}


def test_force_recomputes_everything(api, worker, pipeline) -> None:
    run_of(api, pipeline["id"])
    assert cached(run_of(api, pipeline["id"], force=True)) == set()


def test_an_output_whose_file_is_gone_is_recomputed(api, worker, pipeline) -> None:
    first = run_of(api, pipeline["id"])
    artifact_store().delete(first["data"].outputs["table"])
    second = run_of(api, pipeline["id"])
    assert "data" not in cached(second) and {"split", "train"} <= cached(second)
    assert artifact_store().exists(second["data"].outputs["table"])


def test_the_plan_of_a_pipeline_that_never_ran_is_to_run_everything(api, pipeline) -> None:
    plan = api.post(f"/api/pipelines/{pipeline['id']}/plan/", {}, format="json").json()
    assert set(plan["nodes"].values()) == {"run"}
    assert CacheEntry.objects.count() == 0


def test_a_different_upload_is_a_different_cache_key(api, worker) -> None:
    import io

    def upload(content: bytes) -> str:
        fh = io.BytesIO(content)
        fh.name = "d.csv"
        return api.post("/api/datasets/", {"file": fh}, format="multipart").json()["id"]

    graph = {"nodes": [{"id": "u", "operator": "connector.upload", "params": {}}], "edges": []}
    ids = [upload(b"a\n1\n"), upload(b"a\n2\n")]
    outputs = []
    for dataset_id in ids:
        graph["nodes"][0]["params"] = {"dataset": dataset_id}
        p = api.post("/api/pipelines/", {"name": dataset_id, "graph": graph},
                     format="json").json()
        nodes = run_of(api, p["id"])
        assert not nodes["u"].cached
        outputs.append(nodes["u"].outputs["table"]["hash"])
    assert outputs[0] != outputs[1]


def test_planning_writes_nothing_to_the_store_or_the_database(api, worker, pipeline,
                                                              other_user) -> None:
    """Every debounced canvas edit plans, for viewers too: it must neither touch the cached
    outputs (a PUT per object on S3) nor write a row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from datagran.workspaces.models import Workspace
    from datagran.workspaces.services import membership_add
    from tests.conftest import token_client

    run_of(api, pipeline["id"])
    membership_add(workspace=Workspace.objects.get(pk=pipeline["workspace"]), user=other_user,
                   role="viewer")
    viewer = token_client(other_user)
    store = artifact_store()
    before = {(a.kind, a.hash): a.used for a in store.artifacts()}
    with CaptureQueriesContext(connection) as queries:
        response = viewer.post(f"/api/pipelines/{pipeline['id']}/plan/", {}, format="json")
    assert response.json()["nodes"] == {"data": "cached", "split": "cached", "train": "cached",
                                        "predict": "cached", "export": "run"}
    assert {(a.kind, a.hash): a.used for a in store.artifacts()} == before
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
