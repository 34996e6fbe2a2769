from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from operators import LocalContext, OperatorError, get_operator

op = get_operator("connector.upload")
TABLE = pd.DataFrame({"city": ["Lima", "Oslo"], "population": [10.1, 0.7]})


def test_it_outputs_the_uploaded_dataset() -> None:
    ctx = LocalContext(datasets={"ds1": TABLE})
    result = op.run(ctx, op.parse_params({"dataset": "ds1"}))
    pd.testing.assert_frame_equal(result["table"], TABLE)


def test_its_schema_is_the_uploaded_dataset_schema() -> None:
    ctx = LocalContext(datasets={"ds1": TABLE})
    assert op.infer_schema(ctx, op.parse_params({"dataset": "ds1"})) == {"table": [
        {"name": "city", "type": "str"}, {"name": "population", "type": "float"}]}


def test_its_schema_is_unknown_for_a_dataset_the_context_does_not_know() -> None:
    assert op.infer_schema(LocalContext(), op.parse_params({"dataset": "nope"})) == {
        "table": None}


def test_it_reports_a_missing_dataset_on_the_dataset_field() -> None:
    with pytest.raises(OperatorError) as err:
        op.run(LocalContext(), op.parse_params({"dataset": "nope"}))
    assert err.value.field == "dataset"


@pytest.mark.parametrize("raw", [{}, {"dataset": ""}, {"dataset": "ds1", "sheet": 2}])
def test_it_requires_exactly_a_dataset_id(raw: dict) -> None:
    with pytest.raises(ValidationError):
        op.parse_params(raw)


def test_the_dataset_param_asks_the_canvas_for_a_dataset_picker() -> None:
    schema = op.describe()["params_schema"]
    assert schema["properties"]["dataset"]["x-dataset"] is True
    assert schema["required"] == ["dataset"]
