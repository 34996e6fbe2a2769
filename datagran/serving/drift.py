"""Population stability index per feature: served inputs against the training data."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PSI_WARNING = 0.2  # the usual rule of thumb: above 0.2 the population has shifted
EPSILON = 1e-4


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.clip(expected, EPSILON, None)
    a = np.clip(actual, EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


def feature_psi(train: pd.Series, served: pd.Series, bins: int = 10) -> float | None:
    train, served = train.dropna(), served.dropna()
    if train.empty or served.empty:
        return None
    if pd.api.types.is_numeric_dtype(train) and not pd.api.types.is_bool_dtype(train):
        served = pd.to_numeric(served, errors="coerce").dropna()
        if served.empty:
            return None
        edges = np.unique(np.quantile(train.to_numpy(dtype=float), np.linspace(0, 1, bins + 1)))
        if len(edges) < 2:
            return 0.0
        edges[0], edges[-1] = -np.inf, np.inf
        expected = np.histogram(train, edges)[0] / len(train)
        actual = np.histogram(served.to_numpy(dtype=float), edges)[0] / len(served)
        return _psi(expected, actual)
    categories = sorted(set(train.astype(str)) | set(served.astype(str)))
    expected = train.astype(str).value_counts(normalize=True).reindex(categories, fill_value=0)
    actual = served.astype(str).value_counts(normalize=True).reindex(categories, fill_value=0)
    return _psi(expected.to_numpy(), actual.to_numpy())


def drift_report(train: pd.DataFrame, served: pd.DataFrame) -> list[dict[str, Any]]:
    report = []
    for column in train.columns:
        if column not in served.columns:
            continue
        psi = feature_psi(train[column], served[column])
        report.append({"feature": column, "psi": None if psi is None else round(psi, 4),
                       "warning": psi is not None and psi > PSI_WARNING})
    return sorted(report, key=lambda r: -(r["psi"] or 0))
