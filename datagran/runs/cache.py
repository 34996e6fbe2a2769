"""The output cache of node runs: a node whose operator, version, params and inputs are
unchanged reuses the outputs stored by an earlier run instead of running again."""
from __future__ import annotations

from typing import Any

from datagran.core.exceptions import PermanentError
from datagran.datasets.artifacts import artifact_store
from datagran.engine.cache import cache_keys
from datagran.engine.graph import Graph
from datagran.pipelines.models import Pipeline
from datagran.pipelines.validation import validation_context
from operators.base import OperatorError

from .models import CacheEntry, NodeRun


def pipeline_cache_keys(pipeline: Pipeline, graph: Graph) -> dict[str, str | None]:
    try:
        return cache_keys(graph, validation_context(pipeline.workspace))
    except OperatorError as exc:
        raise PermanentError(f"The pipeline cannot run: {exc.message}") from None


def cache_hits(keys: dict[str, str | None]) -> dict[str, CacheEntry]:
    """node id → cache entry, for the nodes whose output is stored and still on disk.
    Reads only: planning (every debounced canvas edit, viewers too) uses it as it is."""
    wanted = {key: node_id for node_id, key in keys.items() if key}
    store, hits = artifact_store(), {}
    for entry in CacheEntry.objects.filter(key__in=list(wanted)):
        if all(store.exists(ref) for ref in entry.outputs.values()):
            hits[wanted[entry.key]] = entry
    return hits


def cache_lookup(keys: dict[str, str | None]) -> dict[str, CacheEntry]:
    """The cache hits of a run about to start, marked as used again: the LRU eviction takes
    them last (one batch, for a remote store)."""
    hits = cache_hits(keys)
    artifact_store().touch([ref for entry in hits.values() for ref in entry.outputs.values()])
    return hits


def cache_store(node: NodeRun, *, outputs: dict[str, Any], rows_out: int | None) -> None:
    """Keep a node's outputs for reuse: once stored, they are reusable whatever happens to
    the run that made them."""
    if not node.cache_key:
        return
    CacheEntry.objects.bulk_create(
        [CacheEntry(key=node.cache_key, operator=node.operator, outputs=outputs,
                    rows_out=rows_out)],
        update_conflicts=True, unique_fields=["key"],
        update_fields=["operator", "outputs", "rows_out", "last_used_at"])
