"""HubSpot CRM records: contacts, companies or deals, through its search API."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import cache
from typing import Any, Literal

import pandas as pd
from pydantic import Field

from ..connections import HubSpotConnection
from . import _dlt
from ._rest import Resource, RestSource, SourceParams, resource_field

_BASE = (("id", "str"), ("createdAt", "datetime"), ("updatedAt", "datetime"),
         ("archived", "bool"))

# The properties a HubSpot account has out of the box; the form offers them, the user may
# type any other internal name.
PROPERTIES = {
    "contacts": ["email", "firstname", "lastname", "phone", "company", "lifecyclestage",
                 "hs_lead_status", "city", "country", "jobtitle", "num_notes"],
    "companies": ["name", "domain", "industry", "city", "country", "numberofemployees",
                  "annualrevenue", "lifecyclestage"],
    "deals": ["dealname", "amount", "dealstage", "pipeline", "closedate", "hubspot_owner_id"],
}
_OPTIONS: dict[str, Any] = {k: list(v) for k, v in PROPERTIES.items()}
# The property each object's last-modified time is filtered on.
MODIFIED = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate",
            "deals": "hs_lastmodifieddate"}
_NUMERIC = {"num_notes": "float", "numberofemployees": "float", "annualrevenue": "float",
            "amount": "float"}

RESOURCES = {
    kind: Resource(label=kind.title(), path=f"/crm/v3/objects/{kind}/search",
                   data_selector="results", primary_key=("id",), cursor_path="updatedAt",
                   cursor_column="updatedAt", cursor_start="1970-01-01T00:00:00Z",
                   columns=_BASE)
    for kind in ("contacts", "companies", "deals")}
SEARCH_LIMIT = 100  # records per page: HubSpot's search maximum


class HubSpotParams(SourceParams):
    connection: str = Field(..., min_length=1, description="The HubSpot account.",
                            json_schema_extra={"x-connection": "hubspot"})
    resource: Literal["contacts", "companies", "deals"] = resource_field(RESOURCES, "contacts")
    properties: list[str] = Field(
        # A plain default (pydantic copies it), not a factory: the params schema shows it, so
        # the form's chips are what the node reads.
        default=["email", "firstname", "lastname", "lifecyclestage"],
        max_length=200,
        description="The HubSpot properties to read, by internal name; each is a column.",
        json_schema_extra={"x-options-by": {"resource": _OPTIONS},
                           "x-free-text": True})

    def model_post_init(self, _context: Any) -> None:
        for i, name in enumerate(self.properties):
            if not name or len(name) > 100 or not all(c.isalnum() or c == "_" for c in name):
                raise ValueError(f"properties.{i}: {name!r} is not a HubSpot property name")


# The sandbox: the contacts a dry-run-only connection reads instead of calling HubSpot (the
# demo's), in the search API's record format, built from the sample "customers" table: the
# account's own properties plus the churn model's inputs as custom properties.
SANDBOX_PROPERTIES = ("email", "firstname", "lastname", "lifecyclestage", "country", "plan",
                      "tenure_months", "monthly_spend", "orders_last_90d", "support_tickets",
                      "days_since_last_order", "churned")


def _hubspot_time(when: pd.Timestamp) -> str:
    return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"


def _text(value: Any) -> str | None:
    """A property value as HubSpot holds it: text, whole numbers without ".0"; None if
    missing."""
    if value is None or value != value:  # NaN
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@cache
def sandbox_contacts() -> tuple[dict[str, Any], ...]:
    """Every sandbox contact with all of SANDBOX_PROPERTIES, oldest change first (the order
    the search API answers in). Created when the customer joined; last modified at their
    last order (never before they joined), a second apart per id so the cursor orders them."""
    from .sample import ORDERS_AS_OF, load_sample  # scikit-learn: only when asked

    contacts: list[dict[str, Any]] = []
    for c in load_sample("customers").itertuples(index=False):
        first, _, last = str(c.name).partition(" ")
        created = ORDERS_AS_OF - pd.Timedelta(days=30 * int(c.tenure_months)) \
            + pd.Timedelta(seconds=int(c.customer_id))
        updated = max(created, ORDERS_AS_OF - pd.Timedelta(days=int(c.days_since_last_order))) \
            + pd.Timedelta(seconds=int(c.customer_id))
        values = {"email": c.email, "firstname": first, "lastname": last,
                  "lifecyclestage": "customer", "country": c.country, "plan": c.plan,
                  "tenure_months": c.tenure_months, "monthly_spend": c.monthly_spend,
                  "orders_last_90d": c.orders_last_90d, "support_tickets": c.support_tickets,
                  "days_since_last_order": c.days_since_last_order, "churned": c.churned}
        contacts.append({"id": str(c.customer_id), "createdAt": _hubspot_time(created),
                         "updatedAt": _hubspot_time(updated), "archived": False,
                         "properties": {k: _text(v) for k, v in values.items()}})
    contacts.sort(key=lambda r: (str(r["updatedAt"]), int(r["id"])))
    return tuple(contacts)


def _epoch_ms(value: Any) -> str:
    """An ISO timestamp as HubSpot's search filters take it: milliseconds since the epoch."""
    when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return str(int(when.timestamp() * 1000))


