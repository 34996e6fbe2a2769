"""The request columns a served pipeline needs, by column lineage back from the answer:
what each node on the path reads (a formula's columns, a rename's, a filter's, a join's keys,
the model's features) plus the asked-for columns passed through; nothing a node outside the
path or a batch-only node reads."""
from __future__ import annotations

from typing import Any

from datagran.engine.graph import Graph
from datagran.engine.serve import plan_serving, request_columns
from operators.base import TrainedModel

ROWS = ["customer_id", "email", "plan", "monthly_spend", "tenure", "country", "region", "note",
        "churned"]


def col(*names: str) -> list[dict[str, str]]:
    return [{"name": n, "type": "float" if n in ("monthly_spend", "spend_per_month") else
             "str"} for n in names]


def node(node_id: str, operator: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "operator": operator, "params": params,
            "position": {"x": 0, "y": 0}}


def edge(source: str, target: str, source_port: str = "table", target_port: str = "table"
         ) -> dict[str, str]:
    return {"source": source, "source_port": source_port, "target": target,
            "target_port": target_port}


def churn_graph(*, between: dict[str, Any] | None = None) -> Graph:
    """rows → derive → rename → filter → join (regions) → [between] → select → predict, the
    model trained on select's output through a split."""
    nodes = [
        node("rows", "connector.sample_dataset", dataset="customers"),
        node("regions", "connector.sample_dataset", dataset="customers"),
        node("derive", "transform.derive_column", name="spend_per_month",
             expression='monthly_spend / col("tenure")'),
        node("rename", "transform.rename_columns", mapping=[{"column": "plan",
                                                             "new_name": "tier"}]),
        node("filter", "transform.filter_rows", conditions=[
            {"column": "country", "op": "==", "value": "CO"}]),
        node("join", "transform.join", how="left", on=[{"left": "region", "right": "region"}]),
        node("select", "transform.select_columns", columns=[
            "customer_id", "tier", "spend_per_month", "region_name", "note", "churned"]),
        node("split", "transform.split", test_size=0.25, seed=1),
        node("train", "model.train_classifier", target="churned",
             features=["tier", "spend_per_month", "region_name"]),
        node("predict", "model.predict"),
    ]
    edges = [edge("rows", "derive"), edge("derive", "rename"), edge("rename", "filter"),
             edge("filter", "join", target_port="left"),
             edge("regions", "join", target_port="right")]
    last = "join"
    if between is not None:
        nodes.append(between)
        edges.append(edge("join", between["id"]))
        last = between["id"]
    edges += [edge(last, "select"), edge("select", "split"),
              edge("split", "train", "train", "train"), edge("split", "train", "test", "test"),
              edge("train", "predict", "model", "model"), edge("select", "predict")]
    return Graph.model_validate({"nodes": nodes, "edges": edges})


SCHEMAS = {
    "rows": col(*ROWS),
    "regions": col("region", "region_name", "note"),
    "derive": col(*ROWS, "spend_per_month"),
    "rename": col(*[("tier" if n == "plan" else n) for n in ROWS], "spend_per_month"),
    "filter": col(*[("tier" if n == "plan" else n) for n in ROWS], "spend_per_month"),
    "join": col(*[("tier" if n == "plan" else n) for n in ROWS], "spend_per_month",
                "region_name", "note_right"),
    "select": col("customer_id", "tier", "spend_per_month", "region_name", "note", "churned"),
    "predict": col("customer_id", "tier", "spend_per_month", "region_name", "note", "churned",
                   "prediction", "probability"),
}
MODEL = TrainedModel(estimator=None, features=col("tier", "spend_per_month", "region_name"),
                     target="churned")


def needed(graph: Graph, answer: set[str] | None = None, **schemas: Any) -> set[str] | None:
    plan = plan_serving(graph, input_node="rows", output_node="predict")
    known = {**SCHEMAS, **schemas}
    return request_columns(plan, lambda n, _port: known.get(n), MODEL,
                           {"prediction", "probability"} if answer is None else answer)


def test_only_what_the_nodes_on_the_path_read_is_required() -> None:
    # spend_per_month: the formula's two columns; tier: plan, renamed; country: the filter;
    # region: the join's key; region_name comes from the other side (not the request).
    assert needed(churn_graph()) == {"monthly_spend", "tenure", "plan", "country", "region"}


def test_a_column_asked_for_in_the_answer_is_passed_back_through_the_path() -> None:
    assert needed(churn_graph(), answer={"prediction", "customer_id"}) == {
        "monthly_spend", "tenure", "plan", "country", "region", "customer_id"}


def test_a_right_column_renamed_by_the_join_is_read_from_the_right_side_only() -> None:
    # note clashes with the right table's note (note_right): note on the left passes through
    # only when asked for, and is never read from the request for the join itself.
    assert "note" not in (needed(churn_graph()) or {"note"})
    assert "note" in (needed(churn_graph(), answer={"prediction", "note"}) or set())


def test_a_node_that_does_not_say_what_it_reads_makes_every_column_required() -> None:
    sql = node("sql", "transform.sql", query="SELECT * FROM input")
    assert needed(churn_graph(between=sql), sql=SCHEMAS["join"]) is None


def test_an_output_without_a_prediction_asks_for_every_column() -> None:
    graph = churn_graph()
    plan = plan_serving(graph, input_node="rows", output_node="select")
    assert request_columns(plan, lambda n, _p: SCHEMAS.get(n), MODEL, None) is None


def test_drop_duplicates_on_some_columns_reads_those_and_on_all_reads_all() -> None:
    some = node("dedupe", "transform.drop_duplicates", subset=["email"])
    assert needed(churn_graph(between=some), dedupe=SCHEMAS["join"]) == {
        "monthly_spend", "tenure", "plan", "country", "region", "email"}
    every = node("dedupe", "transform.drop_duplicates")
    assert needed(churn_graph(between=every), dedupe=SCHEMAS["join"]) is None
