from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError

from operators import LocalContext, OperatorError, get_operator
from operators.base import ApprovalRequired
from operators.connections import HubSpotConnection, WebhookConnection

from .action_helpers import assert_secret_nowhere, reasons, record_waits, statuses
from .fake_crm import FakeCRM, fake_crm

op = get_operator("action.hubspot_upsert")
TOKEN = "canary-hubspot-7f3a9c-SECRET"
CONTACTS = pd.DataFrame({
    "email": ["ana@example.com", "ben@example.com", "chen@example.com"],
    "name": ["Ana", "Ben", "Chen"],
    "risk": [0.25, 0.5, np.nan],
    "vip": [True, False, True],
})
MAPPINGS = [{"column": "name", "property": "firstname"},
            {"column": "risk", "property": "churn_risk"},
            {"column": "vip", "property": "is_vip"}]


@pytest.fixture
def crm() -> Iterator[FakeCRM]:
    with fake_crm(hubspot_token=TOKEN) as fake:
        yield fake


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return record_waits(monkeypatch)


def context(crm: FakeCRM, **kwargs: Any) -> LocalContext:
    conn = HubSpotConnection(base_url=crm.url, access_token=SecretStr(TOKEN))
    return LocalContext(connections={"hs": conn}, url_allowlist=["127.0.0.1"], **kwargs)


def upsert(ctx: LocalContext, table: pd.DataFrame = CONTACTS, **raw: Any) -> pd.DataFrame:
    params = op.parse_params({"connection": "hs", "key_column": "email", "mappings": MAPPINGS,
                              **raw})
    return op.run(ctx, params, table=table)["results"]


def test_it_upserts_contacts_in_hubspots_batch_format_and_reports_each_record_sent(
        crm: FakeCRM) -> None:
    ctx = context(crm)
    results = upsert(ctx)
    assert list(results.columns) == ["record_key", "status", "reason", "payload"]
    assert statuses(results) == {e: "sent" for e in CONTACTS["email"]}
    assert crm.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(crm.requests[0]["body"])["inputs"][0] == {
        "id": "ana@example.com", "idProperty": "email",
        "properties": {"firstname": "Ana", "churn_risk": "0.25", "is_vip": "true"}}
    # A missing value is left out rather than blanking the property in HubSpot.
    assert crm.received["hubspot"][2]["properties"] == {"firstname": "Chen", "is_vip": "true"}
    assert set(ctx.send_log) == set(CONTACTS["email"])
    assert ctx.logs[-1] == ("Sent 3, failed 0, skipped 0 (already sent with the same content) "
                            "of 3 records.")


def test_companies_go_to_the_companies_endpoint_in_batches_of_the_chosen_size(
        crm: FakeCRM) -> None:
    companies = pd.DataFrame({"domain": [f"c{i}.example.com" for i in range(5)]})
    results = upsert(context(crm), companies, object_type="companies", id_property="domain",
                     key_column="domain", mappings=[], batch_size=2)
    assert [r["path"] for r in crm.requests] == ["/crm/v3/objects/companies/batch/upsert"] * 3
    assert [len(json.loads(r["body"])["inputs"]) for r in crm.requests] == [2, 2, 1]
    assert set(statuses(results).values()) == {"sent"}


def test_a_second_run_with_the_same_send_log_sends_nothing_again(crm: FakeCRM) -> None:
    ctx = context(crm)
    upsert(ctx)
    again = upsert(ctx)
    assert set(statuses(again).values()) == {"skipped"}
    assert set(again["reason"]) == {"Already sent with the same content."}
    assert crm.count("hubspot") == 1 and len(crm.received["hubspot"]) == 3


def test_a_changed_record_is_sent_again_and_only_it(crm: FakeCRM) -> None:
    ctx = context(crm)
    upsert(ctx)
    changed = CONTACTS.assign(name=["Ana", "Benjamin", "Chen"])
    results = upsert(ctx, changed)
    assert statuses(results) == {"ana@example.com": "skipped", "ben@example.com": "sent",
                                 "chen@example.com": "skipped"}
    assert crm.received["hubspot"][-1]["properties"]["firstname"] == "Benjamin"
    assert len(crm.received["hubspot"]) == 4


