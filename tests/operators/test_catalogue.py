"""The catalogue's contract, checked for every registered operator (each declares an
``example`` of valid params), not for a hand-kept list: a new operator is checked as soon as
its entry point is declared."""
from __future__ import annotations

import json
from importlib.metadata import distribution

import pytest

from operators import LocalContext, all_operators, get_operator
from operators.registry import ENTRY_POINT_GROUP

REGISTERED = sorted(op.name for op in all_operators())
# What ships with Datagran: the entry points of its own package (pyproject.toml).
SHIPPED = sorted(ep.name for ep in distribution("datagran").entry_points
                 if ep.group == ENTRY_POINT_GROUP)
# Actions that hand a file to the user rather than send records out.
FILE_ACTIONS = {"action.export_file"}
SENDING_ACTIONS = sorted(n for n in SHIPPED
                         if get_operator(n).category == "action" and n not in FILE_ACTIONS)


def test_every_shipped_operator_is_registered() -> None:
    assert len(SHIPPED) > 20 and set(SHIPPED) <= set(REGISTERED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_operator_describes_itself_as_json_for_the_palette(name: str) -> None:
    op = get_operator(name)
    described = json.loads(json.dumps(op.describe()))
    assert described["name"] == name
    assert described["description"] and described["icon"] != "box" and described["keywords"]
    assert op.__doc__ and "Example" in op.__doc__
    for field, spec in described["params_schema"].get("properties", {}).items():
        assert spec.get("description"), f"{name}.{field} has no description"


@pytest.mark.parametrize("name", REGISTERED)
def test_every_operator_declares_an_example_of_valid_params(name: str) -> None:
    op = get_operator(name)
    op.parse_params(op.example)  # raises pydantic's ValidationError if they are not


@pytest.mark.parametrize("name", SHIPPED)
def test_every_operator_infers_a_schema_for_each_output_when_inputs_are_unknown(
        name: str) -> None:
    op = get_operator(name)
    params = op.parse_params(op.example)
    result = op.infer_schema(LocalContext(), params, **{p.name: None for p in op.inputs})
    assert set(result) == {p.name for p in op.outputs}


@pytest.mark.parametrize("name", SENDING_ACTIONS)
def test_every_action_is_batch_only_and_outputs_the_same_results_table(name: str) -> None:
    op = get_operator(name)
    assert op.batch_only and [p.name for p in op.outputs] == ["results"]
    schema = op.infer_schema(LocalContext(), op.parse_params(op.example), table=None)["results"]
    assert schema is not None
    assert [c["name"] for c in schema] == ["record_key", "status", "reason", "payload"]
    properties = op.describe()["params_schema"]["properties"]
    assert properties["dry_run"]["default"] is False
    assert properties["require_approval"]["default"] is False


def test_a_choice_param_becomes_an_enum_for_the_canvas() -> None:
    schema = get_operator("model.train_classifier").describe()["params_schema"]
    assert schema["properties"]["algorithm"]["enum"] == [
        "logistic_regression", "random_forest", "gradient_boosting", "hist_gradient_boosting"]
