"""The model registry: versions with lineage, aliases moved by promote/demote (audited),
comparison, imported models, and predict nodes that use a registered model."""
from __future__ import annotations

import copy
import io
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from datagran.registry.models import ModelVersion, RegisteredModel
from datagran.workspaces.models import AuditEntry
from tests.conftest import wait_for_run
from tests.graphs import classifier_graph, edge, node

pytestmark = pytest.mark.django_db(transaction=True)


def run(api, pipeline_id: str, **body: Any) -> str:
    run_id = api.post(f"/api/pipelines/{pipeline_id}/runs/", body, format="json").json()["id"]
    status = wait_for_run(run_id).status
    assert status == "succeeded", api.get(f"/api/runs/{run_id}/").json()
    return run_id


def retrain(api, pipeline: dict[str, Any], seed: int = 11) -> str:
    """Train the pipeline's model again with another seed: a new version (a forced re-run
    with the same data and params would reproduce the one there is)."""
    current = api.get(f"/api/pipelines/{pipeline['id']}/").json()
    graph = copy.deepcopy(current["graph"])
    next(n for n in graph["nodes"] if n["id"] == "train")["params"]["seed"] = seed
    assert api.patch(f"/api/pipelines/{pipeline['id']}/", {"graph": graph},
                     format="json").status_code == 200
    return run(api, pipeline["id"])


@pytest.fixture
def trained(api, worker):
    graph = classifier_graph()
    train = next(n for n in graph["nodes"] if n["id"] == "train")
    train["label"], train["params"]["model_name"] = "Iris", "Iris"
    pipeline = api.post("/api/pipelines/", {"name": "Iris", "graph": graph},
                        format="json").json()
    run_id = run(api, pipeline["id"])
    model = api.get("/api/models/").json()[0]
    return pipeline, run_id, model


def test_a_training_run_registers_a_version_with_its_lineage(api, trained) -> None:
    pipeline, run_id, model = trained
    assert model["name"] == "Iris" and model["version_count"] == 1
    v1 = api.get(f"/api/models/{model['id']}/versions/1/").json()
    assert v1["run"] == run_id and v1["node_id"] == "train"
    assert v1["pipeline_version"] == pipeline["version"]
    assert v1["operator"] == "model.train_classifier" and v1["operator_version"]
    assert v1["params"]["n_estimators"] == 100  # the effective value, defaults included
    assert 0.8 < v1["metrics"]["accuracy"] <= 1.0
    split = api.get(f"/api/runs/{run_id}/").json()["nodes"][1]
    assert v1["training_data"]["rows"] == split["outputs"]["train"]["rows"] == 105
    assert set(v1["environment"]) == {"python", "scikit-learn", "pandas", "datagran"}
    assert v1["classes"] == ["setosa", "versicolor", "virginica"]
    kinds = {n["kind"] for n in v1["lineage"]["nodes"]}
    assert kinds == {"dataset", "run", "model_version", "output"}
    # The nodes that read the model, by label: not the export downstream of the predictions.
    outputs = {n["label"] for n in v1["lineage"]["nodes"] if n["kind"] == "output"}
    assert outputs == {"Predict"}


def test_a_cached_rerun_registers_nothing_new_and_a_forced_one_does(api, trained) -> None:
    pipeline, _, model = trained
    run(api, pipeline["id"])
    assert ModelVersion.objects.count() == 1
    retrain(api, pipeline)
    assert [v.version for v in ModelVersion.objects.order_by("version")] == [1, 2]


def test_aliases_move_by_promote_and_demote_with_an_audit_trail(api, trained, user) -> None:
    pipeline, _, model = trained
    retrain(api, pipeline)
    url = f"/api/models/{model['id']}/aliases/"
    assert api.post(url, {"alias": "production", "version": 1}, format="json").status_code == 200
    moved = api.post(url, {"alias": "production", "version": 2}, format="json").json()
    assert moved["aliases"] == {"production": 2}
    assert api.post(url, {"alias": "Prod!", "version": 1}, format="json").status_code == 400
    assert api.post(url, {"alias": "staging", "version": 9}, format="json").status_code == 400
    demoted = api.delete(f"{url}production/").json()
    assert demoted["aliases"] == {}
    trail = list(AuditEntry.objects.order_by("id").values_list("action", "detail", "actor"))
    assert [(a, d.get("version"), d.get("previous")) for a, d, _ in trail] == [
        ("model.promote", 1, None), ("model.promote", 2, 1), ("model.demote", 2, None)]
    assert {actor for _, _, actor in trail} == {user.pk}


