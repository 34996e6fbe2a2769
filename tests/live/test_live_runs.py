"""The whole slice through real servers: save a pipeline over HTTP, run it on real workers,
read its events from the real websocket, download the result, and check that the classifier
predicts exactly what the same scikit-learn code predicts in a plain script.

embedded: daphne with the in-process worker threads and SQLite (what `make run` serves).
redis / rabbitmq: daphne plus two `manage.py rundramatiq` processes, PostgreSQL, channels_redis.
"""
from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from operators.rowhash import row_hashes
from tests.graphs import classifier_graph
from tests.live.server import LiveServer
from tests.operators.test_train_classifier import by_hand

MODES = ["embedded", pytest.param("redis", marks=pytest.mark.services),
         pytest.param("rabbitmq", marks=pytest.mark.services)]


@pytest.fixture(scope="module", params=MODES)
def server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with LiveServer(mode=request.param) as live:
        yield live


def collect_events(server: LiveServer, run_id: str, timeout: float = 120) -> list[dict]:
    """Every message of the run's websocket until the run is done."""
    messages = []
    with connect(f"{server.ws_url}/ws/runs/{run_id}/",
                 additional_headers={"Authorization": f"Token {server.token}"}) as ws:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            messages.append(message)
            run = message.get("run") or {}
            if run.get("status") in ("succeeded", "failed", "cancelled"):
                return messages
    raise AssertionError(f"run {run_id} did not finish; got {messages}")


def plain_script_predictions() -> np.ndarray:
    """The same model in a plain scikit-learn script, without Datagran, on the rows
    Datagran's split puts in test: per class, the 30% (rounded up) with the lowest stable
    row hash for seed 42 (operators.rowhash), in the table's order."""
    data = load_breast_cancer(as_frame=True)
    X = data.data
    y = pd.Series(np.asarray(data.target_names)[data.target])
    hashes = row_hashes(X.assign(target=y), 42)
    last = hashes.groupby(y).transform(lambda h: sorted(h)[math.ceil(0.3 * len(h)) - 1])
    in_test = hashes <= last
    model = by_hand("random_forest", list(X.columns), [], seed=42)
    return model.fit(X[~in_test], y[~in_test]).predict(X[in_test])


def test_a_pipeline_saved_over_http_runs_on_workers_and_streams_ordered_events(
        server: LiveServer) -> None:
    graph = classifier_graph(dataset="breast_cancer")
    pipeline = server.api("POST", "/api/pipelines/", {"name": "Cancer", "graph": graph})
    run = server.api("POST", f"/api/pipelines/{pipeline['id']}/runs/")
    messages = collect_events(server, run["id"])

    assert messages[0]["type"] == "snapshot" and messages[0]["run"]["id"] == run["id"]
    seqs = [m["seq"] for m in messages]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs
    node_states: dict[str, list[str]] = {}
    for m in messages[0]["run"]["nodes"]:
        node_states[m["node_id"]] = [m["status"]]
    for m in messages[1:]:
        if m["type"] == "node":
            node_states[m["node"]["node_id"]].append(m["node"]["status"])
    assert set(node_states) == {"data", "split", "train", "predict", "export"}
    for node_id, states in node_states.items():
        assert states[-1] == "succeeded", (node_id, states)
        # Seen finishing live, or already finished when the socket's snapshot was taken.
        assert "running" in states or states == ["succeeded"], (node_id, states)
    assert "running" in node_states["export"], "the last node must be watched live"
    assert messages[-1]["run"]["status"] == "succeeded"

    status, content = server.request(
        "GET", f"/api/runs/{run['id']}/nodes/predict/output/?format=csv")
    assert status == 200
    predictions = pd.read_csv(io.BytesIO(content))["prediction"].to_numpy()
    np.testing.assert_array_equal(predictions, plain_script_predictions())


def test_a_socket_stays_open_while_a_node_runs_for_seconds_without_news(
        server: LiveServer) -> None:
    # Nothing is published for 7 s while the slow node runs: longer than the 5 s an idle
    # Redis channel-layer receive blocks, which once closed the socket with an error.
    graph = {"nodes": [
        {"id": "data", "operator": "connector.sample_dataset", "params": {"dataset": "iris"}},
        {"id": "wait", "operator": "test.slow", "params": {"seconds": 7}}],
        "edges": [{"source": "data", "source_port": "table", "target": "wait",
                   "target_port": "table"}]}
    pipeline = server.api("POST", "/api/pipelines/", {"name": "Slow", "graph": graph})
    run = server.api("POST", f"/api/pipelines/{pipeline['id']}/runs/")
    messages = collect_events(server, run["id"])
    assert messages[-1]["run"]["status"] == "succeeded"
    assert any(m["type"] == "node" and m["node"]["node_id"] == "wait"
               and m["node"]["status"] == "succeeded" for m in messages)


