"""transform.pivot: pandas, DuckDB and Spark make the same new columns (named and ordered by
the values, fetched by the engine) with the same cells and the same rows in the same order."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from .parity import ENGINES, assert_parity, error, run_engine

NAME = "transform.pivot"
ODD = 'region "zone" — ß'  # a column name with a space, quotes and unicode
SALES = pd.DataFrame({
    ODD: ["north", "north", "south", "north", "south", "east", None, "east", "it's", "north"],
    "month": [1.0, 2.0, 1.0, 1.0, np.nan, 3.0, 2.0, 3.0, 1.0, 2.5],
    "sales": [10, 20, 5, 1, 99, 7, 4, 8, 3, 2],
    "amount": [10.5, np.nan, 5.25, 1.0, 99.0, np.nan, 4.0, np.nan, 0.1, 0.2],
    "units": pd.array([1, None, 3, 4, 5, None, 7, 8, None, 2], dtype="Int64"),
    "rep": ["ann", "bob", "cy", None, "dee", "eve", "fay", "o'hara", "gus", "hal"],
    "tier": ["gold", "silver", "gold", "bronze", "gold", "silver", "gold", "gold", "x\"y",
             "silver"],
    "won": pd.array([True, False, None, True, False, True, False, None, True, True],
                    dtype="boolean"),
    "day": pd.to_datetime(["2024-01-01", "2024-01-02", None, "2024-01-01", "2024-03-01",
                           "2024-02-29 10:30:00", "2024-01-02", "2024-01-01", None,
                           "2024-01-05"], format="ISO8601"),
})

CASES: dict[str, dict[str, Any]] = {
    "sum_with_gaps": {"index": [ODD], "columns": "month", "values": "sales"},
    "sum_fill_zero": {"index": [ODD], "columns": "month", "values": "sales", "fill_value": 0},
    "sum_fill_decimal": {"index": [ODD], "columns": "month", "values": "sales",
                         "fill_value": 0.5},
    "sum_of_all_missing_is_zero": {"index": [ODD], "columns": "tier", "values": "amount"},
    "mean": {"index": [ODD], "columns": "tier", "values": "units", "function": "mean"},
    "mean_fill": {"index": [ODD], "columns": "tier", "values": "amount", "function": "mean",
                  "fill_value": -1},
    "count": {"index": [ODD], "columns": "tier", "values": "rep", "function": "count"},
    "count_fill": {"index": [ODD], "columns": "tier", "values": "amount", "function": "count",
                   "fill_value": 7},
    "min_text_fill": {"index": [ODD], "columns": "tier", "values": "rep", "function": "min",
                      "fill_value": "-"},
    "max_text": {"index": [ODD], "columns": "month", "values": "rep", "function": "max"},
    "max_bool": {"index": [ODD], "columns": "tier", "values": "won", "function": "max"},
    "min_datetime": {"index": [ODD], "columns": "tier", "values": "day", "function": "min"},
    "bool_columns": {"index": [ODD], "columns": "won", "values": "sales"},
    "datetime_columns": {"index": ["tier"], "columns": "day", "values": "sales"},
    "text_columns_two_index": {"index": ["won", ODD], "columns": "tier", "values": "units",
                               "function": "max"},
    "int_columns_nullable": {"index": ["tier"], "columns": "units", "values": "amount"},
}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_pivot_is_the_same_on_every_engine(case: str, engine: str) -> None:
    assert_parity(NAME, CASES[case], engines=(engine,), table=SALES)


def test_the_new_columns_are_the_sorted_values_named_as_text() -> None:
    result = run_engine("duckdb", NAME, CASES["sum_with_gaps"], table=SALES)["table"]
    assert list(result.columns) == [ODD, "1", "2", "2.5", "3"]
    assert result[ODD].tolist()[:-1] == ["east", "it's", "north", "south"]
    assert pd.isna(result[ODD].iloc[-1])
    assert result["1"].dtype == "Int64"  # whole numbers with empty cells stay whole


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_an_empty_table_gives_just_the_index_columns_on_every_engine(engine: str) -> None:
    result = assert_parity(NAME, CASES["sum_with_gaps"], engines=(engine,),
                           table=SALES.iloc[:0])
    assert list(result["table"].columns) == [ODD]


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_many_index_rows_come_out_sorted_on_every_engine(engine: str) -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"k": rng.integers(0, 2000, 6000), "c": rng.choice(["a", "b", "c"],
                                                                             6000),
                          "v": rng.integers(0, 100, 6000)})
    result = assert_parity(NAME, {"index": ["k"], "columns": "c", "values": "v"},
                           engines=(engine,), table=frame)
    assert len(result["table"]) > 1500


@pytest.mark.parametrize("engine", ENGINES)
def test_more_than_a_thousand_columns_are_refused_with_todays_message(engine: str) -> None:
    table = pd.DataFrame({"k": ["a"] * 1001, "c": range(1001), "v": 1})
    exc = error(engine, NAME, {"index": ["k"], "columns": "c", "values": "v"}, table=table)
    assert exc.field == "columns"
    assert exc.message == "'c' has 1001 distinct values; a pivot makes at most 1000 columns."


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_a_thousand_columns_are_made(engine: str) -> None:
    table = pd.DataFrame({"k": ["a"] * 1001, "c": [*range(1000), 0], "v": 1})
    result = assert_parity(NAME, {"index": ["k"], "columns": "c", "values": "v"},
                           engines=(engine,), table=table)
    assert result["table"].shape == (1, 1001) and result["table"]["0"].tolist() == [2]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_new_column_named_like_an_index_column_is_refused(engine: str) -> None:
    table = pd.DataFrame({"k": ["a", "b"], "c": ["k", "z"], "v": [1, 2]})
    exc = error(engine, NAME, {"index": ["k"], "columns": "c", "values": "v"}, table=table)
    assert exc.field == "columns" and "index column 'k'" in exc.message


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_hostile_values_only_name_columns_on_every_engine(engine: str) -> None:
    hostile = ['x" INTEGER); DROP TABLE t; --', "'; SELECT 1; --", "a`b"]
    table = pd.DataFrame({"k": ["r", "r", "s"], "c": hostile, "v": [1, 2, 3]})
    result = assert_parity(NAME, {"index": ["k"], "columns": "c", "values": "v"},
                           engines=(engine,), table=table)
    assert list(result["table"].columns) == ["k", *sorted(hostile)]
