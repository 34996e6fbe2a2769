from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator, schema_of

op = get_operator("transform.rename_columns")
TABLE = pd.DataFrame({"a": [1, 2], "b": ["x", "y"], "c": [True, False]})


def rename(mapping: list[dict[str, Any]], table: pd.DataFrame = TABLE) -> pd.DataFrame:
    params = op.parse_params({"mapping": mapping})
    return op.run(LocalContext(), params, table=table)["table"]


def test_it_renames_columns_and_keeps_their_order_and_values() -> None:
    result = rename([{"column": "b", "new_name": "label"}])
    assert list(result.columns) == ["a", "label", "c"]
    assert result["label"].tolist() == ["x", "y"]


def test_two_columns_can_swap_names() -> None:
    result = rename([{"column": "a", "new_name": "b"}, {"column": "b", "new_name": "a"}])
    assert list(result.columns) == ["b", "a", "c"]
    assert result["a"].tolist() == ["x", "y"]


def test_its_schema_matches_what_it_produces() -> None:
    params = op.parse_params({"mapping": [{"column": "c", "new_name": "active flag"}]})
    inferred = op.infer_schema(LocalContext(), params, table=schema_of(TABLE))["table"]
    assert inferred == schema_of(op.run(LocalContext(), params, table=TABLE)["table"])
    assert inferred[2] == {"name": "active flag", "type": "bool"}
    assert op.infer_schema(LocalContext(), params, table=None) == {"table": None}


def test_an_empty_table_is_renamed_too() -> None:
    result = rename([{"column": "a", "new_name": "z"}], TABLE.iloc[:0])
    assert result.empty and list(result.columns) == ["z", "b", "c"]


def test_it_rejects_a_missing_column_before_and_when_running() -> None:
    params = op.parse_params({"mapping": [{"column": "a", "new_name": "x"},
                                          {"column": "zzz", "new_name": "y"}]})
    for call in (lambda: op.infer_schema(LocalContext(), params, table=schema_of(TABLE)),
                 lambda: op.run(LocalContext(), params, table=TABLE)):
        with pytest.raises(OperatorError) as err:
            call()
        assert err.value.field == "mapping.1.column"
        assert "'zzz'" in err.value.message


def test_it_rejects_a_new_name_that_another_column_already_has() -> None:
    with pytest.raises(OperatorError) as err:
        rename([{"column": "a", "new_name": "c"}])
    assert err.value.field == "mapping.0.new_name"
    assert "two columns named 'c'" in err.value.message


@pytest.mark.parametrize("raw", [
    {}, {"mapping": []}, {"mapping": [{"column": "a", "new_name": ""}]},
    {"mapping": [{"column": "a", "new_name": "x"}, {"column": "a", "new_name": "y"}]},
    {"mapping": {"a": "x"}},
])
def test_it_rejects_no_renames_empty_names_and_a_column_renamed_twice(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)
