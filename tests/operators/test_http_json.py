from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
import tenacity
from pydantic import SecretStr, ValidationError

from operators import LocalContext, OperatorError, get_operator
from operators.connections import HttpConnection
from operators.errors import RetryableError

from .action_helpers import assert_secret_nowhere
from .local_http import JsonHandler, serve

op = get_operator("connector.http_json")
TOKEN = "canary-api-token-5be1-SECRET"
ITEMS = [{"id": i, "name": f"item {i}", "owner": {"team": "red" if i % 2 else "blue"}}
         for i in range(1, 8)]


class FakeApi(JsonHandler):
    """Seven items behind every kind of pagination, and a few misbehaving endpoints."""

    requests: list[dict[str, Any]] = []
    throttled: set[str] = set()  # paths answering 429 once

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        FakeApi.requests.append({"path": parts.path, "query": query,
                                 "auth": self.headers.get("X-Api-Key", "")})
        if self.headers.get("X-Api-Key") != f"Token {TOKEN}":
            return self.reply(401, {"error": f"bad key {self.headers.get('X-Api-Key')}"})
        if parts.path in FakeApi.throttled:
            FakeApi.throttled.discard(parts.path)
            return self.reply(429, {"error": "slow down"}, {"Retry-After": "3"})
        handler = getattr(self, "get_" + parts.path.strip("/").replace("/", "_"), None)
        if handler is None:
            return self.reply(404, {"error": "no such endpoint"})
        handler(query)

    def get_v1_pages(self, q: dict[str, str]) -> None:
        size = int(q.get("per_page", 3))
        start = (int(q["page"]) - 1) * size
        self.reply(200, {"data": {"items": ITEMS[start:start + size]}})

    def get_v1_offsets(self, q: dict[str, str]) -> None:
        offset, limit = int(q.get("offset", 0)), int(q.get("limit", 3))
        self.reply(200, ITEMS[offset:offset + limit])

    def get_v1_cursors(self, q: dict[str, str]) -> None:
        start = int(q.get("after", 0))
        page = ITEMS[start:start + 3]
        more = start + 3 < len(ITEMS)
        self.reply(200, {"results": page, "meta": {"next": str(start + 3) if more else None}})

    def get_v1_linked(self, q: dict[str, str]) -> None:
        start = int(q.get("from", 0))
        headers = {"Link": f'</v1/linked?from={start + 3}>; rel="next", </v1/linked>; '
                           'rel="first"'} if start + 3 < len(ITEMS) else {}
        self.reply(200, ITEMS[start:start + 3], headers)

    def get_v1_elsewhere(self, q: dict[str, str]) -> None:
        port = self.server.server_address[1]  # type: ignore[index]  # an AF_INET server
        self.reply(200, ITEMS[:1], {"Link": f'<http://localhost:{port}/v1/linked>; rel="next"'})

    def get_v1_stuck(self, q: dict[str, str]) -> None:
        self.reply(200, {"results": ITEMS[:1], "meta": {"next": "same"}})

    def get_v1_html(self, q: dict[str, str]) -> None:
        self.reply(200, raw=b"<html>hello</html>", headers={"X-Kind": "html"})

    def get_v1_moved(self, q: dict[str, str]) -> None:
        self.reply(302, {}, {"Location": "http://169.254.169.254/latest/meta-data"})

    def get_v1_broken(self, q: dict[str, str]) -> None:
        self.reply(503, {"error": "down"})

    def get_v1_scalars(self, q: dict[str, str]) -> None:
        self.reply(200, {"tags": ["a", "b"]})


@pytest.fixture
def api() -> Iterator[str]:
    FakeApi.requests, FakeApi.throttled = [], set()
    with serve(FakeApi) as url:
        yield url


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """dlt's retrying client waits through tenacity: note the waits instead of sleeping."""
    noted: list[float] = []
    monkeypatch.setattr(tenacity.nap, "time", SimpleNamespace(sleep=noted.append))
    return noted


