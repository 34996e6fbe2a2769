"""transform.cast_columns: pandas, DuckDB and Spark convert every column type to every other
the same way (text trimmed, blank text missing, decimals never truncated, floats written as
Python writes them, dates read from text as pandas reads them), and refuse the same values
with the same message."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from .parity import ENGINES, assert_parity, error

FRAME = pd.DataFrame({
    "age": [" 34 ", "19", "", None, "+5", "00012", "1e3", "9007199254740993"],
    "amount": ["2.5", "-.5", "1E-5", "inf", "-Infinity", None, "  ", "3."],
    "flag": ["yes", "No", "t", None, " FALSE ", "y", "0", "1"],
    "score": [1.0, 2.0, np.nan, 4.0, -0.0, 1e20, 0.0, 3.0],
    "ratio": [0.5, 1e-05, 0.1 + 0.2, 123456789012345678.0, 1e16, 1e15, np.nan, -2.5e-7],
    "big": [1e22, 9999999999999998.0, 0.0001, -1234.5, np.inf, -np.inf, 100.0,
            1.5466344138246346e+18],
    "n": [1, 0, 1, 0, 1, 1, 0, 0],
    "visits": pd.array([3, None, 0, 1, None, 7, 1, 0], dtype="Int64"),
    "active": [True, False, True, True, False, True, False, True],
    "maybe": pd.array([True, None, False, True, None, False, True, None], dtype="boolean"),
    "day": pd.to_datetime(["2024-01-31", "2024-02-01", None, "2024-03-31", "1999-12-31",
                           "2000-02-29", "2024-01-01", "2024-01-02"], format="ISO8601"),
    "stamp": pd.to_datetime(["2024-01-31 10:00", "2024-02-01 10:30:05.250", None,
                             "2024-03-31", "1969-07-20 20:17:40", "2000-02-29", "2024-01-01",
                             "2024-01-02 00:00:01"], format="ISO8601"),
    "micro": pd.to_datetime(["2024-01-31 10:00:00.000001", None, "2024-03-31", "2024-03-31",
                             "2024-03-31", "2024-03-31", "2024-03-31", "2024-03-31"],
                            format="ISO8601"),
    "when \"é\" x": ["2024-01-31", "02/01/2024", None, "31 March 2024", "", "2024-01-31T10:00Z",
                     "2024-02-01 10:30", "03/05/2024"],
})

CASES: dict[str, dict[str, Any]] = {
    "text_to_numbers": {"columns": [{"column": "age", "type": "int"},
                                    {"column": "amount", "type": "float"}]},
    "text_to_bool_and_dates": {"columns": [{"column": "flag", "type": "bool"},
                                           {"column": "when \"é\" x", "type": "datetime"}]},
    "numbers_to_text": {"columns": [{"column": c, "type": "str"}
                                    for c in ("score", "ratio", "big", "n", "visits")]},
    "bools_and_dates_to_text": {"columns": [{"column": c, "type": "str"}
                                            for c in ("active", "maybe", "day", "stamp",
                                                      "micro", "flag")]},
    "numbers_between_types": {"errors": "null",
                              "columns": [{"column": "score", "type": "int"},
                                          {"column": "n", "type": "bool"},
                                          {"column": "visits", "type": "float"},
                                          {"column": "active", "type": "int"},
                                          {"column": "maybe", "type": "float"},
                                          {"column": "big", "type": "int"}]},
    "unchanged_types": {"columns": [{"column": "score", "type": "float"},
                                    {"column": "n", "type": "int"},
                                    {"column": "day", "type": "datetime"},
                                    {"column": "flag", "type": "str"},
                                    {"column": "active", "type": "bool"}]},
    "bad_values_made_missing": {"errors": "null",
                                "columns": [{"column": "ratio", "type": "int"},
                                            {"column": "flag", "type": "int"},
                                            {"column": "score", "type": "bool"},
                                            {"column": "amount", "type": "bool"}]},
}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_cast_columns_is_the_same_on_every_engine(case: str, engine: str) -> None:
    assert_parity("transform.cast_columns", CASES[case], engines=(engine,), table=FRAME)


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_an_empty_table_is_cast_to_the_new_types_on_every_engine(engine: str) -> None:
    assert_parity("transform.cast_columns",
                  {"columns": [{"column": "age", "type": "int"},
                               {"column": "when \"é\" x", "type": "datetime"},
                               {"column": "stamp", "type": "str"},
                               {"column": "ratio", "type": "str"}]},
                  engines=(engine,), table=FRAME.iloc[:0])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("column", "target", "message"), [
    ("age", "int", "Column 'age' has 2 value(s) that cannot be read as whole numbers, "
                   "e.g. '1 OR 1=1; --'"),
    ("amount", "float", "Column 'amount' has 1 value(s) that cannot be read as numbers, "
                        "e.g. 'nan'"),
    ("ratio", "int", "Column 'ratio' has 4 value(s) that cannot be read as whole numbers, "
                     "e.g. 0.5"),
    ("flag", "bool", "Column 'flag' has 1 value(s) that cannot be read as true/false"),
    ("n", "bool", "Column 'n' has 1 value(s) that cannot be read as true/false"),
    ("when \"é\" x", "datetime", "Column 'when \"é\" x' has 1 value(s) that cannot be read "
                                 "as dates, e.g. ' soon '"),
])
def test_a_value_that_cannot_be_read_fails_the_same_on_every_engine(
        engine: str, column: str, target: str, message: str) -> None:
    table = FRAME.assign(age=["1", "1 OR 1=1; --", None, "", "2.5", "3", "4", "5"],
                         amount=["1", "nan", None, "2", "3", "4", "5", "6"],
                         flag=["yes", "maybe", None, "no", "", "1", "0", "t"],
                         n=[1, 0, 2, 0, 1, 1, 0, 0],
                         **{"when \"é\" x": ["2024-01-31", " soon ", None, "", "2024-02-01",
                                             "2024-02-02", "2024-02-03", "2024-02-04"]})
    params = {"columns": [{"column": "score", "type": "float"},
                          {"column": column, "type": target}]}
    exc = error(engine, "transform.cast_columns", params, table=table)
    assert exc.field == "columns.1.column"
    assert exc.message.startswith(message), exc.message
    if engine != "pandas":  # with errors null the same values are missing instead
        assert_parity("transform.cast_columns", {**params, "errors": "null"},
                      engines=(engine,), table=table)
