from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error
from sklearn.model_selection import KFold, train_test_split
from sklearn.pipeline import Pipeline

from operators import LocalContext, OperatorError, TrainedModel, get_operator, schema_of
from operators.connectors.sample import load_sample

from .model_helpers import assert_rejected, column_kinds, script_pipeline, trainer

op = get_operator("model.train_regressor")
METRIC_COLUMNS = ["dataset", "rows", "rmse", "mae", "r2"]
ALGORITHMS = ["linear_regression", "ridge", "random_forest", "hist_gradient_boosting"]
SMALL = pd.DataFrame({
    "age": [20, 30, 40, 50, 60, 70],
    "plan": ["a", "b", "a", "b", "a", None],
    "visits": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0],
    "spend": [10.5, 19.0, 31.2, 42.0, 48.9, 61.3],
})
train = trainer(op.name, "spend", SMALL)


def by_hand(algorithm: str, numeric: list[str], categorical: list[str], seed: int) -> Pipeline:
    """What a data scientist would write in a plain script."""
    reg: Any
    if algorithm == "linear_regression":
        reg = LinearRegression()
    elif algorithm == "ridge":
        reg = Ridge(alpha=1.0, random_state=seed)
    elif algorithm == "hist_gradient_boosting":
        reg = HistGradientBoostingRegressor(max_iter=100, learning_rate=0.1, random_state=seed)
    else:
        reg = RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=1)
    return script_pipeline(numeric, categorical, reg,
                           dense=algorithm == "hist_gradient_boosting")


def script_scores(pipeline: Pipeline, X: pd.DataFrame, y: pd.Series) -> list[float]:
    predicted = pipeline.predict(X)
    return [root_mean_squared_error(y, predicted), mean_absolute_error(y, predicted),
            r2_score(y, predicted)]


def sample(dataset: str, target: str) -> pd.DataFrame:
    table = load_sample(dataset).drop(columns=["customer_id", "email", "name"], errors="ignore")
    return table.dropna(subset=[target])


@pytest.mark.slow  # trains every algorithm, twice
@pytest.mark.parametrize(("dataset", "target"), [("wine", "alcohol"),
                                             ("customers", "monthly_spend")])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_it_predicts_exactly_what_the_same_scikit_learn_script_predicts(
        dataset: str, target: str, algorithm: str) -> None:
    table = sample(dataset, target)
    train_rows, test_rows = train_test_split(table, test_size=0.3, random_state=0)
    features, numeric, categorical = column_kinds(table, target)

    out = train(train_rows, test_rows, target=target, algorithm=algorithm, seed=3)
    script = by_hand(algorithm, numeric, categorical, seed=3)
    script.fit(train_rows[features], train_rows[target])

    np.testing.assert_array_equal(out["model"].estimator.predict(test_rows[features]),
                                  script.predict(test_rows[features]))
    test_metrics = out["metrics"].set_index("dataset").loc["test", METRIC_COLUMNS[2:]]
    assert test_metrics.tolist() == script_scores(script, test_rows[features], test_rows[target])


@pytest.mark.slow  # five folds per algorithm, twice
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_cross_validation_scores_the_same_folds_a_script_would(algorithm: str) -> None:
    table = sample("wine", "alcohol")
    features = [c for c in table.columns if c != "alcohol"]
    numeric = [c for c in features if table[c].dtype.kind in "if"]
    X, y = table[features], table["alcohol"]
    scores = []
    for fit_rows, held_out in KFold(5, shuffle=True, random_state=4).split(X):
        script = by_hand(algorithm, numeric, ["target"], seed=4)
        script.fit(X.iloc[fit_rows], y.iloc[fit_rows])
        scores.append(script_scores(script, X.iloc[held_out], y.iloc[held_out]))

    metrics = train(table, target="alcohol", algorithm=algorithm, cv_folds=5, seed=4)["metrics"]
    assert metrics["dataset"].tolist() == ["train", "cv_mean", "cv_std"]
    cv = metrics.set_index("dataset")[METRIC_COLUMNS[2:]]
    np.testing.assert_allclose(cv.loc["cv_mean"], np.mean(scores, axis=0), rtol=1e-12)
    np.testing.assert_allclose(cv.loc["cv_std"], np.std(scores, axis=0), rtol=1e-9)


def test_it_reports_train_and_test_metrics() -> None:
    table = sample("wine", "alcohol")
    train_rows, test_rows = train_test_split(table, test_size=0.3, random_state=0)
    metrics = train(train_rows, test_rows, target="alcohol")["metrics"]
    assert list(metrics.columns) == METRIC_COLUMNS
    assert metrics["dataset"].tolist() == ["train", "test"]
    assert metrics["rows"].tolist() == [124, 54]
    assert metrics.loc[1, "r2"] > 0.3 and metrics.loc[1, "rmse"] >= metrics.loc[1, "mae"]
    assert schema_of(metrics) == op.infer_schema(
        LocalContext(), op.parse_params({"target": "alcohol"}))["metrics"]