def test_compare_shows_metrics_side_by_side_and_the_params_that_changed(api, trained) -> None:
    pipeline, _, model = trained
    graph = copy.deepcopy(pipeline["graph"])
    next(n for n in graph["nodes"] if n["id"] == "train")["params"]["n_estimators"] = 5
    api.put(f"/api/pipelines/{pipeline['id']}/", {"name": "Iris", "graph": graph},
            format="json")
    run(api, pipeline["id"])
    diff = api.get(f"/api/models/{model['id']}/compare/?a=1&b=2").json()
    assert diff["params"]["n_estimators"] == {"a": 100, "b": 5}
    assert set(diff["metrics"]["accuracy"]) == {"a", "b"}
    assert diff["training_data"]["same_data"] is True
    assert api.get(f"/api/models/{model['id']}/compare/?a=1").status_code == 400


def test_a_predict_node_uses_the_registered_production_model(api, trained) -> None:
    pipeline, run_id, model = trained
    api.post(f"/api/models/{model['id']}/aliases/", {"alias": "production", "version": 1},
             format="json")
    graph = {"nodes": [node("data", "connector.sample_dataset", dataset="iris"),
                       node("m", "model.registered", model="Iris", alias="production"),
                       node("p", "model.predict")],
             "edges": [edge("data", "table", "p", "table"), edge("m", "model", "p", "model")]}
    scoring = api.post("/api/pipelines/", {"name": "Score", "graph": graph},
                       format="json").json()
    scored_run = run(api, scoring["id"])
    rows = api.get(f"/api/runs/{scored_run}/nodes/p/preview/?limit=500").json()
    original = api.get(f"/api/runs/{run_id}/nodes/predict/preview/?limit=500").json()
    assert rows["total_rows"] == 150 and original["total_rows"] == 45
    # The same model gives the same prediction for the rows both runs scored.
    by_features = {tuple(r[:4]): r[-2] for r in rows["rows"]}
    assert all(by_features[tuple(r[:4])] == r[-2] for r in original["rows"])


def test_an_unknown_registered_model_is_refused_when_saving(api, worker) -> None:
    graph = {"nodes": [node("m", "model.registered", model="Nope")], "edges": []}
    response = api.post("/api/pipelines/", {"name": "x", "graph": graph}, format="json")
    assert response.status_code == 400
    assert response.json()["extra"]["errors"][0]["field"] == "params.model"


class Sneaky(BaseEstimator):
    def predict(self, X):  # noqa: ANN001, ANN201
        return np.zeros(len(X))


def import_model(api, estimator, **fields: Any):
    data = io.BytesIO(sio.dumps(estimator))
    data.name = "model.skops"
    return api.post("/api/models/import/", {"file": data, "name": "Imported", **fields},
                    format="multipart")


def test_an_imported_model_becomes_a_version_with_its_feature_names(api, worker) -> None:
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    estimator = LogisticRegression().fit(X, [0, 0, 1, 1])
    response = import_model(api, estimator, code_reference="git@x:y.git#abc",
                            metrics='{"auc": 0.9}', params='{"C": 1.0}')
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [f["name"] for f in body["features"]] == ["a", "b"]
    assert body["source"] == "import" and body["metrics"] == {"auc": 0.9}
    graph = {"nodes": [node("data", "connector.sample_dataset", dataset="iris"),
                       node("m", "model.registered", model="Imported"),
                       node("p", "model.predict")],
             "edges": [edge("data", "table", "p", "table"), edge("m", "model", "p", "model")]}
    # Iris has no columns a and b: the predict node is refused when the graph is saved.
    response = api.post("/api/pipelines/", {"name": "x", "graph": graph}, format="json")
    assert response.status_code == 400
    [error] = response.json()["extra"]["errors"]
    assert error["node"] == "p" and "a, b" in error["message"]


def test_a_model_file_with_untrusted_types_is_refused_naming_them(api, worker) -> None:
    response = import_model(api, Sneaky())
    assert response.status_code == 400
    assert "Sneaky" in response.json()["message"]
    assert any("Sneaky" in t for t in response.json()["extra"]["fields"]["file"])


def test_a_model_without_feature_names_is_refused(api, worker) -> None:
    estimator = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    response = import_model(api, estimator)
    assert response.status_code == 400 and "feature names" in response.json()["message"]


def test_a_garbage_file_is_refused(api, worker) -> None:
    data = io.BytesIO(b"not a model")
    data.name = "model.skops"
    response = api.post("/api/models/import/", {"file": data, "name": "x"}, format="multipart")
    assert response.status_code == 400 and "skops" in response.json()["message"]


def test_another_users_model_is_not_found(other_api, trained) -> None:
    _, _, model = trained
    assert other_api.get(f"/api/models/{model['id']}/").status_code == 404
    assert other_api.get("/api/models/").json() == []


