"""The template gallery (issue 20): every built-in template makes a pipeline that runs green
on the demo workspace; a pipeline saved as a workspace template is listed, made into new
pipelines (reading its upload's newest version) and deleted, each audited; and every hostile
request is refused with a 4xx naming the field and the limit, writing nothing."""
from __future__ import annotations

import io
import json
import sqlite3
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from rest_framework.test import APIClient

from datagran.connections.models import Connection
from datagran.connections.services import connection_create
from datagran.datasets.models import Dataset
from datagran.pipelines.demo import demo_setup
from datagran.pipelines.models import Pipeline, WorkspaceTemplate
from datagran.pipelines.templates import (
    MAX_WORKSPACE_TEMPLATES,
    TEMPLATES_DIR,
    _load,
    builtin_templates,
)
from datagran.runs.models import NodeRun, SendLog
from datagran.schedules.models import Schedule
from datagran.workspaces.models import AuditEntry
from datagran.workspaces.services import membership_add, workspace_create
from tests.conftest import token_client, wait_for_run
from tests.graphs import edge, node

BUILTINS = sorted(path.stem for path in TEMPLATES_DIR.glob("*.json"))
# The size of a node on the canvas (frontend/src/editor): a layout whose boxes overlap, or an
# edge that runs right to left, is not readable.
NODE_W, NODE_H = 200, 90


def instantiate(client: APIClient, template: str, **body: Any) -> Any:
    return client.post(f"/api/templates/{template}/instantiate/", body, format="json")


def hubspot(workspace: Any, user: Any, name: str = "CRM") -> Connection:
    return connection_create(workspace=workspace, user=user, name=name, kind="hubspot",
                             fields={"access_token": "not-a-real-one", "dry_run_only": True})


def sqlite_db(workspace: Any, user: Any, path: str = "warehouse.sqlite") -> Connection:
    return connection_create(workspace=workspace, user=user, name="Warehouse", kind="sqlite",
                             fields={"path": path})


def refused(response: Any, status: int, field: str, *words: str) -> dict[str, Any]:
    """The response is a ``status`` naming ``field`` (and ``words``) in its message."""
    body = response.json()
    assert response.status_code == status, body
    if field:
        assert field in body["extra"].get("fields", {}) or any(
            e.get("field") == field for e in body["extra"].get("errors", [])), body
    for word in words:
        assert word in body["message"], body
    return body


# --- the built-in templates ---------------------------------------------------------------------

def test_the_gallery_lists_every_builtin_template_readably_laid_out(api) -> None:
    listed = api.get("/api/templates/")
    assert listed.status_code == 200, listed.json()
    builtins = [t for t in listed.json() if t["kind"] == "builtin"]
    assert [t["id"] for t in builtins] == BUILTINS and len(builtins) >= 8
    for template in builtins:
        raw = json.loads((TEMPLATES_DIR / f"{template['id']}.json").read_text())
        assert template["name"] == raw["name"] and template["description"] == raw["description"]
        assert [n["kind"] for n in template["needs"]] == [
            n for n in raw["needs"] if n != "none"]
        nodes = {n["id"]: n["position"] for n in template["graph"]["nodes"]}
        assert len(nodes) == len(raw["graph"]["nodes"]) >= 3
        # No two nodes overlap, and every edge runs left to right.
        boxes = sorted(nodes.items())
        for i, (a, pa) in enumerate(boxes):
            for b, pb in boxes[i + 1:]:
                apart = abs(pa["x"] - pb["x"]) >= NODE_W or abs(pa["y"] - pb["y"]) >= NODE_H
                assert apart, f"{template['id']}: {a} and {b} overlap"
        for e in template["graph"]["edges"]:
            assert nodes[e["source"]]["x"] < nodes[e["target"]]["x"], (template["id"], e)
    needs = {t["id"]: [n["label"] for n in t["needs"]] for t in builtins}
    assert needs["churn-crm"] == ["HubSpot"] and needs["sql-export"] == ["SQL database"]
    triggers = {t["id"]: t["trigger"] for t in builtins}
    assert triggers["sql-export"] == {"kind": "schedule", "cron": "0 6 * * *"}
    assert triggers["webhook-scoring"] == {"kind": "webhook"}


