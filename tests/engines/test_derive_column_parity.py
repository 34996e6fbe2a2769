"""transform.derive_column: every operator and function of the expression language gives the
same column on pandas, DuckDB and Spark (missing values, division by zero, whole numbers
against decimals, text, dates), and the same refusals."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from .parity import ENGINES, assert_parity, error

FRAME = pd.DataFrame({
    "a": [7, -7, 7, -7, 0, 5, 12, 3],
    "b": [2, 2, -2, -2, 0, 0, 5, 1],
    "n": pd.array([3, None, -4, 0, 2, None, 10, 1], dtype="Int64"),
    "price": [2.5, np.nan, -1.25, 0.0, 1e-05, 3.675, 1250.0, 1.005],
    "d": [0.5, 2.0, 0.0, -0.0, np.nan, -1.5, 3.0, 0.1],
    "plan": ["Pro", "free", None, "l'été", "x' OR '1'='1", "", "ENTERPRISE", "pro"],
    "active": [True, False, True, True, False, True, False, True],
    "maybe": pd.array([True, None, False, True, None, False, True, None], dtype="boolean"),
    "joined": pd.to_datetime(["2020-01-05", "2021-06-01 13:45", None, "2024-02-29",
                              "1999-12-31 23:59:59", "2021-01-01", "2022-07-14", None],
                             format="ISO8601"),
    "unit price ü \"q\"": [1.5, 0.0, 2.0, np.nan, 4.0, 5.0, -6.0, 7.0],
})

EXPRESSIONS = [
    # arithmetic on whole numbers and decimals
    "a + b * 2 - 1", "a * n", "-a", "+price", "a / b", "a / 0", "price / d", "0 / d",
    "a // b", "a % b", "a // 0", "a % 0", "n // b", "n % b", "7 // 0", "(a // 0) > 1",
    "price // d", "price % d", "a // d", "a % 1.5", "-7.5 // 2", "price // 0.1",
    "a ** 2", "b ** -1", "price ** d", "d ** 0", "1 ** price", "(0 - 8) ** 0.5",
    "9 ** 9 ** 9", "a * 1.5 + n", "price * 0", "1.0 * a / 3",
    # text
    'plan + "!"', 'plan + plan', '"x\' OR 1=1 --" + plan', "lower(plan)", "upper(plan)",
    "len(plan)",
    # comparisons and logic
    "a > b", "a != b", "n > 1", "n != 1", "n == n", "price >= 1", "price != 2.5",
    "1 < a < 10", "a <= b < n", 'plan == "free"', 'plan != "free"', 'plan < "b"',
    "active and a > 0", "active or n > 1", "not active", "maybe and active", "maybe or active",
    "not maybe", 'joined > "2021-01-01"', 'joined != "2021-01-01"', "joined <= joined",
    "sqrt(d) > 0", "d != d",
    # functions
    "abs(a - 10)", "abs(price)", "round(price, 2)", "round(price)", "round(price, -2)",
    "round(a, -1)", "round(a * 125, -2)", "round(a)", "round(price / 3, 1)",
    "log(d)", "log(a)", "exp(d)", "exp(a * 1000)", "sqrt(d)", "sqrt(a)",
    "coalesce(price, n)", "coalesce(n, a)", 'coalesce(plan, "none")', "coalesce(maybe, active)",
    "coalesce(price, d, 0)", 'if_else(a > 2, "big", "small")', "if_else(maybe, 1, 0)",
    "if_else(active, price, a)", "if_else(n > 0, n, 0)", "year(joined)",
    "month(joined) * 100 + day(joined)", "is_null(price) or is_null(plan)", "is_null(n)",
    "is_null(d / 0)", 'col("unit price ü \\"q\\"") * 2', "7", '"x"', "True", "2.5",
    "if_else(b == 0, 0, a / b)", "a / b / (b - 2) / (a + 7)",
    # the column replaced is a column used
    "joined",
]


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_derive_column_is_the_same_on_every_engine(expression: str, engine: str) -> None:
    assert_parity("transform.derive_column", {"name": "out", "expression": expression},
                  engines=(engine,), table=FRAME)


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_an_existing_column_is_replaced_in_place_on_every_engine(engine: str) -> None:
    result = assert_parity("transform.derive_column", {"name": "a", "expression": "a * 10"},
                           engines=(engine,), table=FRAME)["table"]
    assert list(result.columns) == list(FRAME.columns)


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_an_empty_table_gives_an_empty_column_of_the_expression_type(engine: str) -> None:
    assert_parity("transform.derive_column", {"name": "out", "expression": "a / b > 1"},
                  engines=(engine,), table=FRAME.iloc[:0])


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_deep_divisions_stay_small_sql(engine: str) -> None:
    expression = "a" + " / (b + 1" * 25 + ")" * 25
    assert_parity("transform.derive_column", {"name": "out", "expression": expression},
                  engines=(engine,), table=FRAME)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("expression", "fragment"), [
    ("qty + 1", "Unknown column 'qty'"),
    ("plan + 1", "Cannot apply '+' to str and int"),
    ("__import__('os').system('touch /tmp/derive-pwned')", "attribute access"),
    ("col('a\") FROM x; DROP TABLE t; --')", "Unknown column"),
    ('joined > "soon"', "'soon' is not a date"),
])
def test_a_refused_expression_names_the_field_on_every_engine(engine: str, expression: str,
                                                               fragment: str) -> None:
    exc = error(engine, "transform.derive_column", {"name": "out", "expression": expression},
                table=FRAME)
    assert exc.field == "expression" and fragment in exc.message
    assert not os.path.exists("/tmp/derive-pwned")
