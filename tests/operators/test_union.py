from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator, schema_of

op = get_operator("transform.union")
JAN = pd.DataFrame({"id": [1, 2], "amount": [10, 20], "paid": [True, False]})
FEB = pd.DataFrame({"paid": [True], "amount": [2.5], "id": [3]})


def union(first: pd.DataFrame = JAN, second: pd.DataFrame = FEB, **raw: Any) -> pd.DataFrame:
    return op.run(LocalContext(), op.parse_params(raw), first=first, second=second)["table"]


def inferred(first: pd.DataFrame, second: pd.DataFrame, **raw: Any) -> Any:
    params = op.parse_params(raw)
    return op.infer_schema(LocalContext(), params, first=schema_of(first),
                           second=schema_of(second))["table"]


def test_by_name_matches_columns_by_name_in_the_first_tables_order() -> None:
    result = union()
    assert list(result.columns) == ["id", "amount", "paid"]
    assert result["id"].tolist() == [1, 2, 3]
    assert result["amount"].tolist() == [10.0, 20.0, 2.5]
    assert list(result.index) == [0, 1, 2]


def test_by_position_matches_columns_by_order_and_keeps_the_first_tables_names() -> None:
    second = pd.DataFrame({"x": [9], "y": [90], "z": [False]})
    result = union(second=second, mode="by_position")
    assert list(result.columns) == ["id", "amount", "paid"]
    assert result.iloc[2].tolist() == [9, 90, False]


def test_allow_missing_keeps_columns_only_one_table_has_without_changing_types() -> None:
    second = pd.DataFrame({"id": [3], "note": ["late"]})
    result = union(second=second, allow_missing=True)
    assert list(result.columns) == ["id", "amount", "paid", "note"]
    assert result["amount"].isna().tolist() == [False, False, True]
    assert result["note"].isna().tolist() == [True, True, False]
    assert schema_of(result) == inferred(JAN, second, allow_missing=True) == [
        {"name": "id", "type": "int"}, {"name": "amount", "type": "int"},
        {"name": "paid", "type": "bool"}, {"name": "note", "type": "str"}]


def test_its_schema_matches_what_it_produces_and_ints_with_floats_are_floats() -> None:
    assert inferred(JAN, FEB) == schema_of(union())
    assert inferred(JAN, FEB)[1] == {"name": "amount", "type": "float"}
    params = op.parse_params({})
    assert op.infer_schema(LocalContext(), params, first=None, second=schema_of(FEB)) == {
        "table": None}


def test_empty_tables_stack_into_the_other_tables_rows() -> None:
    assert len(union(JAN.iloc[:0], FEB)) == 1
    assert union(JAN.iloc[:0], FEB.iloc[:0]).empty
    assert schema_of(union(JAN, FEB.iloc[:0])) == inferred(JAN, FEB.iloc[:0])


def test_it_lists_the_columns_that_differ_unless_allowed() -> None:
    second = FEB.rename(columns={"amount": "total"})
    with pytest.raises(OperatorError) as err:
        inferred(JAN, second)
    assert err.value.field == "allow_missing"
    assert "only in the first: amount; only in the second: total" in err.value.message
    with pytest.raises(OperatorError):
        union(second=second)


def test_by_position_needs_the_same_number_of_columns() -> None:
    with pytest.raises(OperatorError) as err:
        union(second=FEB[["id"]], mode="by_position", allow_missing=True)
    assert err.value.field == "mode"


def test_it_rejects_a_column_holding_different_types() -> None:
    second = FEB.assign(id=["three"])
    with pytest.raises(OperatorError) as err:
        inferred(JAN, second)
    assert err.value.message == ("Column 'id' holds int values in the first table and str "
                                 "in the second; convert one of them first.")
    with pytest.raises(OperatorError):
        union(second=second)


@pytest.mark.parametrize("raw", [{"mode": "by_type"}, {"allow_missing": "sometimes"}])
def test_it_rejects_unknown_modes(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)