@pytest.mark.django_db
def test_each_builtin_template_validates_and_is_created_with_its_needs_met(api, user,
                                                                              tmp_path) -> None:
    workspace = user.personal_workspace
    with override_settings(DATAGRAN={**settings.DATAGRAN, "SQLITE_ROOT": str(tmp_path)}):
        expected = {"hubspot": hubspot(workspace, user), "sql": sqlite_db(workspace, user)}
    for slug in BUILTINS:
        created = instantiate(api, slug)
        assert created.status_code == 201, (slug, created.json())
        pipeline = created.json()
        template = next(t for t in builtin_templates() if t.slug == slug)
        assert pipeline["name"] == template.name
        assert [n["id"] for n in pipeline["graph"]["nodes"]] == [
            n["id"] for n in template.graph["nodes"]]
        used = {n["params"]["connection"] for n in pipeline["graph"]["nodes"]
                if "connection" in n["params"]}
        assert used == {str(expected[need].pk) for need in template.needs}
    # Made again: the same template under the next free name.
    again = instantiate(api, "rfm-email").json()
    assert again["name"] == "RFM segments → e-mail report (2)"
    schedule = Schedule.objects.get(pipeline__name="Nightly RFM scores → SQL table")
    assert (schedule.cron, schedule.enabled) == ("0 6 * * *", False)


@pytest.mark.slow  # trains four models and runs 50 nodes
@pytest.mark.django_db(transaction=True)
def test_every_builtin_template_runs_green_on_the_demo_workspace(worker, tmp_path) -> None:
    with override_settings(DATAGRAN={**settings.DATAGRAN, "SQLITE_ROOT": str(tmp_path)}):
        # The demo has a HubSpot connection (dry run only) and a SQLite database.
        user, workspace, _ = demo_setup()
        client = token_client(user)
        pipelines, runs = {}, {}
        for slug in BUILTINS:
            created = instantiate(client, slug)
            assert created.status_code == 201, (slug, created.json())
            pipelines[slug] = created.json()["id"]
            started = client.post(f"/api/pipelines/{pipelines[slug]}/runs/", {},
                                  format="json")
            assert started.status_code == 201, started.json()
            runs[slug] = started.json()["id"]
        for slug, run_id in runs.items():
            run = wait_for_run(run_id, timeout=240)
            failed = NodeRun.objects.filter(run=run).exclude(status="succeeded")
            assert run.status == "succeeded", (slug, [(n.node_id, n.error) for n in failed])

        def rows(slug: str, node_id: str) -> int:
            return NodeRun.objects.get(run_id=runs[slug], node_id=node_id).rows_out

        # Churn → HubSpot: the 100 most likely leavers, shown as a dry run.
        assert rows("churn-crm", "crm") == min(100, rows("churn-crm", "likely")) > 0
        # RFM: four segments at most, e-mailed as a dry run: no e-mail left.
        assert 1 <= rows("rfm-email", "summary") <= 4 and rows("rfm-email", "email") > 0
        assert mail.outbox == []
        assert rows("rfm-email", "export") == rows("rfm-email", "rfm") > 1000
        # Lead scoring: at most 100 leads, none of them a top spender already.
        assert 0 < rows("lead-scoring", "export") <= 100
        assert rows("customer-segments", "profile") == 4
        assert rows("customer-segments", "export_members") == 2000
        assert rows("demand-forecast", "predict") == rows("demand-forecast", "daily") > 300
        assert rows("data-quality", "export_summary") == 1
        assert 0 < rows("data-quality", "export_problems") < 2000  # ~3% miss their spend
        # The SQL export showed every customer's row and wrote nothing (dry run).
        assert rows("sql-export", "write") == rows("sql-export", "rfm") > 1000
        written = tmp_path / "demo_warehouse.sqlite"
        if written.exists():
            with sqlite3.connect(written) as con:
                tables = con.execute("SELECT name FROM sqlite_master").fetchall()
            assert ("customer_rfm",) not in tables
        assert not SendLog.objects.exists()
        # The webhook-triggered scoring starts from its webhook URL, as another system would.
        hook = client.post(f"/api/pipelines/{pipelines['webhook-scoring']}/webhook/")
        assert hook.status_code == 201, hook.json()
        called = APIClient().post(hook.json()["url"].replace("http://testserver", ""))
        assert called.status_code == 201, called.json()
        by_hook = wait_for_run(called.json()["id"], timeout=120)
        assert (by_hook.status, by_hook.trigger) == ("succeeded", "webhook")
        assert NodeRun.objects.get(run=by_hook, node_id="export").rows_out == 2000


