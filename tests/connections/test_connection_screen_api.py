"""What the connections screen needs from the API: which pipelines use a connection (and
deleting one in use refused, naming them), the Test button against real servers, and the
dry-run-only switch in the kinds' schemas."""
from __future__ import annotations

import time
from typing import Any

import pytest

from datagran.connections.models import Connection
from datagran.pipelines.services import pipeline_create
from datagran.workspaces.models import AuditEntry, Workspace
from datagran.workspaces.services import membership_add, workspace_create
from operators.connectors import _connection
from tests.conftest import token_client
from tests.operators.local_http import JsonHandler, serve

pytestmark = pytest.mark.django_db
TOKEN = "good-token-4c2e"


@pytest.fixture
def loopback(settings: Any) -> None:
    """The servers of these tests are on loopback, which an administrator allow-lists."""
    settings.DATAGRAN = {**settings.DATAGRAN, "URL_ALLOWLIST": ["127.0.0.1"]}


def create(api: Any, kind: str, fields: dict[str, Any], name: str = "Conn") -> dict[str, Any]:
    response = api.post("/api/connections/", {"name": name, "kind": kind, "fields": fields},
                        format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def workspace_of(connection: dict[str, Any]) -> Workspace:
    return Workspace.objects.get(pk=connection["workspace"])


def sql_node(connection_id: str) -> dict[str, Any]:
    return {"nodes": [{"id": "q", "operator": "connector.sql_query", "position": {"x": 0, "y": 0},
                       "params": {"connection": connection_id, "query": "SELECT 1 AS x"}}],
            "edges": []}


def test_a_connection_lists_the_pipelines_that_use_it(api: Any, user: Any) -> None:
    used = create(api, "sqlite", {"path": ":memory:"}, name="Used")
    unused = create(api, "sqlite", {"path": ":memory:"}, name="Unused")
    workspace = workspace_of(used)
    pipeline = pipeline_create(workspace=workspace, user=user, name="Nightly load",
                               graph=sql_node(used["id"]))
    listed = {c["name"]: c for c in api.get("/api/connections/").json()}
    assert listed["Used"]["used_by"] == [{"id": str(pipeline.pk), "name": "Nightly load"}]
    assert listed["Unused"]["used_by"] == []
    one = api.get(f"/api/connections/{used['id']}/").json()
    assert one["used_by"] == [{"id": str(pipeline.pk), "name": "Nightly load"}]
    assert unused["id"] != used["id"]


def test_deleting_a_connection_in_use_is_refused_naming_the_pipelines(api: Any,
                                                                      user: Any) -> None:
    conn = create(api, "sqlite", {"path": ":memory:"}, name="Warehouse")
    workspace = workspace_of(conn)
    for name in ("Nightly load", "Churn export"):
        pipeline_create(workspace=workspace, user=user, name=name, graph=sql_node(conn["id"]))
    response = api.delete(f"/api/connections/{conn['id']}/")
    assert response.status_code == 409
    body = response.json()
    assert "“Nightly load”" in body["message"] and "“Churn export”" in body["message"]
    assert "connection" in body["extra"]["fields"]
    assert Connection.objects.filter(pk=conn["id"]).exists()
    assert not AuditEntry.objects.filter(action="connection.delete").exists()


def test_a_connection_only_an_old_version_used_can_be_deleted(api: Any, user: Any) -> None:
    conn = create(api, "sqlite", {"path": ":memory:"})
    pipeline = pipeline_create(workspace=workspace_of(conn), user=user, name="P",
                               graph=sql_node(conn["id"]))
    saved = api.patch(f"/api/pipelines/{pipeline.pk}/",
                      {"graph": {"nodes": [], "edges": []}}, format="json")
    assert saved.status_code in (200, 201), saved.json()
    assert api.delete(f"/api/connections/{conn['id']}/").status_code == 204
    assert not Connection.objects.filter(pk=conn["id"]).exists()


# --- Test button: HTTP kinds against a local stand-in ---------------------------------------

class TokenApi(JsonHandler):
    """Answers 200 to the right bearer token, 401 to anything else."""

    def do_GET(self) -> None:
        ok = self.headers.get("Authorization") == f"Bearer {TOKEN}"
        self.reply(200 if ok else 401, {"results": []} if ok else {"message": "bad token"})


@pytest.mark.usefixtures("loopback")
def test_the_test_button_says_the_server_refused_the_credentials(api: Any) -> None:
    with serve(TokenApi) as url:
        bad = create(api, "hubspot", {"base_url": url, "access_token": "wrong"})
        good = create(api, "hubspot", {"base_url": url, "access_token": TOKEN})
        refused = api.post(f"/api/connections/{bad['id']}/test/").json()
        accepted = api.post(f"/api/connections/{good['id']}/test/").json()
    assert refused == {"ok": False, "message": "The server refused the credentials (401)."}
    assert accepted["ok"] is True and "accepted the credentials" in accepted["message"]
    assert AuditEntry.objects.filter(action="connection.test").count() == 2


@pytest.mark.usefixtures("loopback")
def test_the_test_button_says_a_closed_port_could_not_be_reached(api: Any) -> None:
    with serve(TokenApi) as url:
        pass  # the port is closed again once the server stopped
    conn = create(api, "http", {"base_url": url, "token": TOKEN})
    answer = api.post(f"/api/connections/{conn['id']}/test/").json()
    assert answer["ok"] is False
    assert answer["message"].startswith("Could not reach 127.0.0.1")
    assert "refused" in answer["message"]


def test_a_private_address_stays_refused_by_the_test(api: Any) -> None:
    conn = create(api, "webhook", {"url": "http://127.0.0.1:9/hook"})
    answer = api.post(f"/api/connections/{conn['id']}/test/").json()
    assert answer["ok"] is False and "DATAGRAN_URL_ALLOWLIST" in answer["message"]


@pytest.mark.usefixtures("loopback")
def test_unsaved_fields_are_tested_with_the_stored_secret_only_where_it_pointed(
        api: Any) -> None:
    with serve(TokenApi) as url, serve(TokenApi) as elsewhere:
        conn = create(api, "hubspot", {"base_url": url, "access_token": TOKEN})
        body = {"kind": "hubspot", "connection": conn["id"],
                "fields": {"base_url": url, "access_token": "********"}}
        same = api.post("/api/connections/test/", body, format="json").json()
        body["fields"]["base_url"] = elsewhere
        moved = api.post("/api/connections/test/", body, format="json")
    assert same["ok"] is True
    # The stored token is never sent to another host: it is missing there.
    assert moved.status_code == 400 and "access_token" in moved.json()["extra"]["fields"]


@pytest.mark.usefixtures("loopback")
def test_testing_unsaved_fields_is_for_owners(api: Any, other_api: Any, user: Any,
                                             other_user: Any) -> None:
    team = workspace_create(name="Team", owner=other_user)
    membership_add(workspace=team, user=user, role="editor")
    body = {"kind": "webhook", "fields": {"url": "http://127.0.0.1:9/"},
            "workspace": str(team.pk)}
    assert api.post("/api/connections/test/", body, format="json").status_code == 403
    assert other_api.post("/api/connections/test/", body, format="json").status_code == 200


# --- Test button: SQL kinds against the real servers ----------------------------------------

@pytest.mark.services
@pytest.mark.usefixtures("loopback")
@pytest.mark.parametrize(("kind", "fields"), [
    ("postgresql", {"database": "postgres", "user": "postgres"}),
    ("mysql", {"database": "test", "user": "root"}),
])
def test_a_sql_connection_is_tested_with_select_1(api: Any, kind: str,
                                                  fields: dict[str, Any]) -> None:
    good = create(api, kind, fields)
    answer = api.post(f"/api/connections/{good['id']}/test/").json()
    assert answer["ok"] is True, answer
    assert "SELECT 1" in answer["message"]


@pytest.mark.services
@pytest.mark.usefixtures("loopback")
def test_a_sql_connection_says_which_of_host_and_credentials_failed(api: Any) -> None:
    closed = create(api, "postgresql", {"database": "postgres", "user": "postgres", "port": 1})
    bad_user = create(api, "mysql", {"database": "test", "user": "nobody-here",
                                     "password": "wrong"})
    unreached = api.post(f"/api/connections/{closed['id']}/test/").json()
    refused = api.post(f"/api/connections/{bad_user['id']}/test/").json()
    assert unreached["ok"] is False
    assert unreached["message"].startswith("Could not reach 127.0.0.1:1")
    assert refused["ok"] is False
    assert refused["message"].startswith("The server at 127.0.0.1:3306 refused the user")
    assert "wrong" not in refused["message"]


def test_a_viewer_cannot_test_a_connection(api: Any, user: Any, other_user: Any) -> None:
    team = workspace_create(name="Team", owner=other_user)
    membership_add(workspace=team, user=user, role="viewer")
    conn = token_client(other_user).post(
        "/api/connections/", {"name": "x", "kind": "sqlite", "fields": {"path": ":memory:"},
                              "workspace": str(team.pk)}, format="json").json()
    assert api.post(f"/api/connections/{conn['id']}/test/").status_code == 403
    assert not AuditEntry.objects.filter(action="connection.test").exists()


# --- dry run only ---------------------------------------------------------------------------

def test_the_kinds_actions_send_through_have_a_dry_run_only_switch(api: Any) -> None:
    kinds = {k["kind"]: k["schema"] for k in api.get("/api/connections/kinds/").json()}
    for kind in ("hubspot", "salesforce", "webhook", "postgresql", "mysql", "sqlite"):
        field = kinds[kind]["properties"]["dry_run_only"]
        assert field["type"] == "boolean" and field["default"] is False
        assert "refuse" in field["description"]
    conn = create(api, "webhook", {"url": "https://hooks.example.com/x", "dry_run_only": True})
    assert conn["config"]["dry_run_only"] is True


class SilentApi(JsonHandler):
    """Takes the request and never answers in time."""

    def do_GET(self) -> None:
        time.sleep(1)
        try:
            self.reply(200, {})
        except OSError:
            pass  # the test gave up waiting, as it should


class WebhookReceiver(JsonHandler):
    def do_GET(self) -> None:
        self.reply(405, {"message": "POST only"})


@pytest.mark.usefixtures("loopback")
def test_a_server_that_does_not_answer_is_reported_after_the_time_limit(
        api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_connection, "TEST_TIMEOUT", 0.3)
    with serve(SilentApi) as url:
        conn = create(api, "salesforce", {"instance_url": url, "access_token": TOKEN})
        answer = api.post(f"/api/connections/{conn['id']}/test/").json()
    assert answer == {"ok": False,
                      "message": f"Could not reach {url.split('//')[1]}: no answer within 0.3 s."}


@pytest.mark.usefixtures("loopback")
def test_a_webhook_is_tested_for_reachability_only(api: Any) -> None:
    with serve(WebhookReceiver) as url:
        conn = create(api, "webhook", {"url": url + "/hook", "secret": "s"})
        answer = api.post(f"/api/connections/{conn['id']}/test/").json()
    assert answer == {"ok": True, "message": f"Reached {url.split('//')[1]} (HTTP 405)."}
