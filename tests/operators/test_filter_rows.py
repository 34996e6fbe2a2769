from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator, schema_of

op = get_operator("transform.filter_rows")
TABLE = pd.DataFrame({
    "name": ["Ana", "Ben", "Chen", None],
    "age": [34, 19, 52, 41],
    "spend": [10.5, np.nan, 99.0, 20.0],
    "active": [True, False, True, False],
    "joined": pd.to_datetime(["2020-01-05", "2021-06-01", "2019-03-10", "2022-11-30"]),
})


def keep(conditions: list[dict[str, Any]], combine: str = "all",
         ctx: LocalContext | None = None) -> pd.DataFrame:
    params = op.parse_params({"conditions": conditions, "combine": combine})
    return op.run(ctx or LocalContext(), params, table=TABLE)["table"]


def names(table: pd.DataFrame) -> list[Any]:
    return [n if isinstance(n, str) else None for n in table["name"]]


def test_it_keeps_rows_meeting_a_numeric_comparison() -> None:
    assert names(keep([{"column": "age", "op": ">=", "value": 34}])) == ["Ana", "Chen", None]


def test_a_number_typed_as_text_is_compared_as_a_number() -> None:
    assert names(keep([{"column": "age", "op": "<", "value": "30"}])) == ["Ben"]


def test_a_comparison_never_matches_a_missing_value() -> None:
    assert names(keep([{"column": "spend", "op": "<", "value": 50}])) == ["Ana", None]


def test_in_and_not_in_test_membership() -> None:
    assert names(keep([{"column": "name", "op": "in", "value": ["Ana", "Chen"]}])) == [
        "Ana", "Chen"]
    assert names(keep([{"column": "age", "op": "not_in", "value": [34, 19]}])) == [
        "Chen", None]


def test_is_null_and_not_null_find_missing_values() -> None:
    assert names(keep([{"column": "spend", "op": "is_null"}])) == ["Ben"]
    assert names(keep([{"column": "name", "op": "not_null"}])) == ["Ana", "Ben", "Chen"]


def test_contains_matches_text_case_sensitively_and_skips_missing_values() -> None:
    assert names(keep([{"column": "name", "op": "contains", "value": "n"}])) == [
        "Ana", "Ben", "Chen"]
    assert names(keep([{"column": "name", "op": "contains", "value": "A"}])) == ["Ana"]


def test_true_false_text_and_dates_are_understood() -> None:
    assert names(keep([{"column": "active", "op": "==", "value": "true"}])) == ["Ana", "Chen"]
    assert names(keep([{"column": "joined", "op": ">", "value": "2021-01-01"}])) == [
        "Ben", None]


def test_all_requires_every_condition_and_any_requires_one() -> None:
    conditions = [{"column": "age", "op": ">", "value": 30},
                  {"column": "active", "op": "==", "value": False}]
    assert names(keep(conditions, "all")) == [None]
    assert names(keep(conditions, "any")) == ["Ana", "Ben", "Chen", None]


def test_it_keeps_every_row_without_conditions() -> None:
    pd.testing.assert_frame_equal(keep([]), TABLE)


def test_it_logs_how_many_rows_it_kept_and_renumbers_them() -> None:
    ctx = LocalContext()
    result = keep([{"column": "age", "op": ">", "value": 40}], ctx=ctx)
    assert ctx.logs == ["Kept 2 of 4 rows."]
    assert list(result.index) == [0, 1]
    assert list(result.columns) == list(TABLE.columns)


def test_an_empty_table_gives_an_empty_table() -> None:
    params = op.parse_params({"conditions": [{"column": "age", "op": ">", "value": 1}]})
    result = op.run(LocalContext(), params, table=TABLE.iloc[:0])["table"]
    assert result.empty and list(result.columns) == list(TABLE.columns)


def test_it_rejects_a_filter_on_a_missing_column() -> None:
    with pytest.raises(OperatorError) as err:
        keep([{"column": "age", "op": ">", "value": 1}, {"column": "agee", "op": "is_null"}])
    assert err.value.field == "conditions.1.column"
    assert "'agee'" in err.value.message


def test_it_rejects_comparing_a_numeric_column_with_a_word() -> None:
    with pytest.raises(OperatorError) as err:
        keep([{"column": "age", "op": ">", "value": "old"}])
    assert err.value.field == "conditions.0.value"
    assert err.value.message == "'old' is not a number, but column 'age' holds numbers."


def test_it_rejects_a_word_in_a_list_for_a_numeric_column() -> None:
    with pytest.raises(OperatorError) as err:
        keep([{"column": "age", "op": "in", "value": [19, "x"]}])
    assert err.value.field == "conditions.0.value"


def test_it_rejects_a_bad_date_and_a_bad_boolean() -> None:
    with pytest.raises(OperatorError, match="not a date") as err:
        keep([{"column": "joined", "op": ">", "value": "yesterday-ish"}])
    assert err.value.field == "conditions.0.value"
    with pytest.raises(OperatorError, match="not true or false"):
        keep([{"column": "active", "op": "==", "value": "maybe"}])


def test_it_rejects_contains_on_a_numeric_column() -> None:
    with pytest.raises(OperatorError) as err:
        keep([{"column": "age", "op": "contains", "value": "3"}])
    assert err.value.field == "conditions.0.op"


def test_the_schema_is_unchanged_and_checked_before_running() -> None:
    schema = schema_of(TABLE)
    good = op.parse_params({"conditions": [{"column": "age", "op": ">", "value": 3}]})
    assert op.infer_schema(LocalContext(), good, table=schema) == {"table": schema}
    assert op.infer_schema(LocalContext(), good, table=None) == {"table": None}
    bad = op.parse_params({"conditions": [{"column": "age", "op": ">", "value": "x"}]})
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), bad, table=schema)
    assert err.value.field == "conditions.0.value"


@pytest.mark.parametrize(("condition", "loc"), [
    ({"column": "age", "op": "in", "value": 3}, ("conditions", 0, "value")),
    ({"column": "age", "op": "in", "value": []}, ("conditions", 0, "value")),
    ({"column": "age", "op": ">"}, ("conditions", 0, "value")),
    ({"column": "age", "op": "==", "value": [1]}, ("conditions", 0, "value")),
    ({"column": "name", "op": "contains", "value": 3}, ("conditions", 0, "value")),
    ({"column": "age", "op": "=~", "value": 3}, ("conditions", 0, "op")),
    ({"op": ">", "value": 3}, ("conditions", 0, "column")),
])
def test_it_rejects_a_condition_whose_value_does_not_fit_its_op(
        condition: dict[str, Any], loc: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError) as err:
        op.parse_params({"conditions": [condition]})
    assert err.value.errors()[0]["loc"] == loc


def test_it_ignores_a_leftover_value_on_is_null() -> None:
    params = op.parse_params({"conditions": [{"column": "spend", "op": "is_null", "value": 4}]})
    assert names(op.run(LocalContext(), params, table=TABLE)["table"]) == ["Ben"]


def test_it_rejects_an_unknown_combine() -> None:
    with pytest.raises(ValidationError):
        op.parse_params({"combine": "most"})
