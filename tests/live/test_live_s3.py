"""Production mode with the artifact store on S3: daphne, two `rundramatiq` worker processes,
Redis and PostgreSQL, and moto's S3 server on loopback. Every artifact of a run lands in the
bucket, none in the local folder; downloads over HTTP stream from the bucket; gc_artifacts
run as a command keeps what the run needs."""
from __future__ import annotations

import hashlib
import io
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.graphs import classifier_graph
from tests.live.server import LiveServer
from tests.s3 import S3Server, s3_server  # noqa: F401  (the session's S3 server fixture)

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def live(s3_server: S3Server) -> Iterator[tuple[LiveServer, str]]:  # noqa: F811
    prefix = f"live-{uuid.uuid4().hex[:10]}"
    env = {**s3_server.env(), "DATAGRAN_ARTIFACTS_URL": f"s3://{s3_server.bucket}/{prefix}"}
    with LiveServer(mode="redis", extra_env=env) as server:
        yield server, prefix


def finished(server: LiveServer, run_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = server.api("GET", f"/api/runs/{run_id}/")
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish: {run['status']}")


def stored_keys(server: LiveServer, prefix: str, run_id: str) -> set[str]:
    """The S3 keys of every output and file of a run, as its rows in the database say."""
    import psycopg

    with psycopg.connect(server.env["DATABASE_URL"]) as conn:
        rows = conn.execute("SELECT outputs, files FROM runs_noderun WHERE run_id = %s",
                            [run_id]).fetchall()
    return ({key(prefix, ref) for outputs, _ in rows for ref in outputs.values()}
            | {key(prefix, {"hash": f["hash"]}) for _, files in rows for f in files})


def key(prefix: str, ref: dict) -> str:
    folder, suffix = {"table": ("tables", ".parquet"), "model": ("models", ".skops")}.get(
        ref.get("kind", "file"), ("files", ".bin"))
    return f"{prefix}/{folder}/{ref['hash'][:2]}/{ref['hash']}{suffix}"


def test_a_run_on_workers_keeps_every_artifact_in_s3(
        live: tuple[LiveServer, str], s3_server: S3Server) -> None:  # noqa: F811
    server, prefix = live
    pipeline = server.api("POST", "/api/pipelines/", {"name": "Iris",
                                                      "graph": classifier_graph()})
    run = finished(server, server.api("POST", f"/api/pipelines/{pipeline['id']}/runs/")["id"])
    assert run["status"] == "succeeded", run
    wanted = stored_keys(server, prefix, run["id"])
    assert len(wanted) >= 8 and wanted <= set(s3_server.keys(prefix))
    local = Path(server.tmp.name) / "artifacts"
    assert not local.exists() or not any(p.is_file() for p in local.rglob("*"))

    status, body = server.request(
        "GET", f"/api/runs/{run['id']}/nodes/predict/output/?format=parquet")
    # Content addressing: the download's SHA-256 names the object it came from.
    digest = hashlib.sha256(body).hexdigest()
    assert status == 200 and key(prefix, {"kind": "table", "hash": digest}) in wanted
    assert len(pd.read_parquet(io.BytesIO(body))) == 45

    report = server.manage("gc_artifacts", "--unreferenced")
    assert "deleted" in report
    assert wanted <= set(s3_server.keys(prefix)), "gc deleted what a kept run needs"
