from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator, schema_of

op = get_operator("transform.fill_missing")
TABLE = pd.DataFrame({
    "spend": [10.0, np.nan, 30.0, 50.0],
    "visits": pd.array([1, None, 4, 4], dtype="Int64"),
    "plan": ["pro", None, "free", "free"],
    "active": pd.array([True, None, False, False], dtype="boolean"),
    "joined": pd.to_datetime(["2024-01-01", None, "2024-02-01", "2024-02-01"]),
})


def params(*fills: dict[str, Any]) -> Any:
    return op.parse_params({"columns": list(fills)})


def fill(*fills: dict[str, Any], table: pd.DataFrame = TABLE) -> pd.DataFrame:
    return op.run(LocalContext(), params(*fills), table=table)["table"]


def test_it_is_stateful_so_serving_reuses_what_training_learned() -> None:
    assert op.stateful


def test_mean_and_median_are_learned_from_the_table() -> None:
    result = fill({"column": "spend", "strategy": "mean"},
                  {"column": "visits", "strategy": "median"})
    assert result["spend"].tolist() == [10.0, 30.0, 30.0, 50.0]
    assert result["visits"].tolist() == [1.0, 4.0, 4.0, 4.0]


def test_most_frequent_fills_text_booleans_and_dates() -> None:
    result = fill(*({"column": c, "strategy": "most_frequent"}
                    for c in ("plan", "active", "joined")))
    assert result.loc[1, "plan"] == "free"
    assert not result.loc[1, "active"]
    assert result.loc[1, "joined"] == pd.Timestamp("2024-02-01")


def test_a_tie_for_most_frequent_goes_to_the_smallest_value() -> None:
    table = pd.DataFrame({"x": ["b", "a", None, "b", "a"]})
    assert fill({"column": "x", "strategy": "most_frequent"}, table=table)["x"][2] == "a"


def test_a_constant_fills_each_type() -> None:
    result = fill({"column": "spend", "strategy": "constant", "value": 0},
                  {"column": "visits", "strategy": "constant", "value": 0},
                  {"column": "plan", "strategy": "constant", "value": "none"},
                  {"column": "active", "strategy": "constant", "value": True},
                  {"column": "joined", "strategy": "constant", "value": "2000-01-01"})
    assert result.loc[1].tolist() == [0.0, 0, "none", True, pd.Timestamp("2000-01-01")]
    assert result["visits"].dtype.kind == "i"


def test_only_missing_values_change_and_other_columns_stay() -> None:
    result = fill({"column": "spend", "strategy": "mean"})
    pd.testing.assert_frame_equal(result.drop(index=1), TABLE.drop(index=1))
    assert result["plan"].isna().sum() == 1


def test_applying_to_new_rows_uses_the_training_values_not_their_own() -> None:
    p = params({"column": "spend", "strategy": "mean"},
               {"column": "plan", "strategy": "most_frequent"})
    state = op.fit(LocalContext(), p, table=TABLE)
    row = pd.DataFrame({"spend": [np.nan], "visits": [2], "plan": [None], "active": [True],
                        "joined": [pd.NaT]})
    served = op.apply(LocalContext(), p, state, table=row)["table"]
    assert served.loc[0, "spend"] == 30.0 and served.loc[0, "plan"] == "free"


def test_the_learned_state_is_a_plain_json_friendly_dict() -> None:
    p = params({"column": "visits", "strategy": "mean"},
               {"column": "joined", "strategy": "most_frequent"},
               {"column": "active", "strategy": "most_frequent"})
    state = op.fit(LocalContext(), p, table=TABLE)
    assert json.loads(json.dumps(state)) == {
        "visits": 3.0, "joined": "2024-02-01T00:00:00", "active": False}


def test_its_schema_matches_what_it_produces() -> None:
    p = params({"column": "visits", "strategy": "mean"},
               {"column": "spend", "strategy": "constant", "value": 1},
               {"column": "plan", "strategy": "most_frequent"})
    inferred = op.infer_schema(LocalContext(), p, table=schema_of(TABLE))["table"]
    assert inferred == schema_of(op.run(LocalContext(), p, table=TABLE)["table"])
    assert inferred[1] == {"name": "visits", "type": "float"}
    assert op.infer_schema(LocalContext(), p, table=None) == {"table": None}


def test_a_decimal_constant_turns_a_column_of_whole_numbers_into_decimals() -> None:
    p = params({"column": "visits", "strategy": "constant", "value": 2.5})
    inferred = op.infer_schema(LocalContext(), p, table=schema_of(TABLE))["table"]
    assert inferred is not None and inferred[1]["type"] == "float"
    assert op.run(LocalContext(), p, table=TABLE)["table"]["visits"].tolist() == [
        1.0, 2.5, 4.0, 4.0]


@pytest.mark.parametrize("strategy", ["mean", "median"])
def test_it_rejects_the_mean_or_median_of_text(strategy: str) -> None:
    p = params({"column": "plan", "strategy": strategy})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), p, table=schema_of(TABLE))
    assert err.value.field == "columns.0.strategy"
    assert "holds str values, not numbers" in err.value.message
    with pytest.raises(OperatorError):
        op.run(LocalContext(), p, table=TABLE)


@pytest.mark.parametrize(("column", "value"), [
    ("spend", "zero"), ("plan", 3), ("active", "yes"), ("joined", "someday"), ("visits", True)])
def test_it_rejects_a_constant_that_does_not_fit_the_column(column: str, value: Any) -> None:
    p = params({"column": column, "strategy": "constant", "value": value})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), p, table=schema_of(TABLE))
    assert err.value.field == "columns.0.value"


def test_it_rejects_a_missing_column_before_and_when_running() -> None:
    p = params({"column": "spend", "strategy": "mean"}, {"column": "spnd", "strategy": "mean"})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), p, table=schema_of(TABLE))
    assert err.value.field == "columns.1.column"
    with pytest.raises(OperatorError) as err:
        op.run(LocalContext(), p, table=TABLE)
    assert err.value.field == "columns.1.column"


def test_it_cannot_learn_from_a_column_with_no_values() -> None:
    with pytest.raises(OperatorError) as err:
        fill({"column": "spend", "strategy": "median"}, table=TABLE.iloc[:0])
    assert err.value.field == "columns.0.column"
    assert "no values to learn a median from" in err.value.message


def test_a_constant_fills_an_empty_table_without_complaint() -> None:
    result = fill({"column": "spend", "strategy": "constant", "value": 0}, table=TABLE.iloc[:0])
    assert result.empty and list(result.columns) == list(TABLE.columns)


def test_a_stale_value_is_ignored_when_the_strategy_is_not_constant() -> None:
    assert params({"column": "spend", "strategy": "mean", "value": 9}).columns[0].value is None


@pytest.mark.parametrize("raw", [
    {"columns": []},
    {"columns": [{"column": "spend", "strategy": "constant"}]},
    {"columns": [{"column": "spend", "strategy": "constant", "value": [1]}]},
    {"columns": [{"column": "spend", "strategy": "mode"}]},
])
def test_it_rejects_a_constant_without_a_single_value_and_unknown_strategies(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)