class HubSpotSource(RestSource):
    """Reads HubSpot contacts, companies or deals with the properties chosen, through the CRM
    search API (100 records a page, following ``paging.next.after``). Incremental: each run
    asks only for records modified since the last run's latest ``updatedAt``. HubSpot's
    search returns at most 10,000 records per query: a first load of a larger account
    needs several runs with ``max_records`` or a full export.

    Example: ``{"connection": "c1", "resource": "contacts", "properties": ["email",
    "lifecyclestage"]}``.
    """

    name = "connector.hubspot"
    label = "HubSpot"
    description = "Contacts, companies or deals from HubSpot, only what changed."
    icon = "users"
    keywords = ("hubspot", "crm", "contacts", "companies", "deals", "marketing", "import")
    Params = HubSpotParams
    connection_model = HubSpotConnection
    resources = RESOURCES
    auth_hint = "check the private app's access token on the Connections screen"
    example = {"connection": "c1", "resource": "contacts", "properties": ["email"]}

    def client(self, conn: Any) -> tuple[dict[str, Any], list[str]]:
        token = conn.access_token.get_secret_value()
        return ({"base_url": conn.base_url.rstrip("/"),
                 "auth": {"type": "bearer", "token": token},
                 "paginator": {"type": "cursor", "cursor_path": "paging.next.after",
                               "cursor_body_path": "after"}}, [token])

    def endpoint(self, params: Any, resource: Resource,
                 incremental: dict[str, Any] | None) -> dict[str, Any]:
        body: dict[str, Any] = {"limit": SEARCH_LIMIT, "properties": params.properties,
                                "sorts": [{"propertyName": MODIFIED[params.resource],
                                           "direction": "ASCENDING"}]}
        endpoint: dict[str, Any] = {"path": resource.path, "method": "POST",
                                    "data_selector": resource.data_selector, "json": body}
        if incremental is not None:
            body["filterGroups"] = [{"filters": [{
                "propertyName": MODIFIED[params.resource], "operator": "GTE",
                "value": "{incremental.start_value}"}]}]
            endpoint["incremental"] = {**incremental, "convert": _epoch_ms}
        return endpoint

    def declared(self, params: Any) -> list[dict[str, str]]:
        return _dlt.declared_schema([*_BASE, *((p, _NUMERIC.get(p, "str"))
                                               for p in params.properties)])

    def rename(self, params: Any) -> Any:  # noqa: ARG002
        # Properties arrive under "properties": each is its own column, by its name.
        return lambda column: column.removeprefix("properties.")

    def sandbox(self, params: Any) -> Iterator[list[dict[str, Any]]] | None:
        """Contacts only: pages of 100 with the properties asked for, as the search API
        answers (a property the account lacks comes back empty)."""
        if params.resource != "contacts":
            return None
        contacts = sandbox_contacts()
        wanted = list(params.properties)
        return ([{**c, "properties": {p: c["properties"].get(p) for p in wanted}}
                 for c in contacts[start:start + SEARCH_LIMIT]]
                for start in range(0, len(contacts), SEARCH_LIMIT))
