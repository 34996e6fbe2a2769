"""Train a regressor: one scikit-learn Pipeline from raw columns to a predicted number.

Its ``model`` port's schema is the feature columns followed by the target, like a
classifier's; the target column also carries ``"task": "regression"`` (see
``_common.model_port_schema``).
"""
from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from pydantic import Field
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline

from ..base import (
    Context,
    Operator,
    OperatorError,
    Params,
    Port,
    Schema,
    TrainedModel,
    column_field,
    column_type,
    require_columns,
    schema_of,
)
from ..registry import register
from ._common import (
    NUMERIC,
    CvFolds,
    check_complete,
    check_not_empty,
    cv_folds_field,
    features_field,
    fit_logged,
    labelled,
    model_port_schema,
    one_thread,
    preprocessor,
    seed_field,
    select_features,
)
from ._evaluation import IMPORTANCES_SCHEMA, cross_validate, importances

METRICS_SCHEMA: Schema = [
    {"name": "dataset", "type": "str"}, {"name": "rows", "type": "int"},
    {"name": "rmse", "type": "float"}, {"name": "mae", "type": "float"},
    {"name": "r2", "type": "float"},
]


class TrainRegressorParams(Params):
    target: str = column_field(..., port="train", description="The column of numbers to "
                               "predict.")
    features: list[str] = features_field("train")
    algorithm: Literal["linear_regression", "ridge", "random_forest",
                       "hist_gradient_boosting"] = Field(
        "random_forest", description="Random forest is a robust default; linear regression "
        "and ridge (linear with regularisation) are simpler and easier to explain; hist "
        "gradient boosting is often the most accurate and fast on large tables."
    )
    n_estimators: int = Field(100, ge=1, le=2000, description="Random forest: number of "
                              "trees; hist gradient boosting: boosting rounds.")
    max_depth: int | None = Field(None, ge=1, description="Random forest and hist gradient "
                                  "boosting: deepest a tree may grow; empty for no limit.")
    learning_rate: float = Field(0.1, gt=0, le=1, description="Hist gradient boosting: how "
                                 "much each tree corrects the ones before.")
    alpha: float = Field(1.0, ge=0, description="Ridge: larger values mean stronger "
                         "regularisation.")
    cv_folds: CvFolds = cv_folds_field()
    seed: int = seed_field()


def _regressor(params: TrainRegressorParams) -> Any:
    if params.algorithm == "linear_regression":
        return LinearRegression()
    if params.algorithm == "ridge":
        return Ridge(alpha=params.alpha, random_state=params.seed)
    if params.algorithm == "hist_gradient_boosting":
        return HistGradientBoostingRegressor(
            max_iter=params.n_estimators, learning_rate=params.learning_rate,
            max_depth=params.max_depth, random_state=params.seed)
    return RandomForestRegressor(n_estimators=params.n_estimators, max_depth=params.max_depth,
                                 random_state=params.seed, n_jobs=1)


def _pipeline(params: TrainRegressorParams, features: Schema) -> Pipeline:
    dense = params.algorithm == "hist_gradient_boosting"  # it refuses sparse input
    return Pipeline([("prepare", preprocessor(features, dense=dense)),
                     ("regress", _regressor(params))])


def _require_numbers(target: str, type_name: str) -> None:
    if type_name not in NUMERIC:
        raise OperatorError(
            f"Target {target!r} holds {type_name} values, not numbers; a regressor predicts "
            "numbers (train a classifier for categories).", field="target")


def _check_target(y: pd.Series, params: TrainRegressorParams) -> None:
    check_complete(y, params.target, "train")
    _require_numbers(params.target, column_type(y.dtype))
    if y.nunique() < 2:
        raise OperatorError(f"Target {params.target!r} has a single value ({y.iloc[0]!r}); "
                            "there is nothing to learn.", field="target")
    if params.cv_folds and len(y) < 2 * params.cv_folds:
        raise OperatorError(
            f"{params.cv_folds}-fold cross-validation needs at least {2 * params.cv_folds} "
            f"rows (two per fold); the training table has {len(y)}.", field="cv_folds")


