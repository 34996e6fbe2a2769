"""Loading a source through dlt: the one way every extracting connector (SaaS APIs, REST,
files, SQL tables) turns what it reads into a node's table, incrementally.

An operator builds a dlt resource (``rest_api``, ``filesystem``, ``sql_database``) and hands
it to ``load`` with what it knows of the records (primary key, cursor). ``load``

* reads the cursor the last succeeded run left (``ctx.previous_source_state``): a run that
  failed never moves it, a "Full refresh" run starts over;
* streams the records in chunks of ``CHUNK`` into data frames (never one list of dicts);
* drops the records the previous run already ended on (a closed range on the cursor, so a
  record updated in the same second as the last one is not missed), merges the new ones into
  the accumulated table by primary key, and counts new and updated records;
* records what it did (``ctx.record_source``): records, pages, cursor before and after,
  columns new since the last run and columns gone, for the run page;
* turns what went wrong into a message naming the connection and what to do: the API refused
  the credentials, kept rate-limiting, could not be reached, sent a page that is not what was
  expected, or records without the cursor field. Secrets are redacted from every message.

HTTP goes through ``checked_session``: a requests session (what dlt's REST client speaks)
whose every request is sent by the project's checked httpx transport (private addresses
refused unless allow-listed, the checked address dialled) and retried by dlt's own retrying
client on 429 (honouring Retry-After, capped) and 5xx."""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pandas as pd
import pyarrow as pa
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from ..actions import http
from ..base import Context, OperatorError
from ..errors import RetryableError, causes
from ..schema import Schema

CHUNK = 10_000  # records per data frame while streaming
MAX_BOUNDARY = 1_000  # primary keys remembered at the cursor's last value
MAX_STATE_COLUMNS = 2_000


# --- HTTP ----------------------------------------------------------------------------------------
class _CheckedAdapter(BaseAdapter):
    """requests → the project's checked httpx client; counts the pages answered."""

    def __init__(self, ctx: Context, *, timeout: float, field: str, on_answer: Callable[
            [requests.Response | None, BaseException | None], None]) -> None:
        super().__init__()
        self.client = http.new_client(timeout)
        self.check = (tuple(ctx.url_allowlist), field)
        self.on_answer = on_answer

    def send(self, request: requests.PreparedRequest, stream: bool = False,  # noqa: ARG002
             timeout: Any = None, verify: Any = True, cert: Any = None,  # noqa: ARG002
             proxies: Any = None) -> requests.Response:  # noqa: ARG002
        body = request.body.encode() if isinstance(request.body, str) else request.body
        headers = {k: v.decode() if isinstance(v, bytes) else v
                   for k, v in request.headers.items()}
        try:
            answer = self.client.request(
                request.method or "GET", request.url or "", headers=headers,
                content=body if isinstance(body, bytes) or body is None else b"".join(
                    b if isinstance(b, bytes) else str(b).encode() for b in body),  # type: ignore[union-attr]
                extensions={http.URL_CHECK: self.check})
        except httpx.TimeoutException as exc:
            self.on_answer(None, exc)
            raise requests.exceptions.Timeout(type(exc).__name__, request=request) from None
        except httpx.TransportError as exc:
            self.on_answer(None, exc)
            raise requests.exceptions.ConnectionError(type(exc).__name__,
                                                      request=request) from None
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.content
        response.reason = answer.reason_phrase
        response.url = request.url or ""
        response.request = request
        response.encoding = answer.encoding
        self.on_answer(response, None)
        # Shopify asks to wait "2.0" s: dlt's retry reads only whole seconds or a date, so a
        # number with a fraction is rounded up to whole seconds (never waiting less).
        wait = response.headers.get("Retry-After", "")
        if "." in wait:
            try:
                response.headers["Retry-After"] = str(max(1, math.ceil(float(wait))))
            except ValueError:
                pass
        return response

    def close(self) -> None:
        self.client.close()


@dataclass
class Fetch:
    """What the HTTP side of a load saw: pages answered, retries, for the report."""

    pages: int = 0
    retries: int = 0
    last_status: int | None = None