@pytest.mark.parametrize(("change", "problem"), [
    (lambda t: t.update(slug="other"), "its slug must be its file name"),
    (lambda t: t.update(needs=["none"]), "differ from the graph's connection placeholders"),
    (lambda t: t.update(needs=["telepathy"]), "needs must be"),
    (lambda t: t.update(name=""), "name must be text of 1 to 200 characters"),
    (lambda t: t.update(trigger={"kind": "cron"}), "trigger must be"),
    (lambda t: t.update(trigger={"kind": "schedule", "cron": "0 25 * * *"}), "trigger's cron"),
    (lambda t: t.update(graph=[]), "malformed"),
    (lambda t: t["graph"]["nodes"].append({"id": "bad id!", "operator": "x"}), "malformed"),
])
def test_a_broken_template_file_is_refused_naming_the_file_and_the_problem(
        tmp_path, change, problem) -> None:
    template = json.loads((TEMPLATES_DIR / "churn-crm.json").read_text())
    change(template)
    path = tmp_path / "churn-crm.json"
    path.write_text(json.dumps(template))
    with pytest.raises(ImproperlyConfigured, match="churn-crm.json") as raised:
        _load(path)
    assert problem in str(raised.value)


# --- a workspace's own templates ---------------------------------------------------------------

def upload(client: APIClient, name: str, text: str) -> dict[str, Any]:
    fh = io.BytesIO(text.encode())
    fh.name = name
    response = client.post("/api/datasets/", {"file": fh, "name": name}, format="multipart")
    assert response.status_code == 201, response.json()
    return response.json()


def upload_pipeline(client: APIClient, dataset_id: str, name: str = "Sales report") -> Any:
    graph = {"nodes": [node("sales", "connector.upload", dataset=dataset_id),
                       node("export", "action.export_file", format="csv", filename="sales")],
             "edges": [edge("sales", "table", "export", "table")]}
    graph["nodes"][1]["position"] = {"x": 260, "y": 0}
    created = client.post("/api/pipelines/", {"name": name, "graph": graph}, format="json")
    assert created.status_code == 201, created.json()
    return created.json()


