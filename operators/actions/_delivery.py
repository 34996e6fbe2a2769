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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias

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
from ..tables import Table, collect
from . import http
from ._scratch import CHUNK_ROWS, ResultSink, Scratch, key_counts

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
# The rows of results an approval request shows (its message counts them all).
PREVIEW_ROWS = 1_000
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


# An action's results port: one table, or (past a chunk of rows) its batches.
Results: TypeAlias = pd.DataFrame | Iterator[pd.DataFrame]

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
    """Each row as {column: ``native`` value}, built column by column (numbers and times
    without a Python call per cell: a delivery reads a big table three times)."""
    names = [str(c) for c in table.columns]
    columns = [_natives(table.iloc[:, j]) for j in range(table.shape[1])]
    if not columns:
        return [{} for _ in range(len(table))]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _natives(column: pd.Series) -> list[Any]:
    """``[native(v) for v in column]``, faster for plain NumPy numbers and times."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        values: list[Any] = column.tolist()  # Python ints and bools, never missing
        return values
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return [v if math.isfinite(v) else None for v in column.tolist()]
    if dtype.kind == "M":
        return [None if v is pd.NaT else v.to_pydatetime() for v in column.tolist()]
    if isinstance(dtype, pd.StringDtype):
        return [v if type(v) is str else None for v in column.tolist()]  # missing: NaN or NA
    return [native(v) for v in column.tolist()]


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


@dataclass
class Chunks:
    """The records to deliver, a chunk at a time: ``read()`` reads them again from the start
    on each call (a delivery reads them three times: keys, plan, send). ``many``: more than
    one chunk, so repeated keys are counted out of core."""

    read: Callable[[], Iterable[list[Record]]]
    many: bool = False


def table_chunks(table: Table, to_records: Callable[[pd.DataFrame], list[Record]]) -> Chunks:
    """The records of ``table``, CHUNK_ROWS rows at a time; a table of one chunk is turned
    into records once and kept."""
    if table.rows <= CHUNK_ROWS:
        held = [to_records(batch) for batch in table.batches(CHUNK_ROWS)]
        return Chunks(lambda: held)
    return Chunks(lambda: (to_records(batch) for batch in table.batches(CHUNK_ROWS)),
                  many=True)


def deliver(ctx: Context, records: list[Record], send: Send, **options: Any) -> pd.DataFrame:
    """``deliver_chunks`` of records held in memory: the results as one table."""
    return collect(deliver_chunks(ctx, Chunks(lambda: [records]), send, **options))


def deliver_chunks(ctx: Context, chunks: Chunks, send: Send, *, dry_run: bool,
                   require_approval: bool, batch_size: int, skip_sent: bool = True,
                   prepare: Callable[[], None] | None = None,
                   resend_in_flight: bool = True,
                   check: Callable[[], object] | None = None,
                   via: tuple[str, Any] | None = None,
                   scratch: Scratch | None = None) -> Results:
    """Send the records in batches through ``send``; return the results table (one row per
    record, in order: a DataFrame up to a chunk, else batches read back from a file).

    Records already sent with the same content are skipped (unless ``skip_sent`` is false,
    for destinations that are rewritten whole); ``prepare`` runs once before the first batch,
    only when something is really sent. Each batch is recorded in the send log as in flight
    before it is sent and as sent after: records an interrupted attempt left in flight are
    sent again first, as the same batch with the same idempotency key, when the channel
    makes that safe (``resend_in_flight``: a key or an upsert); otherwise they wait for an
    editor's approval, whose preview shows the first PREVIEW_ROWS results. ``check`` (the
    destination's network checks) runs after the approval gate, before anything is sent: a
    preview needs no network, so the gate is always reached. ``via`` is (name, config) of
    the connection sent through: one marked dry run only refuses a real send before anything
    else. The node stops between batches when it is interrupted. Only one attempt of this
    node at a time (across concurrent runs) reads and sends: the second finds the first
    one's records sent. The records are read a chunk at a time, never all at once."""
    if via is not None:
        # A run's context knows the connection's name; a bare one, only its id.
        names: dict[str, str] = getattr(ctx, "connection_names", {})
        refuse_dry_run_only(via[1], names.get(via[0], via[0]), dry_run=dry_run)
    delivery = _Delivery(ctx, chunks, send, dry_run=dry_run,
                         require_approval=require_approval, batch_size=batch_size,
                         skip_sent=skip_sent, prepare=prepare,
                         resend_in_flight=resend_in_flight, check=check,
                         scratch=scratch or Scratch())
    if dry_run:
        return delivery.run()
    with ctx.sending_alone():
        return delivery.run()


