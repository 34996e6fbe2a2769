"""transform.fill_missing: pandas, DuckDB and Spark learn the same state (means, medians, most
frequent values, ties included) and fill the same cells; a state learned on one applies the
same on the others, as serving applies it to new rows with pandas."""
from __future__ import annotations

import json
import tempfile
from typing import Any

import numpy as np
import pandas as pd
import pytest

from operators.base import LocalContext
from operators.engines import EngineSettings, run_relational
from operators.registry import get_operator

from .parity import ENGINES, SPARK, assert_parity, assert_same, error, run_engine

NAME = "transform.fill_missing"
ODD = 'plan "tier" — ß'  # a column name with a space, quotes and unicode
FRAME = pd.DataFrame({
    "spend": [10.5, np.nan, 30.25, 0.1, np.nan, 0.2, 7.0, 0.7],  # median 3.85, not ...96
    "visits": pd.array([1, None, 4, 4, 2, None, 2, 9], dtype="Int64"),
    "seats": [3, 1, 4, 1, 5, 9, 2, 6],
    ODD: ["pro", None, "it's", "free", "Free", None, "it's", "free"],
    "active": pd.array([True, None, False, False, True, None, True, False], dtype="boolean"),
    "joined": pd.to_datetime(["2024-01-01", None, "2024-02-01 10:30:00", "2024-02-01",
                              "2024-01-01", None, "2024-02-01 10:30:00", "2023-12-31"],
                             format="ISO8601"),
})
EVERY_TYPE_MOST_FREQUENT = [{"column": c, "strategy": "most_frequent"}
                            for c in ("spend", "visits", "seats", ODD, "active", "joined")]

CASES: dict[str, dict[str, Any]] = {
    "mean_and_median": {"columns": [
        {"column": "spend", "strategy": "mean"}, {"column": "visits", "strategy": "median"},
        {"column": "seats", "strategy": "mean"}]},
    "median_of_an_even_count": {"columns": [{"column": "spend", "strategy": "median"},
                                            {"column": "visits", "strategy": "mean"}]},
    "most_frequent_of_every_type_ties_to_the_smallest": {"columns": EVERY_TYPE_MOST_FREQUENT},
    "constants_of_every_type": {"columns": [
        {"column": "spend", "strategy": "constant", "value": 0.1},
        {"column": "visits", "strategy": "constant", "value": 0},
        {"column": ODD, "strategy": "constant", "value": "it's \"none\""},
        {"column": "active", "strategy": "constant", "value": True},
        {"column": "joined", "strategy": "constant", "value": "2000-01-01T08:00:00"}]},
    "a_decimal_constant_in_whole_numbers": {"columns": [
        {"column": "visits", "strategy": "constant", "value": 2.5}]},
}


def fit_on(engine: str, params: dict[str, Any], table: pd.DataFrame) -> Any:
    """The state ``engine`` learns (pandas: ``fit``)."""
    op = get_operator(NAME)
    parsed = op.parse_params(params)
    if engine == "pandas":
        return op.fit(LocalContext(), parsed, table=table.copy())
    settings = SPARK if engine == "spark" else EngineSettings(name=engine)
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/in.parquet"
        table.to_parquet(path, index=False)
        return run_relational(op, parsed, {"table": path}, folder, ctx=LocalContext(),
                              settings=settings).state


def apply_on(engine: str, params: dict[str, Any], state: Any, table: pd.DataFrame
             ) -> pd.DataFrame:
    """``state`` applied by ``engine`` (pandas: ``apply``, as serving does)."""
    op = get_operator(NAME)
    parsed = op.parse_params(params)
    if engine == "pandas":
        return op.apply(LocalContext(), parsed, state, table=table.copy())["table"]
    settings = SPARK if engine == "spark" else EngineSettings(name=engine)
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/in.parquet"
        table.to_parquet(path, index=False)
        written = run_relational(op, parsed, {"table": path}, folder, ctx=LocalContext(),
                                 settings=settings, state=state).outputs["table"]
        return pd.read_parquet(written.path)


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_fill_missing_is_the_same_on_every_engine(case: str, engine: str) -> None:
    assert_parity(NAME, CASES[case], engines=(engine,), table=FRAME)


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_learned_state_is_the_same_json_on_every_engine(case: str, engine: str) -> None:
    expected = fit_on("pandas", CASES[case], FRAME)
    learned = fit_on(engine, CASES[case], FRAME)
    assert json.dumps(learned) == json.dumps(expected)


