from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError

from operators import LocalContext, OperatorError, get_operator
from operators.base import ApprovalRequired
from operators.connections import SalesforceConnection

from .action_helpers import assert_secret_nowhere, reasons, record_waits, statuses
from .fake_crm import FakeCRM, fake_crm

op = get_operator("action.salesforce_upsert")
TOKEN = "00Dcanary!SF-SECRET-b81e"
PEOPLE = pd.DataFrame({
    "customer_id": [101, 102, 103],
    "email": ["ana@example.com", "ben@example.com", None],
    "risk": [0.25, 0.5, 0.75],
    "since": pd.to_datetime(["2024-01-05", "2023-06-30", "2022-02-01"]),
})
MAPPINGS = [{"column": "email", "field": "Email"}, {"column": "risk", "field": "Churn_Risk__c"},
            {"column": "since", "field": "Customer_Since__c"}]
PATH = "/services/data/v61.0/composite/sobjects/Contact/Customer_Id__c"


@pytest.fixture
def crm() -> Iterator[FakeCRM]:
    with fake_crm(salesforce_token=TOKEN) as fake:
        yield fake


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    return record_waits(monkeypatch)


def context(crm: FakeCRM, api_version: str = "v61.0") -> LocalContext:
    conn = SalesforceConnection(instance_url=crm.url, api_version=api_version,
                                access_token=SecretStr(TOKEN))
    return LocalContext(connections={"sf": conn}, url_allowlist=["127.0.0.1"])


def upsert(ctx: LocalContext, table: pd.DataFrame = PEOPLE, **raw: Any) -> pd.DataFrame:
    params = op.parse_params({"connection": "sf", "external_id_field": "Customer_Id__c",
                              "key_column": "customer_id", "mappings": MAPPINGS, **raw})
    return op.run(ctx, params, table=table)["results"]


def test_it_upserts_by_external_id_through_the_sobject_collections_api(crm: FakeCRM) -> None:
    ctx = context(crm)
    results = upsert(ctx)
    assert statuses(results) == {"101": "sent", "102": "sent", "103": "sent"}
    request = crm.requests[0]
    assert request["path"] == PATH
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    body = json.loads(request["body"])
    assert body["allOrNone"] is False
    assert body["records"][0] == {"attributes": {"type": "Contact"}, "Customer_Id__c": "101",
                                  "Email": "ana@example.com", "Churn_Risk__c": 0.25,
                                  "Customer_Since__c": "2024-01-05T00:00:00"}
    # A missing value is left out rather than blanking the field.
    assert "Email" not in body["records"][2]
    assert set(ctx.send_log) == {"101", "102", "103"}


def test_an_invalid_record_fails_alone_with_salesforces_error(crm: FakeCRM) -> None:
    ctx = context(crm)
    results = upsert(ctx, PEOPLE.assign(email=["ana@example.com", "nope", None]))
    assert statuses(results) == {"101": "sent", "102": "failed", "103": "sent"}
    assert reasons(results)["102"] == ("Salesforce: INVALID_EMAIL_ADDRESS: Email: invalid email "
                                       "address: nope (fields: Email)")
    assert "102" not in ctx.send_log


def test_a_second_run_sends_nothing_and_a_changed_record_is_sent_again(crm: FakeCRM) -> None:
    ctx = context(crm)
    upsert(ctx)
    assert set(statuses(upsert(ctx)).values()) == {"skipped"}
    results = upsert(ctx, PEOPLE.assign(risk=[0.25, 0.9, 0.75]))
    assert statuses(results) == {"101": "skipped", "102": "sent", "103": "skipped"}
    assert crm.count("salesforce") == 2 and len(crm.received["salesforce"]) == 4


def test_an_unavailable_service_is_retried_after_the_wait_it_asks_for(
        crm: FakeCRM, waits: list[float]) -> None:
    crm.throttle["salesforce"] = 1
    crm.retry_after = "2"
    results = upsert(context(crm))
    assert set(statuses(results).values()) == {"sent"}
    assert waits == [2.0] and crm.count("salesforce") == 2


def test_an_expired_session_fails_the_records_with_a_clear_reason_and_stops(
        crm: FakeCRM, waits: list[float]) -> None:
    crm.expired.add(TOKEN)
    results = upsert(context(crm), batch_size=1)
    assert list(results["reason"]) == [
        "Salesforce rejected the access token (expired or revoked).",
        "Not sent: Salesforce rejected the access token (expired or revoked).",
        "Not sent: Salesforce rejected the access token (expired or revoked)."]
    assert crm.count("salesforce") == 1 and waits == []


def test_a_request_salesforce_rejects_whole_fails_its_records_with_the_error_code(
        crm: FakeCRM) -> None:
    results = upsert(context(crm), PEOPLE, external_id_field="Other_Id__c")
    assert set(statuses(results).values()) == {"failed"}
    assert reasons(results)["101"] == ("Salesforce answered HTTP 400: INVALID_FIELD: Provided "
                                       "external ID field does not exist or is not accessible: "
                                       "Other_Id__c")


def test_dry_run_and_approval_show_the_records_exactly_and_send_nothing(crm: FakeCRM) -> None:
    ctx = context(crm)
    preview = upsert(ctx, dry_run=True)
    assert json.loads(preview["payload"][1]) == {
        "attributes": {"type": "Contact"}, "Customer_Id__c": "102", "Email": "ben@example.com",
        "Churn_Risk__c": 0.5, "Customer_Since__c": "2023-06-30T00:00:00"}
    with pytest.raises(ApprovalRequired) as waiting:
        upsert(ctx, require_approval=True)
    pd.testing.assert_frame_equal(waiting.value.preview, preview)
    assert crm.requests == [] and ctx.send_log == {}


def test_the_token_never_shows_in_results_logs_or_errors(
        crm: FakeCRM, waits: list[float]) -> None:
    crm.throttle["salesforce"] = 1
    ctx = context(crm)
    outputs: list[Any] = [upsert(ctx, PEOPLE.assign(email=["a@x.io", "bad", None]))]
    crm.expired.add(TOKEN)
    outputs.append(upsert(ctx, PEOPLE.assign(risk=0.1)))
    assert_secret_nowhere(TOKEN, *outputs, ctx.logs)


def test_an_api_version_that_is_not_one_is_reported_on_the_connection(crm: FakeCRM) -> None:
    with pytest.raises(OperatorError) as err:
        upsert(context(crm, api_version="../../v61.0"))
    assert err.value.field == "connection"


@pytest.mark.parametrize("raw", [
    {"batch_size": 201}, {"sobject": "Contact;DROP"}, {"sobject": "1Contact"},
    {"external_id_field": "Customer Id"},
    {"mappings": [{"column": "email", "field": "Customer_Id__c"}]},
    {"mappings": [{"column": "email", "field": "attributes"}]},
    {"mappings": [{"column": "email", "field": "Email"}, {"column": "risk", "field": "email"}]},
])
def test_it_rejects_params_salesforce_could_not_accept(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        op.parse_params({"connection": "sf", "external_id_field": "Customer_Id__c",
                         "key_column": "customer_id", **raw})


def test_a_key_column_that_is_not_in_the_table_is_reported_on_its_field(crm: FakeCRM) -> None:
    with pytest.raises(OperatorError) as err:
        upsert(context(crm), PEOPLE.drop(columns="customer_id"))
    assert err.value.field == "key_column"
