"""Alerts on a deployment: live accuracy below a threshold, drift, error rate or p99 latency
above one, over at least ``min_requests`` logged requests. The scheduler's beat checks the
deployments that have thresholds (``alerts_check_due``); an alert fires once when it starts
and once when it resolves, whatever the number of requests or checks in between (the state
is changed under a row lock, so two schedulers do not both send). Delivery is the webhook and
e-mail actions' own: the webhook action posts the alert as a record (signed, its host checked)
and the e-mail action mails it."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import transaction
from pydantic import ValidationError

from datagran.connections.services import connection_for_operator, connection_get
from datagran.core.exceptions import DatagranError, FieldError, NotFound
from datagran.runs.context import send_email
from operators.base import OperatorError
from operators.registry import get_operator
from operators.testing import LocalContext

from .models import Deployment

log = logging.getLogger("datagran.alerts")

DEFAULTS: dict[str, Any] = {"min_accuracy": None, "max_drift_psi": None, "max_error_rate": None,
                            "max_p99_ms": None, "min_requests": 100, "webhook": None,
                            "emails": []}
THRESHOLDS = {"min_accuracy": "accuracy", "max_drift_psi": "drift",
              "max_error_rate": "error_rate", "max_p99_ms": "p99_ms"}
SHOWN = {"accuracy": "live accuracy", "drift": "drift (PSI)", "error_rate": "error rate",
         "p99_ms": "p99 latency (ms)"}
CHECK_EVERY = 30.0  # seconds between two checks of one deployment
_checked: dict[int, float] = {}


def alerts_settings(current: dict[str, Any], given: dict[str, Any], workspace_id: Any
                    ) -> dict[str, Any]:
    """The deployment's alert settings with ``given`` applied, checked (a 400 naming the
    field otherwise)."""
    merged = {**DEFAULTS, **current}
    for key, value in given.items():
        field_name = f"alerts.{key}"
        if key not in DEFAULTS:
            raise FieldError(f"{field_name}: not an alert setting ({', '.join(DEFAULTS)}).",
                             {field_name: ["unknown"]})
        if key in THRESHOLDS and value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
                    or (key in ("min_accuracy", "max_error_rate") and value > 1):
                limit = "0 to 1" if key in ("min_accuracy", "max_error_rate") else "0 or more"
                raise FieldError(f"{field_name}: a number, {limit}, or null (off).",
                                 {field_name: [limit]})
        if key == "min_requests" and (isinstance(value, bool) or not isinstance(value, int)
                                      or not 1 <= value <= 100_000):
            raise FieldError(f"{field_name}: a whole number from 1 to 100,000.",
                             {field_name: ["1 to 100000"]})
        if key == "webhook" and value is not None:
            try:
                found = connection_get(workspace_id=workspace_id, connection_id=value)
            except NotFound:
                raise FieldError(f"{field_name}: no such connection in this workspace.",
                                 {field_name: ["not found"]}) from None
            if found.kind != "webhook":
                raise FieldError(f"{field_name}: '{found.name}' is a {found.kind} connection; "
                                 f"a webhook connection is needed.", {field_name: ["webhook"]})
            value = str(found.pk)
        if key == "emails":
            if not isinstance(value, list):
                raise FieldError(f"{field_name}: a list of e-mail addresses.",
                                 {field_name: ["a list"]})
            try:  # the e-mail action's own check of its recipients
                if value:
                    get_operator("action.email_report").parse_params(
                        {"recipients": value, "subject": "x"})
            except ValidationError as exc:
                raise FieldError(f"{field_name}: {str(exc).splitlines()[-1][:200]}",
                                 {field_name: ["e-mail addresses"]}) from None
        merged[key] = value
    return merged


@dataclass
class Change:
    kind: str
    firing: bool
    value: float | None
    threshold: float
    at: str
    extra: dict[str, Any] = field(default_factory=dict)


def measured(stats: Any) -> dict[str, tuple[float | None, int]]:
    """{kind: (value, how many requests or labels it is measured over)} from the deploy
    page's statistics."""
    requests = stats.drift_requests
    psi = [d["psi"] for d in stats.drift if d.get("psi") is not None]
    feedback = stats.feedback
    return {
        "accuracy": (feedback.get("accuracy"), feedback.get("labelled", 0)),
        "drift": (max(psi) if psi else None, requests),
        "error_rate": (stats.error_rate, stats.logged),
        "p99_ms": (stats.latency_ms.get("p99"), requests),
    }


