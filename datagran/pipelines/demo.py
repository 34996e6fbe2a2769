"""The demo workspace `make run` loads: a demo user and two example pipelines that run green."""
from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from datagran.connections.services import connection_create
from datagran.connections.sql_settings import sqlite_root
from datagran.schedules.services import schedule_save
from datagran.workspaces.models import Workspace
from datagran.workspaces.services import workspace_personal

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

CHURN_CRM = {
    "nodes": [
        _node("orders", "connector.sample_dataset", 0, 40, dataset="orders"),
        _node("rfm", "transform.rfm", 260, 40, customer="customer_id", date="ordered_at",
              amount="amount", as_of="2026-01-01T00:00:00"),
        _node("customers", "connector.sample_dataset", 0, 220, dataset="customers"),
        _node("features", "transform.join", 520, 120, how="left",
              on=[{"left": "customer_id", "right": "customer_id"}]),
        _node("split", "transform.split", 780, 40, test_size=0.25, seed=7, stratify="churned"),
        _node("train", "model.train_classifier", 1040, 40, target="churned",
              features=["plan", "tenure_months", "monthly_spend", "support_tickets",
                        "recency_days", "frequency", "monetary"],
              algorithm="random_forest", n_estimators=200, seed=7),
        _node("score", "model.predict", 1300, 180),
        _node("likely", "transform.filter_rows", 1560, 180, conditions=[
            {"column": "prediction", "op": "==", "value": "yes"}]),
        _node("top", "transform.sort_limit", 1820, 180,
              order_by=[{"column": "probability", "descending": True}], limit=100),
        _node("crm", "action.hubspot_upsert", 2080, 180, connection="{hubspot}",
              object_type="contacts", id_property="email", key_column="email",
              mappings=[{"column": "name", "property": "firstname"},
                        {"column": "plan", "property": "plan"},
                        {"column": "probability", "property": "churn_risk"}],
              dry_run=True),
    ],
    "edges": [
        _edge("orders", "table", "rfm", "orders"),
        _edge("customers", "table", "features", "left"),
        _edge("rfm", "table", "features", "right"),
        _edge("features", "table", "split", "table"),
        _edge("split", "train", "train", "train"),
        _edge("split", "test", "train", "test"),
        _edge("train", "model", "score", "model"),
        _edge("features", "table", "score", "table"),
        _edge("score", "table", "likely", "table"),
        _edge("likely", "table", "top", "table"),
        _edge("top", "table", "crm", "table"),
    ],
}

# The HubSpot contact properties the churn template reads: the account's own and, as custom
# properties, the model's inputs and its label (the demo's sandbox contacts have them all).
CHURN_FEATURES = ["plan", "tenure_months", "monthly_spend", "orders_last_90d",
                  "support_tickets", "days_since_last_order"]
HUBSPOT_CHURN = {
    "nodes": [
        _node("contacts", "connector.hubspot", 0, 120, connection="{hubspot}",
              resource="contacts", properties=["email", "firstname", "lastname",
                                               "lifecyclestage", *CHURN_FEATURES, "churned"],
              output="accumulated"),
        # HubSpot keeps every property as text: the numbers become numbers.
        _node("typed", "transform.cast_columns", 260, 120, errors="null", columns=[
            {"column": c, "type": "float" if c == "monthly_spend" else "int"}
            for c in CHURN_FEATURES if c != "plan"]),
        _node("split", "transform.split", 520, 40, test_size=0.25, seed=7, stratify="churned"),
        _node("train", "model.train_classifier", 780, 40, target="churned",
              features=CHURN_FEATURES, algorithm="logistic_regression", seed=7),
        _node("score", "model.predict", 1040, 160),
        _node("likely", "transform.filter_rows", 1300, 160, conditions=[
            {"column": "prediction", "op": "==", "value": "yes"}]),
        _node("crm", "action.hubspot_upsert", 1560, 160, connection="{hubspot}",
              object_type="contacts", id_property="email", key_column="email",
              mappings=[{"column": "probability", "property": "churn_risk"}], dry_run=True),
    ],
    "edges": [
        _edge("contacts", "table", "typed", "table"),
        _edge("typed", "table", "split", "table"),
        _edge("split", "train", "train", "train"),
        _edge("split", "test", "train", "test"),
        _edge("train", "model", "score", "model"),
        _edge("typed", "table", "score", "table"),
        _edge("score", "table", "likely", "table"),
        _edge("likely", "table", "crm", "table"),
    ],
}

