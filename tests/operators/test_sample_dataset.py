from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from operators import LocalContext, get_operator, schema_of
from operators.connectors import sample

op = get_operator("connector.sample_dataset")


def load(dataset: str) -> pd.DataFrame:
    return op.run(LocalContext(), op.parse_params({"dataset": dataset}))["table"]


def test_iris_is_the_default_with_snake_case_columns_and_species_names() -> None:
    table = op.run(LocalContext(), op.parse_params({}))["table"]
    assert list(table.columns) == [
        "sepal_length", "sepal_width", "petal_length", "petal_width", "target"]
    assert sorted(table["target"].unique()) == ["setosa", "versicolor", "virginica"]
    assert len(table) == 150


def test_breast_cancer_names_its_classes_malignant_and_benign() -> None:
    table = load("breast_cancer")
    assert table["target"].value_counts().to_dict() == {"benign": 357, "malignant": 212}
    assert "mean_radius" in table.columns
    assert all(c.replace("_", "").isalnum() and c == c.lower() for c in table.columns)


def test_wine_column_names_lose_their_slashes() -> None:
    assert "od280_od315_of_diluted_wines" in load("wine").columns


def test_customers_has_the_documented_columns_and_types() -> None:
    table = load("customers")
    assert schema_of(table) == [
        {"name": "customer_id", "type": "int"}, {"name": "email", "type": "str"},
        {"name": "name", "type": "str"}, {"name": "country", "type": "str"},
        {"name": "plan", "type": "str"}, {"name": "tenure_months", "type": "int"},
        {"name": "monthly_spend", "type": "float"}, {"name": "orders_last_90d", "type": "int"},
        {"name": "support_tickets", "type": "int"},
        {"name": "days_since_last_order", "type": "int"}, {"name": "churned", "type": "str"},
    ]
    assert len(table) == 2000
    assert table["email"].iloc[0] == "customer_00001@example.com"
    assert set(table["plan"]) == {"basic", "pro", "enterprise"}
    assert set(table["churned"]) == {"yes", "no"}


def test_customers_has_a_few_missing_monthly_spends_to_impute() -> None:
    table = load("customers")
    assert 0.02 < table["monthly_spend"].isna().mean() < 0.04
    assert table.drop(columns="monthly_spend").notna().all().all()


def test_customers_churn_can_be_learned_better_than_always_saying_no() -> None:
    table = load("customers").dropna()
    features = ["tenure_months", "orders_last_90d", "support_tickets", "days_since_last_order"]
    accuracy = cross_val_score(LogisticRegression(max_iter=1000), table[features],
                               table["churned"]).mean()
    majority = (table["churned"] == "no").mean()
    assert accuracy > majority + 0.03


def test_customers_is_the_same_bytes_even_when_generated_again() -> None:
    first = load("customers").to_csv(index=False)
    sample.load_sample.cache_clear()
    assert load("customers").to_csv(index=False) == first


def test_customers_stays_the_same_table_from_release_to_release() -> None:
    # Saved demo pipelines and tutorials quote these numbers; changing the generator must be
    # deliberate (and bump the operator's version).
    table = load("customers")
    assert (table["churned"] == "yes").sum() == 467
    assert table["monthly_spend"].isna().sum() == 61
    assert table.loc[0, ["country", "plan", "tenure_months"]].tolist() == ["UK", "pro", 4]


def test_changing_the_output_does_not_change_the_next_run() -> None:
    table = load("iris")
    table.loc[0, "sepal_length"] = -1.0
    table["extra"] = 1
    again = load("iris")
    assert again.loc[0, "sepal_length"] != -1.0
    assert "extra" not in again.columns


@pytest.mark.parametrize("dataset", ["iris", "wine", "breast_cancer", "customers"])
def test_the_inferred_schema_is_the_schema_of_the_table(dataset: str) -> None:
    params = op.parse_params({"dataset": dataset})
    assert op.infer_schema(LocalContext(), params) == {"table": schema_of(load(dataset))}


def test_it_rejects_an_unknown_dataset() -> None:
    with pytest.raises(ValidationError):
        op.parse_params({"dataset": "titanic"})
