"""Executing one node: load its inputs, run the operator, store its outputs. No Django."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa

from operators.base import Context, Operator, OperatorError, TrainedModel
from operators.engines import (
    MEMORY_SETTING,
    SPARK_SETTING,
    EngineSettings,
    run_mapped,
    run_relational,
)
from operators.schema import Schema
from operators.tables import MappedBatches, ParquetTable, Table, link_or_copy


class Store(Protocol):
    def put_table(self, df: pd.DataFrame) -> Any: ...

    def put_table_batches(self, batches: Iterable[pd.DataFrame], folder: str) -> Any: ...

    def put_table_file(self, path: str, schema: Schema, rows: int,
                       table: pa.Table | None = None, digest: str | None = None) -> Any: ...

    def table_path(self, digest: str, folder: str) -> str: ...

    def table_source(self, digest: str, folder: str) -> str | pa.Table: ...

    def stored_again(self, table: ParquetTable) -> Any: ...

    def keep_bytes(self, memory_mb: int) -> int: ...

    def open_table(self, digest: str, folder: str, memory_mb: int) -> Table: ...

    def table_info(self, digest: str) -> tuple[int, int]: ...

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


ERR_TOO_BIG = ("{node} needs its whole input {port!r} in memory ({rows:,} rows, about "
               "{mb:,} MB), more than this worker may use: {setting}={limit}. Raise "
               "{setting}, reduce the table first (Filter rows, Sample, Aggregate), or run "
               "big tables on Spark ({spark}).")


def load_inputs(store: Store, refs: dict[str, dict[str, Any]], *, op: Operator | None = None,
                engine: EngineSettings | None = None, folder: str = "",
                node: str = "") -> dict[str, Any]:
    """Port name → value, from the output refs of the upstream nodes: a model, a DataFrame,
    or (an operator with ``lazy_inputs``) a Table read in parts. A DataFrame that would not
    fit in the worker's memory limit is refused, naming the node and the setting, before it
    is read: the worker is never killed for it."""
    engine = engine or EngineSettings.from_env()
    values: dict[str, Any] = {}
    for port, ref in refs.items():
        if ref["kind"] == "model":
            values[port] = store.read_model(ref["hash"])
        elif op is not None and op.lazy_inputs:
            values[port] = store.open_table(ref["hash"], folder or engine_folder(engine),
                                            engine.memory_mb)
        else:
            rows, size = store.table_info(ref["hash"])
            if size > engine.memory_mb * 1024 * 1024:
                raise OperatorError(ERR_TOO_BIG.format(
                    node=node or (op.label if op else "This node"), port=port, rows=rows,
                    mb=size // (1024 * 1024), setting=MEMORY_SETTING, limit=engine.memory_mb,
                    spark=SPARK_SETTING))
            values[port] = store.read_table(ref["hash"])
    return values


def engine_folder(engine: EngineSettings) -> str:
    """The folder a node's temporary files go in (made if missing: a fresh data folder)."""
    return _made(engine.temp_dir or tempfile.gettempdir())


def store_outputs(store: Store, op: Operator, outputs: dict[str, Any],
                  folder: str = "", *, ctx: Context | None = None,
                  engine: EngineSettings | None = None) -> NodeOutcome:
    """Store each output port's value. A table made row by row from a stored table
    (``MappedBatches``: predictions) is computed by the engine when it can (Spark, on its
    executors), else read and written here batch by batch."""
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
                "classes": [c.item() if hasattr(c, "item") else c for c in value.classes],
                # Lineage: the rows fitted on, and the table's rows when they were a sample.
                "training_rows": value.training_rows, "sampled_from": value.sampled_from}
        else:
            written = run_mapped(value, op.label, _made(folder or tempfile.gettempdir()),
                                 ctx=ctx, settings=engine) \
                if isinstance(value, MappedBatches) and ctx is not None and engine is not None \
                else None
            if written is not None:
                ref = store.put_table_file(written.path, written.schema, written.rows,
                                           digest=written.digest)
            elif isinstance(value, pd.DataFrame):
                ref = store.put_table(value)
            elif isinstance(value, ParquetTable):
                # An input passed on unchanged (an export's rows): its file, not rewritten,
                # nor hashed again when it is a stored table.
                ref = store.stored_again(value) or store.put_table_file(
                    _linked(value.path, folder), value.schema, value.rows)
            elif isinstance(value, Iterable) and not isinstance(value, (str, bytes, dict)):
                ref = store.put_table_batches(value, folder or tempfile.gettempdir())
            else:
                raise TypeError(f"{op.name} returned {type(value).__name__} on table port")
            outcome.outputs[port.name] = ref.as_json()
            # rows_out counts the first table output: what the node hands downstream.
            if outcome.rows_out is None:
                outcome.rows_out = ref.rows
    return outcome


