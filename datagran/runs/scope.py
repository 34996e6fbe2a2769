"""Partial runs, the canvas's iteration loop: "run up to here" runs a node and everything
upstream of it; "run this node" runs the node alone, its inputs taken from the cached outputs
of earlier runs. Nodes outside the scope get no node run at all (nothing downstream of the
target, so no action after it, can be triggered); a replay of a partial run holds the same
nodes again."""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from datagran.core.exceptions import FieldError
from datagran.engine.calls import SEP
from datagran.engine.graph import Graph, Node

SCOPE_UPSTREAM, SCOPE_NODE = "upstream", "node"
SCOPES = (SCOPE_UPSTREAM, SCOPE_NODE)

ERR_UNKNOWN_TARGET = "the pipeline has no node {target!r}."
ERR_NOT_CACHED = ("Run this node takes its inputs from the cached outputs of earlier runs, "
                  "and {nodes} {have} none. Use \"Run up to here\" to compute {them} too.")


@dataclass(frozen=True)
class RunScope:
    nodes: frozenset[str]
    """The nodes the run holds."""
    reuse: frozenset[str]
    """Those of them that must come from the cache, even in a forced run: they feed the
    others, and what feeds them is not in the run."""


def run_scope(graph: Graph, *, target: str, scope: str) -> RunScope:
    """The nodes of "run up to here" (``upstream``) or "run this node" (``node``). A node
    calling a pipeline is, in the expanded graph, the nodes named ``<target>.<id>``: all of
    them are the target."""
    ids = {n.id for n in graph.nodes}
    targets = {target} if target in ids else {i for i in ids if i.startswith(target + SEP)}
    if not targets:
        message = ERR_UNKNOWN_TARGET.format(target=target)
        raise FieldError(f"target: {message}", {"target": [message]})
    if scope == SCOPE_UPSTREAM:
        above = set().union(*(graph.ancestors(t) for t in targets))
        return RunScope(frozenset(above | targets), frozenset())
    preds = graph.predecessors()
    inputs = frozenset(set().union(*(preds[t] for t in targets)) - targets)
    return RunScope(inputs | targets, inputs)


def replay_scope(graph: Graph, node_ids: Collection[str]) -> RunScope | None:
    """The scope of a run that held ``node_ids``: None when it held the whole graph."""
    held = frozenset(node_ids) & {n.id for n in graph.nodes}
    if len(held) == len(graph.nodes):
        return None
    preds = graph.predecessors()
    return RunScope(held, frozenset(n for n in held if preds[n] - held))


def not_cached_error(graph: Graph, missing: Collection[str]) -> FieldError:
    names = sorted(node_name(graph.node(n)) for n in missing)
    nodes = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    message = ERR_NOT_CACHED.format(nodes=nodes, have="has" if len(names) == 1 else "have",
                                    them="it" if len(names) == 1 else "them")
    return FieldError(message, {"target": [message]})


def node_name(node: Node) -> str:
    return f"{node.label} ({node.id})" if node.label and node.label != node.id else node.id
