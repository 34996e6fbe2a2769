"""What the version page draws besides the metrics: the confusion matrix, the features'
importance and, for two classes, the ROC and precision-recall curves. Read once, when the
version is registered, from the tables its node output, and kept bounded with the version."""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

from datagran.datasets.artifacts import artifact_store

MAX_CLASSES = 30      # a confusion matrix of more is not a grid anyone reads
MAX_FEATURES = 50     # the most important ones
MAX_CURVE_POINTS = 200


def _table(outputs: dict[str, dict[str, Any]], port: str) -> pd.DataFrame | None:
    ref = outputs.get(port)
    if not ref or ref.get("kind") != "table":
        return None
    return artifact_store().read_table(ref["hash"])


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def confusion(table: pd.DataFrame) -> dict[str, Any] | None:
    """{"labels": [...], "counts": [[actual × predicted]]} from (actual, predicted, count)."""
    if table.empty or not {"actual", "predicted", "count"} <= set(table.columns):
        return None
    labels = list(dict.fromkeys([_plain(v) for v in table["actual"]]
                                + [_plain(v) for v in table["predicted"]]))[:MAX_CLASSES]
    index = {label: i for i, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for actual, predicted, count in table[["actual", "predicted", "count"]].itertuples(
            index=False):
        i, j = index.get(_plain(actual)), index.get(_plain(predicted))
        if i is not None and j is not None:
            counts[i][j] += int(count)
    return {"labels": labels, "counts": counts}


def importances(table: pd.DataFrame) -> list[dict[str, Any]]:
    if table.empty or not {"feature", "importance"} <= set(table.columns):
        return []
    return [{"feature": str(f), "importance": _number(v) or 0.0}
            for f, v in table[["feature", "importance"]].head(MAX_FEATURES).itertuples(
                index=False)]


def curves(table: pd.DataFrame) -> dict[str, Any]:
    """{"roc": {"points": [[x, y], ...], "area": AUC}, "pr": {..., "area": AP}}."""
    found: dict[str, Any] = {}
    if table.empty or not {"curve", "x", "y", "area"} <= set(table.columns):
        return found
    for name, rows in table.groupby("curve", sort=False):
        points = [[_number(x) or 0.0, _number(y) or 0.0]
                  for x, y in rows[["x", "y"]].itertuples(index=False)][:MAX_CURVE_POINTS]
        found[str(name)] = {"points": points, "area": _number(rows["area"].iloc[0])}
    return found


def evaluation_of(outputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The evaluation of a model node's outputs: only what it output."""
    found: dict[str, Any] = {}
    table = _table(outputs, "confusion")
    if table is not None and (matrix := confusion(table)) is not None:
        found["confusion"] = matrix
    table = _table(outputs, "importances")
    if table is not None and (bars := importances(table)):
        found["importances"] = bars
    table = _table(outputs, "curves")
    if table is not None and (lines := curves(table)):
        found["curves"] = lines
    return found
