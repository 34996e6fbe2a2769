"""Reproducibility: exact replay gives identical outputs and model file, dataset versions
are content-addressed, version diffs, and garbage collection that keeps what is needed."""
from __future__ import annotations

import copy
import io
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from datagran.datasets.artifacts import artifact_store
from datagran.datasets.gc import artifacts_gc
from datagran.registry.models import ModelVersion
from datagran.runs.models import NodeRun, Run
from tests.conftest import wait_for_run
from tests.graphs import classifier_graph

pytestmark = pytest.mark.django_db(transaction=True)


def upload(api, content: bytes) -> dict:
    fh = io.BytesIO(content)
    fh.name = "d.csv"
    return api.post("/api/datasets/", {"file": fh}, format="multipart").json()


def test_re_uploading_the_same_bytes_is_the_same_dataset_version(api) -> None:
    first, again = upload(api, b"a,b\n1,2\n"), upload(api, b"a,b\n1,2\n")
    other = upload(api, b"a,b\n1,3\n")
    assert first["id"] == again["id"] and other["id"] != first["id"]


def hashes(run_id: str) -> dict[str, dict[str, str]]:
    return {n.node_id: {port: ref["hash"] for port, ref in n.outputs.items()}
            for n in NodeRun.objects.filter(run_id=run_id)}


def test_an_exact_replay_reproduces_every_output_and_the_model_file(api, worker) -> None:
    pipeline = api.post("/api/pipelines/", {"name": "Iris", "graph": classifier_graph()},
                        format="json").json()
    original = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    wait_for_run(original)
    # The pipeline moves on; the replay still uses the version that ran.
    changed = copy.deepcopy(pipeline["graph"])
    changed["nodes"][2]["params"]["n_estimators"] = 7
    api.put(f"/api/pipelines/{pipeline['id']}/", {"name": "Iris", "graph": changed},
            format="json")
    response = api.post(f"/api/runs/{original}/replay/")
    assert response.status_code == 201
    replay = response.json()
    assert replay["version"] == pipeline["version"] and replay["replay_of"] == original
    assert wait_for_run(replay["id"]).status == "succeeded"
    assert not NodeRun.objects.filter(run_id=replay["id"], cached=True).exists()
    assert hashes(replay["id"]) == hashes(original)
    # The same model file, data and params: the replay is linked to the version it
    # reproduced instead of registering a duplicate.
    [model] = ModelVersion.objects.all()
    assert str(model.run_id) == replay["id"]


def test_a_run_records_the_dataset_versions_it_read(api, worker) -> None:
    dataset = upload(api, b"x,y\n1,a\n2,b\n")
    graph = {"nodes": [{"id": "u", "operator": "connector.upload",
                        "params": {"dataset": dataset["id"]}}], "edges": []}
    pipeline = api.post("/api/pipelines/", {"name": "u", "graph": graph}, format="json").json()
    run = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()
    from datagran.datasets.models import Dataset

    table_hash = Dataset.objects.get(pk=dataset["id"]).table_hash
    assert run["datasets"] == {"u": {"operator": "connector.upload", "hash": table_hash,
                                     "dataset": dataset["id"]}}


def test_the_diff_of_two_versions_names_what_changed(api) -> None:
    pipeline = api.post("/api/pipelines/", {"name": "Iris", "graph": classifier_graph()},
                        format="json").json()
    graph = copy.deepcopy(pipeline["graph"])
    graph["nodes"][2]["params"]["n_estimators"] = 10
    graph["nodes"] = [n for n in graph["nodes"] if n["id"] != "export"]
    graph["edges"] = [e for e in graph["edges"] if e["target"] != "export"]
    new = api.put(f"/api/pipelines/{pipeline['id']}/", {"name": "Iris", "graph": graph},
                  format="json").json()
    diff = api.get(f"/api/pipelines/{pipeline['id']}/versions/diff/",
                   {"a": pipeline["version"], "b": new["version"]}).json()
    assert diff["nodes_removed"] == ["export"] and diff["nodes_added"] == []
    assert diff["params_changed"] == {"train": {"n_estimators": {"old": None, "new": 10}}}
    assert diff["edges_removed"] == [{"source": "predict", "source_port": "table",
                                      "target": "export", "target_port": "table"}]
    bad = api.get(f"/api/pipelines/{pipeline['id']}/versions/diff/", {"a": "nope", "b": "x"})
    assert bad.status_code == 400 and "a" in bad.json()["extra"]["fields"]


def test_gc_evicts_old_outputs_but_never_what_a_model_dataset_or_kept_run_needs(
        api, worker, settings) -> None:
    pipeline = api.post("/api/pipelines/", {"name": "Iris", "graph": classifier_graph()},
                        format="json").json()
    old = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    wait_for_run(old)
    latest = api.post(f"/api/pipelines/{pipeline['id']}/runs/", {"force": True},
                      format="json").json()["id"]
    wait_for_run(latest)
    ModelVersion.objects.filter(run_id=old).delete()  # nothing but age protects the old run
    Run.objects.filter(pk=old).update(created_at=timezone.now() - timedelta(days=90))
    dataset = upload(api, b"k\n1\n")
    store = artifact_store()
    old_only = set(hashes(old)["split"].values()) - set(hashes(latest)["split"].values())
    with override_settings(DATAGRAN={**settings.DATAGRAN, "ARTIFACT_KEEP_DAYS": 30}):
        result = artifacts_gc(unreferenced=True)
    assert result["deleted"] >= 1
    for node in NodeRun.objects.filter(run_id=latest):
        for ref in node.outputs.values():
            assert store.exists(ref), "a kept run lost data"
    model = ModelVersion.objects.get(run_id=latest)
    assert store.exists({"kind": "model", "hash": model.model_hash})
    from datagran.datasets.models import Dataset

    assert store.exists({"kind": "table",
                         "hash": Dataset.objects.get(pk=dataset["id"]).table_hash})
    for digest in old_only:
        assert not store.exists({"kind": "table", "hash": digest})


def test_a_replay_whose_inputs_moved_is_refused_before_any_run_starts(api) -> None:
    """The production alias a run read has moved: the replay is refused, and no run (not
    even a cancelled one) is created and no node is queued."""
    import pandas as pd
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    for y in ([0, 0, 1, 1], [0, 1, 0, 1]):  # two versions of one imported model
        fh = io.BytesIO(sio.dumps(LogisticRegression().fit(X, y)))
        fh.name = "m.skops"
        assert api.post("/api/models/import/", {"file": fh, "name": "Scorer"},
                        format="multipart").status_code == 201
    graph = {"nodes": [{"id": "m", "operator": "model.registered",
                        "params": {"model": "Scorer", "alias": "production"}}], "edges": []}
    pipeline = api.post("/api/pipelines/", {"name": "s", "graph": graph}, format="json").json()
    original = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    model = api.get("/api/models/").json()[0]
    api.post(f"/api/models/{model['id']}/aliases/", {"alias": "production", "version": 1},
             format="json")
    response = api.post(f"/api/runs/{original}/replay/")
    assert response.status_code == 400
    assert "cannot be replayed exactly" in response.json()["message"]
    assert [str(pk) for pk in Run.objects.values_list("pk", flat=True)] == [original]
    assert not NodeRun.objects.exclude(run_id=original).exists()
