"""Features looked up per request: the other side of a join on the serving path, read by key
from its source (a SQL database) and passed through the row-wise nodes between the source and
the join exactly as in training; or, by the deployment's choice (or where the source cannot
be read by key), the table the training run saw.

One parameterised query per request and lookup (``WHERE key IN (...)``) on pooled
connections; the rows of each key are reused for the deployment's ``lookup_ttl_seconds``
(0: never). A source that cannot be reached is a 503 naming the lookup: never an answer from
stale rows."""
from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd
from django.conf import settings

from datagran.connections.services import connection_for_operator
from datagran.connections.sql_settings import sqlite_root
from datagran.core.exceptions import Unavailable
from datagran.engine.serve import LiveSource, Step
from operators.base import Interrupts, OperatorError, Schema
from operators.schema import plain_names
from operators.transforms._common import conform_frame

LIVE, TRAINING = "live", "training"
MODES = (LIVE, TRAINING)
ERR_UNREACHABLE = ("The lookup {name} cannot be read now ({error}); nothing was predicted. "
                   "Try again, or set this lookup to “as of training” on the deploy page.")
MAX_CACHED_KEYS = 100_000  # per lookup: the oldest are dropped beyond it


class LookupContext:
    """What a source's ``lookup`` may touch while serving: the pipeline workspace's
    connections (remembered like the rest of serving), the server's host rules."""

    seed = 0
    approved = False

    def __init__(self, workspace_id: Any, remember: Callable[[tuple[Any, ...],
                                                              Callable[[], Any]], Any]) -> None:
        self.workspace_id = workspace_id
        self.remember = remember
        self.url_allowlist: list[str] = list(settings.DATAGRAN["URL_ALLOWLIST"])
        self.sqlite_root = sqlite_root()
        self.interrupts = Interrupts()
        self.connection_names: dict[str, str] = {}

    def connection(self, connection_id: str, kind: str | list[str]) -> Any:
        return self.remember(("connection", str(self.workspace_id), connection_id), lambda:
                             connection_for_operator(workspace_id=self.workspace_id,
                                                     connection_id=connection_id,
                                                     kind=kind)[1])

    def on_interrupt(self, callback: Callable[[], None]) -> Any:
        return self.interrupts.on_interrupt(callback)

    def log(self, message: str) -> None:
        pass

    def progress(self, fraction: float) -> None:
        pass


@dataclass
class RequestReport:
    """What the lookups of one request did: for the log and the answer's warnings."""

    lookups: dict[str, dict[str, float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


_report: contextvars.ContextVar[RequestReport | None] = contextvars.ContextVar(
    "lookup_report", default=None)


def start_report() -> RequestReport:
    report = RequestReport()
    _report.set(report)
    return report


@dataclass
class Lookup:
    """One table the serving path reads from outside it."""

    node: str
    port: str
    label: str  # the source's label and node, as the deploy page and messages name it
    mode: str
    why_not_live: str  # "" when it can be live
    snapshot: Callable[[], pd.DataFrame]  # the training run's table
    live: LiveSource | None = None
    source_schema: Schema | None = None  # the source's output in training: the dtypes
    states: dict[str, Any] = field(default_factory=dict)  # of the chain's stateful nodes
    ttl: float = 0.0
    ctx: LookupContext | None = None
    _cache: dict[Any, tuple[float, pd.DataFrame]] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def table(self, given: dict[str, Any]) -> pd.DataFrame:
        """The table for the join reading it, whose inputs from the path are ``given``."""
        if self.mode != LIVE or self.live is None:
            return self.snapshot()
        live = self.live
        request = given.get("left" if live.port == "right" else "right")
        if not isinstance(request, pd.DataFrame):
            return self.snapshot()
        started = time.perf_counter()
        keys = [_plain(k) for k in pd.unique(request[live.request_key].dropna())]
        pieces, missing = self._cached(keys)
        if missing:
            fetched = self._fetch(missing)
            pieces.append(fetched)
            self._remember(missing, fetched)
        frame = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else (
            pieces[0] if pieces else self._fetch([]))
        found = set(map(_plain, frame[live.source_key].dropna())) if len(frame) else set()
        for chained in live.chain:
            frame = _apply(chained, frame, self.states.get(chained.node_id), self.ctx)
        report = _report.get()
        if report is not None:
            report.lookups[self.node] = {"keys": len(keys), "hits": len(keys) - len(missing),
                                         "ms": round((time.perf_counter() - started) * 1000,
                                                     3)}
            unmatched = [k for k in keys if k not in found]
            if unmatched:
                report.warnings.append(
                    f"{len(unmatched)} key(s) not found by the lookup {self.label} "
                    f"({live.request_key}: {', '.join(map(repr, unmatched[:5]))}"
                    f"{' …' if len(unmatched) > 5 else ''}): their features are missing.")
        return frame

    def _cached(self, keys: list[Any]) -> tuple[list[pd.DataFrame], list[Any]]:
        if self.ttl <= 0:
            return [], keys
        now = time.monotonic()
        pieces, missing = [], []
        with self._guard:
            for key in keys:
                hit = self._cache.get(key)
                if hit is not None and hit[0] > now:
                    pieces.append(hit[1])
                else:
                    missing.append(key)
        return [p for p in pieces if len(p)], missing

    def _remember(self, keys: list[Any], fetched: pd.DataFrame) -> None:
        if self.ttl <= 0 or self.live is None:
            return
        expires = time.monotonic() + self.ttl
        column = self.live.source_key
        groups = {_plain(k): g for k, g in fetched.groupby(column, sort=False, dropna=True)} \
            if len(fetched) else {}
        empty = fetched.iloc[:0]
        with self._guard:
            for key in keys:  # a key with no row is remembered too: no query for it either
                self._cache[key] = (expires, groups.get(key, empty))
            while len(self._cache) > MAX_CACHED_KEYS:
                self._cache.pop(next(iter(self._cache)))

    def _fetch(self, keys: list[Any]) -> pd.DataFrame:
        assert self.live is not None
        source = self.live.source
        try:
            rows = source.op.lookup(cast(Any, self.ctx), source.params, self.live.source_key,
                                    keys) if keys else pd.DataFrame()
        except OperatorError as exc:
            raise Unavailable(ERR_UNREACHABLE.format(name=self.label, error=exc.message)
                              ) from None
        # Every lookup's rows, whatever the source, with the names index the request's
        # frame has (operators.schema.plain_names).
        return _typed(plain_names(rows), self.source_schema)


def _apply(step: Step, frame: pd.DataFrame, state: Any, ctx: Any) -> pd.DataFrame:
    if step.mode == "apply":
        return step.op.apply(ctx, step.params, state, table=frame)["table"]
    return step.op.run(ctx, step.params, table=frame)["table"]


def _typed(rows: pd.DataFrame, schema: Schema | None) -> pd.DataFrame:
    """The rows with the columns and dtypes the source's output had in training (read back
    from Parquet), so the nodes after it compute what they computed then."""
    if schema is None:
        return rows
    if not rows.index.equals(pd.RangeIndex(len(rows))):
        rows = rows.reset_index(drop=True)
    return conform_frame(rows, schema)


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
