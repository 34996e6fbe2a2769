"""What every action shares: records with a key and a content hash, the send log that keeps a
record from being sent twice, dry runs, approval, batches and the per-record results table;
and the flow the CRM upsert actions share, each keeping only its API format and errors.

A record's content hash is the SHA-256 of the canonical JSON of what is sent for it plus
where it goes, so changing a value, a mapping or the destination sends it again, while a
redelivered message, a retry or a re-run sends nothing new."""
from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import numpy as np
import pandas as pd
from pydantic import Field

from ..base import (
    ApprovalRequired,
    Context,
    OperatorError,
    Port,
    Schema,
    column_field,
    require_columns,
)
from ..net import check_url
from . import http

RESULTS_PORT = Port("results", "table", label="Results")
RESULTS_SCHEMA: Schema = [
    {"name": "record_key", "type": "str"},
    # sent | failed | skipped (already sent with the same content) | dry_run; a record an
    # interrupted attempt may have delivered and that was sent again is "sent" with the
    # reason POSSIBLY_TWICE.
    {"name": "status", "type": "str"},
    {"name": "reason", "type": "str"},
    # What would be sent, as JSON text; only on dry_run rows.
    {"name": "payload", "type": "str"},
]
_COLUMNS = [c["name"] for c in RESULTS_SCHEMA]
POSSIBLY_TWICE = ("Possibly delivered twice: an earlier attempt was interrupted while sending "
                  "it; sent again with the same idempotency key.")
MAY_BE_DELIVERED = ("An earlier attempt was interrupted while sending this; it may have been "
                    "delivered already. This channel has no idempotency key: approve to send "
                    "it again.")


def dry_run_field() -> Any:
    return Field(False, description="Build exactly what would be sent and show it as the "
                 "results, but send nothing. With Require approval on too, approving records "
                 "what would be sent without sending.")


def approval_field() -> Any:
    return Field(False, description="Pause the run before sending, showing what would be "
                 "sent, until an editor approves it (rejecting ends the run, nothing sent). "
                 "With Dry run on, approving records what would be sent without sending.")


ERR_DRY_RUN_ONLY = ("Connection {name} is marked dry run only; turn on Dry run or change the "
                    "connection.")


def refuse_dry_run_only(conn: Any, name: str, *, dry_run: bool) -> None:
    """A real send through a connection marked dry run only fails before anything is sent
    (or even built into a preview): its owner wants nothing to leave through it."""
    if not dry_run and getattr(conn, "dry_run_only", False):
        raise OperatorError(ERR_DRY_RUN_ONLY.format(name=repr(name)), field="dry_run")


def key_field(description: str) -> Any:
    return column_field(..., min_length=1, description=description)


class RecordError(Exception):
    """A row that cannot become a record (no key, an invalid value): its message becomes the
    row's reason and the row is reported failed without being sent."""


class StopSending(Exception):
    """Raised by a send function when no later batch can succeed either (the token expired,
    the server is unreachable): this batch and every later one fail with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Record:
    key: str
    payload: Any = None  # exactly what is sent for this record
    digest: str = ""
    error: str = ""
    # The batch's idempotency key, set by deliver before the batch is sent: a batch sent again
    # after an interruption carries the key it was first sent with.
    batch_key: str = ""


def batch_key(batch: list[Record]) -> str:
    """The idempotency key of a batch: the same records with the same content, the same key."""
    return batch[0].batch_key or content_hash([[r.key, r.digest] for r in batch])


# Given a batch, the send function returns {record key: reason} for the records that failed.
Send = Callable[[list[Record]], dict[str, str]]


# --- values and hashes ---------------------------------------------------------------------

def native(value: Any) -> Any:
    """A table cell as a plain Python value; every kind of missing value becomes None."""
    if isinstance(value, np.ndarray):
        return [native(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [native(v) for v in value]
    if isinstance(value, dict):
        return {str(k): native(v) for k, v in value.items()}
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    elif isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, pd.Timedelta):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise RecordError(f"{type(value).__name__} values cannot be sent as JSON.")


def canonical_json(obj: Any) -> str:
    """One text for one content: sorted keys, no spaces, so equal content hashes equally."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=_json_default)


