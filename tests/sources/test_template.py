"""The template pipeline "HubSpot contacts → churn model → HubSpot property update" as the
demo ships it: its graph validates with every column known before it runs, and it runs green
through the real engine against one local server speaking HubSpot's search and batch upsert
APIs (the contacts filled from the same sandbox records the demo reads), the contacts likely
to leave really getting their churn_risk; the next run fetches only what changed."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from datagran.pipelines.demo import DEMO_PIPELINES
from operators.connectors.hubspot import sandbox_contacts
from tests.conftest import wait_for_run
from tests.operators.fake_crm import FakeCRM
from tests.operators.local_http import JsonHandler, serve

from .fake_hubspot import FakeHubSpot

pytestmark = pytest.mark.django_db(transaction=True)

TEMPLATE = "HubSpot contacts → churn model → HubSpot property update"
TOKEN = "hs-token"


@contextmanager
def hubspot_server() -> Iterator[tuple[FakeHubSpot, FakeCRM]]:
    """One HubSpot: the search API (tests/sources/fake_hubspot.py) and the batch upsert API
    (tests/operators/fake_crm.py) on the same address, as api.hubapi.com has them."""
    search, crm = FakeHubSpot(TOKEN), FakeCRM(hubspot_token=TOKEN)

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            if self.path.endswith("/search"):
                search.handle(self)
            else:
                crm.handle(self, "POST")

    with serve(Handler) as url:
        search.url = crm.url = url
        yield search, crm


@pytest.fixture
def hubspot() -> Iterator[tuple[FakeHubSpot, FakeCRM]]:
    with hubspot_server() as (search, crm), override_settings(
            DATAGRAN={**settings.DATAGRAN, "URL_ALLOWLIST": ["127.0.0.1"]}):
        for contact in sandbox_contacts():
            search.put("contacts", contact["id"], **contact["properties"])
        yield search, crm


def template_graph(connection_id: str, *, dry_run: bool) -> dict[str, Any]:
    _description, graph = DEMO_PIPELINES[TEMPLATE]
    graph = json.loads(json.dumps(graph).replace("{hubspot}", connection_id))
    for n in graph["nodes"]:
        if n["id"] == "crm":
            n["params"]["dry_run"] = dry_run
    return graph


def create(api: Any, url: str, *, dry_run: bool = False) -> str:
    connection = api.post("/api/connections/", {
        "name": "Our HubSpot", "kind": "hubspot",
        "fields": {"base_url": url, "access_token": TOKEN}}, format="json").json()
    response = api.post("/api/pipelines/", {
        "name": TEMPLATE, "graph": template_graph(connection["id"], dry_run=dry_run)},
        format="json")
    assert response.status_code == 201, response.json()
    return str(response.json()["id"])


def run(api: Any, pipeline_id: str) -> dict[str, Any]:
    response = api.post(f"/api/pipelines/{pipeline_id}/runs/", {}, format="json")
    assert response.status_code == 201, response.json()
    wait_for_run(response.json()["id"], timeout=120)
    detail: dict[str, Any] = api.get(f"/api/runs/{response.json()['id']}/").json()
    return detail


def nodes(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["node_id"]: n for n in detail["nodes"]}


def test_the_template_validates_with_its_columns_known_before_it_runs(api: Any) -> None:
    pipeline_id = create(api, "https://api.hubapi.com")
    pipeline = api.get(f"/api/pipelines/{pipeline_id}/").json()
    answer = api.post(f"/api/pipelines/{pipeline_id}/validate/", {"graph": pipeline["graph"]},
                      format="json").json()
    assert answer["valid"] is True, answer["errors"]
    typed = {c["name"]: c["type"] for c in answer["schemas"]["typed"]["table"]}
    assert typed["tenure_months"] == "int" and typed["monthly_spend"] == "float"
    assert typed["churned"] == "str" and typed["email"] == "str"
    scored = [c["name"] for c in answer["schemas"]["likely"]["table"]]
    assert {"email", "prediction", "probability"} <= set(scored)


def test_the_template_runs_green_against_hubspot_and_updates_the_likely_contacts(
        api: Any, worker: Any, hubspot: tuple[FakeHubSpot, FakeCRM]) -> None:
    search, crm = hubspot
    pipeline_id = create(api, search.url)
    detail = run(api, pipeline_id)
    by_node = nodes(detail)
    assert detail["status"] == "succeeded", [(n["node_id"], n["error"])
                                             for n in detail["nodes"]]
    assert {n["status"] for n in by_node.values()} == {"succeeded"}
    # Every contact was read, page by page, through the search API.
    assert by_node["contacts"]["source"]["records"] == 2000
    assert by_node["contacts"]["source"]["pages"] == 20
    # The contacts likely to leave got their churn_risk in HubSpot, matched by e-mail.
    likely = by_node["likely"]["rows_out"]
    sent = crm.received["hubspot"]
    assert 0 < likely == len(sent) < 2000
    assert {r["idProperty"] for r in sent} == {"email"}
    assert all(0.5 <= float(r["properties"]["churn_risk"]) <= 1 for r in sent)
    emails = {c["properties"]["email"] for c in sandbox_contacts()}
    assert {r["id"] for r in sent} <= emails

    # The next run asks HubSpot only for what changed, and still scores every contact.
    search.put("contacts", "7", support_tickets="9")
    search.requests.clear()
    detail = run(api, pipeline_id)
    by_node = nodes(detail)
    assert detail["status"] == "succeeded"
    report = by_node["contacts"]["source"]
    assert (report["records"], report["new"], report["updated"]) == (1, 0, 1)
    assert len(search.requests) == 1
    assert by_node["contacts"]["rows_out"] == 2000  # the accumulated contacts
