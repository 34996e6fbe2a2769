"""Sticky notes and frames on the canvas (issue 20): saved with the pipeline but outside its
graph and hash. A note never makes a new version, never changes the current one and never
invalidates a cached output; hostile input is a 400 naming the field and its limit, and a
refusal writes nothing."""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from datagran.pipelines.annotations import MAX_ANNOTATIONS, MAX_TEXT
from datagran.pipelines.models import Pipeline, PipelineVersion
from datagran.runs.models import NodeRun
from datagran.workspaces.services import membership_add, workspace_create
from tests.conftest import token_client, wait_for_run
from tests.graphs import chain_graph, classifier_graph


def note(i: int = 1, **fields: Any) -> dict[str, Any]:
    return {"id": f"note-{i}", "kind": "note", "text": f"Note {i}",
            "position": {"x": 10.0 * i, "y": -20.0}, "size": {"width": 220.0, "height": 140.0},
            "color": "yellow", **fields}


def frame(i: int = 1, **fields: Any) -> dict[str, Any]:
    return {"id": f"frame-{i}", "kind": "frame", "text": "Training",
            "position": {"x": -40.0, "y": -60.0}, "size": {"width": 600.0, "height": 320.0},
            "color": "#10B981", **fields}


def create(api: APIClient, graph: dict | None = None, **fields: Any) -> dict[str, Any]:
    response = api.post("/api/pipelines/", {"name": "P", "graph": graph or chain_graph(),
                                            **fields}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def patch(api: APIClient, pipeline: dict, **body: Any):
    return api.patch(f"/api/pipelines/{pipeline['id']}/", body, format="json")


def refused(response) -> dict[str, Any]:
    assert response.status_code == 400, (response.status_code, response.content[:400])
    return response.json()


# --- saved and read -------------------------------------------------------------------------

@pytest.mark.django_db
def test_annotations_are_saved_and_read_with_the_pipeline(api) -> None:
    pipeline = create(api)
    assert pipeline["annotations"] == []
    saved = patch(api, pipeline, annotations=[frame(), note(1), note(2, text="")])
    assert saved.status_code == 200, saved.json()
    expected = [dict(frame(), color="#10b981"), note(1), note(2, text="")]
    assert saved.json()["annotations"] == expected
    assert api.get(f"/api/pipelines/{pipeline['id']}/").json()["annotations"] == expected
    [listed] = api.get("/api/pipelines/").json()
    assert listed["annotations"] == expected
    # A PATCH without annotations leaves them; an empty list removes them all.
    assert patch(api, pipeline, name="Renamed").json()["annotations"] == expected
    assert patch(api, pipeline, annotations=[]).json()["annotations"] == []
    assert Pipeline.objects.get().annotations == []


@pytest.mark.django_db
def test_a_pipeline_can_be_created_with_annotations(api) -> None:
    pipeline = create(api, annotations=[note()])
    assert pipeline["annotations"] == [note()]
    assert Pipeline.objects.get().annotations == [note()]


@pytest.mark.django_db
def test_the_text_is_kept_as_written(api) -> None:
    text = "  Two lines,\n  indented; ünïcødé ✓ and the limit's length " + "x" * (MAX_TEXT - 60)
    pipeline = create(api)
    saved = patch(api, pipeline, annotations=[note(text=text[:MAX_TEXT])]).json()
    assert saved["annotations"][0]["text"] == text[:MAX_TEXT]


# --- outside the graph and its hash ---------------------------------------------------------

@pytest.mark.django_db
def test_saving_only_annotations_makes_no_version_and_keeps_the_current_one(api) -> None:
    pipeline = create(api)
    url = f"/api/pipelines/{pipeline['id']}/"
    versions = api.get(f"{url}versions/").json()
    for i in range(3):
        saved = patch(api, pipeline, annotations=[note(i, text=f"edit {i}"), frame()]).json()
        assert saved["version"] == pipeline["version"]
        assert saved["graph"] == pipeline["graph"]
    # The editor's save sends the unchanged graph with the notes at times: no version either.
    saved = patch(api, pipeline, graph=pipeline["graph"], annotations=[note(9)]).json()
    assert saved["version"] == pipeline["version"]
    assert api.get(f"{url}versions/").json() == versions
    assert PipelineVersion.objects.count() == 1
    assert Pipeline.objects.get().current_version.hash == pipeline["version"]


@pytest.mark.django_db
def test_a_graph_change_and_annotations_in_one_patch(api) -> None:
    pipeline = create(api)
    graph = chain_graph()
    graph["nodes"][1]["params"]["columns"] = ["petal_width"]
    saved = patch(api, pipeline, graph=graph, annotations=[note()]).json()
    assert saved["version"] != pipeline["version"] and saved["annotations"] == [note()]
    assert PipelineVersion.objects.count() == 2


@pytest.mark.django_db
def test_an_annotation_inside_the_graph_is_refused(api) -> None:
    """The graph has no place for them: one sent in it is refused, not stored, not hashed."""
    pipeline = create(api)
    for graph in ({**chain_graph(), "annotations": [note()]},
                  {**chain_graph(), "nodes": [*chain_graph()["nodes"],
                                              {**note(), "operator": "note"}]}):
        body = refused(patch(api, pipeline, graph=graph))
        assert body["message"].startswith("The pipeline graph is invalid")
    assert PipelineVersion.objects.count() == 1
    assert Pipeline.objects.get().annotations == []


@pytest.mark.django_db
def test_a_refused_graph_writes_no_annotation(api) -> None:
    pipeline = create(api, annotations=[note()])
    bad = chain_graph()
    bad["nodes"][0]["operator"] = "nope.nope"
    refused(patch(api, pipeline, graph=bad, annotations=[frame()]))
    stored = Pipeline.objects.get()
    assert stored.annotations == [note()]
    assert stored.current_version.hash == pipeline["version"]


# --- hostile input --------------------------------------------------------------------------

BAD = {
    "too many": ([note(i) for i in range(MAX_ANNOTATIONS + 1)], "annotations",
                 "annotations: a pipeline holds at most 200 annotations; this one has 201."),
    "text too long": ([note(text="t" * (MAX_TEXT + 1))], "annotations.0.text",
                      "annotations.0.text: at most 5,000 characters; this one has 5,001."),
    "colour not in the palette": ([note(color="red")], "annotations.0.color",
                                  "annotations.0.color: one of yellow, orange, pink, purple, "
                                  "blue, green, gray, or #rrggbb; not 'red'."),
    "colour not hex": ([note(color="#12345g")], "annotations.0.color", None),
    "colour as CSS": ([note(color="url(javascript:alert(1))")], "annotations.0.color", None),
    "too wide": ([frame(size={"width": 20_001, "height": 300})], "annotations.0.size.width",
                 "annotations.0.size.width: between 20 and 20,000; this one is 20,001."),
    "too small": ([note(size={"width": 220, "height": 5})], "annotations.0.size.height",
                  "annotations.0.size.height: between 20 and 20,000; this one is 5."),
    "far away": ([note(position={"x": 1e12, "y": 0})], "annotations.0.position.x", None),
    "not a number": ([note(position={"x": "1", "y": 0})], "annotations.0.position.x", None),
    "a boolean": ([note(position={"x": True, "y": 0})], "annotations.0.position.x", None),
    "a position without y": ([note(position={"x": 1})], "annotations.0.position", None),
    "an id with a space": ([note(id="a b")], "annotations.0.id", None),
    "an id too long": ([note(id="x" * 65)], "annotations.0.id", None),
    "an id not a string": ([note(id=7)], "annotations.0.id", None),
    "two with one id": ([note(1), note(1)], "annotations.1.id",
                        "annotations.1.id: two annotations have the id 'note-1'."),
    "an unknown kind": ([note(kind="sticker")], "annotations.0.kind",
                        "annotations.0.kind: one of note, frame."),
    "an unknown field": ([note(onclick="x")], "annotations.0.onclick", None),
    "a missing field": ([{k: v for k, v in note().items() if k != "text"}],
                        "annotations.0.text", "annotations.0.text: required."),
    "text not a string": ([note(text=["a"])], "annotations.0.text", None),
    "not an object": (["note"], "annotations.0", None),
    "not a list": ({"id": "note-1"}, "annotations", "annotations: a list of annotations is "
                                                    "expected."),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(BAD))
def test_hostile_annotations_are_refused_naming_the_field_and_nothing_is_written(
        api, case) -> None:
    annotations, field, message = BAD[case]
    pipeline = create(api, annotations=[note(5)])
    before = Pipeline.objects.get()
    body = refused(patch(api, pipeline, name="Renamed", graph=classifier_graph(),
                         annotations=annotations))
    assert field in body["extra"]["fields"], body
    assert body["message"] == body["extra"]["fields"][field][0]
    assert body["message"].startswith(field + ":")
    if message:
        assert body["message"] == message
    after = Pipeline.objects.get()
    assert after.annotations == [note(5)]
    assert (after.name, after.current_version_id, after.updated_at) == (
        before.name, before.current_version_id, before.updated_at)
    assert PipelineVersion.objects.count() == 1
    # Refused on creation too: no pipeline is made.
    refused(api.post("/api/pipelines/", {"name": "Q", "graph": chain_graph(),
                                         "annotations": annotations}, format="json"))
    assert Pipeline.objects.count() == 1


@pytest.mark.django_db
def test_a_nul_character_is_refused_by_the_json_reader_naming_where(api) -> None:
    pipeline = create(api, annotations=[note(5)])
    body = refused(patch(api, pipeline, annotations=[note(text="a\x00b")]))
    assert "annotations.0.text" in body["message"] and "NUL" in body["message"]
    assert Pipeline.objects.get().annotations == [note(5)]


@pytest.mark.django_db
def test_an_unpaired_surrogate_is_refused(api) -> None:
    """Valid JSON (an escape), but no database can store it as text."""
    pipeline = create(api, annotations=[note(5)])
    raw = json.dumps({"annotations": [note(text="HERE")]}).replace("HERE", "a\\ud800b")
    body = refused(api.generic("PATCH", f"/api/pipelines/{pipeline['id']}/", raw,
                               content_type="application/json"))
    assert list(body["extra"]["fields"]) == ["annotations.0.text"]
    assert Pipeline.objects.get().annotations == [note(5)]


@pytest.mark.django_db
def test_every_problem_is_named_at_once(api) -> None:
    pipeline = create(api)
    body = refused(patch(api, pipeline, annotations=[note(1, color="red"),
                                                     note(2, text="t" * (MAX_TEXT + 1))]))
    assert set(body["extra"]["fields"]) == {"annotations.0.color", "annotations.1.text"}


@pytest.mark.django_db
def test_limits_hold_exactly(api) -> None:
    pipeline = create(api)
    many = [note(i, text="t" * MAX_TEXT, size={"width": 20, "height": 20_000},
                 position={"x": -1_000_000, "y": 1_000_000})
            for i in range(MAX_ANNOTATIONS)]
    saved = patch(api, pipeline, annotations=many)
    assert saved.status_code == 200, saved.json()
    assert len(Pipeline.objects.get().annotations) == MAX_ANNOTATIONS


# --- who may --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_viewer_cannot_change_annotations_and_a_stranger_cannot_see_them(
        api, user, other_user, other_api) -> None:
    team = workspace_create(name="Team", owner=user)
    pipeline = create(api, workspace=str(team.pk), annotations=[note()])
    assert patch(other_api, pipeline, annotations=[]).status_code == 404
    membership_add(workspace=team, user=other_user, role="viewer")
    viewer = token_client(other_user)
    assert viewer.get(f"/api/pipelines/{pipeline['id']}/").json()["annotations"] == [note()]
    assert patch(viewer, pipeline, annotations=[]).status_code == 403
    assert Pipeline.objects.get().annotations == [note()]