def context(api: str, token: str = TOKEN, allow: bool = True) -> LocalContext:
    conn = HttpConnection(base_url=api, auth_header="X-Api-Key", auth_scheme="Token",
                          token=SecretStr(token))
    return LocalContext(connections={"api": conn}, url_allowlist=["127.0.0.1"] if allow else [])


def fetch(ctx: LocalContext, **raw: Any) -> pd.DataFrame:
    return op.run(ctx, op.parse_params({"connection": "api", **raw}))["table"]


def test_page_pagination_reads_every_page_and_flattens_nested_fields(api: str) -> None:
    ctx = context(api)
    table = fetch(ctx, path="/v1/pages", records_path="data.items", pagination="page",
                  page_size_param="per_page", page_size=3,
                  query_params=[{"name": "sort", "value": "id"}])
    assert list(table["id"]) == list(range(1, 8))
    assert list(table.columns) == ["id", "name", "owner.team"]
    assert [r["query"] for r in FakeApi.requests] == [
        {"sort": "id", "page": str(p), "per_page": "3"} for p in (1, 2, 3)]
    assert FakeApi.requests[0]["auth"] == f"Token {TOKEN}"
    assert ctx.logs == ["The API: 7 records in 3 pages (7 new, 0 updated)."]


def test_without_a_page_size_it_reads_until_an_empty_page(api: str) -> None:
    table = fetch(context(api), path="/v1/pages", records_path="data.items",
                  pagination="page")
    assert len(table) == 7 and len(FakeApi.requests) == 4


def test_offset_pagination_advances_by_the_records_received(api: str) -> None:
    table = fetch(context(api), path="v1/offsets", pagination="offset",
                  page_size_param="limit", page_size=3)
    assert list(table["id"]) == list(range(1, 8))
    assert [r["query"]["offset"] for r in FakeApi.requests] == ["0", "3", "6"]


def test_cursor_pagination_follows_the_cursor_in_the_response(api: str) -> None:
    table = fetch(context(api), path="/v1/cursors", records_path="results",
                  pagination="cursor", cursor_param="after", cursor_path="meta.next")
    assert list(table["id"]) == list(range(1, 8))
    assert [r["query"].get("after") for r in FakeApi.requests] == [None, "3", "6"]


def test_link_header_pagination_follows_rel_next(api: str) -> None:
    table = fetch(context(api), path="/v1/linked", pagination="link_header")
    assert list(table["id"]) == list(range(1, 8))
    assert [r["query"].get("from") for r in FakeApi.requests] == [None, "3", "6"]


def test_a_next_link_to_another_host_is_not_followed(api: str) -> None:
    with pytest.raises(OperatorError) as err:
        fetch(context(api), path="/v1/elsewhere", pagination="link_header")
    assert err.value.field == "paginator" and "http://localhost:" in err.value.message
    assert len(FakeApi.requests) == 1


def test_a_cursor_that_never_changes_ends_the_reading(api: str) -> None:
    table = fetch(context(api), path="/v1/stuck", records_path="results",
                  pagination="cursor", cursor_param="after", cursor_path="meta.next")
    assert len(FakeApi.requests) == 2 and len(table) == 2


def test_it_stops_at_max_pages_and_says_so(api: str) -> None:
    ctx = context(api)
    table = fetch(ctx, path="/v1/pages", records_path="data.items", pagination="page",
                  page_size_param="per_page", page_size=3, max_pages=2)
    assert len(table) == 6
    assert ctx.logs[-1] == "Stopped after 2 pages (max_pages); the API may have more records."


def test_a_rate_limit_is_waited_out_as_the_api_asks(api: str, waits: list[float]) -> None:
    FakeApi.throttled = {"/v1/offsets"}
    ctx = context(api)
    table = fetch(ctx, path="/v1/offsets", pagination="none")
    assert len(table) == 3 and waits == [3.0] and len(FakeApi.requests) == 2
    assert ctx.logs[0] == "The API: HTTP 429, asked to wait 3 s; retrying."


def test_the_wait_is_capped_whatever_the_api_asks(api: str, waits: list[float]) -> None:
    FakeApi.throttled = {"/v1/offsets"}
    fetch(context(api), path="/v1/offsets", retry_max_wait_seconds=0.5)
    assert waits == [0.5]


