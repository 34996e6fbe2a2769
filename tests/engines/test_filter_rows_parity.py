"""transform.filter_rows: pandas, DuckDB and Spark keep the same rows, in the same order."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from .parity import ENGINES, assert_parity, error

FRAME = pd.DataFrame({
    "id": [1, 2, 3, 4, 5, 6],
    "plan": ["pro", "free", None, "enterprise", "pro", "free"],
    "spend": [10.5, np.nan, 3.0, 80.0, 55.25, 0.0],
    "visits": pd.array([3, None, 7, 1, 0, 2], dtype="Int64"),
    "active": [True, False, True, True, False, True],
    "joined": pd.to_datetime(["2024-01-05", "2023-06-01", None, "2024-03-01", "2022-12-31",
                              "2024-01-05"]),
})

CASES: dict[str, dict[str, Any]] = {
    "in_and_gt": {"conditions": [{"column": "plan", "op": "in", "value": ["pro", "enterprise"]},
                                 {"column": "spend", "op": ">", "value": 50}]},
    "any": {"conditions": [{"column": "plan", "op": "==", "value": "free"},
                           {"column": "visits", "op": ">=", "value": "3"}], "combine": "any"},
    "not_equal_keeps_missing": {"conditions": [{"column": "plan", "op": "!=", "value": "pro"}]},
    "not_equal_nullable_int": {"conditions": [{"column": "visits", "op": "!=", "value": 1}]},
    "not_in": {"conditions": [{"column": "plan", "op": "not_in", "value": ["free"]}]},
    "nulls": {"conditions": [{"column": "spend", "op": "is_null"}]},
    "not_nulls": {"conditions": [{"column": "joined", "op": "not_null"},
                                 {"column": "spend", "op": "not_null"}]},
    "contains": {"conditions": [{"column": "plan", "op": "contains", "value": "r"}]},
    "bool": {"conditions": [{"column": "active", "op": "==", "value": "true"}]},
    "dates": {"conditions": [{"column": "joined", "op": ">=", "value": "2024-01-05"}]},
    "quote_in_value": {"conditions": [{"column": "plan", "op": "==", "value": "x' OR '1'='1"}]},
    "none": {"conditions": []},
}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_filter_rows_is_the_same_on_every_engine(case: str, engine: str) -> None:
    assert_parity("transform.filter_rows", CASES[case], engines=(engine,), table=FRAME)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_value_of_the_wrong_type_names_the_field_on_every_engine(engine: str) -> None:
    exc = error(engine, "transform.filter_rows",
                {"conditions": [{"column": "spend", "op": ">", "value": "lots"}]}, table=FRAME)
    assert exc.field == "conditions.0.value"