def test_the_states_hold_what_pandas_means_by_median_and_most_frequent() -> None:
    state = fit_on("duckdb", {"columns": [
        {"column": "spend", "strategy": "median"}, *EVERY_TYPE_MOST_FREQUENT[1:]]}, FRAME)
    # visits: 2 and 4 are tied, as are "free" and "it's", and two dates: the smallest wins.
    assert state == {"spend": (7.0 + 0.7) / 2, "visits": 2, "seats": 1, ODD: "free",
                     "active": False, "joined": "2024-01-01T00:00:00"}
    assert fit_on("duckdb", {"columns": [{"column": "visits", "strategy": "median"}]},
                  FRAME) == {"visits": 3.0}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_a_state_learned_by_pandas_fills_new_rows_the_same_on_the_engine(engine: str) -> None:
    params = CASES["mean_and_median"] | {"columns": [
        *CASES["mean_and_median"]["columns"], *EVERY_TYPE_MOST_FREQUENT[3:]]}
    state = fit_on("pandas", params, FRAME)
    rows = FRAME.iloc[[1, 5, 0]].reset_index(drop=True)
    served = apply_on("pandas", params, state, rows)
    assert_same(served, apply_on(engine, params, state, rows))
    assert served.notna().all().all()


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_a_float_column_with_nan_counts_it_as_missing(engine: str) -> None:
    # An engine may write a true NaN into Parquet (pandas writes NaN as missing): both fill.
    nan_file = pd.DataFrame({"x": [1.0, float("nan"), 4.0, None]})
    params = {"columns": [{"column": "x", "strategy": "mean"}]}
    op = get_operator(NAME)
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/in.parquet"
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"x": pa.array([1.0, float("nan"), 4.0, None],
                                               from_pandas=False)}), path)
        settings = SPARK if engine == "spark" else EngineSettings(name=engine)
        result = run_relational(op, op.parse_params(params), {"table": path}, folder,
                                ctx=LocalContext(), settings=settings)
        assert result.state == {"x": 2.5} == fit_on("pandas", params, nan_file)
        assert pd.read_parquet(result.outputs["table"].path)["x"].tolist() == [
            1.0, 2.5, 4.0, 2.5]


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_an_empty_table_is_filled_with_a_constant_on_every_engine(engine: str) -> None:
    assert_parity(NAME, CASES["constants_of_every_type"], engines=(engine,),
                  table=FRAME.iloc[:0])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent"])
def test_a_column_with_no_values_names_the_field_on_every_engine(strategy: str,
                                                                 engine: str) -> None:
    table = FRAME.assign(spend=np.nan)
    exc = error(engine, NAME, {"columns": [{"column": "seats", "strategy": "mean"},
                                           {"column": "spend", "strategy": strategy}]},
                table=table)
    assert exc.field == "columns.1.column"
    assert f"no values to learn a {strategy} from" in exc.message


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_a_hostile_constant_is_only_a_value_on_every_engine(engine: str) -> None:
    hostile = "x'); DROP TABLE t; --"
    result = run_engine(engine, NAME, {"columns": [
        {"column": ODD, "strategy": "constant", "value": hostile}]}, table=FRAME)["table"]
    assert result[ODD].tolist() == [hostile if pd.isna(v) else v for v in FRAME[ODD]]
    assert result.drop(columns=[ODD]).shape == FRAME.drop(columns=[ODD]).shape
