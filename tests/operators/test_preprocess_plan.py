"""A model's preprocessing computed in numpy (operators/models/_preprocess.py) gives the bytes
scikit-learn's ColumnTransformer.transform gives, and hands anything it does not know exactly
to scikit-learn: the answers a user gets, online or in batch, do not change."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

from operators import LocalContext, get_operator
from operators.connectors.sample import load_sample
from operators.models._common import prepared, preprocessor
from operators.models._preprocess import fast_transform

from .model_helpers import count_transforms

CUSTOMERS = load_sample("customers")
FEATURES = ["plan", "country", "tenure_months", "monthly_spend", "support_tickets"]
train_op = get_operator("model.train_classifier")
predict_op = get_operator("model.predict")


def trained(algorithm: str = "logistic_regression", table: pd.DataFrame = CUSTOMERS) -> Any:
    params = train_op.parse_params({"target": "churned", "features": FEATURES,
                                    "algorithm": algorithm})
    return train_op.run(LocalContext(), params, train=table)["model"]


MODEL = trained()
PREPARE = MODEL.estimator.steps[0][1]


@pytest.fixture
def transforms(monkeypatch) -> list[int]:
    """The rows of each call of scikit-learn's ColumnTransformer.transform."""
    return count_transforms(monkeypatch)


def same_bytes(X: pd.DataFrame) -> None:
    plan = fast_transform(PREPARE)
    assert plan is not None
    ours = plan(X)
    assert ours is not None
    theirs = PREPARE.transform(X)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    assert ours.tobytes() == theirs.tobytes()


def messy() -> pd.DataFrame:
    """Missing numbers and texts, plans and countries never seen in training, integers
    beside floats, 20,000 rows."""
    table = pd.concat([CUSTOMERS] * 10, ignore_index=True).drop(columns=["churned"])
    table.loc[::7, "plan"] = np.nan
    table.loc[::5, "monthly_spend"] = np.nan
    table.loc[::11, "plan"] = "platinum"
    table.loc[::13, "country"] = "Atlantis"
    table.loc[::17, "support_tickets"] = -3
    return table


def test_the_plan_gives_scikit_learns_bytes_for_one_row_and_for_many() -> None:
    same_bytes(CUSTOMERS.drop(columns=["churned"]).head(1))
    same_bytes(pd.DataFrame(CUSTOMERS.drop(columns=["churned"]).head(3).to_dict("records")))
    same_bytes(messy())


def test_a_request_with_missing_values_and_an_unseen_plan_is_computed_by_the_plan() -> None:
    row = CUSTOMERS.drop(columns=["churned"]).head(1).to_dict("records")[0]
    same_bytes(pd.DataFrame([{**row, "plan": "platinum", "monthly_spend": None}]))
    same_bytes(pd.DataFrame([{**row, "plan": float("nan")}]))


@pytest.mark.parametrize("change", [
    {"plan": None},  # None in text is not missing to scikit-learn's imputer
    {"plan": 3},  # a number in a text column
    {"tenure_months": "12"},  # text in a number column
    {"tenure_months": True},
])
def test_values_of_another_kind_are_left_to_scikit_learn(change: dict, transforms) -> None:
    row = {**CUSTOMERS.drop(columns=["churned"]).head(1).to_dict("records")[0], **change}
    X = pd.DataFrame([row])
    plan = fast_transform(PREPARE)
    assert plan is not None and plan(X) is None
    final, Xt = prepared(MODEL.estimator, X)
    assert transforms == [1]
    assert Xt.tobytes() == PREPARE.transform(X).tobytes()


def test_an_infinity_fails_as_scikit_learn_fails_it() -> None:
    row = {**CUSTOMERS.drop(columns=["churned"]).head(1).to_dict("records")[0],
           "monthly_spend": float("inf")}
    with pytest.raises(ValueError, match="infinity"):
        prepared(MODEL.estimator, pd.DataFrame([row]))


