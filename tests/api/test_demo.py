"""The demo workspace `make run` loads: its pipelines run green, the HubSpot template on the
demo's dry-run-only connection without a request leaving the machine."""
from __future__ import annotations

import socket
from typing import Any

import pytest

from datagran.pipelines.demo import demo_setup
from datagran.registry.models import RegisteredModel
from datagran.registry.services import alias_set
from datagran.runs.lifecycle import run_start
from datagran.runs.models import NodeRun, SendLog
from datagran.schedules.models import Schedule
from tests.conftest import wait_for_run

pytestmark = pytest.mark.django_db(transaction=True)

TEMPLATE = "HubSpot contacts → churn model → HubSpot property update"
NIGHTLY = "Nightly churn scores → HubSpot"


def test_demo_setup_is_idempotent_and_every_demo_pipeline_runs_green(
        worker: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every host name looked up, by any thread: the demo has no network.
    looked_up: list[str] = []
    lookup = socket.getaddrinfo

    def recording(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    user, workspace, pipelines = demo_setup()
    again = demo_setup()
    assert [p.pk for p in again[2]] == [p.pk for p in pipelines]
    assert len(pipelines) == 5
    for pipeline in pipelines:
        if pipeline.name == NIGHTLY:
            # Batch scoring serves the promoted version only: as a user does first, on the
            # model's page.
            model = RegisteredModel.objects.get(name=f"{TEMPLATE} / train")
            alias_set(model=model, alias="production", version_number=1, user=user)
        run = wait_for_run(str(run_start(pipeline=pipeline, user=user).pk), timeout=120)
        failed = NodeRun.objects.filter(run=run).exclude(status="succeeded")
        assert run.status == "succeeded", [(n.node_id, n.error) for n in failed]
    crm = NodeRun.objects.get(run__pipeline__name="Customer churn → CRM", node_id="crm")
    assert crm.rows_out == 100  # the top 100, each shown as a dry run: nothing was sent
    # The HubSpot template read the sandbox contacts, and showed what it would send.
    contacts = NodeRun.objects.get(run__pipeline__name=TEMPLATE, node_id="contacts")
    assert contacts.rows_out == 2000 and contacts.source["records"] == 2000
    assert contacts.source["pages"] == 0
    assert ("Dry-run connection: read 2,000 sandbox contacts bundled with Datagran; HubSpot "
            "was not called.") in contacts.logs
    likely = NodeRun.objects.get(run__pipeline__name=TEMPLATE, node_id="likely")
    update = NodeRun.objects.get(run__pipeline__name=TEMPLATE, node_id="crm")
    assert 0 < likely.rows_out == update.rows_out < 2000
    # The nightly scoring (its schedule paused) scored the same contacts with the same model
    # through the deployment: the same contacts are likely to leave.
    nightly = Schedule.objects.get(pipeline__name=NIGHTLY)
    assert (nightly.cron, nightly.enabled) == ("0 2 * * *", False)
    assert NodeRun.objects.get(run__pipeline__name=NIGHTLY, node_id="crm").rows_out == \
        update.rows_out
    assert not SendLog.objects.exists()
    assert not [h for h in looked_up if "hubapi" in h]
