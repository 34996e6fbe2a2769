"""The Google Sheets source against a fake Google: the service account's signed token
exchange, a range read with its header row and typed columns, a sheet name that needs
quoting, the accumulated table by a key column, a sheet not shared, a key Google refuses, a
token it no longer accepts, a rate limit, a private address refused, the sheet names for the
range picker and the connection's Test button."""
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
from operators.connections import GoogleSheetsConnection
from operators.connectors._connection import check_connection

from .fake_google import SCOPE, FakeGoogle, Spreadsheet, fake_google, key_json, new_key

OP = get_operator("connector.google_sheets")
SHEET_ID = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"
EMAIL = "datagran@demo.iam.gserviceaccount.com"
CUSTOMERS: list[list[Any]] = [
    ["id", "name", "spend", "active", "code", "note"],
    [1, "Ada", 12.5, True, "007", "vip"],
    [2, "Grace", 40, False, "12"],  # Google leaves out the empty last cell: ragged
    [3, "Linus", "", True, "x1", ""],
    [4, "Margaret", 7, True, "9", "called"],
]


@pytest.fixture
def google() -> Iterator[tuple[FakeGoogle, dict[str, str]]]:
    with fake_google() as fake:
        key = fake.account(EMAIL)
        fake.spreadsheets[SHEET_ID] = Spreadsheet(
            sheets={"Customers": [list(r) for r in CUSTOMERS],
                    "Q1 '24": [["a", "b"], [1, 2]]}, shared_with={EMAIL})
        yield fake, key


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """dlt's retrying client waits through tenacity: note the waits instead of sleeping."""
    noted: list[float] = []
    monkeypatch.setattr(tenacity.nap, "time", SimpleNamespace(sleep=noted.append))
    return noted


def _conn(fake: FakeGoogle, key: dict[str, str]) -> GoogleSheetsConnection:
    return GoogleSheetsConnection(service_account_json=SecretStr(key_json(key)),
                                  base_url=fake.url, token_url=fake.token_url)


def _ctx(fake: FakeGoogle, key: dict[str, str]) -> LocalContext:
    ctx = LocalContext(connections={"g": _conn(fake, key)}, url_allowlist=["127.0.0.1"])
    ctx.connection_names = {"g": "Marketing sheets"}  # type: ignore[attr-defined]
    return ctx


def _run(ctx: LocalContext, **params: Any) -> pd.DataFrame:
    p = OP.parse_params({"connection": "g", "spreadsheet_id": SHEET_ID,
                         "range": "Customers!A1:F", **params})
    table: pd.DataFrame = OP.run(ctx, p)["table"]
    return table


def _everywhere(ctx: LocalContext, *texts: str) -> str:
    return " ".join([*texts, *ctx.logs])


def test_a_range_reads_with_its_header_typed_and_padded(
        google: tuple[FakeGoogle, dict[str, str]]) -> None:
    fake, key = google
    ctx = _ctx(fake, key)
    table = _run(ctx)
    assert list(table.columns) == ["id", "name", "spend", "active", "code", "note"]
    assert table["id"].tolist() == [1, 2, 3, 4] and str(table["id"].dtype) == "int64"
    assert str(table["spend"].dtype) == "float64" and pd.isna(table["spend"][2])
    assert table["active"].tolist() == [True, False, True, True]
    # A column with a text among numbers stays text, as in an uploaded file.
    assert table["code"].tolist() == ["007", "12", "x1", "9"]
    assert table["note"].tolist() == ["vip", None, None, "called"]
    # The service account signed its assertion for the read-only scope; Google verified it.
    assert [(a["iss"], a["scope"]) for a in fake.assertions] == [(EMAIL, SCOPE)]
    report = ctx.source_reports[-1]
    assert (report["records"], report["pages"], report["cursor_field"]) == (4, 1, None)


def test_without_a_header_row_columns_are_named_by_their_letter(
        google: tuple[FakeGoogle, dict[str, str]]) -> None:
    fake, key = google
    table = _run(_ctx(fake, key), range="Customers!B2:C3", header_row=False)
    assert table.to_dict("list") == {"B": ["Ada", "Grace"], "C": [12.5, 40.0]}


