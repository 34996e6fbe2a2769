"""The attack of S2 through a real run in the embedded default: a SQLite connection that
names the app's own database (saved before paths were checked, so written straight into the
table here) can neither read the users' password hashes nor append a membership row."""
from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from datagran.connections import crypto
from datagran.connections.models import Connection
from datagran.runs.models import NodeRun
from datagran.workspaces.models import Membership
from operators.connectors._sql import SQLITE_OUTSIDE
from tests.conftest import wait_for_run
from tests.graphs import edge, node

pytestmark = pytest.mark.django_db(transaction=True)


def app_database_connection(user) -> Connection:
    workspace = Membership.objects.get(user=user).workspace
    return Connection.objects.create(
        workspace=workspace, name="app", kind="sqlite", created_by=user,
        config={"path": str(settings.DATABASES["default"]["NAME"])},
        secrets_encrypted=crypto.encrypt({}))


def run_graph(api, graph: dict) -> tuple[str, Any]:
    pipeline = api.post("/api/pipelines/", {"name": "p", "graph": graph}, format="json")
    assert pipeline.status_code == 201, pipeline.json()
    run_id = api.post(f"/api/pipelines/{pipeline.json()['id']}/runs/").json()["id"]
    return run_id, wait_for_run(run_id)


def test_a_run_cannot_read_the_app_database(api, user, worker) -> None:
    connection = app_database_connection(user)
    graph = {"nodes": [node("q", "connector.sql_query", connection=str(connection.pk),
                            query="SELECT username, password FROM auth_user")], "edges": []}
    run_id, run = run_graph(api, graph)
    failed = NodeRun.objects.get(run_id=run_id, node_id="q")
    assert run.status == "failed" and failed.status == "failed"
    assert failed.error == SQLITE_OUTSIDE
    body = api.get(f"/api/runs/{run_id}/").content.decode()
    assert user.password not in body and "pbkdf2" not in body


def test_a_run_cannot_make_anyone_an_owner_through_the_app_database(api, user,
                                                                     worker) -> None:
    connection = app_database_connection(user)
    before = Membership.objects.count()
    graph = {"nodes": [
        node("data", "connector.sample_dataset", dataset="customers"),
        node("sel", "transform.select_columns", columns=["customer_id"]),
        node("write", "action.sql_table", connection=str(connection.pk),
             table="workspaces_membership", key_columns=["customer_id"])],
        "edges": [edge("data", "table", "sel", "table"), edge("sel", "table", "write", "table")]}
    run_id, run = run_graph(api, graph)
    assert NodeRun.objects.get(run_id=run_id, node_id="write").error == SQLITE_OUTSIDE
    assert run.status == "failed" and Membership.objects.count() == before
