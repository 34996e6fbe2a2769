"""The Mailchimp source against a fake Mailchimp speaking its Marketing API 3.0: offset pages
up to total_items, merge fields as columns, incremental runs on last_changed, the
accumulated table, campaigns read whole, the audiences offered in the form, rate limits and a
refused key."""
from __future__ import annotations

import base64
from collections.abc import Iterator

import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError

from operators import LocalContext, get_operator
from operators.base import OperatorError
from operators.connections import MailchimpConnection
from operators.errors import RetryableError

from .fake_mailchimp import FakeMailchimp, fake_mailchimp

OP = get_operator("connector.mailchimp")
KEY = "0123456789abcdef0123456789abcdef-us21"
AUDIENCE = "a1b2c3d4e5"


def _ctx(fake: FakeMailchimp, key: str = KEY) -> LocalContext:
    conn = MailchimpConnection(base_url=fake.url, api_key=SecretStr(key))
    return LocalContext(connections={"mc": conn}, url_allowlist=["127.0.0.1"])


def _run(ctx: LocalContext, **params: object) -> pd.DataFrame:
    p = OP.parse_params({"connection": "mc", "resource": "members", "list_id": AUDIENCE,
                         **params})
    table: pd.DataFrame = OP.run(ctx, p)["table"]
    return table


@pytest.fixture
def mailchimp() -> Iterator[FakeMailchimp]:
    with fake_mailchimp(KEY) as fake:
        fake.audience(AUDIENCE, "Newsletter")
        fake.audience("f6e5d4c3b2", "Customers")
        for i in range(2500):
            fake.member(AUDIENCE, f"m{i}@example.com", FNAME=f"First{i}", LNAME="Doe",
                        member_rating=i % 5 + 1)
        yield fake


def test_reads_every_page_with_merge_fields_as_typed_columns(mailchimp: FakeMailchimp
                                                              ) -> None:
    ctx = _ctx(mailchimp)
    table = _run(ctx)
    assert len(table) == 2500 and table["id"].is_unique
    row = table.loc[table["email_address"] == "m7@example.com"].iloc[0]
    assert (row["FNAME"], row["LNAME"], row["member_rating"]) == ("First7", "Doe", 3)
    assert str(table["member_rating"].dtype) == "Int64"
    assert str(table["last_changed"].dtype).startswith("datetime64")
    assert "_links" not in table.columns  # each record's links are left out
    report = ctx.source_reports[-1]
    assert report["pages"] == 3 and report["new"] == 2500 and report["full_refresh"]
    # 1,000 a page by offset, changed members oldest first.
    queries = [r["query"] for r in mailchimp.requests]
    assert [(q["count"], q["offset"]) for q in queries] == [
        ("1000", "0"), ("1000", "1000"), ("1000", "2000")]
    assert all(q["sort_field"] == "last_changed" and q["sort_dir"] == "ASC" for q in queries)


def test_the_next_run_fetches_only_what_changed_and_counts_new_and_updated(
        mailchimp: FakeMailchimp) -> None:
    ctx = _ctx(mailchimp)
    _run(ctx)
    mailchimp.member(AUDIENCE, "m5@example.com", status="unsubscribed")
    mailchimp.member(AUDIENCE, "new@example.com", FNAME="New")
    mailchimp.requests.clear()
    table = _run(ctx)
    assert sorted(table["email_address"]) == ["m5@example.com", "new@example.com"]
    assert table.loc[table["email_address"] == "m5@example.com", "status"].tolist() == [
        "unsubscribed"]
    report = ctx.source_reports[-1]
    assert (report["new"], report["updated"]) == (1, 1)
    assert report["cursor_before"] < report["cursor_after"]
    # Asked only for members changed from the last run's latest on.
    assert mailchimp.requests[0]["query"]["since_last_changed"] == report["cursor_before"]
    # Nothing changed: the third run reads nothing new (the boundary member is not repeated).
    assert len(_run(ctx)) == 0


def test_the_accumulated_output_merges_by_id(mailchimp: FakeMailchimp) -> None:
    ctx = _ctx(mailchimp)
    _run(ctx, output="accumulated")
    mailchimp.member(AUDIENCE, "m5@example.com", status="unsubscribed")
    table = _run(ctx, output="accumulated")
    assert len(table) == 2500
    assert table.loc[table["email_address"] == "m5@example.com", "status"].tolist() == [
        "unsubscribed"]


def test_a_full_refresh_starts_over(mailchimp: FakeMailchimp) -> None:
    ctx = _ctx(mailchimp)
    _run(ctx)
    ctx.full_refresh = True
    assert len(_run(ctx)) == 2500


