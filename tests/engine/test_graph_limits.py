"""The limits a graph is held to when it is saved or validated (issue 14, S9), and the largest
allowed graph validating (its time printed: validation was quadratic in the node count)."""
from __future__ import annotations

import time

import pytest

from datagran.engine.graph import (
    MAX_NODES,
    MAX_PARAMS_DEPTH,
    Graph,
    InvalidGraph,
    parse_graph,
    validate_graph,
)
from operators.base import LocalContext
from tests.graphs import edge, node


def chain(count: int) -> dict:
    nodes = [node("n0", "connector.sample_dataset", dataset="iris")]
    nodes += [node(f"n{i}", "transform.select_columns", columns=["sepal_length", "target"])
              for i in range(1, count)]
    return {"nodes": nodes,
            "edges": [edge(f"n{i - 1}", "table", f"n{i}", "table") for i in range(1, count)]}


def test_the_largest_allowed_graph_is_valid() -> None:
    validate_graph(parse_graph(chain(3)), LocalContext())  # operators loaded, iris read
    for count in (MAX_NODES // 2, MAX_NODES, 10 * MAX_NODES):
        raw = chain(count)
        started = time.perf_counter()
        # Beyond the limit only to show how validation scales: parse_graph refuses it.
        graph = parse_graph(raw) if count <= MAX_NODES else Graph.model_validate(raw)
        result = validate_graph(graph, LocalContext())
        print(f"{count} nodes: parsed and validated in "
              f"{(time.perf_counter() - started) * 1000:.1f} ms")
        assert result.valid and len(result.schemas) == count


def test_too_many_nodes_are_refused_before_any_node_is_parsed() -> None:
    with pytest.raises(InvalidGraph) as refused:
        parse_graph({"nodes": list(range(10_000)), "edges": []})
    assert [p.as_json() for p in refused.value.problems] == [{
        "node": None, "field": "nodes",
        "message": "nodes: a pipeline holds at most 1,000 nodes; this one has 10,000."}]


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_params_may_nest_to_the_limit_and_no_deeper() -> None:
    def params_problems(params: dict) -> list[dict]:
        raw = {"nodes": [{"id": "a", "operator": "connector.sample_dataset", "params": params}]}
        try:
            parse_graph(raw)
        except InvalidGraph as exc:
            return [p.as_json() for p in exc.problems]
        return []

    assert params_problems(nested(MAX_PARAMS_DEPTH)) == []
    assert params_problems(nested(MAX_PARAMS_DEPTH + 1)) == [
        {"node": "a", "field": "params", "message": "params: nested deeper than 32 levels."}]
    assert params_problems({"list": [[[1]]] * 3}) == []
