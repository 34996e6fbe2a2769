"""Pipelines calling pipelines: a graph's interface (its input and output markers and its
exposed params) and the expansion of each calling node into the called pipeline's nodes.

Pure Python, like graph.py. A run, a serving plan and a validation all see the expanded graph:
the calling node ``n7`` is replaced by the called pipeline's nodes, renamed ``n7.<id>``; an
input marker's edges start where the edge into ``n7``'s port of that name starts, and an edge
out of ``n7``'s port starts where that output marker's input does. Everything else (caching,
statuses, previews, fitted states) then works node by node as for any graph. The canvas's
"Expand" is the same inlining with fresh canvas ids, and "Make sub-pipeline" its inverse
(``extract``)."""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

from operators.base import Context
from operators.pipelines import CALL, INPUT_MARKERS, LATEST, OUTPUT_MARKERS
from operators.registry import UnknownOperator, get_operator

from .graph import (
    MAX_NODES,
    Edge,
    ExposedParam,
    Graph,
    GraphProblem,
    Node,
    Position,
    Validation,
    validate_graph,
)

SEP = "."
# Pipelines inside pipelines: a chain of calls at most this long.
MAX_CALL_DEPTH = 5
MAX_NODE_ID = 64  # NodeRun.node_id

ERR_CYCLE = "Calls form a cycle: {chain}. A pipeline cannot call itself, even through others."
ERR_DEPTH = ("Calls nest deeper than {limit} pipelines ({chain}); call fewer pipelines from "
             "pipelines.")
ERR_NO_INPUT = "{callee} has no input {port!r}; its inputs: {names}."
ERR_NO_OUTPUT = "{callee} has no output {port!r}; its outputs: {names}."
ERR_INPUT_FREE = "Input '{port}' of {node} is not connected."
ERR_NO_PARAM = "params.{name}: {callee} exposes no param {name!r}; it exposes: {names}."
ERR_ID_TAKEN = ("Node id {id!r} is taken: calling {callee} from {node} names its nodes "
                "{node}.<id>. Rename the node {id!r}.")
ERR_ID_LONG = "Calls nest too deeply for node ids: {id!r} is longer than {limit} characters."
ERR_TOO_BIG = ("With the pipelines it calls, this pipeline has more than {limit:,} nodes "
               "({count:,} so far); at most {limit:,} run as one.")
ERR_SELF_LOOP = "{node}'s output {port!r} feeds its own input: the graph has a cycle."
ERR_DUPLICATE_MARKER = "Two {side} markers are named {name!r}; each {side} needs its own name."
ERR_EXPOSED_NODE = "exposed.{name}: no node {node!r} in this pipeline."
ERR_EXPOSED_PARAM = "exposed.{name}: {node} has no param {param!r}."
ERR_EXPOSED_TWICE = "exposed.{name}: two exposed params have this name."


class CallError(Exception):
    """A calling node that cannot be resolved: an unknown pipeline or version."""

    def __init__(self, message: str, field: str = "pipeline") -> None:
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class Callee:
    pipeline: str
    name: str
    version: str  # the hash of the version called
    graph: Graph
    number: int = 0  # the version's number, 1 for the first (for people)


class Resolver(Protocol):
    def __call__(self, pipeline: str, version: str) -> Callee: ...


def is_call(node: Node) -> bool:
    return node.operator == CALL


def has_calls(graph: Graph) -> bool:
    return any(is_call(n) for n in graph.nodes)


# --- the interface ------------------------------------------------------------------------

def interface(graph: Graph, param_schema: Callable[[str, str], dict[str, Any]] | None = None
              ) -> dict[str, Any]:
    """The ports and params a calling node of this graph has: ``inputs`` and ``outputs``
    (name, type, marker node), and ``params`` (name, node, param, default and, when
    ``param_schema`` gives it, the param's JSON schema)."""
    def markers(kinds: dict[str, str]) -> list[dict[str, Any]]:
        found = [{"name": str(n.params.get("name", "")), "type": kinds[n.operator],
                  "node": n.id} for n in graph.nodes if n.operator in kinds]
        return sorted(found, key=lambda m: (m["name"], m["node"]))

    nodes = {n.id: n for n in graph.nodes}
    params = []
    for p in sorted(graph.exposed, key=lambda p: p.name):
        node = nodes.get(p.node)
        entry: dict[str, Any] = {"name": p.name, "node": p.node, "param": p.param,
                                 "default": node.params.get(p.param) if node else None}
        if param_schema is not None and node is not None:
            entry["schema"] = param_schema(node.operator, p.param)
        params.append(entry)
    return {"inputs": markers(INPUT_MARKERS), "outputs": markers(OUTPUT_MARKERS),
            "params": params}


