"""A canary secret planted in connections never shows up anywhere it could leak: API
responses, node logs and errors, run events, broker messages, outputs and exports, the audit
log, or the server's own log lines — through a run that sends, one that fails on an expired
token, and a dry run."""
from __future__ import annotations

import copy
import io
import logging

import dramatiq
import pandas as pd
import pytest
from django.test import override_settings
from dramatiq import Middleware

from datagran.pipelines.demo import CHURN_CRM
from datagran.runs.models import NodeRun, RunEvent
from datagran.workspaces.models import AuditEntry
from tests.conftest import wait_for_run
from tests.operators.fake_crm import fake_crm

pytestmark = pytest.mark.django_db(transaction=True)
CANARY = "canary-7c1f-do-not-leak"


class Recorder(Middleware):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def before_enqueue(self, broker, message, delay):  # noqa: ANN001, ANN201
        self.messages.append(message.encode().decode("utf-8", errors="replace"))


@pytest.fixture
def recorder(worker):
    recorder = Recorder()
    dramatiq.get_broker().add_middleware(recorder)
    yield recorder
    dramatiq.get_broker().middleware.remove(recorder)


@pytest.mark.slow  # runs every kind of node
def test_a_planted_secret_leaks_nowhere(api, user, worker, recorder, settings, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with fake_crm(hubspot_token=CANARY) as crm, override_settings(
            DATAGRAN={**settings.DATAGRAN, "URL_ALLOWLIST": ["127.0.0.1"]}):
        hubspot = api.post("/api/connections/", {"name": "crm", "kind": "hubspot", "fields": {
            "base_url": crm.url, "access_token": CANARY}}, format="json")
        seen = [hubspot.content.decode()]
        graph = copy.deepcopy(CHURN_CRM)
        crm_node = next(n for n in graph["nodes"] if n["id"] == "crm")
        crm_node["params"].update(connection=hubspot.json()["id"], dry_run=False)
        pipeline = api.post("/api/pipelines/", {"name": "Leak?", "graph": graph},
                            format="json").json()
        sent = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
        assert wait_for_run(sent, timeout=120).status == "succeeded"
        assert len(crm.received["hubspot"]) == 100  # the token really was used
        crm.expired.add(CANARY)
        # New content (one more property): sent again, and refused.
        crm_node["params"]["mappings"].append({"column": "country", "property": "country"})
        api.put(f"/api/pipelines/{pipeline['id']}/", {"name": "Leak?", "graph": graph},
                format="json")
        refused = api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]
        wait_for_run(refused, timeout=120)
    for run_id in (sent, refused):
        seen.append(api.get(f"/api/runs/{run_id}/").content.decode())
        results = api.get(f"/api/runs/{run_id}/nodes/crm/output/?port=results&format=csv")
        assert results.status_code == 200, results
        seen.append(b"".join(results.streaming_content).decode())  # a CSV is streamed
        seen.append(api.get(f"/api/runs/{run_id}/nodes/crm/preview/?port=results").content
                    .decode())
    reasons = pd.read_csv(io.StringIO(seen[-2]))["reason"].dropna().tolist()
    assert any("expired" in r for r in reasons)  # the failure is explained...
    seen += [str(n.logs) + n.error + n.traceback for n in NodeRun.objects.all()]
    seen += [str(e.payload) for e in RunEvent.objects.all()]
    seen += [str(e.detail) + e.target for e in AuditEntry.objects.all()]
    seen += recorder.messages
    seen += [api.get("/api/connections/").content.decode(),
             api.get(f"/api/workspaces/{user.personal_workspace.pk}/audit/").content.decode()]
    seen += [record.getMessage() + str(record.exc_text) for record in caplog.records]
    assert recorder.messages and caplog.records  # ...and each place was really looked at
    leaks = [text[:200] for text in seen if CANARY in text]
    assert leaks == []
