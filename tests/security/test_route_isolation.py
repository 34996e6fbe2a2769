"""Every API operation in the OpenAPI schema, called by a stranger with another workspace's
ids (in the path, the query and create bodies), is a 404 or shows nothing of it; and a viewer
of the workspace cannot change anything. A new route fails this test until it is listed
here, so no route ships without its check."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from datagran.runs.models import Run
from datagran.workspaces.services import membership_add
from tests.conftest import token_client, wait_for_run
from tests.graphs import classifier_graph

pytestmark = pytest.mark.django_db(transaction=True)

# Authenticated by a secret in the URL rather than by workspace membership.
TOKEN_ROUTES = {"/api/hooks/{pipeline_id}/{token}/", "/api/invitations/{token}/accept/",
                "/api/invitations/{token}/verify-email/"}
# Global reads that belong to no workspace, and the caller's own e-mail confirmation.
UNSCOPED = {("get", "/api/operators/"), ("get", "/api/connections/kinds/"),
            ("post", "/api/schedules/preview/"), ("get", "/api/workspaces/"),
            ("post", "/api/invitations/verify-email/"),
            # The caller's own API tokens (and a token may not make or revoke any: 403).
            ("post", "/api/tokens/"), ("delete", "/api/tokens/{token_id}/")}
# Operations a viewer may call: they read or compute, and change nothing.
VIEWER_MAY = {"get", ("post", "/api/pipelines/{pipeline_id}/validate/"),
              ("post", "/api/pipelines/{pipeline_id}/plan/"),
              ("post", "/api/pipelines/{pipeline_id}/predict"),
              # The truth about predictions, from whoever may ask for them (serving's API).
              ("post", "/api/pipelines/{pipeline_id}/feedback/"),
              ("post", "/api/invitations/{token}/accept/"),
              ("post", "/api/invitations/verify-email/"),
              ("post", "/api/invitations/{token}/verify-email/")}
# Reads that only owners may make.
OWNERS_ONLY = {("get", "/api/workspaces/{workspace_id}/audit/")}


def schema_operations() -> list[tuple[str, str]]:
    out = StringIO()
    call_command("spectacular", "--format", "openapi-json", stdout=out, stderr=StringIO())
    paths = json.loads(out.getvalue())["paths"]
    return sorted((method, path) for path, ops in paths.items() for method in ops)


@pytest.fixture
def world(api, user, worker):
    """Workspace A (alice's) with one of everything."""
    workspace = user.personal_workspace
    pipeline = api.post("/api/pipelines/", {"name": "A", "graph": classifier_graph()},
                        format="json").json()
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
    assert wait_for_run(run_id).status == "succeeded"
    model = api.get("/api/models/").json()[0]
    api.post(f"/api/models/{model['id']}/aliases/", {"alias": "production", "version": 1},
             format="json")
    import io

    fh = io.BytesIO(b"a,b\n1,2\n")
    fh.name = "d.csv"
    dataset = api.post("/api/datasets/", {"file": fh}, format="multipart").json()
    connection = api.post("/api/connections/", {"name": "c", "kind": "webhook", "fields": {
        "url": "https://example.com/h", "secret": "s3cret"}}, format="json").json()
    schedule = api.post(f"/api/pipelines/{pipeline['id']}/schedules/", {"cron": "0 3 * * *"},
                        format="json").json()
    api.get(f"/api/pipelines/{pipeline['id']}/deployment/")
    template = api.post(f"/api/pipelines/{pipeline['id']}/template/", {}, format="json").json()
    params = {"pipeline_id": pipeline["id"], "run_id": run_id, "node_id": "export",
              "name": "predictions.csv", "model_id": model["id"], "number": "1",
              "alias": "production", "connection_id": connection["id"],
              "schedule_id": schedule["id"], "dataset_id": dataset["id"],
              "template_id": template["id"],
              "workspace_id": str(workspace.pk),
              "user_id": str(user.pk), "token": "x", "token_id": "1", "invitation_id": "1"}
    secret_ids = {pipeline["id"], run_id, model["id"], dataset["id"], connection["id"],
                  schedule["id"], template["id"]}
    return {"params": params, "ids": secret_ids, "workspace": str(workspace.pk),
            "graph": classifier_graph()}


def fill(path: str, params: dict[str, str]) -> str:
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"add the path parameter of {path} to this test"
    return path


def body_for(method: str, path: str, world: dict) -> dict:
    """A valid body naming workspace A, so only the workspace check can refuse it."""
    ws = world["workspace"]
    bodies = {
        "/api/pipelines/": {"name": "x", "workspace": ws},
        "/api/connections/": {"name": "x", "kind": "webhook", "workspace": ws,
                              "fields": {"url": "https://example.com", "secret": "s"}},
        "/api/pipelines/{pipeline_id}/": {"name": "x", "graph": world["graph"]},
        "/api/pipelines/{pipeline_id}/schedules/": {"cron": "0 4 * * *"},
        "/api/schedules/{schedule_id}/": {"enabled": False},
        "/api/models/{model_id}/aliases/": {"alias": "staging", "version": 1},
        "/api/pipelines/{pipeline_id}/deployment/": {"enabled": False},
        "/api/connections/{connection_id}/": {"name": "renamed"},
        "/api/workspaces/{workspace_id}/invitations/": {"email": "x@example.com"},
        "/api/workspaces/{workspace_id}/members/{user_id}/": {"role": "viewer"},
        "/api/workspaces/{workspace_id}/transfer-ownership/": {"user_id": 1},
        "/api/pipelines/{pipeline_id}/runs/": {"force": True},
        "/api/pipelines/{pipeline_id}/validate/": {"graph": world["graph"]},
        "/api/pipelines/{pipeline_id}/plan/": {"graph": world["graph"]},
        "/api/pipelines/{pipeline_id}/predict": {"rows": [{"a": 1}]},
    }
    return bodies.get(path, {"workspace": ws})


def call(client, method: str, path: str, world: dict):
    url = fill(path, world["params"])
    if method == "get":
        return client.get(url, {"workspace": world["workspace"]})
    if path in ("/api/datasets/", "/api/models/import/"):
        import io

        fh = io.BytesIO(b"a\n1\n")
        fh.name = "x.csv" if "datasets" in path else "x.skops"
        return client.post(url, {"file": fh, "name": "x", "workspace": world["workspace"]},
                           format="multipart")
    return getattr(client, method)(url, body_for(method, path, world), format="json")


def test_a_stranger_reaches_nothing_of_another_workspace(world, other_api) -> None:
    leaks = []
    runs_before = Run.objects.count()
    for method, path in schema_operations():
        if path in TOKEN_ROUTES:
            continue
        response = call(other_api, method, path, world)
        text = response.content.decode(errors="replace") if hasattr(response, "content") \
            else ""
        if (method, path) in UNSCOPED or (method == "get" and "{" not in path):
            # A list of the stranger's own things: none of workspace A's ids in it.
            if any(i in text for i in world["ids"]):
                leaks.append((method, path, response.status_code))
        elif response.status_code != 404:
            leaks.append((method, path, response.status_code))
    assert leaks == []
    assert Run.objects.count() == runs_before


def test_a_viewer_can_read_but_change_nothing(world, user) -> None:
    vic = get_user_model().objects.create_user("vic")
    membership_add(workspace=user.personal_workspace, user=vic, role="viewer")
    viewer = token_client(vic)
    wrong = []
    runs_before = Run.objects.count()
    for method, path in schema_operations():
        if path in TOKEN_ROUTES or (method, path) in UNSCOPED:
            continue
        response = call(viewer, method, path, world)
        allowed = (method in VIEWER_MAY or (method, path) in VIEWER_MAY) and (
            (method, path) not in OWNERS_ONLY)
        if allowed and response.status_code in (401, 403, 404):
            wrong.append((method, path, response.status_code, "refused a read"))
        if not allowed and response.status_code != 403:
            wrong.append((method, path, response.status_code, "allowed a write"))
    assert wrong == []
    assert Run.objects.count() == runs_before
