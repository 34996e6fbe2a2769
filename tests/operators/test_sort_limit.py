from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator, schema_of

op = get_operator("transform.sort_limit")
TABLE = pd.DataFrame({
    "name": ["c", "a", "d", "b", "e"],
    "spend": [20.0, np.nan, 20.0, 5.0, 30.0],
    "plan": ["pro", "free", "free", "pro", "free"],
})


def sort(table: pd.DataFrame = TABLE, **raw: Any) -> pd.DataFrame:
    return op.run(LocalContext(), op.parse_params(raw), table=table)["table"]


def test_it_sorts_ascending_with_missing_values_last() -> None:
    result = sort(order_by=[{"column": "spend"}])
    assert result["name"].tolist() == ["b", "c", "d", "e", "a"]
    assert list(result.index) == [0, 1, 2, 3, 4]


def test_descending_puts_the_largest_first_and_ties_keep_their_order() -> None:
    assert sort(order_by=[{"column": "spend", "descending": True}])["name"].tolist() == [
        "e", "c", "d", "b", "a"]


def test_later_columns_break_ties_in_their_own_direction() -> None:
    result = sort(order_by=[{"column": "plan"}, {"column": "name", "descending": True}])
    assert result["name"].tolist() == ["e", "d", "a", "c", "b"]


def test_limit_keeps_the_first_rows_after_sorting() -> None:
    assert sort(order_by=[{"column": "spend", "descending": True}], limit=2)[
        "name"].tolist() == ["e", "c"]


def test_without_sort_keys_limit_takes_the_first_rows_as_they_are() -> None:
    assert sort(limit=2)["name"].tolist() == ["c", "a"]
    assert sort(limit=100)["name"].tolist() == ["c", "a", "d", "b", "e"]


def test_an_empty_table_stays_empty() -> None:
    result = sort(TABLE.iloc[:0], order_by=[{"column": "spend"}], limit=3)
    assert result.empty and list(result.columns) == list(TABLE.columns)


def test_the_schema_is_unchanged_and_the_keys_are_checked_before_running() -> None:
    schema = schema_of(TABLE)
    good = op.parse_params({"order_by": [{"column": "spend"}]})
    assert op.infer_schema(LocalContext(), good, table=schema) == {"table": schema}
    bad = op.parse_params({"order_by": [{"column": "spend"}, {"column": "spent"}]})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), bad, table=schema)
    assert err.value.field == "order_by.1.column"
    with pytest.raises(OperatorError) as err:
        op.run(LocalContext(), bad, table=TABLE)
    assert err.value.field == "order_by.1.column"


def test_it_explains_a_column_mixing_text_and_numbers() -> None:
    table = pd.DataFrame({"x": pd.Series([1, "a", 2], dtype=object)})
    with pytest.raises(OperatorError) as err:
        sort(table, order_by=[{"column": "x"}])
    assert err.value.field == "order_by"


@pytest.mark.parametrize("raw", [{"limit": 0}, {"limit": -3}, {"order_by": [{"descending": True}]},
                                 {"order_by": [{"column": "x", "descending": "down"}]}])
def test_it_rejects_a_limit_below_one_and_keys_without_a_column(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)