HUBSPOT_CHURN_NAME = "HubSpot contacts → churn model → HubSpot property update"
# Batch scoring through the deployment of the pipeline above: the same contacts read afresh,
# scored with its production model exactly as its online endpoint scores them (the cast of
# HubSpot's text to numbers included), and the likely leavers' churn_risk sent to HubSpot.
_HUBSPOT_CHURN_NODES = {n["id"]: n for n in HUBSPOT_CHURN["nodes"]}
NIGHTLY_SCORES = {
    "nodes": [
        _HUBSPOT_CHURN_NODES["contacts"],
        _node("score", "model.score_deployment", 260, 120, pipeline=HUBSPOT_CHURN_NAME),
        # The same filter and CRM update as the pipeline above, the next along.
        *({**_HUBSPOT_CHURN_NODES[n], "position": {"x": x, "y": 120}}
          for n, x in (("likely", 520), ("crm", 780))),
    ],
    "edges": [
        _edge("contacts", "table", "score", "table"),
        _edge("score", "table", "likely", "table"),
        _edge("likely", "table", "crm", "table"),
    ],
}
NIGHTLY_SCORES_NAME = "Nightly churn scores → HubSpot"
NIGHTLY = "0 2 * * *"

DEMO_PIPELINES = {
    "Iris classifier": ("Sample iris data → split → random forest → predict → CSV.", IRIS),
    "Customer churn → CSV export": (
        "Score every customer's churn risk and export the ones likely to leave.", CHURN),
    "Customer churn → CRM": (
        "RFM features from orders, a churn model, and the 100 customers most at risk sent to "
        "HubSpot (a dry run: it shows exactly what would be sent, and sends nothing).",
        CHURN_CRM),
    HUBSPOT_CHURN_NAME: (
        "Contacts from HubSpot (only what changed since the last run, merged into those "
        "loaded before), a churn model trained on them, and each contact likely to leave "
        "given its churn_risk in HubSpot. On the demo's dry-run connection it reads the "
        "sandbox contacts bundled with Datagran and shows what it would send.",
        HUBSPOT_CHURN),
    NIGHTLY_SCORES_NAME: (
        "Every night at 02:00 (paused until you turn the schedule on): the HubSpot contacts "
        "scored by the deployment of the churn pipeline above, with the model version "
        "promoted to production (promote one on its model page first), and each contact "
        "likely to leave given its churn_risk in HubSpot (a dry run on the demo's "
        "connection).",
        NIGHTLY_SCORES),
}
DEMO_HUBSPOT = "Demo HubSpot (dry run only)"
DEMO_WAREHOUSE = "Demo warehouse (SQLite)"


@transaction.atomic
def demo_setup() -> tuple[Any, Workspace, list[Pipeline]]:
    """Idempotent: the demo user, its workspace and the example pipelines (made if missing)."""
    User = get_user_model()  # noqa: N806 - a model class
    user = User.objects.filter(username=DEMO_USERNAME).first()
    if user is None:
        user = User.objects.create_user(DEMO_USERNAME, password=DEMO_PASSWORD,
                                        email="demo@example.com")
    # The demo user's personal workspace is the demo workspace: it is where they land.
    workspace = workspace_personal(user=user)
    if workspace.name != DEMO_WORKSPACE:
        Workspace.objects.filter(pk=workspace.pk).update(name=DEMO_WORKSPACE)
        workspace.name = DEMO_WORKSPACE
    hubspot = workspace.connections.filter(name=DEMO_HUBSPOT).first() or connection_create(
        workspace=workspace, user=user, name=DEMO_HUBSPOT, kind="hubspot",
        fields={"access_token": "demo-token-not-a-real-one", "dry_run_only": True})
    # A SQL database for the templates that write one (a SQLite file in the SQLite folder),
    # where SQLite files are allowed: the embedded default.
    if sqlite_root() and not workspace.connections.filter(name=DEMO_WAREHOUSE).exists():
        connection_create(workspace=workspace, user=user, name=DEMO_WAREHOUSE, kind="sqlite",
                          fields={"path": "demo_warehouse.sqlite"})
    pipelines = []
    for name, (description, graph) in DEMO_PIPELINES.items():
        pipeline = workspace.pipelines.filter(name=name).first()
        if pipeline is None:
            graph = json.loads(json.dumps(graph).replace("{hubspot}", str(hubspot.pk)))
            pipeline = pipeline_create(workspace=workspace, user=user, name=name,
                                       description=description, graph=graph)
            if name == NIGHTLY_SCORES_NAME:
                schedule_save(pipeline=pipeline, user=user, cron=NIGHTLY, enabled=False)
        pipelines.append(pipeline)
    return user, workspace, pipelines