def _linked(path: str, folder: str) -> str:
    """A new name for the file at ``path`` (which storing consumes): a hard link, or a copy
    on another file system."""
    target = os.path.join(_made(folder or tempfile.gettempdir()), f"{uuid.uuid4().hex}.parquet")
    link_or_copy(path, target)
    return target


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
                 input_refs: dict[str, dict[str, Any]], ctx: Context,
                 engine: EngineSettings | None = None, node: str = "") -> NodeOutcome:
    """Run one node. A relational operator runs on the engine (DuckDB or Spark) straight
    from and to Parquet; any other reads its inputs as DataFrames (or Tables, with
    ``lazy_inputs``). ``node`` names the node in messages."""
    engine = engine or EngineSettings.from_env()
    params = op.parse_params(raw_params)
    folder = tempfile.mkdtemp(prefix="node-", dir=engine_folder(engine))
    try:
        if engine.name != "pandas" and op.relational and \
                all(ref["kind"] == "table" for ref in input_refs.values()):
            return _execute_relational(store, op, params, input_refs, ctx, engine, folder)
        return _execute_in_memory(store, op, params, input_refs, ctx, engine, folder, node)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def engine_label(engine: EngineSettings) -> str:
    """The engine as the node's log names it."""
    if engine.name == "spark":
        from operators.engines.spark import shown

        return f"Spark ({shown(engine.spark_remote or engine.spark_master or 'local[2]')})"
    return f"DuckDB (out of core, {engine.memory_mb:,} MB)"


def _made(folder: str) -> str:
    os.makedirs(folder, exist_ok=True)
    return folder


def _execute_relational(store: Store, op: Operator, params: Any,
                        input_refs: dict[str, dict[str, Any]], ctx: Context,
                        engine: EngineSettings, folder: str) -> NodeOutcome:
    sources: dict[str, Any] = {port: store.table_source(ref["hash"], folder)
                               for port, ref in input_refs.items()}
    result = run_relational(op, params, sources, folder, ctx=ctx, settings=engine,
                            keep_bytes=store.keep_bytes(engine.memory_mb))
    ctx.log(f"Computed on {engine_label(engine)}, from and to Parquet files.")
    missing = [port.name for port in op.outputs if port.name not in result.outputs]
    if missing:
        raise OperatorError(f"{op.label} produced no '{missing[0]}' output.")
    if len(op.outputs) > 1:  # the node's card shows the first output's rows only
        ctx.log("Rows out: " + ", ".join(f"{port.name} {result.outputs[port.name].rows:,}"
                                         for port in op.outputs) + ".")
    outcome = NodeOutcome()
    for port in op.outputs:
        written = result.outputs[port.name]
        ref = store.put_table_file(written.path, written.schema, written.rows, written.table,
                                   written.digest)
        outcome.outputs[port.name] = ref.as_json()
        if outcome.rows_out is None:
            outcome.rows_out = ref.rows
    if op.stateful:
        outcome.outputs[STATE] = store_state(store, result.state)
    return outcome


def _execute_in_memory(store: Store, op: Operator, params: Any,
                       input_refs: dict[str, dict[str, Any]], ctx: Context,
                       engine: EngineSettings, folder: str, node: str) -> NodeOutcome:
    inputs = load_inputs(store, input_refs, op=op, engine=engine, folder=folder, node=node)
    if not op.stateful:
        return store_outputs(store, op, op.run(ctx, params, **inputs), folder, ctx=ctx,
                             engine=engine)
    state = op.fit(ctx, params, **inputs)
    outcome = store_outputs(store, op, op.apply(ctx, params, state, **inputs), folder,
                            ctx=ctx, engine=engine)
    model_ref = next((r for r in outcome.outputs.values() if r["kind"] == "model"), None)
    # A model output is its own state: no second copy of the file.
    outcome.outputs[STATE] = ({"kind": "model", "hash": model_ref["hash"]} if model_ref
                              else store_state(store, state))
    return outcome