def test_a_changed_mapping_counts_as_changed_content(crm: FakeCRM) -> None:
    ctx = context(crm)
    upsert(ctx)
    results = upsert(ctx, mappings=MAPPINGS[:1])
    assert set(statuses(results).values()) == {"sent"}


def test_an_invalid_email_fails_only_that_record_with_hubspots_reason(crm: FakeCRM) -> None:
    ctx = context(crm)
    table = CONTACTS.assign(email=["ana@example.com", "not-an-email", "chen@example.com"])
    results = upsert(ctx, table)
    assert statuses(results) == {"ana@example.com": "sent", "not-an-email": "failed",
                                 "chen@example.com": "sent"}
    assert "Email address not-an-email is invalid" in reasons(results)["not-an-email"]
    assert reasons(results)["not-an-email"].startswith("HubSpot: Property values were not valid")
    # Not marked sent, so the next run tries it again.
    assert "not-an-email" not in ctx.send_log
    assert statuses(upsert(ctx, table))["not-an-email"] == "failed"


def test_a_batch_rejected_whole_for_one_named_input_is_resent_without_it(crm: FakeCRM) -> None:
    crm.hubspot_all_or_nothing = True
    table = CONTACTS.assign(email=["ana@example.com", "not-an-email", "chen@example.com"])
    results = upsert(context(crm), table)
    assert statuses(results) == {"ana@example.com": "sent", "not-an-email": "failed",
                                 "chen@example.com": "sent"}
    assert [len(json.loads(r["body"])["inputs"]) for r in crm.requests] == [3, 2]


def test_an_error_tied_to_no_input_fails_the_records_hubspot_did_not_confirm(
        crm: FakeCRM) -> None:
    crm.hubspot_unattributed_error = True
    ctx = context(crm)
    results = upsert(ctx)
    assert statuses(results) == {"ana@example.com": "failed", "ben@example.com": "sent",
                                 "chen@example.com": "sent"}
    assert reasons(results)["ana@example.com"] == "HubSpot reported: Something went wrong"
    assert set(ctx.send_log) == {"ben@example.com", "chen@example.com"}


def test_a_rate_limited_batch_is_retried_after_the_wait_hubspot_asks_for(
        crm: FakeCRM, waits: list[float]) -> None:
    crm.throttle["hubspot"] = 1
    ctx = context(crm)
    results = upsert(ctx)
    assert set(statuses(results).values()) == {"sent"}
    assert waits == [7.0]
    assert crm.count("hubspot") == 2
    assert any("HTTP 429; retry 1 of 3 in 7 s" in line for line in ctx.logs)


def test_a_rate_limit_outlasting_the_retries_fails_the_batch(
        crm: FakeCRM, waits: list[float]) -> None:
    crm.throttle["hubspot"] = 10
    results = upsert(context(crm), retries=2)
    assert set(statuses(results).values()) == {"failed"}
    assert reasons(results)["ana@example.com"].startswith("HubSpot answered HTTP 429")
    assert crm.count("hubspot") == 3 and waits == [7.0, 7.0]


def test_an_expired_token_fails_every_record_with_a_clear_reason_without_retrying(
        crm: FakeCRM, waits: list[float]) -> None:
    crm.expired.add(TOKEN)
    ctx = context(crm)
    results = upsert(ctx, batch_size=2)
    assert crm.count("hubspot") == 1 and waits == []
    assert reasons(results) == {
        "ana@example.com": "HubSpot rejected the access token (expired or revoked).",
        "ben@example.com": "HubSpot rejected the access token (expired or revoked).",
        "chen@example.com": "Not sent: HubSpot rejected the access token (expired or revoked)."}
    assert set(statuses(results).values()) == {"failed"} and ctx.send_log == {}


