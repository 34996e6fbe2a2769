"""Runs executed by a real Dramatiq worker: statuses, outputs, failures, cancel, events."""
from __future__ import annotations

import hashlib
import io

import pandas as pd
import pytest

from datagran.runs.models import NodeRun, Run, RunEvent
from tests.conftest import wait_for_run
from tests.graphs import chain_graph, classifier_graph, edge, node

pytestmark = pytest.mark.django_db(transaction=True)


def start(api, graph) -> str:
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": graph}, format="json").json()
    response = api.post(f"/api/pipelines/{pipeline['id']}/runs/")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_a_run_succeeds_and_every_node_reports_rows_and_timings(api, worker) -> None:
    run_id = start(api, classifier_graph())
    assert wait_for_run(run_id).status == "succeeded"
    body = api.get(f"/api/runs/{run_id}/").json()
    nodes = {n["node_id"]: n for n in body["nodes"]}
    assert {n["status"] for n in nodes.values()} == {"succeeded"}
    assert nodes["data"]["rows_out"] == 150
    assert nodes["split"]["rows_out"] == 105 and nodes["predict"]["rows_out"] == 45
    assert all(n["started_at"] <= n["finished_at"] for n in nodes.values())
    assert body["trigger"] == "api"


def test_preview_shows_rows_schema_and_column_stats(api, worker) -> None:
    run_id = start(api, classifier_graph())
    wait_for_run(run_id)
    preview = api.get(f"/api/runs/{run_id}/nodes/data/preview/?limit=5").json()
    assert len(preview["rows"]) == 5 and preview["total_rows"] == 150
    stats = {s["name"]: s for s in preview["stats"]}
    assert stats["target"]["distinct"] == 3 and stats["target"]["nulls"] == 0
    assert stats["sepal_length"]["min"] == pytest.approx(4.3)
    metrics = api.get(f"/api/runs/{run_id}/nodes/train/preview/?port=metrics").json()
    assert [r[0] for r in metrics["rows"]] == ["train", "test"]


def test_outputs_download_as_csv_and_parquet_and_export_files(api, worker) -> None:
    run_id = start(api, classifier_graph())
    wait_for_run(run_id)
    csv = api.get(f"/api/runs/{run_id}/nodes/predict/output/?format=csv")
    frame = pd.read_csv(io.BytesIO(b"".join(csv.streaming_content)))  # streamed in batches
    assert len(frame) == 45 and "prediction" in frame.columns
    parquet = api.get(f"/api/runs/{run_id}/nodes/predict/output/?format=parquet")
    assert pd.read_parquet(io.BytesIO(b"".join(parquet.streaming_content))).equals(
        pd.read_parquet(io.BytesIO(b"".join(
            api.get(f"/api/runs/{run_id}/nodes/predict/output/?format=parquet"
                    ).streaming_content))))
    [file] = api.get(f"/api/runs/{run_id}/").json()["nodes"][-1]["files"]
    exported = api.get(file["url"])
    assert exported.status_code == 200
    assert pd.read_csv(io.BytesIO(b"".join(exported.streaming_content))).equals(frame)


def test_a_parquet_export_is_the_table_itself(api, worker) -> None:
    # Exported without a copy or a second hash: the stored table's file, under its digest.
    graph = classifier_graph()
    export = next(n for n in graph["nodes"] if n["id"] == "export")
    export["params"]["format"] = "parquet"
    run_id = start(api, graph)
    assert wait_for_run(run_id).status == "succeeded"
    nodes = {n["node_id"]: n for n in api.get(f"/api/runs/{run_id}/").json()["nodes"]}
    [file] = nodes["export"]["files"]
    assert file["name"] == "predictions.parquet"
    data = b"".join(api.get(file["url"]).streaming_content)
    table = b"".join(api.get(f"/api/runs/{run_id}/nodes/predict/output/?format=parquet"
                             ).streaming_content)
    assert data == table and file["size"] == len(data)
    [stored] = NodeRun.objects.get(run_id=run_id, node_id="export").files
    assert hashlib.sha256(data).hexdigest() == stored["hash"]
    assert pd.read_parquet(io.BytesIO(data))["prediction"].notna().all()


