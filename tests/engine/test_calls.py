"""Pipelines calling pipelines, without a database: a graph's interface, the expansion of a
calling node (ports rewired, exposed params set, nested calls, the version pinned or latest),
cycles and the canvas's extract/inline."""
from __future__ import annotations

from typing import Any

import pytest

from datagran.engine.calls import (
    Callee,
    CallError,
    between,
    expand,
    extract,
    fresh_ids,
    inline,
    interface,
    interface_problems,
    params_of,
    validate,
)
from datagran.engine.graph import Graph, graph_hash
from operators.base import LocalContext

H1, H2 = "1" * 64, "2" * 64


def node(node_id: str, operator: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "operator": operator, "params": params}


def edge(source: str, source_port: str, target: str, target_port: str) -> dict[str, str]:
    return {"source": source, "source_port": source_port, "target": target,
            "target_port": target_port}


# "top customers": an input table, sorted by spend, the first N (exposed as "how_many").
TOP = Graph.model_validate({
    "nodes": [node("in", "pipeline.input", name="customers"),
              node("top", "transform.sort_limit",
                   order_by=[{"column": "monthly_spend", "descending": True}], limit=10),
              node("out", "pipeline.output", name="top")],
    "edges": [edge("in", "table", "top", "table"), edge("top", "table", "out", "table")],
    "exposed": [{"name": "how_many", "node": "top", "param": "limit"}]})


def caller(version: str = H1, **params: Any) -> Graph:
    return Graph.model_validate({
        "nodes": [node("src", "connector.sample_dataset", dataset="customers"),
                  node("n7", "pipeline.call", pipeline="top", version=version, params=params),
                  node("cols", "transform.select_columns", columns=["customer_id"])],
        "edges": [edge("src", "table", "n7", "customers"), edge("n7", "top", "cols", "table")]})


class Pipelines:
    """A resolver over an in-memory set of pipelines: {id: {hash: graph}}, the last current."""

    def __init__(self, **pipelines: dict[str, Graph]) -> None:
        self.pipelines = pipelines
        self.asked: list[tuple[str, str]] = []

    def __call__(self, pipeline: str, version: str) -> Callee:
        self.asked.append((pipeline, version))
        versions = self.pipelines.get(pipeline)
        if versions is None:
            raise CallError(f"Pipeline {pipeline!r} does not exist in this workspace.")
        hash_ = list(versions)[-1] if version == "latest" else version
        if hash_ not in versions:
            raise CallError(f"{pipeline} has no version {version[:12]}.", "version")
        return Callee(pipeline=pipeline, name=pipeline.title(), version=hash_,
                      graph=versions[hash_], number=list(versions).index(hash_) + 1)


def test_the_interface_is_the_markers_and_the_exposed_params_with_their_defaults() -> None:
    shape = interface(TOP)
    assert shape["inputs"] == [{"name": "customers", "type": "table", "node": "in"}]
    assert shape["outputs"] == [{"name": "top", "type": "table", "node": "out"}]
    assert shape["params"] == [{"name": "how_many", "node": "top", "param": "limit",
                                "default": 10}]


def test_a_broken_interface_is_named() -> None:
    broken = Graph.model_validate({
        "nodes": [node("a", "pipeline.input", name="x"), node("b", "pipeline.input", name="x"),
                  node("s", "transform.sort_limit")],
        "exposed": [{"name": "n", "node": "s", "param": "nope"},
                    {"name": "m", "node": "ghost", "param": "limit"}]})
    messages = [p.message for p in interface_problems(broken, params_of)]
    assert messages == ["Two input markers are named 'x'; each input needs its own name.",
                        "exposed.n: s has no param 'nope'.",
                        "exposed.m: no node 'ghost' in this pipeline."]


def test_a_call_expands_into_the_called_nodes_with_ports_rewired_and_params_set() -> None:
    pipelines = Pipelines(top={H1: TOP})
    out = expand(caller(how_many=3), pipelines)
    assert not out.problems
    graph = out.graph
    assert sorted(n.id for n in graph.nodes) == ["cols", "n7.top", "src"]
    assert graph.node("n7.top").params["limit"] == 3  # the exposed param, as the caller set it
    assert {(e.source, e.target) for e in graph.edges} == {("src", "n7.top"),
                                                           ("n7.top", "cols")}
    assert out.calls == {"n7": {"pipeline": "top", "name": "Top", "version": H1, "number": 1,
                                "latest": False}}
    assert out.outputs["n7"] == {"top": ("n7.top", "table")}