def interface_problems(graph: Graph, param_names: Callable[[str], Collection[str]]
                       ) -> list[GraphProblem]:
    """What is wrong with a graph's interface: two markers of a side with one name, an exposed
    param naming a node or param that does not exist. ``param_names``: an operator's params."""
    problems = []
    for side, kinds in (("input", INPUT_MARKERS), ("output", OUTPUT_MARKERS)):
        seen: dict[str, str] = {}
        for n in graph.nodes:
            if n.operator not in kinds:
                continue
            name = str(n.params.get("name", ""))
            if name in seen:
                problems.append(GraphProblem(ERR_DUPLICATE_MARKER.format(side=side, name=name),
                                             n.id, "params.name"))
            seen[name] = n.id
    nodes = {n.id: n for n in graph.nodes}
    names: set[str] = set()
    for p in graph.exposed:
        where = f"exposed.{p.name}"
        if p.name in names:
            problems.append(GraphProblem(ERR_EXPOSED_TWICE.format(name=p.name), p.node, where))
        names.add(p.name)
        node = nodes.get(p.node)
        if node is None:
            problems.append(GraphProblem(ERR_EXPOSED_NODE.format(name=p.name, node=p.node),
                                         None, where))
        elif p.param not in param_names(node.operator):
            problems.append(GraphProblem(ERR_EXPOSED_PARAM.format(
                name=p.name, node=p.node, param=p.param), p.node, where))
    return problems


# --- inlining one call --------------------------------------------------------------------