def jsonable(obj: Any) -> Any:
    """``obj`` with dates, decimals, ... as the JSON text the content hash sees."""
    return json.loads(canonical_json(obj))


def content_hash(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def key_text(value: Any) -> str:
    """A key cell as text; "" when missing. 42.0 reads as "42": a column of integer ids with
    a gap becomes float, and must not change every key."""
    value = native(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value).strip()


def rows_of(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): native(v) for k, v in row.items()} for row in table.to_dict("records")]


def make_records(table: pd.DataFrame, key_columns: list[str], destination: Any,
                 build: Callable[[str, dict[str, Any]], Any],
                 hashed: Callable[[Any], Any] | None = None) -> list[Record]:
    """One record per row: its key from ``key_columns``, ``build(key, row)`` as payload (may
    raise RecordError) and the hash of ``destination`` with ``hashed(payload)`` (default:
    the payload)."""
    records = []
    for row in rows_of(table):
        parts = [key_text(row[c]) for c in key_columns]
        key = parts[0] if len(parts) == 1 else canonical_json(parts)
        if not all(parts):
            empty = next(c for c, p in zip(key_columns, parts, strict=True) if not p)
            records.append(Record(key, error=f"The key column {empty!r} is empty."))
            continue
        try:
            payload = build(key, row)
            content = payload if hashed is None else hashed(payload)
            digest = content_hash({"to": destination, "content": content})
        except RecordError as exc:
            records.append(Record(key, error=str(exc)))
            continue
        records.append(Record(key, payload, digest))
    return records


# --- delivering ------------------------------------------------------------------------------

def results_frame(rows: list[list[str]]) -> pd.DataFrame:
    columns: list[tuple[str, ...]] = list(zip(*rows, strict=True)) if rows else \
        [() for _ in _COLUMNS]
    return pd.DataFrame({name: pd.Series(list(values), dtype="str")
                         for name, values in zip(_COLUMNS, columns, strict=True)})


def deliver(ctx: Context, records: list[Record], send: Send, *, dry_run: bool,
            require_approval: bool, batch_size: int, skip_sent: bool = True,
            prepare: Callable[[], None] | None = None,
            resend_in_flight: bool = True,
            check: Callable[[], object] | None = None,
            via: tuple[str, Any] | None = None) -> pd.DataFrame:
    """Send ``records`` in batches through ``send``; return the results table.

    Records already sent with the same content are skipped (unless ``skip_sent`` is false,
    for destinations that are rewritten whole); ``prepare`` runs once before the first batch,
    only when something is really sent. Each batch is recorded in the send log as in flight
    before it is sent and as sent after: records an interrupted attempt left in flight are
    sent again first, as the same batch with the same idempotency key, when the channel
    makes that safe (``resend_in_flight``: a key or an upsert); otherwise they wait for an
    editor's approval. ``check`` (the destination's network checks) runs after the approval
    gate, before anything is sent: a preview needs no network, so the gate is always
    reached. ``via`` is (name, config) of the connection sent through: one marked dry run
    only refuses a real send before anything else. The node stops between batches when it
    is interrupted. Only one
    attempt of this node at a time (across concurrent runs) reads and sends: the second
    finds the first one's records sent."""
    if via is not None:
        # A run's context knows the connection's name; a bare one, only its id.
        names: dict[str, str] = getattr(ctx, "connection_names", {})
        refuse_dry_run_only(via[1], names.get(via[0], via[0]), dry_run=dry_run)
    if dry_run:
        return _deliver(ctx, records, send, dry_run=True, require_approval=require_approval,
                        batch_size=batch_size, skip_sent=skip_sent, prepare=prepare,
                        resend_in_flight=resend_in_flight, check=None)
    with ctx.sending_alone():
        return _deliver(ctx, records, send, dry_run=False, require_approval=require_approval,
                        batch_size=batch_size, skip_sent=skip_sent, prepare=prepare,
                        resend_in_flight=resend_in_flight, check=check)


