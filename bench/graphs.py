"""What the benchmarks' pipelines are built from: nodes, edges, and the pass-through graphs
(a chain, a fan-out) with the same operator calls in a plain loop as their baseline."""
from __future__ import annotations

import time

PASS_THROUGH = ("transform.select_columns", {"columns": ["sepal_length", "target"]})


def node(node_id: str, operator: str, **params: object) -> dict:
    return {"id": node_id, "operator": operator, "params": params}


def edge(source: str, target: str, port: str = "table", source_port: str = "table") -> dict:
    return {"source": source, "source_port": source_port, "target": target,
            "target_port": port}


def pass_through(n: int, *, chain: bool) -> dict:
    """A source (n0) and n pass-through nodes (n1..n): each fed by the one before (a chain)
    or all by the source (a fan-out)."""
    operator, params = PASS_THROUGH
    nodes = [node("n0", "connector.sample_dataset", dataset="iris")]
    nodes += [node(f"n{i}", operator, **params) for i in range(1, n + 1)]
    edges = [edge(f"n{i - 1}" if chain else "n0", f"n{i}") for i in range(1, n + 1)]
    return {"nodes": nodes, "edges": edges}


def plain_pass_through(n: int, *, chain: bool) -> float:
    """Seconds for the same n operator calls in a plain loop, without Datagran."""
    from operators import LocalContext, get_operator

    ctx, t = LocalContext(), time.perf_counter()
    source = get_operator("connector.sample_dataset")
    table = first = source.run(ctx, source.parse_params({"dataset": "iris"}))["table"]
    op = get_operator(PASS_THROUGH[0])
    params = op.parse_params(PASS_THROUGH[1])
    for _ in range(n):
        table = op.run(ctx, params, table=table if chain else first)["table"]
    return time.perf_counter() - t