def inline(graph: Graph, call_id: str, callee: Graph, *, callee_name: str,
           new_id: Callable[[str], str], problems: list[GraphProblem],
           blame: str | None = None,
           sources: dict[str, tuple[str, str] | None] | None = None) -> Graph:
    """``graph`` with its calling node ``call_id`` replaced by ``callee``'s nodes (each
    renamed ``new_id(id)``, its exposed params set from the calling node's ``params``), the
    markers dissolved into edges. Problems go to ``problems`` on node ``blame`` (default the
    calling node); a broken port leaves its edge out. ``sources`` receives, per output, the
    node and port that give it once inlined."""
    call = graph.node(call_id)
    blame = blame or call_id
    inputs = {str(n.params.get("name")): n.id for n in callee.nodes
              if n.operator in INPUT_MARKERS}
    outputs = {str(n.params.get("name")): n.id for n in callee.nodes
               if n.operator in OUTPUT_MARKERS}
    markers = set(inputs.values()) | set(outputs.values())
    values = call.params.get("params") or {}
    exposed = {p.name: p for p in callee.exposed}
    overrides: dict[str, dict[str, Any]] = {}
    for name, value in (values.items() if isinstance(values, dict) else ()):
        if name not in exposed:
            problems.append(GraphProblem(ERR_NO_PARAM.format(
                name=name, callee=callee_name, names=", ".join(sorted(exposed)) or "none"),
                blame, f"params.params.{name}"))
            continue
        overrides.setdefault(exposed[name].node, {})[exposed[name].param] = value

    fed: dict[str, tuple[str, str]] = {}  # input name -> (source, port) outside
    for e in graph.edges:
        if e.target != call_id:
            continue
        if e.target_port not in inputs:
            problems.append(GraphProblem(ERR_NO_INPUT.format(
                callee=callee_name, port=e.target_port, names=", ".join(sorted(inputs))
                or "none"), blame, f"inputs.{e.target_port}"))
        elif e.source == call_id:
            problems.append(GraphProblem(ERR_SELF_LOOP.format(node=call_id, port=e.source_port),
                                         blame, "edges"))
        else:
            fed[e.target_port] = (e.source, e.source_port)

    def source_of(node: str, port: str) -> tuple[str, str] | None:
        """Where an edge from the callee's ``node``/``port`` starts once inlined."""
        if node in markers:  # an input marker: what feeds the calling node's port
            name = next(k for k, v in inputs.items() if v == node)
            if name not in fed:
                problems.append(GraphProblem(ERR_INPUT_FREE.format(port=name, node=call_id),
                                             blame, f"inputs.{name}"))
                return None
            return fed[name]
        return new_id(node), port

    nodes = [n for n in graph.nodes if n.id != call_id]
    taken = {n.id for n in nodes}
    inner = [n for n in callee.nodes if n.id not in markers]
    left = min((n.position.x for n in inner), default=0)
    top = min((n.position.y for n in inner), default=0)
    for n in inner:
        renamed = new_id(n.id)
        if renamed in taken:
            problems.append(GraphProblem(ERR_ID_TAKEN.format(id=renamed, callee=callee_name,
                                                             node=call_id), renamed, "id"))
            continue
        params = {**n.params, **overrides.get(n.id, {})}
        nodes.append(Node(id=renamed, operator=n.operator, params=params,
                          position=Position(x=call.position.x + n.position.x - left,
                                            y=call.position.y + n.position.y - top),
                          label=n.label))
    edges = [e for e in graph.edges if call_id not in (e.source, e.target)]
    outs: dict[str, tuple[str, str] | None] = {}
    for e in callee.edges:
        if e.target in markers:  # into an output marker: what the calling node's port gives
            name = next(k for k, v in outputs.items() if v == e.target)
            outs[name] = source_of(e.source, e.source_port)
            continue
        start = source_of(e.source, e.source_port)
        if start is not None:
            edges.append(Edge(source=start[0], source_port=start[1], target=new_id(e.target),
                              target_port=e.target_port))
    if sources is not None:
        sources.update(outs)
    for e in graph.edges:
        if e.source != call_id or e.target == call_id:
            continue
        if e.source_port not in outputs:
            problems.append(GraphProblem(ERR_NO_OUTPUT.format(
                callee=callee_name, port=e.source_port, names=", ".join(sorted(outputs))
                or "none"), blame, "edges"))
            continue
        start = outs.get(e.source_port)
        if start is not None:
            edges.append(Edge(source=start[0], source_port=start[1], target=e.target,
                              target_port=e.target_port))
    return Graph(nodes=nodes, edges=edges, exposed=list(graph.exposed))


# --- expanding every call -----------------------------------------------------------------

@dataclass
class Expanded:
    graph: Graph
    # Each call, by its node's path in the expanded graph ("n7", "n7.n2"): the pipeline, its
    # name and the version hash called.
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[GraphProblem] = field(default_factory=list)
    # Each top-level calling node's interface, for the canvas.
    interfaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Each top-level calling node's outputs: the expanded node and port that give each.
    outputs: dict[str, dict[str, tuple[str, str] | None]] = field(default_factory=dict)


def expand(graph: Graph, resolve: Resolver, *, root: tuple[str, str] | None = None,
           pinned: dict[str, str] | None = None) -> Expanded:
    """``graph`` with every call expanded, recursively. ``root``: the (id, name) of the
    pipeline the graph belongs to, so a call back to it is a cycle. ``pinned``: versions to
    use by call path instead of resolving "latest" (a replay's)."""
    out = Expanded(graph)
    out.graph = _expand(graph, resolve, [root] if root else [], "", out, pinned or {}, None)
    return out


