"""Tiny graphs for tests: the good ones and the bad cases beside them."""
from __future__ import annotations

from typing import Any


def node(node_id: str, operator: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "operator": operator, "params": params,
            "position": {"x": 0, "y": 0}}


def edge(source: str, source_port: str, target: str, target_port: str) -> dict[str, str]:
    return {"source": source, "source_port": source_port, "target": target,
            "target_port": target_port}


def classifier_graph(dataset: str = "iris", target: str = "target",
                     algorithm: str = "random_forest") -> dict[str, Any]:
    """sample → split → train → predict → export: five nodes, the skeleton's reference."""
    return {
        "nodes": [
            node("data", "connector.sample_dataset", dataset=dataset),
            node("split", "transform.split", test_size=0.3, seed=42, stratify=target),
            node("train", "model.train_classifier", target=target, algorithm=algorithm,
                 seed=42),
            node("predict", "model.predict"),
            node("export", "action.export_file", format="csv", filename="predictions"),
        ],
        "edges": [
            edge("data", "table", "split", "table"),
            edge("split", "train", "train", "train"),
            edge("split", "test", "train", "test"),
            edge("train", "model", "predict", "model"),
            edge("split", "test", "predict", "table"),
            edge("predict", "table", "export", "table"),
        ],
    }


def chain_graph() -> dict[str, Any]:
    return {
        "nodes": [node("a", "connector.sample_dataset", dataset="iris"),
                  node("b", "transform.select_columns", columns=["sepal_length", "target"])],
        "edges": [edge("a", "table", "b", "table")],
    }
