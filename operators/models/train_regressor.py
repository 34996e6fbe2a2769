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

from ..base import (
    Context,
    Operator,
    OperatorError,
    Params,
    Port,
    Schema,
    TrainedModel,
    column_type,
)
from ..tables import Table
from ._common import (
    NUMERIC,
    CvFolds,
    check_complete,
    check_test_schema,
    cv_folds_field,
    features_field,
    fit_trainer,
    hist_gradient_boosting,
    learning_rate_field,
    max_depth_field,
    max_training_rows_field,
    model_name_field,
    n_estimators_field,
    one_thread,
    random_forest,
    seed_field,
    target_field,
    trained_schema,
)
from ._evaluation import IMPORTANCES_SCHEMA, evaluate

METRICS_SCHEMA: Schema = [
    {"name": "dataset", "type": "str"}, {"name": "rows", "type": "int"},
    {"name": "rmse", "type": "float"}, {"name": "mae", "type": "float"},
    {"name": "r2", "type": "float"},
]


class TrainRegressorParams(Params):
    target: str = target_field("The column of numbers to predict.")
    features: list[str] = features_field("train")
    algorithm: Literal["linear_regression", "ridge", "random_forest",
                       "hist_gradient_boosting"] = Field(
        "random_forest", description="Random forest is a robust default; linear regression "
        "and ridge (linear with regularisation) are simpler and easier to explain; hist "
        "gradient boosting is often the most accurate and fast on large tables."
    )
    n_estimators: int = n_estimators_field(
        "Random forest: number of trees; hist gradient boosting: boosting rounds.")
    max_depth: int | None = max_depth_field(
        "Random forest and hist gradient boosting: deepest a tree may grow; empty for no "
        "limit.")
    learning_rate: float = learning_rate_field(
        "Hist gradient boosting: how much each tree corrects the ones before.")
    alpha: float = Field(1.0, ge=0, description="Ridge: larger values mean stronger "
                         "regularisation.")
    cv_folds: CvFolds = cv_folds_field()
    seed: int = seed_field()
    max_training_rows: int = max_training_rows_field(stratified=False)
    model_name: str = model_name_field()


def _regressor(params: TrainRegressorParams) -> Any:
    if params.algorithm == "linear_regression":
        return LinearRegression()
    if params.algorithm == "ridge":
        return Ridge(alpha=params.alpha, random_state=params.seed)
    if params.algorithm == "hist_gradient_boosting":
        return hist_gradient_boosting(HistGradientBoostingRegressor, params)
    return random_forest(RandomForestRegressor, params)


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

    A training table larger than ``max_training_rows`` is fitted on a seeded sample of that
    many rows, the same rows on every engine; the log says so, the train metrics are of
    those rows, and the model's registry lineage records it. A larger test table is
    evaluated on a sample of as many rows, chosen the same way.
    """

    name = "model.train_regressor"
    version = "2"  # 2: a table past max_training_rows is sampled by the columns it reads
    label = "Train regressor"
    description = "Train a model that predicts a number, such as next month's spend."
    category = "model"
    icon = "trending-up"
    keywords = ("train", "regressor", "regression", "model", "random forest", "ridge",
                "linear regression", "gradient boosting", "forecast", "machine learning", "fit")
    lazy_inputs = True
    inputs = (Port("train", "table"), Port("test", "table", optional=True))
    outputs = (Port("model", "model"), Port("metrics", "table"), Port("importances", "table"))
    Params = TrainRegressorParams
    example = {"target": "monthly_spend",
               "features": ["plan", "tenure_months"],
               "algorithm": "random_forest"}

    def fit(self, ctx: Context, params: TrainRegressorParams, train: pd.DataFrame | Table,
            test: pd.DataFrame | Table | None = None) -> TrainedModel:
        model, _ = fit_trainer(ctx, params, train, "regress", _regressor(params),
                               lambda y: _check_target(y, params), stratify=False)
        model.task = "regression"
        return model

    def apply(self, ctx: Context, params: TrainRegressorParams, state: TrainedModel,
              train: pd.DataFrame | Table, test: pd.DataFrame | Table | None = None
              ) -> dict[str, Any]:
        with one_thread():  # the scores, folds and importances predict a lot
            result = evaluate(
                ctx, params, state, train, test, score=_scores, splitter=KFold,
                metrics_schema=METRICS_SCHEMA,
                check_test=lambda y: _require_numbers(state.target, column_type(y.dtype)))
        return {"model": state, "metrics": result.metrics, "importances": result.importances}

    def infer_schema(self, ctx: Context, params: TrainRegressorParams,
                     train: Schema | None = None,
                     test: Schema | None = None) -> dict[str, Schema | None]:
        model = trained_schema(params, train, "regression")
        if model is not None:
            _require_numbers(params.target, model[-1]["type"])
        check_test_schema(params, test, model)
        return {"model": model, "metrics": list(METRICS_SCHEMA),
                "importances": list(IMPORTANCES_SCHEMA)}
