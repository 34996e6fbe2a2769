"""Serving mode: the same graph that trained a model, run in process on request rows.

The serving input node is replaced by the request rows; row-wise nodes run as in batch;
stateful nodes apply the state they learned in training; model nodes give the served model
instead of fitting; inputs from outside the serving path (a feature table to join) are read
from what the training run materialized; batch-only nodes (splits) pass rows through. Only
the nodes the output needs are computed. Pure Python: no Django."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from pydantic import ValidationError

from operators.base import Operator, OperatorError, Schema, TrainedModel
from operators.errors import DatagranError, FieldError, PermanentError
from operators.registry import UnknownOperator, get_operator

from .graph import Graph

Mode = Literal["input", "run", "apply", "model", "passthrough"]


@dataclass
class Step:
    node_id: str
    mode: Mode
    op: Operator
    params: Any
    # target port → (source node, source port, whether the source is on the serving path)
    inputs: dict[str, tuple[str, str, bool]] = field(default_factory=dict)


@dataclass
class ServingPlan:
    input_node: str
    output_node: str
    steps: list[Step]

    def nodes(self, mode: Mode) -> list[str]:
        return [s.node_id for s in self.steps if s.mode == mode]

    @property
    def lookups(self) -> list[tuple[str, str]]:
        """(node, port) outputs of nodes outside the path that the path reads."""
        return sorted({(src, port) for s in self.steps if s.mode in ("run", "apply")
                       for src, port, on_path in s.inputs.values() if not on_path})


class ServingError(FieldError):
    """A serving plan that cannot work; the field is the deployment setting at fault."""

    def __init__(self, message: str, field: str = "output_node") -> None:
        super().__init__(message, {field: [message]})


class NodeFailed(PermanentError):
    """A node's code failed on the request rows (as a batch run fails the node)."""

    def __init__(self, node_id: str, exc: Exception) -> None:
        super().__init__(ERR_NODE_FAILED.format(node=node_id, error=f"{type(exc).__name__}: "
                                                                     f"{exc}"))
        self.node_id = node_id


ERR_NODE_FAILED = "Node {node} failed on the request rows: {error}"
ERR_NODE_UNSERVABLE = ("Node {node} cannot be served: {error}. Save the pipeline again to see "
                       "what to fix.")


def _mode(op: Operator, node_id: str, input_node: str) -> Mode:
    if node_id == input_node:
        return "input"
    if any(p.type == "model" for p in op.outputs):
        return "model"
    if op.stateful:
        return "apply"
    return "passthrough" if op.batch_only else "run"


def plan_serving(graph: Graph, *, input_node: str, output_node: str) -> ServingPlan:
    ids = {n.id for n in graph.nodes}
    for name, node_id in (("input", input_node), ("output", output_node)):
        if node_id not in ids:
            raise ServingError(f"The serving {name} node {node_id!r} is not in the pipeline.",
                               f"{name}_node")
    if output_node != input_node and output_node not in graph.descendants(input_node):
        raise ServingError(f"The output node {output_node} does not depend on the input node "
                           f"{input_node}: request rows would never reach it.")
    path = ({input_node} | graph.descendants(input_node)) & (
        {output_node} | {n for n in ids if output_node in graph.descendants(n)})
    steps: dict[str, Step] = {}
    for node_id in graph.order():
        if node_id not in path:
            continue
        spec = graph.node(node_id)
        try:
            op = get_operator(spec.operator)
            params = op.parse_params(spec.params)
        except (UnknownOperator, ValidationError) as exc:  # a plugin removed or changed since
            raise PermanentError(ERR_NODE_UNSERVABLE.format(node=node_id, error=exc)) from None
        step = Step(node_id, _mode(op, node_id, input_node), op, params)
        for e in graph.incoming(node_id):
            step.inputs[e.target_port] = (e.source, e.source_port, e.source in path)
        steps[node_id] = step
    needed = _needed(steps, output_node)
    return ServingPlan(input_node, output_node,
                       [s for s in steps.values() if s.node_id in needed])


