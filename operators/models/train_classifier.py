"""Train a classifier: one scikit-learn Pipeline from raw columns to predicted classes.

The ``model`` port's schema is the training table's feature columns followed by the target
(the target is always the last column); ``model.predict`` relies on that order.
"""
from __future__ import annotations

import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, precision_recall_fscore_support
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.multiclass import type_of_target

from ..base import (
    Context,
    Operator,
    OperatorError,
    Params,
    Port,
    Schema,
    TrainedModel,
    column_field,
    require_columns,
    schema_of,
)
from ..registry import register
from .scoring import check_scoring_table

METRICS_SCHEMA: Schema = [
    {"name": "dataset", "type": "str"}, {"name": "rows", "type": "int"},
    {"name": "accuracy", "type": "float"}, {"name": "precision", "type": "float"},
    {"name": "recall", "type": "float"}, {"name": "f1", "type": "float"},
]


class TrainClassifierParams(Params):
    target: str = column_field(..., port="train", description="The column of classes to predict.")
    features: list[str] = column_field(
        [], port="train", description="Columns to learn from; empty means all other columns."
    )
    algorithm: Literal["logistic_regression", "random_forest"] = Field(
        "random_forest", description="Random forest is a robust default; logistic regression "
        "is simpler and easier to explain."
    )
    n_estimators: int = Field(100, ge=1, le=2000, description="Random forest: number of trees.")
    max_depth: int | None = Field(
        None, ge=1, description="Random forest: deepest a tree may grow; empty for no limit."
    )
    C: float = Field(
        1.0, gt=0, description="Logistic regression: smaller values mean stronger regularisation."
    )
    max_iter: int = Field(1000, ge=1, description="Logistic regression: solver iterations.")
    seed: int = Field(42, description="Random seed: the same seed gives the same model.")


def _features(params: TrainClassifierParams, schema: Schema) -> list[str]:
    """The feature names after checking target and features against ``schema``."""
    require_columns(schema, [params.target], field="target")
    if params.target in params.features:
        raise OperatorError(
            f"The target {params.target!r} cannot also be a feature.", field="features"
        )
    features = params.features or [c["name"] for c in schema if c["name"] != params.target]
    require_columns(schema, features, field="features")
    if not features:
        raise OperatorError("There is no column to learn from besides the target.",
                            field="features")
    dates = [c["name"] for c in schema if c["name"] in features and c["type"] == "datetime"]
    if dates:
        raise OperatorError(
            f"Date columns cannot be features: {', '.join(dates)}.", field="features"
        )
    return features


