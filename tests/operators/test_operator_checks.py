"""The registry checks each operator as it loads: its compute methods take the input ports as
keyword arguments, its port types are known, its params schema builds. A broken operator is
an error naming it, at start-up."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import ConfigDict

from operators.base import Operator, Params, Port
from operators.checks import check_operator

ROOT = Path(__file__).resolve().parents[2]


class Good(Operator):
    name = "test.good"
    label = "Good"
    category = "transform"
    inputs = (Port("table", "table"), Port("other", "table", optional=True))
    outputs = (Port("table", "table"),)

    def run(self, ctx: Any, params: Any, table: pd.DataFrame,
            other: pd.DataFrame | None = None) -> dict:
        return {"table": table}


def problems_of(**attributes: Any) -> list[str]:
    """The problems of Good with some attributes replaced."""
    return check_operator(type("Broken", (Good,), attributes))


def test_a_well_formed_operator_has_no_problems() -> None:
    assert check_operator(Good) == []


def test_an_operator_taking_all_inputs_as_keywords_has_no_problems() -> None:
    assert problems_of(run=lambda self, ctx, params, **inputs: {}) == []


def test_a_run_argument_that_is_no_input_port_is_named() -> None:
    def run(self: Any, ctx: Any, params: Any, data: Any, other: Any = None) -> dict:
        return {}

    assert problems_of(run=run) == [
        "test.good: run() takes 'data', which is not an input port (inputs: table, other)",
        "test.good: run() does not take the input port 'table'"]


def test_an_optional_input_needs_a_default() -> None:
    def run(self: Any, ctx: Any, params: Any, table: Any, other: Any) -> dict:
        return {}

    assert problems_of(run=run) == [
        "test.good: run() needs a default for the optional input 'other'"]


def test_fit_and_apply_are_checked_against_the_ports_after_their_leading_arguments() -> None:
    def fit(self: Any, ctx: Any, params: Any, table: Any, other: Any = None) -> Any:
        return None

    def apply(self: Any, ctx: Any, params: Any, table: Any, other: Any = None) -> dict:
        return {}  # forgot the state: `table` would receive it

    assert problems_of(fit=fit, apply=apply) == [
        "test.good: apply() does not take the input port 'table'"]


def test_an_unknown_port_type_is_named() -> None:
    problems = problems_of(outputs=(Port("picture", "image"),))  # type: ignore[arg-type]
    assert problems == ["test.good: output port 'picture' has unknown type 'image' "
                        "(one of ('table', 'model'))"]


def test_a_params_schema_that_does_not_build_is_named() -> None:
    class Opaque:
        pass

    class OpaqueParams(Params):
        model_config = ConfigDict(arbitrary_types_allowed=True)
        thing: Opaque | None = None

    problems = problems_of(Params=OpaqueParams)
    assert len(problems) == 1
    assert problems[0].startswith("test.good: params schema does not build:")


def test_an_operator_that_computes_nothing_or_half_is_named() -> None:
    assert problems_of(run=Operator.run) == [
        "test.good: implements neither run nor fit and apply"]
    assert problems_of(run=Operator.run, fit=lambda self, ctx, params, **inputs: None) == [
        "test.good: implements fit without apply"]


def test_an_unknown_category_and_a_missing_label_are_named() -> None:
    assert problems_of(category="widget", label=None) == [
        "test.good: sets no label",
        "test.good: unknown category 'widget' (one of ('connector', 'transform', 'model', "
        "'action', 'pipeline'))"]


@pytest.mark.slow  # starts Django in a subprocess
def test_a_broken_plugin_stops_the_start_naming_the_operator(tmp_path: Path) -> None:
    env = {**os.environ, "DATAGRAN_OPERATOR_MODULES": "tests.plugins.broken",
           "DATAGRAN_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "datagran.settings"}
    check = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode != 0
    assert "datagran.E001" in check.stderr
    assert ("test.misnamed_input: run() takes 'data', which is not an input port "
            "(inputs: table)") in check.stderr
    assert "transform.sample: two operators have this name" in check.stderr
    load = subprocess.run([sys.executable, "-c", "import operators; operators.all_operators()"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert load.returncode != 0
    assert "BrokenOperators" in load.stderr and "test.misnamed_input: run()" in load.stderr
