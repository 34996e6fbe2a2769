"""Online predictions through the production set-up (daphne, PostgreSQL, Redis, rundramatiq
workers) while the production alias moves: every request is answered, and the answers follow
the alias without a restart."""
from __future__ import annotations

import http.client
import json
import threading
import time

import pytest

from tests.live.server import LiveServer, pipeline_ids, start_run

CHURN = "Customer churn → CSV export"
pytestmark = pytest.mark.services


def test_no_prediction_fails_while_the_production_alias_moves() -> None:
    with LiveServer(mode="redis") as server:
        pipeline = pipeline_ids(server)[CHURN]
        first = start_run(server, pipeline)
        assert first["status"] == "succeeded"
        # A second version: another seed (a forced re-run would reproduce version 1).
        graph = server.api("GET", f"/api/pipelines/{pipeline}/")["graph"]
        next(n for n in graph["nodes"] if n["id"] == "train")["params"]["seed"] = 11
        server.api("PATCH", f"/api/pipelines/{pipeline}/", {"graph": graph})
        assert start_run(server, pipeline)["status"] == "succeeded"  # version 2
        status, body = server.request(
            "GET", f"/api/runs/{first['id']}/nodes/customers/preview/?limit=1")
        preview = json.loads(body)
        row = {c["name"]: v for c, v in zip(preview["columns"], preview["rows"][0],
                                             strict=True) if c["name"] != "churned"}
        model = next(m for m in server.api("GET", "/api/models/")
                     if m["name"] == f"{CHURN} / train")
        # The pipeline serves once a version is promoted.
        server.api("POST", f"/api/models/{model['id']}/aliases/",
                   {"alias": "production", "version": 2})

        answers: list[tuple[float, int, int | None]] = []
        stop = threading.Event()

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            headers = {"Authorization": f"Token {server.token}",
                       "Content-Type": "application/json"}
            while not stop.is_set():
                conn.request("POST", f"/api/pipelines/{pipeline}/predict",
                             json.dumps({"rows": [row]}), headers)
                response = conn.getresponse()
                data = json.loads(response.read())
                version = data["model"]["version"] if response.status == 200 else None
                answers.append((time.monotonic(), response.status, version))

        clients = [threading.Thread(target=client) for _ in range(3)]
        for thread in clients:
            thread.start()
        try:
            for version in (1, 2, 1):
                seen, deadline = len(answers), time.monotonic() + 10
                while len(answers) < seen + 20:  # requests keep coming around each move
                    assert time.monotonic() < deadline, "the clients stopped"
                    time.sleep(0.01)
                server.api("POST", f"/api/models/{model['id']}/aliases/",
                           {"alias": "production", "version": version})
                promoted = time.monotonic()
                deadline = promoted + 10
                while not any(t > promoted and v == version for t, _, v in answers[-20:]):
                    assert time.monotonic() < deadline, f"version {version} never served"
                    time.sleep(0.05)
        finally:
            stop.set()
            for thread in clients:
                thread.join()
        assert len(answers) >= 60
        assert {status for _, status, _ in answers} == {200}, [
            a for a in answers if a[1] != 200][:5]
