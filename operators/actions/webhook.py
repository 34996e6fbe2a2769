"""POST the table's rows, in signed JSON batches, to a webhook."""
from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import httpx
import pandas as pd
from pydantic import Field

from ..base import Context, Operator, Params, Port, Schema, column_field, require_columns
from ..connections import WebhookConnection
from ..connectors._connection import load_connection
from ..net import check_url
from ..tables import Table, as_table
from . import http
from ._delivery import (
    RESULTS_PORT,
    RESULTS_SCHEMA,
    Record,
    Results,
    StopSending,
    approval_field,
    batch_key,
    canonical_json,
    deliver_chunks,
    dry_run_field,
    key_field,
    make_records,
    table_chunks,
)
from ._scratch import Scratch


class WebhookParams(Params):
    connection: str = Field(..., min_length=1, description="The webhook to call.",
                            json_schema_extra={"x-connection": "webhook"})
    key_column: str = key_field("The column identifying each record (sent as its key).")
    columns: list[str] = column_field(
        [], description="The columns to send; none chosen sends every column.")
    batch_size: int = Field(100, ge=1, le=1000, description="Records per request.")
    timeout_seconds: float = Field(30, ge=1, le=120, description="Time limit per request.")
    retries: int = Field(3, ge=0, le=http.MAX_RETRIES,
                         description="Retries on HTTP 429, 5xx or a network failure.")
    dry_run: bool = dry_run_field()
    require_approval: bool = approval_field()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class Webhook(Operator):
    """Sends each row as ``{"key": ..., "data": {column: value}}`` in batches: a POST of
    ``{"records": [...]}`` with ``X-Datagran-Signature: sha256=<HMAC-SHA256 of the body with
    the connection's secret>``, ``X-Datagran-Timestamp`` (Unix seconds) and an
    ``Idempotency-Key`` that is the same whenever the same batch is sent again. Any 2xx
    answer means the whole batch was received. Rows already sent with the same content are
    skipped.

    Example: ``{"connection": "c1", "key_column": "customer_id",
    "columns": ["customer_id", "churn_risk"], "batch_size": 100}``.
    """

    name = "action.webhook"
    label = "Webhook"
    description = "POST the rows as signed JSON to a URL, in batches."
    category = "action"
    icon = "send"
    keywords = ("webhook", "http", "post", "json", "send", "notify", "callback", "zapier")
    inputs = (Port("table", "table"),)
    outputs = (RESULTS_PORT,)
    Params = WebhookParams
    example = {"connection": "c1",
               "key_column": "customer_id",
               "columns": ["customer_id", "churn_risk"],
               "batch_size": 100}
    batch_only = True
    lazy_inputs = True

    def run(self, ctx: Context, params: WebhookParams,
            table: pd.DataFrame | Table) -> dict[str, Results]:
        source = as_table(table)
        _check_columns(source.schema, params)
        conn = load_connection(ctx, params.connection, WebhookConnection)
        columns = params.columns or [c["name"] for c in source.schema]

        def build(key: str, row: dict[str, Any]) -> dict[str, Any]:
            return {"key": key, "data": {c: row[c] for c in columns}}

        chunks = table_chunks(source, lambda rows: make_records(
            rows, [params.key_column], conn.url, build))
        policy = http.RetryPolicy(retries=params.retries)
        with http.new_client(params.timeout_seconds) as client:
            def send(batch: list[Record]) -> dict[str, str]:
                return _post(ctx, client, conn, policy, batch)

            results = deliver_chunks(ctx, chunks, send, dry_run=params.dry_run,
                                     require_approval=params.require_approval,
                                     batch_size=params.batch_size,
                                     via=(params.connection, conn), scratch=Scratch.of(source),
                                     # After the approval gate; a dry run works offline.
                                     check=lambda: check_url(conn.url,
                                                             allowlist=ctx.url_allowlist,
                                                             field="connection"))
        return {"results": results}

    def infer_schema(self, ctx: Context, params: WebhookParams,
                     table: Schema | None = None) -> dict[str, Schema | None]:
        _check_columns(table, params)
        return {"results": RESULTS_SCHEMA}


def _check_columns(schema: Schema | None, params: WebhookParams) -> None:
    require_columns(schema, [params.key_column], field="key_column")
    require_columns(schema, params.columns, field="columns")


def _post(ctx: Context, client: httpx.Client, conn: WebhookConnection, policy: http.RetryPolicy,
          batch: list[Record]) -> dict[str, str]:
    secret = conn.secret.get_secret_value()
    body = canonical_json({"records": [r.payload for r in batch]}).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "X-Datagran-Timestamp": str(int(time.time())),
        # The same batch sent again carries the same key, so the receiver can drop it.
        "Idempotency-Key": batch_key(batch),
    }
    if secret:
        headers["X-Datagran-Signature"] = signature(secret, body)
    try:
        response = http.request(client, "POST", conn.url, ctx=ctx, field="connection",
                                policy=policy, content=body, headers=headers)
    except http.HttpFailure as exc:
        raise StopSending(str(exc)) from None
    if response.is_success:
        return {}
    reason = f"The webhook answered {http.describe(response, [secret])}"
    if response.status_code in (401, 403):
        raise StopSending(reason + " (check the connection's secret).")
    return {r.key: reason for r in batch}
