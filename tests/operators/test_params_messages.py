"""Invalid params are explained in plain words naming the field as the form labels it."""
from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from operators.base import Params, column_field, params_errors
from operators.registry import get_operator


class Colour(StrEnum):
    red = "red"
    blue = "blue"


class Condition(BaseModel):
    column: str = column_field(...)
    value: float = Field(ge=0)


class Example(Params):
    features: list[str] = column_field(..., min_length=1, max_length=2)
    test_size: float = Field(0.2, gt=0, lt=1)
    n_clusters: int = Field(3, ge=2, le=50)
    how: Literal["inner", "left"] = "inner"
    colour: Colour = Colour.red
    name: str = Field("x", min_length=1, max_length=5)
    code: str = Field("ab", pattern=r"^[a-z]+$")
    target: str = column_field(...)
    tags: list[str] = Field(default_factory=list, min_length=1)
    conditions: list[Condition] = Field(default_factory=list)
    threshold: float = Field(0.5, title="Decision threshold", ge=0, le=1)


BASE: dict[str, Any] = {"features": ["a"], "target": "y", "tags": ["t"]}


def messages(**changes: Any) -> dict[str, str]:
    raw = {**BASE, **changes}
    with pytest.raises(ValidationError) as caught:
        Example.model_validate({k: v for k, v in raw.items() if v is not ...})
    return {e["field"]: e["message"] for e in params_errors(caught.value, Example)}


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"features": []}, "features", "Choose at least one column for Features."),
    ({"features": ["a", "b", "c"]}, "features", "Choose at most two columns for Features."),
    ({"tags": []}, "tags", "Tags needs at least one item."),
    ({"target": ...}, "target", "Choose a column for Target."),
    ({"test_size": 0}, "test_size", "Test size must be greater than 0, got 0."),
    ({"test_size": 1.5}, "test_size", "Test size must be less than 1, got 1.5."),
    ({"n_clusters": 75}, "n_clusters", "N clusters must be 50 or less, got 75."),
    ({"n_clusters": 1}, "n_clusters", "N clusters must be 2 or more, got 1."),
    ({"threshold": 2}, "threshold", "Decision threshold must be 1 or less, got 2."),
    ({"how": "outer"}, "how", "How must be one of inner or left."),
    ({"colour": "green"}, "colour", "Colour must be one of red or blue."),
    ({"name": ""}, "name", "Name cannot be empty."),
    ({"name": "abcdefgh"}, "name", "Name must be at most 5 characters long."),
    ({"code": "AB"}, "code", "Code is not in the expected form (it must match ^[a-z]+$)."),
    ({"n_clusters": "many"}, "n_clusters", "N clusters must be a whole number."),
    ({"test_size": "big"}, "test_size", "Test size must be a number."),
    ({"extra": 1}, "extra", "Extra is not a setting of this operator."),
    ({"conditions": [{"column": "a", "value": -1}]}, "conditions.0.value",
     "Value must be 0 or more, got -1."),
    ({"conditions": [{"value": 1}]}, "conditions.0.column", "Choose a column for Column."),
])
def test_each_error_type_reads_as_a_sentence_naming_the_field(
        changes: dict[str, Any], field: str, message: str) -> None:
    assert messages(**changes)[field] == message


def test_no_message_keeps_pydantic_wording() -> None:
    found = messages(features=[], test_size=0, n_clusters=1, how="x", name="", target=...)
    for message in found.values():
        assert "should" not in message and "Input" not in message
        assert "after validation" not in message and "Field required" not in message


def test_without_the_model_the_field_is_still_named_from_its_path() -> None:
    with pytest.raises(ValidationError) as caught:
        Example.model_validate({**BASE, "features": []})
    assert params_errors(caught.value) == [
        {"field": "features", "message": "Features needs at least one item."}]


def test_a_real_operator_says_choose_at_least_one_column() -> None:
    op = get_operator("transform.select_columns")
    with pytest.raises(ValidationError) as caught:
        op.parse_params({"columns": []})
    found = params_errors(caught.value, op.Params)
    assert found == [{"field": "columns", "message": "Choose at least one column for Columns."}]
