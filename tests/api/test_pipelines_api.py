"""Pipelines over the API: versions, validation, and bad graphs that leave the saved one intact."""
from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from tests.graphs import chain_graph, classifier_graph, edge, node


def create(api: APIClient, graph: dict | None = None, name: str = "P") -> dict[str, Any]:
    response = api.post("/api/pipelines/", {"name": name, "graph": graph or chain_graph()},
                        format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_pipeline_created_without_a_workspace_lands_in_the_personal_one(api, user) -> None:
    pipeline = create(api)
    assert pipeline["workspace"] == str(user.personal_workspace.pk)
    assert len(pipeline["version"]) == 64


def test_saving_a_changed_graph_makes_a_new_version_and_an_unchanged_one_does_not(api) -> None:
    pipeline = create(api)
    url = f"/api/pipelines/{pipeline['id']}/"
    same = api.put(url, {"name": "P", "graph": chain_graph()}, format="json").json()
    assert same["version"] == pipeline["version"]
    changed_graph = chain_graph()
    changed_graph["nodes"][1]["params"]["columns"] = ["petal_width"]
    changed = api.put(url, {"name": "P", "graph": changed_graph}, format="json").json()
    assert changed["version"] != pipeline["version"]
    versions = api.get(f"{url}versions/").json()
    assert [v["hash"] for v in versions] == [changed["version"], pipeline["version"]]
    assert versions[0]["current"] and not versions[1]["current"]


def test_an_invalid_graph_is_refused_with_node_and_field_and_the_saved_version_stays(api) -> None:
    pipeline = create(api)
    url = f"/api/pipelines/{pipeline['id']}/"
    bad = chain_graph()
    bad["edges"].append(edge("b", "table", "a", "table"))  # a -> b -> a, and a has no input
    response = api.put(url, {"name": "renamed", "graph": bad}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith("The pipeline graph is invalid")
    assert body["extra"]["errors"][0]["node"] in ("a", "b")
    kept = api.get(url).json()
    assert kept["version"] == pipeline["version"] and kept["name"] == "P"


def test_each_kind_of_bad_graph_is_a_400_naming_the_node(api) -> None:
    cases = {
        "unknown operator": {"nodes": [node("x", "nope.nope")], "edges": []},
        "invalid param": {"nodes": [node("s", "connector.sample_dataset", dataset="mnist")],
                          "edges": []},
        "missing input": {"nodes": [node("p", "model.predict")], "edges": []},
        "duplicate id": {"nodes": [node("d", "connector.sample_dataset"),
                                   node("d", "connector.sample_dataset")], "edges": []},
    }
    for case, graph in cases.items():
        response = api.post("/api/pipelines/", {"name": case, "graph": graph}, format="json")
        assert response.status_code == 400, case
        assert response.json()["extra"]["errors"][0]["node"] in ("x", "s", "p", "d"), case
    assert api.get("/api/pipelines/").json() == []


def test_patch_renames_without_touching_the_graph(api) -> None:
    pipeline = create(api)
    renamed = api.patch(f"/api/pipelines/{pipeline['id']}/", {"name": "Better"},
                        format="json").json()
    assert renamed["name"] == "Better" and renamed["version"] == pipeline["version"]


def test_validate_returns_errors_and_inferred_schemas_without_saving(api) -> None:
    pipeline = create(api)
    graph = classifier_graph()
    response = api.post(f"/api/pipelines/{pipeline['id']}/validate/", {"graph": graph},
                        format="json").json()
    assert response["valid"] is True
    assert [c["name"] for c in response["schemas"]["data"]["table"]][-1] == "target"
    graph["nodes"][2]["params"]["target"] = "colour"
    response = api.post(f"/api/pipelines/{pipeline['id']}/validate/", {"graph": graph},
                        format="json").json()
    assert response["valid"] is False
    assert response["errors"][0]["node"] == "train"
    assert api.get(f"/api/pipelines/{pipeline['id']}/").json()["version"] == pipeline["version"]


def test_delete_removes_the_pipeline(api) -> None:
    pipeline = create(api)
    assert api.delete(f"/api/pipelines/{pipeline['id']}/").status_code == 204
    assert api.get(f"/api/pipelines/{pipeline['id']}/").status_code == 404


def test_another_users_pipeline_is_not_found(api, other_api) -> None:
    pipeline = create(api)
    url = f"/api/pipelines/{pipeline['id']}/"
    assert other_api.get(url).status_code == 404
    assert other_api.put(url, {"name": "x"}, format="json").status_code == 404
    assert other_api.get("/api/pipelines/").json() == []


def test_the_api_needs_authentication(db) -> None:
    response = APIClient().get("/api/pipelines/")
    assert response.status_code in (401, 403)
    assert "message" in response.json()


def test_the_operator_catalogue_lists_ports_and_params_schemas(api) -> None:
    catalogue = {op["name"]: op for op in api.get("/api/operators/").json()}
    train = catalogue["model.train_classifier"]
    outputs = {p["name"]: p["type"] for p in train["outputs"]}
    assert outputs["model"] == "model" and outputs["metrics"] == "table"
    assert train["params_schema"]["properties"]["target"]["x-column-of"] == "train"
    assert train["category"] == "model" and train["version"]
    assert {"connector.sample_dataset", "connector.upload", "transform.select_columns",
            "transform.filter_rows", "transform.split", "model.predict",
            "action.export_file"} <= set(catalogue)


def test_the_openapi_schema_and_docs_are_served(api) -> None:
    assert api.get("/api/schema/").status_code == 200
    assert api.get("/api/docs/").status_code == 200


def test_the_list_shows_each_pipelines_latest_run_in_one_query_whatever_the_history(
        api) -> None:
    """The list used to load every run of every listed pipeline to show the last one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def listed() -> tuple[dict[str, Any], list[str]]:
        with CaptureQueriesContext(connection) as queries:
            body = api.get("/api/pipelines/").json()
        return {p["id"]: p["last_run"] for p in body}, [q["sql"] for q in queries]

    first = create(api)
    runs = [api.post(f"/api/pipelines/{first['id']}/runs/").json()["id"]]
    small, small_sql = listed()
    assert small[first["id"]]["id"] == runs[-1]
    never = create(api, name="never ran")
    for name in ("a", "b"):
        pipeline = create(api, name=name)
        for _ in range(4):
            api.post(f"/api/pipelines/{pipeline['id']}/runs/")
    for _ in range(4):
        runs.append(api.post(f"/api/pipelines/{first['id']}/runs/").json()["id"])
    large, large_sql = listed()
    assert len(large) == 4 and large[never["id"]] is None
    assert large[first["id"]]["id"] == runs[-1] and large[first["id"]]["status"] == "queued"
    print(f"queries: {len(small_sql)} for 1 pipeline and 1 run, {len(large_sql)} for 4 "
          f"pipelines and 13 runs")
    assert len(large_sql) == len(small_sql)
    # No query reads run rows themselves: the latest one is a subquery of the list's query.
    assert not [sql for sql in large_sql if sql.startswith('SELECT "runs_run"')]


def test_saving_a_pipeline_does_not_restore_a_webhook_secret_revoked_meanwhile(api) -> None:
    """Lost update: the save read the pipeline before the webhook was revoked and wrote every
    column back, the old secret hash included. Interleaved by hand: read, revoke, save."""
    from datagran.pipelines.models import Pipeline
    from datagran.pipelines.services import pipeline_update

    pipeline = create(api)
    hook = api.post(f"/api/pipelines/{pipeline['id']}/webhook/").json()["url"]
    path = hook.split("testserver", 1)[1]
    assert APIClient().post(path).status_code == 201
    stale = Pipeline.objects.get(pk=pipeline["id"])  # the save's read
    assert api.delete(f"/api/pipelines/{pipeline['id']}/webhook/").status_code == 204
    pipeline_update(pipeline=stale, user=None, name="Renamed")  # the save's write
    saved = Pipeline.objects.get(pk=pipeline["id"])
    assert saved.name == "Renamed" and saved.webhook_token_hash == ""
    assert APIClient().post(path).status_code == 404
