"""Whole runs with the artifact store on S3 (moto's server on loopback): every output, model
and file goes to the bucket, downloads stream from it, cache hits mark what they reuse, and
gc_artifacts keeps what registered models, datasets and kept runs need."""
from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from django.core.management import call_command
from django.utils import timezone

from datagran.datasets.artifacts import ArtifactStore, artifact_store
from datagran.datasets.models import Dataset
from datagran.registry.models import ModelVersion
from datagran.runs.models import NodeRun, Run
from tests.conftest import wait_for_run
from tests.graphs import classifier_graph
from tests.s3 import S3Server

pytestmark = pytest.mark.django_db(transaction=True)


def run(api: Any, pipeline_id: str, **body: Any) -> str:
    run_id = api.post(f"/api/pipelines/{pipeline_id}/runs/", body, format="json").json()["id"]
    assert wait_for_run(run_id).status == "succeeded", api.get(f"/api/runs/{run_id}/").json()
    return run_id


def pipeline(api: Any) -> str:
    return api.post("/api/pipelines/", {"name": "Iris", "graph": classifier_graph()},
                    format="json").json()["id"]


def stored_keys(prefix: str, node: NodeRun) -> set[str]:
    """The S3 keys of every output and written file of a node."""
    refs = list(node.outputs.values()) + [{"kind": "file", "hash": f["hash"]}
                                          for f in node.files]
    return {f"{prefix}/{ArtifactStore.key(r.get('kind', 'file'), r['hash'])}" for r in refs}


def s3_object(s3: S3Server, key: str) -> bytes:
    return s3.client().get_object(Bucket=s3.bucket, Key=key)["Body"].read()


def test_a_run_stores_every_artifact_in_s3_and_downloads_stream_from_it(
        api: Any, worker: Any, s3_server: S3Server, s3_prefix: str) -> None:
    run_id = run(api, pipeline(api))
    nodes = {n.node_id: n for n in NodeRun.objects.filter(run_id=run_id)}
    in_bucket = s3_server.keys(s3_prefix)
    for node in nodes.values():
        assert stored_keys(s3_prefix, node) <= set(in_bucket), node.node_id
    assert "_state" in nodes["train"].outputs and nodes["export"].files

    predict = nodes["predict"].outputs["table"]
    response = api.get(f"/api/runs/{run_id}/nodes/predict/output/?format=parquet")
    assert response.status_code == 200 and response.streaming
    body = b"".join(response.streaming_content)
    assert body == s3_object(s3_server, f"{s3_prefix}/tables/{predict['hash'][:2]}/"
                                        f"{predict['hash']}.parquet")
    assert int(response["Content-Length"]) == len(body)
    assert len(pd.read_parquet(io.BytesIO(body))) == 45

    csv = api.get(f"/api/runs/{run_id}/nodes/predict/output/?format=csv")
    assert len(pd.read_csv(io.BytesIO(b"".join(csv.streaming_content)))) == 45
    [file] = api.get(f"/api/runs/{run_id}/").json()["nodes"][-1]["files"]
    exported = api.get(file["url"])
    assert exported.status_code == 200
    file_hash = nodes["export"].files[0]["hash"]
    assert b"".join(exported.streaming_content) == s3_object(
        s3_server, f"{s3_prefix}/files/{file_hash[:2]}/{file_hash}.bin")

    model = api.get("/api/models/").json()[0]
    download = api.get(f"/api/models/{model['id']}/versions/1/download/")
    model_hash = ModelVersion.objects.get().model_hash
    assert b"".join(download.streaming_content) == s3_object(
        s3_server, f"{s3_prefix}/models/{model_hash[:2]}/{model_hash}.skops")


