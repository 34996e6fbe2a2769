"""Salesforce records: an object with the fields chosen, or a SOQL query, through the REST
API's query resource (``nextRecordsUrl`` followed until ``done``)."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, Literal

import requests
from pydantic import Field

from ..base import Context, OperatorError, Schema
from ..connections import SalesforceConnection
from . import _dlt
from ._connection import load_connection
from ._rest import Resource, RestSource, SourceParams, resource_field

# The standard fields of each object the form offers (the user may type any other API
# name, custom fields included), with the type of the ones that are not text.
FIELDS = {
    "Account": ["Name", "Type", "Industry", "AnnualRevenue", "NumberOfEmployees", "Phone",
                "Website", "BillingCity", "BillingCountry", "Rating", "AccountSource",
                "OwnerId", "CreatedDate", "LastModifiedDate"],
    "Contact": ["FirstName", "LastName", "Name", "Email", "Phone", "Title", "AccountId",
                "LeadSource", "MailingCity", "MailingCountry", "Birthdate", "OwnerId",
                "CreatedDate", "LastModifiedDate"],
    "Opportunity": ["Name", "AccountId", "StageName", "Amount", "Probability", "CloseDate",
                    "Type", "LeadSource", "IsClosed", "IsWon", "ForecastCategory", "OwnerId",
                    "CreatedDate", "LastModifiedDate"],
    "Lead": ["FirstName", "LastName", "Name", "Email", "Company", "Status", "LeadSource",
             "Industry", "Rating", "AnnualRevenue", "NumberOfEmployees", "IsConverted", "City",
             "Country", "OwnerId", "CreatedDate", "LastModifiedDate"],
}
TYPES = {"AnnualRevenue": "float", "Amount": "float", "Probability": "float",
         "NumberOfEmployees": "int", "IsClosed": "bool", "IsWon": "bool",
         "IsConverted": "bool", "IsDeleted": "bool", "CloseDate": "datetime",
         "Birthdate": "datetime", "CreatedDate": "datetime", "LastModifiedDate": "datetime",
         "SystemModstamp": "datetime", "LastActivityDate": "datetime", "Id": "str"}
_BASE = (("Id", "str"), ("SystemModstamp", "datetime"))
CURSOR = "SystemModstamp"  # changes on every change to the record, by a user or the system

RESOURCES = {
    name: Resource(label=name, path="query", data_selector="records", primary_key=("Id",),
                   cursor_path=CURSOR, cursor_column=CURSOR,
                   cursor_start="1970-01-01T00:00:00.000+0000", columns=_BASE)
    for name in FIELDS}
# A SOQL query reads everything each run: the query is the user's, so is its filter.
_QUERY = Resource(label="SOQL query", path="query", data_selector="records",
                  primary_key=("Id",))

# A field's API name, or a parent's field through relationships (Account.Owner.Name).
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}(\.[A-Za-z][A-Za-z0-9_]{0,79}){0,4}$")
_API_VERSION = re.compile(r"^v\d{2,3}\.\d$")
MAX_OPTIONS = 2_000
MAX_SOQL = 20_000  # characters (Salesforce's own limit is 100,000)
# The select list of a query that names plain fields only: its columns are known in advance.
_SELECT = re.compile(r"^\s*select\s+(.+?)\s+from\s", re.IGNORECASE | re.DOTALL)


class SalesforceParams(SourceParams):
    connection: str = Field(..., min_length=1, description="The Salesforce org.",
                            json_schema_extra={"x-connection": "salesforce"})
    mode: Literal["object", "soql"] = Field(
        "object", description="object: the records of one object with the fields chosen "
        "(incremental on SystemModstamp). soql: a SOQL query of your own, read whole on "
        "every run.", json_schema_extra={"x-labels": {"object": "Object and fields",
                                                      "soql": "SOQL query"}})
    resource: Literal["Account", "Contact", "Opportunity", "Lead"] = resource_field(
        RESOURCES, "Account")
    fields: list[str] = Field(
        default_factory=lambda: ["Name"], max_length=500,
        description="The fields to read, by API name (custom fields end in __c); each is a "
        "column, as are Id and SystemModstamp.",
        json_schema_extra={"x-options-by": {"resource": {k: list(v)
                                                         for k, v in FIELDS.items()}},
                           "x-free-text": True})
    soql: str = Field("", max_length=MAX_SOQL,
                      description="soql mode: a SELECT query, e.g. SELECT Id, Name FROM Account "
                      "WHERE Industry = 'Retail'. No semicolons. Select Id to accumulate.")

    def model_post_init(self, _context: Any) -> None:
        for i, name in enumerate(self.fields):
            if not _FIELD.match(name):
                raise ValueError(f"fields.{i}: {name[:100]!r} is not a Salesforce field API "
                                 "name (letters, digits and _, parents joined by dots)")
        if self.mode == "soql":
            text = self.soql.strip()
            if not text:
                raise ValueError("soql: write the SOQL query to run")
            if not re.match(r"(?i)^select\s", text):
                raise ValueError("soql: a SOQL query starts with SELECT")
            if ";" in text:
                raise ValueError("soql: one query, without semicolons")


def soql_datetime(value: Any) -> str:
    """A cursor value as a SOQL dateTime literal (whole seconds, UTC): never raw text."""
    text = str(value).strip()
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text).replace("Z", "+00:00")
    when = datetime.fromisoformat(text).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _salesforce_time(value: Any) -> str:
    """A cursor value in Salesforce's own form (2024-01-05T10:00:00.123+0000), so dlt compares
    it with the records' SystemModstamp like for like."""
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", str(value).strip()).replace("Z", "+00:00")
    when = datetime.fromisoformat(text).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def _strip(value: Any) -> Any:
    """A record without Salesforce's ``attributes`` (type and URL), in nested parents too."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k != "attributes"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _answered(name: str) -> Any:
    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:  # noqa: ARG001
        if response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in response.text:
            raise OperatorError(f"{name}: the org's daily API limit reached (HTTP 403 "
                                "REQUEST_LIMIT_EXCEEDED); Salesforce counts requests over "
                                "24 hours: run again later, or raise the limit in Salesforce "
                                "Setup.")
        if not response.ok:
            return
        try:
            page = response.json()
        except ValueError:
            return  # load says the page is not JSON
        following = page.get("nextRecordsUrl") if isinstance(page, dict) else None
        if following is not None and (not isinstance(following, str)
                                      or not following.startswith("/services/data/")):
            raise OperatorError(f"{name} answered a page whose next-page link is not a path "
                                "on the instance; check the connection's instance URL.",
                                field="connection")
        if isinstance(page, dict) and isinstance(page.get("records"), list):
            page["records"] = _strip(page["records"])
            response._content = json.dumps(page).encode()
    return hook


class SalesforceSource(RestSource):
    """Reads Salesforce records through the REST API's query resource, following
    ``nextRecordsUrl`` until the answer is ``done``. Two modes:

    * **object**: Account, Contact, Opportunity or Lead with the fields chosen (standard
      fields offered, any API name typed, custom ones too), plus ``Id`` and ``SystemModstamp``.
      Incremental: each run asks only for records whose ``SystemModstamp`` is at or after the
      last run's latest (``WHERE SystemModstamp >= <dateTime> ORDER BY SystemModstamp``,
      built by the node from checked field names and a formatted date, never from typed
      text). Standard fields arrive typed; other fields keep the type Salesforce sends.
    * **soql**: a SELECT query of your own, read whole on every run (its filter is yours:
      the node adds none, so "incremental" does not apply); select ``Id`` for the
      accumulated output. Parent fields (``Account.Name``) are columns named with the dots.

    Salesforce's ``attributes`` (type and URL of each record) are dropped. An expired token
    and the org's daily API limit stop the node with what to do; HTTP 503 is waited out as
    its Retry-After asks.

    Example: ``{"connection": "c1", "resource": "Contact", "fields": ["Email",
    "LeadSource"]}``.
    """

    name = "connector.salesforce"
    label = "Salesforce"
    description = "Accounts, contacts, opportunities, leads or a SOQL query from Salesforce."
    icon = "cloud"
    keywords = ("salesforce", "crm", "soql", "accounts", "contacts", "opportunities", "leads",
                "import")
    Params = SalesforceParams
    connection_model = SalesforceConnection
    resources = RESOURCES
    auth_hint = ("the access token has expired or was revoked: paste a new one on the "
                 "Connections screen")
    example = {"connection": "c1", "resource": "Contact", "fields": ["Email", "LeadSource"]}

    def resource_of(self, params: Any) -> Resource:
        return _QUERY if params.mode == "soql" else RESOURCES[params.resource]

    def options(self, ctx: Context, params: dict[str, Any], field: str) -> list[str]:
        """The object's fields, standard and custom, as Salesforce describes them."""
        if field != "fields":
            return super().options(ctx, params, field)
        try:
            checked = SalesforceParams.model_validate(
                {k: params[k] for k in ("connection", "resource") if k in params})
        except ValueError:
            raise OperatorError("Choose the connection and the object first.",
                                field="resource") from None
        conn = load_connection(ctx, checked.connection, SalesforceConnection)
        name = getattr(ctx, "connection_names", {}).get(checked.connection, self.label)
        client, secrets = self.client(conn)
        source = _dlt.Source(name=name, records=(), secrets=secrets, auth_hint=self.auth_hint)
        with _dlt.checked_session(ctx, name=name, secrets=secrets, retries=1) as session:
            try:
                response = session.get(
                    f"{client['base_url']}sobjects/{checked.resource}/describe",
                    headers={"Authorization": f"Bearer {secrets[0]}",
                             "Accept": "application/json"})
                response.raise_for_status()
                described = response.json()["fields"]
                return [str(f["name"]) for f in described][:MAX_OPTIONS]
            except Exception as exc:  # noqa: BLE001 - said for people
                raise _dlt.explain(exc, source) from None

    def client(self, conn: Any) -> tuple[dict[str, Any], list[str]]:
        if not _API_VERSION.match(conn.api_version):
            raise OperatorError(f"API version {conn.api_version[:40]!r} should look like "
                                "v61.0.", field="connection")
        token = conn.access_token.get_secret_value()
        return ({"base_url": f"{conn.instance_url.rstrip('/')}/services/data/"
                             f"{conn.api_version}/",
                 "auth": {"type": "bearer", "token": token},
                 "paginator": {"type": "json_link", "next_url_path": "nextRecordsUrl"}},
                [token])

    def endpoint(self, params: Any, resource: Resource,
                 incremental: dict[str, Any] | None) -> dict[str, Any]:
        endpoint: dict[str, Any] = {"path": resource.path,
                                    "data_selector": resource.data_selector,
                                    "response_actions": [_answered(self.label)]}
        if params.mode == "soql":
            # dlt fills {placeholders} in params: the user's braces stay braces.
            query = params.soql.strip().replace("{", "{{").replace("}", "}}")
        else:
            query = f"SELECT {', '.join(self._fields(params))} FROM {params.resource}"
            if incremental is not None:
                query += f" WHERE {CURSOR} >= {{incremental.start_value}}"
                endpoint["incremental"] = {
                    **incremental, "initial_value": _salesforce_time(
                        incremental["initial_value"]), "convert": soql_datetime}
            query += f" ORDER BY {CURSOR} ASC, Id ASC"
        endpoint["params"] = {"q": query}
        return endpoint

    def _fields(self, params: Any) -> list[str]:
        chosen: dict[str, str] = {}
        for name in ("Id", CURSOR, *params.fields):
            chosen.setdefault(name.lower(), name)
        return list(chosen.values())

    def declared(self, params: Any) -> Schema:
        """The columns converted to their type: Id, SystemModstamp and the standard fields
        whose type is known (other fields keep the type Salesforce sends)."""
        return [c for c in self._columns(params) or [] if c["name"] in TYPES]

    def _columns(self, params: Any) -> Schema | None:
        if params.mode == "object":
            names = self._fields(params)
        else:
            select = _SELECT.match(params.soql)
            names = [n.strip() for n in select.group(1).split(",")] if select else []
            if not names or not all(_FIELD.match(n) for n in names):
                return None  # functions, subqueries: known once it has run
        return _dlt.declared_schema((n, TYPES.get(n, "str")) for n in names)

    def infer_schema(self, ctx: Context, params: Any) -> dict[str, Schema | None]:
        # Before it runs, a field whose type is not known is listed as text.
        return {"table": self._columns(params)}
