"""transform.aggregate: pandas, DuckDB and Spark give the same groups, in the same order, with
the same summaries, for every function it offers."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from .parity import ENGINES, assert_parity, error, run_engine

ODD = 'plan "tier" — ß'  # a column name with a space, quotes and unicode
FRAME = pd.DataFrame({
    ODD: ["pro", "free", "pro", None, "free", "pro", "Pro", "it's", None, "free"],
    "spend": [10.5, 2.0, 30.25, 5.0, np.nan, 20.0, 1.0, 0.1, 0.2, np.nan],
    "visits": pd.array([1, 2, None, 4, 5, 6, 7, None, 9, 10], dtype="Int64"),
    "seats": [3, 1, 4, 1, 5, 9, 2, 6, 5, 3],
    "active": pd.array([True, False, True, None, True, False, True, None, False, True],
                       dtype="boolean"),
    "email": ["a@x", "b@x", "a@x", "c'x", None, "d\"x", "a@x", None, "e@x", "b@x"],
    "joined": pd.to_datetime(["2024-01-03", "2024-01-01", None, "2024-01-05", "2024-03-01",
                              "2024-01-02 10:30:00", "2023-12-31", "2024-02-29", None,
                              "2024-01-01"], format="ISO8601"),
    "score": [0.5, 1.5, 0.5, np.nan, 2.5, 0.5, np.nan, 1.5, 2.5, 0.5],
})

EVERY = [{"column": c, "function": f}
         for c, fs in {"spend": ("sum", "mean", "count", "min", "max", "nunique", "median",
                                 "std"),
                       "visits": ("sum", "mean", "count", "min", "max", "nunique", "median",
                                  "std"),
                       "seats": ("sum", "mean", "median", "std", "max"),
                       "active": ("sum", "mean", "count", "min", "max", "nunique"),
                       "email": ("count", "min", "max", "nunique"),
                       "joined": ("count", "min", "max", "nunique")}.items()
         for f in fs]

CASES: dict[str, dict[str, Any]] = {
    "every_function_by_text_key": {"group_by": [ODD], "aggregations": EVERY},
    "every_function_whole_table": {"aggregations": EVERY},
    "two_keys_with_missing": {"group_by": ["active", ODD], "aggregations": [
        {"column": "seats", "function": "sum", "name": "total seats"}]},
    "float_key_with_missing": {"group_by": ["score"], "aggregations": [
        {"column": "spend", "function": "sum"}, {"column": "email", "function": "nunique"}]},
    "int_and_datetime_keys": {"group_by": ["visits", "joined"], "aggregations": [
        {"column": "spend", "function": "mean"}]},
    "key_also_summarised": {"group_by": ["email"], "aggregations": [
        {"column": "email", "function": "count", "name": "n"}]},
}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_aggregate_is_the_same_on_every_engine(case: str, engine: str) -> None:
    assert_parity("transform.aggregate", CASES[case], engines=(engine,), table=FRAME)


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("group_by", [[], [ODD]])
def test_an_empty_table_gives_no_groups_or_one_row_on_every_engine(group_by: list[str],
                                                                   engine: str) -> None:
    result = assert_parity("transform.aggregate", {"group_by": group_by, "aggregations": EVERY},
                           engines=(engine,), table=FRAME.iloc[:0])
    assert len(result["table"]) == (0 if group_by else 1)


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_many_groups_come_out_sorted_on_every_engine(engine: str) -> None:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"k": rng.integers(0, 500, 5000),
                          "t": [f"v{i % 37}" for i in range(5000)],
                          "x": rng.normal(size=5000).round(3)})
    result = assert_parity("transform.aggregate", {"group_by": ["t", "k"], "aggregations": [
        {"column": "x", "function": "max"}, {"column": "k", "function": "count"}]},
        engines=(engine,), table=frame)
    assert len(result["table"]) > 1000


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_a_median_is_the_two_middle_values_halved_to_the_last_bit(engine: str) -> None:
    # 0.7 + (7.0 - 0.7) / 2 is 3.8499999999999996 (an interpolating SQL median, Spark's);
    # pandas adds the middle values and halves: 3.85.
    # pandas halves the sum: two middle values of 1e308 give inf, as here.
    frame = pd.DataFrame({"k": ["a"] * 7 + ["b"] * 3 + ["c"] * 2,
                          "x": [30.25, 0.7, 0.1, 7.0, np.nan, 10.5, 0.2, 0.3, 0.1, 0.2, 1e308,
                                1e308]})
    params = {"group_by": ["k"], "aggregations": [{"column": "x", "function": "median"}]}
    result = assert_parity("transform.aggregate", params, engines=(engine,), table=frame)
    got = run_engine(engine, "transform.aggregate", params, table=frame)["table"]
    assert got["x_median"].tolist() == result["table"]["x_median"].tolist() == [
        3.85, 0.2, np.inf]
    whole = run_engine(engine, "transform.aggregate", {"aggregations": params["aggregations"]},
                       table=frame)["table"]
    assert whole["x_median"].tolist() == [frame["x"].median()]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_hostile_column_name_is_only_a_name_on_every_engine(engine: str) -> None:
    hostile = 'x") FROM t; DROP TABLE t; --'
    frame = pd.DataFrame({hostile: ["a", "b", "a"], "v": [1, 2, 3]})
    result = assert_parity("transform.aggregate", {"group_by": [hostile], "aggregations": [
        {"column": "v", "function": "sum", "name": "'; DROP TABLE t; --"}]},
        engines=(engine,), table=frame)
    assert result["table"].values.tolist() == [["a", 4], ["b", 2]]


@pytest.mark.parametrize("engine", ENGINES)
def test_arithmetic_on_text_names_the_field_on_every_engine(engine: str) -> None:
    exc = error(engine, "transform.aggregate",
                {"aggregations": [{"column": "email", "function": "mean"}]}, table=FRAME)
    assert exc.field == "aggregations.0.column"
