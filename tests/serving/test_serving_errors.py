"""Every error the serving path can raise reaches the caller as a 4xx or a 503 with a message,
in the one error shape: never a 500."""
from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from datagran.datasets.artifacts import ArtifactStore
from datagran.engine.serve import ERR_NODE_FAILED
from datagran.pipelines.demo import CHURN
from datagran.serving import services
from operators.registry import get_operator
from tests.serving.test_predict import as_rows, table

pytestmark = pytest.mark.django_db(transaction=True)


def refused(response: Any, status: int) -> dict[str, Any]:
    """The error body of ``response``, checked: the status, a message, and ``extra`` with
    nothing but ``fields`` and ``errors``."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"message", "extra"} and body["message"]
    assert set(body["extra"]) <= {"fields", "errors"}
    return body


def predict(api: Any, pipeline: dict[str, Any], rows: Any) -> Any:
    return api.post(f"/api/pipelines/{pipeline['id']}/predict", {"rows": rows}, format="json")


@pytest.fixture
def served(api: Any, churn: Any  # noqa: F811 - the fixture imported above
           ) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    pipeline, run_id = churn
    rows = as_rows(table(api, run_id, "customers").drop(columns=["churned"]).head(2))
    services._compiled.clear()
    yield pipeline, rows
    services._compiled.clear()


def test_a_deployment_naming_a_node_that_is_not_there_is_a_400_on_that_field(
        api: Any, served: Any) -> None:
    pipeline, _ = served
    url = f"/api/pipelines/{pipeline['id']}/deployment/"
    body = refused(api.put(url, {"input_node": "ghost"}, format="json"), 400)
    assert "ghost" in body["message"] and "input_node" in body["extra"]["fields"]
    body = refused(api.put(url, {"input_node": "score", "output_node": "customers"},
                           format="json"), 400)
    assert "does not depend" in body["message"]


def test_an_output_node_without_a_table_is_a_400_naming_it(api: Any, served: Any) -> None:
    pipeline, rows = served
    url = f"/api/pipelines/{pipeline['id']}/deployment/"
    assert api.put(url, {"output_node": "train"}, format="json").status_code == 200
    body = refused(predict(api, pipeline, rows), 400)
    assert "train has no table output" in body["message"]
    assert body["extra"]["fields"] == {"output_node": [body["message"]]}


def test_a_node_whose_code_fails_on_the_rows_is_a_400_naming_the_node(
        api: Any, served: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline, rows = served

    def crash(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyError("tenure_months")

    monkeypatch.setattr(type(get_operator("model.predict")), "run", crash)
    body = refused(predict(api, pipeline, rows), 400)
    assert body["message"] == ERR_NODE_FAILED.format(node="score",
                                                     error="KeyError: 'tenure_months'")


def test_model_files_that_cannot_be_read_now_are_a_503(
        api: Any, served: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    pipeline, rows = served

    def unreadable(*_args: Any) -> Any:
        raise FileNotFoundError("the store is not mounted")

    monkeypatch.setattr(ArtifactStore, "read_model", unreadable)
    body = refused(predict(api, pipeline, rows), 503)
    assert "cannot be read now" in body["message"] and "not mounted" in body["message"]


def test_serving_turned_off_and_bad_rows_are_400s(api: Any, served: Any) -> None:
    pipeline, rows = served
    refused(predict(api, pipeline, "x"), 400)
    refused(predict(api, pipeline, [{**rows[0], "tenure_months": "long"}]), 400)
    api.put(f"/api/pipelines/{pipeline['id']}/deployment/", {"enabled": False}, format="json")
    assert "turned off" in refused(predict(api, pipeline, rows), 400)["message"]


def test_a_pipeline_without_a_trained_model_is_a_400(api: Any, worker: Any) -> None:
    pipeline = api.post("/api/pipelines/", {"name": "New", "graph": copy.deepcopy(CHURN)},
                        format="json").json()
    assert "run the pipeline first" in refused(predict(api, pipeline, [{"a": 1}]),
                                               400)["message"]


def test_a_node_whose_operator_is_gone_is_a_400_naming_the_node(api: Any, served: Any) -> None:
    from datagran.pipelines.models import Pipeline

    pipeline, rows = served
    assert predict(api, pipeline, rows).status_code == 200  # the deployment is set up
    version = Pipeline.objects.get(pk=pipeline["id"]).current_version
    graph = copy.deepcopy(version.graph)
    next(n for n in graph["nodes"] if n["id"] == "score")["operator"] = "plugin.uninstalled"
    type(version).objects.filter(pk=version.pk).update(graph=graph)
    services._plans.clear()
    services.forget_recent()
    body = refused(predict(api, pipeline, rows), 400)
    assert body["message"].startswith("Node score cannot be served")