def _deliver(ctx: Context, records: list[Record], send: Send, *, dry_run: bool,
             require_approval: bool, batch_size: int, skip_sent: bool,
             prepare: Callable[[], None] | None, resend_in_flight: bool,
             check: Callable[[], object] | None) -> pd.DataFrame:
    results: list[list[str]] = [[r.key, "failed", r.error, ""] for r in records]
    todo = _unique(records, results)
    already = ctx.sent_before({records[i].key: records[i].digest for i in todo}) \
        if skip_sent and todo else set()
    for i in todo:
        if records[i].key in already:
            results[i][1:] = ["skipped", "Already sent with the same content.", ""]
    todo = [i for i in todo if records[i].key not in already]
    flying = ctx.in_flight({records[i].key: records[i].digest for i in todo}) \
        if skip_sent and todo else {}
    held = [] if resend_in_flight else [i for i in todo if records[i].key in flying]

    # A dry run waits at the gate too, when asked to: approving it records what would be
    # sent, without sending.
    gate = not ctx.approved and ((require_approval and bool(todo))
                                 or (bool(held) and not dry_run))
    if dry_run or gate:
        for i in todo:
            results[i][1:] = ["dry_run", MAY_BE_DELIVERED if i in held else "",
                              canonical_json(records[i].payload)]
        preview = results_frame(results)
        if gate:
            what = "record (a dry run: nothing sent)" if dry_run else "send"
            raise ApprovalRequired(preview, (
                f"Waiting for approval to {what} {len(todo)} of {len(records)} records"
                + (f", {len(held)} of which an interrupted attempt may have delivered already."
                   if held and not dry_run else ".")))
        ctx.log(f"Dry run: {len(todo)} of {len(records)} records would be sent; "
                "nothing was sent.")
        return preview

    if todo and check is not None:
        check()
    if todo and prepare is not None:
        # Fenced like every batch: an attempt that is no longer the current one stops here,
        # before it touches the destination (prepare may replace a whole table).
        ctx.mark_in_flight({}, "")
        prepare()
    again = {i for i in todo if records[i].key in flying}
    for i in again:
        records[i].batch_key = flying[records[i].key]
    stopped, done = "", 0
    for batch_indexes in _batches(todo, again, records, batch_size):
        if ctx.interrupts.fired:
            break  # cancelled or out of time: no further batch starts
        batch = [records[i] for i in batch_indexes]
        key = batch_key(batch)
        if stopped:
            failures = {r.key: f"Not sent: {stopped}" for r in batch}
        else:
            ctx.mark_in_flight({r.key: r.digest for r in batch}, key)
            for r in batch:
                r.batch_key = key
            try:
                failures = send(batch)
            except StopSending as exc:
                stopped = exc.reason
                failures = {r.key: exc.reason for r in batch}
            sent = {r.key: r.digest for r in batch if r.key not in failures}
            if sent:
                ctx.mark_sent(sent)
            if failures:
                ctx.clear_in_flight(list(failures))
        for i in batch_indexes:
            key = records[i].key
            results[i][1:] = ["failed", failures[key], ""] if key in failures \
                else ["sent", POSSIBLY_TWICE if i in again else "", ""]
        done += len(batch)
        ctx.progress(min(1.0, done / len(todo)))
    statuses = Counter(row[1] for row in results)
    ctx.log(f"Sent {statuses['sent']}, failed {statuses['failed']}, skipped "
            f"{statuses['skipped']} (already sent with the same content) of {len(records)} "
            "records" + (f"; {len(again)} sent again after an interrupted attempt, possibly "
                         "delivered twice." if again else "."))
    return results_frame(results)


