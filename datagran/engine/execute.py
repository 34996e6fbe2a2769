"""Executing one node: load its inputs, run the operator, store its outputs. No Django."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from operators.base import Context, Operator, OperatorError, TrainedModel


class Store(Protocol):
    def put_table(self, df: pd.DataFrame) -> Any: ...

    def read_table(self, digest: str) -> pd.DataFrame: ...

    def put_model(self, model: TrainedModel) -> str: ...

    def read_model(self, digest: str) -> TrainedModel: ...

    def put_file(self, data: bytes) -> str: ...

    def read_file(self, digest: str) -> bytes: ...


# The output slot where a stateful node keeps what it learned (fill values, a fitted model):
# serving applies it to request rows instead of refitting. Not a port: never wired.
STATE = "_state"


@dataclass
class NodeOutcome:
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows_out: int | None = None


def load_inputs(store: Store, refs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Port name → value, from the output refs of the upstream nodes."""
    values: dict[str, Any] = {}
    for port, ref in refs.items():
        values[port] = store.read_model(ref["hash"]) if ref["kind"] == "model" else \
            store.read_table(ref["hash"])
    return values


def store_outputs(store: Store, op: Operator, outputs: dict[str, Any]) -> NodeOutcome:
    outcome = NodeOutcome()
    for port in op.outputs:
        if port.name not in outputs:
            raise OperatorError(f"{op.label} produced no '{port.name}' output.")
        value = outputs[port.name]
        if port.type == "model":
            if not isinstance(value, TrainedModel):
                raise TypeError(f"{op.name} returned {type(value).__name__} on model port")
            outcome.outputs[port.name] = {
                "kind": "model", "hash": store.put_model(value), "target": value.target,
                "schema": value.features, "task": value.task, "algorithm": value.algorithm,
                "classes": [c.item() if hasattr(c, "item") else c for c in value.classes]}
        else:
            if not isinstance(value, pd.DataFrame):
                raise TypeError(f"{op.name} returned {type(value).__name__} on table port")
            ref = store.put_table(value)
            outcome.outputs[port.name] = ref.as_json()
            # rows_out counts the first table output: what the node hands downstream.
            if outcome.rows_out is None:
                outcome.rows_out = ref.rows
    return outcome


def store_state(store: Store, state: Any) -> dict[str, Any]:
    if isinstance(state, TrainedModel):
        return {"kind": "model", "hash": store.put_model(state)}
    data = json.dumps(state, sort_keys=True, default=str).encode()
    return {"kind": "file", "hash": store.put_file(data), "format": "json"}


def load_state(store: Store, ref: dict[str, Any]) -> Any:
    if ref["kind"] == "model":
        return store.read_model(ref["hash"])
    return json.loads(store.read_file(ref["hash"]))


def execute_node(*, store: Store, op: Operator, raw_params: dict[str, Any],
                 input_refs: dict[str, dict[str, Any]], ctx: Context) -> NodeOutcome:
    params = op.parse_params(raw_params)
    inputs = load_inputs(store, input_refs)
    if not op.stateful:
        return store_outputs(store, op, op.run(ctx, params, **inputs))
    state = op.fit(ctx, params, **inputs)
    outcome = store_outputs(store, op, op.apply(ctx, params, state, **inputs))
    model_ref = next((r for r in outcome.outputs.values() if r["kind"] == "model"), None)
    # A model output is its own state: no second copy of the file.
    outcome.outputs[STATE] = ({"kind": "model", "hash": model_ref["hash"]} if model_ref
                              else store_state(store, state))
    return outcome
