"""The generic REST API source (connector.http_json on dlt's rest_api) against a fake JSON
API: every paginator, incremental runs that send the last cursor in a ``since`` parameter,
the accumulated table, a rate limit waited out, a refused token, a page that is not JSON, a
cursor field the records lack, and a private address refused."""
from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
import tenacity
from pydantic import SecretStr, ValidationError

from operators import LocalContext, get_operator
from operators.base import OperatorError
from operators.connections import HttpConnection
from operators.connectors._dlt import state_key

from .fake_rest import FakeRest, fake_rest

OP = get_operator("connector.http_json")
PAGINATORS: dict[str, dict[str, Any]] = {
    "single_page": {"path": "/all"},
    "page_number": {"path": "/pages", "page_size_param": "per_page", "page_size": 10},
    "offset": {"path": "/offsets", "page_size_param": "limit", "page_size": 10},
    "cursor": {"path": "/cursors", "cursor_param": "cursor", "cursor_path": "next_cursor"},
    "header_link": {"path": "/linked"},
}
INCREMENTAL: dict[str, Any] = {"path": "/cursors", "data_selector": "data", "paginator": "cursor",
               "cursor_param": "cursor", "cursor_path": "next_cursor",
               "incremental_cursor": "updated_at", "incremental_param": "since",
               "primary_key": ["id"]}


@pytest.fixture
def api() -> Iterator[FakeRest]:
    with fake_rest() as fake:
        for i in range(1, 26):
            fake.put(i, name=f"record {i}")
        yield fake


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """dlt's retrying client waits through tenacity: note the waits instead of sleeping."""
    noted: list[float] = []
    monkeypatch.setattr(tenacity.nap, "time", SimpleNamespace(sleep=noted.append))
    return noted


def _ctx(fake: FakeRest, token: str = "rest-token") -> LocalContext:
    conn = HttpConnection(base_url=fake.url, token=SecretStr(token))
    ctx = LocalContext(connections={"api": conn}, url_allowlist=["127.0.0.1"])
    ctx.connection_names = {"api": "Acme API"}  # type: ignore[attr-defined]
    return ctx


def _run(ctx: LocalContext, **params: Any) -> pd.DataFrame:
    p = OP.parse_params({"connection": "api", "data_selector": "data", **params})
    table: pd.DataFrame = OP.run(ctx, p)["table"]
    return table


@pytest.mark.parametrize("paginator", PAGINATORS)
def test_each_paginator_reads_every_record_once(api: FakeRest, paginator: str) -> None:
    ctx = _ctx(api)
    table = _run(ctx, paginator=paginator, **PAGINATORS[paginator])
    assert sorted(table["id"]) == list(range(1, 26))
    pages = 1 if paginator == "single_page" else 3
    # Page and offset stop at the short third page, cursor and link when the API has no next.
    assert len(api.requests) == pages and ctx.source_reports[-1]["pages"] == pages
    assert all(r["auth"] == "Bearer rest-token" for r in api.requests)


def test_the_next_run_sends_the_cursor_as_since_and_counts_new_and_updated(
        api: FakeRest) -> None:
    ctx = _ctx(api)
    assert len(_run(ctx, **INCREMENTAL)) == 25
    first = ctx.source_reports[-1]
    assert first["cursor_field"] == "updated_at" and first["cursor_before"] is None
    assert "since" not in api.requests[0]["query"]
    api.put(5, name="changed")
    api.put(99, name="new")
    api.requests.clear()
    table = _run(ctx, **INCREMENTAL)
    assert sorted(table["id"]) == [5, 99]
    assert table.loc[table["id"] == 5, "name"].tolist() == ["changed"]
    report = ctx.source_reports[-1]
    assert (report["new"], report["updated"]) == (1, 1)
    assert report["cursor_before"] == first["cursor_after"] < report["cursor_after"]
    # The API was asked only for records from the last run's cursor on.
    assert api.requests[0]["query"]["since"] == first["cursor_after"]
    # Nothing changed: the record the last run ended on is not read again as new.
    assert len(_run(ctx, **INCREMENTAL)) == 0
    assert ctx.source_reports[-1]["new"] == 0


def test_without_a_since_parameter_older_records_are_dropped(api: FakeRest) -> None:
    ctx = _ctx(api)
    params = {**INCREMENTAL, "incremental_param": ""}
    _run(ctx, **params)
    api.put(7, name="changed")
    api.requests.clear()
    table = _run(ctx, **params)
    assert table["id"].tolist() == [7]
    assert all("since" not in r["query"] for r in api.requests)


def test_the_first_run_starts_at_incremental_start(api: FakeRest) -> None:
    ctx = _ctx(api)
    table = _run(ctx, **INCREMENTAL, incremental_start="2024-01-01T00:20:00Z")
    assert sorted(table["id"]) == list(range(20, 26))
    assert api.requests[0]["query"]["since"] == "2024-01-01T00:20:00Z"