def test_the_pinned_version_is_called_and_latest_follows_the_current_one() -> None:
    newer = TOP.model_copy(deep=True)
    newer.nodes[1].params["limit"] = 50
    pipelines = Pipelines(top={H1: TOP, H2: newer})
    assert expand(caller(H1), pipelines).graph.node("n7.top").params["limit"] == 10
    latest = expand(caller("latest"), pipelines)
    assert latest.graph.node("n7.top").params["limit"] == 50
    assert latest.calls["n7"]["version"] == H2 and latest.calls["n7"]["latest"]
    # A replay pins what the replayed run called, even for "latest".
    assert expand(caller("latest"), pipelines, pinned={"n7": H1}).graph.node(
        "n7.top").params["limit"] == 10
    # The caller's hash covers the pinned version: pinning another makes another version.
    assert graph_hash(caller(H1)) != graph_hash(caller(H2))


def test_calls_nest_and_a_cycle_is_refused_with_the_chain_named() -> None:
    middle = Graph.model_validate({
        "nodes": [node("i", "pipeline.input", name="customers"),
                  node("c", "pipeline.call", pipeline="top", version="latest"),
                  node("o", "pipeline.output", name="top")],
        "edges": [edge("i", "table", "c", "customers"), edge("c", "top", "o", "table")]})
    pipelines = Pipelines(top={H1: TOP}, middle={H1: middle})
    graph = caller()
    graph.nodes[1].params["pipeline"] = "middle"
    out = expand(graph, pipelines)
    assert not out.problems
    assert [n.id for n in out.graph.nodes if n.id.startswith("n7")] == ["n7.c.top"]
    assert set(out.calls) == {"n7", "n7.c"}
    # top calls middle (which calls top): saving top so is refused, naming the chain.
    looping = TOP.model_copy(deep=True)
    looping.nodes.append(node_model := Graph.model_validate({"nodes": [
        node("m", "pipeline.call", pipeline="middle", version="latest")]}).nodes[0])
    assert node_model.id == "m"
    out = expand(looping, pipelines, root=("top", "Top"))
    assert [p.message for p in out.problems] == [
        "Calls form a cycle: Top → Middle → Top. A pipeline cannot call itself, even through "
        "others."]
    assert out.problems[0].node == "m"


def test_ports_the_called_pipeline_lacks_and_unknown_params_are_named() -> None:
    graph = caller(nope=1)
    graph.edges.append(graph.edges[0].model_copy(update={"target_port": "orders"}))
    out = expand(graph, Pipelines(top={H1: TOP}))
    messages = {p.message for p in out.problems}
    assert "Top has no input 'orders'; its inputs: customers." in messages
    assert "params.nope: Top exposes no param 'nope'; it exposes: how_many." in messages
    missing = expand(caller(), Pipelines())
    assert [p.message for p in missing.problems] == [
        "Pipeline 'top' does not exist in this workspace."]
    assert [n.id for n in missing.graph.nodes] == ["src", "cols"]


def test_validation_reports_inside_problems_on_the_calling_node_and_its_output_schema() -> None:
    result = validate(caller(), LocalContext(), Pipelines(top={H1: TOP}))
    assert result.valid, result.errors
    assert [c["name"] for c in result.schemas["n7"]["top"] or []][:2] == ["customer_id",
                                                                       "email"]
    assert result.calls["n7"]["inputs"][0]["name"] == "customers"
    assert "n7.top" not in result.schemas
    wrong = caller()
    wrong.nodes[2].params["columns"] = ["no_such_column"]
    bad_inside = TOP.model_copy(deep=True)
    bad_inside.nodes[1].params["order_by"] = [{"column": "nope"}]
    result = validate(caller(), LocalContext(), Pipelines(top={H1: bad_inside}))
    assert not result.valid
    problem = result.errors[0]
    assert problem.node == "n7" and problem.message.startswith("In Top (top): ")
    assert "nope" in problem.message


