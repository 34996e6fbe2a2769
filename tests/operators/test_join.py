from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator, schema_of

op = get_operator("transform.join")
ORDERS = pd.DataFrame({
    "order_id": [10, 11, 12, 13],
    "customer_id": pd.array([1, 2, 1, None], dtype="Int64"),
    "amount": [5.0, 7.5, 2.0, 1.0],
    "paid": [True, False, True, True],
})
CUSTOMERS = pd.DataFrame({
    "id": [1, 3, None],
    "name": ["Ana", "Chen", "Nobody"],
    "amount": [100, 300, 0],
})


def join(how: str = "inner", left: pd.DataFrame = ORDERS, right: pd.DataFrame = CUSTOMERS,
         **raw: Any) -> pd.DataFrame:
    params = op.parse_params({"how": how, "on": [{"left": "customer_id", "right": "id"}],
                              **raw})
    return op.run(LocalContext(), params, left=left, right=right)["table"]


def rows(table: pd.DataFrame, *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(None if pd.isna(v) else v for v in row)
            for row in table[list(columns)].itertuples(index=False)]


def test_inner_keeps_rows_with_a_match_on_both_sides() -> None:
    assert rows(join(), "order_id", "name") == [(10, "Ana"), (12, "Ana")]


def test_left_keeps_every_left_row_and_right_every_right_row() -> None:
    assert rows(join("left"), "order_id", "name") == [
        (10, "Ana"), (11, None), (12, "Ana"), (13, None)]
    assert rows(join("right"), "order_id", "name") == [
        (10, "Ana"), (12, "Ana"), (None, "Chen"), (None, "Nobody")]


def test_outer_keeps_every_row_of_both_sides() -> None:
    result = rows(join("outer"), "order_id", "name")
    assert len(result) == 6 and set(result) == {
        (10, "Ana"), (12, "Ana"), (11, None), (13, None), (None, "Chen"), (None, "Nobody")}


def test_a_missing_key_matches_nothing_not_even_another_missing_key() -> None:
    right = CUSTOMERS.assign(id=pd.array([1, 3, None], dtype="Int64"))
    assert rows(join("inner", right=right), "order_id") == [(10,), (12,)]


def test_clashing_right_columns_get_the_suffix_and_a_same_named_key_is_kept_once() -> None:
    assert list(join().columns) == ["order_id", "customer_id", "amount", "paid", "id", "name",
                                    "amount_right"]
    right = CUSTOMERS.rename(columns={"id": "customer_id"})
    params = op.parse_params({"on": [{"left": "customer_id", "right": "customer_id"}],
                              "suffix": "_c"})
    result = op.run(LocalContext(), params, left=ORDERS, right=right)["table"]
    assert list(result.columns) == ["order_id", "customer_id", "amount", "paid", "name",
                                    "amount_c"]


def test_it_joins_on_several_key_pairs() -> None:
    left = pd.DataFrame({"k1": [1, 1, 2], "k2": ["a", "b", "a"], "x": [1, 2, 3]})
    right = pd.DataFrame({"r1": [1, 2], "r2": ["b", "a"], "y": ["one-b", "two-a"]})
    params = op.parse_params({"on": [{"left": "k1", "right": "r1"},
                                     {"left": "k2", "right": "r2"}]})
    result = op.run(LocalContext(), params, left=left, right=right)["table"]
    assert rows(result, "x", "y") == [(2, "one-b"), (3, "two-a")]


@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
def test_its_schema_matches_what_it_produces_whatever_finds_no_match(how: str) -> None:
    params = op.parse_params({"how": how, "on": [{"left": "customer_id", "right": "id"}]})
    inferred = op.infer_schema(LocalContext(), params, left=schema_of(ORDERS),
                               right=schema_of(CUSTOMERS))["table"]
    assert inferred == schema_of(join(how))
    assert {"name": "paid", "type": "bool"} in inferred
    assert {"name": "amount_right", "type": "int"} in inferred


def test_a_shared_key_that_is_int_on_one_side_and_float_on_the_other_becomes_float() -> None:
    right = CUSTOMERS.rename(columns={"id": "customer_id"})
    params = op.parse_params({"how": "outer",
                              "on": [{"left": "customer_id", "right": "customer_id"}]})
    inferred = op.infer_schema(LocalContext(), params, left=schema_of(ORDERS),
                               right=schema_of(right))["table"]
    assert inferred is not None and inferred[1] == {"name": "customer_id", "type": "float"}
    result = op.run(LocalContext(), params, left=ORDERS, right=right)["table"]
    assert schema_of(result) == inferred


def test_empty_tables_join_into_an_empty_table_with_every_column() -> None:
    for left, right in ((ORDERS.iloc[:0], CUSTOMERS), (ORDERS, CUSTOMERS.iloc[:0])):
        result = join("inner", left, right)
        assert result.empty and len(result.columns) == 7
    assert len(join("left", ORDERS, CUSTOMERS.iloc[:0])) == 4


def test_its_schema_is_unknown_if_either_input_is_but_known_keys_are_still_checked() -> None:
    params = op.parse_params({"on": [{"left": "customer_id", "right": "id"}]})
    assert op.infer_schema(LocalContext(), params, left=schema_of(ORDERS), right=None) == {
        "table": None}
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, left=None, right=schema_of(ORDERS))
    assert err.value.field == "on.0.right"


@pytest.mark.parametrize(("key", "field"), [
    ({"left": "cust", "right": "id"}, "on.0.left"), ({"left": "customer_id", "right": "ID"},
                                                     "on.0.right")])
def test_it_rejects_a_key_missing_on_either_side(key: dict, field: str) -> None:
    params = op.parse_params({"on": [key]})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, left=schema_of(ORDERS),
                        right=schema_of(CUSTOMERS))
    assert err.value.field == field
    with pytest.raises(OperatorError) as err:
        op.run(LocalContext(), params, left=ORDERS, right=CUSTOMERS)
    assert err.value.field == field


def test_it_rejects_keys_of_different_types() -> None:
    right = CUSTOMERS.assign(id=["1", "3", None])
    with pytest.raises(OperatorError) as err:
        join(right=right)
    assert err.value.field == "on.0.right"
    assert err.value.message == ("Cannot match 'customer_id' (int) with 'id' (str): convert "
                                 "one of them first.")


def test_it_rejects_a_suffix_that_makes_a_name_clash() -> None:
    right = CUSTOMERS.assign(amount_x=1)
    with pytest.raises(OperatorError) as err:
        join(right=right, suffix="_x")
    assert err.value.field == "suffix"


@pytest.mark.parametrize("raw", [
    {"on": []}, {}, {"on": [{"left": "a"}]}, {"on": [{"left": "a", "right": "b"}], "how": "cross"},
    {"on": [{"left": "a", "right": "b"}], "suffix": ""},
])
def test_it_rejects_no_keys_half_keys_unknown_joins_and_an_empty_suffix(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)


def test_its_key_pickers_read_from_the_matching_input() -> None:
    defs = op.describe()["params_schema"]["$defs"]["JoinKey"]["properties"]
    assert defs["left"]["x-column-of"] == "left" and defs["right"]["x-column-of"] == "right"