def _expand(graph: Graph, resolve: Resolver, chain: list[tuple[str, str]], prefix: str,
            out: Expanded, pinned: dict[str, str], blame: str | None) -> Graph:
    for call in [n for n in graph.nodes if is_call(n)]:
        where = blame or call.id
        path = prefix + call.id
        pipeline = call.params.get("pipeline")
        version = pinned.get(path) or call.params.get("version")
        if not isinstance(pipeline, str) or not isinstance(version, str):
            continue  # the node's params are invalid: validation says so
        names = [name for _, name in chain]
        if any(pipeline == pid for pid, _ in chain):
            first = next(i for i, (pid, _) in enumerate(chain) if pid == pipeline)
            cycle = " → ".join(names[first:] + [names[first]])
            out.problems.append(GraphProblem(ERR_CYCLE.format(chain=cycle), where,
                                             "params.pipeline"))
            graph = _drop(graph, call.id)
            continue
        try:
            callee = resolve(pipeline, version)
        except CallError as exc:
            out.problems.append(GraphProblem(exc.message, where, f"params.{exc.field}"))
            graph = _drop(graph, call.id)
            continue
        if len(chain) >= MAX_CALL_DEPTH:
            out.problems.append(GraphProblem(ERR_DEPTH.format(
                limit=MAX_CALL_DEPTH, chain=" → ".join(names + [callee.name])), where,
                "params.pipeline"))
            graph = _drop(graph, call.id)
            continue
        out.calls[path] = {"pipeline": callee.pipeline, "name": callee.name,
                           "version": callee.version, "number": callee.number,
                           "latest": call.params.get("version") == LATEST}
        if blame is None:
            out.interfaces[call.id] = {**interface(callee.graph), "pipeline": callee.pipeline,
                                       "name": callee.name, "version": callee.version,
                                       "number": callee.number}
        inner = _expand(callee.graph, resolve, chain + [(callee.pipeline, callee.name)],
                        path + SEP, out, pinned, where)
        before = len(out.problems)
        sources: dict[str, tuple[str, str] | None] = {}
        graph = inline(graph, call.id, inner, callee_name=callee.name,
                       new_id=functools.partial(_prefixed, call.id), problems=out.problems,
                       blame=where, sources=sources)
        if blame is None:
            out.outputs[call.id] = sources
        for problem in out.problems[before:]:
            if problem.node is not None and problem.node != where:
                problem.node = where
        if len(graph.nodes) > MAX_NODES:
            # Stopped here: a graph calling big pipelines many times would otherwise grow
            # without bound before anything counted it.
            out.problems.append(GraphProblem(ERR_TOO_BIG.format(
                count=len(graph.nodes), limit=MAX_NODES), where, "params.pipeline"))
            return graph
        for n in graph.nodes:
            if len(prefix) + len(n.id) > MAX_NODE_ID and n.id.startswith(call.id + SEP):
                out.problems.append(GraphProblem(ERR_ID_LONG.format(id=prefix + n.id,
                                                                    limit=MAX_NODE_ID),
                                                 where, "params.pipeline"))
                break
    return graph


def _prefixed(call: str, node_id: str) -> str:
    return f"{call}{SEP}{node_id}"


def _drop(graph: Graph, node_id: str) -> Graph:
    """``graph`` without a calling node that cannot be expanded, nor its edges (its problem
    is reported; its ports' edges would only add noise)."""
    return Graph(nodes=[n for n in graph.nodes if n.id != node_id],
                 edges=[e for e in graph.edges if node_id not in (e.source, e.target)],
                 exposed=list(graph.exposed))


def call_of(node_id: str, calls: Collection[str]) -> str | None:
    """The top-level calling node an expanded node comes from, if any."""
    head = node_id.split(SEP, 1)[0]
    return head if head in calls and node_id != head else None


# --- validation ---------------------------------------------------------------------------

def params_of(operator: str) -> Collection[str]:
    try:
        return get_operator(operator).Params.model_fields.keys()
    except UnknownOperator:
        return ()


def param_schema(operator: str, param: str) -> dict[str, Any]:
    """The JSON schema of one param of an operator (an exposed param's form field)."""
    try:
        schema = get_operator(operator).Params.model_json_schema()
    except UnknownOperator:
        return {}
    found = schema.get("properties", {}).get(param, {})
    return dict(found) if isinstance(found, dict) else {}