def test_extract_then_inline_gives_the_graph_back() -> None:
    graph = Graph.model_validate({
        "nodes": [node("n1", "connector.sample_dataset", dataset="customers"),
                  node("n2", "transform.sort_limit", limit=5),
                  node("n3", "transform.select_columns", columns=["customer_id"]),
                  node("n4", "transform.select_columns", columns=["email"])],
        "edges": [edge("n1", "table", "n2", "table"), edge("n2", "table", "n3", "table"),
                  edge("n2", "table", "n4", "table")]})
    made = extract(graph, ["n2", "n3"], port_type=lambda n, p: "table", label="Top five",
                   call_params={"pipeline": "p", "version": H1})
    inner = made.inner
    # One input where n1 fed the selection, one output where n4 read it (n3's table is a
    # leaf inside).
    assert sorted(n.operator for n in inner.nodes) == [
        "pipeline.input", "pipeline.output", "transform.select_columns",
        "transform.sort_limit"]
    shape = interface(inner)
    assert [m["name"] for m in shape["inputs"]] == ["n1"]
    assert [m["name"] for m in shape["outputs"]] == ["n2"]
    outer = made.outer
    assert sorted(n.id for n in outer.nodes) == ["n1", "n4", "n5"]  # n5: the calling node
    problems: list[Any] = []
    back = inline(outer, made.call_id, inner, callee_name="Top five", problems=problems,
                  new_id=fresh_ids({n.id for n in outer.nodes}))
    assert not problems
    ops = sorted(n.operator for n in back.nodes)
    assert ops == sorted(n.operator for n in graph.nodes)
    by_id = {n.id: n.operator for n in back.nodes}
    assert sorted((by_id[e.source], by_id[e.target]) for e in back.edges) == sorted(
        [("connector.sample_dataset", "transform.sort_limit"),
         ("transform.sort_limit", "transform.select_columns"),
         ("transform.sort_limit", "transform.select_columns")])


def test_a_selection_with_an_outside_node_between_its_nodes_is_named() -> None:
    graph = Graph.model_validate({
        "nodes": [node(i, "transform.sort_limit") for i in ("a", "b", "c")],
        "edges": [edge("a", "table", "b", "table"), edge("b", "table", "c", "table")]})
    assert between(graph, ["a", "c"]) == ["b"]
    assert between(graph, ["a", "b"]) == []


@pytest.mark.parametrize("version", ["LATEST", "abc", "1" * 63])
def test_a_version_that_is_neither_a_hash_nor_latest_is_a_param_error(version: str) -> None:
    result = validate(caller(version), LocalContext(), Pipelines(top={H1: TOP}))
    assert any(p.node == "n7" and p.field == "params.version" for p in result.errors), \
        result.errors


def test_calls_nested_deeper_than_the_limit_are_refused_with_the_chain() -> None:
    # p0 calls p1 calls ... calls p6, each passing its input through to its output.
    def passing(callee: str | None) -> Graph:
        nodes = [node("i", "pipeline.input", name="customers"),
                 node("o", "pipeline.output", name="top")]
        if callee is None:
            return Graph.model_validate({"nodes": nodes, "edges": [
                edge("i", "table", "o", "table")]})
        nodes.append(node("c", "pipeline.call", pipeline=callee, version="latest"))
        return Graph.model_validate({"nodes": nodes, "edges": [
            edge("i", "table", "c", "customers"), edge("c", "top", "o", "table")]})

    pipelines = Pipelines(**{f"p{i}": {H1: passing(f"p{i + 1}" if i < 6 else None)}
                             for i in range(7)})
    graph = caller()
    graph.nodes[1].params["pipeline"] = "p1"
    out = expand(graph, pipelines, root=("p0", "P0"))
    assert [p.message for p in out.problems] == [
        "Calls nest deeper than 5 pipelines (P0 → P1 → P2 → P3 → P4 → P5); call fewer "
        "pipelines from pipelines."]
    assert out.problems[0].node == "n7"  # on the caller's own node, whatever the depth


def test_a_node_id_the_expansion_would_take_is_named() -> None:
    graph = caller()
    graph.nodes.append(graph.nodes[2].model_copy(update={"id": "n7.top"}))
    out = expand(graph, Pipelines(top={H1: TOP}))
    assert [p.message for p in out.problems] == [
        "Node id 'n7.top' is taken: calling Top from n7 names its nodes n7.<id>. Rename the "
        "node 'n7.top'."]


def test_calling_big_pipelines_many_times_stops_at_the_node_limit() -> None:
    big = Graph.model_validate({
        "nodes": [node("in", "pipeline.input", name="customers"),
                  *[node(f"s{i}", "transform.sort_limit", limit=1) for i in range(600)],
                  node("out", "pipeline.output", name="top")],
        "edges": [edge("in", "table", "s0", "table"),
                  *[edge(f"s{i}", "table", f"s{i + 1}", "table") for i in range(599)],
                  edge("s599", "table", "out", "table")]})
    graph = Graph.model_validate({
        "nodes": [node("src", "connector.sample_dataset", dataset="customers"),
                  *[node(f"c{i}", "pipeline.call", pipeline="big", version=H1)
                    for i in range(1000)]],
        "edges": [edge("src", "table", f"c{i}", "customers") for i in range(1000)]})
    out = expand(graph, Pipelines(big={H1: big}))
    assert [p.message for p in out.problems] == [
        "With the pipelines it calls, this pipeline has more than 1,000 nodes (1,600 so "
        "far); at most 1,000 run as one."]
    assert len(out.graph.nodes) == 1_600  # one call expanded (999 still calls), then it stopped
