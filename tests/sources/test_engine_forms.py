"""What a source's params form asks the API before the source runs: choices only the outside
system knows (POST /api/operators/{name}/options/) and a sample of the first rows (POST
/api/operators/{name}/sample/), whose columns the pipeline's validation then knows. Editors
of the workspace only; every refusal is a 4xx naming the field, never a 500, and nothing of
another workspace is reached."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from datagran.workspaces.services import membership_add, workspace_create
from tests.conftest import token_client
from tests.graphs import edge, node

from . import engine_ops

pytestmark = pytest.mark.django_db

OPTIONS = "/api/operators/test.changing_source/options/"
SAMPLE = "/api/operators/test.changing_source/sample/"


@pytest.fixture(autouse=True)
def records() -> Iterator[dict[str, list[dict[str, Any]]]]:
    engine_ops.RECORDS.clear()
    engine_ops.RECORDS["rows"] = [{"id": i, "updated": i, "plan": "pro", "spend": i * 1.5}
                                  for i in range(150)]
    engine_ops.RECORDS["other"] = []
    cache.clear()
    yield engine_ops.RECORDS
    engine_ops.RECORDS.clear()
    cache.clear()


def test_options_lists_what_the_source_offers(api: Any) -> None:
    response = api.post(OPTIONS, {"params": {"name": "rows"}, "field": "name"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"options": ["other", "rows"]}


def test_options_refusals_name_the_field(api: Any, caplog: pytest.LogCaptureFixture) -> None:
    def ask(body: Any, url: str = OPTIONS) -> Any:
        return api.post(url, body, format="json")

    unknown = ask({"params": {}, "field": "nope"})
    assert unknown.status_code == 400 and "field" in unknown.json()["extra"]["fields"]
    assert ask({"params": "rows", "field": "name"}).json()["extra"]["fields"].keys() == \
        {"params"}
    assert ask({"params": {}}).json()["extra"]["fields"].keys() == {"field"}
    assert ask({"params": {}, "field": "x" * 101}).status_code == 400
    # The operator's own refusal names its field.
    refused = ask({"params": {"name": "rows"}, "field": "output"})
    assert refused.status_code == 400 and "output" in refused.json()["extra"]["fields"]
    # A passing fault is a 503 with the operator's message.
    busy = ask({"params": {"name": "flaky"}, "field": "name"})
    assert busy.status_code == 503 and "busy" in busy.json()["message"]
    # An operator's crash is a 400 naming the operator, its text (a secret) kept out.
    with caplog.at_level(logging.ERROR):
        crashed = ask({"params": {"name": "crash"}, "field": "name"})
    assert crashed.status_code == 400 and "RuntimeError" in crashed.json()["message"]
    assert engine_ops.SECRET not in crashed.content.decode()
    # A source that looks nothing up says so; an unknown operator is a 404.
    hubspot = ask({"params": {}, "field": "properties"},
                  "/api/operators/connector.hubspot/options/")
    assert hubspot.status_code == 400 and "properties" in hubspot.json()["extra"]["fields"]
    assert ask({"params": {}, "field": "x"}, "/api/operators/nope.nope/options/"
               ).status_code == 404


def test_a_connection_of_another_workspace_is_never_reached(api: Any, other_user: Any
                                                            ) -> None:
    theirs = token_client(other_user).post("/api/connections/", {
        "name": "theirs", "kind": "webhook", "fields": {"url": "http://127.0.0.1:9/"}},
        format="json").json()
    for url, body in ((OPTIONS, {"params": {"name": "rows", "connection": theirs["id"]},
                                 "field": "name"}),
                      (SAMPLE, {"params": {"name": "rows", "connection": theirs["id"]}})):
        response = api.post(url, body, format="json")
        assert response.status_code == 400, response.json()
        assert "connection" in response.json()["extra"]["fields"]
        assert "theirs" not in response.content.decode()


def test_viewers_and_strangers_are_refused_before_the_body_is_read(
        api: Any, user: Any, other_user: Any) -> None:
    team = workspace_create(name="Team", owner=other_user)
    stranger = workspace_create(name="Elsewhere", owner=other_user)
    membership_add(workspace=team, user=user, role="viewer")
    for url in (OPTIONS, SAMPLE):
        viewer = api.post(url, {"workspace": str(team.pk), "params": "garbage"}, format="json")
        assert viewer.status_code == 403
        outside = api.post(url, {"workspace": str(stranger.pk)}, format="json")
        assert outside.status_code == 404
    assert token_client(other_user).post(
        SAMPLE, {"workspace": str(team.pk), "params": {"name": "rows"}},
        format="json").status_code == 200


def test_a_sample_shows_the_first_rows_and_the_pipeline_then_knows_its_columns(
        api: Any) -> None:
    def save(columns: list[str]) -> Any:
        graph = {"nodes": [node("src", "test.changing_source", name="rows"),
                           node("keep", "transform.select_columns", columns=columns)],
                 "edges": [edge("src", "table", "keep", "table")]}
        return api.post("/api/pipelines/", {"name": "P", "graph": graph}, format="json")

    # Before a sample, the source's columns are unknown: any column is accepted.
    assert save(["nope"]).status_code == 201
    response = api.post(SAMPLE, {"params": {"name": "rows"}}, format="json")
    assert response.status_code == 200, response.json()
    sample = response.json()
    assert sample["columns"] == [{"name": "id", "type": "int"}, {"name": "updated",
                                                                 "type": "int"},
                                 {"name": "plan", "type": "str"},
                                 {"name": "spend", "type": "float"}]
    assert len(sample["rows"]) == 100 and sample["rows"][1] == [1, 1, "pro", 1.5]
    # Now the canvas knows them: a missing column is refused by name, a real one accepted.
    refused = save(["id", "nope"])
    assert refused.status_code == 400 and "nope" in refused.json()["message"]
    assert save(["id", "plan"]).status_code == 201


def test_a_sample_with_bad_params_names_the_param(api: Any) -> None:
    response = api.post(SAMPLE, {"params": {"name": "x" * 41}}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["extra"]["fields"]
    assert api.post(SAMPLE, {"params": {"output": "everything"}}, format="json"
                    ).json()["extra"]["fields"].keys() == {"output"}


def test_the_catalogue_says_which_operators_offer_a_sample(api: Any) -> None:
    catalogue = {op["name"]: op for op in api.get("/api/operators/").json()}
    assert catalogue["test.changing_source"]["samples"] is True
    assert catalogue["connector.hubspot"]["samples"] is False
