"""The pipeline graph: parsing, canonical hashing, validation and schema inference.

Pure Python: no Django. Validation happens when a graph is saved, so a mistake is reported
with the node and field it concerns long before a worker would trip over it."""
from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from operators.base import Context, OperatorError, Schema, params_errors
from operators.errors import GraphError
from operators.registry import UnknownOperator, get_operator

# What one graph may hold. Checked when a graph is saved or validated, before anything that
# costs more than counting; graphs already saved are still read as they are.
MAX_NODES = 1_000  # bench/fanout.py and bench/canvas.py run 1,000-node pipelines
MAX_EDGES = 4_000
MAX_LABEL = 200
MAX_PARAMS_CHARS = 100_000  # one node's params, as JSON
MAX_PARAMS_DEPTH = 32
# The canvas makes ids n1, n2, ...; an id ends up in URLs, file names and headers.
NODE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
ERR_TOO_MANY = "{field}: a pipeline holds at most {limit:,} {field}; this one has {count:,}."
ERR_NODE_ID = ("id: {id!r} is not a node id: use 1 to 64 letters, digits, '_', '.' or '-'.")
ERR_LABEL = "label: at most {limit} characters; this one has {count:,}."
ERR_PARAMS_DEPTH = "params: nested deeper than {limit} levels."
ERR_PARAMS_SIZE = "params: at most {limit:,} characters as JSON; these have {count:,}."


class Position(BaseModel):
    model_config = ConfigDict(extra="ignore")
    x: float = 0
    y: float = 0


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=64)
    operator: str = Field(min_length=1, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict)
    position: Position = Field(default_factory=Position)
    label: str = ""


class Edge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(max_length=64)
    source_port: str = Field(max_length=100)
    target: str = Field(max_length=64)
    target_port: str = Field(max_length=100)


class ExposedParam(BaseModel):
    """A param of one of the pipeline's nodes that a calling pipeline may set (under
    ``name``); its default is the node's own value."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")
    node: str = Field(min_length=1, max_length=64)
    param: str = Field(min_length=1, max_length=100)


class Graph(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nodes: list[Node] = Field(default_factory=list)
    edges: list[Edge] = Field(default_factory=list)
    # Params callers may set (datagran/engine/calls.py); absent from the hash when empty, so
    # graphs saved before it keep theirs.
    exposed: list[ExposedParam] = Field(default_factory=list, max_length=50)

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.id == node_id)

    def predecessors(self) -> dict[str, set[str]]:
        preds: dict[str, set[str]] = {n.id: set() for n in self.nodes}
        for e in self.edges:
            preds[e.target].add(e.source)
        return preds

    def successors(self) -> dict[str, set[str]]:
        succ: dict[str, set[str]] = {n.id: set() for n in self.nodes}
        for e in self.edges:
            succ[e.source].add(e.target)
        return succ

    def incoming(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.target == node_id]

    def order(self) -> list[str]:
        return list(TopologicalSorter(self.predecessors()).static_order())

    def descendants(self, node_id: str) -> set[str]:
        return _reachable(self.successors(), node_id)

    def ancestors(self, node_id: str) -> set[str]:
        return _reachable(self.predecessors(), node_id)


def _reachable(links: dict[str, set[str]], start: str) -> set[str]:
    """Every node reachable from ``start`` along ``links`` (``start`` itself excluded)."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        for nxt in links[stack.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


@dataclass
class GraphProblem:
    message: str
    node: str | None = None
    field: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"node": self.node, "field": self.field, "message": self.message}


@dataclass
class Validation:
    errors: list[GraphProblem] = field(default_factory=list)
    schemas: dict[str, dict[str, Schema | None]] = field(default_factory=dict)
    # Each node calling a pipeline: the called pipeline's interface (datagran/engine/calls.py).
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors


class InvalidGraph(GraphError):
    """Graph JSON that cannot be parsed, or breaks a limit: every problem by node and field
    (``problems``; ``errors`` has them as the API sends them)."""

    def __init__(self, problems: list[GraphProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems), [p.as_json() for p in problems])
        self.problems = problems


def parse_graph(raw: Any) -> Graph:
    """Parse graph JSON and check it against the limits above; raises InvalidGraph with one
    problem per malformed field."""
    _check_counts(raw)
    try:
        graph = Graph.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        problems = []
        for err in params_errors(exc):
            parts = err["field"].split(".")
            node = None
            if parts[0] == "nodes" and len(parts) > 1 and isinstance(raw, dict):
                try:
                    node = raw["nodes"][int(parts[1])].get("id")
                except (KeyError, IndexError, ValueError, AttributeError, TypeError):
                    node = None
            problems.append(GraphProblem(f"{err['field']}: {err['message']}", node, err["field"]))
        raise InvalidGraph(problems) from None
    problems = [problem for n in graph.nodes for problem in _node_problems(n)]
    if problems:
        raise InvalidGraph(problems)
    return graph


