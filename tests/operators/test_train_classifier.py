from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from operators import LocalContext, OperatorError, TrainedModel, get_operator, schema_of
from operators.connectors.sample import load_sample

op = get_operator("model.train_classifier")
METRIC_COLUMNS = ["dataset", "rows", "accuracy", "precision", "recall", "f1"]
SMALL = pd.DataFrame({
    "age": [20, 30, 40, 50, 60, 70],
    "plan": ["a", "b", "a", "b", "a", None],
    "spend": [1.0, np.nan, 3.0, 4.0, 5.0, 6.0],
    "label": ["no", "no", "no", "yes", "yes", "yes"],
})


def train(table: pd.DataFrame = SMALL, test: pd.DataFrame | None = None,
          ctx: LocalContext | None = None, **raw: Any) -> dict[str, Any]:
    params = op.parse_params({"target": "label", **raw})
    inputs = {"train": table} if test is None else {"train": table, "test": test}
    return op.run(ctx or LocalContext(), params, **inputs)


def by_hand(algorithm: str, numeric: list[str], categorical: list[str], seed: int) -> Pipeline:
    """What a data scientist would write in a plain script."""
    steps = []
    if numeric:
        steps.append(("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                      numeric))
    if categorical:
        steps.append(("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                           OneHotEncoder(handle_unknown="ignore")), categorical))
    if algorithm == "logistic_regression":
        clf: Any = LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
    else:
        clf = RandomForestClassifier(n_estimators=100, random_state=seed, n_jobs=1)
    return Pipeline([("prep", ColumnTransformer(steps)), ("clf", clf)])


@pytest.mark.parametrize("dataset, target", [
    ("iris", "target"), ("breast_cancer", "target"), ("customers", "churned")])
@pytest.mark.parametrize("algorithm", ["logistic_regression", "random_forest"])
def test_it_predicts_exactly_what_the_same_scikit_learn_script_predicts(
        dataset: str, target: str, algorithm: str) -> None:
    table = load_sample(dataset).drop(columns=["customer_id", "email", "name"], errors="ignore")
    train_rows, test_rows = train_test_split(table, test_size=0.3, random_state=0)
    features = [c for c in table.columns if c != target]
    numeric = [c for c in features if table[c].dtype.kind in "if"]
    categorical = [c for c in features if c not in numeric]

    model = train(train_rows, target=target, algorithm=algorithm, seed=3)["model"]
    script = by_hand(algorithm, numeric, categorical, seed=3)
    script.fit(train_rows[features], train_rows[target])

    np.testing.assert_array_equal(model.estimator.predict(test_rows[features]),
                                  script.predict(test_rows[features]))
    np.testing.assert_array_equal(model.estimator.predict_proba(test_rows[features]),
                                  script.predict_proba(test_rows[features]))


def test_it_reports_train_and_test_metrics() -> None:
    table = load_sample("iris")
    train_rows, test_rows = train_test_split(table, test_size=0.3, random_state=0)
    metrics = train(train_rows, test_rows, target="target")["metrics"]
    assert list(metrics.columns) == METRIC_COLUMNS
    assert metrics["dataset"].tolist() == ["train", "test"]
    assert metrics["rows"].tolist() == [105, 45]
    assert metrics.loc[1, "accuracy"] > 0.85
    assert schema_of(metrics) == op.infer_schema(
        LocalContext(), op.parse_params({"target": "target"}))["metrics"]


def test_without_a_test_table_it_reports_train_metrics_only() -> None:
    metrics = train()["metrics"]
    assert metrics["dataset"].tolist() == ["train"]
    assert metrics.loc[0, "rows"] == 6


def test_the_model_remembers_its_features_target_classes_and_algorithm() -> None:
    model = train(features=["age", "plan"], algorithm="logistic_regression")["model"]
    assert isinstance(model, TrainedModel)
    assert model.features == [{"name": "age", "type": "int"}, {"name": "plan", "type": "str"}]
    assert model.target == "label"
    assert model.classes == ["no", "yes"] and all(type(c) is str for c in model.classes)
    assert model.algorithm == "logistic_regression"


def test_no_features_means_every_column_but_the_target() -> None:
    model = train()["model"]
    assert [c["name"] for c in model.features] == ["age", "plan", "spend"]


def test_integer_classes_are_kept_as_python_ints() -> None:
    table = SMALL.assign(label=[0, 0, 0, 1, 1, 1])
    assert train(table)["model"].classes == [0, 1]
    assert type(train(table)["model"].classes[0]) is int


def test_a_solver_that_does_not_converge_is_logged_not_fatal() -> None:
    ctx = LocalContext()
    train(load_sample("breast_cancer"), ctx=ctx, target="target",
          algorithm="logistic_regression", max_iter=1)
    assert any("converge" in line for line in ctx.logs)


def test_its_model_schema_is_the_features_then_the_target() -> None:
    schema = schema_of(SMALL)
    params = op.parse_params({"target": "label", "features": ["spend", "age"]})
    assert op.infer_schema(LocalContext(), params, train=schema)["model"] == [
        {"name": "spend", "type": "float"}, {"name": "age", "type": "int"},
        {"name": "label", "type": "str"}]
    assert op.infer_schema(LocalContext(), params, train=None)["model"] is None


@pytest.mark.parametrize("raw, field", [
    ({"target": "lable"}, "target"),
    ({"features": ["age", "agee"]}, "features"),
    ({"features": ["age", "label"]}, "features"),
])
def test_it_rejects_columns_that_are_missing_or_misused(raw: dict, field: str) -> None:
    params = op.parse_params({"target": "label", **raw})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, train=schema_of(SMALL))
    assert err.value.field == field
    with pytest.raises(OperatorError) as err:
        op.run(LocalContext(), params, train=SMALL)
    assert err.value.field == field


def test_it_rejects_a_test_table_without_the_target() -> None:
    params = op.parse_params({"target": "label"})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, train=schema_of(SMALL),
                        test=schema_of(SMALL.drop(columns="label")))
    assert err.value.field == "target"
    with pytest.raises(OperatorError) as err:
        train(SMALL, SMALL.drop(columns="label"))
    assert err.value.field == "target"


def test_it_rejects_a_target_with_a_single_class() -> None:
    with pytest.raises(OperatorError, match="single class") as err:
        train(SMALL.assign(label="yes"))
    assert err.value.field == "target"


def test_it_rejects_a_target_of_measurements() -> None:
    with pytest.raises(OperatorError, match="not classes") as err:
        train(SMALL.assign(spend=[1.5, 2.5, 3.1, 4.2, 5.3, 6.4]), target="spend",
              features=["age"])
    assert err.value.field == "target"


def test_it_rejects_a_target_with_missing_values() -> None:
    with pytest.raises(OperatorError, match="1 missing") as err:
        train(SMALL.assign(label=["no", None, "no", "yes", "yes", "yes"]))
    assert err.value.field == "target"


def test_it_rejects_an_empty_training_or_test_table() -> None:
    with pytest.raises(OperatorError, match="training table is empty"):
        train(SMALL.iloc[:0])
    with pytest.raises(OperatorError, match="test table is empty"):
        train(SMALL, SMALL.iloc[:0])


def test_it_rejects_date_features() -> None:
    table = SMALL.assign(joined=pd.date_range("2024-01-01", periods=6))
    with pytest.raises(OperatorError, match="joined") as err:
        train(table)
    assert err.value.field == "features"


@pytest.mark.parametrize("raw", [{}, {"target": "label", "n_estimators": 0},
                                 {"target": "label", "n_estimators": 2001},
                                 {"target": "label", "C": 0},
                                 {"target": "label", "max_depth": 0},
                                 {"target": "label", "algorithm": "svm"},
                                 {"target": "label", "learning_rate": 0.1}])
def test_it_rejects_impossible_params(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)