@pytest.mark.django_db
def test_a_pipeline_saved_as_a_template_is_listed_made_anew_and_deleted(api, user) -> None:
    first = upload(api, "sales.csv", "region,amount\nnorth,1\nsouth,2\n")
    pipeline = upload_pipeline(api, first["id"])
    saved = api.post(f"/api/pipelines/{pipeline['id']}/template/",
                     {"name": "Weekly sales", "description": "Sales, exported."}, format="json")
    assert saved.status_code == 201, saved.json()
    template = saved.json()
    assert (template["kind"], template["name"], template["description"]) == (
        "workspace", "Weekly sales", "Sales, exported.")
    assert template["datasets"] == ["sales.csv"] and template["needs"] == []
    assert template["created_by"] == "alice"
    assert [n["id"] for n in template["graph"]["nodes"]] == ["sales", "export"]
    listed = api.get("/api/templates/").json()
    assert [t["id"] for t in listed if t["kind"] == "workspace"] == [template["id"]]
    assert AuditEntry.objects.filter(action="template.save", target="Weekly sales").exists()

    made = api.post(f"/api/templates/{template['id']}/instantiate/", {"name": "Sales Q3"},
                    format="json")
    assert made.status_code == 201, made.json()
    assert made.json()["graph"]["nodes"][0]["params"]["dataset"] == first["id"]
    # A newer version of the upload: the next pipeline made from the template reads it.
    second = upload(api, "sales.csv", "region,amount\nnorth,1\nsouth,2\neast,3\n")
    assert second["id"] != first["id"]
    newer = api.post(f"/api/templates/{template['id']}/instantiate/", {}, format="json").json()
    assert newer["graph"]["nodes"][0]["params"]["dataset"] == second["id"]
    assert newer["name"] == "Weekly sales" and newer["description"] == "Sales, exported."

    deleted = api.delete(f"/api/templates/{template['id']}/")
    assert deleted.status_code == 204
    assert [t for t in api.get("/api/templates/").json() if t["kind"] == "workspace"] == []
    assert AuditEntry.objects.filter(action="template.delete", target="Weekly sales").exists()
    # The pipelines made from it stay.
    assert Pipeline.objects.filter(name__in=["Sales Q3", "Weekly sales"]).count() == 2


@pytest.mark.django_db
def test_a_template_named_after_a_pipeline_by_default_and_drawn_from_its_graph(api) -> None:
    pipeline = instantiate(api, "customer-segments").json()
    saved = api.post(f"/api/pipelines/{pipeline['id']}/template/", {}, format="json")
    assert saved.status_code == 201, saved.json()
    assert saved.json()["name"] == pipeline["name"]
    assert saved.json()["description"] == pipeline["description"]
    assert saved.json()["graph"]["edges"][0] == {"source": "customers", "target": "clusters"}


# --- refusals: each a 4xx naming the field and the limit, nothing written ------------------------

@pytest.fixture
def alices(api, user) -> dict[str, Any]:
    """Alice's pipeline and its workspace template."""
    pipeline = instantiate(api, "data-quality").json()
    template = api.post(f"/api/pipelines/{pipeline['id']}/template/", {}, format="json").json()
    return {"pipeline": pipeline, "template": template}


def counts() -> tuple[int, int]:
    return Pipeline.objects.count(), WorkspaceTemplate.objects.count()


@pytest.mark.django_db
def test_another_workspaces_pipelines_and_templates_are_not_found(alices, other_api) -> None:
    before = counts()
    template, pipeline = alices["template"]["id"], alices["pipeline"]["id"]
    refused(other_api.post(f"/api/templates/{template}/instantiate/", {}, format="json"), 404,
            "", "Template not found")
    refused(other_api.delete(f"/api/templates/{template}/"), 404, "", "Template not found")
    refused(other_api.post(f"/api/pipelines/{pipeline}/template/", {}, format="json"), 404, "",
            "Pipeline not found")
    refused(other_api.post("/api/templates/no-such-template/instantiate/", {}, format="json"),
            404, "")
    assert [t["kind"] for t in other_api.get("/api/templates/").json()] == ["builtin"] * len(
        BUILTINS)
    assert counts() == before


@pytest.mark.django_db
def test_names_and_descriptions_past_their_limits_are_refused(api, alices) -> None:
    before = counts()
    pipeline, template = alices["pipeline"]["id"], alices["template"]["id"]
    for url in (f"/api/pipelines/{pipeline}/template/", f"/api/templates/{template}/instantiate/",
                "/api/templates/rfm-email/instantiate/"):
        refused(api.post(url, {"name": "n" * 201}, format="json"), 400, "name", "200")
        refused(api.post(url, {"description": "d" * 10_001}, format="json"), 400,
                "description", "10000")
        refused(api.post(url, {"name": "   "}, format="json"), 400, "name")
        refused(api.post(url, {"name": "a\x00b"}, format="json"), 400, "", "name", "NUL")
    assert counts() == before


