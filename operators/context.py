"""What an operator may use of the world around it, as capabilities.

An operator's ``run`` receives one ``Context``: the union of the capabilities below. Each
capability is a small Protocol, so a helper can ask for just what it uses (``ctx: DataAccess``)
and a test can pass anything that has it. The engine's context (datagran/runs/context.py) and
``operators.testing.LocalContext`` implement all of them.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd
from pydantic import BaseModel

from .schema import Schema

if TYPE_CHECKING:
    from .base import TrainedModel


class Interrupts:
    """Stops native work that a Python exception cannot reach: a database query, a DuckDB
    statement, a C loop. An operator registers how to stop what it is waiting on with
    ``ctx.on_interrupt(callback)`` for the duration of that call; the engine calls
    ``interrupt()`` from another thread when the node is cancelled or reaches its time limit,
    and each callback registered then (or later, once fired) is called once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []
        self.fired = False

    @contextmanager
    def on_interrupt(self, callback: Callable[[], None]) -> Iterator[None]:
        with self._lock:
            fired = self.fired
            self._callbacks.append(callback)
        if fired:
            _call_quietly(callback)
        try:
            yield
        finally:
            with self._lock:
                self._callbacks.remove(callback)

    def interrupt(self) -> None:
        with self._lock:
            self.fired = True
            callbacks = list(self._callbacks)
        for callback in callbacks:
            _call_quietly(callback)


