"""Cache keys of nodes: operator name and version, canonical params, the keys of the upstream
nodes (lineage keys: only source data is ever hashed, and that once, at upload) and a source
fingerprint. Computable before anything runs, so the canvas can say what a run will reuse."""
from __future__ import annotations

import hashlib
import json

from operators.base import Context
from operators.registry import get_operator

from .graph import Graph

# Bump to invalidate every cached output (a change in how outputs are stored).
ENGINE_CACHE_VERSION = "1"


def source_fingerprints(graph: Graph, ctx: Context) -> dict[str, str]:
    """node id → what identifies the data a source node reads (an uploaded dataset's content
    hash), for the nodes that have one: the dataset versions a run reads."""
    out = {}
    for node in graph.nodes:
        op = get_operator(node.operator)
        if op.cacheable and not graph.incoming(node.id):
            fingerprint = op.fingerprint(ctx, op.parse_params(node.params))
            if fingerprint:
                out[node.id] = fingerprint
    return out


def cache_keys(graph: Graph, ctx: Context) -> dict[str, str | None]:
    """node id → cache key, or None for a node whose output must not be reused (an action, a
    connector reading an outside system, or anything downstream of one)."""
    keys: dict[str, str | None] = {}
    nodes = {n.id: n for n in graph.nodes}
    for node_id in graph.order():
        node = nodes[node_id]
        op = get_operator(node.operator)
        inputs = sorted((e.target_port, e.source_port, keys[e.source])
                        for e in graph.incoming(node_id))
        if not op.cacheable or any(key is None for _, _, key in inputs):
            keys[node_id] = None
            continue
        params = op.parse_params(node.params)
        payload = {"engine": ENGINE_CACHE_VERSION, "operator": op.name, "version": op.version,
                   "params": params.model_dump(mode="json"), "inputs": inputs,
                   "fingerprint": op.fingerprint(ctx, params)}
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        keys[node_id] = hashlib.sha256(canonical.encode()).hexdigest()
    return keys
