"""Deleting a pipeline deletes its runs too (found by schemathesis once the schema described
the request bodies: it was a 500, the runs' versions protecting them)."""
from __future__ import annotations

import pytest

from datagran.pipelines.models import Pipeline, PipelineVersion
from datagran.runs.models import Run
from tests.conftest import wait_for_run
from tests.graphs import chain_graph

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_pipeline_that_has_run_can_be_deleted_with_its_runs(api, worker) -> None:
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": chain_graph()},
                        format="json").json()
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/", {}, format="json").json()["id"]
    wait_for_run(run_id)
    assert api.delete(f"/api/pipelines/{pipeline['id']}/").status_code == 204
    assert not Pipeline.objects.exists() and not PipelineVersion.objects.exists()
    assert not Run.objects.exists()
