"""transform.select_columns: pandas, DuckDB and Spark keep the same columns, in the order
given, with every row in the input's order."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from .parity import ENGINES, assert_parity, error

ODD = 'the "plan" ñ'
FRAME = pd.DataFrame({
    "id": [3, 1, 2, 5, 4],
    "plan": ["pro", None, "it's", "Zoë", "free"],
    "spend": [10.5, np.nan, 3.0, 80.0, -0.5],
    "visits": pd.array([3, None, 7, 1, None], dtype="Int64"),
    "active": [True, False, True, True, False],
    "trial": pd.array([True, None, False, None, True], dtype="boolean"),
    "joined": pd.to_datetime(["2024-01-05 10:30:00", None, "2023-06-01 00:00:00",
                              "2022-12-31 23:59:59", "2024-03-01 00:00:00"]),
    ODD: ["a", "b", None, "d'", 'e"'],
})

CASES: dict[str, dict[str, Any]] = {
    "reordered": {"columns": ["joined", "id", "plan"]},
    "one": {"columns": ["spend"]},
    "nullable_types": {"columns": ["visits", "trial"]},
    "odd_name": {"columns": [ODD, "active"]},
    "all": {"columns": list(FRAME.columns)},
}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_select_columns_is_the_same_on_every_engine(case: str, engine: str) -> None:
    assert_parity("transform.select_columns", CASES[case], engines=(engine,), table=FRAME)


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_an_empty_table_keeps_the_chosen_columns_on_every_engine(engine: str) -> None:
    result = assert_parity("transform.select_columns", {"columns": [ODD, "visits"]},
                           engines=(engine,), table=FRAME.iloc[:0])
    assert list(result["table"].columns) == [ODD, "visits"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_column_names_the_field_on_every_engine(engine: str) -> None:
    exc = error(engine, "transform.select_columns", {"columns": ["id", 'x" FROM t --']},
                table=FRAME)
    assert exc.field == "columns"
    assert "'x\" FROM t --'" in exc.message
