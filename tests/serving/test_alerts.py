"""Alerts on a deployment (issue 19): the error rate passes its threshold over the minimum
number of logged requests, and the alert is delivered once (an e-mail, and a signed webhook
record the receiver checks) however many checks follow; it resolves once when the rate falls
back. Bad settings are 400s naming the field, and change nothing."""
from __future__ import annotations

import copy
from typing import Any

import pytest
from django.conf import settings
from django.core import mail

from datagran.serving.alerts import alerts_check, alerts_check_due
from datagran.serving.models import Deployment
from tests.operators.fake_crm import fake_crm
from tests.serving.test_predict import FEATURES, as_rows, table

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "alert-whsec-canary"


def send(api: Any, url: str, rows: list[dict[str, Any]], good: int, bad: int) -> None:
    for _ in range(good):
        assert api.post(url, {"rows": rows}, format="json").status_code == 200
    broken = [{k: v for k, v in rows[0].items() if k != "plan"}]
    for _ in range(bad):
        assert api.post(url, {"rows": broken}, format="json").status_code == 400


def test_an_error_rate_alert_fires_once_and_resolves_once(api: Any, churn: Any,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setitem(settings.DATAGRAN, "URL_ALLOWLIST", ["127.0.0.1"])
    pipeline, run_id = churn
    base = f"/api/pipelines/{pipeline['id']}"
    rows = as_rows(table(api, run_id, "customers")[sorted(FEATURES)].head(1))
    with fake_crm(webhook_secret=SECRET) as receiver:
        hook = api.post("/api/connections/", {"name": "Ops hook", "kind": "webhook", "fields": {
            "url": f"{receiver.url}/hooks/alerts", "secret": SECRET}}, format="json")
        assert hook.status_code == 201, hook.json()
        saved = api.put(f"{base}/deployment/", {"sample_rate": 1, "alerts": {
            "max_error_rate": 0.2, "min_requests": 5, "emails": ["ops@example.com"],
            "webhook": hook.json()["id"]}}, format="json")
        assert saved.status_code == 200, saved.json()
        assert saved.json()["alerts"]["max_error_rate"] == 0.2
        deployment = Deployment.objects.get(pipeline_id=pipeline["id"])

        send(api, f"{base}/predict", rows, good=2, bad=2)  # 50%, but only 4 requests
        assert alerts_check(deployment) == [] and mail.outbox == []
        send(api, f"{base}/predict", rows, good=2, bad=4)  # 6 errors in 10: 60%
        fired = alerts_check(deployment)
        assert [(c.kind, c.firing, c.value) for c in fired] == [("error_rate", True, 0.6)]
        assert len(mail.outbox) == 1
        assert mail.outbox[0].subject == (f"Datagran alert: {pipeline['name']}: error rate "
                                          f"above 0.2")
        assert mail.outbox[0].to == ["ops@example.com"]
        records = receiver.received["webhook"]  # signed: the receiver checked it
        assert len(records) == 1 and records[0]["data"]["state"] == "firing"
        assert records[0]["data"]["kind"] == "error_rate"

        # Still failing: checked again and again, nothing more is sent.
        send(api, f"{base}/predict", rows, good=0, bad=3)
        assert alerts_check(deployment) == [] and alerts_check(deployment) == []
        assert len(mail.outbox) == 1 and len(receiver.received["webhook"]) == 1
        state = api.get(f"{base}/deployment/").json()["alert_state"]["error_rate"]
        assert state["firing"] is True and state["value"] == 0.6

        # Back under 20%: resolved, once.
        send(api, f"{base}/predict", rows, good=45, bad=0)  # 9 errors in 58
        resolved = alerts_check(deployment)
        assert [(c.kind, c.firing) for c in resolved] == [("error_rate", False)]
        assert alerts_check(deployment) == []
        assert [m.subject for m in mail.outbox][1] == (f"Datagran: resolved: {pipeline['name']}"
                                                      f": error rate")
        assert [r["data"]["state"] for r in receiver.received["webhook"]] == ["firing",
                                                                             "resolved"]
    # The scheduler's beat checks a deployment at most every 30 s.
    assert alerts_check_due(now=1e9) == 0 and alerts_check_due(now=1e9 + 1) == 0


def test_an_error_rate_alert_fires_when_no_request_is_answered(api: Any, churn: Any) -> None:
    """Refused requests count for the error rate although latency and drift leave them out."""
    pipeline, run_id = churn
    base = f"/api/pipelines/{pipeline['id']}"
    rows = as_rows(table(api, run_id, "customers")[sorted(FEATURES)].head(1))
    assert api.put(f"{base}/deployment/", {"sample_rate": 1, "alerts": {
        "max_error_rate": 0.5, "min_requests": 5, "emails": ["ops@example.com"]}},
        format="json").status_code == 200
    send(api, f"{base}/predict", rows, good=0, bad=6)
    fired = alerts_check(Deployment.objects.get(pipeline_id=pipeline["id"]))
    assert [(c.kind, c.firing, c.value) for c in fired] == [("error_rate", True, 1.0)]
    stats = api.get(f"{base}/deployment/stats/").json()
    assert stats["drift_requests"] == 0 and stats["latency_ms"]["p50"] is None


def test_bad_alert_settings_are_refused_by_field_and_change_nothing(api: Any, churn: Any,
                                                                    other_api: Any) -> None:
    pipeline, _ = churn
    url = f"/api/pipelines/{pipeline['id']}/deployment/"
    assert api.put(url, {"alerts": {"min_accuracy": 0.8}}, format="json").status_code == 200
    before = copy.deepcopy(api.get(url).json()["alerts"])
    # Another workspace's connection is not found (as every foreign object).
    foreign = other_api.post("/api/connections/", {"name": "Theirs", "kind": "webhook",
                                                   "fields": {"url": "https://x.example"}},
                             format="json").json()["id"]
    for alerts, field in (({"min_accuracy": 2}, "alerts.min_accuracy"),
                          ({"max_p99_ms": -1}, "alerts.max_p99_ms"),
                          ({"max_error_rate": "high"}, "alerts.max_error_rate"),
                          ({"min_requests": 0}, "alerts.min_requests"),
                          ({"webhook": foreign}, "alerts.webhook"),
                          ({"emails": ["not an address"]}, "alerts.emails"),
                          ({"page_me": True}, "alerts.page_me")):
        refused = api.put(url, {"alerts": alerts}, format="json")
        assert refused.status_code == 400, alerts
        assert field in refused.json()["extra"]["fields"], refused.json()
    assert api.get(url).json()["alerts"] == before
