"""A train node's model name: its default, renames that keep one model (versions and
aliases), and forced re-runs that reproduce a version instead of adding one."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from datagran.registry.models import ModelVersion, RegisteredModel
from datagran.runs.models import NodeRun
from tests.graphs import classifier_graph
from tests.registry.test_model_registry import run

pytestmark = pytest.mark.django_db(transaction=True)


def save(api: Any, pipeline: dict[str, Any], *, name: str | None = None,
         **train: Any) -> None:
    """Save the pipeline with the train node's label and params changed."""
    graph = copy.deepcopy(api.get(f"/api/pipelines/{pipeline['id']}/").json()["graph"])
    node = next(n for n in graph["nodes"] if n["id"] == "train")
    if "label" in train:
        node["label"] = train.pop("label")
    node["params"].update(train)
    body: dict[str, Any] = {"graph": graph}
    if name is not None:
        body["name"] = name
    response = api.patch(f"/api/pipelines/{pipeline['id']}/", body, format="json")
    assert response.status_code == 200, response.json()


def only_model(api: Any) -> dict[str, Any]:
    [model] = api.get("/api/models/").json()
    return model


@pytest.fixture
def pipeline(api: Any, worker: Any) -> dict[str, Any]:
    graph = classifier_graph()
    next(n for n in graph["nodes"] if n["id"] == "train")["label"] = "Flower model"
    created = api.post("/api/pipelines/", {"name": "Garden", "graph": graph},
                       format="json").json()
    run(api, created["id"])
    return created


def test_the_default_name_is_the_pipeline_and_the_node_label(api, pipeline) -> None:
    assert only_model(api)["name"] == "Garden / Flower model"


def test_renaming_the_pipeline_the_label_and_the_model_keeps_one_history(api, pipeline) -> None:
    first = only_model(api)
    api.post(f"/api/models/{first['id']}/aliases/", {"alias": "production", "version": 1},
             format="json")
    save(api, pipeline, name="Orchard", label="Petals", seed=1)
    run(api, pipeline["id"])
    renamed = only_model(api)
    # Pipeline and label renamed: the same model, its name as it was (the key users know).
    assert renamed["id"] == first["id"] and renamed["name"] == "Garden / Flower model"
    assert renamed["version_count"] == 2 and renamed["aliases"] == {"production": 1}
    save(api, pipeline, model_name="Iris species", seed=2)
    run(api, pipeline["id"])
    named = only_model(api)
    assert named["id"] == first["id"] and named["name"] == "Iris species"
    assert named["version_count"] == 3 and named["aliases"] == {"production": 1}
    assert RegisteredModel.objects.count() == 1
    assert [v.version for v in ModelVersion.objects.order_by("version")] == [1, 2, 3]
    # What serving answers with names the model by its new name.
    response = api.post(f"/api/pipelines/{pipeline['id']}/predict",
                        {"rows": [{"sepal_length": 5.1, "sepal_width": 3.5,
                                   "petal_length": 1.4, "petal_width": 0.2}]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["model"] == {"name": "Iris species", "version": 1}


def test_a_name_another_model_has_is_not_taken(api, pipeline) -> None:
    graph = classifier_graph()
    train = next(n for n in graph["nodes"] if n["id"] == "train")
    train["params"]["model_name"] = "Taken"
    other = api.post("/api/pipelines/", {"name": "Other", "graph": graph},
                     format="json").json()
    run(api, other["id"])
    save(api, pipeline, model_name="Taken")
    run(api, pipeline["id"])
    names = sorted(m["name"] for m in api.get("/api/models/").json())
    assert names == ["Garden / Flower model", "Taken"]


def test_a_forced_rerun_with_the_same_data_and_params_adds_no_version(api, pipeline) -> None:
    model = only_model(api)
    again = run(api, pipeline["id"], force=True)
    assert NodeRun.objects.get(run_id=again, node_id="train").status == "succeeded"
    after = only_model(api)
    assert after["version_count"] == 1 and after["latest"]["version"] == 1
    assert after["latest"]["run"] == again  # the run that reproduced it links to it
    assert after["latest"]["model_hash"] == model["latest"]["model_hash"]
    # Renaming only the model is no new version either: the same file, data and params.
    save(api, pipeline, model_name="Irises")
    run(api, pipeline["id"])
    assert only_model(api)["name"] == "Irises"
    assert ModelVersion.objects.count() == 1


def test_a_version_keeps_what_the_version_page_draws(api, worker) -> None:
    graph = classifier_graph()
    graph["nodes"][0]["params"]["dataset"] = "customers"
    graph["nodes"][1]["params"]["stratify"] = "churned"
    train = graph["nodes"][2]["params"]
    train.update(target="churned", features=["plan", "tenure_months", "monthly_spend"])
    pipeline = api.post("/api/pipelines/", {"name": "Churn", "graph": graph},
                        format="json").json()
    run_id = run(api, pipeline["id"])
    model = only_model(api)
    version = api.get(f"/api/models/{model['id']}/versions/1/").json()
    evaluation = version["evaluation"]
    matrix = evaluation["confusion"]
    assert sorted(matrix["labels"]) == sorted(version["classes"])
    test_rows = sum(sum(row) for row in matrix["counts"])
    split = next(n for n in api.get(f"/api/runs/{run_id}/").json()["nodes"]
                 if n["node_id"] == "split")
    assert test_rows == split["outputs"]["test"]["rows"]  # counted on the test table
    assert [b["feature"] for b in evaluation["importances"]][:3] and len(
        evaluation["importances"]) == 3
    roc, pr = evaluation["curves"]["roc"], evaluation["curves"]["pr"]
    assert 2 < len(roc["points"]) <= 200 and 2 < len(pr["points"]) <= 200
    assert roc["area"] == pytest.approx(version["metrics"]["roc_auc"])
    assert roc["points"][-1] == [1.0, 1.0]
