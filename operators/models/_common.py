"""What the model operators share: their common params, choosing features, the one
preprocessing, fitting, the model port's schema and the checks on labelled tables.

Every model is one scikit-learn Pipeline ``[("prepare", preprocessor(...)), (step, estimator)]``
so serving runs exactly the steps training ran.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, Protocol

import pandas as pd
from pydantic import AfterValidator, Field
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import ThreadpoolController

from ..base import (
    Context,
    OperatorError,
    Schema,
    TrainedModel,
    column_field,
    require_columns,
    schema_of,
)
from .scoring import check_scoring_table

NUMERIC = ("int", "float")


def _not_one_fold(value: int) -> int:
    if value == 1:
        raise ValueError("use 0 for no cross-validation or 2 to 20 folds")
    return value


# 0 turns cross-validation off; one fold would leave nothing to train on.
CvFolds = Annotated[int, Field(ge=0, le=20), AfterValidator(_not_one_fold)]


class TrainParams(Protocol):
    """The params every supervised trainer has."""

    @property
    def target(self) -> str: ...
    @property
    def features(self) -> list[str]: ...
    @property
    def algorithm(self) -> str: ...
    @property
    def n_estimators(self) -> int: ...
    @property
    def max_depth(self) -> int | None: ...
    @property
    def learning_rate(self) -> float: ...
    @property
    def cv_folds(self) -> int: ...
    @property
    def seed(self) -> int: ...


def target_field(description: str) -> Any:
    return column_field(..., port="train", description=description)


def features_field(port: str) -> Any:
    # x-columns-except: the form never offers the target as a feature ("All" leaves it out);
    # select_features refuses it when the graph is checked.
    return column_field([], port=port, json_schema_extra={"x-columns-except": "target"},
                        description="Columns to learn from; empty means all other columns.")


# The tree ensembles' settings; each trainer says which of its algorithms use them.
def n_estimators_field(description: str) -> Any:
    return Field(100, ge=1, le=2000, description=description)


def max_depth_field(description: str) -> Any:
    return Field(None, ge=1, description=description)


def learning_rate_field(description: str) -> Any:
    return Field(0.1, gt=0, le=1, description=description)


def random_forest(forest: type, params: TrainParams) -> Any:
    # n_jobs=1: workers are the unit of parallelism (see one_thread).
    return forest(n_estimators=params.n_estimators, max_depth=params.max_depth,
                  random_state=params.seed, n_jobs=1)


def hist_gradient_boosting(booster: type, params: TrainParams) -> Any:
    # Its boosting rounds are max_iter; n_estimators names them for every ensemble.
    return booster(max_iter=params.n_estimators, learning_rate=params.learning_rate,
                   max_depth=params.max_depth, random_state=params.seed)


def cv_folds_field() -> Any:
    return Field(0, description="Cross-validate on the training table with this many folds "
                 "(2 to 20) and add cv_mean and cv_std rows to the metrics; 0 for none.")


def seed_field() -> Any:
    return Field(42, description="Random seed: the same seed gives the same model.")


MODEL_NAME_MAX = 200


def model_name_field() -> Any:
    return Field("", max_length=MODEL_NAME_MAX, description=(
        "The name the model registry shows for the model this node trains; empty: the "
        "pipeline's name and this node's label. Renaming it, the node or the pipeline keeps "
        "one model: its versions and aliases stay."))


def select_features(schema: Schema, features: list[str], target: str | None) -> list[str]:
    """The feature names after checking ``target`` and ``features`` against ``schema``; no
    features means every column but the target."""
    if target is not None:
        require_columns(schema, [target], field="target")
        if target in features:
            raise OperatorError(f"The target {target!r} cannot also be a feature.",
                                field="features")
    chosen = features or [c["name"] for c in schema if c["name"] != target]
    require_columns(schema, chosen, field="features")
    if not chosen:
        raise OperatorError("There is no column to learn from besides the target.",
                            field="features")
    dates = [c["name"] for c in schema if c["name"] in chosen and c["type"] == "datetime"]
    if dates:
        raise OperatorError(f"Date columns cannot be features: {', '.join(dates)}.",
                            field="features")
    return chosen


def preprocessor(features: Schema, *, dense: bool = False) -> ColumnTransformer:
    """Numbers: median for missing values, then standardised. Anything else: the most
    frequent value for missing ones, then one-hot (a category unseen in training is all
    zeros). ``dense`` for estimators that refuse sparse input (hist gradient boosting)."""
    numeric = [c["name"] for c in features if c["type"] in NUMERIC]
    categorical = [c["name"] for c in features if c["type"] not in NUMERIC]
    # Scaling is needed by linear models and k-means and changes nothing for trees.
    steps: list[tuple[str, Any, list[str]]] = []
    if numeric:
        steps.append(("numeric", make_pipeline(
            SimpleImputer(strategy="median"), StandardScaler()), numeric))
    if categorical:
        steps.append(("categorical", make_pipeline(
            SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
            categorical))
    return ColumnTransformer(steps, sparse_threshold=0 if dense else 0.3)


@cache
def _openmp() -> ThreadpoolController:
    # Looked up once: finding the loaded libraries takes milliseconds, limiting them does not.
    return ThreadpoolController().select(user_api="openmp")


def one_thread() -> Any:
    """A context in which OpenMP code (hist gradient boosting, k-means) runs on the calling
    thread only, as the forests run with n_jobs=1: workers are the unit of parallelism, and
    OpenMP threads spinning on a busy machine made a fit ten times slower. Results do not
    change."""
    return _openmp().limit(limits=1)


def fit_logged(ctx: Context, pipeline: Any, X: pd.DataFrame, y: pd.Series | None = None) -> None:
    """Fit, logging scikit-learn's warnings (e.g. "did not converge") once each: worth
    showing, not worth failing."""
    with warnings.catch_warnings(record=True) as caught, one_thread():
        warnings.simplefilter("always")
        pipeline.fit(X, y)
    for message in dict.fromkeys(str(w.message) for w in caught):
        ctx.log(f"Warning: {message}")


def fit_trainer(ctx: Context, params: TrainParams, train: pd.DataFrame, step: str,
                estimator: Any, check_target: Callable[[pd.Series], None]
                ) -> tuple[Pipeline, Schema]:
    """Check the training table and its target, then fit the model's Pipeline
    ``[("prepare", preprocessor(...)), (step, estimator)]`` on it; return the fitted
    pipeline and the schema of its feature columns."""
    features = select_features(schema_of(train), params.features, params.target)
    check_not_empty(train, "training")
    y = train[params.target]
    check_target(y)
    feature_schema = schema_of(train[features])
    dense = params.algorithm == "hist_gradient_boosting"  # it refuses sparse input
    pipeline = Pipeline([("prepare", preprocessor(feature_schema, dense=dense)),
                         (step, estimator)])
    fit_logged(ctx, pipeline, train[features], y)
    ctx.log(f"Trained {params.algorithm} on {len(train)} rows, {len(features)} features.")
    return pipeline, feature_schema


def check_not_empty(table: pd.DataFrame, what: str) -> None:
    if table.empty:
        raise OperatorError(f"The {what} table is empty.")


def check_complete(y: pd.Series, target: str, what: str) -> None:
    missing = int(y.isna().sum())
    if missing:
        raise OperatorError(
            f"Target {target!r} has {missing} missing value(s) in the {what} table; "
            "filter them out first.",
            field="target",
        )


def labelled(model: TrainedModel, what: str, table: pd.DataFrame
             ) -> tuple[pd.DataFrame, pd.Series]:
    """The features and target of a table to evaluate ``model`` on, after checking them."""
    check_not_empty(table, what)
    features = check_scoring_table(model, table, what=f"{what} table", field="features")
    require_columns(schema_of(table), [model.target], field="target")
    y = table[model.target]
    check_complete(y, model.target, what)
    return table[features], y


def model_port_schema(train: Schema, features: list[str], target: str,
                      task: str) -> Schema:
    """A model port's schema: the feature columns, then the target (always last). A
    regressor's target column also carries ``"task": "regression"``, which tells
    ``model.predict`` to announce a float prediction and no probability; a target column
    without ``task`` is a classifier's (and a model whose schema is unknown is treated as one)."""
    by_name = {c["name"]: c for c in train}
    target_column = dict(by_name[target])
    if task == "regression":
        target_column["task"] = "regression"
    return [by_name[f] for f in features] + [target_column]


def trained_schema(params: TrainParams, train: Schema | None, task: str) -> Schema | None:
    """A trainer's model port schema; None while the training table's schema is unknown."""
    if train is None:
        return None
    features = select_features(train, params.features, params.target)
    return model_port_schema(train, features, params.target, task)


def check_test_schema(params: TrainParams, test: Schema | None, model: Schema | None) -> None:
    """A test table, where its schema is known, has the model's features (the chosen ones
    while the model's are unknown) and the target."""
    features = params.features if model is None else [c["name"] for c in model[:-1]]
    require_columns(test, features, field="features")
    require_columns(test, [params.target], field="target")


def task_of(model_schema: Schema | None) -> str:
    if model_schema and model_schema[-1].get("task") == "regression":
        return "regression"
    return "classification"