def test_a_missing_column_fails_as_scikit_learn_fails_it() -> None:
    with pytest.raises(ValueError, match="columns are missing"):
        prepared(MODEL.estimator, CUSTOMERS.drop(columns=["churned", "plan"]).head(2))


@pytest.mark.parametrize("algorithm", ["logistic_regression", "random_forest",
                                       "hist_gradient_boosting"])
def test_predictions_are_those_of_the_model_itself_without_its_transform(
        algorithm: str, transforms) -> None:
    model = MODEL if algorithm == "logistic_regression" else trained(algorithm)
    table = messy()
    transforms.clear()  # training's own (permutation importance)
    out = predict_op.run(LocalContext(), predict_op.parse_params({}), model=model,
                         table=table)["table"]
    assert transforms == []  # the plan computed the preprocessing
    theirs = model.estimator.predict_proba(table[FEATURES])
    assert transforms == [len(table)]
    assert out["prediction"].tolist() == model.estimator.predict(table[FEATURES]).tolist()
    assert out["probability"].to_numpy().tobytes() == theirs.max(axis=1).tobytes()


def test_a_preprocessing_it_does_not_know_has_no_plan() -> None:
    X = CUSTOMERS[["plan", "monthly_spend"]]
    schema = [{"name": "plan", "type": "str"}, {"name": "monthly_spend", "type": "float"}]
    assert fast_transform(preprocessor(schema).fit(X)) is not None
    other = ColumnTransformer([("n", make_pipeline(MinMaxScaler()), ["monthly_spend"])]).fit(X)
    assert fast_transform(other) is None
    dropping = ColumnTransformer([("c", make_pipeline(OneHotEncoder(drop="first")), ["plan"])],
                                 sparse_threshold=0).fit(X)
    assert fast_transform(dropping) is None


def test_a_sparse_preprocessing_gives_scikit_learns_matrix_and_answers(transforms) -> None:
    """Many categories (a name per customer) make the fitted result sparse: the plan's CSR
    matrix has scikit-learn's values, indices and row pointers, so the model answers alike."""
    features = ["name", "plan", "tenure_months", "monthly_spend"]
    params = train_op.parse_params({"target": "churned", "features": features,
                                    "algorithm": "logistic_regression"})
    model = train_op.run(LocalContext(), params, train=CUSTOMERS)["model"]
    prepare = model.estimator.steps[0][1]
    assert prepare.sparse_output_
    plan = fast_transform(prepare)
    assert plan is not None
    for X in (messy().head(5000), CUSTOMERS.drop(columns=["churned"]).head(1)):
        ours, theirs = plan(X), prepare.transform(X)
        assert type(ours) is type(theirs) and ours.shape == theirs.shape
        for part in ("data", "indices", "indptr"):
            assert getattr(ours, part).dtype == getattr(theirs, part).dtype
            assert getattr(ours, part).tobytes() == getattr(theirs, part).tobytes()
    table = messy().head(5000)
    transforms.clear()
    out = predict_op.run(LocalContext(), predict_op.parse_params({}), model=model,
                         table=table)["table"]
    assert transforms == []
    theirs = model.estimator.predict_proba(table[features])
    assert out["probability"].to_numpy().tobytes() == theirs.max(axis=1).tobytes()
    assert out["prediction"].tolist() == model.estimator.predict(table[features]).tolist()


def test_a_table_with_a_column_twice_or_a_huge_number_is_left_to_scikit_learn() -> None:
    row = CUSTOMERS.drop(columns=["churned"]).head(1)
    twice = pd.concat([row, row[["plan"]]], axis=1)
    plan = fast_transform(PREPARE)
    assert plan is not None and plan(twice) is None
    huge = pd.DataFrame([{**row.to_dict("records")[0], "tenure_months": 10**400}])
    assert plan(huge) is None
    with pytest.raises(OverflowError):
        PREPARE.transform(huge)
