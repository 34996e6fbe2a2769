"""Every request that answered 500 when probed (issue 14, S10) answers a 4xx naming what is
wrong, and the request had no effect."""
from __future__ import annotations

import copy
import io
import json
from urllib.parse import quote

import pandas as pd
import pytest
import skops.io as sio
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token
from sklearn.linear_model import LogisticRegression

from datagran.pipelines.demo import CHURN
from datagran.pipelines.models import Pipeline
from datagran.registry.models import RegisteredModel
from datagran.runs.models import NodeRun
from datagran.schedules.models import Schedule
from datagran.serving.models import PredictionLog
from datagran.workspaces.models import Membership
from datagran.workspaces.services import membership_add, workspace_create
from tests.conftest import wait_for_run
from tests.graphs import chain_graph, edge, node

pytestmark = pytest.mark.django_db

BEYOND_64_BITS = 2**64 + 1


def refused(response, status: int = 400) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"message", "extra"} and body["message"]
    return body


def create(api, graph: dict | None = None, name: str = "P") -> dict:
    response = api.post("/api/pipelines/", {"name": name, "graph": graph or chain_graph()},
                        format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_workspace_filter_that_is_not_an_id_is_a_400_naming_it(api) -> None:
    create(api)
    for url in ("/api/pipelines/?workspace=abc", "/api/models/?workspace=abc"):
        body = refused(api.get(url))
        assert "workspace" in body["message"] and "workspace" in body["extra"]["fields"]


def test_a_date_that_does_not_exist_is_a_400_naming_the_parameter(api) -> None:
    for name in ("since", "until"):
        body = refused(api.get(f"/api/runs/?{name}=2026-99-99"))
        assert body["message"].startswith(f"{name}:")
        refused(api.get(f"/api/runs/stats/?{name}=2026-02-30T10:00:00"))


@pytest.fixture
def team(user, other_user):
    workspace = workspace_create(name="Team", owner=user)
    membership_add(workspace=workspace, user=other_user, role="viewer")
    return workspace


@pytest.mark.parametrize("payload", ['["role", "owner"]', '"owner"', "7", "null"])
def test_a_json_body_that_is_not_an_object_is_a_400_everywhere(api, team, other_user,
                                                                payload) -> None:
    pipeline = create(api)
    schedule = api.post(f"/api/pipelines/{pipeline['id']}/schedules/", {"cron": "0 * * * *"},
                        format="json").json()
    for method, url in [
        (api.patch, f"/api/schedules/{schedule['id']}/"),
        (api.patch, f"/api/workspaces/{team.pk}/members/{other_user.pk}/"),
        (api.post, f"/api/workspaces/{team.pk}/transfer-ownership/"),
        (api.put, f"/api/pipelines/{pipeline['id']}/"),
        (api.post, "/api/connections/"),
    ]:
        body = refused(method(url, payload, content_type="application/json"))
        assert body["message"] == "body: the request body must be a JSON object."
    assert Schedule.objects.get().cron == "0 * * * *"
    assert dict(Membership.objects.filter(workspace=team).values_list("user_id", "role")) == {
        team.memberships.get(role="owner").user_id: "owner", other_user.pk: "viewer"}


def test_a_member_id_beyond_64_bits_is_not_found(api, team, other_user) -> None:
    base = f"/api/workspaces/{team.pk}"
    refused(api.patch(f"{base}/members/{BEYOND_64_BITS}/", {"role": "owner"}, format="json"),
            404)
    refused(api.delete(f"{base}/members/{BEYOND_64_BITS}/"), 404)
    refused(api.post(f"{base}/transfer-ownership/", {"user_id": BEYOND_64_BITS},
                     format="json"), 404)
    assert Membership.objects.filter(workspace=team, role="owner").count() == 1
    assert Membership.objects.filter(workspace=team).count() == 2


def test_an_owner_cannot_transfer_ownership_to_themselves(api, user, team) -> None:
    body = refused(api.post(f"/api/workspaces/{team.pk}/transfer-ownership/",
                            {"user_id": user.pk}, format="json"), 409)
    assert "yourself" in body["message"]
    assert Membership.objects.get(workspace=team, user=user).role == "owner"


@pytest.mark.parametrize("depth", [3000, 500])
def test_params_nested_thousands_deep_are_a_400_and_nothing_is_saved(api, depth) -> None:
    params = '{"dataset": "iris", "extra": ' + '{"a": ' * depth + "{}" + "}" * depth + "}"
    text = ('{"name": "deep", "graph": {"nodes": [{"id": "a", "operator": '
            '"connector.sample_dataset", "params": ' + params + '}], "edges": []}}')
    body = refused(api.generic("POST", "/api/pipelines/", text,
                               content_type="application/json"))
    said = [body["message"]] + [e["message"] for e in body["extra"].get("errors", [])]
    assert any("nested" in text for text in said), said
    assert not Pipeline.objects.exists()


def test_an_expression_that_overflows_64_bits_is_refused_not_wrapped_around(api) -> None:
    graph = chain_graph()
    graph["nodes"].append(node("big", "transform.derive_column", name="big",
                               expression="9223372036854775807 * 9223372036854775807"))
    graph["edges"].append(edge("b", "table", "big", "table"))
    body = refused(api.post("/api/pipelines/", {"name": "overflow", "graph": graph},
                            format="json"))
    [problem] = body["extra"]["errors"]
    assert problem["node"] == "big" and problem["field"] == "params.expression"
    assert "too large" in problem["message"]
    assert not Pipeline.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_websocket_path_that_matches_no_route_is_refused_cleanly(user) -> None:
    from asgiref.sync import async_to_sync
    from channels.routing import URLRouter

    from datagran.core.ws import websocket_stack
    from datagran.runs.routing import websocket_urlpatterns

    token, _ = Token.objects.get_or_create(user=user)
    application = websocket_stack(URLRouter(websocket_urlpatterns))

    async def attempt(path: str) -> bool:
        socket = WebsocketCommunicator(application, path, headers=[
            (b"authorization", f"Token {token.key}".encode())])
        connected, _ = await socket.connect(timeout=10)  # a busy machine: no 1 s default
        await socket.disconnect()
        return connected

    for path in ("/ws/nope/", "/ws/runs/not-a-uuid/", "/ws/runs/", "/"):
        assert async_to_sync(attempt)(path) is False


# --- what needs a run ---------------------------------------------------------------------------


def run(api, pipeline_id: str) -> str:
    run_id = api.post(f"/api/pipelines/{pipeline_id}/runs/", format="json").json()["id"]
    assert wait_for_run(run_id).status == "succeeded"
    return run_id


@pytest.mark.django_db(transaction=True)
def test_the_preview_of_infinite_values_shows_them(api, worker) -> None:
    graph = chain_graph()
    graph["nodes"].append(node("inf", "transform.derive_column", name="ratio",
                               expression="if_else(sepal_length > 5, 1 / 0, -1 / 0)"))
    graph["edges"].append(edge("b", "table", "inf", "table"))
    run_id = run(api, create(api, graph)["id"])
    response = api.get(f"/api/runs/{run_id}/nodes/inf/preview/?limit=200")
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    ratio = [row[-1] for row in body["rows"]]
    assert set(ratio) == {"Infinity", "-Infinity"}
    [stats] = [s for s in body["stats"] if s["name"] == "ratio"]
    assert (stats["min"], stats["max"]) == ("-Infinity", "Infinity")


@pytest.mark.django_db(transaction=True)
def test_a_download_of_a_node_whose_id_breaks_a_header_is_served(api, worker) -> None:
    """Ids like these were accepted before node ids had a character set: runs of such a
    graph stay in the history and their outputs must still download."""
    run_id = run(api, create(api)["id"])
    previous = "b"
    for legacy in ('b"; filename="evil.exe', "b\r\nSet-Cookie: x=1"):
        NodeRun.objects.filter(run_id=run_id, node_id=previous).update(node_id=legacy)
        previous = legacy
        for fmt in ("csv", "parquet"):
            response = api.get(f"/api/runs/{run_id}/nodes/{quote(legacy, safe='')}/output/",
                               {"format": fmt})
            assert response.status_code == 200
            header = response["Content-Disposition"]
            assert "\r" not in header and "\n" not in header and 'evil.exe"' not in header
            assert header.startswith("attachment; filename")
            assert "Set-Cookie" not in response.headers


@pytest.mark.django_db(transaction=True)
def test_a_prediction_row_with_a_number_beyond_its_column_is_a_400_and_not_logged(
        api, worker) -> None:
    pipeline = create(api, copy.deepcopy(CHURN), name="Churn")
    run(api, pipeline["id"])
    [model] = api.get("/api/models/").json()  # the pipeline serves once a version is promoted
    api.post(f"/api/models/{model['id']}/aliases/", {"alias": "production", "version": 1},
             format="json")
    row = api.get(f"/api/pipelines/{pipeline['id']}/deployment/stats/").json()["example"]
    url = f"/api/pipelines/{pipeline['id']}/predict"
    ok = api.post(url, {"rows": [row]}, format="json")
    assert ok.status_code == 200, ok.json()
    PredictionLog.objects.all().delete()
    for column, number, said in [("monthly_spend", "1e999", "1e999"),
                                 ("monthly_spend", "1" + "0" * 400, "monthly_spend"),
                                 ("tenure_months", str(2**63), "tenure_months")]:
        text = json.dumps({"rows": [row, {**row, column: "N"}]}).replace('"N"', number)
        body = refused(api.generic("POST", url, text, content_type="application/json"))
        assert said in body["message"], body
    # A refused request may be logged for the error rate (at the sample rate), never its rows.
    assert all(status == 400 and inputs == [] for status, inputs in
               PredictionLog.objects.values_list("status", "inputs"))


@pytest.mark.parametrize("metrics", ['{"auc": 1e999}', '{"auc": -1e999}',
                                     '{"a": ' * 5000 + "1" + "}" * 5000,
                                     '{"n": ' + "9" * 5000 + "}"],
                         ids=["1e999", "-1e999", "5000 deep", "5000 digits"])
def test_json_in_a_form_field_is_read_as_a_json_body_is(api, metrics) -> None:
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    upload = io.BytesIO(sio.dumps(LogisticRegression().fit(X, [0, 0, 1, 1])))
    upload.name = "model.skops"
    body = refused(api.post("/api/models/import/", {"file": upload, "name": "Imported",
                                                    "metrics": metrics}, format="multipart"))
    assert body["message"].startswith("metrics: ") and "metrics" in body["extra"]["fields"]
    assert not RegisteredModel.objects.exists()