def test_a_late_socket_gets_the_finished_run_as_its_snapshot(server: LiveServer) -> None:
    pipeline = server.api("GET", "/api/pipelines/")[0]
    run = server.api("POST", f"/api/pipelines/{pipeline['id']}/runs/")
    collect_events(server, run["id"])
    with connect(f"{server.ws_url}/ws/runs/{run['id']}/",
                 additional_headers={"Authorization": f"Token {server.token}"}) as ws:
        snapshot = json.loads(ws.recv(timeout=10))
    assert snapshot["type"] == "snapshot" and snapshot["run"]["status"] == "succeeded"
    assert snapshot["seq"] == snapshot["run"]["seq"]


def test_sockets_without_credentials_or_from_a_foreign_origin_are_refused(
        server: LiveServer) -> None:
    pipeline = server.api("GET", "/api/pipelines/")[0]
    run = server.api("POST", f"/api/pipelines/{pipeline['id']}/runs/")
    url = f"{server.ws_url}/ws/runs/{run['id']}/"
    with pytest.raises(InvalidStatus):
        with connect(url) as ws:
            ws.recv(timeout=5)
    with pytest.raises(InvalidStatus):
        with connect(url, additional_headers={"Authorization": "Token not-a-token"}) as ws:
            ws.recv(timeout=5)
    with pytest.raises(InvalidStatus):
        with connect(url, origin=Origin("http://evil.example"),
                     additional_headers={"Authorization": f"Token {server.token}"}) as ws:
            ws.recv(timeout=5)


def test_the_workspace_socket_shows_a_new_run_and_its_result(server: LiveServer) -> None:
    pipeline = server.api("GET", "/api/pipelines/")[0]
    url = f"{server.ws_url}/ws/workspaces/{pipeline['workspace']}/"
    with connect(url, additional_headers={"Authorization": f"Token {server.token}"}) as ws:
        run = server.api("POST", f"/api/pipelines/{pipeline['id']}/runs/")
        statuses = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "succeeded" not in statuses:
            message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message["run"]["id"] == run["id"]:
                statuses.append(message["run"]["status"])
    assert statuses[0] == "queued" and statuses[-1] == "succeeded"
    assert "running" in statuses


def test_a_pipeline_calling_a_pipeline_calling_a_pipeline_runs_on_the_workers(
        server: LiveServer) -> None:
    """Each called node runs as a node of the run, on whichever worker takes it."""
    from tests.api.test_subpipelines import TOP, call, caller_graph, edge, node
    from tests.live.server import wait_run

    top = server.api("POST", "/api/pipelines/", {"name": "Top spenders", "graph": TOP})
    pro = server.api("POST", "/api/pipelines/", {"name": "Top of the pro plan", "graph": {
        "nodes": [node("in", "pipeline.input", 0, name="customers"),
                  node("pro", "transform.filter_rows", 100, conditions=[
                      {"column": "plan", "op": "==", "value": "pro"}]),
                  call("spenders", top, how_many=4),
                  node("out", "pipeline.output", 400, name="top")],
        "edges": [edge("in", "table", "pro", "table"),
                  edge("pro", "table", "spenders", "customers"),
                  edge("spenders", "top", "out", "table")]}})
    report = server.api("POST", "/api/pipelines/", {"name": "Report",
                                                    "graph": caller_graph(pro)})
    run = server.api("POST", f"/api/pipelines/{report['id']}/runs/")
    done = wait_run(server, run["id"])
    assert done["status"] == "succeeded", done
    rows = {n["node_id"]: n["rows_out"] for n in done["nodes"]}
    assert set(rows) == {"src", "n7.pro", "n7.spenders.top", "ids"}
    assert rows["src"] == 2000 and 4 < rows["n7.pro"] < 2000  # the pro plan's customers
    assert rows["n7.spenders.top"] == rows["ids"] == 4  # the exposed param, set to 4
    assert {path: c["name"] for path, c in done["calls"].items()} == {
        "n7": "Top of the pro plan", "n7.spenders": "Top spenders"}