@pytest.mark.django_db
def test_the_templates_of_a_workspace_are_limited(api, user, alices) -> None:
    workspace = user.personal_workspace
    WorkspaceTemplate.objects.bulk_create(
        WorkspaceTemplate(workspace=workspace, name=f"T{i}", graph={"nodes": [], "edges": []})
        for i in range(MAX_WORKSPACE_TEMPLATES - 1))
    assert WorkspaceTemplate.objects.count() == MAX_WORKSPACE_TEMPLATES
    body = refused(api.post(f"/api/pipelines/{alices['pipeline']['id']}/template/", {},
                            format="json"), 400, "workspace", "at most 200 templates")
    assert "delete one first" in body["message"]
    assert WorkspaceTemplate.objects.count() == MAX_WORKSPACE_TEMPLATES
    assert not AuditEntry.objects.filter(action="template.save").exclude(
        target=alices["template"]["name"]).exists()


@pytest.mark.django_db
def test_an_empty_pipeline_is_no_template(api) -> None:
    empty = api.post("/api/pipelines/", {"name": "Empty"}, format="json").json()
    refused(api.post(f"/api/pipelines/{empty['id']}/template/", {}, format="json"), 400,
            "graph", "no nodes")
    assert WorkspaceTemplate.objects.count() == 0


@pytest.mark.django_db
def test_a_builtin_template_cannot_be_deleted(api) -> None:
    refused(api.delete("/api/templates/churn-crm/"), 400, "template", "built-in")
    assert "churn-crm" in [t["id"] for t in api.get("/api/templates/").json()]


@pytest.mark.django_db
def test_a_viewer_lists_templates_but_makes_saves_and_deletes_none(api, user, other_user,
                                                                     other_api, alices) -> None:
    membership_add(workspace=user.personal_workspace, user=other_user, role="viewer")
    workspace = str(user.personal_workspace.pk)
    before = counts()
    listed = other_api.get(f"/api/templates/?workspace={workspace}").json()
    assert alices["template"]["id"] in [t["id"] for t in listed]
    refused(other_api.post(f"/api/templates/{alices['template']['id']}/instantiate/", {},
                           format="json"), 403, "", "editor")
    refused(other_api.post("/api/templates/rfm-email/instantiate/", {"workspace": workspace},
                           format="json"), 403, "", "editor")
    refused(other_api.post(f"/api/pipelines/{alices['pipeline']['id']}/template/", {},
                           format="json"), 403, "", "editor")
    refused(other_api.delete(f"/api/templates/{alices['template']['id']}/"), 403, "", "editor")
    assert counts() == before


@pytest.mark.django_db
def test_a_workspace_template_makes_pipelines_in_its_own_workspace_only(api, user,
                                                                         alices) -> None:
    team = workspace_create(name="Team", owner=user)
    before = counts()
    refused(api.post(f"/api/templates/{alices['template']['id']}/instantiate/",
                     {"workspace": str(team.pk)}, format="json"), 400, "workspace")
    assert counts() == before
    # A built-in goes wherever its caller is an editor.
    made = instantiate(api, "rfm-email", workspace=str(team.pk))
    assert made.status_code == 201 and made.json()["workspace"] == str(team.pk)


@pytest.mark.django_db
def test_a_missing_connection_is_refused_naming_what_the_template_needs(api, user, other_user
                                                                         ) -> None:
    refused(instantiate(api, "churn-crm"), 400, "connections.hubspot", "HubSpot",
            "add one under Connections")
    refused(instantiate(api, "sql-export"), 400, "connections.sql", "SQL database")
    # Another workspace's connection, a malformed id, a connection of another kind.
    theirs = hubspot(other_user.personal_workspace, other_user)
    mine_sql = sqlite_db(user.personal_workspace, user, ":memory:")
    for chosen in (str(theirs.pk), "not-an-id", str(mine_sql.pk)):
        refused(instantiate(api, "churn-crm", connections={"hubspot": chosen}), 400,
                "connections.hubspot", "no HubSpot connection with this id")
    # A need the template does not have; more choices than any template could need.
    refused(instantiate(api, "rfm-email", connections={"salesforce": str(theirs.pk)}), 400,
            "connections.salesforce")
    refused(instantiate(api, "churn-crm", connections={f"k{i}": "x" for i in range(21)}), 400,
            "connections", "at most 20")
    refused(instantiate(api, "churn-crm", connections=["hubspot"]), 400, "connections")
    assert Pipeline.objects.count() == 0


