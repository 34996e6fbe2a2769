"""The diff of two pipeline versions, as the editor's version history shows it."""
from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from tests.graphs import chain_graph, edge, node


def save(api: APIClient, pipeline_id: str, graph: dict[str, Any]) -> str:
    response = api.put(f"/api/pipelines/{pipeline_id}/", {"name": "P", "graph": graph},
                       format="json")
    assert response.status_code == 200, response.json()
    return response.json()["version"]


def diff(api: APIClient, pipeline_id: str, a: str, b: str) -> dict[str, Any]:
    response = api.get(f"/api/pipelines/{pipeline_id}/versions/diff/", {"a": a, "b": b})
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_renamed_node_is_in_the_diff(api) -> None:
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": chain_graph()},
                        format="json").json()
    renamed = chain_graph()
    renamed["nodes"][1]["label"] = "Keep two columns"
    version = save(api, pipeline["id"], renamed)
    assert version != pipeline["version"]
    changes = diff(api, pipeline["id"], pipeline["version"], version)
    assert changes["labels_changed"] == {"b": {"old": "", "new": "Keep two columns"}}
    assert changes["params_changed"] == {} and changes["nodes_added"] == []


def test_an_added_node_and_a_changed_param_are_in_the_diff_both_ways(api) -> None:
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": chain_graph()},
                        format="json").json()
    grown = chain_graph()
    grown["nodes"][1]["params"]["columns"] = ["petal_width"]
    grown["nodes"].append(node("c", "transform.drop_duplicates"))
    grown["edges"].append(edge("b", "table", "c", "table"))
    version = save(api, pipeline["id"], grown)

    forward = diff(api, pipeline["id"], pipeline["version"], version)
    assert forward["nodes_added"] == ["c"] and forward["nodes_removed"] == []
    assert forward["params_changed"] == {
        "b": {"columns": {"old": ["sepal_length", "target"], "new": ["petal_width"]}}}
    assert forward["edges_added"] == [edge("b", "table", "c", "table")]
    assert forward["labels_changed"] == {}

    backward = diff(api, pipeline["id"], version, pipeline["version"])
    assert backward["nodes_removed"] == ["c"] and backward["nodes_added"] == []
    assert backward["edges_removed"] == [edge("b", "table", "c", "table")]
    assert backward["params_changed"]["b"]["columns"]["new"] == ["sepal_length", "target"]

    same = diff(api, pipeline["id"], version, version)
    assert not any(same.values())