def validate(graph: Graph, ctx: Context, resolve: Resolver | None,
             root: tuple[str, str] | None = None) -> Validation:
    """``validate_graph`` for a graph that may call pipelines: the expanded graph is checked,
    and what is found inside a called pipeline is reported on the calling node (prefixed with
    the called pipeline's name); each calling node's output schemas are those of what feeds
    the called pipeline's output markers, and ``calls`` holds each calling node's interface."""
    problems = interface_problems(graph, params_of)
    if not has_calls(graph) or resolve is None:
        result = validate_graph(graph, ctx)
        result.errors.extend(problems)
        return result
    own = validate_graph(Graph(nodes=[n for n in graph.nodes if is_call(n)]), ctx)
    expanded = expand(graph, resolve, root=root)
    result = validate_graph(expanded.graph, ctx)
    calls = {n.id for n in graph.nodes if is_call(n)}
    names = {call: info["name"] for call, info in expanded.interfaces.items()}
    labels = {n.id: n.label for n in expanded.graph.nodes}
    for problem in result.errors:
        node = problem.node
        call = call_of(node, calls) if node else None
        if node and call is not None:
            inner = labels.get(node) or node[len(call) + len(SEP):]
            problem.message = f"In {names.get(call, call)} ({inner}): {problem.message}"
            problem.node, problem.field = call, "params.pipeline"
    errors = problems + own.errors + expanded.problems + result.errors
    schemas = {node_id: ports for node_id, ports in result.schemas.items()
               if call_of(node_id, calls) is None}
    for call, outputs in expanded.outputs.items():
        schemas[call] = {name: result.schemas.get(src[0], {}).get(src[1]) if src else None
                         for name, src in outputs.items()}
    return Validation(errors=_unique(errors), schemas=schemas, calls=expanded.interfaces)


def _unique(problems: list[GraphProblem]) -> list[GraphProblem]:
    seen, kept = set(), []
    for p in problems:
        key = (p.node, p.field, p.message)
        if key not in seen:
            seen.add(key)
            kept.append(p)
    return kept


# --- the canvas: expand one node, make a sub-pipeline ---------------------------------------

def fresh_ids(taken: Collection[str]) -> Callable[[str], str]:
    """A function giving each callee node id a new canvas id (n1, n2, ...) not in ``taken``,
    the same one each time it is asked about the same id."""
    used = set(taken)
    numbers = [int(m.group(1)) for i in used if (m := re.fullmatch(r"n(\d+)", i))]
    counter = [max(numbers, default=0)]
    given: dict[str, str] = {}

    def new_id(old: str) -> str:
        if old not in given:
            counter[0] += 1
            while f"n{counter[0]}" in used:
                counter[0] += 1
            given[old] = f"n{counter[0]}"
            used.add(given[old])
        return given[old]
    return new_id


@dataclass
class Extracted:
    inner: Graph  # the new pipeline's graph
    outer: Graph  # the caller's graph with the selection replaced by the calling node
    call_id: str


