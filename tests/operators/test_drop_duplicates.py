from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator, schema_of

op = get_operator("transform.drop_duplicates")
TABLE = pd.DataFrame({
    "email": ["a@x", "b@x", "a@x", None, None, "b@x"],
    "plan": ["free", "pro", "pro", "free", "free", "pro"],
    "n": [1, 2, 3, 4, 4, 2],
})


def dedupe(table: pd.DataFrame = TABLE, ctx: LocalContext | None = None,
           **raw: object) -> pd.DataFrame:
    return op.run(ctx or LocalContext(), op.parse_params(raw), table=table)["table"]


def test_without_a_subset_only_rows_equal_in_every_column_are_duplicates() -> None:
    assert dedupe()["n"].tolist() == [1, 2, 3, 4]


def test_a_subset_compares_only_those_columns_and_missing_values_match() -> None:
    assert dedupe(subset=["email"])["n"].tolist() == [1, 2, 4]


def test_keep_last_keeps_the_last_of_each_group_in_table_order() -> None:
    assert dedupe(subset=["email"], keep="last")["n"].tolist() == [3, 4, 2]


def test_it_renumbers_rows_and_logs_how_many_it_removed() -> None:
    ctx = LocalContext()
    result = dedupe(ctx=ctx, subset=["plan"])
    assert list(result.index) == [0, 1]
    assert ctx.logs == ["Removed 4 duplicate row(s) of 6."]


def test_an_empty_table_stays_empty() -> None:
    result = dedupe(TABLE.iloc[:0], subset=["email"])
    assert result.empty and list(result.columns) == list(TABLE.columns)


def test_the_schema_is_unchanged_and_the_subset_checked_before_running() -> None:
    schema = schema_of(TABLE)
    assert op.infer_schema(LocalContext(), op.parse_params({}), table=schema) == {
        "table": schema}
    with pytest.raises(OperatorError) as err:
        op.infer_schema(LocalContext(), op.parse_params({"subset": ["mail"]}), table=schema)
    assert err.value.field == "subset" and "'mail'" in err.value.message


def test_it_rejects_a_missing_column_when_running() -> None:
    with pytest.raises(OperatorError) as err:
        dedupe(subset=["email", "mail"])
    assert err.value.field == "subset"


@pytest.mark.parametrize("raw", [{"keep": "none"}, {"subset": "email"}, {"keep": False}])
def test_it_rejects_unknown_keep_choices_and_a_bare_subset_string(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)
