"""Stripe customers, charges, subscriptions or invoices, through its list API."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from ..connections import StripeConnection
from ._rest import Resource, RestSource, SourceParams, resource_field

PAGE = 100  # records per page: Stripe's maximum

_COMMON = (("id", "str"), ("created", "datetime"), ("livemode", "bool"))
_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "customers": (*_COMMON, ("email", "str"), ("name", "str"), ("phone", "str"),
                  ("description", "str"), ("currency", "str"), ("balance", "int"),
                  ("delinquent", "bool")),
    # Amounts stay integers in the currency's smallest unit (cents), as Stripe sends them.
    "charges": (*_COMMON, ("customer", "str"), ("amount", "int"),
                ("amount_captured", "int"), ("amount_refunded", "int"), ("currency", "str"),
                ("status", "str"), ("paid", "bool"), ("refunded", "bool"),
                ("description", "str"), ("invoice", "str")),
    "subscriptions": (*_COMMON, ("customer", "str"), ("status", "str"), ("currency", "str"),
                      ("start_date", "datetime"), ("cancel_at_period_end", "bool"),
                      ("canceled_at", "datetime"), ("ended_at", "datetime")),
    "invoices": (*_COMMON, ("customer", "str"), ("customer_email", "str"),
                 ("subscription", "str"), ("number", "str"), ("status", "str"),
                 ("currency", "str"), ("amount_due", "int"), ("amount_paid", "int"),
                 ("amount_remaining", "int"), ("total", "int"), ("due_date", "datetime")),
}
_LABELS = {"customers": "Customers", "charges": "Charges", "subscriptions": "Subscriptions",
           "invoices": "Invoices"}
# Stripe lists only the subscriptions that are not canceled unless asked for all.
_EXTRA: dict[str, dict[str, Any]] = {"subscriptions": {"status": "all"}}

RESOURCES = {
    kind: Resource(label=_LABELS[kind], path=f"/v1/{kind}", data_selector="data",
                   primary_key=("id",), cursor_path="created", cursor_column="created",
                   cursor_start=0, columns=_COLUMNS[kind], extra=_EXTRA.get(kind, {}))
    for kind in _COLUMNS}


class StripeParams(SourceParams):
    connection: str = Field(..., min_length=1, description="The Stripe account.",
                            json_schema_extra={"x-connection": "stripe"})
    resource: Literal["customers", "charges", "subscriptions", "invoices"] = resource_field(
        RESOURCES, "customers")

    @model_validator(mode="after")
    def _capped(self) -> StripeParams:
        if self.incremental and self.max_records is not None:
            raise ValueError("max_records: Stripe lists the newest records first, so a capped "
                             "incremental run would move the cursor past the older records "
                             "it did not read; leave max_records empty or turn incremental "
                             "off")
        return self


def _epoch_seconds(value: Any) -> int:
    """The cursor as Stripe's ``created`` filter and records have it: seconds since the
    epoch. The last run left it as an ISO timestamp (the ``created`` column's type)."""
    if isinstance(value, int | float):
        return int(value)
    return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())


class StripeSource(RestSource):
    """Reads Stripe customers, charges, subscriptions (all of them, canceled ones too) or
    invoices through its list API (100 records a page, following ``starting_after`` = the
    last record's id while ``has_more``). Amounts stay integers in the currency's smallest
    unit (cents), as Stripe sends them; ``created`` is a timestamp.

    Incremental: each run asks only for records *created* since the last run's latest
    ``created`` (``created[gte]``). Stripe's list API filters on creation, not on change, so
    a charge refunded or a subscription canceled after it was loaded is not seen by an
    incremental run: turn incremental off (or run a full refresh) to pick up changes.
    Stripe's Events API is the way to follow updates; this source does not read it.
    Stripe lists the newest first: ``max_records`` needs incremental off.

    Example: ``{"connection": "c1", "resource": "charges", "output": "accumulated"}``.
    """

    name = "connector.stripe"
    label = "Stripe"
    description = "Customers, charges, subscriptions or invoices from Stripe, only the new."
    icon = "credit-card"
    keywords = ("stripe", "payments", "charges", "customers", "subscriptions", "invoices",
                "billing", "revenue", "import")
    Params = StripeParams
    connection_model = StripeConnection
    resources = RESOURCES
    auth_hint = ("check the secret key (sk_...) on the Connections screen; a restricted key "
                 "(rk_...) needs read access to this resource")
    example = {"connection": "c1", "resource": "charges"}

    def client(self, conn: Any) -> tuple[dict[str, Any], list[str]]:
        key = conn.api_key.get_secret_value()
        return ({"base_url": conn.base_url.rstrip("/"),
                 "auth": {"type": "bearer", "token": key},
                 "paginator": {"type": "cursor", "cursor_path": "data[-1].id",
                               "cursor_param": "starting_after",
                               "has_more_path": "has_more"}}, [key])

    def endpoint(self, params: Any, resource: Resource,  # noqa: ARG002
                 incremental: dict[str, Any] | None) -> dict[str, Any]:
        query: dict[str, Any] = {"limit": PAGE, **resource.extra}
        endpoint: dict[str, Any] = {"path": resource.path, "params": query,
                                    "data_selector": resource.data_selector}
        if incremental is not None:
            # Records carry ``created`` in epoch seconds: dlt compares them with the start
            # in the same unit.
            query["created[gte]"] = "{incremental.start_value}"
            endpoint["incremental"] = {
                **incremental, "initial_value": _epoch_seconds(incremental["initial_value"])}
        return endpoint
