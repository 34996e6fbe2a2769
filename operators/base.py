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

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

# The context's capabilities and the schema helpers live beside this module; they are
# re-exported here, where operators written before the split import them from.
from .context import Context as Context
from .context import Interrupts as Interrupts
from .errors import FieldError
from .schema import Column as Column
from .schema import Schema as Schema
from .schema import column_field as column_field
from .schema import column_type as column_type
from .schema import columns_of as columns_of
from .schema import params_errors as params_errors
from .schema import schema_of as schema_of
from .tables import Query, Rel

Category = Literal["connector", "transform", "model", "action", "pipeline"]
PortType = Literal["table", "model"]


class ApprovalRequired(Exception):
    """Raised by an action that must wait for a person: the run pauses at the node showing
    ``preview`` (exactly what would be sent) until an editor approves or rejects it."""

    def __init__(self, preview: pd.DataFrame, message: str = "Waiting for approval.") -> None:
        super().__init__(message)
        self.preview = preview
        self.message = message


class OperatorError(FieldError):
    """A failure caused by the user's data or params: retrying cannot fix it.

    ``field`` names the parameter at fault (``"column"``, ``"conditions.0.value"``) so the
    canvas can show the message on that field.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, {field: [message]} if field else None)


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


@dataclass
class TrainedModel:
    """What flows on a ``model`` port: a fitted scikit-learn estimator and what it expects."""

    estimator: Any
    features: Schema
    target: str
    task: Literal["classification", "regression"] = "classification"
    classes: list[Any] = field(default_factory=list)
    algorithm: str = ""
    # Lineage, not part of the model file: the rows it was fitted on, and the training
    # table's rows when those were a sample of it (max_training_rows).
    training_rows: int | None = None
    sampled_from: int | None = None


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
    # Params a user might set, valid for ``Params``: the catalogue tests run every registered
    # operator with them.
    example: ClassVar[dict[str, Any]] = {}
    # Nodes that only make sense on a whole batch (splits, actions) are skipped when serving.
    batch_only: ClassVar[bool] = False
    # Reuse the stored output when operator, version, params and inputs are unchanged. A
    # connector that reads an outside system sets this False: its data can change behind the
    # same params. Actions have side effects and are never reused.
    reuse_output: ClassVar[bool] = True
    # Receive ``operators.tables.Table`` handles instead of DataFrames on table inputs (read
    # in batches or sampled: model fitting, predicting, sending), and may return an iterator
    # of DataFrames on a table output. Serving and unit tests still pass DataFrames:
    # ``operators.tables.as_table`` takes either.
    lazy_inputs: ClassVar[bool] = False

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

    # --- computing out of core (operators.tables, operators.engines) -------------------------
    def query(self, q: Query, params: Any, **inputs: Rel) -> dict[str, Rel]:
        """The outputs as SQL over the inputs (``Rel``: a name to select FROM and its schema),
        built with ``q.define``; an engine (DuckDB, Spark) runs it on tables bigger than
        memory. Implementing it makes the operator relational; ``run`` stays the reference
        on DataFrames (serving, parity tests), and both must give the same table."""
        raise NotImplementedError

    def fit_query(self, q: Query, params: Any, **inputs: Rel) -> Any:
        """A stateful relational operator's ``fit``: what it learns, computed by the engine
        (``q.fetch``); the same JSON-able state ``fit`` returns."""
        raise NotImplementedError

    def apply_query(self, q: Query, params: Any, state: Any, **inputs: Rel
                    ) -> dict[str, Rel]:
        raise NotImplementedError

    @property
    def relational(self) -> bool:
        if self.stateful:
            return type(self).apply_query is not Operator.apply_query
        return type(self).query is not Operator.query

    # --- knowing before running -----------------------------------------------------------
    def infer_schema(
        self, ctx: Context, params: Any, **inputs: Schema | None
    ) -> dict[str, Schema | None]:
        """Each output's schema from the input schemas (``None`` where unknown). A ``model``
        port's schema is the schema of the table the model was trained on.

        Raise ``OperatorError(field=...)`` when params do not fit the input schema, so the
        mistake is reported when the graph is saved rather than when it runs."""
        return {}

    # --- column lineage (serving asks a request only for what the model needs) -----------
    def reads(self, params: Any, **inputs: Any) -> dict[str, set[str] | None]:
        """The columns of each table input that the outputs depend on beyond passing them
        through unchanged under the same name: what a filter tests, a formula uses, a join
        matches on, a model predicts from. ``inputs`` holds each table port's schema (or
        ``None``) and each model port's ``TrainedModel``. ``None`` for a port means every
        column, the default: an operator that says nothing is never served with too little.
        Serving walks this back from the answer's columns (``datagran.engine.serve``)."""
        return {p.name: None for p in self.inputs if p.type == "table"}

    # --- live lookups (serving reads a feature source's rows by key, per request) ---------
    def lookup(self, ctx: Context, params: Any, column: str, keys: list[Any]) -> pd.DataFrame:
        """A source's rows whose ``column`` equals one of ``keys``, as ``run`` would give
        them, in one parameterised query. Serving calls it per request for a join whose other
        side comes from this source (``datagran.serving.lookups``). Raise OperatorError
        (naming why) when these params cannot be looked up by key."""
        raise NotImplementedError

    def lookup_refusal(self, params: Any) -> str | None:
        """Why rows read by key with these params would differ from a run's (a row limit),
        or None; asked before serving chooses to look up live."""
        return None

    @property
    def looks_up(self) -> bool:
        return type(self).lookup is not Operator.lookup

    # --- what only the outside system knows (a source's pickers) ---------------------------
    def options(self, ctx: Context, params: dict[str, Any], field: str) -> list[str]:
        """Choices for the param ``field`` that only the outside system knows (a database's
        tables, a table's columns, a folder's files, a spreadsheet's sheets), given the raw
        params filled in so far. The params form asks for them (the API's
        ``POST /api/operators/{name}/options/``) for params marked ``"x-options-from":
        "source"``. Raise OperatorError(field=...) when it cannot tell."""
        raise OperatorError(f"{self.label} has no choices to look up for {field}.",
                            field=field)

    def sample(self, ctx: Context, params: Any) -> pd.DataFrame:
        """The first rows (at most 100) a source would read with ``params``: the form shows
        them and the server remembers their columns as the node's schema before it runs
        (``ctx.known_schema``). Sources whose columns are declared need not implement it."""
        raise OperatorError(f"{self.label} cannot show a sample.")

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
            # The params form offers "Sample" (the first rows, and the columns remembered).
            "samples": type(self).sample is not Operator.sample,
        }


# --- a helper shared by operators ------------------------------------------------------------

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


# Last: the local context imports the classes above.
from .testing import LocalContext as LocalContext  # noqa: E402