def extract(graph: Graph, selected: Collection[str], *, port_type: Callable[[str, str], str],
            call_params: dict[str, Any], label: str,
            columns: Callable[[str, str], list[dict[str, str]] | None] | None = None
            ) -> Extracted:
    """The selection as a pipeline of its own, with an input marker per outside source that
    feeds it and an output marker per selected port read outside; and ``graph`` with the
    selection replaced by a node calling it (``call_params``; its ``pipeline`` and
    ``version`` filled in by the caller once the new pipeline is saved).
    ``port_type(node, port)``: the type of a node's output port; ``columns(node, port)``,
    when known, its table's columns, which a table input marker then declares."""
    chosen = set(selected)
    inner_nodes = [n for n in graph.nodes if n.id in chosen]
    inner_edges = [e for e in graph.edges if e.source in chosen and e.target in chosen]
    taken = {n.id for n in graph.nodes}
    names: set[str] = set()

    def port_name(node: Node, port: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]+", "_", (node.label or node.id)).strip("_").lower()
        base = base if base and not base[0].isdigit() else f"p_{base}"
        base = base[:30] if port in ("table", "model") else f"{base[:20]}_{port[:9]}"
        name, k = base, 2
        while name in names:
            name, k = f"{base}_{k}", k + 1
        names.add(name)
        return name

    marker_ids = fresh_ids(taken)
    inputs: dict[tuple[str, str], str] = {}  # outside (source, port) -> input name
    outputs: dict[tuple[str, str], str] = {}  # inside (source, port) -> output name
    markers: list[Node] = []
    outer_in, outer_out = [], []
    nodes_by_id = {n.id: n for n in graph.nodes}
    for e in graph.edges:
        if e.target in chosen and e.source not in chosen:
            key = (e.source, e.source_port)
            kind = port_type(e.source, e.source_port)
            if key not in inputs:
                inputs[key] = port_name(nodes_by_id[e.source], e.source_port)
                params: dict[str, Any] = {"name": inputs[key]}
                known = columns(*key) if columns is not None and kind == "table" else None
                if known:
                    params["columns"] = [{"name": c["name"], "type": c["type"]} for c in known]
                marker = Node(id=marker_ids(f"in:{key}"), label=f"Input {inputs[key]}",
                              operator=_marker(INPUT_MARKERS, kind), params=params,
                              position=Position(x=nodes_by_id[e.target].position.x - 260,
                                                y=nodes_by_id[e.target].position.y))
                markers.append(marker)
                outer_in.append((key, inputs[key]))
            marker_id = next(m.id for m in markers if m.params["name"] == inputs[key])
            inner_edges.append(Edge(source=marker_id, source_port=kind,
                                    target=e.target, target_port=e.target_port))
        elif e.source in chosen and e.target not in chosen:
            key = (e.source, e.source_port)
            if key not in outputs:
                outputs[key] = port_name(nodes_by_id[e.source], e.source_port)
                kind = port_type(e.source, e.source_port)
                marker = Node(id=marker_ids(f"out:{key}"), label=f"Output {outputs[key]}",
                              operator=_marker(OUTPUT_MARKERS, kind),
                              params={"name": outputs[key]},
                              position=Position(x=nodes_by_id[e.source].position.x + 260,
                                                y=nodes_by_id[e.source].position.y))
                markers.append(marker)
                inner_edges.append(Edge(source=e.source, source_port=e.source_port,
                                        target=marker.id, target_port=kind))
            outer_out.append((outputs[key], e))
    exposed = [p for p in graph.exposed if p.node in chosen]
    inner = Graph(nodes=inner_nodes + markers, edges=inner_edges, exposed=exposed)
    call_id = fresh_ids(taken)("call")
    xs = [n.position.x for n in inner_nodes] or [0.0]
    ys = [n.position.y for n in inner_nodes] or [0.0]
    call = Node(id=call_id, operator=CALL, label=label, params=dict(call_params),
                position=Position(x=sum(xs) / len(xs), y=sum(ys) / len(ys)))
    edges = [e for e in graph.edges if e.source not in chosen and e.target not in chosen]
    edges += [Edge(source=src, source_port=port, target=call_id, target_port=name)
              for (src, port), name in outer_in]
    edges += [Edge(source=call_id, source_port=name, target=e.target,
                   target_port=e.target_port) for name, e in outer_out]
    outer = Graph(nodes=[n for n in graph.nodes if n.id not in chosen] + [call], edges=edges,
                  exposed=[p for p in graph.exposed if p.node not in chosen])
    return Extracted(inner=inner, outer=outer, call_id=call_id)


def _marker(kinds: dict[str, str], port_type: str) -> str:
    """The marker operator of a port type (a marker's one port is named after its type)."""
    return next(op for op, kind in kinds.items() if kind == port_type)


def between(graph: Graph, selected: Collection[str]) -> list[str]:
    """Nodes outside the selection that lie on a path from one selected node to another: a
    sub-pipeline of the selection would feed itself through them."""
    chosen = set(selected)
    below: set[str] = set()
    above: set[str] = set()
    for node_id in chosen:
        below |= graph.descendants(node_id)
        above |= graph.ancestors(node_id)
    return sorted((below & above) - chosen)


__all__ = ["CallError", "validate", "Callee", "Expanded", "ExposedParam", "Extracted", "Resolver",
           "between", "call_of", "expand", "extract", "fresh_ids", "has_calls", "inline",
           "interface", "interface_problems", "is_call"]
