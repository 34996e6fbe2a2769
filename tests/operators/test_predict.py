from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from operators import LocalContext, OperatorError, TrainedModel, get_operator, schema_of
from operators.connectors.sample import load_sample

op = get_operator("model.predict")
train_op = get_operator("model.train_classifier")
CUSTOMERS = load_sample("customers")
FEATURES = ["plan", "tenure_months", "monthly_spend", "support_tickets"]


def fit(table: pd.DataFrame, target: str, features: list[str]) -> TrainedModel:
    params = train_op.parse_params({"target": target, "features": features})
    return train_op.run(LocalContext(), params, train=table)["model"]


MODEL = fit(CUSTOMERS, "churned", FEATURES)


def predict(table: pd.DataFrame, model: Any = MODEL) -> pd.DataFrame:
    return op.run(LocalContext(), op.parse_params({}), model=model, table=table)["table"]


def test_it_adds_a_prediction_and_its_probability_to_every_row() -> None:
    rows = CUSTOMERS.head(50)
    out = predict(rows)
    assert list(out.columns) == [*CUSTOMERS.columns, "prediction", "probability"]
    pd.testing.assert_frame_equal(out[list(CUSTOMERS.columns)], rows)
    assert set(out["prediction"]) <= {"yes", "no"}
    proba = MODEL.estimator.predict_proba(rows[FEATURES])
    np.testing.assert_allclose(out["probability"], proba.max(axis=1))
    assert out["prediction"].tolist() == MODEL.estimator.predict(rows[FEATURES]).tolist()


def test_a_forest_scores_with_one_pass_over_its_trees(monkeypatch) -> None:
    """A random forest (the default algorithm) predicts its most probable class: the
    prediction is taken from the probabilities it computes anyway, the same answer its
    predict gives, in half the time of asking both (a served row of a 100-tree forest)."""
    from sklearn.ensemble import RandomForestClassifier

    rows = CUSTOMERS.head(200)
    final = MODEL.estimator[-1]
    assert type(final) is RandomForestClassifier
    expected = MODEL.estimator.predict(rows[FEATURES]).tolist()

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the trees were walked a second time")

    monkeypatch.setattr(RandomForestClassifier, "predict", refused)
    out = predict(rows)
    assert out["prediction"].tolist() == expected
    np.testing.assert_allclose(out["probability"],
                               MODEL.estimator.predict_proba(rows[FEATURES]).max(axis=1))
    # The trainer's metrics and confusion take theirs from the probabilities too.
    trained = train_op.run(LocalContext(), train_op.parse_params(
        {"target": "churned", "features": FEATURES}), train=CUSTOMERS)
    assert trained["confusion"]["count"].sum() == len(CUSTOMERS)


def test_the_prediction_has_the_type_of_the_target() -> None:
    table = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 0, 1, 1]})
    out = predict(table, fit(table, "y", ["x"]))
    assert schema_of(out)[-2:] == [{"name": "prediction", "type": "int"},
                                   {"name": "probability", "type": "float"}]


def test_a_single_row_with_an_unseen_plan_and_missing_values_is_scored() -> None:
    row = pd.DataFrame({"plan": [None], "tenure_months": [3],
                        "monthly_spend": [np.nan], "support_tickets": [9]})
    out = predict(row.assign(plan=["platinum"]))
    assert out["prediction"].iloc[0] in ("yes", "no")
    assert predict(row)["prediction"].iloc[0] in ("yes", "no")


def test_an_existing_prediction_column_is_replaced() -> None:
    out = predict(CUSTOMERS.head(3).assign(prediction="old"))
    assert "old" not in out["prediction"].tolist()
    assert list(out.columns)[-2:] == ["prediction", "probability"]


def test_it_lists_every_feature_missing_from_the_table() -> None:
    with pytest.raises(OperatorError) as err:
        predict(CUSTOMERS.drop(columns=["plan", "support_tickets"]))
    assert "plan, support_tickets" in err.value.message


def test_it_rejects_a_feature_of_another_type() -> None:
    with pytest.raises(OperatorError, match=r"tenure_months \(str, trained on int\)"):
        predict(CUSTOMERS.head(3).astype({"tenure_months": "str"}))


def test_it_rejects_an_empty_table_and_something_that_is_not_a_model() -> None:
    with pytest.raises(OperatorError, match="empty"):
        predict(CUSTOMERS.iloc[:0])
    with pytest.raises(OperatorError, match="model operator"):
        predict(CUSTOMERS.head(3), model="not a model")


def test_its_schema_adds_a_prediction_typed_like_the_target() -> None:
    table = [{"name": "x", "type": "float"}, {"name": "prediction", "type": "str"}]
    model = [{"name": "x", "type": "float"}, {"name": "y", "type": "bool"}]
    ctx, params = LocalContext(), op.parse_params({})
    assert op.infer_schema(ctx, params, model=model, table=table) == {"table": [
        {"name": "x", "type": "float"}, {"name": "prediction", "type": "bool"},
        {"name": "probability", "type": "float"}]}
    inferred = op.infer_schema(ctx, params, model=None, table=table)["table"]
    assert inferred is not None and inferred[1] == {"name": "prediction", "type": "str"}
    assert op.infer_schema(ctx, params, model=model, table=None) == {"table": None}


