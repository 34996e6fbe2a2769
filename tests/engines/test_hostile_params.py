"""Params and data an attacker probe found crashing the engines or changing results: each
now gives the same rows as pandas, or a clear OperatorError naming what to change, never an
engine's own exception."""
from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from operators import get_operator
from operators.tables import ERR_EMPTY_NAME

from .parity import assert_parity, error

TABLE = pd.DataFrame({"__pivot position": ["x", "x", "y"], "s": ["a", "b", "a"],
                      "v": [1.0, 3.0, 5.0]})


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_a_pivot_index_named_like_its_helper_column_pivots_as_pandas_does(engine: str
                                                                          ) -> None:
    """DuckDB once gave a=3.0, b=NaN for x instead of a=1.0, b=3.0."""
    result = assert_parity("transform.pivot", {"index": ["__pivot position"], "columns": "s",
                                               "values": "v"},
                           engines=(engine,), table=TABLE)
    table = result["table"]
    assert table["__pivot position"].tolist() == ["x", "y"]
    assert table["a"].tolist() == [1.0, 5.0]
    assert table["b"].iloc[0] == 3.0 and pd.isna(table["b"].iloc[1])


@pytest.mark.parametrize(("name", "params"), [
    ("transform.aggregate", {"group_by": ["s", "s"],
                             "aggregations": [{"column": "v", "function": "sum"}]}),
    ("transform.pivot", {"index": ["s", "s"], "columns": "s", "values": "v"}),
])
def test_a_key_listed_twice_is_a_params_error(name: str, params: dict) -> None:
    with pytest.raises(ValidationError, match="'s' is listed more than once"):
        get_operator(name).parse_params(params)


@pytest.mark.parametrize("expression", ["i * 4", "i + i", "abs(i)"])
def test_a_whole_number_past_64_bits_is_an_operator_error_on_duckdb(expression: str) -> None:
    big = pd.DataFrame({"i": [2 ** 62, -(2 ** 63)]})
    exc = error("duckdb", "transform.derive_column", {"name": "y", "expression": expression},
                table=big)
    assert "Derive column" in exc.message or "Overflow" in exc.message, exc.message


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_round_to_an_absurd_number_of_digits_is_refused(engine: str) -> None:
    exc = error(engine, "transform.derive_column", {"name": "y", "expression": "round(f, 400)"},
                table=pd.DataFrame({"f": [1.25]}))
    assert "between -300 and 300" in exc.message


def test_an_empty_column_name_from_the_data_is_a_clear_error_on_duckdb() -> None:
    """A pivot over a value "" makes a column named ""; no SQL engine reads that name."""
    blank = pd.DataFrame({"k": ["x", "x"], "s": ["", "b"], "v": [1, 2]})
    pivoted = assert_parity("transform.pivot", {"index": ["k"], "columns": "s", "values": "v"},
                            engines=("pandas",), table=blank)["table"]
    assert list(pivoted.columns) == ["k", "", "b"]
    exc = error("duckdb", "transform.filter_rows",
                {"conditions": [{"column": "k", "op": "==", "value": "x"}]}, table=pivoted)
    assert exc.message == ERR_EMPTY_NAME


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
@pytest.mark.parametrize("condition", [{"column": "i", "op": "<=", "value": "nan"},
                                       {"column": "f", "op": "in", "value": [1.5, "NaN"]}])
def test_a_filter_compared_with_nan_is_refused_on_every_engine(engine: str,
                                                               condition: dict) -> None:
    """pandas kept no row for i <= NaN and DuckDB every row (NaN sorts last there)."""
    numbers = pd.DataFrame({"i": [1, 2], "f": [1.5, float("nan")]})
    exc = error(engine, "transform.filter_rows", {"conditions": [condition]}, table=numbers)
    assert exc.field == "conditions.0.value"
    assert "use is_null or not_null" in exc.message


@pytest.mark.parametrize(("name", "params"), [
    ("transform.pivot", {"index": ["k"], "columns": "s", "values": "v",
                         "fill_value": 10 ** 30}),
    ("transform.fill_missing", {"columns": [{"column": "v", "strategy": "constant",
                                             "value": 2 ** 63}]}),
])
def test_a_whole_number_param_past_64_bits_is_a_params_error(name: str, params: dict) -> None:
    """pandas failed on these with OverflowError."""
    with pytest.raises(ValidationError, match="must fit in 64 bits"):
        get_operator(name).parse_params(params)


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_a_sql_whole_number_past_64_bits_is_an_operator_error(engine: str) -> None:
    """pandas failed with OverflowError on a HUGEINT the query made."""
    exc = error(engine, "transform.sql",
                {"query": "SELECT 170141183460469231731687303715884105727::HUGEINT AS h FROM a"},
                a=pd.DataFrame({"x": [1]}))
    assert exc.field == "query"


def test_a_sql_hugeint_within_64_bits_comes_back_as_a_whole_number() -> None:
    result = assert_parity("transform.sql", {"query": "SELECT x::HUGEINT AS h FROM a"},
                           engines=("duckdb",), a=pd.DataFrame({"x": [1, -2]}))
    assert result["table"]["h"].tolist() == [1, -2]
