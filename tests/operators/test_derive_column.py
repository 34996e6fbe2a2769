from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator, schema_of

op = get_operator("transform.derive_column")
TABLE = pd.DataFrame({
    "price": [2.5, 4.0, np.nan],
    "qty": [2, 3, 4],
    "plan": ["Pro", "free", None],
    "active": [True, False, True],
    "joined": pd.to_datetime(["2020-01-05", "2021-06-01", None]),
    "unit price": [1, 0, 2],
})


def derive(expression: str, name: str = "out", table: pd.DataFrame = TABLE) -> pd.Series:
    params = op.parse_params({"name": name, "expression": expression})
    return op.run(LocalContext(), params, table=table)["table"][name]


def values(expression: str) -> list[Any]:
    return [None if pd.isna(v) else v for v in derive(expression)]


def inferred_type(expression: str) -> str:
    params = op.parse_params({"name": "out", "expression": expression})
    inferred = op.infer_schema(LocalContext(), params, table=schema_of(TABLE))["table"]
    assert inferred is not None
    return inferred[-1]["type"]


def refusal(expression: str) -> str:
    """The message for an expression refused both on the canvas and when running."""
    params = op.parse_params({"name": "out", "expression": expression})
    with pytest.raises(OperatorError) as before:
        op.infer_schema(LocalContext(), params, table=schema_of(TABLE))
    with pytest.raises(OperatorError) as running:
        op.run(LocalContext(), params, table=TABLE)
    assert before.value.field == running.value.field == "expression"
    assert before.value.message == running.value.message
    return before.value.message


@pytest.mark.parametrize(("expression", "expected"), [
    ("qty * 2 + 1", [5, 7, 9]),
    ("qty / 2", [1.0, 1.5, 2.0]),
    ("qty // 2", [1, 1, 2]),
    ("qty % 2", [0, 1, 0]),
    ("qty ** 2", [4.0, 9.0, 16.0]),
    ("-qty", [-2, -3, -4]),
    ("(qty + 1) * 2", [6, 8, 10]),
    ("price * qty", [5.0, 12.0, None]),
    ('plan + "!"', ["Pro!", "free!", None]),
    ('col("unit price") * 10', [10, 0, 20]),
])
def test_it_computes_arithmetic_over_whole_columns(expression: str, expected: list) -> None:
    assert values(expression) == expected


@pytest.mark.parametrize(("expression", "expected"), [
    ("qty >= 3", [False, True, True]),
    ("qty != 3", [True, False, True]),
    ("1 < qty < 4", [True, True, False]),
    ('plan == "free"', [False, True, False]),
    ("price > 3", [False, True, False]),
    ("active and qty > 2", [False, False, True]),
    ("active or qty == 3", [True, True, True]),
    ("not active", [False, True, False]),
    ('joined > "2021-01-01"', [False, True, False]),
])
def test_comparisons_and_logic_give_true_or_false(expression: str, expected: list) -> None:
    assert values(expression) == expected


@pytest.mark.parametrize(("expression", "expected"), [
    ("abs(qty - 3)", [1, 0, 1]),
    ("round(price / 3, 2)", [0.83, 1.33, None]),
    ("round(qty)", [2, 3, 4]),
    ("sqrt(qty * 4)", [np.sqrt(8), np.sqrt(12), 4.0]),
    ("log(exp(qty))", [2.0, 3.0, 4.0]),
    ("lower(plan)", ["pro", "free", None]),
    ("upper(plan)", ["PRO", "FREE", None]),
    ("len(plan)", [3, 4, None]),
    ("coalesce(price, qty)", [2.5, 4.0, 4.0]),
    ('coalesce(plan, "none")', ["Pro", "free", "none"]),
    ('if_else(qty > 2, "big", "small")', ["small", "big", "big"]),
    ("if_else(price > 3, 1, 0)", [0, 1, 0]),
    ("year(joined)", [2020, 2021, None]),
    ("month(joined) * 100 + day(joined)", [105, 601, None]),
    ("is_null(price) or is_null(plan)", [False, False, True]),
])
def test_the_functions_compute_what_their_names_say(expression: str, expected: list) -> None:
    assert values(expression) == pytest.approx(expected)


def test_a_constant_fills_the_whole_column() -> None:
    assert values("7") == [7, 7, 7]
    assert values('"x"') == ["x", "x", "x"]


def test_a_new_name_appends_a_column_and_an_existing_one_is_replaced_in_place() -> None:
    params = op.parse_params({"name": "qty", "expression": "qty * 10"})
    result = op.run(LocalContext(), params, table=TABLE)["table"]
    assert list(result.columns) == list(TABLE.columns)
    assert result["qty"].tolist() == [20, 30, 40]
    assert list(derive("qty", name="copy").index) == [0, 1, 2]


@pytest.mark.parametrize(("expression", "col_type"), [
    ("qty + 1", "int"), ("qty / 1", "float"), ("qty ** 2", "float"), ("price - qty", "float"),
    ("qty > 1", "bool"), ("is_null(plan)", "bool"), ("lower(plan)", "str"),
    ("len(plan)", "int"), ("year(joined)", "int"), ("coalesce(qty, price)", "float"),
    ('if_else(active, "y", "n")', "str"), ("joined", "datetime"), ("qty // 0", "int"),
])
def test_its_schema_predicts_the_type_it_produces(expression: str, col_type: str) -> None:
    assert inferred_type(expression) == col_type
    assert schema_of(derive(expression).to_frame())[0]["type"] == col_type


