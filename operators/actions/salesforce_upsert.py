"""Create or update Salesforce records, matched by an external ID field."""
from __future__ import annotations

import re
from typing import Any

import httpx
import pandas as pd
from pydantic import Field, model_validator

from ..base import (
    Context,
    Operator,
    OperatorError,
    Params,
    Port,
    Schema,
    column_field,
)
from ..connections import SalesforceConnection
from ..connectors._connection import load_connection
from ..tables import Table, as_table
from . import http
from ._delivery import (
    RESULTS_PORT,
    RESULTS_SCHEMA,
    CrmEndpoint,
    Record,
    Results,
    approval_field,
    check_mapped_columns,
    crm_upsert,
    dry_run_field,
    jsonable,
    key_field,
)

BATCH_LIMIT = 200  # the sObject Collections API takes at most 200 records per request
EXPIRED = "Salesforce rejected the access token (expired or revoked)."
_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,79}$"  # API names: Account, External_Id__c
_API_VERSION = re.compile(r"^v\d{2,3}\.\d$")


class FieldMapping(Params):
    column: str = column_field(..., description="The column holding the values.")
    field: str = Field(..., pattern=_NAME, description="The Salesforce field's API name.")


class SalesforceUpsertParams(Params):
    connection: str = Field(..., min_length=1, description="The Salesforce org to write to.",
                            json_schema_extra={"x-connection": "salesforce"})
    sobject: str = Field("Contact", pattern=_NAME,
                         description="The object's API name, e.g. Contact, Account, Lead.")
    external_id_field: str = Field(..., pattern=_NAME,
                                   description="The external ID field that matches rows to "
                                   "records, e.g. External_Id__c.")
    key_column: str = key_field("The column holding each row's external ID.")
    mappings: list[FieldMapping] = Field(default_factory=list, max_length=500,
                                         description="Which column sets which field.")
    batch_size: int = Field(BATCH_LIMIT, ge=1, le=BATCH_LIMIT,
                            description="Records per request (Salesforce allows at most 200).")
    timeout_seconds: float = Field(30, ge=1, le=120, description="Time limit per request.")
    retries: int = Field(3, ge=0, le=http.MAX_RETRIES,
                         description="Retries on HTTP 429, 5xx or a network failure.")
    dry_run: bool = dry_run_field()
    require_approval: bool = approval_field()

    @model_validator(mode="after")
    def _fields_set_once(self) -> SalesforceUpsertParams:
        seen = {self.external_id_field.lower(), "attributes"}
        for i, mapping in enumerate(self.mappings):
            if mapping.field.lower() in seen:
                raise ValueError(f"mappings.{i}: field {mapping.field!r} is already set")
            seen.add(mapping.field.lower())
        return self


class SalesforceUpsert(Operator):
    """Upserts each row into a Salesforce object through the sObject Collections API,
    matching existing records by an external ID field. Missing values are left out, so they
    never blank a field. Each record succeeds or fails on its own (``allOrNone: false``); an
    expired session fails the rest of the run's records with a clear reason.

    Example: ``{"connection": "c1", "sobject": "Contact",
    "external_id_field": "Customer_Id__c", "key_column": "customer_id",
    "mappings": [{"column": "email", "field": "Email"},
    {"column": "churn_risk", "field": "Churn_Risk__c"}]}``.
    """

    name = "action.salesforce_upsert"
    label = "Salesforce upsert"
    description = "Create or update Salesforce records from the rows, by external ID."
    category = "action"
    icon = "salesforce"
    keywords = ("salesforce", "crm", "sobject", "contact", "account", "lead", "upsert", "sync")
    inputs = (Port("table", "table"),)
    outputs = (RESULTS_PORT,)
    Params = SalesforceUpsertParams
    example = {"connection": "c1",
               "sobject": "Contact",
               "external_id_field": "Customer_Id__c",
               "key_column": "customer_id",
               "mappings": [{"column": "email", "field": "Email"},
                            {"column": "churn_risk", "field": "Churn_Risk__c"}]}
    batch_only = True
    lazy_inputs = True

    def run(self, ctx: Context, params: SalesforceUpsertParams,
            table: pd.DataFrame | Table) -> dict[str, Results]:
        source = as_table(table)
        check_mapped_columns(source.schema, params)
        conn = load_connection(ctx, params.connection, SalesforceConnection)
        if not _API_VERSION.match(conn.api_version):
            raise OperatorError(f"API version {conn.api_version!r} should look like v61.0.",
                                field="connection")
        url = (f"{conn.instance_url.rstrip('/')}/services/data/{conn.api_version}"
               f"/composite/sobjects/{params.sobject}/{params.external_id_field}")

        def build(key: str, row: dict[str, Any]) -> dict[str, Any]:
            record: dict[str, Any] = {"attributes": {"type": params.sobject},
                                      params.external_id_field: key}
            for m in params.mappings:
                if row[m.column] is not None:
                    record[m.field] = row[m.column]
            body: dict[str, Any] = jsonable(record)
            return body

        return crm_upsert(ctx, source, params, method="PATCH", url=url,
                          token=conn.access_token.get_secret_value(), expired=EXPIRED,
                          build=build, send=_send, via=(params.connection, conn))

    def infer_schema(self, ctx: Context, params: SalesforceUpsertParams,
                     table: Schema | None = None) -> dict[str, Schema | None]:
        check_mapped_columns(table, params)
        return {"results": RESULTS_SCHEMA}


def _send(endpoint: CrmEndpoint, batch: list[Record]) -> dict[str, str]:
    response = endpoint.request({"allOrNone": False, "records": [r.payload for r in batch]})
    try:
        outcomes = response.json()
    except ValueError:
        outcomes = None
    if not response.is_success:
        return {r.key: f"Salesforce answered {_describe(response, outcomes, endpoint.token)}"
                for r in batch}
    if not isinstance(outcomes, list) or len(outcomes) != len(batch):
        # Results come back in request order; without one per record, none can be trusted.
        return {r.key: "Salesforce's answer did not list one result per record."
                for r in batch}
    return {r.key: _reason(outcome) for r, outcome in zip(batch, outcomes, strict=True)
            if not (isinstance(outcome, dict) and outcome.get("success") is True)}


def _reason(outcome: Any) -> str:
    errors = outcome.get("errors") if isinstance(outcome, dict) else None
    parts = []
    for error in errors or []:
        if isinstance(error, dict):
            fields = ", ".join(str(f) for f in error.get("fields") or [])
            parts.append(f"{error.get('statusCode', 'ERROR')}: {error.get('message', '')}"
                         + (f" (fields: {fields})" if fields else ""))
    return "Salesforce: " + ("; ".join(parts) or "the record was not saved.")


def _describe(response: httpx.Response, body: Any, token: str) -> str:
    # Salesforce's errors are a list of {"errorCode", "message"}.
    if isinstance(body, list) and body and isinstance(body[0], dict) and "errorCode" in body[0]:
        first = body[0]
        return http.redact(f"HTTP {response.status_code}: {first['errorCode']}: "
                           f"{first.get('message', '')}", [token])
    return http.describe(response, [token])