def test_bad_output_requests_are_clear_errors(api, worker) -> None:
    run_id = start(api, classifier_graph())
    wait_for_run(run_id)
    assert api.get(f"/api/runs/{run_id}/nodes/predict/output/?format=xls").status_code == 400
    response = api.get(f"/api/runs/{run_id}/nodes/train/preview/?port=model")
    assert response.status_code == 400 and "metrics" in response.json()["message"]
    assert api.get(f"/api/runs/{run_id}/nodes/nope/preview/").status_code == 404


def test_a_failing_node_fails_the_run_with_its_message_and_skips_its_descendants(
        api, worker) -> None:
    # Keep only one class, then train: the classifier must refuse, with a clear message.
    graph = classifier_graph()
    graph["nodes"].insert(1, node("only_setosa", "transform.filter_rows", conditions=[
        {"column": "target", "op": "==", "value": "setosa"}]))
    graph["nodes"][2]["params"]["stratify"] = None
    graph["edges"][0] = edge("data", "table", "only_setosa", "table")
    graph["edges"].append(edge("only_setosa", "table", "split", "table"))
    run_id = start(api, graph)
    run = wait_for_run(run_id)
    assert run.status == "failed"
    nodes = {n.node_id: n for n in NodeRun.objects.filter(run=run)}
    assert nodes["train"].status == "failed"
    assert "class" in nodes["train"].error
    assert nodes["predict"].status == nodes["export"].status == "skipped"
    assert run.error.startswith("Node train failed")


def test_cancelling_a_queued_run_cancels_every_open_node(api, transactional_db) -> None:
    run_id = start(api, chain_graph())  # no worker: it stays queued
    response = api.post(f"/api/runs/{run_id}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert set(NodeRun.objects.filter(run_id=run_id).values_list("status", flat=True)) == {
        "cancelled"}
    again = api.post(f"/api/runs/{run_id}/cancel/")
    assert again.status_code == 409


def test_events_are_numbered_one_by_one_and_end_with_the_run_result(api, worker) -> None:
    run_id = start(api, classifier_graph())
    run = wait_for_run(run_id)
    events = list(RunEvent.objects.filter(run=run).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, run.seq + 1))
    assert events[-1].type == "run" and events[-1].payload["run"]["status"] == "succeeded"
    per_node = [e.payload["node"]["status"] for e in events
                if e.type == "node" and e.payload["node"]["node_id"] == "train"]
    assert per_node == ["queued", "running", "succeeded"]


def test_a_message_delivered_twice_runs_the_node_once(api, worker) -> None:
    from datagran.runs.execution import node_execute

    run_id = start(api, chain_graph())
    run = wait_for_run(run_id)
    node_execute(run_id=run_id, node_id="a")  # a redelivery after success
    assert NodeRun.objects.get(run=run, node_id="a").attempts == 1
    assert Run.objects.get(pk=run_id).seq == run.seq


def test_runs_list_filters_by_pipeline_and_status(api, worker) -> None:
    run_id = start(api, chain_graph())
    wait_for_run(run_id)
    pipeline_id = Run.objects.get(pk=run_id).pipeline_id
    listed = api.get(f"/api/runs/?pipeline={pipeline_id}").json()["results"]
    assert [r["id"] for r in listed] == [run_id]
    assert listed[0]["rows_processed"] == 300 and listed[0]["duration_ms"] >= 0
    assert api.get("/api/runs/?status=failed").json()["results"] == []
    assert api.get("/api/runs/?status=succeeded").json()["results"][0]["id"] == run_id


def test_another_users_run_is_not_found(api, other_api, worker) -> None:
    run_id = start(api, chain_graph())
    wait_for_run(run_id)
    assert other_api.get(f"/api/runs/{run_id}/").status_code == 404
    assert other_api.post(f"/api/runs/{run_id}/cancel/").status_code == 404
    assert other_api.get(f"/api/runs/{run_id}/nodes/a/preview/").status_code == 404