def test_integer_division_by_zero_gives_missing_values_not_an_error() -> None:
    assert values("qty // (qty - 3)") == [-2, None, 4]
    assert values("qty / 0") == [np.inf, np.inf, np.inf]


def test_its_schema_is_unknown_when_the_input_schema_is() -> None:
    params = op.parse_params({"name": "out", "expression": "qty + 1"})
    assert op.infer_schema(LocalContext(), params, table=None) == {"table": None}


def test_an_empty_table_gives_an_empty_column_of_the_right_type() -> None:
    result = derive("qty * 2", table=TABLE.iloc[:0])
    assert result.empty and result.dtype.kind == "i"


def test_it_rejects_an_unknown_column_and_lists_the_available_ones() -> None:
    message = refusal("qty + quantity")
    assert "Unknown column 'quantity'" in message and "price, qty, plan" in message
    assert 'written col("unit price")' in refusal("qty + unit")


@pytest.mark.parametrize(("expression", "fragment"), [
    ("plan + 1", "Cannot apply '+' to str and int"),
    ("qty * active", "Cannot apply '*' to int and bool"),
    ("qty > plan", "one type; got int and str"),
    ("not qty", "not needs bool"),
    ("qty and active", "and needs bool"),
    ("lower(qty)", "lower() needs str"),
    ("year(plan)", "year() needs datetime"),
    ("sqrt(plan)", "sqrt() needs int or float"),
    ('if_else(qty, 1, 2)', "condition needs bool"),
    ('if_else(active, 1, "x")', "one type; got int and str"),
    ('joined > "soon"', "'soon' is not a date"),
    ("joined > plan", "cast it to datetime"),
    ("round(price, qty)", "whole number"),
])
def test_it_rejects_values_of_the_wrong_type(expression: str, fragment: str) -> None:
    assert fragment in refusal(expression)


@pytest.mark.parametrize(("expression", "fragment"), [
    ("abs()", "abs() takes 1 argument(s); got 0"),
    ("if_else(active, 1)", "takes 3 argument(s)"),
    ("coalesce(qty)", "takes at least 2"),
    ("round(price, ndigits=2)", "no named arguments"),
    ("col(plan)", "one column name in quotes"),
    ("lower", "call it"),
    ("qty +", "not valid"),
    ("qty = 1", "not valid"),
    ("None", "is_null"),
    ("qty if active else 0", "if_else"),
    ("qty & 1", "'&'"),
    ("qty in [1, 2]", "'in'"),
    ("[qty]", "lists"),
])
def test_it_explains_expressions_it_cannot_read(expression: str, fragment: str) -> None:
    assert fragment in refusal(expression)


@pytest.mark.parametrize(("expression", "fragment"), [
    ("__import__('os')", "'__import__' is not an allowed function"),
    ("__import__('os').system('touch /tmp/pwned')", "attribute access"),
    ("().__class__", "attribute access"),
    ("().__class__.__bases__[0].__subclasses__()", "attribute access"),
    ("qty.__class__", "attribute access"),
    ("plan.upper()", "attribute access"),
    ("open('x')", "'open' is not an allowed function"),
    ("eval('1')", "'eval' is not an allowed function"),
    ("getattr(qty, '__class__')", "'getattr' is not an allowed function"),
    ("'__class__'", "double underscores"),
    ("col('__class__')", "Unknown column '__class__'"),
    ("qty[0]", "indexing"),
    ("(lambda: 1)()", "lambda"),
    ("[q for q in qty]", "comprehensions"),
    ("{}", "dicts"),
    ("(x := 1)", "':='"),
    ("f'{qty}'", "f-strings"),
    ("__builtins__", "Unknown column '__builtins__'"),
    ("9 ** 9 ** 9 ** 9 > 0 and qty.real", "attribute access"),
])
def test_it_refuses_every_attempt_to_escape_the_language(expression: str, fragment: str) -> None:
    assert fragment in refusal(expression)


def test_huge_powers_give_infinity_instead_of_hanging() -> None:
    assert values("9 ** 9 ** 9") == [np.inf, np.inf, np.inf]


@pytest.mark.parametrize("raw", [
    {"expression": "qty"}, {"name": "x"}, {"name": "", "expression": "qty"},
    {"name": "x", "expression": ""}, {"name": "x", "expression": "qty", "extra": 1},
    {"name": "x", "expression": "qty + " * 400},
])
def test_it_rejects_missing_or_empty_params(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)


def test_comparisons_with_missing_values_in_nullable_columns_are_false_except_not_equal() -> None:
    table = pd.DataFrame({"n": pd.array([1, None, 3], dtype="Int64")})
    assert derive("n > 1", table=table).tolist() == [False, False, True]
    assert derive("n != 1", table=table).tolist() == [False, True, True]
    assert derive("n != 1", table=table).dtype == bool