def test_a_loopback_api_is_refused_unless_allow_listed(api: str) -> None:
    with pytest.raises(OperatorError) as err:
        fetch(context(api, allow=False), path="/v1/offsets")
    assert err.value.field == "connection" and "DATAGRAN_URL_ALLOWLIST" in err.value.message
    assert FakeApi.requests == []


def test_a_redirect_is_not_followed(api: str) -> None:
    with pytest.raises(OperatorError) as err:
        fetch(context(api), path="/v1/moved")
    assert err.value.field == "path" and "redirects to 169.254.169.254" in err.value.message
    assert len(FakeApi.requests) == 1


def test_refused_credentials_are_reported_on_the_connection_without_the_token(
        api: str) -> None:
    wrong = "canary-wrong-token-SECRET"
    with pytest.raises(OperatorError) as err:
        fetch(context(api, token=wrong), path="/v1/offsets")
    assert err.value.field == "connection"
    assert err.value.message.startswith("The API refused the credentials (HTTP 401): check "
                                        "the token of the connection")
    # The server echoed the header back; the message must not repeat it.
    assert_secret_nowhere(wrong, err.value)


def test_an_unknown_path_is_reported_on_the_path(api: str) -> None:
    with pytest.raises(OperatorError) as err:
        fetch(context(api), path="/v1/nothing")
    assert err.value.field == "path" and "HTTP 404" in err.value.message


def test_a_server_error_that_outlasts_the_retries_is_reported(
        api: str, waits: list[float]) -> None:
    with pytest.raises(RetryableError) as err:
        fetch(context(api), path="/v1/broken", retries=2)
    # A passing fault: the engine retries the node later.
    assert err.value.message == "The API answered HTTP 503; the node will be retried."
    assert len(waits) == 2 and len(FakeApi.requests) == 3


def test_a_response_that_is_not_json_is_reported(api: str) -> None:
    with pytest.raises(OperatorError) as err:
        fetch(context(api), path="/v1/html")
    assert err.value.field == "path" and err.value.message.startswith(
        "The API: malformed page: the server answered something that is not JSON")


def test_a_records_path_that_is_not_there_lists_the_keys_that_are(api: str) -> None:
    with pytest.raises(OperatorError) as err:
        fetch(context(api), path="/v1/cursors", records_path="items")
    assert err.value.field == "data_selector"
    assert err.value.message == "The response has no 'items'; its keys are: results, meta."
    with pytest.raises(OperatorError) as err:
        fetch(context(api), path="/v1/cursors")
    assert err.value.message.startswith("The response is dict, not a list of records")


def test_a_list_of_plain_values_becomes_a_value_column(api: str) -> None:
    table = fetch(context(api), path="/v1/scalars", records_path="tags")
    assert table.to_dict("list") == {"value": ["a", "b"]}


def test_the_token_never_shows_in_the_table_or_the_logs(api: str, waits: list[float]) -> None:
    FakeApi.throttled = {"/v1/pages"}
    ctx = context(api)
    table = fetch(ctx, path="/v1/pages", records_path="data.items", pagination="page",
                  page_size_param="per_page")
    assert_secret_nowhere(TOKEN, table, ctx.logs)


@pytest.mark.parametrize("raw", [
    {"path": "http://169.254.169.254/latest"}, {"path": "//evil.test/x"},
    {"path": "/x?a=1"}, {"max_pages": 100_001}, {"max_pages": 0}, {"pagination": "pages"},
    {"records_path": "data..items"}, {"retry_max_wait_seconds": 301}, {"timeout_seconds": 0},
    {"pagination": "page", "query_params": [{"name": "page", "value": "2"}]},
    {"query_params": [{"name": "a b", "value": "1"}]},
])
def test_it_rejects_params_that_would_misfire(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        op.parse_params({"connection": "api", **raw})


def test_the_schema_is_unknown_until_the_api_answers() -> None:
    assert op.infer_schema(LocalContext(), op.parse_params({"connection": "api"})) == {
        "table": None}
