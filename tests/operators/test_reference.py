from __future__ import annotations

import pytest

from operators import all_operators
from operators.reference import render_reference

REFERENCE = render_reference()


@pytest.mark.parametrize("name", sorted(op.name for op in all_operators()
                                         if type(op).__module__.startswith("operators.")))
def test_every_registered_operator_has_a_section(name: str) -> None:
    assert f"(`{name}`)" in REFERENCE


def test_each_category_has_a_heading_in_palette_order() -> None:
    headings = [line for line in REFERENCE.splitlines() if line.startswith("## ")]
    assert headings == ["## Connectors", "## Transforms", "## Models", "## Actions",
                        "## Pipelines"]


def test_params_are_tabulated_with_type_default_and_description() -> None:
    assert "| `how` | `\"inner\"` or `\"left\"` or `\"right\"` or `\"outer\"` | `\"inner\"` |" \
        in REFERENCE
    assert "| `on[].left` | text | required | Key column of the left table. |" in REFERENCE
    assert "| `limit` | integer (or empty) | `null` |" in REFERENCE


def test_ports_and_serving_behaviour_are_listed() -> None:
    section = REFERENCE.split("(`transform.sql`)")[1].split("\n### ")[0]
    assert "- Inputs: `a` (table), `b` (table, optional), `c` (table, optional)" in section
    fill = REFERENCE.split("(`transform.fill_missing`)")[1].split("\n### ")[0]
    assert "serving reuses what it learned" in fill


def test_a_pipe_in_a_description_does_not_break_the_table() -> None:
    for line in REFERENCE.splitlines():
        if line.startswith("| `"):
            assert line.replace("\\|", "").count("|") == 5, line