def _needed(steps: dict[str, Step], output_node: str) -> set[str]:
    """The nodes the output needs: a model node's inputs are not (it is not refitted)."""
    needed, stack = set(), [output_node]
    while stack:
        node_id = stack.pop()
        if node_id in needed:
            continue
        needed.add(node_id)
        step = steps[node_id]
        if step.mode in ("model", "input"):
            continue
        stack += [src for src, _, on_path in step.inputs.values() if on_path]
    return needed


def request_columns(plan: ServingPlan, schema: Callable[[str, str], Schema | None],
                    model: TrainedModel | None, answer: set[str] | None) -> set[str] | None:
    """The columns of the serving input's rows that the answer depends on (``None``: all of
    them), by column lineage: walking the plan back from the output node, whose ``answer``
    columns are asked for, each node needs of its inputs what it reads (``Operator.reads``)
    and the asked-for columns they have (passed through). A batch-only node passes rows as
    they are; a model node's inputs are not on the path. ``schema(node, port)``: the schema
    an output had in training."""
    asked: dict[tuple[str, str], set[str] | None] = {
        (plan.output_node, p.name): answer for p in _step(plan, plan.output_node).op.outputs}
    for step in reversed(plan.steps):
        wanted = _union([asked[(step.node_id, p.name)] for p in step.op.outputs
                         if (step.node_id, p.name) in asked])
        if step.mode == "input":
            return wanted
        if step.mode == "model":
            continue
        tables = {port: src for port, src in step.inputs.items()
                  if _port_type(step.op, port) == "table"}
        if step.mode == "passthrough":
            reads: dict[str, set[str] | None] = {port: set() for port in tables}
        else:
            given: dict[str, Any] = {port: schema(src, sp) for port, (src, sp, _) in
                                     tables.items()}
            given.update({port: model for port in step.inputs if port not in tables})
            reads = step.op.reads(step.params, **given)
        for port, (src, sp, on_path) in tables.items():
            if not on_path:
                continue
            columns = schema(src, sp)
            own = reads.get(port)
            need = None if own is None or wanted is None or columns is None else \
                own | (wanted & {c["name"] for c in columns})
            asked[(src, sp)] = _union([asked[(src, sp)], need]) if (src, sp) in asked else need
    return None


def _union(sets: list[set[str] | None]) -> set[str] | None:
    if any(s is None for s in sets):
        return None
    return set().union(*sets)  # type: ignore[arg-type]


def _step(plan: ServingPlan, node_id: str) -> Step:
    return next(s for s in plan.steps if s.node_id == node_id)


def _port_type(op: Operator, port: str) -> str:
    found = op.input(port)
    return found.type if found is not None else "table"


# --- live lookups: a join's other side read by key per request ---------------------------------

# Operators that compute each row from that row alone, keeping the key's values: the rows of
# a key read alone give the same rows as the whole table read and then kept to that key.
ROW_WISE = frozenset({"transform.select_columns", "transform.rename_columns",
                      "transform.derive_column", "transform.cast_columns",
                      "transform.fill_missing", "transform.filter_rows",
                      "transform.date_parts"})


@dataclass
class LiveSource:
    """How a join's input from outside the serving path is read per request: the source's
    rows whose key is one of the request's (``source_key`` there), passed through the
    row-wise ``chain`` between the source and the join, as in training."""

    join: str  # the join node
    port: str  # its input port this feeds
    source: Step
    chain: list[Step]
    source_key: str
    request_key: str  # the key's column on the join's other input (from the request)