def alerts_check(deployment: Deployment, *, now: datetime | None = None) -> list[Change]:
    """Compare the deployment's recent requests with its thresholds; fire or resolve each
    alert whose state changes, and deliver those changes."""
    from .stats import deployment_stats

    config = {**DEFAULTS, **(deployment.alerts or {})}
    active = {kind: config[key] for key, kind in THRESHOLDS.items() if config[key] is not None}
    if not active:
        return []
    stats = deployment_stats(pipeline=deployment.pipeline)
    values = measured(stats)
    at = (now or datetime.now(UTC)).isoformat()
    breached: dict[str, float] = {}
    for kind, threshold in active.items():
        value, over = values[kind]
        if value is None or over < config["min_requests"]:
            continue
        if (value < threshold) if kind == "accuracy" else (value > threshold):
            breached[kind] = value
    changes: list[Change] = []
    with transaction.atomic():
        locked = Deployment.objects.select_for_update().get(pk=deployment.pk)
        state = dict(locked.alert_state or {})
        for kind, threshold in active.items():
            firing = bool(state.get(kind, {}).get("firing"))
            if kind in breached and not firing:
                state[kind] = {"firing": True, "since": at, "value": breached[kind]}
                changes.append(Change(kind, True, breached[kind], threshold, at))
            elif kind not in breached and firing:
                state[kind] = {"firing": False, "resolved": at, "value": values[kind][0]}
                changes.append(Change(kind, False, values[kind][0], threshold, at))
        if changes:
            locked.alert_state = state
            locked.save(update_fields=["alert_state"])
    for change in changes:
        problem = _deliver(locked, config, change)
        if problem:
            with transaction.atomic():
                again = Deployment.objects.select_for_update().get(pk=deployment.pk)
                entry = dict(again.alert_state.get(change.kind, {}))
                entry["delivery_error"] = problem
                again.alert_state = {**again.alert_state, change.kind: entry}
                again.save(update_fields=["alert_state"])
    return changes


def alerts_check_due(*, now: float | None = None) -> int:
    """The scheduler's part: check each deployment with thresholds at most every
    CHECK_EVERY seconds (per scheduler process). Returns how many alerts changed."""
    clock = time.monotonic() if now is None else now
    changed = 0
    for deployment in Deployment.objects.filter(enabled=True).exclude(alerts={}) \
            .select_related("pipeline"):
        if clock - _checked.get(deployment.pk, -CHECK_EVERY) < CHECK_EVERY:
            continue
        _checked[deployment.pk] = clock
        try:
            changed += len(alerts_check(deployment))
        except DatagranError as exc:  # a pipeline that does not serve now: nothing to check
            log.info("alerts of %s not checked: %s", deployment.pipeline_id, exc.message)
    return changed


def _message(deployment: Deployment, change: Change) -> tuple[str, str]:
    what = SHOWN[change.kind]
    shown = "–" if change.value is None else f"{change.value:.4g}"
    if change.firing:
        side = "below" if change.kind == "accuracy" else "above"
        subject = f"Datagran alert: {deployment.pipeline.name}: {what} {side} {change.threshold}"
        body = (f"The deployment of “{deployment.pipeline.name}” has its {what} at {shown}, "
                f"{side} the threshold {change.threshold}, since {change.at}.")
    else:
        subject = f"Datagran: resolved: {deployment.pipeline.name}: {what}"
        body = (f"The {what} of “{deployment.pipeline.name}” is back within its threshold "
                f"({change.threshold}): {shown}, at {change.at}.")
    return subject, body


def _deliver(deployment: Deployment, config: dict[str, Any], change: Change) -> str:
    """Send the change through the webhook and e-mail actions; "" or what went wrong."""
    subject, body = _message(deployment, change)
    ctx = AlertContext(deployment.pipeline.workspace_id)
    problems = []
    record = pd.DataFrame([{
        "alert": f"{deployment.pipeline_id}:{change.kind}:{change.at}",
        "pipeline": str(deployment.pipeline_id), "pipeline_name": deployment.pipeline.name,
        "kind": change.kind, "state": "firing" if change.firing else "resolved",
        "value": change.value, "threshold": change.threshold, "at": change.at,
        "message": body}])
    if config.get("webhook"):
        op = get_operator("action.webhook")
        try:
            op.run(ctx, op.parse_params({"connection": config["webhook"],
                                         "key_column": "alert", "retries": 1,
                                         "timeout_seconds": 10}), table=record)
        except (OperatorError, DatagranError) as exc:
            problems.append(f"webhook: {exc.message}")
    if config.get("emails"):
        op = get_operator("action.email_report")
        try:
            op.run(ctx, op.parse_params({"recipients": config["emails"], "subject": subject,
                                         "body": body, "filename": "alert"}), table=record)
        except (OperatorError, DatagranError) as exc:
            problems.append(f"e-mail: {exc.message}")
    for problem in problems:
        log.warning("alert delivery failed for %s: %s", deployment.pipeline_id, problem)
    return "; ".join(problems)


class AlertContext(LocalContext):
    """What the actions see when they deliver an alert: the workspace's connection, the
    server's host rules, real e-mail."""

    def __init__(self, workspace_id: Any) -> None:
        super().__init__(url_allowlist=list(settings.DATAGRAN["URL_ALLOWLIST"]))
        self.workspace_id = workspace_id

    def connection(self, connection_id: str, kind: str | list[str]) -> Any:
        return connection_for_operator(workspace_id=self.workspace_id,
                                       connection_id=connection_id, kind=kind)[1]

    def send_email(self, *, to: list[str], subject: str, body: str,
                   attachments: list[tuple[str, bytes, str]]) -> None:
        send_email(to=to, subject=subject, body=body, attachments=attachments)