def _scores(estimator: Any, X: pd.DataFrame, y: pd.Series) -> dict[str, float]:
    predicted = estimator.predict(X)
    # r2 is undefined (NaN) on fewer than two rows.
    r2 = float(r2_score(y, predicted)) if len(y) > 1 else float("nan")
    return {"rmse": float(root_mean_squared_error(y, predicted)),
            "mae": float(mean_absolute_error(y, predicted)), "r2": r2}


@register
class TrainRegressor(Operator):
    """Learns to predict a number (a price, a spend, a duration) from the other columns.

    Example: ``{"target": "monthly_spend", "features": ["plan", "tenure_months"],
    "algorithm": "random_forest"}``; connect the split's ``test`` output to get test metrics.
    Missing numbers are filled with the median, missing text with the most frequent value;
    numbers are standardised and text one-hot encoded, as for the classifier.

    ``metrics`` has the columns dataset, rows, rmse, mae and r2, and a row per dataset:
    train, test (when connected), and with ``cv_folds`` cv_mean and cv_std (folds of the
    training table, shuffled with the seed). ``importances`` gives each feature's
    importance, most important first: tree importances, or the absolute coefficient on
    standardised inputs (linear regression, ridge), summed over a text column's categories;
    permutation importance on the training rows for hist gradient boosting.
    ``model.predict`` adds a float ``prediction`` column for this model, no probability.
    """

    name = "model.train_regressor"
    label = "Train regressor"
    description = "Train a model that predicts a number, such as next month's spend."
    category = "model"
    icon = "trending-up"
    keywords = ("train", "regressor", "regression", "model", "random forest", "ridge",
                "linear regression", "gradient boosting", "forecast", "machine learning", "fit")
    inputs = (Port("train", "table"), Port("test", "table", optional=True))
    outputs = (Port("model", "model"), Port("metrics", "table"), Port("importances", "table"))
    Params = TrainRegressorParams

    def fit(self, ctx: Context, params: TrainRegressorParams, train: pd.DataFrame,
            test: pd.DataFrame | None = None) -> TrainedModel:
        features = select_features(schema_of(train), params.features, params.target)
        check_not_empty(train, "training")
        y = train[params.target]
        _check_target(y, params)
        feature_schema = schema_of(train[features])
        pipeline = _pipeline(params, feature_schema)
        fit_logged(ctx, pipeline, train[features], y)
        ctx.log(f"Trained {params.algorithm} on {len(train)} rows, {len(features)} features.")
        return TrainedModel(estimator=pipeline, features=feature_schema, target=params.target,
                            task="regression", classes=[], algorithm=params.algorithm)

    def apply(self, ctx: Context, params: TrainRegressorParams, state: TrainedModel,
              train: pd.DataFrame, test: pd.DataFrame | None = None) -> dict[str, Any]:
        with one_thread():  # the scores, folds and importances predict a lot
            X, y = labelled(state, "train", train)
            rows = [{"dataset": "train", "rows": len(X), **_scores(state.estimator, X, y)}]
            if test is not None:
                X_test, y_test = labelled(state, "test", test)
                _require_numbers(state.target, column_type(y_test.dtype))
                rows.append({"dataset": "test", "rows": len(X_test),
                             **_scores(state.estimator, X_test, y_test)})
            if params.cv_folds:
                folds = KFold(params.cv_folds, shuffle=True, random_state=params.seed)
                rows += cross_validate(ctx, state, X, y, folds, _scores)
            metrics = pd.DataFrame(rows, columns=[c["name"] for c in METRICS_SCHEMA])
            return {"model": state, "metrics": metrics,
                    "importances": importances(state, X, y, params.seed)}

    def infer_schema(self, ctx: Context, params: TrainRegressorParams,
                     train: Schema | None = None,
                     test: Schema | None = None) -> dict[str, Schema | None]:
        model = None
        if train is not None:
            features = select_features(train, params.features, params.target)
            model = model_port_schema(train, features, params.target, "regression")
            _require_numbers(params.target, model[-1]["type"])
            require_columns(test, features, field="features")
        else:
            require_columns(test, params.features, field="features")
        require_columns(test, [params.target], field="target")
        return {"model": model, "metrics": list(METRICS_SCHEMA),
                "importances": list(IMPORTANCES_SCHEMA)}
