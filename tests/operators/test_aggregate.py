from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator, schema_of

op = get_operator("transform.aggregate")
TABLE = pd.DataFrame({
    "plan": ["pro", "free", "pro", None, "free", "pro"],
    "spend": [10.0, 2.0, 30.0, 5.0, np.nan, 20.0],
    "visits": [1, 2, 3, 4, 5, 6],
    "active": [True, False, True, True, True, False],
    "email": ["a", "b", "a", "c", None, "d"],
    "joined": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-02-01", "2024-01-05",
                              "2024-03-01", "2024-01-02"]),
})


def aggregate(aggregations: list[dict[str, Any]], group_by: list[str] | None = None,
              table: pd.DataFrame = TABLE) -> pd.DataFrame:
    params = op.parse_params({"group_by": group_by or [], "aggregations": aggregations})
    return op.run(LocalContext(), params, table=table)["table"]


def test_it_summarises_each_group_in_one_row_sorted_with_missing_keys_last() -> None:
    result = aggregate([{"column": "spend", "function": "sum"},
                        {"column": "visits", "function": "mean", "name": "avg_visits"}],
                       ["plan"])
    assert list(result.columns) == ["plan", "spend_sum", "avg_visits"]
    assert result["plan"].tolist()[:2] == ["free", "pro"] and pd.isna(result["plan"][2])
    assert result["spend_sum"].tolist() == [2.0, 60.0, 5.0]
    assert result["avg_visits"].tolist() == [3.5, 10 / 3, 4.0]


@pytest.mark.parametrize(("column", "function", "expected"), [
    ("spend", "count", 5), ("email", "count", 5), ("email", "nunique", 4),
    ("spend", "min", 2.0), ("spend", "max", 30.0), ("spend", "median", 10.0),
    ("visits", "std", pytest.approx(np.std([1, 2, 3, 4, 5, 6], ddof=1))),
    ("active", "sum", 4), ("active", "mean", pytest.approx(4 / 6)),
    ("email", "max", "d"), ("joined", "min", pd.Timestamp("2024-01-01")),
])
def test_without_groups_it_summarises_the_whole_table(column: str, function: str,
                                                      expected: Any) -> None:
    result = aggregate([{"column": column, "function": function}])
    assert len(result) == 1 and result.iloc[0, 0] == expected


def test_several_group_columns_make_one_row_per_combination() -> None:
    result = aggregate([{"column": "visits", "function": "sum"}], ["plan", "active"])
    assert len(result) == 5
    assert result[result["plan"] == "pro"]["visits_sum"].tolist() == [6, 4]


@pytest.mark.parametrize(("column", "function", "col_type"), [
    ("visits", "sum", "int"), ("spend", "sum", "float"), ("active", "sum", "int"),
    ("visits", "mean", "float"), ("visits", "median", "float"), ("visits", "std", "float"),
    ("email", "count", "int"), ("email", "nunique", "int"), ("email", "min", "str"),
    ("joined", "max", "datetime"), ("visits", "max", "int"),
])
def test_its_schema_matches_what_it_produces(column: str, function: str, col_type: str) -> None:
    raw = {"group_by": ["plan"], "aggregations": [{"column": column, "function": function}]}
    params = op.parse_params(raw)
    schema = op.infer_schema(LocalContext(), params, table=schema_of(TABLE))["table"]
    assert schema == [{"name": "plan", "type": "str"},
                      {"name": f"{column}_{function}", "type": col_type}]
    assert schema_of(op.run(LocalContext(), params, table=TABLE)["table"]) == schema
    assert op.infer_schema(LocalContext(), params, table=None) == {"table": None}


def test_an_empty_table_gives_no_groups_or_one_row_for_the_whole_table() -> None:
    aggs = [{"column": "visits", "function": "sum"}, {"column": "visits", "function": "max"},
            {"column": "email", "function": "count"}]
    assert aggregate(aggs, ["plan"], TABLE.iloc[:0]).empty
    whole = aggregate(aggs, table=TABLE.iloc[:0])
    assert whole.iloc[0, 0] == 0 and pd.isna(whole.iloc[0, 1]) and whole.iloc[0, 2] == 0
    assert [c["type"] for c in schema_of(whole)] == ["int", "int", "int"]


@pytest.mark.parametrize(("column", "function"), [
    ("email", "sum"), ("email", "mean"), ("joined", "median"), ("active", "std")])
def test_it_rejects_arithmetic_on_columns_that_are_not_numbers(column: str,
                                                              function: str) -> None:
    params = op.parse_params({"aggregations": [{"column": "visits", "function": "sum"},
                                               {"column": column, "function": function}]})
    for call in (lambda: op.infer_schema(LocalContext(), params, table=schema_of(TABLE)),
                 lambda: op.run(LocalContext(), params, table=TABLE)):
        with pytest.raises(OperatorError) as err:
            call()
        assert err.value.field == "aggregations.1.column"
        assert f"'{function}' needs" in err.value.message


def test_it_rejects_missing_group_and_aggregated_columns() -> None:
    params = op.parse_params({"group_by": ["plans"],
                              "aggregations": [{"column": "visits", "function": "sum"}]})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, table=schema_of(TABLE))
    assert err.value.field == "group_by"
    params = op.parse_params({"aggregations": [{"column": "visit", "function": "sum"}]})
    with pytest.raises(OperatorError) as err:
        op.run(LocalContext(), params, table=TABLE)
    assert err.value.field == "aggregations.0.column"


def test_it_rejects_a_result_named_like_a_group_column() -> None:
    params = op.parse_params({"group_by": ["plan"], "aggregations": [
        {"column": "visits", "function": "sum", "name": "plan"}]})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, table=schema_of(TABLE))
    assert err.value.field == "aggregations.0.name"


@pytest.mark.parametrize("raw", [
    {"aggregations": []},
    {"aggregations": [{"column": "visits", "function": "total"}]},
    {"aggregations": [{"column": "visits", "function": "sum"},
                      {"column": "visits", "function": "sum"}]},
    {"aggregations": [{"column": "a", "function": "sum", "name": "x"},
                      {"column": "b", "function": "max", "name": "x"}]},
])
def test_it_rejects_no_aggregations_unknown_functions_and_repeated_names(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)