def iris_rows(api, run_id: str) -> list[dict]:
    response = api.get(f"/api/runs/{run_id}/nodes/data/output/?format=parquet")
    table = pd.read_parquet(io.BytesIO(b"".join(response.streaming_content)))
    return table.drop(columns=["target"]).head(3).to_dict(orient="records")


def test_renaming_the_pipeline_keeps_its_model_and_the_production_alias(api, worker) -> None:
    """The model was found by its name, "<pipeline> / <node>": after a rename predictions
    answered "No trained model to serve yet" and the next training started a new model
    without the production alias."""
    pipeline = api.post("/api/pipelines/", {"name": "Iris", "graph": classifier_graph()},
                        format="json").json()
    first = run(api, pipeline["id"])
    [model] = api.get("/api/models/").json()
    assert model["name"] == "Iris / train"
    assert (model["pipeline"], model["node_id"]) == (pipeline["id"], "train")
    api.post(f"/api/models/{model['id']}/aliases/", {"alias": "production", "version": 1},
             format="json")
    assert api.patch(f"/api/pipelines/{pipeline['id']}/", {"name": "Flowers"},
                     format="json").status_code == 200
    predict = f"/api/pipelines/{pipeline['id']}/predict"
    response = api.post(predict, {"rows": iris_rows(api, first)}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["model"] == {"name": "Iris / train", "version": 1}
    retrain(api, pipeline)
    [model] = api.get("/api/models/").json()
    assert model["version_count"] == 2 and model["aliases"] == {"production": 1}
    assert api.post(predict, {"rows": iris_rows(api, first)},
                    format="json").json()["model"]["version"] == 1


def test_two_pipelines_whose_model_nodes_share_a_label_train_two_models(api, worker) -> None:
    ids = []
    for trees in (10, 20):
        graph = classifier_graph()
        train = next(n for n in graph["nodes"] if n["id"] == "train")
        train["label"], train["params"]["n_estimators"] = "Iris", trees
        pipeline = api.post("/api/pipelines/", {"name": f"Iris {trees}", "graph": graph},
                            format="json").json()
        run(api, pipeline["id"])
        ids.append(pipeline["id"])
    models = {m["pipeline"]: m for m in api.get("/api/models/").json()}
    assert set(models) == set(ids)
    assert [models[i]["name"] for i in ids] == ["Iris 10 / Iris", "Iris 20 / Iris"]
    assert [models[i]["latest"]["params"]["n_estimators"] for i in ids] == [10, 20]
    assert all(m["version_count"] == 1 for m in models.values())


def test_the_migration_gives_existing_models_their_pipeline_node(user) -> None:
    """Before: one model "Churn" held the versions of two pipelines' nodes labelled alike,
    and the alias production pointed at the older one. After: the newest node keeps the
    model; the other node's versions and alias move to a model of its own."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from datagran.pipelines.models import Pipeline
    from datagran.workspaces.services import workspace_personal

    workspace = workspace_personal(user=user)
    old_p, new_p = (Pipeline.objects.create(workspace=workspace, name=n) for n in ("A", "B"))
    before, after = [("registry", "0001_initial")], \
        [("registry", "0004_one_model_per_pipeline_node")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    state = executor.loader.project_state(before).apps
    Model, Version, Alias = (state.get_model("registry", n)  # noqa: N806 - model classes
                             for n in ("RegisteredModel", "ModelVersion", "ModelAlias"))
    churn = Model.objects.create(workspace_id=workspace.pk, name="Churn")
    versions = [Version.objects.create(registered_model=churn, version=n, model_hash=str(n),
                                       pipeline_id=p.pk, node_id="train")
                for n, p in ((1, old_p), (2, old_p), (3, new_p))]
    Alias.objects.create(registered_model=churn, name="production", version=versions[0])
    imported = Model.objects.create(workspace_id=workspace.pk, name="Imported")
    Version.objects.create(registered_model=imported, version=1, model_hash="x",
                           source="import")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    # And on to the newest, which the models below (and the tests after this one) expect.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("registry"))

    churn = RegisteredModel.objects.get(name="Churn")
    assert (churn.pipeline_id, churn.node_id) == (new_p.pk, "train")
    assert [v.version for v in churn.versions.all()] == [3] and not churn.aliases.exists()
    split = RegisteredModel.objects.get(pipeline=old_p, node_id="train")
    assert split.name == "A / train"
    assert sorted(v.version for v in split.versions.all()) == [1, 2]
    assert dict(split.aliases.values_list("name", "version__version")) == {"production": 1}
    assert RegisteredModel.objects.get(name="Imported").pipeline_id is None
