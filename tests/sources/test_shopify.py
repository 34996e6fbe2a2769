"""The Shopify source against a fake Shopify speaking its Admin REST API: Link-header pages
(page_info alone on next pages), typed columns, incremental runs on updated_at in the
shop's time zone, the accumulated table, a fractional Retry-After and a refused token."""
from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError

from operators import LocalContext, get_operator
from operators.base import OperatorError
from operators.connections import ShopifyConnection
from operators.errors import RetryableError

from .fake_shopify import FakeShopify, fake_shopify

OP = get_operator("connector.shopify")
TOKEN = "shpat_fake_token_5678"


def _ctx(fake: FakeShopify, token: str = TOKEN) -> LocalContext:
    conn = ShopifyConnection(shop_url=fake.url, access_token=SecretStr(token))
    return LocalContext(connections={"shop": conn}, url_allowlist=["127.0.0.1"])


def _run(ctx: LocalContext, **params: object) -> pd.DataFrame:
    p = OP.parse_params({"connection": "shop", "resource": "orders", **params})
    table: pd.DataFrame = OP.run(ctx, p)["table"]
    return table


@pytest.fixture
def shopify() -> Iterator[FakeShopify]:
    with fake_shopify(TOKEN) as fake:
        for i in range(600):
            # Every third order is closed: read too (status=any), not only the open ones.
            fake.put("orders", 1000 + i, name=f"#{1000 + i}", email=f"o{i}@example.com",
                     total_price=f"{i}.50", currency="USD", financial_status="paid",
                     closed_at=None if i % 3 else "2023-11-14T10:00:00-05:00",
                     line_items=[{"id": i, "quantity": 1}])
        yield fake


def test_reads_every_page_of_every_status_with_typed_columns(shopify: FakeShopify) -> None:
    ctx = _ctx(shopify)
    table = _run(ctx)
    assert len(table) == 600 and table["id"].is_unique
    assert table["closed_at"].notna().sum() == 200
    assert str(table["id"].dtype) == "Int64" and str(table["total_price"].dtype) == "float64"
    assert table.loc[table["id"] == 1001, "total_price"].tolist() == [1.5]
    # updated_at in the shop's offset (-05:00) becomes one UTC timestamp column.
    assert str(table["updated_at"].dtype).startswith("datetime64")
    assert table["updated_at"].min() == pd.Timestamp(1_700_000_001, unit="s", tz="UTC")
    report = ctx.source_reports[-1]
    assert report["pages"] == 3 and report["new"] == 600 and report["full_refresh"]
    # The first page asks with the filters; the next ones by page_info alone (Shopify
    # answers 400 to any other param beside it).
    queries = [r["query"] for r in shopify.requests]
    assert queries[0] == {"limit": "250", "status": "any"}
    assert [sorted(q) for q in queries[1:]] == [["limit", "page_info"]] * 2


def test_the_next_run_fetches_only_what_changed_and_counts_new_and_updated(
        shopify: FakeShopify) -> None:
    ctx = _ctx(shopify)
    _run(ctx)
    shopify.put("orders", 1005, total_price="1.00", financial_status="refunded")
    shopify.put("orders", 9999, name="#9999", total_price="10.00", currency="USD")
    shopify.requests.clear()
    table = _run(ctx)
    assert sorted(table["id"]) == [1005, 9999]
    report = ctx.source_reports[-1]
    assert (report["new"], report["updated"]) == (1, 1)
    assert report["cursor_before"] < report["cursor_after"]
    # Asked only for orders updated from the last run's latest on (UTC, inclusive).
    assert shopify.requests[0]["query"]["updated_at_min"] == report["cursor_before"]
    # Nothing changed: the third run reads nothing new (the boundary order is not repeated).
    assert len(_run(ctx)) == 0


def test_the_accumulated_output_merges_by_id(shopify: FakeShopify) -> None:
    ctx = _ctx(shopify)
    _run(ctx, output="accumulated")
    shopify.put("orders", 1005, total_price="1.00", financial_status="refunded")
    table = _run(ctx, output="accumulated")
    assert len(table) == 600
    assert table.loc[table["id"] == 1005, "financial_status"].tolist() == ["refunded"]


