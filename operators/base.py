"""The operator: Datagran's unit of extension.

An operator is a small class that declares its catalogue entry (name, label, category, ...),
its typed ports, its parameters as a pydantic model, and how it computes. It knows nothing of
Django, HTTP or Dramatiq: all it touches of the outside world goes through the ``Context``.

Two shapes of computation:

* stateless operators implement ``run(ctx, params, **inputs) -> {port: value}``;
* operators that learn from the whole table (a model, imputing with the mean, scaling)
  implement ``fit(ctx, params, **inputs) -> state`` and
  ``apply(ctx, params, state, **inputs) -> {port: value}``. The engine stores the state with
  the node's output, so serving can later apply it to single rows without refitting.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Category = Literal["connector", "transform", "model", "action"]
PortType = Literal["table", "model"]

# A table schema: ordered columns, each {"name": ..., "type": ...}; type is one of
# "int", "float", "bool", "str", "datetime".
Column = dict[str, str]
Schema = list[Column]


class ApprovalRequired(Exception):
    """Raised by an action that must wait for a person: the run pauses at the node showing
    ``preview`` (exactly what would be sent) until an editor approves or rejects it."""

    def __init__(self, preview: pd.DataFrame, message: str = "Waiting for approval.") -> None:
        super().__init__(message)
        self.preview = preview
        self.message = message


class OperatorError(Exception):
    """A failure caused by the user's data or params: retrying cannot fix it.

    ``field`` names the parameter at fault (``"column"``, ``"conditions.0.value"``) so the
    canvas can show the message on that field.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Port:
    name: str
    type: PortType
    label: str = ""
    optional: bool = False

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "label": self.label or self.name.title(),
                "optional": self.optional}


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Params(BaseModel):
    """Base for operator params: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


def column_field(default: Any = ..., *, port: str = "table", **kwargs: Any) -> Any:
    """A parameter that names a column (or a list of columns) of the table on input ``port``.

    The JSON Schema carries ``x-column-of`` so the canvas renders a picker filled from the
    upstream node's inferred schema instead of a free text box.
    """
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra["x-column-of"] = port
    return Field(default, json_schema_extra=extra, **kwargs)


@dataclass
class TrainedModel:
    """What flows on a ``model`` port: a fitted scikit-learn estimator and what it expects."""

    estimator: Any
    features: Schema
    target: str
    task: Literal["classification", "regression"] = "classification"
    classes: list[Any] = field(default_factory=list)
    algorithm: str = ""


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


class Context(Protocol):
    """What an operator may use of the world around it."""

    seed: int
    # The engine calls interrupts.interrupt() on cancel and at the time limit.
    interrupts: Interrupts

    def on_interrupt(self, callback: Callable[[], None]) -> Any:
        """``with ctx.on_interrupt(conn.interrupt): conn.execute(...)``: while the block runs,
        cancelling the node or its time limit calls ``callback`` from another thread."""
        ...

    def log(self, message: str) -> None: ...

    def progress(self, fraction: float) -> None: ...

    def read_dataset(self, dataset_id: str) -> pd.DataFrame: ...

    def dataset_schema(self, dataset_id: str) -> Schema | None: ...

    def dataset_fingerprint(self, dataset_id: str) -> str: ...

    def save_file(self, filename: str, data: bytes, content_type: str) -> None: ...

    # --- for connectors and actions ----------------------------------------------------------
    # Hosts or networks (CIDR) that user-configured URLs may reach although they are private
    # or loopback (database hosts too); see operators.net.resolve.
    url_allowlist: list[str]
    # The folder SQLite connections' files must lie in; None: SQLite files are refused.
    sqlite_root: str | None
    # True once an editor approved this action node's preview (see ApprovalRequired).
    approved: bool

    def connection(self, connection_id: str, kind: str | list[str]) -> BaseModel:
        """The saved connection, secrets included, as the pydantic model of its ``kind``
        (operators.connections.KINDS); ``kind`` may list several acceptable kinds.
        OperatorError(field="connection") if there is none or it is of another kind."""
        ...

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

    # --- the model registry ------------------------------------------------------------------
    def registered_model(self, name: str, *, alias: str | None, version: int | None,
                         fallback_to_latest: bool) -> TrainedModel: ...

    def registered_model_hash(self, name: str, *, alias: str | None, version: int | None,
                              fallback_to_latest: bool) -> str: ...

    def registered_model_schema(self, name: str) -> Schema | None: ...


@dataclass
class LocalContext:
    """A context for plain Python use and unit tests: datasets from a dict, logs to a list."""

    seed: int = 0
    datasets: dict[str, pd.DataFrame] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    progress_values: list[float] = field(default_factory=list)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    connections: dict[str, BaseModel] = field(default_factory=dict)
    url_allowlist: list[str] = field(default_factory=list)
    sqlite_root: str | None = None
    approved: bool = False
    send_log: dict[str, str] = field(default_factory=dict)
    # record key -> (content hash, batch key) of batches being sent
    sending: dict[str, tuple[str, str]] = field(default_factory=dict)
    emails: list[dict[str, Any]] = field(default_factory=list)
    models: dict[str, TrainedModel] = field(default_factory=dict)
    interrupts: Interrupts = field(default_factory=Interrupts)
    send_lock: Any = field(default_factory=threading.Lock)

    def on_interrupt(self, callback: Callable[[], None]) -> Any:
        return self.interrupts.on_interrupt(callback)

    def log(self, message: str) -> None:
        self.logs.append(message)

    def connection(self, connection_id: str, kind: str | list[str]) -> BaseModel:
        conn = self.connections.get(connection_id)
        if conn is None:
            raise OperatorError(f"Connection {connection_id!r} does not exist.",
                                field="connection")
        return conn

    def sent_before(self, records: dict[str, str]) -> set[str]:
        return {key for key, digest in records.items() if self.send_log.get(key) == digest}

    def mark_sent(self, records: dict[str, str]) -> None:
        self.send_log.update(records)
        for key in records:
            self.sending.pop(key, None)

    def in_flight(self, records: dict[str, str]) -> dict[str, str]:
        return {key: self.sending[key][1] for key, digest in records.items()
                if key in self.sending and self.sending[key][0] == digest}

    def mark_in_flight(self, records: dict[str, str], batch_key: str) -> None:
        self.sending.update({key: (digest, batch_key) for key, digest in records.items()})

    def clear_in_flight(self, keys: list[str]) -> None:
        for key in keys:
            self.sending.pop(key, None)

    def sending_alone(self) -> AbstractContextManager[None]:
        return self.send_lock

    def registered_model(self, name: str, *, alias: str | None = None,
                         version: int | None = None,
                         fallback_to_latest: bool = True) -> TrainedModel:
        if name not in self.models:
            raise OperatorError(f"No registered model named {name!r}.", field="model")
        return self.models[name]

    def registered_model_hash(self, name: str, **kwargs: Any) -> str:
        return str(id(self.registered_model(name)))

    def registered_model_schema(self, name: str) -> Schema | None:
        model = self.models.get(name)
        return None if model is None else model.features + [{"name": model.target,
                                                               "type": "str"}]

    def send_email(self, *, to: list[str], subject: str, body: str,
                   attachments: list[tuple[str, bytes, str]]) -> None:
        self.emails.append({"to": to, "subject": subject, "body": body,
                            "attachments": attachments})

    def progress(self, fraction: float) -> None:
        self.progress_values.append(fraction)

    def read_dataset(self, dataset_id: str) -> pd.DataFrame:
        try:
            return self.datasets[dataset_id]
        except KeyError:
            raise OperatorError(f"Dataset {dataset_id} does not exist.", field="dataset") from None

    def dataset_schema(self, dataset_id: str) -> Schema | None:
        df = self.datasets.get(dataset_id)
        return None if df is None else schema_of(df)

    def dataset_fingerprint(self, dataset_id: str) -> str:
        df = self.read_dataset(dataset_id)
        return str(int(pd.util.hash_pandas_object(df, index=False).sum()))

    def save_file(self, filename: str, data: bytes, content_type: str) -> None:
        self.files[filename] = (data, content_type)


class Operator:
    """Base class. Subclasses set the catalogue attributes and implement ``run`` (or
    ``fit`` and ``apply``); ``infer_schema`` is optional."""

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    category: ClassVar[Category]
    icon: ClassVar[str] = "box"
    keywords: ClassVar[tuple[str, ...]] = ()
    # Bump when the operator's output for the same inputs and params changes.
    version: ClassVar[str] = "1"
    inputs: ClassVar[tuple[Port, ...]] = ()
    outputs: ClassVar[tuple[Port, ...]] = ()
    Params: ClassVar[type[BaseModel]] = NoParams
    # Nodes that only make sense on a whole batch (splits, actions) are skipped when serving.
    batch_only: ClassVar[bool] = False
    # Reuse the stored output when operator, version, params and inputs are unchanged. A
    # connector that reads an outside system sets this False: its data can change behind the
    # same params. Actions have side effects and are never reused.
    reuse_output: ClassVar[bool] = True

    @property
    def cacheable(self) -> bool:
        return self.reuse_output and self.category != "action"

    def fingerprint(self, ctx: Context, params: Any) -> str:
        """What identifies a source's data beyond its params (an uploaded dataset's content
        hash); part of the node's cache key."""
        return ""

    # --- computing -------------------------------------------------------------------------
    def run(self, ctx: Context, params: Any, **inputs: Any) -> dict[str, Any]:
        if self.stateful:
            return self.apply(ctx, params, self.fit(ctx, params, **inputs), **inputs)
        raise NotImplementedError(f"{self.name} implements neither run nor fit/apply")

    def fit(self, ctx: Context, params: Any, **inputs: Any) -> Any:
        raise NotImplementedError

    def apply(self, ctx: Context, params: Any, state: Any, **inputs: Any) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def stateful(self) -> bool:
        return type(self).fit is not Operator.fit

    # --- knowing before running -----------------------------------------------------------
    def infer_schema(
        self, ctx: Context, params: Any, **inputs: Schema | None
    ) -> dict[str, Schema | None]:
        """Each output's schema from the input schemas (``None`` where unknown). A ``model``
        port's schema is the schema of the table the model was trained on.

        Raise ``OperatorError(field=...)`` when params do not fit the input schema, so the
        mistake is reported when the graph is saved rather than when it runs."""
        return {}

    # --- catalogue ------------------------------------------------------------------------
    def parse_params(self, raw: dict[str, Any] | None) -> BaseModel:
        """Validate raw params; raises pydantic's ValidationError."""
        return self.Params.model_validate(raw or {})

    def input(self, name: str) -> Port | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> Port | None:
        return next((p for p in self.outputs if p.name == name), None)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "category": self.category,
            "icon": self.icon,
            "keywords": list(self.keywords),
            "version": self.version,
            "inputs": [p.describe() for p in self.inputs],
            "outputs": [p.describe() for p in self.outputs],
            "params_schema": self.Params.model_json_schema(),
            "stateful": self.stateful,
            "batch_only": self.batch_only,
            "cacheable": self.cacheable,
        }