def _unique(records: list[Record], results: list[list[str]]) -> list[int]:
    """Indexes of the records that can be sent: no error, and a key no other row has
    (sending either row could overwrite the other and the send log could not tell them
    apart); the others' results say why not."""
    counts = Counter(r.key for r in records if not r.error)
    todo: list[int] = []
    for i, record in enumerate(records):
        if record.error:
            continue
        if counts[record.key] > 1:
            results[i][2] = (f"The key {record.key!r} appears {counts[record.key]} times in "
                             "the table; none of these rows was sent.")
        else:
            todo.append(i)
    return todo


def _batches(todo: list[int], again: set[int], records: list[Record],
             size: int) -> list[list[int]]:
    """The batches to send: first each batch an interrupted attempt left in flight, whole
    and alone (so it carries its idempotency key again), then the rest ``size`` at a time."""
    groups: dict[str, list[int]] = {}
    for i in todo:
        if i in again:
            groups.setdefault(records[i].batch_key, []).append(i)
    rest = [i for i in todo if i not in again]
    return list(groups.values()) + [rest[s:s + size] for s in range(0, len(rest), size)]


# --- CRM upserts ----------------------------------------------------------------------------

def check_mapped_columns(schema: Schema | None, params: Any) -> None:
    """The key column and every mapped column of a CRM action exist in the input table."""
    require_columns(schema, [params.key_column], field="key_column")
    for i, mapping in enumerate(params.mappings):
        require_columns(schema, [mapping.column], field=f"mappings.{i}.column")


class UpsertParams(Protocol):
    key_column: str
    batch_size: int
    timeout_seconds: float
    retries: int
    dry_run: bool
    require_approval: bool


class CrmEndpoint:
    """The URL a CRM action sends its batches to, with the bearer token. A request that
    gets no answer after every retry, or a 401 (the token expired or was revoked), stops the
    sending: no later batch could do better."""

    def __init__(self, ctx: Context, client: httpx.Client, *, method: str, url: str,
                 token: str, expired: str, retries: int) -> None:
        self.ctx, self.client, self.method, self.url = ctx, client, method, url
        self.token, self.expired = token, expired
        self.policy = http.RetryPolicy(retries=retries)

    def request(self, body: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            response = http.request(self.client, self.method, self.url, ctx=self.ctx,
                                    field="connection", policy=self.policy, headers=headers,
                                    json=body)
        except http.HttpFailure as exc:
            raise StopSending(str(exc)) from None
        if response.status_code == 401:
            raise StopSending(self.expired)
        return response


# Sends one batch to the endpoint; returns {record key: reason} for the records that failed.
CrmSend = Callable[[CrmEndpoint, list[Record]], dict[str, str]]


def crm_upsert(ctx: Context, table: pd.DataFrame, params: UpsertParams, *, method: str,
               url: str, token: str, expired: str,
               build: Callable[[str, dict[str, Any]], Any],
               send: CrmSend, via: tuple[str, Any] | None = None) -> dict[str, pd.DataFrame]:
    """What a CRM upsert action does with its rows once it knows where they go: one record
    per row keyed by ``key_column`` with ``build(key, row)`` as payload, delivered in batches
    through ``send`` (honouring dry run, approval and the send log); the results port. The
    URL is checked after the approval gate (a dry run reaches nothing: it works offline)."""
    records = make_records(table, [params.key_column], url, build)
    with http.new_client(params.timeout_seconds) as client:
        endpoint = CrmEndpoint(ctx, client, method=method, url=url, token=token,
                               expired=expired, retries=params.retries)
        results = deliver(ctx, records, lambda batch: send(endpoint, batch),
                          dry_run=params.dry_run, require_approval=params.require_approval,
                          batch_size=params.batch_size, via=via,
                          check=lambda: check_url(url, allowlist=ctx.url_allowlist,
                                                  field="connection"))
    return {"results": results}
