from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, get_operator, schema_of

op = get_operator("transform.sample")
TABLE = pd.DataFrame({"id": range(100), "label": ["a", "b"] * 50})


def sample(table: pd.DataFrame = TABLE, ctx: LocalContext | None = None,
           **raw: Any) -> pd.DataFrame:
    return op.run(ctx or LocalContext(), op.parse_params(raw), table=table)["table"]


def test_n_takes_that_many_distinct_rows() -> None:
    result = sample(n=10)
    assert len(result) == 10 and result["id"].is_unique
    assert set(result["id"]) <= set(TABLE["id"])
    assert list(result.index) == list(range(10))


def test_fraction_takes_that_share_of_the_rows() -> None:
    assert len(sample(fraction=0.25)) == 25


def test_the_same_seed_gives_the_same_rows_and_another_seed_others() -> None:
    assert sample(n=10, seed=1)["id"].tolist() == sample(n=10, seed=1)["id"].tolist()
    assert sample(n=10, seed=1)["id"].tolist() != sample(n=10, seed=2)["id"].tolist()


def test_with_replacement_rows_can_repeat_and_fraction_can_exceed_one() -> None:
    result = sample(fraction=2.0, replace=True)
    assert len(result) == 200 and not result["id"].is_unique


def test_asking_for_more_rows_than_exist_takes_them_all_and_says_so() -> None:
    ctx = LocalContext()
    result = sample(TABLE.head(5), ctx, n=50)
    assert sorted(result["id"]) == [0, 1, 2, 3, 4]
    assert ctx.logs == ["Asked for 50 rows but the table has 5: took them all."]


def test_an_empty_table_gives_an_empty_sample() -> None:
    for raw in ({"n": 3}, {"fraction": 0.5}, {"n": 3, "replace": True}):
        result = sample(TABLE.iloc[:0], **raw)
        assert result.empty and list(result.columns) == ["id", "label"]


def test_the_schema_is_unchanged_and_it_is_skipped_when_serving() -> None:
    schema = schema_of(TABLE)
    params = op.parse_params({"n": 1})
    assert op.infer_schema(LocalContext(), params, table=schema) == {"table": schema}
    assert op.batch_only


@pytest.mark.parametrize("raw", [
    {}, {"n": 5, "fraction": 0.5}, {"n": 0}, {"fraction": 0}, {"fraction": 1.5},
    {"n": "many"}, {"fraction": float("inf"), "replace": True},
    {"fraction": float("nan"), "replace": True},
])
def test_it_needs_exactly_one_of_n_and_fraction_within_bounds(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)
