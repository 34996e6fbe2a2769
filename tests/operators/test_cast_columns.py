from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator, schema_of

op = get_operator("transform.cast_columns")
TABLE = pd.DataFrame({
    "age": ["34", " 19 ", "", None],
    "score": [1.0, 2.0, np.nan, 4.0],
    "ratio": [0.5, 2.0, 3.0, np.nan],
    "flag": ["yes", "No", "t", None],
    "when": ["2024-01-31", "2024-02-01 10:30", None, "31 March 2024"],
    "n": [1, 0, 1, 0],
    "ts": pd.to_datetime(["2024-01-31", "2024-02-01", None, "2024-03-31"]),
})


def cast(columns: list[dict[str, str]], errors: str = "fail",
         table: pd.DataFrame = TABLE) -> pd.DataFrame:
    params = op.parse_params({"columns": columns, "errors": errors})
    return op.run(LocalContext(), params, table=table)["table"]


def values(series: pd.Series) -> list[Any]:
    return [None if pd.isna(v) else v for v in series]


def test_text_becomes_whole_numbers_with_blanks_missing() -> None:
    result = cast([{"column": "age", "type": "int"}])
    assert values(result["age"]) == [34, 19, None, None]
    assert result["age"].dtype == "Int64"


def test_whole_numbers_without_gaps_are_plain_integers() -> None:
    assert cast([{"column": "n", "type": "int"}])["n"].dtype == "int64"
    assert cast([{"column": "n", "type": "float"}])["n"].tolist() == [1.0, 0.0, 1.0, 0.0]


def test_decimals_with_a_gap_become_nullable_integers_when_whole() -> None:
    assert values(cast([{"column": "score", "type": "int"}])["score"]) == [1, 2, None, 4]


def test_true_false_words_and_ones_and_zeros_become_booleans() -> None:
    result = cast([{"column": "flag", "type": "bool"}, {"column": "n", "type": "bool"}])
    assert values(result["flag"]) == [True, False, True, None]
    assert result["n"].tolist() == [True, False, True, False]
    assert result["n"].dtype == "bool"


def test_text_in_iso_and_other_formats_becomes_dates() -> None:
    result = cast([{"column": "when", "type": "datetime"}])
    assert values(result["when"]) == [pd.Timestamp("2024-01-31"),
                                      pd.Timestamp("2024-02-01 10:30"), None,
                                      pd.Timestamp("2024-03-31")]


def test_anything_becomes_text_and_missing_values_stay_missing() -> None:
    result = cast([{"column": "score", "type": "str"}, {"column": "ts", "type": "str"}])
    assert values(result["score"]) == ["1.0", "2.0", None, "4.0"]
    assert values(result["ts"]) == ["2024-01-31", "2024-02-01", None, "2024-03-31"]


def test_its_schema_matches_what_it_produces() -> None:
    columns = [{"column": c, "type": t} for c, t in [
        ("age", "int"), ("score", "str"), ("flag", "bool"), ("when", "datetime"),
        ("n", "float")]]
    params = op.parse_params({"columns": columns})
    inferred = op.infer_schema(LocalContext(), params, table=schema_of(TABLE))["table"]
    assert inferred == schema_of(op.run(LocalContext(), params, table=TABLE)["table"])
    assert [c["type"] for c in inferred] == ["int", "str", "float", "bool", "datetime",
                                             "float", "datetime"]
    assert op.infer_schema(LocalContext(), params, table=None) == {"table": None}


def test_it_fails_naming_the_column_and_a_bad_value() -> None:
    table = TABLE.assign(age=["34", "old", "x", None])
    with pytest.raises(OperatorError) as err:
        cast([{"column": "flag", "type": "bool"}, {"column": "age", "type": "int"}],
             table=table)
    assert err.value.field == "columns.1.column"
    assert err.value.message.startswith("Column 'age' has 2 value(s) that cannot be read "
                                        "as whole numbers, e.g. 'old'")


def test_a_decimal_is_not_silently_truncated_to_an_integer() -> None:
    with pytest.raises(OperatorError, match="e.g. 0.5"):
        cast([{"column": "ratio", "type": "int"}])
    assert values(cast([{"column": "ratio", "type": "int"}], "null")["ratio"]) == [
        None, 2, 3, None]


def test_with_errors_null_bad_values_become_missing() -> None:
    table = TABLE.assign(flag=["yes", "maybe", None, "0"], when=["2024-01-01", "soon", None,
                                                                 "2024-01-02"])
    result = cast([{"column": "flag", "type": "bool"},
                   {"column": "when", "type": "datetime"}], "null", table)
    assert values(result["flag"]) == [True, None, None, False]
    assert values(result["when"]) == [pd.Timestamp("2024-01-01"), None, None,
                                      pd.Timestamp("2024-01-02")]


def test_a_bad_date_fails_naming_it() -> None:
    with pytest.raises(OperatorError, match="cannot be read as dates, e.g. 'soon'"):
        cast([{"column": "when", "type": "datetime"}],
             table=TABLE.assign(when=["soon", None, None, None]))


def test_an_empty_table_is_cast_to_the_new_types() -> None:
    result = cast([{"column": "age", "type": "int"}, {"column": "flag", "type": "bool"}],
                  table=TABLE.iloc[:0])
    assert result.empty
    assert schema_of(result)[0]["type"] == "int" and schema_of(result)[3]["type"] == "bool"


@pytest.mark.parametrize(("source", "target"), [("ts", "int"), ("ts", "bool"), ("n", "datetime")])
def test_it_refuses_casts_between_dates_and_numbers(source: str, target: str) -> None:
    params = op.parse_params({"columns": [{"column": source, "type": target}]})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, table=schema_of(TABLE))
    assert err.value.field == "columns.0.type"
    with pytest.raises(OperatorError):
        op.run(LocalContext(), params, table=TABLE)


def test_it_rejects_a_missing_column_before_and_when_running() -> None:
    params = op.parse_params({"columns": [{"column": "agee", "type": "int"}]})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, table=schema_of(TABLE))
    assert err.value.field == "columns.0.column"
    with pytest.raises(OperatorError) as err:
        op.run(LocalContext(), params, table=TABLE)
    assert err.value.field == "columns.0.column"


@pytest.mark.parametrize("raw", [
    {"columns": []},
    {"columns": [{"column": "age", "type": "integer"}]},
    {"columns": [{"column": "age", "type": "int"}], "errors": "ignore"},
    {"columns": [{"column": "age", "type": "int"}, {"column": "age", "type": "str"}]},
])
def test_it_rejects_unknown_types_and_error_modes_and_a_column_cast_twice(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)