def test_a_full_refresh_starts_over(shopify: FakeShopify) -> None:
    ctx = _ctx(shopify)
    _run(ctx)
    ctx.full_refresh = True
    shopify.requests.clear()
    assert len(_run(ctx)) == 600
    assert "updated_at_min" not in shopify.requests[0]["query"]


def test_a_rate_limit_is_waited_out_as_long_as_shopify_asks(shopify: FakeShopify) -> None:
    # Shopify asks for "2.0" seconds; the fake answers 429 again to a retry that comes
    # sooner, so a single retry shows the wait was honoured.
    shopify.throttle = 1
    ctx = _ctx(shopify)
    assert len(_run(ctx)) == 600
    assert [line for line in ctx.logs if "429" in line] == [
        "Shopify: HTTP 429, asked to wait 2.0 s; retrying."]
    assert ctx.source_reports[-1]["retries"] == 1


def test_a_refused_token_names_the_connection_and_what_to_do(shopify: FakeShopify) -> None:
    ctx = _ctx(shopify, token="shpat_wrong_secret_token")
    with pytest.raises(OperatorError) as caught:
        _run(ctx)
    message = caught.value.message
    assert message.startswith("Shopify refused the credentials (HTTP 401)")
    assert "access token" in message and "Invalid API key or access token" in message
    assert caught.value.field == "connection"
    assert "shpat_wrong_secret_token" not in message + " ".join(ctx.logs)
    assert ctx.source_reports == []  # nothing recorded: the cursor does not move


def test_a_next_link_to_another_host_is_followed_on_the_shop_itself(shopify: FakeShopify
                                                                     ) -> None:
    # A next link naming another host: the page is still asked of the store's own address,
    # so the access token never goes anywhere else.
    shopify.link_base = "http://attacker.example"
    ctx = _ctx(shopify)
    assert len(_run(ctx)) == 600
    assert len(shopify.requests) == 3 and all(r["token"] == TOKEN for r in shopify.requests)


def test_a_private_address_is_refused_without_the_allowlist(shopify: FakeShopify) -> None:
    ctx = _ctx(shopify)
    ctx.url_allowlist = []
    with pytest.raises(OperatorError, match="private"):
        _run(ctx)
    assert shopify.requests == [] and ctx.source_reports == []


def test_an_unreachable_server_is_a_passing_fault() -> None:
    conn = ShopifyConnection(shop_url="http://127.0.0.1:9", access_token=SecretStr(TOKEN))
    ctx = LocalContext(connections={"shop": conn}, url_allowlist=["127.0.0.1"])
    with pytest.raises(RetryableError, match="cannot reach"):
        OP.run(ctx, OP.parse_params({"connection": "shop"}))


def test_the_columns_are_known_before_it_runs() -> None:
    for resource, expected in (("orders", {"total_price": "float", "email": "str"}),
                               ("customers", {"orders_count": "int", "total_spent": "float"}),
                               ("products", {"title": "str", "published_at": "datetime"})):
        p = OP.parse_params({"connection": "shop", "resource": resource})
        types = {c["name"]: c["type"] for c in OP.infer_schema(LocalContext(), p)["table"]
                 or []}
        assert types["id"] == "int" and types["updated_at"] == "datetime"
        assert expected.items() <= types.items()


@pytest.mark.parametrize("hostile", [
    {"resource": "shop"},
    {"resource": "orders.json?status=any&fields=id"},
    {"resource": "../../oauth/access_scopes"},
    {"api_version": "2024-10/../../x"},
    {"max_records": -1},
])
def test_a_hostile_param_is_refused(shopify: FakeShopify, hostile: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        OP.parse_params({"connection": "shop", **hostile})
    assert shopify.requests == []


def test_a_hostile_api_version_in_the_connection_is_refused() -> None:
    with pytest.raises(ValidationError, match="api_version"):
        ShopifyConnection(shop_url="https://x.myshopify.com", api_version="2024-10/../../x",
                          access_token=SecretStr(TOKEN))


def test_a_cap_needs_incremental_off(shopify: FakeShopify) -> None:
    with pytest.raises(ValidationError, match="max_records: Shopify's pages"):
        OP.parse_params({"connection": "shop", "max_records": 10})
    table = _run(_ctx(shopify), incremental=False, max_records=250)
    assert len(table) == 250 and len(shopify.requests) == 1