def _call_quietly(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:  # noqa: BLE001 - an interrupt is best effort; the node is ending anyway
        pass


class Runtime(Protocol):
    """Every operator: the run's seed, logs, progress, and being stopped."""

    seed: int
    # The engine calls interrupts.interrupt() on cancel and at the time limit.
    interrupts: Interrupts

    def on_interrupt(self, callback: Callable[[], None]) -> Any:
        """``with ctx.on_interrupt(conn.interrupt): conn.execute(...)``: while the block runs,
        cancelling the node or its time limit calls ``callback`` from another thread."""
        ...

    def log(self, message: str) -> None: ...

    def progress(self, fraction: float) -> None: ...


class DataAccess(Protocol):
    """Uploaded datasets, for connectors that read them."""

    def read_dataset(self, dataset_id: str) -> pd.DataFrame: ...

    def dataset_schema(self, dataset_id: str) -> Schema | None: ...

    def dataset_fingerprint(self, dataset_id: str) -> str: ...


class Files(Protocol):
    """Files a node hands the user (an export, a report)."""

    def save_file(self, filename: str, data: bytes, content_type: str) -> None: ...

    def save_file_from(self, filename: str, path: str, content_type: str,
                       digest: str | None = None) -> None:
        """``save_file`` of the local file at ``path``, consuming it (moved or copied, then
        removed): a file bigger than memory never passes through it. ``digest``: its
        SHA-256, when the caller knows it (the bytes of a stored table), not read again."""
        ...


class Connections(Protocol):
    """Saved connections to outside systems, for connectors and actions."""

    # Hosts or networks (CIDR) that user-configured URLs may reach although they are private
    # or loopback (database hosts too); see operators.net.resolve.
    url_allowlist: list[str]
    # The folder SQLite connections' files must lie in; None: SQLite files are refused.
    sqlite_root: str | None
    # The folder the files source may read in (DATAGRAN_FILES_ROOT); None: refused.
    files_root: str | None

    def connection(self, connection_id: str, kind: str | list[str]) -> BaseModel:
        """The saved connection, secrets included, as the pydantic model of its ``kind``
        (operators.connections.KINDS); ``kind`` may list several acceptable kinds.
        OperatorError(field="connection") if there is none or it is of another kind."""
        ...


class Actions(Protocol):
    """Sending records out exactly once, after an approval if asked (see operators.actions)."""

    # True once an editor approved this action node's preview (see ApprovalRequired).
    approved: bool

    def sent_before(self, records: dict[str, str]) -> set[str]:
        """Of {record key: content hash}, the keys this action node already sent with the same
        content (in any run of this pipeline): these must not be sent again."""
        ...

    def mark_sent(self, records: dict[str, str]) -> None:
        """Remember {record key: content hash} as sent; call it after each successful batch."""
        ...

    def in_flight(self, records: dict[str, str]) -> dict[str, str]:
        """Of {record key: content hash}, the records an interrupted attempt was sending with
        this content when it stopped: {record key: that batch's idempotency key}."""
        ...

    def mark_in_flight(self, records: dict[str, str], batch_key: str) -> None:
        """Record a batch as being sent, just before sending it. In a run, this (like
        mark_sent) refuses to write for an attempt that is no longer the current one, by
        raising a BaseException that ends the operator."""
        ...

    def clear_in_flight(self, keys: list[str]) -> None:
        """These records of the batch in flight were not delivered (the receiver refused)."""
        ...

    def sending_alone(self) -> AbstractContextManager[None]:
        """``with ctx.sending_alone(): ...``: no other attempt of this action node (in any run
        of this pipeline) is inside such a block meanwhile; waits for it to leave."""
        ...

    def send_email(self, *, to: list[str], subject: str, body: str,
                   attachments: list[tuple[str, bytes, str]]) -> None: ...


class ModelRegistry(Protocol):
    """Models registered by name (and alias or version), for scoring with them."""

    def registered_model(self, name: str, *, alias: str | None, version: int | None,
                         fallback_to_latest: bool) -> TrainedModel: ...

    def registered_model_hash(self, name: str, *, alias: str | None, version: int | None,
                              fallback_to_latest: bool) -> str: ...

    def registered_model_schema(self, name: str) -> Schema | None: ...


class Sources(Protocol):
    """Incremental sources: what the last succeeded run of this node loaded, and what this run
    loads (see operators.connectors._dlt). The state belongs to a run: a failed run's is
    never read, so a failed run does not advance a cursor."""

    # The run was started with "Full refresh": no previous state is handed out.
    full_refresh: bool

    def previous_source_state(self, state_key: str) -> dict[str, Any] | None:
        """The ``state`` this node recorded (``record_source``) in the latest succeeded run
        of this pipeline under the same ``state_key``; None on the first run, on a full
        refresh, or when the node's source params changed (another key)."""
        ...

    def record_source(self, report: dict[str, Any]) -> None:
        """What this node loaded: ``{"state_key", "state": {...}, "records", "pages", "new",
        "updated", "cursor_before", "cursor_after", "new_columns", "missing_columns"}``; kept
        with the node run (the run page shows it) once the node succeeds."""
        ...

    def known_schema(self, state_key: str) -> Schema | None:
        """The columns a source with this state key was last seen to have (sampled by the
        params form, or the output of its last succeeded run in this workspace); None when
        unknown. What ``infer_schema`` of a file or SQL source answers before it runs."""
        ...

    def put_table(self, df: pd.DataFrame) -> str:
        """Keep a table in the artifact store (an accumulated table); its hash."""
        ...

    def get_table(self, digest: str) -> pd.DataFrame | None:
        """A table kept with ``put_table``; None if it is gone from the store."""
        ...


class Deployments(Protocol):
    """A served pipeline of the workspace, by name, scoring whole tables (batch scoring): its
    deployment's plan, learned states, production model and lookups, as online requests."""

    def deployment_scorer(self, pipeline: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
        """A function giving, for a table of the serving input's rows, the answer columns
        (``prediction``, ``probability``) row for row. OperatorError(field="pipeline") if the
        pipeline does not serve (none by that name, no production version)."""
        ...

    def deployment_answer(self, pipeline: str) -> Schema | None:
        """The columns the scorer gives, with their types; None when not known yet."""
        ...


class Context(Runtime, DataAccess, Files, Connections, Actions, ModelRegistry, Sources,
              Deployments, Protocol):
    """Everything an operator may use: what ``run``, ``fit``, ``apply`` and ``infer_schema``
    receive."""