def test_a_cached_rerun_reads_s3_and_marks_what_it_reused(
        api: Any, worker: Any, s3_server: S3Server, s3_prefix: str) -> None:
    pipeline_id = pipeline(api)
    run(api, pipeline_id)
    again = run(api, pipeline_id)
    cached = NodeRun.objects.filter(run_id=again, cached=True)
    assert {n.node_id for n in cached} == {"data", "split", "train", "predict"}
    markers = {k for k in s3_server.keys(f"{s3_prefix}/last-used/")}
    for node in cached:
        assert {k.replace(s3_prefix, f"{s3_prefix}/last-used", 1)
                for k in stored_keys(s3_prefix, node)} <= markers


def test_gc_on_s3_keeps_what_is_needed_and_removes_the_rest(
        api: Any, worker: Any, s3_server: S3Server, s3_prefix: str) -> None:
    pipeline_id = pipeline(api)
    old = run(api, pipeline_id)
    graph = classifier_graph()
    graph["nodes"][1]["params"]["test_size"] = 0.25  # the old split is no longer anyone's
    api.put(f"/api/pipelines/{pipeline_id}/", {"name": "Iris", "graph": graph}, format="json")
    latest = run(api, pipeline_id)
    ModelVersion.objects.filter(run_id=old).delete()  # nothing but age protects the old run
    Run.objects.filter(pk=old).update(created_at=timezone.now() - timedelta(days=90))
    upload = io.BytesIO(b"k\n1\n")
    upload.name = "d.csv"
    dataset = api.post("/api/datasets/", {"file": upload}, format="multipart").json()
    store = artifact_store()
    old_only = ({r["hash"] for r in NodeRun.objects.get(run_id=old, node_id="split")
                 .outputs.values()}
                - {r["hash"] for r in NodeRun.objects.get(run_id=latest, node_id="split")
                   .outputs.values()})
    assert len(old_only) == 2
    before = set(s3_server.keys(s3_prefix))

    out = io.StringIO()
    call_command("gc_artifacts", "--unreferenced", stdout=out)

    assert "deleted" in out.getvalue() and not out.getvalue().startswith("0 artifacts")
    after = set(s3_server.keys(s3_prefix))
    assert after < before
    for node in NodeRun.objects.filter(run_id=latest):
        assert stored_keys(s3_prefix, node) <= after, f"kept run lost {node.node_id}"
    model_hash = ModelVersion.objects.get(run_id=latest).model_hash
    assert store.exists({"kind": "model", "hash": model_hash})
    assert store.exists({"kind": "table",
                         "hash": Dataset.objects.get(pk=dataset["id"]).table_hash})
    for digest in old_only:
        assert not store.exists({"kind": "table", "hash": digest})


def test_gc_on_s3_evicts_least_recently_used_first_down_to_the_limit(
        s3_prefix: str, db: Any) -> None:
    from datagran.datasets.gc import artifacts_gc

    store = artifact_store()
    digests = [store.put_file(bytes([i]) * 1000) for i in range(3)]
    assert artifacts_gc(max_bytes=5000) == {"files": 3, "bytes": 3000, "deleted": 0,
                                            "freed": 0, "protected": 0}
    result = artifacts_gc(max_bytes=2000)
    assert result["deleted"] == 1 and result["freed"] == 1000
    left = {a.hash for a in store.artifacts()}
    assert len(left) == 2 and left < set(digests)


def test_a_run_against_a_missing_bucket_fails_at_once_naming_the_setting(
        api: Any, worker: Any, s3_prefix: str, settings: Any) -> None:
    settings.DATAGRAN = {**settings.DATAGRAN, "ARTIFACTS_URL": "s3://no-such-bucket/runs"}
    pipeline_id = pipeline(api)
    run_id = api.post(f"/api/pipelines/{pipeline_id}/runs/").json()["id"]
    assert wait_for_run(run_id).status == "failed"
    data = NodeRun.objects.get(run_id=run_id, node_id="data")
    assert data.error.startswith("DATAGRAN_ARTIFACTS_URL: the bucket 'no-such-bucket' of "
                                 "s3://no-such-bucket/runs does not exist")
    assert data.attempts == 1  # a setting is not a passing fault: not retried
