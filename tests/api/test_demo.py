"""The demo workspace `make run` loads: its pipelines run green."""
from __future__ import annotations

import pytest

from datagran.pipelines.demo import demo_setup
from datagran.runs.lifecycle import run_start
from datagran.runs.models import NodeRun
from tests.conftest import wait_for_run

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_setup_is_idempotent_and_every_demo_pipeline_runs_green(worker) -> None:
    user, workspace, pipelines = demo_setup()
    again = demo_setup()
    assert [p.pk for p in again[2]] == [p.pk for p in pipelines]
    assert len(pipelines) == 3
    for pipeline in pipelines:
        run = wait_for_run(str(run_start(pipeline=pipeline, user=user).pk), timeout=120)
        failed = NodeRun.objects.filter(run=run).exclude(status="succeeded")
        assert run.status == "succeeded", [(n.node_id, n.error) for n in failed]
    crm = NodeRun.objects.get(run__pipeline__name="Customer churn → CRM", node_id="crm")
    assert crm.rows_out == 100  # the top 100, each shown as a dry run: nothing was sent