def test_a_dry_run_shows_exactly_what_would_be_sent_and_sends_nothing(crm: FakeCRM) -> None:
    ctx = context(crm)
    results = upsert(ctx, dry_run=True)
    assert set(statuses(results).values()) == {"dry_run"}
    assert json.loads(results["payload"][1]) == {
        "id": "ben@example.com", "idProperty": "email",
        "properties": {"firstname": "Ben", "churn_risk": "0.5", "is_vip": "false"}}
    assert crm.requests == [] and ctx.send_log == {}


def test_approval_pauses_with_the_exact_preview_then_sends_once_approved(crm: FakeCRM) -> None:
    ctx = context(crm)
    preview = upsert(ctx, dry_run=True)
    with pytest.raises(ApprovalRequired) as waiting:
        upsert(ctx, require_approval=True)
    pd.testing.assert_frame_equal(waiting.value.preview, preview)
    assert waiting.value.message == "Waiting for approval to send 3 of 3 records."
    assert crm.requests == []
    ctx.approved = True
    assert set(statuses(upsert(ctx, require_approval=True)).values()) == {"sent"}


def test_no_approval_is_asked_when_everything_was_sent_already(crm: FakeCRM) -> None:
    ctx = context(crm)
    upsert(ctx)
    assert set(statuses(upsert(ctx, require_approval=True)).values()) == {"skipped"}


def test_an_empty_or_repeated_key_fails_that_row_without_sending_it(crm: FakeCRM) -> None:
    table = pd.DataFrame({"email": ["a@example.com", None, "b@example.com", "b@example.com"],
                          "name": ["A", "B", "C", "D"]})
    results = upsert(context(crm), table, mappings=[{"column": "name", "property": "firstname"}])
    assert list(results["status"]) == ["sent", "failed", "failed", "failed"]
    assert results["reason"][1] == "The key column 'email' is empty."
    assert results["reason"][2] == ("The key 'b@example.com' appears 2 times in the table; none "
                                    "of these rows was sent.")
    assert [r["id"] for r in crm.received["hubspot"]] == ["a@example.com"]


def test_the_token_never_shows_in_results_logs_or_errors(
        crm: FakeCRM, waits: list[float]) -> None:
    crm.throttle["hubspot"] = 1
    ctx = context(crm)
    outputs: list[Any] = [upsert(ctx, CONTACTS.assign(email=["a@x.io", "bad", "c@x.io"])),
                          upsert(ctx, dry_run=True)]
    crm.expired.add(TOKEN)
    outputs.append(upsert(ctx, CONTACTS.assign(name="changed")))
    with pytest.raises(ApprovalRequired) as waiting:
        upsert(ctx, CONTACTS.assign(name="again"), require_approval=True)
    assert_secret_nowhere(TOKEN, *outputs, waiting.value, waiting.value.preview, ctx.logs)
    assert crm.requests[-1]["headers"]["Authorization"] == f"Bearer {TOKEN}"  # it was used


def test_a_loopback_address_that_is_not_allow_listed_is_refused_before_sending(
        crm: FakeCRM) -> None:
    ctx = context(crm)
    ctx.url_allowlist = []
    with pytest.raises(OperatorError) as err:
        upsert(ctx)
    assert err.value.field == "connection" and "DATAGRAN_URL_ALLOWLIST" in err.value.message
    assert crm.requests == []


def test_a_dry_run_works_offline_without_checking_the_url(crm: FakeCRM) -> None:
    ctx = context(crm)
    ctx.url_allowlist = []  # the URL would be refused, but a dry run reaches nothing
    results = upsert(ctx, dry_run=True)
    assert set(results["status"]) == {"dry_run"} and crm.requests == []


def test_a_connection_of_another_kind_is_refused(crm: FakeCRM) -> None:
    ctx = LocalContext(connections={"hs": WebhookConnection(url=crm.url)})
    with pytest.raises(OperatorError) as err:
        upsert(ctx)
    assert err.value.field == "connection" and "not a hubspot connection" in err.value.message


