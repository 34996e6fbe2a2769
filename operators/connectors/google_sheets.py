"""Google Sheets: a range of a spreadsheet as a table, read as a service account.

The service account signs a JWT (RS256, dlt's ``OAuthJWTAuth``) for the read-only Sheets
scope and trades it at the connection's token URL for an access token; then one GET of
``/v4/spreadsheets/{id}/values/{range}`` answers the rows. Both go through the checked
session of ``_dlt`` (private addresses refused, 429 and 5xx retried), and the rows load
through ``_dlt.load`` like every source. A sheet has no cursor: every run reads the range;
with a primary key the accumulated output merges the rows into what earlier runs loaded."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import quote

import pandas as pd
import requests
from pydantic import Field, field_validator, model_validator

from ..actions import http
from ..base import Context, Operator, OperatorError, Params, Port, Schema
from ..connections import GoogleSheetsConnection
from . import _dlt
from ._connection import load_connection

SCOPE = "https://www.googleapis.com/auth/spreadsheets.readonly"
_SHEET = r"(?:'(?:[^'\x00-\x1f]|'')+'|[^'!:\x00-\x1f]+)"
_CELLS = r"(?:[A-Za-z]{1,3}\d{0,7}|\d{1,7})(?::(?:[A-Za-z]{1,3}\d{0,7}|\d{1,7}))?"
RANGE = rf"^{_SHEET}(?:!{_CELLS})?$"


class GoogleSheetsParams(Params):
    connection: str = Field(..., min_length=1, description="The Google service account.",
                            json_schema_extra={"x-connection": "google_sheets"})
    spreadsheet_id: str = Field(..., pattern=r"^[A-Za-z0-9_-]{10,100}$",
                                description="The spreadsheet's id: the part of its address "
                                "between /d/ and /edit.")
    range: str = Field("Sheet1", min_length=1, max_length=200, pattern=RANGE,
                       description="The sheet and cells in A1 notation, e.g. Sheet1!A1:Z or "
                       "'My sheet'!B2:F; a sheet's name alone reads all of it.",
                       json_schema_extra={"x-options-from": "source", "x-free-text": True})
    header_row: bool = Field(True, description="The range's first row holds the column "
                             "names. Off: columns are named by their letter (A, B, ...).")
    primary_key: list[str] = Field(default_factory=list, max_length=10,
                                   description="Columns that identify a row, for the "
                                   "accumulated output and for counting updated rows.")
    output: Literal["new", "accumulated"] = Field(
        "new", description="new: the rows this run read. accumulated: every row loaded so "
        "far, this run's rows merged in by primary key (rows deleted from the sheet stay).")
    max_records: int | None = Field(None, ge=1, le=10_000_000,
                                    description="Keep at most this many rows (empty: all).")

    @field_validator("primary_key")
    @classmethod
    def _names(cls, key: list[str]) -> list[str]:
        for i, name in enumerate(key):
            if not name.strip() or len(name) > 200:
                raise ValueError(f"primary_key.{i}: {name!r} is not a column name")
        return key

    @model_validator(mode="after")
    def _accumulated_needs_a_key(self) -> GoogleSheetsParams:
        if self.output == "accumulated" and not self.primary_key:
            raise ValueError("output: the accumulated table merges rows by their primary "
                             "key; set primary_key or choose new rows")
        return self


class GoogleSheetsSource(Operator):
    """Reads a range of a Google spreadsheet as a table, as a service account (share the
    spreadsheet with the account's e-mail address). The first row gives the column names
    (or the column letters when ``header_row`` is off); short rows are padded; a column
    whose every value is a number becomes a number column, as in uploaded files. A sheet has
    no cursor: each run reads the whole range. With ``primary_key``, the accumulated output
    merges each run's rows into what earlier runs loaded.

    Example: ``{"connection": "c1", "spreadsheet_id": "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74",
    "range": "Customers!A1:F"}``.
    """

    name = "connector.google_sheets"
    label = "Google Sheets"
    description = "A range of a Google spreadsheet, first row as the header."
    category = "connector"
    icon = "sheet"
    keywords = ("google", "sheets", "spreadsheet", "gsheet", "excel", "import", "range")
    outputs = (Port("table", "table"),)
    Params = GoogleSheetsParams
    reuse_output = False  # the sheet changes behind the same params
    example = {"connection": "c1", "spreadsheet_id": "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74",
               "range": "Customers!A1:F"}

    def run(self, ctx: Context, params: GoogleSheetsParams) -> dict[str, pd.DataFrame]:
        reader = _Reader(ctx, params.connection)
        key = _dlt.state_key(self.name, params.model_dump(mode="json"))
        prev = _dlt.previous(ctx, key, keyed=bool(params.primary_key))
        source = _dlt.Source(name=reader.name, records=reader.rows(params),
                             secrets=reader.secrets, primary_key=list(params.primary_key),
                             fetch=reader.fetch, auth_hint=reader.hint)
        with reader.session:
            table = _dlt.load(ctx, source, key=key, prev=prev, output=params.output,
                              max_records=params.max_records)
        return {"table": table}

    def sample(self, ctx: Context, params: GoogleSheetsParams) -> pd.DataFrame:
        reader = _Reader(ctx, params.connection)
        with reader.session:
            try:
                frames = list(reader.rows(params))
            except Exception as exc:  # noqa: BLE001 - said for people
                raise _dlt.explain(exc, reader.source()) from None
        return frames[0].head(100) if frames else pd.DataFrame()

    def options(self, ctx: Context, params: dict[str, Any], field: str) -> list[str]:
        """The spreadsheet's sheet names, for the range picker."""
        if field != "range":
            return super().options(ctx, params, field)
        raw = {k: params.get(k) for k in ("connection", "spreadsheet_id") if k in params}
        try:
            checked = GoogleSheetsParams.model_validate(raw)
        except ValueError:
            raise OperatorError("Choose the connection and the spreadsheet id first.",
                                field="spreadsheet_id") from None
        reader = _Reader(ctx, checked.connection)
        with reader.session:
            try:
                sheets = list(reader.pages(
                    f"/v4/spreadsheets/{checked.spreadsheet_id}",
                    {"fields": "sheets.properties.title"}, "sheets"))
            except Exception as exc:  # noqa: BLE001 - said for people
                raise _dlt.explain(exc, reader.source()) from None
        titles = [str((s.get("properties") or {}).get("title", "")) for page in sheets
                  for s in page if isinstance(s, dict)]
        return [_quoted(t) for t in titles if t]

    def infer_schema(self, ctx: Context, params: GoogleSheetsParams) -> dict[str, Schema | None]:
        # The columns are the sheet's: known once sampled by the form or after a run.
        return {"table": ctx.known_schema(_dlt.state_key(self.name,
                                                         params.model_dump(mode="json")))}


def _quoted(title: str) -> str:
    """A sheet name as A1 notation takes it: quoted unless letters, digits and _."""
    if title.replace("_", "").isalnum() and not title[0].isdigit():
        return title
    return "'" + title.replace("'", "''") + "'"


def service_account(conn: GoogleSheetsConnection) -> tuple[str, str]:
    """(client_email, private key PEM) from the key file; OperatorError naming what is wrong
    without quoting it."""
    from cryptography.hazmat.primitives import serialization

    try:
        key = json.loads(conn.service_account_json.get_secret_value())
    except ValueError:
        raise OperatorError("The service account key is not JSON: paste the whole key file "
                            "downloaded from Google Cloud.", field="connection") from None
    if not isinstance(key, dict) or not isinstance(key.get("client_email"), str) \
            or not isinstance(key.get("private_key"), str):
        raise OperatorError("The service account key has no client_email and private_key: "
                            "paste the whole JSON key file of a service account.",
                            field="connection")
    try:
        serialization.load_pem_private_key(key["private_key"].encode(), password=None)
    except (ValueError, TypeError):
        raise OperatorError("The service account key's private_key is not a PEM private key: "
                            "paste the key file as Google Cloud gave it.",
                            field="connection") from None
    return key["client_email"], key["private_key"]


class _Reader:
    """The connection's checked session, authenticated as the service account."""

    def __init__(self, ctx: Context, connection: str, *, timeout: float = 30,
                 retries: int = 4) -> None:
        from dlt.sources.helpers.rest_client import RESTClient
        from dlt.sources.helpers.rest_client.auth import OAuthJWTAuth

        conn = load_connection(ctx, connection, GoogleSheetsConnection)
        self.name = getattr(ctx, "connection_names", {}).get(connection, "Google Sheets")
        self.email, pem = service_account(conn)
        self.token_url = conn.token_url
        self.secrets = [pem, conn.service_account_json.get_secret_value()]
        self.hint = (f"share the spreadsheet with the service account {self.email} and check "
                     "its key on the Connections screen")
        self.fetch = _dlt.Fetch()
        self.session = _dlt.checked_session(ctx, name=self.name, secrets=self.secrets,
                                            fetch=self.fetch, timeout=timeout,
                                            retries=retries)
        self.session.max_redirects = 0  # Google's APIs answer where they are asked
        self.auth = OAuthJWTAuth(client_id=self.email, private_key=pem,
                                 auth_endpoint=conn.token_url, scopes=SCOPE,
                                 session=self.session)
        self.client = RESTClient(base_url=conn.base_url.rstrip("/"), session=self.session,
                                 auth=self.auth)

    def source(self) -> _dlt.Source:
        return _dlt.Source(name=self.name, records=(), secrets=self.secrets,
                           auth_hint=self.hint)

    def pages(self, path: str, query: dict[str, str], selector: str) -> Iterator[list[Any]]:
        from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator

        try:
            if self.auth.token is None:
                self.auth.obtain_token()
                # The token exchange is not a page of data.
                self.fetch.pages = max(self.fetch.pages - 1, 0)
            for page in self.client.paginate(path, params=query, data_selector=selector,
                                             paginator=SinglePagePaginator()):
                yield list(page)
        except requests.HTTPError as exc:
            raise self._refused(exc) from None

    def _refused(self, exc: requests.HTTPError) -> Exception:
        """What Google said, in the node's terms."""
        response = exc.response
        if response is None:
            return exc
        status = response.status_code
        said = _google_message(response, self.secrets)
        if response.url.startswith(self.token_url) and status in (400, 401, 403):
            # invalid_grant: the key was revoked, deleted, or is not this account's.
            return OperatorError(f"{self.name}: Google refused the service account "
                                 f"{self.email} (HTTP {status}: {said}); create a new key "
                                 "and paste it on the Connections screen.", field="connection")
        if status == 400:
            return OperatorError(f"{self.name}: Google could not read the range: {said}",
                                 field="range")
        if status == 404:
            return OperatorError(f"{self.name}: there is no spreadsheet with this id (HTTP "
                                 "404); copy it from the spreadsheet's address.",
                                 field="spreadsheet_id")
        return exc

    def rows(self, params: GoogleSheetsParams) -> Iterator[pd.DataFrame]:
        path = (f"/v4/spreadsheets/{params.spreadsheet_id}/values/"
                f"{quote(params.range, safe='')}")
        query = {"majorDimension": "ROWS", "valueRenderOption": "UNFORMATTED_VALUE",
                 "dateTimeRenderOption": "FORMATTED_STRING"}
        for values in self.pages(path, query, "values"):
            df = table(values, header_row=params.header_row,
                       first_column=_first_column(params.range))
            missing = [c for c in params.primary_key if c not in df.columns]
            if missing:
                raise OperatorError(f"{self.name}: the range has no column "
                                    f"{', '.join(map(repr, missing))} for the primary key; "
                                    f"its columns are: {', '.join(map(str, df.columns[:20]))}"
                                    ".", field="primary_key")
            yield df


def _google_message(response: requests.Response, secrets: list[str]) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):  # {"error": {"code", "message", "status"}}
        text = f"{error.get('status', '')} {error.get('message', '')}".strip()
    elif isinstance(error, str):  # the token endpoint: {"error", "error_description"}
        text = f"{error} {body.get('error_description', '')}".strip()
    else:
        text = " ".join(response.text.split())
    return http.redact(text, secrets)[:300] or f"HTTP {response.status_code}"


