"""Create or update HubSpot contacts or companies, matched by a unique property."""
from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any, Literal

import httpx
import pandas as pd
from pydantic import Field, model_validator

from ..base import Context, Operator, Params, Port, Schema, column_field
from ..connections import HubSpotConnection
from ..connectors._connection import load_connection
from ..tables import Table, as_table
from . import http
from ._delivery import (
    RESULTS_PORT,
    RESULTS_SCHEMA,
    CrmEndpoint,
    Record,
    Results,
    StopSending,
    approval_field,
    check_mapped_columns,
    crm_upsert,
    dry_run_field,
    key_field,
)

BATCH_LIMIT = 100  # HubSpot's limit of inputs per batch request
EXPIRED = "HubSpot rejected the access token (expired or revoked)."
_PROPERTY = r"^[A-Za-z0-9_]{1,100}$"


class PropertyMapping(Params):
    column: str = column_field(..., description="The column holding the values.")
    property: str = Field(..., pattern=_PROPERTY,
                          description="The HubSpot property's internal name, e.g. firstname.")


class HubSpotUpsertParams(Params):
    connection: str = Field(..., min_length=1, description="The HubSpot account to write to.",
                            json_schema_extra={"x-connection": "hubspot"})
    object_type: Literal["contacts", "companies"] = Field(
        "contacts", description="Which kind of HubSpot record to create or update.")
    id_property: str = Field("email", pattern=_PROPERTY,
                             description="The unique property that matches rows to records: "
                             "email for contacts, domain or a custom unique property.")
    key_column: str = key_field("The column holding each row's value of the unique property.")
    mappings: list[PropertyMapping] = Field(
        default_factory=list, max_length=500,
        description="Which column sets which HubSpot property.")
    batch_size: int = Field(BATCH_LIMIT, ge=1, le=BATCH_LIMIT,
                            description="Records per request (HubSpot allows at most 100).")
    timeout_seconds: float = Field(30, ge=1, le=120, description="Time limit per request.")
    retries: int = Field(3, ge=0, le=http.MAX_RETRIES,
                         description="Retries on HTTP 429 (rate limit), 5xx or a network "
                         "failure.")
    dry_run: bool = dry_run_field()
    require_approval: bool = approval_field()

    @model_validator(mode="after")
    def _properties_set_once(self) -> HubSpotUpsertParams:
        seen: set[str] = set()
        for i, mapping in enumerate(self.mappings):
            if mapping.property == self.id_property:
                raise ValueError(f"mappings.{i}: {mapping.property!r} is the id property; "
                                 "its value comes from key_column")
            if mapping.property in seen:
                raise ValueError(f"mappings.{i}: property {mapping.property!r} is mapped twice")
            seen.add(mapping.property)
        return self