def test_a_column_that_is_not_in_the_table_is_reported_on_its_field() -> None:
    schema = [{"name": "email", "type": "str"}, {"name": "name", "type": "str"}]
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), op.parse_params(
            {"connection": "hs", "key_column": "email",
             "mappings": [{"column": "nope", "property": "firstname"}]}), table=schema)
    assert err.value.field == "mappings.0.column"
    result = op.infer_schema(LocalContext(), op.parse_params(
        {"connection": "hs", "key_column": "email"}), table=schema)["results"]
    assert result is not None
    assert [c["name"] for c in result] == ["record_key", "status", "reason",
                                                      "payload"]


@pytest.mark.parametrize("raw", [
    {"batch_size": 101}, {"batch_size": 0}, {"object_type": "deals"},
    {"id_property": "e-mail"}, {"mappings": [{"column": "name", "property": "email"}]},
    {"mappings": [{"column": "name", "property": "a"}, {"column": "risk", "property": "a"}]},
    {"mappings": [{"column": "name", "property": "first name"}]}, {"retries": 11},
    {"key_column": ""},
])
def test_it_rejects_params_hubspot_could_not_accept(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        op.parse_params({"connection": "hs", "key_column": "email", **raw})


def test_it_is_a_batch_only_action_with_a_hubspot_connection_field() -> None:
    schema = op.describe()["params_schema"]
    assert schema["properties"]["connection"]["x-connection"] == "hubspot"
    assert op.batch_only and op.category == "action"


def test_the_approval_gate_is_reached_although_the_host_cannot_be_resolved() -> None:
    # The demo's HubSpot account offline: no DNS. The gate shows the preview all the same.
    conn = HubSpotConnection(base_url="https://api.hubapi.invalid",
                             access_token=SecretStr(TOKEN))
    ctx = LocalContext(connections={"hs": conn})
    with pytest.raises(ApprovalRequired) as waiting:
        upsert(ctx, require_approval=True)
    assert set(statuses(waiting.value.preview).values()) == {"dry_run"}
    # Approved, the host is checked before the first request, on the connection field.
    ctx.approved = True
    with pytest.raises(OperatorError) as err:
        upsert(ctx, require_approval=True)
    assert err.value.field == "connection" and "api.hubapi.invalid" in err.value.message
    assert ctx.send_log == {}


def test_a_private_host_is_still_refused_once_approved_and_nothing_is_sent(
        crm: FakeCRM) -> None:
    ctx = context(crm)
    ctx.url_allowlist = []
    with pytest.raises(ApprovalRequired):
        upsert(ctx, require_approval=True)
    ctx.approved = True
    with pytest.raises(OperatorError) as err:
        upsert(ctx, require_approval=True)
    assert err.value.field == "connection" and crm.requests == []


def dry_run_only(conn: Any) -> Any:
    """``conn`` marked dry run only (the field may not exist on the kind yet)."""
    if "dry_run_only" in type(conn).model_fields:
        return conn.model_copy(update={"dry_run_only": True})
    object.__setattr__(conn, "dry_run_only", True)
    return conn


def test_a_connection_marked_dry_run_only_refuses_a_real_send_and_sends_nothing(
        crm: FakeCRM) -> None:
    conn = dry_run_only(HubSpotConnection(base_url=crm.url, access_token=SecretStr(TOKEN)))
    ctx = LocalContext(connections={"hs": conn}, url_allowlist=["127.0.0.1"], approved=True)
    with pytest.raises(OperatorError) as err:
        upsert(ctx)
    assert err.value.message == ("Connection 'hs' is marked dry run only; turn on Dry run or "
                                 "change the connection.")
    assert err.value.field == "dry_run"
    assert crm.requests == [] and ctx.send_log == {}
    # A dry run through it still shows what would be sent.
    assert set(statuses(upsert(ctx, dry_run=True)).values()) == {"dry_run"}
    assert crm.requests == []


def test_the_params_explain_approval_together_with_dry_run() -> None:
    props = op.describe()["params_schema"]["properties"]
    assert "With Dry run on, approving records what would be sent without sending" in \
        props["require_approval"]["description"]
    assert "approving records what would be sent without sending" in \
        props["dry_run"]["description"]
