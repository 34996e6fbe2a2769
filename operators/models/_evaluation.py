"""Evaluating a trained model: its metrics on the training and test tables, k-fold
cross-validation and the importance of each input column."""
from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.inspection import permutation_importance

from ..base import Context, Schema, TrainedModel, require_columns
from ..tables import Table, as_table
from ._common import (
    Sample,
    TrainParams,
    bounded_sample,
    labelled,
    log_sample,
    model_columns,
    training_sample,
)
from .scoring import check_scoring_table

IMPORTANCES_SCHEMA: Schema = [{"name": "feature", "type": "str"},
                              {"name": "importance", "type": "float"}]
# Permutation importance predicts the table n_repeats times per column: a sample is enough.
_PERMUTATION_ROWS = 10_000
_PERMUTATION_REPEATS = 5

Scorer = Callable[[Any, pd.DataFrame, pd.Series], dict[str, float]]


@dataclass(frozen=True)
class Evaluation:
    metrics: pd.DataFrame
    importances: pd.DataFrame
    # The features and target of the test table, or of the training table without one.
    shown: tuple[pd.DataFrame, pd.Series]


def evaluate(ctx: Context, params: TrainParams, model: TrainedModel,
             train: pd.DataFrame | Table, test: pd.DataFrame | Table | None, *,
             score: Scorer, splitter: Callable[..., Any], metrics_schema: Schema,
             check_test: Callable[[pd.Series], None] | None = None,
             stratify: bool = False) -> Evaluation:
    """The metrics rows train (on the rows the model was fitted on: the training sample when
    the table was larger than ``max_training_rows``), test (when connected; on at most
    ``max_training_rows`` of its rows, sampled as the training table is) and, with
    ``cv_folds``, cv_mean and cv_std (``splitter`` folds of the training rows shuffled with
    the seed); the importances on the training rows. ``check_test`` checks the test table's
    target before it is scored. A metrics row's ``rows`` counts the rows it was computed on."""
    by = model.target if stratify else None
    fitted = training_sample(model, train, limit=params.max_training_rows, seed=params.seed,
                             stratify=by)
    X, y = labelled(model, "train", fitted.frame)
    rows = [{"dataset": "train", "rows": len(X), **score(model.estimator, X, y)}]
    shown = X, y
    if test is not None:
        tested = evaluation_sample(ctx, model, test, limit=params.max_training_rows,
                             seed=params.seed, stratify=by)
        shown = labelled(model, "test", tested.frame)
        if check_test is not None:
            check_test(shown[1])
        rows.append({"dataset": "test", "rows": len(shown[0]),
                     **score(model.estimator, *shown)})
    if params.cv_folds:
        folds = splitter(params.cv_folds, shuffle=True, random_state=params.seed)
        rows += cross_validate(ctx, model, X, y, folds, score)
    metrics = pd.DataFrame(rows, columns=[c["name"] for c in metrics_schema])
    return Evaluation(metrics, importances(model, X, y, params.seed), shown)


def evaluation_sample(ctx: Context, model: TrainedModel, test: pd.DataFrame | Table, *,
                      limit: int, seed: int, stratify: str | None) -> Sample:
    """The test table, or a seeded sample of ``limit`` of its rows when it is larger (logged):
    its features and target are checked first, so a missing column is named as such."""
    table = as_table(test)
    check_scoring_table(model, table.head(0), what="test table", field="features")
    require_columns(table.schema, [model.target], field="target")
    sample = bounded_sample(table, limit=limit, seed=seed, stratify=stratify,
                            columns=model_columns(model))
    log_sample(ctx, sample, "Evaluated", "test")
    return sample


def cross_validate(ctx: Context, model: TrainedModel, X: pd.DataFrame, y: pd.Series,
                   splitter: Any, score: Scorer) -> list[dict[str, Any]]:
    """The ``cv_mean`` and ``cv_std`` metrics rows: ``score`` of a fresh copy of the model's
    pipeline on each held-out fold, averaged; the std is numpy's (ddof=0) across folds.
    ``rows`` is the number of rows cross-validated."""
    folds = []
    n_folds = splitter.get_n_splits()
    for i, (fit_rows, held_out) in enumerate(splitter.split(X, y)):
        pipeline = clone(model.estimator)
        with warnings.catch_warnings():  # the model fitted on all rows logged them already
            warnings.simplefilter("ignore")
            pipeline.fit(X.iloc[fit_rows], y.iloc[fit_rows])
            folds.append(score(pipeline, X.iloc[held_out], y.iloc[held_out]))
        ctx.progress((i + 1) / n_folds)
    scores = pd.DataFrame(folds)
    return [{"dataset": "cv_mean", "rows": len(X), **scores.mean(skipna=False).to_dict()},
            {"dataset": "cv_std", "rows": len(X), **scores.std(ddof=0, skipna=False).to_dict()}]


def importances(model: TrainedModel, X: pd.DataFrame, y: pd.Series, seed: int) -> pd.DataFrame:
    """One row per feature column, most important first. From the estimator's
    ``feature_importances_`` (trees) or the mean ``|coef_|`` over classes (linear models, on
    standardised numbers), summed over the one-hot columns of each input column; estimators
    with neither (hist gradient boosting) get permutation importance on the training rows
    (mean drop of the model's score over 5 seeded shuffles of each column)."""
    pipeline, names = model.estimator, [c["name"] for c in model.features]
    final = pipeline[-1]
    values = getattr(final, "feature_importances_", None)
    if values is None and hasattr(final, "coef_"):
        values = np.abs(np.atleast_2d(final.coef_)).mean(axis=0)
    if values is not None:
        per_output = pd.Series(values, index=_origins(pipeline[0]), dtype=float)
        scores = per_output.groupby(level=0, sort=False).sum().reindex(names, fill_value=0.0)
    else:
        result = permutation_importance(
            pipeline, X, y, n_repeats=_PERMUTATION_REPEATS, random_state=seed,
            max_samples=min(1.0, _PERMUTATION_ROWS / len(X)))
        scores = pd.Series(result.importances_mean, index=names)
    frame = pd.DataFrame({"feature": names, "importance": scores.to_numpy(dtype=float)})
    return frame.sort_values("importance", ascending=False, kind="stable",
                             ignore_index=True)


def _origins(prepare: ColumnTransformer) -> list[str]:
    """The input column behind each output of the fitted ColumnTransformer, in the order of
    its get_feature_names_out: a number is one output (none if it was all missing and the
    imputer dropped it), a text column one output per category it had in training."""
    origins: list[str] = []
    for name, block, columns in prepare.transformers_:
        if isinstance(block, str):  # "drop"/"passthrough" remainder: no columns here
            continue
        kept = list(block[0].get_feature_names_out(columns))
        if name == "categorical":
            kept = [c for c, categories in zip(kept, block[-1].categories_, strict=True)
                    for _ in categories]
        origins += kept
    if len(origins) != len(prepare.get_feature_names_out()):
        raise RuntimeError("Could not map the model's inputs back to the table's columns.")
    return origins