def test_campaigns_are_read_whole_every_run(mailchimp: FakeMailchimp) -> None:
    mailchimp.campaign("c1", subject_line="Spring sale", status="sent", emails_sent=2400)
    mailchimp.campaign("c2", subject_line="Draft")
    ctx = _ctx(mailchimp)
    first = _run(ctx, resource="campaigns", output="accumulated")
    assert sorted(first["subject_line"]) == ["Draft", "Spring sale"]
    mailchimp.campaign("c2", status="sent", emails_sent=2500)
    again = _run(ctx, resource="campaigns", output="accumulated")
    assert again.loc[again["id"] == "c2", "emails_sent"].tolist() == [2500]
    assert ctx.source_reports[-1]["updated"] == 2
    assert all("since_last_changed" not in r["query"] for r in mailchimp.requests)


def test_the_form_offers_the_accounts_audiences(mailchimp: FakeMailchimp) -> None:
    ctx = _ctx(mailchimp)
    assert OP.options(ctx, {"connection": "mc"}, "list_id") == [AUDIENCE, "f6e5d4c3b2"]
    with pytest.raises(OperatorError) as caught:
        OP.options(_ctx(mailchimp, key="wrong-key-us21"), {"connection": "mc"}, "list_id")
    assert caught.value.field == "connection" and "wrong-key-us21" not in str(caught.value)


def test_a_rate_limit_is_backed_off_and_retried(mailchimp: FakeMailchimp) -> None:
    mailchimp.throttle = 2
    ctx = _ctx(mailchimp)
    assert len(_run(ctx)) == 2500
    assert sum("Mailchimp: HTTP 429; retrying." in line for line in ctx.logs) == 2
    assert ctx.source_reports[-1]["retries"] == 2


def test_a_refused_key_names_the_connection_and_what_to_do(mailchimp: FakeMailchimp) -> None:
    wrong = "fedcba9876543210fedcba9876543210-us21"
    ctx = _ctx(mailchimp, key=wrong)
    with pytest.raises(OperatorError) as caught:
        _run(ctx)
    message = caught.value.message
    assert message.startswith("Mailchimp refused the credentials (HTTP 401)")
    assert "API key" in message and "API Key Invalid" in message
    assert caught.value.field == "connection"
    basic = base64.b64encode(f"datagran:{wrong}".encode()).decode()
    said = message + " ".join(ctx.logs)
    assert wrong not in said and basic not in said
    assert ctx.source_reports == []  # nothing recorded: the cursor does not move


def test_an_unknown_audience_is_a_404_naming_it(mailchimp: FakeMailchimp) -> None:
    with pytest.raises(OperatorError) as caught:
        _run(_ctx(mailchimp), list_id="0000000000")
    assert "HTTP 404" in caught.value.message and "0000000000" in caught.value.message


def test_a_private_address_is_refused_without_the_allowlist(mailchimp: FakeMailchimp) -> None:
    ctx = _ctx(mailchimp)
    ctx.url_allowlist = []
    with pytest.raises(OperatorError, match="private"):
        _run(ctx)
    with pytest.raises(OperatorError, match="private"):
        OP.options(ctx, {"connection": "mc"}, "list_id")
    assert mailchimp.requests == [] and ctx.source_reports == []


def test_an_unreachable_server_is_a_passing_fault() -> None:
    conn = MailchimpConnection(base_url="http://127.0.0.1:9", api_key=SecretStr(KEY))
    ctx = LocalContext(connections={"mc": conn}, url_allowlist=["127.0.0.1"])
    with pytest.raises(RetryableError, match="cannot reach"):
        OP.run(ctx, OP.parse_params({"connection": "mc", "list_id": AUDIENCE}))


def test_the_columns_are_known_before_it_runs() -> None:
    p = OP.parse_params({"connection": "mc", "list_id": AUDIENCE})
    types = {c["name"]: c["type"] for c in OP.infer_schema(LocalContext(), p)["table"] or []}
    assert types["email_address"] == "str" and types["last_changed"] == "datetime"
    assert types["FNAME"] == "str" and types["member_rating"] == "int"
    p = OP.parse_params({"connection": "mc", "resource": "campaigns"})
    types = {c["name"]: c["type"] for c in OP.infer_schema(LocalContext(), p)["table"] or []}
    assert types["emails_sent"] == "int" and types["send_time"] == "datetime"


@pytest.mark.parametrize("hostile", [
    {"list_id": "../../campaigns"},
    {"list_id": "a1b2c3d4e5/members?count=1"},
    {"list_id": "a" * 33},
    {"list_id": ""},  # members need an audience
    {"resource": "lists/a1b2c3d4e5/members"},
])
def test_a_hostile_param_is_refused(mailchimp: FakeMailchimp, hostile: dict[str, object]
                                    ) -> None:
    with pytest.raises(ValidationError) as caught:
        OP.parse_params({"connection": "mc", "resource": "members", **hostile})
    assert any(e["loc"] in (("list_id",), ("resource",), ()) for e in caught.value.errors())
    assert mailchimp.requests == []