def test_a_sheet_name_that_needs_quoting_is_sent_whole(
        google: tuple[FakeGoogle, dict[str, str]]) -> None:
    fake, key = google
    table = _run(_ctx(fake, key), range="'Q1 ''24'!A1:B")
    assert table.to_dict("list") == {"a": [1], "b": [2]}
    assert fake.requests[-1]["path"].endswith("/values/%27Q1%20%27%2724%27%21A1%3AB")


def test_the_accumulated_output_merges_by_the_key_column(
        google: tuple[FakeGoogle, dict[str, str]]) -> None:
    fake, key = google
    ctx = _ctx(fake, key)
    _run(ctx, primary_key=["id"], output="accumulated")
    rows = fake.spreadsheets[SHEET_ID].sheets["Customers"]
    rows[1][1] = "Ada L."
    del rows[2]  # a row deleted from the sheet stays in the accumulated table
    rows.append([5, "Barbara", 3, False, "5", ""])
    table = _run(ctx, primary_key=["id"], output="accumulated")
    assert sorted(table["id"]) == [1, 2, 3, 4, 5]
    assert table.loc[table["id"] == 1, "name"].tolist() == ["Ada L."]
    report = ctx.source_reports[-1]
    assert (report["new"], report["updated"]) == (1, 3)


def test_a_primary_key_the_range_lacks_is_named_with_the_columns_it_has(
        google: tuple[FakeGoogle, dict[str, str]]) -> None:
    fake, key = google
    ctx = _ctx(fake, key)
    with pytest.raises(OperatorError) as caught:
        _run(ctx, primary_key=["customer_id"], output="accumulated")
    assert caught.value.field == "primary_key"
    assert caught.value.message == ("Marketing sheets: the range has no column 'customer_id' "
                                    "for the primary key; its columns are: id, name, spend, "
                                    "active, code, note.")
    assert ctx.source_reports == []


def test_a_sheet_not_shared_names_the_account_to_share_it_with(
        google: tuple[FakeGoogle, dict[str, str]]) -> None:
    fake, key = google
    fake.spreadsheets[SHEET_ID].shared_with.clear()
    ctx = _ctx(fake, key)
    with pytest.raises(OperatorError) as caught:
        _run(ctx)
    message = caught.value.message
    assert message.startswith("Marketing sheets refused the credentials (HTTP 403)")
    assert f"share the spreadsheet with the service account {EMAIL}" in message
    assert "PERMISSION_DENIED" in message and caught.value.field == "connection"
    assert ctx.source_reports == []


def test_a_key_google_does_not_know_is_refused_and_never_shown(
        google: tuple[FakeGoogle, dict[str, str]]) -> None:
    fake, _ = google
    stranger, _public = new_key(EMAIL)  # a key of the same account Google never issued
    ctx = _ctx(fake, stranger)
    with pytest.raises(OperatorError) as caught:
        _run(ctx)
    assert caught.value.message.startswith(
        f"Marketing sheets: Google refused the service account {EMAIL} (HTTP 400: "
        "invalid_grant Invalid JWT Signature.)")
    assert caught.value.field == "connection"
    secret_line = stranger["private_key"].splitlines()[1]
    assert secret_line not in _everywhere(ctx, caught.value.message, repr(caught.value))
    # Only the token exchange was tried: no sheet was asked for without a token.
    assert [r["path"] for r in fake.requests] == ["/token"] and ctx.source_reports == []


def test_an_access_token_the_api_refuses_is_reported_on_the_connection(
        google: tuple[FakeGoogle, dict[str, str]]) -> None:
    fake, key = google
    fake.revoke_tokens = True  # Google issues a token the Sheets API then refuses
    ctx = _ctx(fake, key)
    with pytest.raises(OperatorError) as caught:
        _run(ctx)
    assert caught.value.message.startswith("Marketing sheets refused the credentials (HTTP "
                                           "401)")
    assert "UNAUTHENTICATED" in caught.value.message and caught.value.field == "connection"
    assert "ya29." not in _everywhere(ctx, caught.value.message)