def _pipeline(params: TrainClassifierParams, features: Schema) -> Pipeline:
    numeric = [c["name"] for c in features if c["type"] in ("int", "float")]
    categorical = [c["name"] for c in features if c["type"] not in ("int", "float")]
    # Scaling is needed by logistic regression and changes nothing for trees: one shape for both.
    steps: list[tuple[str, Any, list[str]]] = []
    if numeric:
        steps.append(("numeric", make_pipeline(
            SimpleImputer(strategy="median"), StandardScaler()), numeric))
    if categorical:
        steps.append(("categorical", make_pipeline(
            SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
            categorical))
    if params.algorithm == "logistic_regression":
        # No n_jobs: it has no effect on LogisticRegression since scikit-learn 1.8.
        classifier: Any = LogisticRegression(
            C=params.C, max_iter=params.max_iter, random_state=params.seed)
    else:
        classifier = RandomForestClassifier(
            n_estimators=params.n_estimators, max_depth=params.max_depth,
            random_state=params.seed, n_jobs=1)
    return Pipeline([("prepare", ColumnTransformer(steps)), ("classify", classifier)])


def _check_target(y: pd.Series, target: str, what: str) -> None:
    missing = int(y.isna().sum())
    if missing:
        raise OperatorError(
            f"Target {target!r} has {missing} missing value(s) in the {what} table; "
            "filter them out first.",
            field="target",
        )


def _evaluate(model: TrainedModel, what: str, table: pd.DataFrame) -> dict[str, Any]:
    if table.empty:
        raise OperatorError(f"The {what} table is empty.")
    features = check_scoring_table(model, table, what=f"{what} table", field="features")
    require_columns(schema_of(table), [model.target], field="target")
    y = table[model.target]
    _check_target(y, model.target, what)
    predicted = model.estimator.predict(table[features])
    precision, recall, f1, _ = precision_recall_fscore_support(
        y, predicted, average="macro", zero_division=0)
    return {"dataset": what, "rows": len(table), "accuracy": float(accuracy_score(y, predicted)),
            "precision": float(precision), "recall": float(recall), "f1": float(f1)}


@register
class TrainClassifier(Operator):
    """Learns to predict a column of classes from the other columns.

    Example: ``{"target": "churned", "features": ["plan", "tenure_months", "monthly_spend"],
    "algorithm": "random_forest"}``; connect the split's ``test`` output to get test metrics.
    Missing numbers are filled with the median, missing text with the most frequent value.
    """

    name = "model.train_classifier"
    label = "Train classifier"
    description = "Train a model that predicts a category, such as churned yes/no."
    category = "model"
    icon = "brain"
    keywords = ("train", "classifier", "classification", "model", "random forest",
                "logistic regression", "machine learning", "fit")
    inputs = (Port("train", "table"), Port("test", "table", optional=True))
    outputs = (Port("model", "model"), Port("metrics", "table"))
    Params = TrainClassifierParams

    def fit(self, ctx: Context, params: TrainClassifierParams, train: pd.DataFrame,
            test: pd.DataFrame | None = None) -> TrainedModel:
        features = _features(params, schema_of(train))
        if train.empty:
            raise OperatorError("The training table is empty.")
        y = train[params.target]
        _check_target(y, params.target, "train")
        if y.dtype.kind == "M" or type_of_target(y) == "continuous":
            raise OperatorError(
                f"Target {params.target!r} holds measurements, not classes; choose a column "
                "of categories.", field="target")
        if y.nunique() < 2:
            raise OperatorError(
                f"Target {params.target!r} has a single class ({y.iloc[0]!r}); a classifier "
                "needs at least two.", field="target")
        feature_schema = schema_of(train[features])
        pipeline = _pipeline(params, feature_schema)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pipeline.fit(train[features], y)
        for w in caught:  # e.g. "did not converge": worth showing, not worth failing
            ctx.log(f"Warning: {w.message}")
        classes = [c.item() if isinstance(c, np.generic) else c for c in pipeline.classes_]
        ctx.log(f"Trained {params.algorithm} on {len(train)} rows, {len(features)} features.")
        return TrainedModel(estimator=pipeline, features=feature_schema, target=params.target,
                            classes=classes, algorithm=params.algorithm)

    def apply(self, ctx: Context, params: TrainClassifierParams, state: TrainedModel,
              train: pd.DataFrame, test: pd.DataFrame | None = None) -> dict[str, Any]:
        rows = [_evaluate(state, "train", train)]
        if test is not None:
            rows.append(_evaluate(state, "test", test))
        metrics = pd.DataFrame(rows, columns=[c["name"] for c in METRICS_SCHEMA])
        return {"model": state, "metrics": metrics}

    def infer_schema(self, ctx: Context, params: TrainClassifierParams,
                     train: Schema | None = None,
                     test: Schema | None = None) -> dict[str, Schema | None]:
        model = None
        if train is not None:
            features = _features(params, train)
            by_name = {c["name"]: c for c in train}
            model = [by_name[f] for f in features] + [by_name[params.target]]
            require_columns(test, features, field="features")
        else:
            require_columns(test, params.features, field="features")
        require_columns(test, [params.target], field="target")
        return {"model": model, "metrics": list(METRICS_SCHEMA)}