def checked_session(ctx: Context, *, name: str, secrets: Iterable[str], timeout: float = 30,
                    retries: int = 4, max_wait: float = 60, fetch: Fetch | None = None,
                    field: str = "connection") -> requests.Session:
    """A session for dlt's REST client: checked addresses, a timeout per request, retries on
    429 and 5xx (Retry-After honoured up to ``max_wait`` seconds) and network failures, each
    retry logged under the connection's ``name``."""
    from dlt.sources.helpers.requests import Client

    fetch = fetch if fetch is not None else Fetch()
    hidden = [s for s in secrets if s]

    def answered(response: requests.Response | None, exc: BaseException | None) -> None:
        # Every answer and network failure; dlt's retrying client decides whether to retry.
        if response is not None:
            fetch.last_status = response.status_code
            if response.ok:
                fetch.pages += 1
                return
            if response.status_code != 429 and response.status_code < 500:
                return
            fetch.retries += 1
            wait = response.headers.get("Retry-After")
            ctx.log(http.redact(f"{name}: HTTP {response.status_code}"
                                + (f", asked to wait {wait} s" if wait else "")
                                + "; retrying.", hidden))
        elif exc is not None:
            fetch.retries += 1
            ctx.log(f"{name}: {type(exc).__name__}; retrying.")

    client = Client(request_timeout=timeout, raise_for_status=False,
                    request_max_attempts=retries + 1, request_backoff_factor=0.5,
                    request_max_retry_delay=max_wait, respect_retry_after_header=True)
    client._adapter = _CheckedAdapter(  # type: ignore[assignment]
        ctx, timeout=timeout, field=field, on_answer=answered)
    session: requests.Session = client.session
    # dlt deep-copies its config: the session (an open client, locks) is shared, not copied.
    session.__deepcopy__ = lambda memo: session  # type: ignore[attr-defined]
    # A redirect is answered, not followed: requests would carry custom token headers
    # (X-Shopify-Access-Token, X-Api-Key...) to wherever it points.
    session.max_redirects = 0
    return session


# --- incremental state ---------------------------------------------------------------------------
# Params that say how much or how to read, not what: changing them keeps the cursor.
TUNING = frozenset({"output", "max_records", "row_limit", "max_pages", "chunk_size",
                    "timeout_seconds", "retries", "retry_max_wait_seconds", "pushdown"})


