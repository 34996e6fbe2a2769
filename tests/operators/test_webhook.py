from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError

from operators import LocalContext, OperatorError, get_operator
from operators.base import ApprovalRequired
from operators.connections import WebhookConnection

from .action_helpers import assert_secret_nowhere, reasons, record_waits, statuses
from .fake_crm import FakeCRM, fake_crm

op = get_operator("action.webhook")
SECRET = "canary-whsec-91d2-SECRET"
SCORES = pd.DataFrame({"customer_id": [1, 2, 3], "risk": [0.9, 0.2, None],
                       "plan": ["pro", "basic", "pro"]})


@pytest.fixture
def crm() -> Iterator[FakeCRM]:
    with fake_crm(webhook_secret=SECRET) as fake:
        yield fake


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return record_waits(monkeypatch)


def context(crm: FakeCRM, secret: str = SECRET) -> LocalContext:
    conn = WebhookConnection(url=f"{crm.url}/hooks/scores", secret=SecretStr(secret))
    return LocalContext(connections={"wh": conn}, url_allowlist=["127.0.0.1"])


def post(ctx: LocalContext, table: pd.DataFrame = SCORES, **raw: Any) -> pd.DataFrame:
    params = op.parse_params({"connection": "wh", "key_column": "customer_id", **raw})
    return op.run(ctx, params, table=table)["results"]


def test_it_posts_signed_batches_the_receiver_can_verify(crm: FakeCRM) -> None:
    before = int(time.time())
    results = post(context(crm), batch_size=2)
    assert statuses(results) == {"1": "sent", "2": "sent", "3": "sent"}
    first = crm.requests[0]
    assert json.loads(first["body"]) == {"records": [
        {"key": "1", "data": {"customer_id": 1, "risk": 0.9, "plan": "pro"}},
        {"key": "2", "data": {"customer_id": 2, "risk": 0.2, "plan": "basic"}}]}
    expected = hmac.new(SECRET.encode(), first["body"], hashlib.sha256).hexdigest()
    assert first["headers"]["X-Datagran-Signature"] == f"sha256={expected}"
    assert before <= int(first["headers"]["X-Datagran-Timestamp"]) <= time.time() + 1
    assert crm.received["webhook"][2] == {"key": "3", "data": {"customer_id": 3, "risk": None,
                                                                "plan": "pro"}}


def test_only_the_chosen_columns_are_sent(crm: FakeCRM) -> None:
    post(context(crm), columns=["risk"])
    assert crm.received["webhook"][0] == {"key": "1", "data": {"risk": 0.9}}


def test_the_same_batch_sent_again_carries_the_same_idempotency_key(crm: FakeCRM) -> None:
    post(context(crm))
    post(context(crm))  # a fresh send log: the receiver gets the batch twice
    post(context(crm), SCORES.assign(plan="gold"))
    keys = [r["headers"]["Idempotency-Key"] for r in crm.requests]
    assert keys[0] == keys[1] != keys[2]


def test_a_second_run_sends_nothing_and_a_changed_row_is_sent_again(crm: FakeCRM) -> None:
    ctx = context(crm)
    post(ctx)
    assert set(statuses(post(ctx)).values()) == {"skipped"}
    results = post(ctx, SCORES.assign(risk=[0.9, 0.3, None]))
    assert statuses(results) == {"1": "skipped", "2": "sent", "3": "skipped"}
    assert crm.count("webhook") == 2


def test_a_refused_batch_fails_its_records_and_the_next_run_sends_them(crm: FakeCRM) -> None:
    ctx = context(crm)
    crm.webhook_status = 422
    results = post(ctx)
    assert reasons(results)["1"] == ('The webhook answered HTTP 422: {"error": "the receiver '
                                     'is unhappy"}')
    assert ctx.send_log == {}
    crm.webhook_status = 200
    assert set(statuses(post(ctx)).values()) == {"sent"}


def test_a_throttled_batch_is_retried_after_the_wait_asked_for(
        crm: FakeCRM, waits: list[float]) -> None:
    crm.throttle["webhook"] = 1
    assert set(statuses(post(context(crm))).values()) == {"sent"}
    assert waits == [7.0] and crm.count("webhook") == 2


