"""The Salesforce source against a fake Salesforce speaking its query API: batches followed by
nextRecordsUrl, fields as typed columns, incremental runs on SystemModstamp, the accumulated
table, SOQL mode, a busy server, the daily API limit and an expired token."""
from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError

from operators import LocalContext, get_operator
from operators.base import OperatorError
from operators.connections import SalesforceConnection
from operators.errors import RetryableError

from .fake_salesforce import FakeSalesforce, fake_salesforce

OP = get_operator("connector.salesforce")


def _ctx(fake: FakeSalesforce, token: str = "sf-token") -> LocalContext:
    conn = SalesforceConnection(instance_url=fake.url, access_token=SecretStr(token))
    return LocalContext(connections={"sf": conn}, url_allowlist=["127.0.0.1"])


def _run(ctx: LocalContext, **params: object) -> pd.DataFrame:
    p = OP.parse_params({"connection": "sf", "resource": "Account",
                         "fields": ["Name", "AnnualRevenue", "Custom_Score__c"], **params})
    table: pd.DataFrame = OP.run(ctx, p)["table"]
    return table


@pytest.fixture
def salesforce() -> Iterator[FakeSalesforce]:
    with fake_salesforce() as fake:
        for i in range(250):
            fake.put("Account", f"001{i:05d}", Name=f"Account {i}", AnnualRevenue=i * 1000.5,
                     Custom_Score__c=i % 7, Industry="Retail")
        yield fake


def test_reads_every_batch_with_the_chosen_fields_as_typed_columns(
        salesforce: FakeSalesforce) -> None:
    ctx = _ctx(salesforce)
    table = _run(ctx)
    assert len(table) == 250 and table["Id"].nunique() == 250
    assert list(table.columns) == ["Id", "SystemModstamp", "Name", "AnnualRevenue",
                                   "Custom_Score__c"]  # no "attributes"
    assert str(table["AnnualRevenue"].dtype) == "float64"
    assert str(table["SystemModstamp"].dtype).startswith("datetime64")
    # A custom field keeps the type Salesforce sends: numbers stay numbers.
    assert table["Custom_Score__c"].tolist()[:3] == [0, 1, 2]
    report = ctx.source_reports[-1]
    assert report["pages"] == 3 and report["new"] == 250 and report["full_refresh"]
    # One query, then the batches the answers pointed to.
    assert salesforce.soql() == [
        "SELECT Id, SystemModstamp, Name, AnnualRevenue, Custom_Score__c FROM Account "
        "WHERE SystemModstamp >= 1970-01-01T00:00:00Z ORDER BY SystemModstamp ASC, Id ASC"]
    assert [r["path"].rsplit("-", 1)[-1] for r in salesforce.requests[1:]] == ["100", "200"]