def live_source(graph: Graph, plan: ServingPlan, node: str, port: str) -> LiveSource | str:
    """The live lookup for the table ``(node, port)`` that the path reads, or why it has none
    (it is then read as of the training run)."""
    join = next((s for s in plan.steps if any(src == node and sp == port and not on_path
                                             for src, sp, on_path in s.inputs.values())), None)
    if join is None or join.op.name != "transform.join":
        return "only the other side of a join is looked up by key"
    side = next(p for p, (src, sp, on_path) in join.inputs.items()
                if src == node and sp == port and not on_path)
    other = "left" if side == "right" else "right"
    if other not in join.inputs or not join.inputs[other][2]:
        return "the join's other side does not come from the request"
    keys = join.params.on
    if len(keys) != 1:
        return "the join matches on more than one key"
    key = getattr(keys[0], side)
    request_key = getattr(keys[0], other)
    chain: list[Step] = []
    current = node
    while True:
        spec = graph.node(current)
        try:
            op = get_operator(spec.operator)
            params = op.parse_params(spec.params)
        except (UnknownOperator, ValidationError):
            return f"node {current} cannot be read"
        step = Step(current, "apply" if op.stateful else "run", op, params)
        if op.looks_up:
            chain.reverse()
            return LiveSource(join.node_id, side, step, chain, key, request_key)
        if op.name not in ROW_WISE:
            return (f"{op.label} ({current}) between the source and the join works on "
                    f"more than one row at a time")
        incoming = graph.incoming(current)
        if len(incoming) != 1:
            return f"{op.label} ({current}) has more than one input"
        if op.name == "transform.rename_columns":
            key = next((r.column for r in getattr(params, "mapping", [])
                        if r.new_name == key), key)
        if op.name == "transform.derive_column" and getattr(params, "name", None) == key:
            return f"the key {key!r} is computed by {op.label} ({current})"
        step.inputs["table"] = (incoming[0].source, incoming[0].source_port, False)
        chain.append(step)
        current = incoming[0].source


@dataclass
class Resources:
    """What serving reads from training: states, models and materialized tables."""

    state: Callable[[str], Any]
    model: Callable[[str], TrainedModel]
    # (node, port) of a table from outside the path and the inputs from the path of the
    # step that reads it (a live lookup takes its keys there) → the table.
    lookup: Callable[[str, str, dict[str, Any]], pd.DataFrame]


def serve(plan: ServingPlan, rows: pd.DataFrame, resources: Resources, ctx: Any) -> pd.DataFrame:
    values: dict[tuple[str, str], Any] = {}
    for step in plan.steps:
        if step.mode == "input":
            outputs = {p.name: rows for p in step.op.outputs if p.type == "table"}
        elif step.mode == "model":
            model = resources.model(step.node_id)
            outputs = {p.name: model for p in step.op.outputs if p.type == "model"}
        else:
            inputs = {port: values[(src, sp)] for port, (src, sp, on_path)
                      in step.inputs.items() if on_path}
            inputs.update({port: resources.lookup(src, sp, dict(inputs))
                           for port, (src, sp, on_path) in step.inputs.items()
                           if not on_path})
            try:
                outputs = _compute(step, inputs, resources, ctx)
            except DatagranError:
                raise
            except Exception as exc:  # noqa: BLE001 - any crash of a node's code, named
                raise NodeFailed(step.node_id, exc) from exc
        for port, value in outputs.items():
            values[(step.node_id, port)] = value
    output = next((p.name for p in next(s for s in plan.steps
                                        if s.node_id == plan.output_node).op.outputs
                   if p.type == "table"), None)
    if output is None or (plan.output_node, output) not in values:
        raise ServingError(f"The output node {plan.output_node} has no table output.")
    return values[(plan.output_node, output)]


def _compute(step: Step, inputs: dict[str, Any], resources: Resources, ctx: Any
             ) -> dict[str, Any]:
    if step.mode == "passthrough":
        table = next((v for v in inputs.values() if isinstance(v, pd.DataFrame)), None)
        if table is None:
            raise OperatorError(f"{step.op.label} has no table to pass through when serving.")
        return {p.name: table for p in step.op.outputs if p.type == "table"}
    if step.mode == "apply":
        return step.op.apply(ctx, step.params, resources.state(step.node_id), **inputs)
    return step.op.run(ctx, step.params, **inputs)
