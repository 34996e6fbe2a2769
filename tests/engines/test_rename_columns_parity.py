"""transform.rename_columns: pandas, DuckDB and Spark give the same names, order and values."""
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
    "one": {"mapping": [{"column": "plan", "new_name": "tier"}]},
    "swap": {"mapping": [{"column": "id", "new_name": "spend"},
                         {"column": "spend", "new_name": "id"}]},
    "to_odd_names": {"mapping": [{"column": "joined", "new_name": "joined on 'day' \"ü\""},
                                 {"column": "visits", "new_name": "x\" FROM t; --"}]},
    "from_odd_name": {"mapping": [{"column": ODD, "new_name": "plain"}]},
    "every_type": {"mapping": [{"column": c, "new_name": f"{c} (new)"} for c in FRAME]},
}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_rename_columns_is_the_same_on_every_engine(case: str, engine: str) -> None:
    assert_parity("transform.rename_columns", CASES[case], engines=(engine,), table=FRAME)


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_an_empty_table_is_renamed_on_every_engine(engine: str) -> None:
    result = assert_parity("transform.rename_columns", CASES["swap"], engines=(engine,),
                           table=FRAME.iloc[:0])
    assert list(result["table"].columns)[:3] == ["spend", "plan", "id"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_clash_of_names_names_the_field_on_every_engine(engine: str) -> None:
    exc = error(engine, "transform.rename_columns",
                {"mapping": [{"column": "plan", "new_name": "id"}]}, table=FRAME)
    assert exc.field == "mapping.0.new_name"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_column_names_the_field_on_every_engine(engine: str) -> None:
    exc = error(engine, "transform.rename_columns",
                {"mapping": [{"column": "id", "new_name": "a"},
                             {"column": "nope", "new_name": "b"}]}, table=FRAME)
    assert exc.field == "mapping.1.column"