def test_the_next_run_fetches_only_what_changed_and_counts_new_and_updated(
        salesforce: FakeSalesforce) -> None:
    ctx = _ctx(salesforce)
    _run(ctx)
    last = salesforce.clock
    salesforce.put("Account", "00100005", Name="Renamed")
    salesforce.put("Account", "001NEW", Name="New account")
    salesforce.requests.clear()
    table = _run(ctx)
    assert sorted(table["Id"]) == ["00100005", "001NEW"]
    report = ctx.source_reports[-1]
    assert (report["new"], report["updated"]) == (1, 1)
    assert report["cursor_before"] < report["cursor_after"]
    # The query asked only for records modified since the last run's latest, as a SOQL
    # dateTime literal.
    since = pd.Timestamp(last, unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"WHERE SystemModstamp >= {since} ORDER BY" in salesforce.soql()[0]
    # Nothing changed: the third run reads nothing new (the boundary record is not repeated).
    assert len(_run(ctx)) == 0


def test_the_accumulated_output_merges_by_id(salesforce: FakeSalesforce) -> None:
    ctx = _ctx(salesforce)
    _run(ctx, output="accumulated")
    salesforce.put("Account", "00100005", Name="Renamed")
    table = _run(ctx, output="accumulated")
    assert len(table) == 250
    assert table.loc[table["Id"] == "00100005", "Name"].tolist() == ["Renamed"]


def test_a_full_refresh_starts_over(salesforce: FakeSalesforce) -> None:
    ctx = _ctx(salesforce)
    _run(ctx)
    ctx.full_refresh = True
    assert len(_run(ctx)) == 250


def test_a_soql_query_is_sent_as_written_and_read_whole_each_run(
        salesforce: FakeSalesforce) -> None:
    salesforce.put("Account", "001BRACE", Name="A {b}", **{"Owner.Name": "Ada"})
    ctx = _ctx(salesforce)
    query = "SELECT Id, Name, Owner.Name FROM Account WHERE Name = 'A {b}'"
    table = _run(ctx, mode="soql", soql=query)
    assert salesforce.soql() == [query]  # braces are the user's, not placeholders
    assert table.to_dict("records") == [{"Id": "001BRACE", "Name": "A {b}",
                                         "Owner.Name": "Ada"}]
    assert len(_run(ctx, mode="soql", soql=query)) == 1  # no cursor: the whole query again
    assert ctx.source_reports[-1]["cursor_field"] is None


def test_a_busy_server_is_waited_out_as_it_asks(salesforce: FakeSalesforce) -> None:
    salesforce.throttle = 2
    ctx = _ctx(salesforce)
    assert len(_run(ctx)) == 250
    assert sum("HTTP 503" in line and "wait 1 s" in line for line in ctx.logs) == 2


def test_the_daily_api_limit_says_so_and_records_nothing(salesforce: FakeSalesforce) -> None:
    salesforce.daily_limit_reached = True
    ctx = _ctx(salesforce)
    with pytest.raises(OperatorError, match="daily API limit reached"):
        _run(ctx)
    assert ctx.source_reports == []
    assert len(salesforce.requests) == 1  # a daily limit is not retried within the run


def test_an_expired_token_names_the_connection_and_what_to_do(salesforce: FakeSalesforce
                                                               ) -> None:
    ctx = _ctx(salesforce, token="00Dxx!expired-secret-token")
    with pytest.raises(OperatorError) as caught:
        _run(ctx)
    message = caught.value.message
    assert "HTTP 401" in message and "access token" in message and "Connections" in message
    assert "INVALID_SESSION_ID" in message
    assert caught.value.field == "connection"
    assert "expired-secret-token" not in message + " ".join(ctx.logs)
    assert ctx.source_reports == []  # nothing recorded: the cursor does not move


def test_a_next_page_link_off_the_instance_is_not_followed(salesforce: FakeSalesforce
                                                           ) -> None:
    # A hostile or broken answer must not send the token to another host.
    salesforce.next_url = "http://attacker.example/services/data/v61.0/query/01g-100"
    ctx = _ctx(salesforce)
    with pytest.raises(OperatorError, match="next-page link is not a path on the instance"):
        _run(ctx)
    assert len(salesforce.requests) == 1 and ctx.source_reports == []


def test_a_private_address_is_refused_without_the_allowlist(salesforce: FakeSalesforce
                                                            ) -> None:
    ctx = _ctx(salesforce)
    ctx.url_allowlist = []
    with pytest.raises(OperatorError, match="private"):
        _run(ctx)
    assert salesforce.requests == []


def test_an_unreachable_server_is_a_passing_fault() -> None:
    conn = SalesforceConnection(instance_url="http://127.0.0.1:9", access_token=SecretStr("t"))
    ctx = LocalContext(connections={"sf": conn}, url_allowlist=["127.0.0.1"])
    with pytest.raises(RetryableError, match="cannot reach"):
        OP.run(ctx, OP.parse_params({"connection": "sf"}))


def test_the_columns_are_known_before_it_runs() -> None:
    def columns(**params: object) -> list[tuple[str, str]] | None:
        p = OP.parse_params({"connection": "sf", **params})
        schema = OP.infer_schema(LocalContext(), p)["table"]
        return None if schema is None else [(c["name"], c["type"]) for c in schema]

    assert columns(resource="Opportunity", fields=["Amount", "IsWon", "Stage__c"]) == [
        ("Id", "str"), ("SystemModstamp", "datetime"), ("Amount", "float"),
        ("IsWon", "bool"), ("Stage__c", "str")]
    assert columns(mode="soql", soql="SELECT Id, Account.Name FROM Contact") == [
        ("Id", "str"), ("Account.Name", "str")]
    assert columns(mode="soql", soql="SELECT COUNT(Id) FROM Contact") is None


def test_the_fields_picker_lists_the_objects_fields_custom_ones_too(
        salesforce: FakeSalesforce) -> None:
    ctx = _ctx(salesforce)
    fields = OP.options(ctx, {"connection": "sf", "resource": "Account"}, "fields")
    assert {"Id", "Name", "AnnualRevenue", "Custom_Score__c"} <= set(fields)
    assert salesforce.requests[-1]["path"] == "/services/data/v61.0/sobjects/Account/describe"
    with pytest.raises(OperatorError, match="object first"):
        OP.options(ctx, {"connection": "sf", "resource": "User/../Account"}, "fields")
    expired = _ctx(salesforce, token="expired-secret-token")
    with pytest.raises(OperatorError, match="HTTP 401") as caught:
        OP.options(expired, {"connection": "sf", "resource": "Account"}, "fields")
    assert "expired-secret-token" not in caught.value.message


@pytest.mark.parametrize(("params", "field"), [
    ({"fields": ["Name FROM User WHERE Name != ''"]}, "fields.0"),
    ({"fields": ["Name,Email"]}, "fields.0"),
    ({"mode": "soql", "soql": "SELECT Id FROM Account; DELETE FROM Account"}, "soql"),
    ({"mode": "soql", "soql": "DELETE FROM Account"}, "soql"),
    ({"mode": "soql", "soql": ""}, "soql"),
    ({"mode": "soql", "soql": "SELECT Id FROM Account WHERE Name = '" + "x" * 20_000 + "'"},
     "soql"),
])
def test_a_hostile_param_is_refused_before_anything_is_sent(
        salesforce: FakeSalesforce, params: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        _run(_ctx(salesforce), **params)
    assert salesforce.requests == []
