from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator

op = get_operator("transform.select_columns")
TABLE = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [True, False]})
SCHEMA = [{"name": "a", "type": "int"}, {"name": "b", "type": "str"},
          {"name": "c", "type": "bool"}]


def select(columns: list[str], table: pd.DataFrame = TABLE) -> pd.DataFrame:
    return op.run(LocalContext(), op.parse_params({"columns": columns}), table=table)["table"]


def test_it_keeps_the_chosen_columns_in_the_chosen_order() -> None:
    result = select(["c", "a"])
    assert list(result.columns) == ["c", "a"]
    assert result["a"].tolist() == [1, 2]


def test_its_schema_follows_the_chosen_order() -> None:
    params = op.parse_params({"columns": ["c", "a"]})
    assert op.infer_schema(LocalContext(), params, table=SCHEMA) == {"table": [
        {"name": "c", "type": "bool"}, {"name": "a", "type": "int"}]}


def test_its_schema_is_unknown_when_the_input_schema_is() -> None:
    params = op.parse_params({"columns": ["a"]})
    assert op.infer_schema(LocalContext(), params, table=None) == {"table": None}


def test_it_rejects_a_missing_column_when_running() -> None:
    with pytest.raises(OperatorError) as err:
        select(["a", "zzz"])
    assert err.value.field == "columns"
    assert "'zzz'" in err.value.message


def test_it_rejects_a_missing_column_before_running_and_lists_the_available_ones() -> None:
    params = op.parse_params({"columns": ["zzz"]})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), params, table=SCHEMA)
    assert err.value.field == "columns"
    assert "a, b, c" in err.value.message


@pytest.mark.parametrize("raw", [{}, {"columns": []}, {"columns": ["a", "a"]},
                                 {"columns": "a"}])
def test_it_rejects_no_columns_repeated_columns_or_a_bare_string(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)


def test_the_columns_param_is_a_column_picker() -> None:
    columns = op.describe()["params_schema"]["properties"]["columns"]
    assert columns["x-column-of"] == "table"


def test_a_table_with_a_repeated_column_name_keeps_every_column_of_that_name() -> None:
    # A table read from a CSV with two "a" headers: selecting "a" keeps both, as pandas does.
    table = pd.DataFrame([[1, "x", 2]], columns=["a", "b", "a"])
    result = select(["b", "a"], table)
    assert list(result.columns) == ["b", "a", "a"]
    assert result.iloc[0].tolist() == ["x", 1, 2]
