"""The pushdown planner (datagran/engine/pushdown.py): which nodes after a SQL source run
inside its database, for which graphs and dialects, and why the others do not. Pure: no
database, no Django."""
from __future__ import annotations

from typing import Any

import pytest

from datagran.engine.graph import Graph
from datagran.engine.pushdown import plan_pushdown
from tests.graphs import edge, node

PG = {"c1": "postgresql", "c2": "postgresql"}


def sql(node_id: str, connection: str = "c1", **params: Any) -> dict[str, Any]:
    return node(node_id, "connector.sql_query", connection=connection,
                query=params.pop("query", "SELECT * FROM t"), **params)


FILTER = {"conditions": [{"column": "a", "op": ">", "value": 1}]}


def graph(nodes: list[dict[str, Any]], edges: list[tuple[str, str]]) -> Graph:
    ports = {"join": ("left", "right")}
    made: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for source, target in edges:
        op = next(n["operator"] for n in nodes if n["id"] == target)
        if op == "transform.join":
            port = ports["join"][seen.get(target, 0)]
            seen[target] = seen.get(target, 0) + 1
        elif op == "model.predict":
            port = "data"
        else:
            port = "table"
        made.append(edge(source, "table", target, port))
    return Graph.model_validate({"nodes": nodes, "edges": made})


def chain(*extra: dict[str, Any], src: dict[str, Any] | None = None) -> Graph:
    nodes = [src or sql("s"), node("f", "transform.filter_rows", **FILTER),
             node("sel", "transform.select_columns", columns=["a"]), *extra]
    ids = [n["id"] for n in nodes]
    return graph(nodes, list(zip(ids, ids[1:], strict=False)))


def test_a_chain_after_a_source_is_pushed_into_its_last_node() -> None:
    plan = plan_pushdown(chain(), PG)
    assert plan.pushed == {"s": "sel", "f": "sel"}
    assert plan.frontiers["sel"].nodes == ("s", "f", "sel")
    assert plan.node_fields("f") == ("sel", {"database": "PostgreSQL"})
    assert plan.node_fields("sel")[1]["nodes"] == ["s", "f", "sel"]


@pytest.mark.parametrize("kind", ["postgresql", "mysql", "sqlite"])
def test_each_dialect_pushes_the_five_operators(kind: str) -> None:
    g = graph([sql("s"), sql("t"), node("f", "transform.filter_rows", **FILTER),
               node("r", "transform.rename_columns", mapping=[{"column": "a",
                                                               "new_name": "b"}]),
               node("join", "transform.join", on=[{"left": "b", "right": "b"}]),
               node("agg", "transform.aggregate", group_by=["b"], aggregations=[
                   {"column": "b", "function": "count"}])],
              [("s", "f"), ("f", "r"), ("r", "join"), ("t", "join"), ("join", "agg")])
    plan = plan_pushdown(g, {"c1": kind})
    assert plan.pushed == {n: "agg" for n in ("s", "t", "f", "r", "join")}


def test_a_join_with_another_connection_or_source_is_not_pushed() -> None:
    for other in (sql("t", connection="c2"), node("t", "connector.sample_dataset",
                                                  dataset="iris")):
        g = graph([sql("s"), other, node("join", "transform.join",
                                         on=[{"left": "a", "right": "a"}])],
                  [("s", "join"), ("t", "join")])
        plan = plan_pushdown(g, PG)
        assert plan.pushed == {} and plan.frontiers == {}
        assert plan.notes["s"] == ["join does not run in the database: its inputs do not all "
                                   "come from the same database connection."]


@pytest.mark.parametrize(("kind", "extra", "why"), [
    ("postgresql", {"function": "median"}, "PostgreSQL has no median computed as pandas "
                                           "computes it"),
    ("sqlite", {"function": "std"}, "SQLite has no standard deviation"),
])
def test_an_aggregate_the_database_cannot_compute_exactly_stops_the_group(
        kind: str, extra: dict[str, Any], why: str) -> None:
    agg = node("agg", "transform.aggregate", aggregations=[{"column": "a", **extra}])
    plan = plan_pushdown(chain(agg), {"c1": kind})
    assert plan.pushed == {"s": "sel", "f": "sel"}
    assert plan.notes["sel"] == [f"agg does not run in the database: {why}."]
    # The same aggregate where the database has it: pushed.
    if extra["function"] == "std":
        assert "agg" in plan_pushdown(chain(agg), PG).frontiers


def test_a_full_outer_join_is_not_pushed_on_mysql() -> None:
    g = graph([sql("s"), sql("t"), node("join", "transform.join", how="outer",
                                        on=[{"left": "a", "right": "a"}])],
              [("s", "join"), ("t", "join")])
    assert plan_pushdown(g, {"c1": "mysql"}).pushed == {}
    assert plan_pushdown(g, {"c1": "postgresql"}).pushed == {"s": "join", "t": "join"}


def test_a_node_also_consumed_outside_is_materialised_and_the_rest_still_pushed() -> None:
    g = graph([sql("s"), node("f", "transform.filter_rows", **FILTER),
               node("sel", "transform.select_columns", columns=["a"]),
               node("out", "action.export_file", format="csv", filename="x")],
              [("s", "f"), ("f", "sel"), ("f", "out")])
    plan = plan_pushdown(g, PG)
    assert set(plan.frontiers) == {"f", "sel"}
    assert plan.frontiers["sel"].nodes == ("s", "f", "sel")
    assert plan.pushed == {"s": "f"}


@pytest.mark.parametrize(("source", "why"), [
    (sql("s", pushdown=False), "pushdown is turned off on it"),
    (sql("s", mode="table", table="t", query=None, incremental_column="at"),
     "it reads only the rows changed since the last run (incremental_column)"),
    (sql("s", mode="table", table="t", query=None, output="accumulated"),
     "its output accumulates the rows of earlier runs"),
    (sql("s", row_limit=10), "it reads only the first rows (row_limit)"),
    (sql("s", query="SELECT * FROM t ORDER BY a"), "its query sorts the rows (ORDER BY), an "
                                                   "order a subquery does not keep"),
    (sql("s", connection="c3"), "its connection's kind has no pushdown"),
])
def test_a_source_that_cannot_start_a_group_says_why(source: dict[str, Any], why: str) -> None:
    plan = plan_pushdown(chain(src=source), {**PG, "c3": "sqlalchemy"})
    assert plan.pushed == {} and plan.frontiers == {}
    assert plan.notes["s"] == [f"Nothing after it runs in the database: {why}."]


def test_a_whole_table_read_each_run_is_pushed() -> None:
    plan = plan_pushdown(chain(src=sql("s", mode="table", table="t", query=None)), PG)
    assert plan.pushed == {"s": "sel", "f": "sel"}


def test_a_source_feeding_only_other_nodes_runs_as_before() -> None:
    g = graph([sql("s"), node("out", "action.export_file", format="csv", filename="x")],
              [("s", "out")])
    plan = plan_pushdown(g, PG)
    assert plan.pushed == {} and plan.frontiers == {} and plan.notes == {}


def test_a_partial_run_pushes_only_among_the_nodes_it_runs() -> None:
    # Run up to f: f is the frontier. The source replayed or cached: nothing is pushed.
    assert plan_pushdown(chain(), PG, running={"s", "f"}).pushed == {"s": "f"}
    plan = plan_pushdown(chain(), PG, running={"f", "sel"})
    assert plan.pushed == {} and plan.frontiers == {}