def test_r2_is_empty_on_a_single_test_row() -> None:
    metrics = train(SMALL, SMALL.head(1))["metrics"]
    assert np.isnan(metrics.loc[1, "r2"]) and metrics.loc[1, "rmse"] >= 0


def test_the_model_is_a_regression_model_with_no_classes() -> None:
    model = train(features=["age", "plan"], algorithm="ridge")["model"]
    assert isinstance(model, TrainedModel)
    assert model.task == "regression" and model.classes == []
    assert model.features == [{"name": "age", "type": "int"}, {"name": "plan", "type": "str"}]
    assert model.target == "spend" and model.algorithm == "ridge"


def test_its_model_schema_is_the_features_then_the_target_marked_as_regression() -> None:
    params = op.parse_params({"target": "spend", "features": ["visits", "age"]})
    assert op.infer_schema(LocalContext(), params, train=schema_of(SMALL))["model"] == [
        {"name": "visits", "type": "float"}, {"name": "age", "type": "int"},
        {"name": "spend", "type": "float", "task": "regression"}]


def test_importances_are_absolute_coefficients_summed_over_categories() -> None:
    out = train(algorithm="ridge")
    coef = np.abs(out["model"].estimator[-1].coef_)  # age, visits, then plan a and b
    got = out["importances"].set_index("feature")["importance"]
    assert got.to_dict() == pytest.approx({"age": coef[0], "visits": coef[1],
                                           "plan": coef[2] + coef[3]}, rel=1e-12)
    assert out["importances"]["importance"].is_monotonic_decreasing
    assert schema_of(out["importances"]) == op.infer_schema(
        LocalContext(), op.parse_params({"target": "spend"}))["importances"]


@pytest.mark.parametrize("algorithm", ["random_forest", "hist_gradient_boosting"])
def test_tree_importances_cover_every_feature(algorithm: str) -> None:
    importances = train(sample("customers", "monthly_spend"), target="monthly_spend",
                        algorithm=algorithm)["importances"]
    assert len(importances) == 7 and importances["importance"].notna().all()
    assert importances["feature"].iloc[0] == "plan"  # the plan sets the spend


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "field"), [
    ({"target": "spnd"}, "target"),
    ({"features": ["age", "agee"]}, "features"),
    ({"features": ["age", "spend"]}, "features"),
])
def test_it_rejects_columns_that_are_missing_or_misused(raw: dict, field: str) -> None:
    assert_rejected(op.name, {"target": "spend", **raw}, SMALL, field)


@pytest.mark.parametrize("target", ["plan", "flag"])
def test_it_rejects_a_target_that_is_not_numbers(target: str) -> None:
    table = SMALL.assign(plan=["a", "b", "a", "b", "a", "b"], flag=[True, False] * 3)
    params = op.parse_params({"target": target, "features": ["age"]})
    with pytest.raises(OperatorError, match="not numbers") as err:
        op.infer_schema(LocalContext(), params, train=schema_of(table))
    assert err.value.field == "target"
    with pytest.raises(OperatorError, match="not numbers") as err:
        op.run(LocalContext(), params, train=table)
    assert err.value.field == "target"


def test_it_rejects_a_test_table_whose_target_is_not_numbers() -> None:
    with pytest.raises(OperatorError, match="not numbers"):
        train(SMALL, SMALL.assign(spend=["10"] * 6))


def test_it_rejects_a_target_with_missing_values_or_a_single_value() -> None:
    with pytest.raises(OperatorError, match="1 missing") as err:
        train(SMALL.assign(spend=[1.0, np.nan, 3.0, 4.0, 5.0, 6.0]))
    assert err.value.field == "target"
    with pytest.raises(OperatorError, match="single value") as err:
        train(SMALL.assign(spend=2.0))
    assert err.value.field == "target"


def test_it_rejects_an_empty_training_or_test_table() -> None:
    with pytest.raises(OperatorError, match="training table is empty"):
        train(SMALL.iloc[:0])
    with pytest.raises(OperatorError, match="test table is empty"):
        train(SMALL, SMALL.iloc[:0])


def test_it_rejects_too_few_rows_for_the_folds() -> None:
    assert train(cv_folds=3)["metrics"]["dataset"].tolist() == ["train", "cv_mean", "cv_std"]
    with pytest.raises(OperatorError, match="at least 8 rows") as err:
        train(cv_folds=4)
    assert err.value.field == "cv_folds"


def test_it_rejects_date_features() -> None:
    with pytest.raises(OperatorError, match="joined") as err:
        train(SMALL.assign(joined=pd.date_range("2024-01-01", periods=6)))
    assert err.value.field == "features"


@pytest.mark.parametrize("raw", [{}, {"target": "spend", "algorithm": "svr"},
                                 {"target": "spend", "alpha": -1},
                                 {"target": "spend", "n_estimators": 0},
                                 {"target": "spend", "max_depth": 0},
                                 {"target": "spend", "learning_rate": 0},
                                 {"target": "spend", "cv_folds": 1},
                                 {"target": "spend", "C": 1.0}])
def test_it_rejects_impossible_params(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)
