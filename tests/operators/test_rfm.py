from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator, schema_of

op = get_operator("transform.rfm")
COLUMNS = ["customer", "recency_days", "frequency", "monetary", "r_score", "f_score",
           "m_score", "rfm_score"]
ORDERS = pd.DataFrame({
    "customer": ["ann", "ann", "bob", "cy", "cy", "cy", None],
    "date": ["2024-01-01", "2024-02-01", "2024-01-15", "2023-12-01", "2024-01-20",
             "2024-02-10", "2024-02-10"],
    "amount": [10.0, 20.0, 5.0, 1.0, np.nan, 1.0, 1000.0],
})


def rfm(orders: pd.DataFrame = ORDERS, ctx: LocalContext | None = None,
        **raw: Any) -> pd.DataFrame:
    params = op.parse_params({"customer": "customer", "date": "date", "amount": "amount",
                              **raw})
    return op.run(ctx or LocalContext(), params, orders=orders)["table"]


def test_it_measures_recency_frequency_and_monetary_value_per_customer() -> None:
    result = rfm()
    assert list(result.columns) == COLUMNS
    # as_of defaults to the day after the last order: 2024-02-11.
    assert result[["customer", "recency_days", "frequency", "monetary"]].values.tolist() == [
        ["ann", 10, 2, 30.0], ["bob", 27, 1, 5.0], ["cy", 1, 3, 2.0]]


def test_scores_rank_customers_with_5_for_the_best_and_join_into_a_code() -> None:
    result = rfm().set_index("customer")
    assert result.loc["cy", ["r_score", "f_score", "m_score"]].tolist() == [5, 5, 1]
    assert result.loc["bob", ["r_score", "f_score", "m_score"]].tolist() == [1, 1, 3]
    assert result["rfm_score"].tolist() == ["335", "113", "551"]


def test_scores_are_quintiles_when_there_are_many_customers() -> None:
    orders = pd.DataFrame({"customer": range(10), "date": ["2024-01-01"] * 10,
                           "amount": [float(a) for a in range(10)]})
    assert rfm(orders)["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_equal_values_get_equal_scores_and_a_lone_customer_scores_3() -> None:
    orders = pd.DataFrame({"customer": ["a", "b", "c", "d"], "date": ["2024-01-01"] * 4,
                           "amount": [5.0, 5.0, 5.0, 9.0]})
    result = rfm(orders)
    assert result["m_score"].tolist() == [2, 2, 2, 5]
    assert result["r_score"].nunique() == 1
    assert rfm(orders.head(1))["rfm_score"].tolist() == ["333"]


def test_the_same_orders_in_another_order_give_the_same_result() -> None:
    shuffled = ORDERS.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(rfm(shuffled), rfm())


def test_as_of_measures_recency_from_then_and_ignores_later_orders() -> None:
    ctx = LocalContext()
    result = rfm(ctx=ctx, as_of="2024-01-16").set_index("customer")
    assert result.loc["ann", ["recency_days", "frequency", "monetary"]].tolist() == [15, 1, 10]
    assert result.loc["bob", "recency_days"] == 1
    assert result.loc["cy", "frequency"] == 1
    assert "Ignored 3 order(s)" in ctx.logs[0]


def test_it_accepts_real_dates_and_time_zones() -> None:
    orders = ORDERS.assign(date=pd.to_datetime(ORDERS["date"]).dt.tz_localize("UTC"))
    result = rfm(orders, as_of="2024-02-11")
    assert result["recency_days"].tolist() == [10, 27, 1]


def test_its_schema_matches_what_it_produces() -> None:
    params = op.parse_params({"customer": "customer", "date": "date", "amount": "amount"})
    inferred = op.infer_schema(LocalContext(), params, orders=schema_of(ORDERS))["table"]
    assert inferred == schema_of(rfm())
    assert [c["name"] for c in inferred] == COLUMNS
    assert op.infer_schema(LocalContext(), params, orders=None) == {"table": None}


def test_no_orders_give_no_customers_with_every_column() -> None:
    result = rfm(ORDERS.iloc[:0])
    assert result.empty and list(result.columns) == COLUMNS
    assert rfm(as_of="2000-01-01").empty


@pytest.mark.parametrize(("raw", "field"), [
    ({"customer": "client"}, "customer"), ({"date": "day"}, "date"),
    ({"amount": "customer"}, "amount"), ({"date": "amount"}, "date"),
])
def test_it_rejects_missing_columns_and_columns_of_the_wrong_type(raw: dict,
                                                                 field: str) -> None:
    params = op.parse_params({"customer": "customer", "date": "date", "amount": "amount",
                              **raw})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, orders=schema_of(ORDERS))
    assert err.value.field == field
    with pytest.raises(OperatorError) as err:
        op.run(LocalContext(), params, orders=ORDERS)
    assert err.value.field == field


def test_it_names_a_date_it_cannot_read() -> None:
    with pytest.raises(OperatorError, match="e.g. 'last week'") as err:
        rfm(ORDERS.assign(date=["last week"] + list(ORDERS["date"][1:])))
    assert err.value.field == "date"


def test_it_rejects_a_customer_column_named_like_a_result_column() -> None:
    with pytest.raises(OperatorError) as err:
        rfm(ORDERS.rename(columns={"customer": "frequency"}), customer="frequency")
    assert err.value.field == "customer"


@pytest.mark.parametrize("raw", [
    {"customer": "c", "date": "d"}, {"customer": "c", "date": "d", "amount": "a",
                                     "as_of": "someday"},
])
def test_it_rejects_missing_params_and_an_as_of_that_is_not_a_date(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)