def property_value(value: Any) -> str:
    """HubSpot holds every property value as text: booleans as true/false, dates in ISO."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


class HubSpotUpsert(Operator):
    """Upserts each row as a HubSpot contact or company through the batch upsert API,
    matching existing records by ``id_property``. Missing values are left out, so they never
    blank a property in HubSpot. Partial failures (HTTP 207) fail only the records HubSpot
    names; a rejected token fails the rest of the run's records with a clear reason.

    Example: ``{"connection": "c1", "object_type": "contacts", "id_property": "email",
    "key_column": "email", "mappings": [{"column": "name", "property": "firstname"},
    {"column": "churn_risk", "property": "churn_risk"}]}``.
    """

    name = "action.hubspot_upsert"
    label = "HubSpot upsert"
    description = "Create or update HubSpot contacts or companies from the rows."
    category = "action"
    icon = "hubspot"
    keywords = ("hubspot", "crm", "contacts", "companies", "upsert", "sync", "marketing")
    inputs = (Port("table", "table"),)
    outputs = (RESULTS_PORT,)
    Params = HubSpotUpsertParams
    example = {"connection": "c1",
               "object_type": "contacts",
               "id_property": "email",
               "key_column": "email",
               "mappings": [{"column": "name", "property": "firstname"},
                            {"column": "churn_risk", "property": "churn_risk"}]}
    batch_only = True
    lazy_inputs = True

    def run(self, ctx: Context, params: HubSpotUpsertParams,
            table: pd.DataFrame | Table) -> dict[str, Results]:
        source = as_table(table)
        check_mapped_columns(source.schema, params)
        conn = load_connection(ctx, params.connection, HubSpotConnection)
        url = (f"{conn.base_url.rstrip('/')}/crm/v3/objects/{params.object_type}"
               "/batch/upsert")

        def build(key: str, row: dict[str, Any]) -> dict[str, Any]:
            properties = {m.property: property_value(row[m.column]) for m in params.mappings
                          if row[m.column] is not None}
            return {"id": key, "idProperty": params.id_property, "properties": properties}

        return crm_upsert(ctx, source, params, method="POST", url=url,
                          token=conn.access_token.get_secret_value(), expired=EXPIRED,
                          build=build, send=partial(_send, params),
                          via=(params.connection, conn))

    def infer_schema(self, ctx: Context, params: HubSpotUpsertParams,
                     table: Schema | None = None) -> dict[str, Schema | None]:
        check_mapped_columns(table, params)
        return {"results": RESULTS_SCHEMA}


def _send(params: HubSpotUpsertParams, endpoint: CrmEndpoint,
          batch: list[Record]) -> dict[str, str]:
    response = endpoint.request({"inputs": [r.payload for r in batch]})
    if response.status_code == 403:
        raise StopSending("HubSpot refused the request: the access token lacks the "
                          f"scope to write {params.object_type}.")
    failures, unattributed = _errors(response, batch)
    if response.status_code == 400 and failures and len(failures) < len(batch):
        # HubSpot may reject a whole batch for one bad input but name it: send the others
        # again without it. Each round drops at least one input, so this ends.
        rest = [r for r in batch if r.key not in failures]
        retried = _send(params, endpoint, rest) if rest else {}
        return {**failures, **retried}
    if response.status_code in (200, 201, 207):
        if unattributed:
            # An error HubSpot did not tie to an input: every record it did not confirm
            # counts as failed, so the next run sends it again (upserts are idempotent).
            confirmed = _confirmed(response, params.id_property)
            reason = "HubSpot reported: " + "; ".join(unattributed)
            failures |= {r.key: reason for r in batch
                         if r.key not in failures and r.key.casefold() not in confirmed}
        return failures
    reason = f"HubSpot answered {http.describe(response, [endpoint.token])}"
    return {r.key: failures.get(r.key, reason) for r in batch}


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _errors(response: httpx.Response, batch: list[Record]) -> tuple[dict[str, str], list[str]]:
    """HubSpot's errors as ({record key: reason}, [messages tied to no input]). Each error's
    ``context`` lists the ids of the inputs it concerns."""
    body = _json(response)
    if not isinstance(body, dict) or (response.status_code in (200, 201)
                                      and not body.get("errors")):
        return {}, []
    errors: list[Any] = body["errors"] if isinstance(body.get("errors"), list) else [body]
    keys = {r.key.casefold(): r.key for r in batch}
    failures: dict[str, str] = {}
    unattributed: list[str] = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        message = str(error.get("message") or error.get("category") or "unknown error")
        context: dict[str, Any] = error["context"] if isinstance(error.get("context"), dict) \
            else {}
        ids = [str(v) for values in context.values() if isinstance(values, list)
               for v in values]
        hit = [keys[i.casefold()] for i in ids if i.casefold() in keys]
        for key in hit:
            failures[key] = f"HubSpot: {message}"
        if not hit:
            unattributed.append(message)
    return failures, unattributed


def _confirmed(response: httpx.Response, id_property: str) -> set[str]:
    body = _json(response)
    results = body.get("results") if isinstance(body, dict) else None
    return {str(r["properties"][id_property]).casefold() for r in results or []
            if isinstance(r, dict) and isinstance(r.get("properties"), dict)
            and r["properties"].get(id_property) is not None}
