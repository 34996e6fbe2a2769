"""transform.rfm: pandas, DuckDB and Spark give every customer the same measures and the same
quintile scores (mid-ranks, ties, the lone customer), sorted by customer."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from .parity import ENGINES, assert_parity, error, run_engine

NAME = "transform.rfm"
ODD = 'client "id" — ß'  # a column name with a space, quotes and unicode
ORDERS = pd.DataFrame({
    ODD: ["ann", "ann", "bob", "cy", "cy", "cy", None, "dee", "it's", "eve", "eve", "fay",
          "gus", "gus"],
    "ordered": pd.to_datetime(["2024-01-01", "2024-02-01 13:00:00", "2024-01-15", "2023-12-01",
                               "2024-01-20", "2024-02-10 23:59:59", "2024-02-10", None,
                               "2024-02-01 13:00:00", "2024-01-15", "2024-01-16",
                               "2024-02-10 00:00:01", "2024-01-01", "2024-01-31"],
                              format="ISO8601"),
    "text_date": ["2024-01-01", "2024-02-01T13:00:00", " 2024-01-15 ", "2023-12-01",
                  "2024-01-20", "2024-02-10 23:59:59", "2024-02-10", "", "2024-02-01 13:00",
                  "2024-01-15", "2024-01-16", "2024-02-10 00:00:01", "2024-01-01",
                  "2024-01-31"],
    # 0.1 + 0.2 + 0.3 and 0.6 are one tie once rounded, whatever the order of additions.
    "total": [0.1, 0.2, 0.6, 1.0, np.nan, 1.0, 1000.0, 5.0, 30.0, 0.3, 0.3, 2.0, 30.0, np.nan],
    "units": pd.array([1, 2, 3, None, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], dtype="Int64"),
    "number": [3, 1, 3, 4, 4, 4, 9, 5, 6, 7, 7, 8, 2, 2],
})

CASES: dict[str, dict[str, Any]] = {
    "datetimes": {"customer": ODD, "date": "ordered", "amount": "total"},
    "text_dates": {"customer": ODD, "date": "text_date", "amount": "total"},
    "int_amounts": {"customer": ODD, "date": "ordered", "amount": "units"},
    "int_customers": {"customer": "number", "date": "ordered", "amount": "total"},
    "as_of": {"customer": ODD, "date": "ordered", "amount": "total",
              "as_of": "2024-01-20T12:00:00"},
    "as_of_with_offset": {"customer": ODD, "date": "text_date", "amount": "total",
                          "as_of": "2024-02-10T01:00:00+02:00"},
}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_rfm_is_the_same_on_every_engine(case: str, engine: str) -> None:
    assert_parity(NAME, CASES[case], engines=(engine,), orders=ORDERS)


def test_a_tie_in_money_is_a_tie_whatever_the_order_of_additions() -> None:
    orders = pd.DataFrame({"c": ["a", "a", "a", "b", "z"], "d": ["2024-01-01"] * 5,
                           "m": [0.1, 0.2, 0.3, 0.6, 0.0]})
    params = {"customer": "c", "date": "d", "amount": "m"}
    result = assert_parity(NAME, params, engines=("duckdb",), orders=orders)["table"]
    assert result["m_score"].tolist() == [4, 4, 1]
    assert run_engine("duckdb", NAME, params, orders=orders)["table"]["m_score"].tolist() == [
        4, 4, 1]


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_quintiles_of_many_customers_with_ties_are_the_same_on_every_engine(engine: str
                                                                           ) -> None:
    rng = np.random.default_rng(11)
    n = 3000
    orders = pd.DataFrame({
        "customer": rng.integers(0, 777, n),
        "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 400, n), "D")
        + pd.to_timedelta(rng.integers(0, 86400, n), "s"),
        "amount": rng.integers(0, 5000, n) / 100,
    })
    result = assert_parity(NAME, {"customer": "customer", "date": "date", "amount": "amount"},
                           engines=(engine,), orders=orders)["table"]
    assert sorted(result["r_score"].unique()) == [1, 2, 3, 4, 5]
    assert result["frequency"].duplicated().any()  # ties exercised


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_no_orders_give_no_customers_on_every_engine(engine: str) -> None:
    result = assert_parity(NAME, CASES["datetimes"], engines=(engine,), orders=ORDERS.iloc[:0])
    assert result["table"].empty
    assert_parity(NAME, {**CASES["datetimes"], "as_of": "2000-01-01T00:00:00"},
                  engines=(engine,), orders=ORDERS)


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_a_lone_customer_scores_333_on_every_engine(engine: str) -> None:
    result = assert_parity(NAME, CASES["datetimes"], engines=(engine,), orders=ORDERS.iloc[:1])
    assert result["table"]["rfm_score"].tolist() == ["333"]


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_a_date_column_with_a_time_zone_is_read_in_utc_on_every_engine(engine: str) -> None:
    orders = ORDERS.assign(ordered=ORDERS["ordered"].dt.tz_localize("Europe/Paris"))
    assert_parity(NAME, {**CASES["datetimes"], "as_of": "2024-02-11T00:00:00"},
                  engines=(engine,), orders=orders)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_text_that_is_not_a_date_is_named_on_every_engine(engine: str) -> None:
    orders = ORDERS.assign(text_date=["2024-01-01", "last week", *ORDERS["text_date"][2:]])
    exc = error(engine, NAME, CASES["text_dates"], orders=orders)
    assert exc.field == "date"
    assert exc.message == "Column 'text_date' has 1 value(s) that are not dates, e.g. 'last week'."


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_a_hostile_customer_is_only_a_value_on_every_engine(engine: str) -> None:
    hostile = "x'); DROP TABLE orders; --"
    orders = ORDERS.assign(**{ODD: [hostile, *ORDERS[ODD][1:]]})
    result = assert_parity(NAME, CASES["datetimes"], engines=(engine,), orders=orders)
    assert hostile in result["table"][ODD].tolist()
