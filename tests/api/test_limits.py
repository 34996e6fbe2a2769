"""Size limits (issue 14, S9): a graph, a description, a label or a name beyond its limit is a
400 naming the field and the limit, and nothing is stored."""
from __future__ import annotations

import io
from typing import Any

import pytest

from datagran.core.exceptions import PermanentError
from datagran.datasets.models import Dataset
from datagran.engine.graph import MAX_EDGES, MAX_LABEL, MAX_NODES, MAX_PARAMS_CHARS
from datagran.pipelines.models import Pipeline
from datagran.workspaces.models import Invitation, Workspace
from datagran.workspaces.services import workspace_create
from tests.graphs import chain_graph, edge, node

pytestmark = pytest.mark.django_db


def refused(response) -> dict:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    return response.json()


def save(api, graph: dict, **fields: Any):
    return api.post("/api/pipelines/", {"name": "P", "graph": graph, **fields}, format="json")


def test_a_graph_with_more_nodes_or_edges_than_the_limit_is_refused(api) -> None:
    sources = [node(f"n{i}", "connector.sample_dataset", dataset="iris")
               for i in range(MAX_NODES + 1)]
    body = refused(save(api, {"nodes": sources, "edges": []}))
    [problem] = body["extra"]["errors"]
    assert problem["field"] == "nodes"
    assert problem["message"] == (
        "nodes: a pipeline holds at most 1,000 nodes; this one has 1,001.")
    edges = [edge("a", "table", "b", "table")] * (MAX_EDGES + 1)
    body = refused(save(api, {**chain_graph(), "edges": edges}))
    assert body["extra"]["errors"][0]["field"] == "edges"
    assert "at most 4,000 edges" in body["extra"]["errors"][0]["message"]
    assert not Pipeline.objects.exists()


@pytest.mark.parametrize("bad_id", ['a"b', "a\r\nb", "a b", "ä", "a/b", "x" * 65])
def test_a_node_id_outside_the_character_set_is_refused(api, bad_id) -> None:
    graph = chain_graph()
    graph["nodes"][1]["id"] = bad_id
    graph["edges"][0]["target"] = bad_id
    body = refused(save(api, graph))
    assert any(e["node"] == bad_id and e["field"].endswith("id")
               for e in body["extra"]["errors"]), body
    assert not Pipeline.objects.exists()


def test_the_ids_the_canvas_and_the_demo_make_are_accepted(api) -> None:
    graph = chain_graph()
    for old, new in (("a", "n1"), ("b", "data_2.v-1")):
        graph["nodes"] = [dict(n, id=new) if n["id"] == old else n for n in graph["nodes"]]
        graph["edges"] = [dict(e, **{k: new for k in ("source", "target") if e[k] == old})
                          for e in graph["edges"]]
    assert save(api, graph).status_code == 201


def test_a_label_and_params_beyond_their_limits_are_refused(api) -> None:
    graph = chain_graph()
    graph["nodes"][0]["label"] = "L" * (MAX_LABEL + 1)
    graph["nodes"][1]["params"]["columns"] = ["c" * MAX_PARAMS_CHARS]
    body = refused(save(api, graph))
    problems = {(e["node"], e["field"]): e["message"] for e in body["extra"]["errors"]}
    assert problems == {
        ("a", "label"): "label: at most 200 characters; this one has 201.",
        ("b", "params"): "params: at most 100,000 characters as JSON; these have 100,017."}
    graph["nodes"][0]["label"] = "L" * MAX_LABEL
    graph["nodes"][1]["params"]["columns"] = ["sepal_length"]
    assert save(api, graph).status_code == 201


def test_a_description_or_name_beyond_its_limit_is_refused_and_not_stored(api) -> None:
    body = refused(save(api, chain_graph(), description="d" * 10_001))
    assert body["extra"]["fields"] == {
        "description": ["Ensure this field has no more than 10000 characters."]}
    refused(save(api, chain_graph(), name="n" * 10_000))
    assert not Pipeline.objects.exists()
    pipeline = save(api, chain_graph(), description="d" * 10_000).json()
    renamed = api.patch(f"/api/pipelines/{pipeline['id']}/", {"name": "n" * 201},
                        format="json")
    assert "name" in refused(renamed)["extra"]["fields"]
    assert Pipeline.objects.get().name == "P"
    refused(api.post("/api/connections/", {"name": "c" * 10_000, "kind": "postgresql"},
                     format="json"))


def test_names_that_reach_a_column_without_a_serializer_keep_its_length(api, user) -> None:
    """The dataset name is a form field and the e-mail of an invitation passes Django's own
    check (at most 320 characters): the column's length is checked for every model."""
    upload = io.BytesIO(b"a,b\n1,2\n")
    upload.name = "data.csv"
    body = refused(api.post("/api/datasets/", {"file": upload, "name": "x" * 10_000 + ".csv"},
                            format="multipart"))
    assert body["message"] == "name: at most 255 characters; this one has 10,004."
    assert body["extra"]["fields"] == {"name": [body["message"]]}
    assert not Dataset.objects.exists()
    email = "m" * 250 + "@example.com"
    body = refused(api.post(f"/api/workspaces/{user.personal_workspace.pk}/invitations/",
                            {"email": email}, format="json"))
    assert body["message"].startswith("email: at most 254 characters")
    assert not Invitation.objects.exists()
    with pytest.raises(PermanentError, match="name: at most 200 characters"):
        workspace_create(name="w" * 201, owner=user)
    assert Workspace.objects.count() == 1  # the personal one


def test_an_operator_name_or_port_of_megabytes_is_refused_without_being_echoed(api) -> None:
    """A 2 MB operator name was echoed back whole in the error."""
    for change in ("operator", "port"):
        graph = chain_graph()
        if change == "operator":
            graph["nodes"][1]["operator"] = "x" * 2_000_000
        else:
            graph["edges"][0]["target_port"] = "p" * 2_000_000
        response = save(api, graph)
        assert response.status_code == 400
        assert len(response.content) < 5_000, len(response.content)
    assert not Pipeline.objects.exists()