def test_a_wrong_secret_stops_sending_with_a_hint(crm: FakeCRM) -> None:
    results = post(context(crm, secret="other-secret"), batch_size=1)
    assert crm.count("webhook") == 1
    assert reasons(results)["1"].endswith("(check the connection's secret).")
    assert reasons(results)["3"].startswith("Not sent: The webhook answered HTTP 401")


def test_an_unreachable_receiver_fails_the_records_after_the_retries(
        waits: list[float]) -> None:
    with fake_crm() as crm:
        ctx = context(crm)
    # The server is gone: nothing listens on that port any more.
    results = post(ctx, retries=2)
    assert set(statuses(results).values()) == {"failed"}
    assert reasons(results)["1"].startswith("Cannot reach 127.0.0.1/hooks/scores (Connect")
    assert waits == [1.0, 2.0]  # exponential backoff


def test_dry_run_and_approval_show_the_records_and_send_nothing(crm: FakeCRM) -> None:
    ctx = context(crm)
    preview = post(ctx, dry_run=True)
    assert json.loads(preview["payload"][0]) == {
        "key": "1", "data": {"customer_id": 1, "risk": 0.9, "plan": "pro"}}
    with pytest.raises(ApprovalRequired) as waiting:
        post(ctx, require_approval=True)
    pd.testing.assert_frame_equal(waiting.value.preview, preview)
    assert crm.requests == []


def test_the_secret_never_shows_in_results_logs_or_errors(crm: FakeCRM) -> None:
    ctx = context(crm)
    outputs: list[Any] = [post(ctx), post(ctx, dry_run=True)]
    crm.webhook_status = 500
    outputs.append(post(ctx, SCORES.assign(plan="x"), retries=0))
    crm.webhook_secret = "rotated"
    outputs.append(post(ctx, SCORES.assign(plan="y")))
    assert_secret_nowhere(SECRET, *outputs, ctx.logs)


def test_a_private_address_that_is_not_allow_listed_is_refused(crm: FakeCRM) -> None:
    ctx = context(crm)
    ctx.url_allowlist = []
    with pytest.raises(OperatorError) as err:
        post(ctx)
    assert err.value.field == "connection" and crm.requests == []


@pytest.mark.parametrize("raw", [{"batch_size": 1001}, {"timeout_seconds": 0},
                                 {"retries": -1}, {"key_column": ""}])
def test_it_rejects_params_out_of_bounds(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        op.parse_params({"connection": "wh", "key_column": "customer_id", **raw})


def test_a_chosen_column_that_is_not_in_the_table_is_reported_on_its_field() -> None:
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), op.parse_params(
            {"connection": "wh", "key_column": "customer_id", "columns": ["nope"]}),
            table=[{"name": "customer_id", "type": "int"}])
    assert err.value.field == "columns"


def test_a_dry_run_only_connection_refuses_to_post_and_the_receiver_gets_nothing(
        crm: FakeCRM) -> None:
    ctx = context(crm)
    conn = ctx.connections["wh"]
    if "dry_run_only" in type(conn).model_fields:
        ctx.connections["wh"] = conn.model_copy(update={"dry_run_only": True})
    else:
        object.__setattr__(conn, "dry_run_only", True)
    with pytest.raises(OperatorError) as err:
        post(ctx)
    assert "is marked dry run only; turn on Dry run" in err.value.message
    assert crm.requests == [] and ctx.send_log == {}


def test_a_dry_run_that_requires_approval_waits_and_once_approved_records_without_sending(
        crm: FakeCRM) -> None:
    ctx = context(crm)
    with pytest.raises(ApprovalRequired) as waiting:
        post(ctx, dry_run=True, require_approval=True)
    assert "a dry run: nothing sent" in waiting.value.message
    ctx.approved = True
    results = post(ctx, dry_run=True, require_approval=True)
    pd.testing.assert_frame_equal(results, waiting.value.preview)
    assert set(statuses(results).values()) == {"dry_run"}
    assert crm.requests == [] and ctx.send_log == {}
