"""The Stripe source against a fake Stripe speaking its list API: pages by starting_after,
typed columns (amounts in cents as integers, created as a timestamp), incremental runs on
created, the accumulated table, rate limits and a refused key."""
from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError

from operators import LocalContext, get_operator
from operators.base import OperatorError
from operators.connections import StripeConnection
from operators.errors import RetryableError

from .fake_stripe import FakeStripe, fake_stripe

OP = get_operator("connector.stripe")
KEY = "sk_test_fake_key_1234"


def _ctx(fake: FakeStripe, key: str = KEY) -> LocalContext:
    conn = StripeConnection(base_url=fake.url, api_key=SecretStr(key))
    return LocalContext(connections={"st": conn}, url_allowlist=["127.0.0.1"])


def _run(ctx: LocalContext, **params: object) -> pd.DataFrame:
    p = OP.parse_params({"connection": "st", "resource": "charges", **params})
    table: pd.DataFrame = OP.run(ctx, p)["table"]
    return table


@pytest.fixture
def stripe() -> Iterator[FakeStripe]:
    with fake_stripe(KEY) as fake:
        for i in range(250):
            fake.add("charges", i, amount=1000 + i, amount_refunded=0, currency="usd",
                     customer=f"cus_{i % 7:06d}", status="succeeded", paid=True,
                     refunded=False)
        yield fake


def test_reads_every_page_with_typed_columns(stripe: FakeStripe) -> None:
    ctx = _ctx(stripe)
    table = _run(ctx)
    assert len(table) == 250 and table["id"].nunique() == 250
    # Amounts stay integers in cents; created (unix seconds) is a timestamp, not 1970.
    assert str(table["amount"].dtype) == "Int64"
    assert table.loc[table["id"] == "ch_000010", "amount"].tolist() == [1010]
    assert str(table["created"].dtype).startswith("datetime64")
    assert table["created"].min() == pd.Timestamp(1_700_000_001, unit="s", tz="UTC")
    report = ctx.source_reports[-1]
    assert report["pages"] == 3 and report["new"] == 250 and report["full_refresh"]
    # 100 a page; each next page starts after the last id of the one before (newest first).
    queries = [r["query"] for r in stripe.requests]
    assert all(q["limit"] == ["100"] for q in queries)
    assert [q.get("starting_after") for q in queries] == [None, ["ch_000150"], ["ch_000050"]]


def test_the_next_run_fetches_only_charges_created_since(stripe: FakeStripe) -> None:
    ctx = _ctx(stripe)
    _run(ctx)
    stripe.add("charges", 900, amount=5, currency="usd", status="succeeded")
    stripe.add("charges", 901, amount=6, currency="usd", status="succeeded")
    # A change to an old charge: Stripe's list API filters on created, so it is not seen.
    stripe.change("charges", "ch_000005", refunded=True, amount_refunded=1005)
    stripe.requests.clear()
    table = _run(ctx)
    assert sorted(table["id"]) == ["ch_000900", "ch_000901"]
    report = ctx.source_reports[-1]
    assert (report["new"], report["updated"]) == (2, 0)
    assert report["cursor_before"] < report["cursor_after"]
    # The API was asked only for charges created from the last run's latest on.
    assert stripe.requests[0]["query"]["created[gte]"] == ["1700000250"]
    # Nothing new: the third run reads nothing (the boundary charge is not repeated).
    assert len(_run(ctx)) == 0


def test_the_accumulated_output_merges_by_id(stripe: FakeStripe) -> None:
    ctx = _ctx(stripe)
    _run(ctx, output="accumulated")
    stripe.add("charges", 900, amount=5, currency="usd", status="succeeded")
    table = _run(ctx, output="accumulated")
    assert len(table) == 251 and table["id"].is_unique


def test_with_incremental_off_changes_are_read_and_counted_as_updated(stripe: FakeStripe
                                                                       ) -> None:
    ctx = _ctx(stripe)
    _run(ctx, incremental=False, output="accumulated")
    stripe.change("charges", "ch_000005", refunded=True, amount_refunded=1005)
    stripe.add("charges", 900, amount=5, currency="usd", status="succeeded")
    table = _run(ctx, incremental=False, output="accumulated")
    assert len(table) == 251
    assert table.loc[table["id"] == "ch_000005", "amount_refunded"].tolist() == [1005]
    report = ctx.source_reports[-1]
    assert (report["new"], report["updated"]) == (1, 250)


