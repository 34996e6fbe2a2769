"""Partial runs, the canvas's iteration loop: "run up to here" runs a node and its ancestors,
reusing what is cached; "run this node" runs the node alone on the cached outputs of its
inputs, and is refused (nothing written) when one has none. Nothing downstream of the target
runs, so no action after it is triggered."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from datagran.pipelines.apis import ERR_EMPTY_GRAPH
from datagran.runs.models import NodeRun, Run
from tests.conftest import wait_for_run
from tests.graphs import classifier_graph

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pipeline(api) -> dict:
    return api.post("/api/pipelines/", {"name": "P", "graph": classifier_graph()},
                    format="json").json()


def start(api, pipeline_id: str, **body: Any) -> Any:
    return api.post(f"/api/pipelines/{pipeline_id}/runs/", body, format="json")


def run_of(api, pipeline_id: str, **body: Any) -> dict[str, NodeRun]:
    response = start(api, pipeline_id, **body)
    assert response.status_code == 201, response.json()
    assert wait_for_run(response.json()["id"]).status == "succeeded"
    return {n.node_id: n for n in NodeRun.objects.filter(run_id=response.json()["id"])}


def computed(nodes: dict[str, NodeRun]) -> set[str]:
    return {node_id for node_id, n in nodes.items() if not n.cached}


def test_run_up_to_here_runs_the_node_and_its_ancestors_only(api, worker, pipeline) -> None:
    nodes = run_of(api, pipeline["id"], target="train", scope="upstream")
    assert set(nodes) == {"data", "split", "train"}
    assert computed(nodes) == {"data", "split", "train"}
    assert all(n.status == "succeeded" for n in nodes.values())


def test_run_up_to_here_is_the_default_scope_and_the_action_after_it_never_runs(
        api, worker, pipeline) -> None:
    nodes = run_of(api, pipeline["id"], target="predict")
    assert set(nodes) == {"data", "split", "train", "predict"}
    assert not NodeRun.objects.filter(node_id="export").exists()


def test_after_a_full_run_run_up_to_here_recomputes_only_what_changed(
        api, worker, pipeline) -> None:
    run_of(api, pipeline["id"])
    graph = copy.deepcopy(pipeline["graph"])
    next(n for n in graph["nodes"] if n["id"] == "train")["params"]["n_estimators"] = 20
    api.put(f"/api/pipelines/{pipeline['id']}/", {"name": "P", "graph": graph}, format="json")
    nodes = run_of(api, pipeline["id"], target="predict", scope="upstream")
    assert set(nodes) == {"data", "split", "train", "predict"}
    assert computed(nodes) == {"train", "predict"}


def test_run_this_node_runs_it_alone_on_the_cached_outputs_of_its_inputs(
        api, worker, pipeline) -> None:
    run_of(api, pipeline["id"], target="split")
    nodes = run_of(api, pipeline["id"], target="train", scope="node")
    assert set(nodes) == {"split", "train"}
    assert computed(nodes) == {"train"}
    assert nodes["split"].cached and not nodes["train"].cached


def test_run_this_node_recomputes_it_when_forced_but_still_reads_its_inputs_from_the_cache(
        api, worker, pipeline) -> None:
    run_of(api, pipeline["id"], target="train")
    nodes = run_of(api, pipeline["id"], target="train", scope="node", force=True)
    assert set(nodes) == {"split", "train"} and computed(nodes) == {"train"}


def test_run_this_node_without_cached_inputs_is_refused_naming_them(api, pipeline) -> None:
    response = start(api, pipeline["id"], target="predict", scope="node")
    assert response.status_code == 400
    body = response.json()
    assert "split and train have none" in body["message"]
    assert "Run up to here" in body["message"]
    assert body["extra"]["fields"]["target"] == [body["message"]]
    assert not Run.objects.exists()


def test_run_this_node_is_refused_when_only_one_input_is_cached(api, worker, pipeline) -> None:
    run_of(api, pipeline["id"], target="split")
    response = start(api, pipeline["id"], target="predict", scope="node")
    assert response.status_code == 400
    assert "and train has none" in response.json()["message"]
    assert Run.objects.count() == 1


def test_a_source_node_runs_alone(api, worker, pipeline) -> None:
    assert set(run_of(api, pipeline["id"], target="data", scope="node")) == {"data"}


@pytest.mark.parametrize(("body", "field"), [
    ({"target": "nope"}, "target"),
    ({"target": "nope", "scope": "node"}, "target"),
    ({"scope": "node"}, "target"),
    ({"target": "train", "scope": "downstream"}, "scope"),
])
def test_a_bad_target_or_scope_is_refused_naming_the_field(api, pipeline, body, field) -> None:
    response = start(api, pipeline["id"], **body)
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert not Run.objects.exists()


def test_a_replay_of_a_partial_run_holds_the_same_nodes(api, worker, pipeline) -> None:
    run_of(api, pipeline["id"], target="split")
    first = start(api, pipeline["id"], target="train", scope="node").json()["id"]
    assert wait_for_run(first).status == "succeeded"
    replay = api.post(f"/api/runs/{first}/replay/", format="json")
    assert replay.status_code == 201, replay.json()
    assert wait_for_run(replay.json()["id"]).status == "succeeded"
    nodes = {n.node_id: n for n in NodeRun.objects.filter(run_id=replay.json()["id"])}
    assert set(nodes) == {"split", "train"} and computed(nodes) == {"train"}


def test_a_partial_run_lists_only_the_datasets_it_read(api, worker, pipeline) -> None:
    response = start(api, pipeline["id"], target="data", scope="node")
    assert set(response.json()["datasets"]) <= {"data"}
    assert [n["node_id"] for n in response.json()["nodes"]] == ["data"]


def test_an_empty_graph_is_not_valid(api, pipeline) -> None:
    response = api.post(f"/api/pipelines/{pipeline['id']}/validate/",
                        {"graph": {"nodes": [], "edges": []}}, format="json")
    assert response.status_code == 200
    assert response.json()["valid"] is False
    assert [e["message"] for e in response.json()["errors"]] == [ERR_EMPTY_GRAPH]
