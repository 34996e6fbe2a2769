from __future__ import annotations

import json

import pytest

from operators import LocalContext, all_operators, get_operator
from operators.registry import UnknownOperator, check_registry

# The smallest valid params of each built-in operator.
MINIMAL_PARAMS: dict[str, dict] = {
    "connector.sample_dataset": {}, "connector.upload": {"dataset": "d"},
    "transform.select_columns": {"columns": ["a"]}, "transform.filter_rows": {},
    "transform.split": {}, "model.train_classifier": {"target": "y"}, "model.predict": {},
    "action.export_file": {},
    "transform.rename_columns": {"mapping": [{"column": "a", "new_name": "b"}]},
    "transform.derive_column": {"name": "x", "expression": "1"},
    "transform.cast_columns": {"columns": [{"column": "a", "type": "int"}]},
    "transform.fill_missing": {"columns": [{"column": "a", "strategy": "mean"}]},
    "transform.drop_duplicates": {}, "transform.sort_limit": {}, "transform.sample": {"n": 1},
    "transform.join": {"on": [{"left": "a", "right": "b"}]}, "transform.union": {},
    "transform.aggregate": {"aggregations": [{"column": "a", "function": "count"}]},
    "transform.pivot": {"index": ["a"], "columns": "b", "values": "c"},
    "transform.date_parts": {"column": "a"},
    "transform.rfm": {"customer": "a", "date": "b", "amount": "c"},
    "transform.sql": {"query": "SELECT * FROM a"},
}
BUILT_IN = set(MINIMAL_PARAMS)


def test_the_registry_has_no_problems() -> None:
    assert check_registry() == []


def test_every_built_in_operator_is_registered() -> None:
    assert BUILT_IN <= {op.name for op in all_operators()}


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_every_operator_describes_itself_as_json_for_the_palette(name: str) -> None:
    op = get_operator(name)
    described = json.loads(json.dumps(op.describe()))
    assert described["name"] == name
    assert described["description"] and described["icon"] != "box" and described["keywords"]
    assert op.__doc__ and "Example" in op.__doc__
    for field, spec in described["params_schema"].get("properties", {}).items():
        assert spec.get("description"), f"{name}.{field} has no description"


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_every_operator_infers_a_schema_for_each_output_when_inputs_are_unknown(
        name: str) -> None:
    op = get_operator(name)
    params = op.parse_params(MINIMAL_PARAMS[name])
    result = op.infer_schema(LocalContext(), params, **{p.name: None for p in op.inputs})
    assert set(result) == {p.name for p in op.outputs}


def test_a_choice_param_becomes_an_enum_for_the_canvas() -> None:
    schema = get_operator("model.train_classifier").describe()["params_schema"]
    assert schema["properties"]["algorithm"]["enum"] == [
        "logistic_regression", "random_forest", "gradient_boosting", "hist_gradient_boosting"]


def test_an_unknown_operator_is_reported_by_name() -> None:
    with pytest.raises(UnknownOperator, match="nope"):
        get_operator("nope")


def test_threads_asking_at_once_all_see_the_complete_registry() -> None:
    """Worker threads start together: none may see a half-loaded registry. A fresh process,
    so the registry really starts unloaded."""
    import subprocess
    import sys

    script = """
import threading
from operators import registry
seen, barrier = [], threading.Barrier(8)
def ask():
    barrier.wait()
    seen.append(len(registry.all_operators()))
threads = [threading.Thread(target=ask) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
print(sorted(set(seen)))
"""
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             check=True, env={"PATH": "", "PYTHONPATH": "."}).stdout
        counts = eval_list(out)
        assert len(counts) == 1 and counts[0] > 20, out


def eval_list(text: str) -> list[int]:
    return [int(x) for x in text.strip().strip("[]").split(",")]
