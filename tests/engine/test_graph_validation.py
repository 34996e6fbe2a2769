"""Graph validation: each bad case is reported with the node and field it concerns."""
from __future__ import annotations

import copy

import pytest

from datagran.engine.graph import InvalidGraph, graph_hash, parse_graph, validate_graph
from operators.base import LocalContext
from tests.graphs import chain_graph, classifier_graph, edge, node


def problems(raw: dict) -> list[dict]:
    return [p.as_json() for p in validate_graph(parse_graph(raw), LocalContext()).errors]


def test_the_reference_classifier_graph_is_valid_and_its_schemas_are_inferred() -> None:
    result = validate_graph(parse_graph(classifier_graph()), LocalContext())
    assert result.errors == []
    predict_schema = result.schemas["predict"]["table"]
    assert predict_schema is not None
    predict_columns = [c["name"] for c in predict_schema]
    assert predict_columns[:4] == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert "prediction" in predict_columns


def test_it_rejects_a_cycle_and_names_a_node_on_it() -> None:
    raw = {"nodes": [node("a", "transform.select_columns", columns=["x"]),
                     node("b", "transform.select_columns", columns=["x"])],
           "edges": [edge("a", "table", "b", "table"), edge("b", "table", "a", "table")]}
    [problem] = problems(raw)
    assert "cycle" in problem["message"]
    assert problem["node"] in ("a", "b")


def test_it_rejects_an_unknown_operator() -> None:
    [problem] = problems({"nodes": [node("x", "transform.teleport")], "edges": []})
    assert problem == {"node": "x", "field": "operator",
                       "message": "Unknown operator 'transform.teleport'."}


def test_it_rejects_an_invalid_param_naming_the_field() -> None:
    raw = {"nodes": [node("s", "transform.split", test_size=1.5)], "edges": []}
    found = {(p["node"], p["field"]) for p in problems(raw)}
    assert ("s", "params.test_size") in found


def test_it_rejects_a_missing_required_input() -> None:
    raw = {"nodes": [node("b", "transform.select_columns", columns=["x"])], "edges": []}
    [problem] = problems(raw)
    assert (problem["node"], problem["field"]) == ("b", "inputs.table")
    assert "not connected" in problem["message"]


def test_it_rejects_a_port_type_mismatch() -> None:
    raw = classifier_graph()
    # Feed a table into the model input of predict.
    raw["edges"] = [e for e in raw["edges"] if e["target_port"] != "model"]
    raw["edges"].append(edge("split", "train", "predict", "model"))
    found = [p for p in problems(raw) if p["node"] == "predict"]
    assert any("port types differ" in p["message"] for p in found)


def test_it_rejects_duplicate_node_ids() -> None:
    raw = {"nodes": [node("a", "connector.sample_dataset"),
                     node("a", "connector.sample_dataset")], "edges": []}
    [problem] = problems(raw)
    assert problem["node"] == "a" and "unique" in problem["message"]


def test_it_rejects_a_column_that_the_upstream_table_does_not_have() -> None:
    raw = chain_graph()
    raw["nodes"][1]["params"]["columns"] = ["sepal_length", "wingspan"]
    [problem] = problems(raw)
    assert problem["node"] == "b" and problem["field"] == "params.columns"
    assert "wingspan" in problem["message"]


def test_it_rejects_an_edge_to_a_missing_node() -> None:
    raw = chain_graph()
    raw["edges"].append(edge("a", "table", "ghost", "table"))
    assert any("ghost" in p["message"] for p in problems(raw))


def test_malformed_graph_json_is_reported_per_field() -> None:
    with pytest.raises(InvalidGraph) as exc:
        parse_graph({"nodes": [{"id": "a"}], "edges": []})
    assert exc.value.problems[0].field == "nodes.0.operator"


def test_the_hash_ignores_key_and_list_order_but_not_params() -> None:
    raw = classifier_graph()
    shuffled = copy.deepcopy({"edges": raw["edges"][::-1], "nodes": raw["nodes"][::-1]})
    assert graph_hash(parse_graph(raw)) == graph_hash(parse_graph(shuffled))
    raw["nodes"][1]["params"]["seed"] = 43
    assert graph_hash(parse_graph(raw)) != graph_hash(parse_graph(shuffled))


def test_schemas_are_inferred_around_a_node_with_errors() -> None:
    """The canvas needs the upstream columns exactly while a node is still incomplete."""
    raw = classifier_graph()
    raw["nodes"][2]["params"] = {}  # train: no target yet
    raw["edges"] = [e for e in raw["edges"] if e["target"] != "export"]  # export unconnected
    result = validate_graph(parse_graph(raw), LocalContext())
    assert {(p.node, p.field) for p in result.errors} == {("train", "params.target"),
                                                          ("export", "inputs.table")}
    train_schema = result.schemas["split"]["train"]
    assert train_schema is not None and [c["name"] for c in train_schema][-1] == "target"
    assert set(result.schemas["train"].values()) == {None}  # model, metrics, ...: unknown