def _first_column(a1: str) -> int:
    """The range's first column, 0 for A: "Sheet1!C2:F" → 2."""
    cells = a1.rpartition("!")[2] if "!" in a1 else ""
    letters = ""
    for ch in cells:
        if not ch.isalpha():
            break
        letters += ch.upper()
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return max(number - 1, 0)


def letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def table(values: list[Any], *, header_row: bool, first_column: int = 0) -> pd.DataFrame:
    """Rows of cells as a data frame: the header (or column letters), ragged rows padded,
    each column typed."""
    rows = [r if isinstance(r, list) else [r] for r in values]
    header: list[Any] = rows.pop(0) if header_row and rows else []
    width = max([len(header), *(len(r) for r in rows)], default=0)
    names: list[str] = []
    seen: dict[str, int] = {}
    for i in range(width):
        raw = header[i] if i < len(header) else None
        name = str(raw).strip() if raw not in (None, "") else letter(first_column + i)
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    padded = [r + [None] * (width - len(r)) for r in rows]
    df = pd.DataFrame(padded, columns=names) if names else pd.DataFrame()
    for name in names:
        df[name] = _typed(df[name])
    return df


def _cell(value: Any) -> Any:
    """None for an empty cell (missing from a short row, or empty text)."""
    if value is None or value == "" or (isinstance(value, float) and pd.isna(value)):
        return None
    return value


