from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator, schema_of

op = get_operator("transform.pivot")
SALES = pd.DataFrame({
    "region": ["north", "north", "south", "north", "south", "east"],
    "month": [1, 2, 1, 1, np.nan, 3],
    "sales": [10, 20, 5, 1, 99, 7],
    "rep": ["ann", "bob", "cy", "ann", "dee", "eve"],
})


def pivot(table: pd.DataFrame = SALES, ctx: LocalContext | None = None,
          **raw: Any) -> pd.DataFrame:
    params = op.parse_params({"index": ["region"], "columns": "month", "values": "sales",
                              **raw})
    return op.run(ctx or LocalContext(), params, table=table)["table"]


def test_each_value_becomes_a_column_and_cells_combine_with_the_function() -> None:
    ctx = LocalContext()
    result = pivot(ctx=ctx)
    assert list(result.columns) == ["region", "1", "2", "3"]
    assert result["region"].tolist() == ["east", "north", "south"]
    north = result.set_index("region").loc["north"]
    assert north.tolist()[:2] == [11, 20] and pd.isna(north["3"])
    assert ctx.logs == ["Left out 1 row(s) with no 'month' value."]


def test_empty_cells_take_the_fill_value() -> None:
    result = pivot(fill_value=0).set_index("region")
    assert result.loc["north"].tolist() == [11, 20, 0]
    assert result.loc["east"].tolist() == [0, 0, 7]


@pytest.mark.parametrize(("function", "north"), [
    ("mean", [5.5, 20.0]), ("min", [1, 20]), ("max", [10, 20]), ("count", [2, 1])])
def test_the_other_functions_combine_cells_as_named(function: str, north: list) -> None:
    result = pivot(function=function).set_index("region")
    assert result.loc["north", ["1", "2"]].tolist() == north


def test_count_fills_empty_cells_with_zero_and_text_values_work_with_min() -> None:
    assert pivot(function="count").set_index("region").loc["east"].tolist() == [0, 0, 1]
    text = pivot(values="rep", function="min", fill_value="-").set_index("region")
    assert text.loc["north"].tolist() == ["ann", "bob", "-"]


def test_an_empty_table_gives_just_the_index_columns() -> None:
    result = pivot(SALES.iloc[:0])
    assert result.empty and list(result.columns) == ["region"]


def test_its_schema_is_unknown_before_running_but_its_params_are_checked() -> None:
    params = op.parse_params({"index": ["region"], "columns": "month", "values": "sales"})
    assert op.infer_schema(LocalContext(), params, table=schema_of(SALES)) == {"table": None}
    assert op.infer_schema(LocalContext(), params, table=None) == {"table": None}


@pytest.mark.parametrize(("raw", "field"), [
    ({"index": ["regions"]}, "index"), ({"columns": "months"}, "columns"),
    ({"values": "sale"}, "values"), ({"columns": "region"}, "columns"),
    ({"values": "rep", "function": "sum"}, "values"),
    ({"fill_value": "none"}, "fill_value"), ({"values": "rep", "function": "max",
                                              "fill_value": 0}, "fill_value"),
])
def test_it_rejects_missing_columns_and_values_that_do_not_fit(raw: dict, field: str) -> None:
    params = op.parse_params({"index": ["region"], "columns": "month", "values": "sales",
                              **raw})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, table=schema_of(SALES))
    assert err.value.field == field
    with pytest.raises(OperatorError) as err:
        op.run(LocalContext(), params, table=SALES)
    assert err.value.field == field


def test_it_refuses_to_make_more_than_a_thousand_columns() -> None:
    table = pd.DataFrame({"k": ["a"] * 1001, "c": range(1001), "v": 1})
    with pytest.raises(OperatorError) as err:
        pivot(table, index=["k"], columns="c", values="v")
    assert err.value.field == "columns" and "1001 distinct values" in err.value.message


def test_it_refuses_a_new_column_named_like_an_index_column() -> None:
    table = pd.DataFrame({"k": ["a", "b"], "c": ["k", "z"], "v": [1, 2]})
    with pytest.raises(OperatorError) as err:
        pivot(table, index=["k"], columns="c", values="v")
    assert err.value.field == "columns"


@pytest.mark.parametrize("raw", [
    {"columns": "c", "values": "v"}, {"index": [], "columns": "c", "values": "v"},
    {"index": ["k"], "columns": "c", "values": "v", "function": "median"},
    {"index": ["k"], "columns": ["c"], "values": "v"},
])
def test_it_rejects_no_index_unknown_functions_and_several_pivot_columns(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)


def test_a_decimal_fill_value_makes_whole_number_cells_decimals() -> None:
    result = pivot(fill_value=0.5).set_index("region")
    assert result.loc["east"].tolist() == [0.5, 0.5, 7.0]
