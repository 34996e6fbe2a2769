"""The Zendesk source against a fake Zendesk speaking its incremental export API: pages until
end_of_stream, the after_cursor kept as the next run's since-token (tickets, users), the
update time for organizations, the accumulated table, rate limits and refused credentials."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError

from operators import LocalContext, get_operator
from operators.base import OperatorError
from operators.connections import ZendeskConnection
from operators.errors import RetryableError

from .fake_zendesk import FakeZendesk, fake_zendesk

OP = get_operator("connector.zendesk")
START_2000 = "946684800"  # the default start_date, 2000-01-01, in unix seconds


def _ctx(fake: FakeZendesk, token: str = "zd-token") -> LocalContext:
    conn = ZendeskConnection(base_url=fake.url, email="agent@example.com",
                             api_token=SecretStr(token))
    return LocalContext(connections={"zd": conn}, url_allowlist=["127.0.0.1"])


def _run(ctx: LocalContext, **params: object) -> pd.DataFrame:
    p = OP.parse_params({"connection": "zd", "resource": "tickets", **params})
    table: pd.DataFrame = OP.run(ctx, p)["table"]
    return table


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    with fake_zendesk() as fake:
        for i in range(1, 251):
            fake.put("tickets", i, subject=f"Ticket {i}", status="open", requester_id=i * 10,
                     tags=["vip"] if i % 2 else [], via={"channel": "email"})
            fake.put("organizations", i, name=f"Org {i}", domain_names=[f"o{i}.example"])
        yield fake


def test_reads_every_page_until_the_end_of_the_stream_as_typed_columns(
        zendesk: FakeZendesk) -> None:
    ctx = _ctx(zendesk)
    table = _run(ctx)
    assert len(table) == 250 and table["id"].nunique() == 250
    assert str(table["id"].dtype) == "Int64" and str(table["requester_id"].dtype) == "Int64"
    assert str(table["updated_at"].dtype).startswith("datetime64")
    assert json.loads(table.loc[table["id"] == 1, "tags"].item()) == ["vip"]
    assert set(table["via.channel"]) == {"email"}
    report = ctx.source_reports[-1]
    assert report["pages"] == 3 and report["new"] == 250 and report["full_refresh"]
    # The first page from start_date, the next ones by the cursor each page gave, never both.
    sent = zendesk.params()
    assert sent[0] == {"start_time": START_2000, "per_page": "1000"}
    assert [set(p) for p in sent[1:]] == [{"cursor", "per_page"}] * 2


def test_the_next_run_continues_from_zendesks_after_cursor(zendesk: FakeZendesk) -> None:
    ctx = _ctx(zendesk)
    _run(ctx)
    first = ctx.source_reports[-1]
    assert first["cursor_field"] == "after_cursor"
    zendesk.put("tickets", 5, status="solved")
    zendesk.put("tickets", 999, subject="New ticket", status="new")
    zendesk.requests.clear()
    table = _run(ctx)
    assert sorted(table["id"]) == [5, 999]
    assert table.loc[table["id"] == 5, "status"].item() == "solved"
    report = ctx.source_reports[-1]
    assert (report["new"], report["updated"]) == (1, 1)
    # It asked from the token the last run ended on, and keeps the one this run ended on.
    assert zendesk.params() == [{"cursor": first["cursor_after"], "per_page": "1000"}]
    assert report["cursor_before"] == first["cursor_after"] != report["cursor_after"]
    # Nothing changed: the third run reads nothing, with the same columns (none gone).
    empty = _run(ctx)
    assert len(empty) == 0 and list(empty.columns) == list(table.columns)
    assert ctx.source_reports[-1]["missing_columns"] == []


def test_a_run_stopped_by_max_records_loses_nothing(zendesk: FakeZendesk) -> None:
    ctx = _ctx(zendesk)
    first = _run(ctx, max_records=150)
    assert len(first) == 150 and zendesk.params()[0]["per_page"] == "150"
    # The since-token is the one after the last page read whole: the next run reads the
    # rest of the page it stopped in again, and nothing is skipped.
    second = _run(ctx, max_records=150)
    assert set(first["id"]) | set(second["id"]) == set(range(1, 251))
    assert len(_run(ctx, max_records=150)) == 0


def test_organizations_continue_from_the_last_update_time(zendesk: FakeZendesk) -> None:
    ctx = _ctx(zendesk)
    assert len(_run(ctx, resource="organizations")) == 250
    last = ctx.source_reports[-1]["cursor_after"]
    zendesk.put("organizations", 7, name="Renamed")
    zendesk.requests.clear()
    table = _run(ctx, resource="organizations")
    assert table["name"].tolist() == ["Renamed"]
    assert zendesk.params() == [{"start_time": str(int(pd.Timestamp(last).timestamp()))}]
    assert len(_run(ctx, resource="organizations")) == 0  # the boundary record is not repeated


def test_the_accumulated_output_merges_by_id(zendesk: FakeZendesk) -> None:
    ctx = _ctx(zendesk)
    _run(ctx, output="accumulated")
    zendesk.put("tickets", 5, status="solved")
    table = _run(ctx, output="accumulated")
    assert len(table) == 250
    assert table.loc[table["id"] == 5, "status"].tolist() == ["solved"]


def test_a_full_refresh_starts_over_from_the_start_date(zendesk: FakeZendesk) -> None:
    ctx = _ctx(zendesk)
    _run(ctx)
    ctx.full_refresh = True
    zendesk.requests.clear()
    assert len(_run(ctx)) == 250
    assert zendesk.params()[0] == {"start_time": START_2000, "per_page": "1000"}


def test_a_rate_limit_is_waited_out_as_the_api_asks(zendesk: FakeZendesk) -> None:
    zendesk.throttle = 2
    ctx = _ctx(zendesk)
    assert len(_run(ctx)) == 250
    assert sum("HTTP 429" in line and "wait 1 s" in line for line in ctx.logs) == 2


def test_refused_credentials_name_the_connection_and_what_to_do(zendesk: FakeZendesk) -> None:
    ctx = _ctx(zendesk, token="wrong-secret-token")
    with pytest.raises(OperatorError) as caught:
        _run(ctx)
    message = caught.value.message
    assert "HTTP 401" in message and "API token" in message and "Connections" in message
    assert caught.value.field == "connection"
    assert "wrong-secret-token" not in message + " ".join(ctx.logs)
    assert ctx.source_reports == []  # nothing recorded: the cursor does not move


def test_a_cursor_zendesk_refuses_says_to_start_over(zendesk: FakeZendesk) -> None:
    ctx = _ctx(zendesk)
    _run(ctx)
    key = ctx.source_reports[-1]["state_key"]
    ctx.source_states[key]["cursor"] = "not-a-cursor"  # as a stale or foreign token would be
    with pytest.raises(OperatorError, match="Full refresh") as caught:
        _run(ctx)
    assert caught.value.field == "incremental"


def test_a_page_that_is_not_an_export_page_names_the_connection(zendesk: FakeZendesk
                                                                ) -> None:
    zendesk.malformed = True
    ctx = _ctx(zendesk)
    with pytest.raises(OperatorError, match="without end_of_stream") as caught:
        _run(ctx)
    assert caught.value.field == "connection" and ctx.source_reports == []


def test_a_private_address_is_refused_without_the_allowlist(zendesk: FakeZendesk) -> None:
    ctx = _ctx(zendesk)
    ctx.url_allowlist = []
    with pytest.raises(OperatorError, match="private"):
        _run(ctx)
    assert zendesk.requests == []


def test_an_unreachable_server_is_a_passing_fault() -> None:
    conn = ZendeskConnection(base_url="http://127.0.0.1:9", email="a@example.com",
                             api_token=SecretStr("t"))
    ctx = LocalContext(connections={"zd": conn}, url_allowlist=["127.0.0.1"])
    with pytest.raises(RetryableError, match="cannot reach"):
        OP.run(ctx, OP.parse_params({"connection": "zd"}))


def test_the_columns_are_known_before_it_runs() -> None:
    p = OP.parse_params({"connection": "zd", "resource": "users"})
    schema = OP.infer_schema(LocalContext(), p)["table"] or []
    types = {c["name"]: c["type"] for c in schema}
    assert types["id"] == "int" and types["email"] == "str" and types["active"] == "bool"
    assert types["updated_at"] == "datetime"


@pytest.mark.parametrize(("params", "field"), [
    ({"start_date": "2999-01-01"}, "start_date"),
    ({"start_date": "1969-12-31"}, "start_date"),
    ({"start_date": "0; DROP TABLE"}, "start_date"),
    ({"resource": "../../admin"}, "resource"),
])
def test_a_hostile_param_is_refused_before_anything_is_sent(
        zendesk: FakeZendesk, params: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        _run(_ctx(zendesk), **params)
    assert zendesk.requests == []