def _typed(column: pd.Series) -> pd.Series:
    """A number column where every value is a number (or a numeric text), a true/false
    column where every value is one; text otherwise. Empty cells are missing."""
    values = pd.Series([_cell(v) for v in column], index=column.index, dtype=object)
    present = values.dropna()
    if present.empty:
        return values.astype(object)
    if present.map(lambda v: isinstance(v, bool)).all():
        return values.astype("boolean")
    if not present.map(lambda v: isinstance(v, bool)).any():
        try:
            numbers = pd.to_numeric(values, errors="raise")
        except (ValueError, TypeError):
            pass
        else:
            if numbers.notna().all() and (numbers % 1 == 0).all():
                return numbers.astype("int64")
            return numbers.astype("float64")
    return pd.Series([None if v is None else str(v) for v in values], index=values.index,
                     dtype=object)


def check(conn: GoogleSheetsConnection, url_allowlist: list[str]) -> Any:
    """The Test button: trade a signed assertion for a token, once (a CheckResult)."""
    from dlt.sources.helpers.rest_client.auth import OAuthJWTAuth

    from ..testing import LocalContext
    from ._connection import TEST_TIMEOUT, CheckResult, _host_port

    email, pem = service_account(conn)
    secrets = [pem, conn.service_account_json.get_secret_value()]
    session = _dlt.checked_session(LocalContext(url_allowlist=url_allowlist), name="Google",
                                   secrets=secrets, timeout=TEST_TIMEOUT, retries=0)
    auth = OAuthJWTAuth(client_id=email, private_key=pem, auth_endpoint=conn.token_url,
                        scopes=SCOPE, session=session)
    target = _host_port(conn.token_url)
    try:
        auth.obtain_token()
    except requests.HTTPError as exc:
        response = exc.response
        status = response.status_code if response is not None else 0
        said = _google_message(response, secrets) if response is not None else ""
        if status >= 500:
            return CheckResult(False, f"Reached {target}, but it answered HTTP {status}.")
        return CheckResult(False, f"Google refused the service account {email} (HTTP "
                                  f"{status}: {said}).")
    except (requests.RequestException, ValueError, KeyError) as exc:
        return CheckResult(False, f"Could not get a token from {target}: "
                                  f"{http.redact(type(exc).__name__, secrets)}.")
    finally:
        session.close()
    return CheckResult(True, f"Google accepted the service account {email} and issued a "
                             "token; share each spreadsheet with this address.")