def _check_counts(raw: Any) -> None:
    if not isinstance(raw, dict):
        return
    for name, limit in (("nodes", MAX_NODES), ("edges", MAX_EDGES)):
        items = raw.get(name)
        if isinstance(items, list) and len(items) > limit:
            message = ERR_TOO_MANY.format(field=name, limit=limit, count=len(items))
            raise InvalidGraph([GraphProblem(message, None, name)])


def _node_problems(node: Node) -> list[GraphProblem]:
    problems = []
    if not NODE_ID.fullmatch(node.id):
        problems.append(GraphProblem(ERR_NODE_ID.format(id=node.id), node.id, "id"))
    if len(node.label) > MAX_LABEL:
        problems.append(GraphProblem(ERR_LABEL.format(limit=MAX_LABEL, count=len(node.label)),
                                     node.id, "label"))
    if _deeper_than(node.params, MAX_PARAMS_DEPTH):
        problems.append(GraphProblem(ERR_PARAMS_DEPTH.format(limit=MAX_PARAMS_DEPTH), node.id,
                                     "params"))
    elif (size := len(json.dumps(node.params, ensure_ascii=False))) > MAX_PARAMS_CHARS:
        problems.append(GraphProblem(ERR_PARAMS_SIZE.format(limit=MAX_PARAMS_CHARS, count=size),
                                     node.id, "params"))
    return problems


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether JSON ``value`` nests more than ``limit`` levels; without recursion, so any
    depth can be asked about."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def canonical_json(graph: Graph) -> str:
    """Key order, node order and edge order do not change the hash of a graph."""
    data = graph.model_dump(mode="json")
    data["nodes"] = sorted(data["nodes"], key=lambda n: n["id"])
    data["edges"] = sorted(data["edges"], key=lambda e: (e["source"], e["source_port"],
                                                         e["target"], e["target_port"]))
    if data["exposed"]:
        data["exposed"] = sorted(data["exposed"], key=lambda p: p["name"])
    else:
        del data["exposed"]
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def graph_hash(graph: Graph) -> str:
    return hashlib.sha256(canonical_json(graph).encode()).hexdigest()


def validate_graph(graph: Graph, ctx: Context) -> Validation:
    """Every problem with the graph, and the output schemas of every node that can be
    inferred: a graph being built always has a problem somewhere, and that is exactly when
    the canvas needs the schemas for its column pickers."""
    result = Validation()
    errors = result.errors
    ids = Counter(n.id for n in graph.nodes)
    for dup in sorted(i for i, count in ids.items() if count > 1):
        errors.append(GraphProblem(f"Two nodes have the id {dup!r}; node ids must be unique.",
                                   dup, "id"))
    if errors:
        return result
    ops, params = {}, {}
    for node in graph.nodes:
        try:
            ops[node.id] = get_operator(node.operator)
        except UnknownOperator:
            errors.append(GraphProblem(f"Unknown operator {node.operator!r}.", node.id, "operator"))
            continue
        try:
            params[node.id] = ops[node.id].parse_params(node.params)
        except ValidationError as exc:
            for err in params_errors(exc, ops[node.id].Params):
                where = "params" if err["field"] == "params" else f"params.{err['field']}"
                # The message names a top-level field in the form's words; a nested one is
                # located by its path.
                nested = "." in err["field"]
                message = f"{err['field']}: {err['message']}" if nested else err["message"]
                errors.append(GraphProblem(message, node.id, where))
    _check_edges(graph, ops, errors)
    known = Graph(nodes=list(graph.nodes),
                  edges=[e for e in graph.edges if e.source in ids and e.target in ids])
    try:
        order = known.order()
    except CycleError as exc:
        cycle = list(dict.fromkeys(exc.args[1]))
        errors.append(GraphProblem(f"The graph has a cycle: {' → '.join(exc.args[1])}. "
                                   "Remove one of these edges.", cycle[0], "edges"))
        return result
    _infer(known, order, ops, params, ctx, result)
    return result


