"""The HubSpot source against a fake HubSpot speaking its search API: pages, properties,
incremental runs that fetch only what changed, the accumulated table, rate limits and a
refused token."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest
from pydantic import SecretStr

from operators import LocalContext, get_operator
from operators.base import OperatorError
from operators.connections import HubSpotConnection
from operators.errors import RetryableError

from .fake_hubspot import FakeHubSpot, fake_hubspot

OP = get_operator("connector.hubspot")


def _ctx(fake: FakeHubSpot, token: str = "hs-token") -> LocalContext:
    conn = HubSpotConnection(base_url=fake.url, access_token=SecretStr(token))
    return LocalContext(connections={"hs": conn}, url_allowlist=["127.0.0.1"])


def _run(ctx: LocalContext, **params: object) -> pd.DataFrame:
    p = OP.parse_params({"connection": "hs", "resource": "contacts",
                         "properties": ["email", "num_notes"], **params})
    table: pd.DataFrame = OP.run(ctx, p)["table"]
    return table


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    with fake_hubspot() as fake:
        for i in range(250):
            fake.put("contacts", str(i), email=f"c{i}@example.com", num_notes=i % 7)
        yield fake


def test_reads_every_page_with_the_chosen_properties_as_typed_columns(hubspot: FakeHubSpot
                                                                       ) -> None:
    ctx = _ctx(hubspot)
    table = _run(ctx)
    assert len(table) == 250 and table["id"].nunique() == 250
    assert {"email", "num_notes", "updatedAt"} <= set(table.columns)
    assert str(table["num_notes"].dtype) == "float64"
    assert str(table["updatedAt"].dtype).startswith("datetime64")
    report = ctx.source_reports[-1]
    assert report["pages"] == 3 and report["new"] == 250 and report["full_refresh"]
    # Each page asked for at most 100 records and the chosen properties.
    bodies = [json.loads(r["body"]) for r in hubspot.requests]
    assert all(b["limit"] == 100 and b["properties"] == ["email", "num_notes"] for b in bodies)


def test_the_next_run_fetches_only_what_changed_and_counts_new_and_updated(
        hubspot: FakeHubSpot) -> None:
    ctx = _ctx(hubspot)
    _run(ctx)
    hubspot.put("contacts", "5", email="changed@example.com")
    hubspot.put("contacts", "999", email="new@example.com")
    hubspot.requests.clear()
    table = _run(ctx)
    assert sorted(table["id"]) == ["5", "999"]
    report = ctx.source_reports[-1]
    assert (report["new"], report["updated"]) == (1, 1)
    assert report["cursor_before"] < report["cursor_after"]
    # The API was asked only for records modified since the last run's cursor.
    body = json.loads(hubspot.requests[0]["body"])
    assert body["filterGroups"][0]["filters"][0]["operator"] == "GTE"
    # Nothing changed: the third run reads nothing new (the boundary record is not repeated).
    assert len(_run(ctx)) == 0


def test_the_accumulated_output_merges_by_primary_key(hubspot: FakeHubSpot) -> None:
    ctx = _ctx(hubspot)
    _run(ctx, output="accumulated")
    hubspot.put("contacts", "5", email="changed@example.com")
    table = _run(ctx, output="accumulated")
    assert len(table) == 250
    assert table.loc[table["id"] == "5", "email"].tolist() == ["changed@example.com"]


def test_a_full_refresh_starts_over(hubspot: FakeHubSpot) -> None:
    ctx = _ctx(hubspot)
    _run(ctx)
    ctx.full_refresh = True
    assert len(_run(ctx)) == 250


def test_a_rate_limit_is_waited_out_as_the_api_asks(hubspot: FakeHubSpot) -> None:
    hubspot.throttle = 2
    ctx = _ctx(hubspot)
    assert len(_run(ctx)) == 250
    assert sum("HTTP 429" in line and "wait 1 s" in line for line in ctx.logs) == 2


def test_a_refused_token_names_the_connection_and_what_to_do(hubspot: FakeHubSpot) -> None:
    ctx = _ctx(hubspot, token="wrong-secret-token")
    with pytest.raises(OperatorError) as caught:
        _run(ctx)
    assert "HTTP 401" in caught.value.message and "access token" in caught.value.message
    assert caught.value.field == "connection"
    assert "wrong-secret-token" not in caught.value.message + " ".join(ctx.logs)
    assert ctx.source_reports == []  # nothing recorded: the cursor does not move


def test_a_private_address_is_refused_without_the_allowlist(hubspot: FakeHubSpot) -> None:
    ctx = _ctx(hubspot)
    ctx.url_allowlist = []
    with pytest.raises(OperatorError, match="private"):
        _run(ctx)
    assert hubspot.requests == []


def test_an_unreachable_server_is_a_passing_fault() -> None:
    conn = HubSpotConnection(base_url="http://127.0.0.1:9", access_token=SecretStr("t"))
    ctx = LocalContext(connections={"hs": conn}, url_allowlist=["127.0.0.1"])
    p = OP.parse_params({"connection": "hs"})
    with pytest.raises(RetryableError, match="cannot reach"):
        OP.run(ctx, p)


def test_the_columns_are_known_before_it_runs() -> None:
    p = OP.parse_params({"connection": "hs", "properties": ["email", "amount"]})
    names = [c["name"] for c in OP.infer_schema(LocalContext(), p)["table"] or []]
    assert names[:4] == ["id", "createdAt", "updatedAt", "archived"]
    assert names[4:] == ["email", "amount"]


def test_a_property_name_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="properties.0"):
        OP.parse_params({"connection": "hs", "properties": ["email\"}]"]})


def test_a_redirect_is_not_followed_and_the_token_stays_home() -> None:
    from tests.operators.local_http import JsonHandler, serve

    seen: list[str] = []

    class Elsewhere(JsonHandler):
        def do_POST(self) -> None:
            seen.append(str(self.headers.get("Authorization")))
            self.reply(200, {"results": []})

    with serve(Elsewhere) as other:
        class Redirecting(JsonHandler):
            def do_POST(self) -> None:
                self.send_response(307)
                self.send_header("Location", other + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

        with serve(Redirecting) as url:
            conn = HubSpotConnection(base_url=url, access_token=SecretStr("hs-token"))
            ctx = LocalContext(connections={"hs": conn}, url_allowlist=["127.0.0.1"])
            with pytest.raises(OperatorError, match="redirects to") as caught:
                OP.run(ctx, OP.parse_params({"connection": "hs"}))
    assert caught.value.field == "connection" and seen == []


def test_a_page_that_is_not_json_is_a_malformed_page_naming_the_connection() -> None:
    from tests.operators.local_http import JsonHandler, serve

    class Html(JsonHandler):
        def do_POST(self) -> None:
            self.reply(200, raw=b"<html>maintenance</html>")

    with serve(Html) as url:
        conn = HubSpotConnection(base_url=url, access_token=SecretStr("hs-token"))
        ctx = LocalContext(connections={"hs": conn}, url_allowlist=["127.0.0.1"])
        with pytest.raises(OperatorError, match="HubSpot: malformed page") as caught:
            OP.run(ctx, OP.parse_params({"connection": "hs"}))
    assert caught.value.field == "connection" and ctx.source_reports == []


def test_a_changed_limit_or_output_keeps_the_cursor_and_another_resource_starts_over(
        hubspot: FakeHubSpot) -> None:
    ctx = _ctx(hubspot)
    _run(ctx)
    hubspot.put("contacts", "7", email="seven@example.com")
    assert len(_run(ctx, max_records=1000, output="accumulated")) == 250
    assert ctx.source_reports[-1]["records"] == 1  # only the change was fetched
    assert _run(ctx, properties=["email", "num_notes", "phone"]).shape[0] == 250
