from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator, schema_of

op = get_operator("transform.date_parts")
ALL_PARTS = ["year", "quarter", "month", "day", "weekday", "hour", "week", "dayofyear"]
TABLE = pd.DataFrame({
    "ordered_at": pd.to_datetime(["2024-03-31 14:05", "2023-01-01 00:00", None]),
    "text": ["2024-03-31T14:05:00", "2023-01-01", ""],
    "n": [1, 2, 3],
})


def parts(table: pd.DataFrame = TABLE, **raw: Any) -> pd.DataFrame:
    return op.run(LocalContext(), op.parse_params(raw), table=table)["table"]


def row(table: pd.DataFrame, i: int, prefix: str) -> list[Any]:
    return [None if pd.isna(v) else v for v in table.loc[i, [f"{prefix}_{p}" for p in ALL_PARTS]]]


def test_it_adds_each_part_as_a_whole_number_column() -> None:
    result = parts(column="ordered_at", parts=ALL_PARTS)
    # 31 March 2024 was a Sunday (weekday 6) in ISO week 13, day 91 of a leap year.
    assert row(result, 0, "ordered_at") == [2024, 1, 3, 31, 6, 14, 13, 91]
    # 1 January 2023, a Sunday, belongs to ISO week 52 of 2022.
    assert row(result, 1, "ordered_at") == [2023, 1, 1, 1, 6, 0, 52, 1]


def test_a_missing_date_gives_missing_parts() -> None:
    assert row(parts(column="ordered_at", parts=ALL_PARTS), 2, "ordered_at") == [None] * 8


def test_text_holding_dates_is_read_as_dates() -> None:
    result = parts(column="text", parts=ALL_PARTS)
    assert row(result, 0, "text") == row(parts(column="ordered_at", parts=ALL_PARTS), 0,
                                         "ordered_at")
    assert row(result, 2, "text") == [None] * 8


def test_the_prefix_names_the_new_columns_and_defaults_to_year_month_day() -> None:
    result = parts(column="ordered_at", prefix="o")
    assert list(result.columns) == ["ordered_at", "text", "n", "o_year", "o_month", "o_day"]


def test_a_part_named_like_an_existing_column_replaces_it_in_place() -> None:
    table = TABLE.assign(ordered_at_year="old")[["ordered_at_year", "ordered_at"]]
    result = parts(table, column="ordered_at", parts=["year"])
    assert list(result.columns) == ["ordered_at_year", "ordered_at"]
    assert result["ordered_at_year"].tolist()[:2] == [2024, 2023]


@pytest.mark.parametrize("column", ["ordered_at", "text"])
def test_its_schema_matches_what_it_produces(column: str) -> None:
    params = op.parse_params({"column": column, "parts": ALL_PARTS})
    inferred = op.infer_schema(LocalContext(), params, table=schema_of(TABLE))["table"]
    assert inferred == schema_of(op.run(LocalContext(), params, table=TABLE)["table"])
    assert inferred[-1] == {"name": f"{column}_dayofyear", "type": "int"}
    assert op.infer_schema(LocalContext(), params, table=None) == {"table": None}


def test_an_empty_table_gets_empty_part_columns() -> None:
    result = parts(TABLE.iloc[:0], column="text", parts=["year", "week"])
    assert result.empty and list(result.columns)[-2:] == ["text_year", "text_week"]


def test_it_names_a_value_that_is_not_a_date() -> None:
    table = TABLE.assign(text=["2024-01-01", "next tuesday", "31/02/2024"])
    with pytest.raises(OperatorError) as err:
        parts(table, column="text")
    assert err.value.field == "column"
    assert err.value.message == ("Column 'text' has 2 value(s) that are not dates, "
                                 "e.g. 'next tuesday'.")


def test_it_rejects_a_numeric_column_and_a_missing_one_before_running() -> None:
    for column, fragment in (("n", "holds int values"), ("when", "'when' does not exist")):
        params = op.parse_params({"column": column})
        with pytest.raises(OperatorError, match=fragment) as err:
            op.infer_schema(LocalContext(), params, table=schema_of(TABLE))
        assert err.value.field == "column"
        with pytest.raises(OperatorError):
            op.run(LocalContext(), params, table=TABLE)


def test_a_part_listed_twice_is_added_once() -> None:
    params: Any = op.parse_params({"column": "x", "parts": ["year", "year"]})
    assert params.parts == ["year"]


@pytest.mark.parametrize("raw", [
    {"column": "x", "parts": []}, {"column": "x", "parts": ["decade"]},
    {"column": "x", "prefix": ""}, {"parts": ["year"]},
])
def test_it_rejects_no_parts_unknown_parts_and_an_empty_prefix(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)
