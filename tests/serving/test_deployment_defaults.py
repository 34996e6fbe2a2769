"""Where a new deployment's rows enter by default: the source whose rows become the predicted
rows, so one request row gets one answer."""
from __future__ import annotations

import copy

from datagran.engine.graph import Graph
from datagran.pipelines.demo import CHURN_CRM
from datagran.serving.services import deployment_defaults


def test_customers_left_joined_to_order_features_are_served_customer_by_customer() -> None:
    # Orders come first in the graph, but their rows are aggregated per customer and joined
    # to the right of the customers: a request of orders would answer every trained customer.
    assert CHURN_CRM["nodes"][0]["id"] == "orders"
    assert deployment_defaults(Graph.model_validate(CHURN_CRM)) == ("customers", "score")


def test_a_right_join_keeps_the_rows_of_its_right_side() -> None:
    graph = copy.deepcopy(CHURN_CRM)
    for edge in graph["edges"]:
        if edge["target"] == "features":
            edge["target_port"] = {"left": "right", "right": "left"}[edge["target_port"]]
    features = next(n for n in graph["nodes"] if n["id"] == "features")
    features["params"]["how"] = "right"
    assert deployment_defaults(Graph.model_validate(graph)) == ("customers", "score")
    features["params"]["how"] = "inner"
    assert deployment_defaults(Graph.model_validate(graph)) == ("orders", "score")


def test_rows_from_two_sources_at_once_enter_at_the_first_source() -> None:
    graph = copy.deepcopy(CHURN_CRM)
    features = next(n for n in graph["nodes"] if n["id"] == "features")
    features["operator"], features["params"] = "transform.union", {}
    for edge in graph["edges"]:
        if edge["target"] == "features":
            edge["target_port"] = {"left": "first", "right": "second"}[edge["target_port"]]
    assert deployment_defaults(Graph.model_validate(graph)) == ("orders", "score")