def state_key(operator: str, params: dict[str, Any]) -> str:
    """Which cursor a node's params continue: another resource, query or cursor field is
    another key (it starts over); the output mode, limits and timeouts are not part of it."""
    relevant = {k: v for k, v in params.items() if k not in TUNING}
    text = json.dumps([operator, relevant], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class Previous:
    """The state the last succeeded run left, with its accumulated table, if any."""

    cursor: Any = None
    boundary: list[str] = field(default_factory=list)
    columns: list[str] | None = None
    accumulated: pd.DataFrame | None = None
    accumulated_hash: str | None = None


def previous(ctx: Context, key: str, *, keyed: bool) -> Previous | None:
    """The last succeeded run's state for ``key``; None to start over (first run, full
    refresh, or the accumulated table it relied on is gone from the store)."""
    state = ctx.previous_source_state(key)
    if not state:
        return None
    prev = Previous(cursor=state.get("cursor"), boundary=list(state.get("boundary") or []),
                    columns=state.get("columns"), accumulated_hash=state.get("accumulated"))
    if keyed and prev.accumulated_hash:
        prev.accumulated = ctx.get_table(prev.accumulated_hash)
        if prev.accumulated is None:
            ctx.log("The table accumulated by earlier runs is gone from the artifact store; "
                    "starting over (a full refresh).")
            return None
    return prev


# --- records → a data frame, in chunks -----------------------------------------------------------
def _cell(value: Any) -> Any:
    return json.dumps(value, default=str, sort_keys=True) if isinstance(value, (list, dict)) \
        else value


def _frame(records: list[Any], rename: Callable[[str], str] | None) -> pd.DataFrame:
    rows = [r if isinstance(r, dict) else {"value": r} for r in records]
    df = _arrow_frame(rows)
    if df is None:
        df = pd.json_normalize(rows)
        for column in df.columns:
            values = df[column]
            if values.dtype == object and values.map(
                    lambda v: isinstance(v, (list, dict))).any():
                df[column] = values.map(_cell)
    if rename is not None:
        df.columns = [rename(str(c)) for c in df.columns]
    return df


def _json_scalar(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or pa.types.is_integer(kind) or pa.types.is_floating(kind)
                or pa.types.is_boolean(kind) or pa.types.is_null(kind))


def _arrow_frame(rows: list[dict[str, Any]]) -> pd.DataFrame | None:
    """JSON records as columns through Arrow, several times faster than json_normalize and
    with compact text columns: nested objects become "a.b" columns as json_normalize names
    them. None (json_normalize does it) unless every field is text, a number, a boolean or
    empty: a field that is a list, a number here and text there, a date object..."""
    # The process's own allocator, not Arrow's default (mimalloc): a chunk's columns live as
    # long as the node's table, mixed with the buffers building them, which mimalloc keeps
    # around; for a million records, 60 MB less at the peak (bench/sources.py).
    pool = pa.system_memory_pool()
    try:
        array = pa.array(rows, memory_pool=pool)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        return None
    if not pa.types.is_struct(array.type) or array.type.num_fields == 0:
        return None
    table = pa.Table.from_struct_array(array)
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten(memory_pool=pool)
    if not all(_json_scalar(f.type) for f in table.schema):
        return None
    return table.to_pandas(memory_pool=pool)


def _chunks(items: Iterable[Any], rename: Callable[[str], str] | None,
            limit: int | None = None) -> Iterator[pd.DataFrame]:
    """Data frames of at most CHUNK records from dicts, lists of dicts, Arrow tables or data
    frames, as dlt resources yield them; ``limit`` records at most in all."""
    batch: list[Any] = []
    left = limit if limit is not None else -1  # records still wanted; -1: all

    def cut(frame: pd.DataFrame) -> pd.DataFrame:
        nonlocal left
        if left >= 0:
            frame = frame.iloc[:left] if len(frame) > left else frame
            left -= len(frame)
        return frame

    for item in items:
        if isinstance(item, pd.DataFrame) or hasattr(item, "to_pandas"):
            if batch:
                yield cut(_frame(batch, rename))
                batch = []
            frame = item if isinstance(item, pd.DataFrame) else item.to_pandas()
            if rename is not None:
                frame.columns = [rename(str(c)) for c in frame.columns]
            yield cut(frame)
        else:
            if isinstance(item, list):
                batch.extend(item)
            else:
                batch.append(item)
            if len(batch) >= CHUNK or 0 <= left <= len(batch):
                yield cut(_frame(batch, rename))
                batch = []
        if left == 0:
            return
    if batch:
        yield cut(_frame(batch, rename))


# --- the load ------------------------------------------------------------------------------------
@dataclass
class Source:
    """What an operator hands ``load``: the records and what is known of them."""

    name: str  # the connection's name (or the source's), for messages
    records: Iterable[Any]  # a dlt resource, or any iterable of records
    secrets: list[str] = field(default_factory=list)
    # Output columns: the record's identity, and where its cursor is (after renaming).
    primary_key: list[str] = field(default_factory=list)
    cursor_column: str | None = None
    declared: Schema | None = None  # columns the output always has, typed
    rename: Callable[[str], str] | None = None
    fetch: Fetch | None = None
    # What to tell the user to do when the credentials are refused.
    auth_hint: str = "check its credentials on the Connections screen"
    # Where the next run continues when the API says so itself (its own since-token, e.g.
    # Zendesk's after_cursor) rather than the cursor column's largest value: called with the
    # number of records read (max_records may stop within a page), once they are read;
    # None: the cursor column's largest value, as without it.
    cursor_after: Callable[[int], Any] | None = None


def load(ctx: Context, source: Source, *, key: str, prev: Previous | None,
         output: str = "new", max_records: int | None = None) -> pd.DataFrame:
    """Read every record of ``source`` (new since ``prev``), record the report, and return
    the new records (``output="new"``) or the accumulated table (``"accumulated"``)."""
    frames: list[pd.DataFrame] = []
    count = 0
    try:
        for frame in _chunks(source.records, source.rename, max_records):
            frames.append(frame)
            count += len(frame)
            if ctx.interrupts.fired:
                raise OperatorError("Stopped: the node was cancelled.")
            if max_records is not None and count >= max_records:
                ctx.log(f"Stopped after {max_records:,} records (max_records).")
                break
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message for people
        raise explain(exc, source) from None
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    del frames
    df = _declared(df, source.declared)
    if df.empty and prev is not None and prev.columns:
        # Nothing new: the last run's columns, empty; not only the declared ones (the others
        # are not gone, and downstream nodes that use them keep working).
        for column in prev.columns:
            if column not in df.columns:
                df[column] = pd.Series([], dtype=object)
        df = df[[*prev.columns, *(c for c in df.columns if c not in prev.columns)]]
    cursor_before = prev.cursor if prev else None
    if prev is not None and source.primary_key and source.cursor_column and prev.boundary \
            and not df.empty:
        df = _drop_boundary(df, source, prev)
    cursor_after = cursor_before
    if source.cursor_column and source.cursor_column in df.columns and not df.empty:
        top = df[source.cursor_column].dropna()
        if not top.empty:
            cursor_after = _plain(top.max())
    token = source.cursor_after(count) if source.cursor_after is not None else None
    if token is not None and source.cursor_column:
        cursor_after = token
    new, updated = len(df), 0
    accumulated: pd.DataFrame | None = None
    if source.primary_key and _has(df, source.primary_key):
        df = df.drop_duplicates(subset=source.primary_key, keep="last", ignore_index=True)
        before = prev.accumulated if prev is not None else None
        if before is not None and _has(before, source.primary_key) and not before.empty:
            seen = _keys(before, source.primary_key)
            is_update = _keys(df, source.primary_key).isin(seen)
            updated = int(is_update.sum())
            new = len(df) - updated
            kept = before[~_keys(before, source.primary_key).isin(_keys(df, source.primary_key))]
            accumulated = pd.concat([kept, df], ignore_index=True) if not kept.empty else df
        else:
            new = len(df)
            accumulated = df
    columns = [str(c) for c in df.columns]
    known = prev.columns if prev is not None and prev.columns is not None else None
    report = {
        "state_key": key,
        "records": len(df), "pages": source.fetch.pages if source.fetch else None,
        "retries": source.fetch.retries if source.fetch else 0,
        "new": new, "updated": updated,
        "cursor_field": source.cursor_column,
        "cursor_before": _plain(cursor_before), "cursor_after": _plain(cursor_after),
        "full_refresh": prev is None,
        "new_columns": [c for c in columns if known is not None and c not in known],
        "missing_columns": [c for c in (known or []) if c not in columns],
        "state": {
            "cursor": _plain(cursor_after),
            "boundary": _boundary(df, source, cursor_after, prev),
            "columns": columns[:MAX_STATE_COLUMNS],
            "accumulated": ctx.put_table(accumulated) if accumulated is not None else None,
        },
    }
    ctx.record_source(report)
    _log(ctx, source, report)
    if output == "accumulated":
        if accumulated is None:
            raise OperatorError("The accumulated table needs a primary key in the records; "
                                "choose \"new records\" as the output.", field="output")
        return accumulated
    return df


def _has(df: pd.DataFrame, columns: list[str]) -> bool:
    return all(c in df.columns for c in columns)


def _keys(df: pd.DataFrame, columns: list[str]) -> pd.Series:
    if len(columns) == 1:
        return df[columns[0]].astype(str)
    return df[columns].astype(str).agg("\x1f".join, axis=1)


def _plain(value: Any) -> Any:
    """A cursor value as JSON keeps it: numbers, strings (timestamps in ISO form)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def _boundary(df: pd.DataFrame, source: Source, cursor: Any,
              prev: Previous | None) -> list[str]:
    """The keys of the records at the cursor's last value: the next run, which reads from
    that value on (inclusive), drops them unless they changed. A run that did not move the
    cursor keeps the last run's: the next one reads those records again."""
    if not source.primary_key or not source.cursor_column or cursor is None:
        return []
    keys: list[str] = list(prev.boundary) if prev is not None and prev.cursor == cursor \
        else []
    if source.cursor_column in df.columns and _has(df, source.primary_key):
        at = df[_at(df[source.cursor_column], cursor)]
        keys = list(dict.fromkeys([*keys, *_keys(at, source.primary_key).tolist()]))
    return keys[:MAX_BOUNDARY]


def _at(values: pd.Series, cursor: Any) -> pd.Series:
    """Which ``values`` are ``cursor`` (as ``_plain`` keeps a value): compared in the column's
    own type when it has one (no Python call per record), else value by value."""
    if values.dtype != object:
        try:
            target = pd.Series([cursor]).astype(values.dtype)
        except (ValueError, TypeError, OverflowError):
            pass
        else:
            if target.notna().all() and _plain(target.iloc[0]) == cursor:
                return values == target.iloc[0]
    return values.map(_plain) == cursor


def _drop_boundary(df: pd.DataFrame, source: Source, prev: Previous) -> pd.DataFrame:
    assert source.cursor_column is not None
    again = _keys(df, source.primary_key).isin(set(prev.boundary))
    if again.any():  # the cursor of those few records only
        again[again] = df.loc[again, source.cursor_column].map(_plain) == prev.cursor
    return df[~again].reset_index(drop=True)


def _datetimes(values: pd.Series) -> pd.Series:
    """Timestamps in any ISO form; numbers are seconds since the epoch (Stripe's
    ``created``), not pandas' nanoseconds."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return pd.to_datetime(values, errors="coerce", utc=True, unit="s")
    if values.dtype == "str":  # Arrow text with a zone (APIs' form): parsed by Arrow itself,
        try:  # ten times faster, with no Python string per value
            parsed = pa.array(values).cast(pa.timestamp("us", tz="UTC"))
            return pd.Series(parsed.to_pandas().array, index=values.index, name=values.name)
        except (pa.ArrowException, ValueError, TypeError):
            pass
    try:  # any ISO form, many times faster than a format guessed per value
        return pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return pd.to_datetime(values, errors="coerce", utc=True, format="mixed")


def _floats(values: pd.Series) -> pd.Series:
    if values.dtype == "str":  # numbers as text (HubSpot's): parsed by Arrow when all are
        try:
            parsed = pa.array(values).cast(pa.float64())
            return pd.Series(parsed.to_pandas().array, index=values.index, name=values.name)
        except (pa.ArrowException, ValueError, TypeError):
            pass
    return pd.to_numeric(values, errors="coerce").astype("float64")


_CASTS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "int": lambda s: pd.to_numeric(s, errors="coerce").astype("Int64"),
    "float": _floats,
    "bool": lambda s: s.astype("boolean") if pd.api.types.is_bool_dtype(s) else s.map(
        lambda v: None if v is None or v != v or v == "" else str(v).lower() in ("true", "1")
    ).astype("boolean"),
    "datetime": _datetimes,
    # pandas' own text type (Arrow-backed): a tenth of the memory of Python strings.
    "str": lambda s: s if s.dtype == "str" else s.astype("str"),
}


def _declared(df: pd.DataFrame, declared: Schema | None) -> pd.DataFrame:
    """Every declared column present (empty when the records lack it) and of its type."""
    for column in declared or []:
        name, kind = column["name"], column["type"]
        if name not in df.columns:
            df[name] = pd.Series([None] * len(df), dtype=object)
        if kind == "datetime" and pd.api.types.is_datetime64_any_dtype(df[name]):
            continue
        df[name] = _CASTS.get(kind, _CASTS["str"])(df[name])
    return df


def declared_schema(columns: Iterable[tuple[str, str]]) -> Schema:
    return [{"name": n, "type": t} for n, t in columns]


def _log(ctx: Context, source: Source, report: dict[str, Any]) -> None:
    pages = f" in {report['pages']} pages" if report["pages"] else ""
    ctx.log(f"{source.name}: {report['records']:,} records{pages} "
            f"({report['new']:,} new, {report['updated']:,} updated).")
    if report["cursor_field"]:
        ctx.log(f"Cursor {report['cursor_field']}: {report['cursor_before'] or '(start)'} → "
                f"{report['cursor_after'] or '(none)'}"
                + (" (full refresh)" if report["full_refresh"] else "") + ".")
    if report["new_columns"]:
        ctx.log("New since the last run: " + ", ".join(report["new_columns"]) + ".")
    if report["missing_columns"]:
        ctx.log("Gone since the last run: " + ", ".join(report["missing_columns"]) + ".")


# --- what went wrong, for people -----------------------------------------------------------------
def explain(exc: BaseException, source: Source) -> Exception:
    """The error to raise for ``exc``: an OperatorError (the user must act) or a
    RetryableError (a passing fault the engine retries), naming the source, secrets
    redacted."""
    name, hide = source.name, source.secrets
    for cause in causes(exc):
        if isinstance(cause, OperatorError | RetryableError):
            cause.message = http.redact(cause.message, hide)
            return cause
        if isinstance(cause, requests.HTTPError) and cause.response is not None:
            return _status_error(cause.response, source)
        if isinstance(cause, requests.exceptions.Timeout):
            return RetryableError(f"{name}: the server did not answer in time; the node will "
                                  "be retried.")
        if isinstance(cause, requests.exceptions.ConnectionError):
            return RetryableError(f"{name}: cannot reach the server "
                                  f"({http.redact(str(cause), hide)[:200]}); the node will be "
                                  "retried. Check the connection's URL if this persists.")
        kind = type(cause).__name__
        if kind == "IncrementalCursorPathMissing" or kind == "IncrementalCursorPathHasValueNone":
            return OperatorError(f"{name}: records arrived without the cursor field "
                                 f"{source.cursor_column!r}; choose another cursor or turn "
                                 "incremental loading off.", field="incremental")
        if isinstance(cause, requests.TooManyRedirects) and cause.response is not None:
            location = cause.response.headers.get("Location", "")
            return OperatorError(f"{name}: {http.where(cause.response.url)} redirects to "
                                 f"{http.where(location)}, which is not followed (it could "
                                 "carry the credentials elsewhere); put the final address in "
                                 "the connection.", field="connection")
        if isinstance(cause, json.JSONDecodeError | requests.JSONDecodeError) or (
                isinstance(cause, ValueError) and "json" in str(cause).lower()):
            return OperatorError(f"{name}: malformed page: the server answered something "
                                 "that is not JSON; check the connection's base URL.",
                                 field="connection")
    text = http.redact(f"{type(exc).__name__}: {exc}", hide)[:400]
    return OperatorError(f"{name}: {text}")


def _status_error(response: requests.Response, source: Source) -> Exception:
    status, name = response.status_code, source.name
    said = http.redact(" ".join(response.text.split())[:200], source.secrets)
    if status in (401, 403):
        return OperatorError(f"{name} refused the credentials (HTTP {status}): "
                             f"{source.auth_hint}." + (f" It said: {said}" if said else ""),
                             field="connection")
    if status == 429:
        return RetryableError(f"{name} kept answering HTTP 429 (rate limited) after every "
                              "retry; the node will be retried later.")
    if status >= 500:
        return RetryableError(f"{name} answered HTTP {status}; the node will be retried.")
    if status == 404:
        return OperatorError(f"{name}: HTTP 404 at {http.where(response.url)}: the resource "
                             "does not exist; check the resource and the connection's URL.",
                             field="resource")
    return OperatorError(f"{name} answered HTTP {status}" + (f": {said}" if said else ""))