# --- the cache ------------------------------------------------------------------------------

def run_nodes(api: APIClient, pipeline_id: str) -> dict[str, NodeRun]:
    run = api.post(f"/api/pipelines/{pipeline_id}/runs/", {}, format="json").json()
    assert wait_for_run(run["id"]).status == "succeeded"
    return {n.node_id: n for n in NodeRun.objects.filter(run_id=run["id"])}


@pytest.mark.django_db(transaction=True)
def test_a_note_changed_between_runs_invalidates_no_cached_output(api, worker) -> None:
    pipeline = create(api, graph=classifier_graph())
    first = run_nodes(api, pipeline["id"])
    assert not any(n.cached for n in first.values())
    graph = copy.deepcopy(pipeline["graph"])
    saved = patch(api, pipeline, graph=graph, annotations=[note(text="why a forest"), frame()])
    assert saved.json()["version"] == pipeline["version"]
    plan = api.post(f"/api/pipelines/{pipeline['id']}/plan/", {}, format="json").json()["nodes"]
    assert plan == {"data": "cached", "split": "cached", "train": "cached",
                    "predict": "cached", "export": "run"}
    second = run_nodes(api, pipeline["id"])
    # Every cacheable node is a cache hit; the action always runs.
    assert {i for i, n in second.items() if n.cached} == {"data", "split", "train", "predict"}
    assert second["predict"].outputs == first["predict"].outputs
    assert PipelineVersion.objects.filter(pipeline_id=pipeline["id"]).count() == 1