@dataclass
class _Chunk:
    """One chunk's records classified: their results so far, the indexes still to send,
    and those an interrupted attempt left in flight ({key: that batch's key})."""

    records: list[Record]
    results: list[list[str]]
    todo: list[int]
    flying: dict[str, str]


@dataclass
class _Plan:
    records: int = 0
    todo: int = 0
    held: int = 0
    # Records an interrupted attempt left in flight: sent again first, batch by batch.
    again: list[Record] = field(default_factory=list)


class _Delivery:
    def __init__(self, ctx: Context, chunks: Chunks, send: Send, *, dry_run: bool,
                 require_approval: bool, batch_size: int, skip_sent: bool,
                 prepare: Callable[[], None] | None, resend_in_flight: bool,
                 check: Callable[[], object] | None, scratch: Scratch) -> None:
        self.ctx, self.chunks, self.send_batch = ctx, chunks, send
        self.dry_run, self.require_approval = dry_run, require_approval
        self.batch_size, self.skip_sent, self.prepare = batch_size, skip_sent, prepare
        self.resend_in_flight, self.check, self.scratch = resend_in_flight, check, scratch
        self.stopped, self.done, self.todo = "", 0, 0

    def run(self) -> Results:
        self.keys = key_counts(self.scratch, self.chunks.many)
        try:
            for chunk in self.chunks.read():
                self.keys.add([r.key for r in chunk if not r.error])
            plan = self._plan()
            # A dry run waits at the gate too, when asked to: approving it records what
            # would be sent, without sending.
            gate = not self.ctx.approved and ((self.require_approval and bool(plan.todo))
                                              or (bool(plan.held) and not self.dry_run))
            if self.dry_run or gate:
                return self._preview(plan, gate)
            return self._send(plan)
        finally:
            self.keys.close()

    def _classify(self, records: list[Record], *, flight: bool) -> _Chunk:
        """Which records of a chunk can be sent: no error, a key no other row of the table
        has (sending either row could overwrite the other and the send log could not tell
        them apart), not already sent with this content. ``flight``: look up which were in
        flight."""
        results = [[r.key, "failed", r.error, ""] for r in records]
        ok = [i for i, r in enumerate(records) if not r.error]
        repeated = self.keys.counts([records[i].key for i in ok]) if ok else {}
        todo: list[int] = []
        for i in ok:
            times = repeated.get(records[i].key)
            if times:
                results[i][2] = (f"The key {records[i].key!r} appears {times} times in the "
                                 "table; none of these rows was sent.")
            else:
                todo.append(i)
        already = self.ctx.sent_before({records[i].key: records[i].digest for i in todo}) \
            if self.skip_sent and todo else set()
        for i in todo:
            if records[i].key in already:
                results[i][1:] = ["skipped", "Already sent with the same content.", ""]
        todo = [i for i in todo if records[i].key not in already]
        flying = self.ctx.in_flight({records[i].key: records[i].digest for i in todo}) \
            if flight and self.skip_sent and todo else {}
        return _Chunk(records, results, todo, flying)

    def _plan(self) -> _Plan:
        plan = _Plan()
        for records in self.chunks.read():
            chunk = self._classify(records, flight=True)
            plan.records += len(records)
            plan.todo += len(chunk.todo)
            for i in chunk.todo:
                record = records[i]
                if record.key in chunk.flying:
                    record.batch_key = chunk.flying[record.key]
                    plan.again.append(record)
                    plan.held += not self.resend_in_flight
        return plan

    def _preview(self, plan: _Plan, gate: bool) -> Results:
        """What would be sent: every row's result for a dry run, the first PREVIEW_ROWS in
        the approval request."""
        held = not self.resend_in_flight
        sink, shown, seen = ResultSink(self.scratch), [], 0
        for records in self.chunks.read():
            chunk = self._classify(records, flight=held)
            for i in chunk.todo:
                chunk.results[i][1:] = ["dry_run",
                                        MAY_BE_DELIVERED if records[i].key in chunk.flying
                                        else "", canonical_json(records[i].payload)]
            if not gate:
                sink.add(results_frame(chunk.results))
                continue
            shown.append(results_frame(chunk.results[:PREVIEW_ROWS - seen]))
            seen += len(shown[-1])
            if seen >= PREVIEW_ROWS:
                break
        if gate:
            what = "record (a dry run: nothing sent)" if self.dry_run else "send"
            first = (f" The preview shows the first {PREVIEW_ROWS:,} rows."
                     if plan.records > PREVIEW_ROWS else "")
            raise ApprovalRequired(collect(shown or [results_frame([])]), (
                f"Waiting for approval to {what} {plan.todo} of {plan.records} records"
                + (f", {plan.held} of which an interrupted attempt may have delivered "
                   "already." if plan.held and not self.dry_run else ".") + first))
        self.ctx.log(f"Dry run: {plan.todo} of {plan.records} records would be sent; "
                     "nothing was sent.")
        return sink.result(results_frame([]))

    def _send(self, plan: _Plan) -> Results:
        self.todo = plan.todo
        if plan.todo and self.check is not None:
            self.check()
        if plan.todo and self.prepare is not None:
            # Fenced like every batch: an attempt that is no longer the current one stops
            # here, before it touches the destination (prepare may replace a whole table).
            self.ctx.mark_in_flight({}, "")
            self.prepare()
        # First each batch an interrupted attempt left in flight, whole and alone (so it
        # carries its idempotency key again); then the rest, chunk by chunk.
        again: dict[str, list[str]] = {}
        groups: dict[str, list[Record]] = {}
        for record in plan.again:
            groups.setdefault(record.batch_key, []).append(record)
        interrupted = False
        for group in groups.values():
            if self.ctx.interrupts.fired:
                interrupted = True
                break
            failures = self._deliver_batch(group)
            again |= {r.key: ["failed", failures[r.key], ""] if r.key in failures
                      else ["sent", POSSIBLY_TWICE, ""] for r in group}
        sink, statuses = ResultSink(self.scratch), Counter[str]()
        for records in [] if interrupted else self.chunks.read():
            chunk = self._classify(records, flight=False)
            for i, record in enumerate(records):
                if not record.error and record.key in again:
                    chunk.results[i][1:] = again[record.key]
            todo = [i for i in chunk.todo if records[i].key not in again]
            for start in range(0, len(todo), self.batch_size):
                if self.ctx.interrupts.fired:
                    interrupted = True
                    break  # cancelled or out of time: no further batch starts
                indexes = todo[start:start + self.batch_size]
                failures = self._deliver_batch([records[i] for i in indexes])
                for i in indexes:
                    key = records[i].key
                    chunk.results[i][1:] = ["failed", failures[key], ""] if key in failures \
                        else ["sent", "", ""]
            sink.add(results_frame(chunk.results))
            statuses.update(row[1] for row in chunk.results)
            if interrupted:
                break
        self.ctx.log(f"Sent {statuses['sent']}, failed {statuses['failed']}, skipped "
                     f"{statuses['skipped']} (already sent with the same content) of "
                     f"{plan.records} records"
                     + (f"; {len(again)} sent again after an interrupted attempt, possibly "
                        "delivered twice." if again else "."))
        return sink.result(results_frame([]))

    def _deliver_batch(self, batch: list[Record]) -> dict[str, str]:
        """Send one batch, recorded in flight then sent: {record key: reason} of the
        failed."""
        if self.stopped:
            failures = {r.key: f"Not sent: {self.stopped}" for r in batch}
        else:
            key = batch_key(batch)
            self.ctx.mark_in_flight({r.key: r.digest for r in batch}, key)
            for r in batch:
                r.batch_key = key
            try:
                failures = self.send_batch(batch)
            except StopSending as exc:
                self.stopped = exc.reason
                failures = {r.key: exc.reason for r in batch}
            sent = {r.key: r.digest for r in batch if r.key not in failures}
            if sent:
                self.ctx.mark_sent(sent)
            if failures:
                self.ctx.clear_in_flight(list(failures))
        self.done += len(batch)
        self.ctx.progress(min(1.0, self.done / max(self.todo, 1)))
        return failures


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


