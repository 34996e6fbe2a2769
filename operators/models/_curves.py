"""ROC and precision-recall curves of a binary classifier, thinned to a bounded number of
points so they can be stored with the model version and drawn in the browser."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_curve

from ..base import Schema, TrainedModel
from ._common import probabilities_of

CURVES_SCHEMA: Schema = [
    {"name": "curve", "type": "str"}, {"name": "x", "type": "float"},
    {"name": "y", "type": "float"}, {"name": "threshold", "type": "float"},
    {"name": "area", "type": "float"},
]
MAX_POINTS = 200  # per curve: enough for a smooth line, small enough for the registry


def _thin(n: int) -> np.ndarray:
    """At most MAX_POINTS indices of ``n``, evenly spread, the first and last kept."""
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_POINTS).round().astype(int))


def _rows(curve: str, x: np.ndarray, y: np.ndarray, thresholds: np.ndarray,
          area: float) -> list[dict[str, object]]:
    keep = _thin(len(x))
    return [{"curve": curve, "x": float(x[i]), "y": float(y[i]),
             "threshold": float(thresholds[i]) if np.isfinite(thresholds[i]) else None,
             "area": area} for i in keep]


def binary_curves(model: TrainedModel, X: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """Rows of the ROC curve (x: false positive rate, y: true positive rate, area: AUC) and
    the precision-recall curve (x: recall, y: precision, area: average precision) of the
    positive class, the second of ``classes`` ("yes" of no/yes). Empty for more than two
    classes, or when ``y`` holds a single class (the curves are undefined)."""
    columns = [c["name"] for c in CURVES_SCHEMA]
    classes = list(model.classes)
    positive = y == classes[1] if len(classes) == 2 else None
    if positive is None or positive.nunique() < 2:
        return pd.DataFrame(columns=columns).astype(
            {"curve": object, "x": float, "y": float, "threshold": float, "area": float})
    score = probabilities_of(model.estimator, X)[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fpr, tpr, roc_t = roc_curve(positive, score)
        precision, recall, pr_t = precision_recall_curve(positive, score)
    auc = float(np.trapezoid(tpr, fpr))
    ap = float(average_precision_score(positive, score))
    # precision_recall_curve gives one threshold fewer than points (the last point has none).
    pr_t = np.append(pr_t, np.nan)
    rows = _rows("roc", fpr, tpr, roc_t, auc) + _rows("pr", recall[::-1], precision[::-1],
                                                      pr_t[::-1], ap)
    return pd.DataFrame(rows, columns=columns).astype({"threshold": float})