def test_the_accumulated_output_merges_by_primary_key_and_full_refresh_starts_over(
        api: FakeRest) -> None:
    ctx = _ctx(api)
    _run(ctx, **INCREMENTAL, output="accumulated")
    api.put(3, name="changed")
    table = _run(ctx, **INCREMENTAL, output="accumulated")
    assert len(table) == 25 and table["id"].is_unique
    assert table.loc[table["id"] == 3, "name"].tolist() == ["changed"]
    ctx.full_refresh = True
    api.requests.clear()
    assert len(_run(ctx, **INCREMENTAL)) == 25
    assert "since" not in api.requests[0]["query"] and ctx.source_reports[-1]["full_refresh"]


def test_a_rate_limit_is_waited_out_as_the_api_asks(api: FakeRest, waits: list[float]) -> None:
    api.throttle = 2
    ctx = _ctx(api)
    assert len(_run(ctx, **PAGINATORS["cursor"], paginator="cursor")) == 25
    assert waits == [1.0, 1.0]
    assert ctx.logs[:2] == ["Acme API: HTTP 429, asked to wait 1 s; retrying."] * 2
    assert ctx.source_reports[-1]["retries"] == 2


def test_a_refused_token_names_the_connection_and_leaks_nothing(api: FakeRest) -> None:
    ctx = _ctx(api, token="wrong-secret-token")
    with pytest.raises(OperatorError) as caught:
        _run(ctx, **INCREMENTAL)
    message = caught.value.message
    assert message.startswith("Acme API refused the credentials (HTTP 401)")
    assert caught.value.field == "connection"
    # The API echoed the header back: the token is redacted from the message and the logs.
    assert "wrong-secret-token" not in message + " ".join(ctx.logs)
    assert ctx.source_reports == [] and ctx.source_states == {}


def test_a_page_that_is_not_json_is_a_malformed_page_of_the_connection(api: FakeRest) -> None:
    api.html_on_request = 2
    ctx = _ctx(api)
    with pytest.raises(OperatorError) as caught:
        _run(ctx, **INCREMENTAL)
    assert caught.value.message.startswith("Acme API: malformed page: the server answered "
                                           "something that is not JSON")
    assert caught.value.field == "path"
    assert ctx.source_reports == []  # a failed run does not move the cursor


def test_records_without_the_cursor_field_name_it(api: FakeRest) -> None:
    ctx = _ctx(api)
    with pytest.raises(OperatorError) as caught:
        _run(ctx, **{**INCREMENTAL, "incremental_cursor": "modified_at"})
    assert caught.value.field == "incremental"
    assert "'modified_at'" in caught.value.message and "Acme API" in caught.value.message
    assert ctx.source_reports == []


def test_a_private_address_is_refused_before_any_request(api: FakeRest) -> None:
    ctx = _ctx(api)
    ctx.url_allowlist = []
    with pytest.raises(OperatorError) as caught:
        _run(ctx, **INCREMENTAL)
    assert "DATAGRAN_URL_ALLOWLIST" in caught.value.message
    assert api.requests == [] and ctx.source_reports == []


@pytest.mark.parametrize("raw", [
    {"output": "accumulated"},  # nothing to merge by
    {"incremental_cursor": "updated_at", "incremental_param": "since",
     "query_params": [{"name": "since", "value": "1970-01-01"}]},
    {"paginator": "page_number", "incremental_param": "page"},
    {"primary_key": ["id", "a b"]},
    {"incremental_cursor": "updated..at"},
    {"incremental_param": "since&admin=1"},
    {"max_pages": 0},
])
def test_params_that_would_misfire_are_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        OP.parse_params({"connection": "api", **raw})


def test_params_saved_before_dlt_still_load() -> None:
    p = OP.parse_params({"connection": "api", "records_path": "data.items",
                         "pagination": "link_header"})
    assert (getattr(p, "data_selector"), getattr(p, "paginator")) == (  # noqa: B009
        "data.items", "header_link")


def test_the_columns_are_known_once_a_run_has_seen_them() -> None:
    p = OP.parse_params({"connection": "api", **INCREMENTAL})
    ctx = LocalContext()
    assert OP.infer_schema(ctx, p) == {"table": None}
    key = state_key("connector.http_json", p.model_dump(mode="json"))
    ctx.known_schemas[key] = [{"name": "id", "type": "int"}]
    assert OP.infer_schema(ctx, p) == {"table": [{"name": "id", "type": "int"}]}


def test_braces_in_a_query_value_are_sent_as_typed(api: FakeRest) -> None:
    """dlt reads {...} in params as placeholders; a user's value is sent literally."""
    _run(_ctx(api), path="/all", query_params=[{"name": "filter", "value": "{x} a}b{"}])
    assert api.requests[-1]["query"]["filter"] == "{x} a}b{"


def test_a_sample_reads_one_page_and_leaves_the_cursor_alone(api: FakeRest) -> None:
    ctx = _ctx(api)
    p = OP.parse_params({"connection": "api", **INCREMENTAL})
    sample = OP.sample(ctx, p)
    assert sample["id"].tolist() == list(range(1, 11)) and "updated_at" in sample.columns
    assert len(api.requests) == 1 and ctx.source_reports == []
    assert len(_run(ctx, **INCREMENTAL)) == 25  # the first run still reads everything