def test_a_full_refresh_starts_over(stripe: FakeStripe) -> None:
    ctx = _ctx(stripe)
    _run(ctx)
    ctx.full_refresh = True
    stripe.requests.clear()
    assert len(_run(ctx)) == 250
    assert stripe.requests[0]["query"]["created[gte]"] == ["0"]


def test_canceled_subscriptions_are_read_too(stripe: FakeStripe) -> None:
    stripe.add("subscriptions", 1, customer="cus_000001", status="active", currency="usd",
               start_date=1_700_000_000, cancel_at_period_end=False, canceled_at=None)
    stripe.add("subscriptions", 2, customer="cus_000002", status="canceled", currency="usd",
               start_date=1_700_000_000, cancel_at_period_end=False,
               canceled_at=1_700_000_500)
    ctx = _ctx(stripe)
    table = _run(ctx, resource="subscriptions")
    assert sorted(table["status"]) == ["active", "canceled"]
    canceled = table.loc[table["status"] == "canceled", "canceled_at"].tolist()
    assert canceled == [pd.Timestamp(1_700_000_500, unit="s", tz="UTC")]


def test_a_rate_limit_is_backed_off_and_retried(stripe: FakeStripe) -> None:
    stripe.throttle = 2
    ctx = _ctx(stripe)
    assert len(_run(ctx)) == 250
    assert sum("Stripe: HTTP 429; retrying." in line for line in ctx.logs) == 2
    assert ctx.source_reports[-1]["retries"] == 2


def test_a_refused_key_names_the_connection_and_what_to_do(stripe: FakeStripe) -> None:
    ctx = _ctx(stripe, key="sk_live_wrong_secret_key_9876")
    with pytest.raises(OperatorError) as caught:
        _run(ctx)
    message = caught.value.message
    assert message.startswith("Stripe refused the credentials (HTTP 401)")
    assert "secret key" in message and caught.value.field == "connection"
    assert "sk_live_wrong_secret_key_9876" not in message + " ".join(ctx.logs)
    assert ctx.source_reports == []  # nothing recorded: the cursor does not move


def test_a_private_address_is_refused_without_the_allowlist(stripe: FakeStripe) -> None:
    ctx = _ctx(stripe)
    ctx.url_allowlist = []
    with pytest.raises(OperatorError, match="private"):
        _run(ctx)
    assert stripe.requests == [] and ctx.source_reports == []


def test_an_unreachable_server_is_a_passing_fault() -> None:
    conn = StripeConnection(base_url="http://127.0.0.1:9", api_key=SecretStr(KEY))
    ctx = LocalContext(connections={"st": conn}, url_allowlist=["127.0.0.1"])
    with pytest.raises(RetryableError, match="cannot reach"):
        OP.run(ctx, OP.parse_params({"connection": "st"}))


def test_the_columns_are_known_before_it_runs() -> None:
    for resource, expected in (("charges", {"amount": "int", "customer": "str"}),
                               ("invoices", {"amount_due": "int", "due_date": "datetime"}),
                               ("customers", {"email": "str", "balance": "int"})):
        p = OP.parse_params({"connection": "st", "resource": resource})
        schema = OP.infer_schema(LocalContext(), p)["table"] or []
        types = {c["name"]: c["type"] for c in schema}
        assert types["id"] == "str" and types["created"] == "datetime"
        assert expected.items() <= types.items()


@pytest.mark.parametrize("hostile", [
    {"resource": "balance_transactions"},
    {"resource": "charges?expand[]=customer"},
    {"resource": "../v1/customers"},
    {"path": "/v1/balance"},
    {"max_records": 0},
])
def test_a_hostile_param_is_refused(stripe: FakeStripe, hostile: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        OP.parse_params({"connection": "st", **hostile})
    assert stripe.requests == []


def test_a_cap_needs_incremental_off_as_stripe_lists_the_newest_first(stripe: FakeStripe
                                                                      ) -> None:
    # Capped, an incremental run would keep the 10 newest and move the cursor past the 240
    # older charges it never read.
    with pytest.raises(ValidationError, match="max_records: Stripe lists the newest"):
        OP.parse_params({"connection": "st", "max_records": 10})
    table = _run(_ctx(stripe), incremental=False, max_records=100)
    assert len(table) == 100 and len(stripe.requests) == 1