def _check_edges(graph: Graph, ops: dict[str, Any], errors: list[GraphProblem]) -> None:
    fed: dict[tuple[str, str], int] = {}
    node_ids = {n.id for n in graph.nodes}
    for i, e in enumerate(graph.edges):
        where = f"edges.{i}"
        if e.source not in ops or e.target not in ops:
            missing = e.source if e.source not in ops else e.target
            if missing not in node_ids:
                errors.append(GraphProblem(f"Edge {i} refers to node {missing!r}, which does "
                                           "not exist.", None, where))
            continue
        out = ops[e.source].output(e.source_port)
        inp = ops[e.target].input(e.target_port)
        if out is None:
            errors.append(GraphProblem(f"{ops[e.source].label} has no output port "
                                       f"{e.source_port!r}.", e.source, where))
        if inp is None:
            errors.append(GraphProblem(f"{ops[e.target].label} has no input port "
                                       f"{e.target_port!r}.", e.target, where))
        if out is None or inp is None:
            continue
        if out.type != inp.type:
            errors.append(GraphProblem(
                f"Cannot connect the {out.type} output '{out.name}' of {e.source} to the "
                f"{inp.type} input '{inp.name}' of {e.target}: the port types differ.",
                e.target, where))
        key = (e.target, e.target_port)
        fed[key] = fed.get(key, 0) + 1
        if fed[key] == 2:
            errors.append(GraphProblem(f"Input '{e.target_port}' of {e.target} has more than "
                                       "one incoming edge.", e.target, where))
    for node in graph.nodes:
        op = ops.get(node.id)
        if op is None:
            continue
        for port in op.inputs:
            if not port.optional and (node.id, port.name) not in fed:
                errors.append(GraphProblem(
                    f"Input '{port.name}' of {op.label} ({node.id}) is not connected.",
                    node.id, f"inputs.{port.name}"))


def _infer(graph: Graph, order: list[str], ops: dict[str, Any], params: dict[str, Any],
           ctx: Context, result: Validation) -> None:
    incoming: dict[str, list[Edge]] = {}
    for e in graph.edges:
        incoming.setdefault(e.target, []).append(e)
    for node_id in order:
        op = ops.get(node_id)
        if op is None:
            continue
        if node_id not in params:  # its params are invalid: its outputs are unknown
            result.schemas[node_id] = {p.name: None for p in op.outputs}
            continue
        inputs: dict[str, Schema | None] = {}
        for e in incoming.get(node_id, ()):
            if op.input(e.target_port) is not None:
                inputs[e.target_port] = result.schemas.get(e.source, {}).get(e.source_port)
        try:
            inferred = op.infer_schema(ctx, params[node_id], **inputs)
        except OperatorError as exc:
            where = f"params.{exc.field}" if exc.field else "params"
            result.errors.append(GraphProblem(exc.message, node_id, where))
            inferred = {}
        except Exception:  # noqa: BLE001 - inputs already reported as wrong; schema unknown
            if not result.errors:
                raise
            inferred = {}
        result.schemas[node_id] = {p.name: inferred.get(p.name) for p in op.outputs}


def graph_diff(old: Graph, new: Graph) -> dict[str, Any]:
    """What changed between two versions: nodes added or removed, edges changed, params
    changed (old → new) per node, operators swapped, nodes renamed, nodes moved."""
    a, b = {n.id: n for n in old.nodes}, {n.id: n for n in new.nodes}

    def edge_key(e: Edge) -> tuple[str, str, str, str]:
        return (e.source, e.source_port, e.target, e.target_port)

    ea, eb = {edge_key(e) for e in old.edges}, {edge_key(e) for e in new.edges}
    params: dict[str, dict[str, dict[str, Any]]] = {}
    for node_id in sorted(a.keys() & b.keys()):
        pa, pb = a[node_id].params, b[node_id].params
        changed = {k: {"old": pa.get(k), "new": pb.get(k)} for k in sorted(pa.keys() | pb.keys())
                   if pa.get(k) != pb.get(k)}
        if changed:
            params[node_id] = changed
    fields = ("source", "source_port", "target", "target_port")
    return {
        "nodes_added": sorted(b.keys() - a.keys()),
        "nodes_removed": sorted(a.keys() - b.keys()),
        "operators_changed": {i: {"old": a[i].operator, "new": b[i].operator}
                              for i in sorted(a.keys() & b.keys())
                              if a[i].operator != b[i].operator},
        # A rename alone makes a new version; without this its diff would look empty.
        "labels_changed": {i: {"old": a[i].label, "new": b[i].label}
                           for i in sorted(a.keys() & b.keys()) if a[i].label != b[i].label},
        "params_changed": params,
        "edges_added": [dict(zip(fields, e, strict=True)) for e in sorted(eb - ea)],
        "edges_removed": [dict(zip(fields, e, strict=True)) for e in sorted(ea - eb)],
        "moved": sorted(i for i in a.keys() & b.keys() if a[i].position != b[i].position),
    }
