"""The graph of a run, parsed once per process: a pipeline version is immutable, so its
parsed graph and the lookups every node needs (a node by id, its incoming edges, its
predecessors and successors) are kept per version instead of being rebuilt for each node.
Keyed by the version's id and content hash, so a reused id can never serve another graph (a
run that calls pipelines, by the run's id: its expanded graph is its own)."""
from __future__ import annotations

from functools import cached_property
from typing import Any

from django.db.models import QuerySet

from datagran.core.lru import Lru
from datagran.engine.graph import Edge, Graph, Node
from datagran.pipelines.models import PipelineVersion

from .models import Run


class RunGraph:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.nodes: dict[str, Node] = {n.id: n for n in graph.nodes}

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    @cached_property
    def incoming(self) -> dict[str, list[Edge]]:
        edges: dict[str, list[Edge]] = {n: [] for n in self.nodes}
        for e in self.graph.edges:
            edges[e.target].append(e)
        return edges

    @cached_property
    def predecessors(self) -> dict[str, set[str]]:
        return self.graph.predecessors()

    @cached_property
    def successors(self) -> dict[str, list[str]]:
        return {n: sorted(s) for n, s in self.graph.successors().items()}

    def descendants(self, node_id: str) -> set[str]:
        return self.graph.descendants(node_id)


_cache = Lru(32)


def run_graph(run: Run) -> RunGraph:
    """The parsed graph a run executes, from this process's small LRU cache: its pipeline
    version's (whose graph field may be deferred), or the expanded graph it keeps when that
    version calls pipelines."""
    if run.calls:
        return _parsed(("run", run.pk), Run.objects.filter(pk=run.pk))
    version = run.version
    return _parsed((version.pk, version.hash), PipelineVersion.objects.filter(pk=version.pk))


def _parsed(key: tuple[object, ...], rows: QuerySet[Any]) -> RunGraph:
    parsed = _cache.get(key)
    if parsed is None:
        parsed = RunGraph(Graph.model_validate(rows.values_list("graph", flat=True).get()))
        _cache.put(key, parsed)
    return parsed
