"""The demo workspace `make run` loads: a demo user and two example pipelines that run green."""
from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from datagran.workspaces.models import Workspace
from datagran.workspaces.services import membership_add, workspace_create

from .models import Pipeline
from .services import pipeline_create

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "datagran-demo"
DEMO_WORKSPACE = "Demo workspace"


def _node(node_id: str, operator: str, x: int, y: int, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "operator": operator, "params": params, "position": {"x": x, "y": y}}


def _edge(source: str, source_port: str, target: str, target_port: str) -> dict[str, str]:
    return {"source": source, "source_port": source_port, "target": target,
            "target_port": target_port}


IRIS = {
    "nodes": [
        _node("data", "connector.sample_dataset", 0, 120, dataset="iris"),
        _node("split", "transform.split", 260, 120, test_size=0.3, seed=42, stratify="target"),
        _node("train", "model.train_classifier", 520, 40, target="target",
              algorithm="random_forest", n_estimators=100, seed=42),
        _node("predict", "model.predict", 780, 160),
        _node("export", "action.export_file", 1040, 160, format="csv",
              filename="iris_predictions"),
    ],
    "edges": [
        _edge("data", "table", "split", "table"),
        _edge("split", "train", "train", "train"),
        _edge("split", "test", "train", "test"),
        _edge("train", "model", "predict", "model"),
        _edge("split", "test", "predict", "table"),
        _edge("predict", "table", "export", "table"),
    ],
}

CHURN = {
    "nodes": [
        _node("customers", "connector.sample_dataset", 0, 120, dataset="customers"),
        _node("features", "transform.select_columns", 260, 120, columns=[
            "customer_id", "email", "plan", "tenure_months", "monthly_spend",
            "orders_last_90d", "support_tickets", "days_since_last_order", "churned"]),
        _node("split", "transform.split", 520, 120, test_size=0.25, seed=7, stratify="churned"),
        _node("train", "model.train_classifier", 780, 40, target="churned",
              features=["plan", "tenure_months", "monthly_spend", "orders_last_90d",
                        "support_tickets", "days_since_last_order"],
              algorithm="logistic_regression", seed=7),
        _node("score", "model.predict", 1040, 160),
        _node("at_risk", "transform.filter_rows", 1300, 160, combine="all", conditions=[
            {"column": "prediction", "op": "==", "value": "yes"}]),
        _node("export", "action.export_file", 1560, 160, format="csv",
              filename="churn_at_risk"),
    ],
    "edges": [
        _edge("customers", "table", "features", "table"),
        _edge("features", "table", "split", "table"),
        _edge("split", "train", "train", "train"),
        _edge("split", "test", "train", "test"),
        _edge("train", "model", "score", "model"),
        _edge("features", "table", "score", "table"),
        _edge("score", "table", "at_risk", "table"),
        _edge("at_risk", "table", "export", "table"),
    ],
}

DEMO_PIPELINES = {
    "Iris classifier": ("Sample iris data → split → random forest → predict → CSV.", IRIS),
    "Customer churn → CSV export": (
        "Score every customer's churn risk and export the ones likely to leave.", CHURN),
}


@transaction.atomic
def demo_setup() -> tuple[Any, Workspace, list[Pipeline]]:
    """Idempotent: the demo user, its workspace and the example pipelines (made if missing)."""
    User = get_user_model()
    user = User.objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        user = User.objects.create_user(DEMO_USERNAME, password=DEMO_PASSWORD,
                                        email="demo@example.com")
    workspace = Workspace.objects.filter(name=DEMO_WORKSPACE, memberships__user=user).first()
    if workspace is None:
        workspace = workspace_create(name=DEMO_WORKSPACE, owner=user)
    membership_add(workspace=workspace, user=user, role="owner")
    pipelines = []
    for name, (description, graph) in DEMO_PIPELINES.items():
        pipeline = workspace.pipelines.filter(name=name).first()
        if pipeline is None:
            pipeline = pipeline_create(workspace=workspace, user=user, name=name,
                                       description=description, graph=graph)
        pipelines.append(pipeline)
    return user, workspace, pipelines