# --- helpers shared by operators ---------------------------------------------------------------

_KIND_TO_TYPE = {"i": "int", "u": "int", "f": "float", "b": "bool", "M": "datetime", "m": "float"}


def column_type(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    return _KIND_TO_TYPE.get(kind, "str")


def schema_of(df: pd.DataFrame) -> Schema:
    return [{"name": str(name), "type": column_type(dtype)} for name, dtype in df.dtypes.items()]


def columns_of(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``table[columns]`` (the columns must exist), found by name without pandas' general
    indexer: the same frame in a quarter of the time, which is most of the cost on the small
    tables that serving passes through."""
    if not table.columns.is_unique:
        return table[columns]
    return table.take([table.columns.get_loc(c) for c in columns], axis=1)


def require_columns(schema: Schema | None, columns: list[str], *, field: str) -> None:
    """Raise an OperatorError naming ``field`` if any of ``columns`` is not in ``schema``."""
    if schema is None:
        return
    names = [c["name"] for c in schema]
    missing = [c for c in columns if c not in names]
    if missing:
        raise OperatorError(
            f"Column {', '.join(repr(m) for m in missing)} does not exist; "
            f"available columns: {', '.join(names) or '(none)'}.",
            field=field,
        )


def params_errors(exc: ValidationError) -> list[dict[str, str]]:
    """pydantic errors as [{"field": "a.0.b", "message": ...}] for the API and the canvas."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "params", "message": err["msg"]}
        for err in exc.errors()
    ]