def crm_upsert(ctx: Context, table: Table, params: UpsertParams, *, method: str,
               url: str, token: str, expired: str,
               build: Callable[[str, dict[str, Any]], Any],
               send: CrmSend, via: tuple[str, Any] | None = None) -> dict[str, Results]:
    """What a CRM upsert action does with its rows once it knows where they go: one record
    per row keyed by ``key_column`` with ``build(key, row)`` as payload, delivered in batches
    through ``send`` (honouring dry run, approval and the send log); the results port. The
    URL is checked after the approval gate (a dry run reaches nothing: it works offline).
    The table is read a chunk at a time."""
    chunks = table_chunks(table, lambda rows: make_records(rows, [params.key_column], url,
                                                           build))
    with http.new_client(params.timeout_seconds) as client:
        endpoint = CrmEndpoint(ctx, client, method=method, url=url, token=token,
                               expired=expired, retries=params.retries)
        results = deliver_chunks(ctx, chunks, lambda batch: send(endpoint, batch),
                                 dry_run=params.dry_run,
                                 require_approval=params.require_approval,
                                 batch_size=params.batch_size, via=via,
                                 scratch=Scratch.of(table),
                                 check=lambda: check_url(url, allowlist=ctx.url_allowlist,
                                                         field="connection"))
    return {"results": results}
