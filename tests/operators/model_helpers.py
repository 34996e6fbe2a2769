"""Helpers shared by the tests of the model trainers: running one, and the plain
scikit-learn script a data scientist would write, which the trainers must match exactly."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from operators import LocalContext, OperatorError, get_operator, schema_of

Train = Callable[..., dict[str, Any]]


def count_transforms(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """From now on, the rows of each call of scikit-learn's ColumnTransformer.transform (a
    model's preprocessing when its numpy plan does not do it)."""
    calls: list[int] = []
    original = ColumnTransformer.transform

    def counted(self: Any, X: Any, **params: Any) -> Any:
        calls.append(len(X))
        return original(self, X, **params)

    monkeypatch.setattr(ColumnTransformer, "transform", counted)
    return calls


def trainer(name: str, target: str, small: pd.DataFrame) -> Train:
    """``train(table=small, test=None, ctx=None, **params)``: runs the operator ``name``
    with ``target`` unless the params name another."""
    op = get_operator(name)

    def train(table: pd.DataFrame = small, test: pd.DataFrame | None = None,
              ctx: LocalContext | None = None, **raw: Any) -> dict[str, Any]:
        params = op.parse_params({"target": target, **raw})
        inputs = {"train": table} if test is None else {"train": table, "test": test}
        return op.run(ctx or LocalContext(), params, **inputs)

    return train


def column_kinds(table: pd.DataFrame, target: str) -> tuple[list[str], list[str], list[str]]:
    """Every column but ``target``, then the numeric ones, then the others."""
    features = [c for c in table.columns if c != target]
    numeric = [c for c in features if table[c].dtype.kind in "if"]
    return features, numeric, [c for c in features if c not in numeric]


def script_pipeline(numeric: list[str], categorical: list[str], estimator: Any, *,
                    dense: bool) -> Pipeline:
    """What a data scientist would write in a plain script around ``estimator``; ``dense``
    for hist gradient boosting, which refuses the sparse matrix one-hot columns may give."""
    steps = []
    if numeric:
        steps.append(("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                      numeric))
    if categorical:
        steps.append(("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                           OneHotEncoder(handle_unknown="ignore")), categorical))
    return Pipeline([("prep", ColumnTransformer(steps, sparse_threshold=0 if dense else 0.3)),
                     ("model", estimator)])


def assert_rejected(name: str, raw: dict[str, Any], table: pd.DataFrame, field: str) -> None:
    """The operator refuses ``raw`` on ``table`` naming ``field``: when the graph is saved
    (from the table's schema) and again when it runs."""
    op = get_operator(name)
    params = op.parse_params(raw)
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, train=schema_of(table))
    assert err.value.field == field
    with pytest.raises(OperatorError) as err:
        op.run(LocalContext(), params, train=table)
    assert err.value.field == field