def test_a_rate_limit_is_waited_out(google: tuple[FakeGoogle, dict[str, str]],
                                   waits: list[float]) -> None:
    fake, key = google
    fake.throttle = 1
    ctx = _ctx(fake, key)
    assert len(_run(ctx)) == 4
    assert len(waits) == 1 and ctx.source_reports[-1]["retries"] == 1
    assert ctx.logs[0] == "Marketing sheets: HTTP 429; retrying."


def test_a_private_address_is_refused_before_anything_is_sent(
        google: tuple[FakeGoogle, dict[str, str]]) -> None:
    fake, key = google
    ctx = _ctx(fake, key)
    ctx.url_allowlist = []
    with pytest.raises(OperatorError) as caught:
        _run(ctx)
    assert "DATAGRAN_URL_ALLOWLIST" in caught.value.message
    assert fake.requests == [] and ctx.source_reports == []


def test_a_range_google_cannot_parse_is_reported_on_the_range(
        google: tuple[FakeGoogle, dict[str, str]]) -> None:
    fake, key = google
    with pytest.raises(OperatorError) as caught:
        _run(_ctx(fake, key), range="Orders!A1:C")
    assert caught.value.field == "range" and "Unable to parse range: Orders!A1:C" in \
        caught.value.message


def test_the_range_picker_offers_the_sheet_names(
        google: tuple[FakeGoogle, dict[str, str]]) -> None:
    fake, key = google
    names = OP.options(_ctx(fake, key), {"connection": "g", "spreadsheet_id": SHEET_ID},
                       "range")
    assert names == ["Customers", "'Q1 ''24'"]
    with pytest.raises(OperatorError) as caught:
        OP.options(_ctx(fake, key), {"connection": "g", "spreadsheet_id": "../x"}, "range")
    assert caught.value.field == "spreadsheet_id"


def test_a_sample_gives_the_columns_the_canvas_knows_before_a_run(
        google: tuple[FakeGoogle, dict[str, str]]) -> None:
    fake, key = google
    ctx = _ctx(fake, key)
    p = OP.parse_params({"connection": "g", "spreadsheet_id": SHEET_ID,
                         "range": "Customers!A1:F"})
    assert OP.infer_schema(ctx, p) == {"table": None}  # not sampled yet
    sample = OP.sample(ctx, p)
    assert list(sample.columns)[:3] == ["id", "name", "spend"] and len(sample) == 4
    assert ctx.source_reports == []  # a sample is not a load


def test_the_test_button_exchanges_the_key_for_a_token(
        google: tuple[FakeGoogle, dict[str, str]]) -> None:
    fake, key = google
    ok = check_connection(_conn(fake, key), url_allowlist=["127.0.0.1"], sqlite_root=None)
    assert ok.ok and EMAIL in ok.message
    stranger, _public = new_key(EMAIL)
    refused = check_connection(_conn(fake, stranger), url_allowlist=["127.0.0.1"],
                               sqlite_root=None)
    assert not refused.ok and "invalid_grant" in refused.message
    assert stranger["private_key"].splitlines()[1] not in refused.message
    fake.requests.clear()
    private = check_connection(_conn(fake, key), url_allowlist=[], sqlite_root=None)
    assert not private.ok and fake.requests == []
    broken = GoogleSheetsConnection(service_account_json=SecretStr("{not json"),
                                    token_url=fake.token_url)
    said = check_connection(broken, url_allowlist=["127.0.0.1"], sqlite_root=None)
    assert not said.ok and "not JSON" in said.message and "{not json" not in said.message


@pytest.mark.parametrize("raw", [
    {"spreadsheet_id": "../../v4/x"}, {"spreadsheet_id": "short"},
    {"range": "Customers!A1:B2/../../../token"}, {"range": "Sheet1!A1:B2?x=1"},
    {"range": ""}, {"range": "x" * 201}, {"output": "accumulated"},
    {"primary_key": [" "]}, {"max_records": 0},
])
def test_params_that_would_misfire_are_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        OP.parse_params({"connection": "g", "spreadsheet_id": SHEET_ID, **raw})
