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
    assert op.infer_schema(ctx, params, model=None, table=table)["table"][1] == {
        "name": "prediction", "type": "str"}
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