def test_its_schema_check_names_missing_features_before_running() -> None:
    model = [{"name": "a", "type": "float"}, {"name": "b", "type": "str"},
             {"name": "y", "type": "str"}]
    with pytest.raises(OperatorError, match="a, b"):
        op.infer_schema(LocalContext(), op.parse_params({}), model=model,
                        table=[{"name": "y", "type": "str"}])


def test_the_inferred_schema_matches_what_it_outputs() -> None:
    train_schema = schema_of(CUSTOMERS)
    params = train_op.parse_params({"target": "churned", "features": FEATURES})
    model_schema = train_op.infer_schema(LocalContext(), params, train=train_schema)["model"]
    inferred = op.infer_schema(LocalContext(), op.parse_params({}), model=model_schema,
                               table=train_schema)["table"]
    assert inferred == schema_of(predict(CUSTOMERS.head(5)))


# --- every model of the library ----------------------------------------------------------------

regressor_op = get_operator("model.train_regressor")


def fit_regressor(table: pd.DataFrame, target: str, features: list[str],
                  algorithm: str = "random_forest") -> TrainedModel:
    params = regressor_op.parse_params({"target": target, "features": features,
                                        "algorithm": algorithm})
    return regressor_op.run(LocalContext(), params, train=table)["model"]


@pytest.mark.parametrize("algorithm", ["logistic_regression", "random_forest",
                                       "gradient_boosting", "hist_gradient_boosting"])
def test_every_classifier_gets_a_prediction_and_its_probability(algorithm: str) -> None:
    params = train_op.parse_params({"target": "churned", "features": FEATURES,
                                    "algorithm": algorithm})
    model = train_op.run(LocalContext(), params, train=CUSTOMERS)["model"]
    rows = CUSTOMERS.head(20)
    out = predict(rows, model)
    assert out["prediction"].tolist() == model.estimator.predict(rows[FEATURES]).tolist()
    np.testing.assert_allclose(out["probability"],
                               model.estimator.predict_proba(rows[FEATURES]).max(axis=1))


@pytest.mark.parametrize("algorithm", ["linear_regression", "ridge", "random_forest",
                                       "hist_gradient_boosting"])
def test_a_regressor_adds_only_a_float_prediction(algorithm: str) -> None:
    features = ["plan", "tenure_months", "support_tickets"]
    model = fit_regressor(CUSTOMERS.dropna(subset=["monthly_spend"]), "monthly_spend",
                          features, algorithm)
    rows = CUSTOMERS.head(20)
    out = predict(rows, model)
    assert list(out.columns) == [*CUSTOMERS.columns, "prediction"]
    assert out["prediction"].dtype == "float64"
    np.testing.assert_array_equal(out["prediction"], model.estimator.predict(rows[features]))


def test_a_regressor_of_an_integer_target_still_predicts_floats() -> None:
    table = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1, 2, 2, 5]})
    out = predict(table, fit_regressor(table, "y", ["x"], "linear_regression"))
    assert schema_of(out)[-1] == {"name": "prediction", "type": "float"}


def test_a_regressor_replaces_a_prediction_column_but_keeps_a_probability_column() -> None:
    table = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.5, 2.5, 2.0, 5.0],
                          "prediction": ["old"] * 4, "probability": [0.1] * 4})
    out = predict(table, fit_regressor(table, "y", ["x"]))
    assert list(out.columns) == ["x", "y", "probability", "prediction"]
    assert out["probability"].tolist() == [0.1] * 4


def test_its_schema_for_a_regressor_announces_a_float_prediction_only() -> None:
    table = schema_of(CUSTOMERS)
    params = regressor_op.parse_params({"target": "monthly_spend", "features": FEATURES[:2]})
    model_schema = regressor_op.infer_schema(LocalContext(), params, train=table)["model"]
    inferred = op.infer_schema(LocalContext(), op.parse_params({}), model=model_schema,
                               table=table)["table"]
    assert inferred == [*table, {"name": "prediction", "type": "float"}]
    model = fit_regressor(CUSTOMERS.dropna(subset=["monthly_spend"]), "monthly_spend",
                          FEATURES[:2])
    assert inferred == schema_of(predict(CUSTOMERS.head(5), model))


def test_the_probability_is_that_of_the_predicted_class_when_it_is_not_the_likeliest() -> None:
    # A classifier with a 0.9 decision threshold predicts "yes" only when P(yes) > 0.9, so
    # many rows are "no" with P(no) < 0.5: their probability must be P(no), not the maximum.
    from sklearn.model_selection import FixedThresholdClassifier

    estimator = FixedThresholdClassifier(MODEL.estimator, threshold=0.9, pos_label="yes")
    estimator.fit(CUSTOMERS[FEATURES], CUSTOMERS["churned"])
    model = TrainedModel(estimator=estimator, features=MODEL.features, target="churned",
                         classes=MODEL.classes)
    out = predict(CUSTOMERS, model)
    proba = pd.DataFrame(estimator.predict_proba(CUSTOMERS[FEATURES]),
                         columns=estimator.classes_)
    expected = [proba.at[i, label] for i, label in enumerate(out["prediction"])]
    assert (out["probability"] < 0.5).any()
    np.testing.assert_array_equal(out["probability"], expected)
