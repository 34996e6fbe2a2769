"""A REST source reading through a connection marked dry run only (the demo's) never calls
the API: it reads the sandbox records bundled with Datagran for that source, in the API's own
format, through the same load (typed columns, incremental cursor, accumulated table, report),
and its log says so. A source without sandbox data refuses, naming the connection."""
from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from pydantic import SecretStr

from operators import LocalContext, get_operator
from operators.base import OperatorError
from operators.connections import HubSpotConnection
from operators.connectors.hubspot import SANDBOX_PROPERTIES, sandbox_contacts
from operators.connectors.sample import load_sample

from .fake_hubspot import FakeHubSpot, fake_hubspot

OP = get_operator("connector.hubspot")
TOKEN = "hs-token"
NOT_CALLED = ("Dry-run connection: read 2,000 sandbox contacts bundled with Datagran; "
              "HubSpot was not called.")


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    """A live HubSpot the connection points at (allow-listed): it must get no request."""
    with fake_hubspot(TOKEN) as fake:
        fake.put("contacts", "1", email="live@example.com")
        yield fake


def _ctx(fake: FakeHubSpot, *, dry_run_only: bool = True) -> LocalContext:
    conn = HubSpotConnection(base_url=fake.url, access_token=SecretStr(TOKEN),
                             dry_run_only=dry_run_only)
    return LocalContext(connections={"hs": conn}, url_allowlist=["127.0.0.1"])


def _run(ctx: LocalContext, **params: object) -> pd.DataFrame:
    p = OP.parse_params({"connection": "hs", "resource": "contacts",
                         "properties": list(SANDBOX_PROPERTIES), **params})
    table: pd.DataFrame = OP.run(ctx, p)["table"]
    return table


def test_a_dry_run_only_connection_reads_the_sandbox_contacts_and_calls_nobody(
        hubspot: FakeHubSpot) -> None:
    ctx = _ctx(hubspot)
    table = _run(ctx)
    assert hubspot.requests == []
    customers = load_sample("customers")
    assert len(table) == len(customers) == 2000
    assert sorted(table["email"]) == sorted(customers["email"])
    assert "live@example.com" not in set(table["email"])
    assert set(SANDBOX_PROPERTIES) <= set(table.columns)
    assert str(table["updatedAt"].dtype).startswith("datetime64")
    # The churn label and the model's inputs are the sample's, as HubSpot's text values.
    row = table.set_index("email").loc["customer_00001@example.com"]
    first = customers.iloc[0]
    assert (row["plan"], row["churned"]) == (first["plan"], first["churned"])
    assert row["tenure_months"] == str(first["tenure_months"])
    report = ctx.source_reports[-1]
    assert (report["records"], report["new"], report["pages"]) == (2000, 2000, 0)
    assert report["cursor_after"] and report["full_refresh"]
    assert NOT_CALLED in ctx.logs


def test_the_next_dry_run_continues_from_the_cursor_and_the_accumulated_table_is_kept(
        hubspot: FakeHubSpot) -> None:
    ctx = _ctx(hubspot)
    first = _run(ctx, output="accumulated")
    again = _run(ctx, output="accumulated")
    report = ctx.source_reports[-1]
    assert (report["records"], report["new"], report["updated"]) == (0, 0, 0)
    assert report["cursor_before"] == report["cursor_after"] == \
        ctx.source_reports[0]["cursor_after"]
    assert sorted(again["id"]) == sorted(first["id"]) and len(again) == 2000
    assert _run(ctx, output="new").empty
    # A full refresh reads every sandbox contact again.
    ctx.full_refresh = True
    assert len(_run(ctx)) == 2000 and ctx.source_reports[-1]["full_refresh"]
    assert hubspot.requests == []


def test_only_the_properties_asked_for_become_columns(hubspot: FakeHubSpot) -> None:
    ctx = _ctx(hubspot)
    table = _run(ctx, properties=["email", "plan"])
    assert set(table.columns) == {"id", "createdAt", "updatedAt", "archived", "email", "plan"}
    # A property the sandbox account lacks comes back empty, as HubSpot answers it.
    table = _run(ctx, properties=["email", "jobtitle"], incremental=False)
    assert table["jobtitle"].isna().all() and table["email"].notna().all()


def test_max_records_stops_the_read_and_the_next_run_continues_after_it(
        hubspot: FakeHubSpot) -> None:
    ctx = _ctx(hubspot)
    first = _run(ctx, max_records=150)
    assert len(first) == 150 and "Stopped after 150 records (max_records)." in ctx.logs
    then = _run(ctx, max_records=150)
    # The record the first run ended on is read again (a closed range), and dropped.
    assert len(then) == 149 and not set(then["id"]) & set(first["id"])
    assert then["updatedAt"].min() >= first["updatedAt"].max()
    assert hubspot.requests == []


def test_a_resource_without_sandbox_data_is_refused_naming_the_connection(
        hubspot: FakeHubSpot) -> None:
    ctx = _ctx(hubspot)
    p = OP.parse_params({"connection": "hs", "resource": "deals", "properties": ["amount"]})
    with pytest.raises(OperatorError) as err:
        OP.run(ctx, p)
    assert err.value.field == "connection"
    assert "dry run only" in err.value.message and "sandbox deals" in err.value.message
    assert TOKEN not in err.value.message
    assert hubspot.requests == [] and ctx.source_reports == []


def test_a_connection_not_marked_dry_run_only_reads_the_live_api(hubspot: FakeHubSpot
                                                                  ) -> None:
    ctx = _ctx(hubspot, dry_run_only=False)
    table = _run(ctx)
    assert list(table["email"]) == ["live@example.com"] and len(hubspot.requests) == 1
    assert not any("sandbox" in line for line in ctx.logs)


def test_the_sandbox_records_are_in_hubspots_search_format() -> None:
    contacts = sandbox_contacts()
    assert len(contacts) == 2000 and len({c["id"] for c in contacts}) == 2000
    for c in contacts:
        assert set(c) == {"id", "createdAt", "updatedAt", "archived", "properties"}
        assert c["createdAt"] <= c["updatedAt"] and c["updatedAt"].endswith("Z")
        assert set(c["properties"]) == set(SANDBOX_PROPERTIES)
        assert all(v is None or isinstance(v, str) for v in c["properties"].values())
    # Oldest change first, as the search API sorts by last modified.
    assert [c["updatedAt"] for c in contacts] == sorted(c["updatedAt"] for c in contacts)
    # The sample's missing spend stays missing (null), never the text "nan".
    spends = [c["properties"]["monthly_spend"] for c in contacts]
    assert None in spends and "nan" not in spends