@pytest.mark.django_db
def test_with_several_connections_of_a_kind_the_caller_chooses(api, user) -> None:
    workspace = user.personal_workspace
    hubspot(workspace, user, "CRM EU")
    chosen = hubspot(workspace, user, "CRM US")
    refused(instantiate(api, "churn-crm"), 400, "connections.hubspot", "2 HubSpot",
            "choose one")
    assert Pipeline.objects.count() == 0
    made = instantiate(api, "churn-crm", connections={"hubspot": str(chosen.pk)})
    assert made.status_code == 201, made.json()
    crm = next(n for n in made.json()["graph"]["nodes"] if n["id"] == "crm")
    assert crm["params"]["connection"] == str(chosen.pk)


@pytest.mark.django_db
def test_a_template_whose_upload_is_gone_is_refused_naming_the_dataset(api) -> None:
    sales = upload(api, "sales.csv", "region,amount\nnorth,1\n")
    pipeline = upload_pipeline(api, sales["id"])
    template = api.post(f"/api/pipelines/{pipeline['id']}/template/", {}, format="json").json()
    assert api.delete(f"/api/pipelines/{pipeline['id']}/").status_code == 204
    # The template holds the dataset by name, so deleting the dataset is allowed...
    assert api.delete(f"/api/datasets/{sales['id']}/").status_code == 200
    assert not Dataset.objects.exists()
    # ... and making a pipeline from the template then says what to upload.
    refused(api.post(f"/api/templates/{template['id']}/instantiate/", {}, format="json"), 400,
            "datasets", "'sales.csv'", "upload it")
    assert Pipeline.objects.count() == 0


@pytest.mark.django_db
def test_a_template_whose_graph_or_connection_went_bad_is_refused_naming_the_node(
        api, user) -> None:
    workspace = user.personal_workspace
    crm = hubspot(workspace, user)
    pipeline = instantiate(api, "churn-crm").json()
    template = api.post(f"/api/pipelines/{pipeline['id']}/template/", {}, format="json").json()
    assert api.delete(f"/api/pipelines/{pipeline['id']}/").status_code == 204
    crm.delete()
    body = refused(api.post(f"/api/templates/{template['id']}/instantiate/", {},
                            format="json"), 400, "connection", "connection")
    assert body["extra"]["errors"][0]["node"] == "crm"
    # A graph broken in the database (an operator removed since) goes through the same checks
    # as any save.
    WorkspaceTemplate.objects.filter(pk=template["id"]).update(graph={
        "nodes": [node("x", "nope.gone")], "edges": []})
    body = refused(api.post(f"/api/templates/{template['id']}/instantiate/", {},
                            format="json"), 400, "")
    assert body["extra"]["errors"][0]["node"] == "x"
    assert Pipeline.objects.count() == 0


@pytest.mark.django_db
def test_a_pipeline_whose_graph_no_longer_validates_is_not_saved_as_a_template(api) -> None:
    pipeline = instantiate(api, "data-quality").json()
    # An operator removed since the pipeline was saved (a plugin uninstalled, say).
    version = Pipeline.objects.get(pk=pipeline["id"]).current_version
    version.graph = {**version.graph, "nodes": [*version.graph["nodes"],
                                                node("gone", "plugin.uninstalled")]}
    version.save(update_fields=["graph"])
    body = refused(api.post(f"/api/pipelines/{pipeline['id']}/template/", {}, format="json"),
                   400, "", "The pipeline graph is invalid")
    assert [e["node"] for e in body["extra"]["errors"]] == ["gone"]
    assert WorkspaceTemplate.objects.count() == 0
    assert not AuditEntry.objects.filter(action="template.save").exists()
