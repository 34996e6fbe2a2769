"""Request rows against the serving input's schema: each kind of bad input is named by row
and column, and good rows become the frame batch runs would have given the same values."""
from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from datagran.core.exceptions import PermanentError
from datagran.serving.validation import MAX_PROBLEMS, check_rows
from tests.serving.rows import row_problems

SCHEMA = [{"name": "plan", "type": "str"}, {"name": "tenure", "type": "int"},
          {"name": "spend", "type": "float"}, {"name": "active", "type": "bool"},
          {"name": "since", "type": "datetime"}]
GOOD = {"plan": "pro", "tenure": 3, "spend": 9.5, "active": True,
        "since": "2026-01-02T03:04:05"}


def problems(rows: list) -> set[tuple]:
    with pytest.raises(PermanentError) as err:
        check_rows(rows, SCHEMA)
    return set(row_problems(err.value.extra["fields"]))


def test_good_rows_become_a_frame_with_the_batch_dtypes_and_the_blank_target() -> None:
    rows = [GOOD, {**GOOD, "tenure": None, "spend": 2, "plan": None, "active": None,
                   "since": None}]
    frame = check_rows(rows, SCHEMA, blank=["churned"]).frame
    assert list(frame.columns) == ["plan", "tenure", "spend", "active", "since", "churned"]
    assert str(frame["plan"].dtype) == "str" and frame["plan"].isna().tolist() == [False, True]
    assert frame["tenure"].dtype == "float64"  # an int column with a missing value
    assert frame["spend"].tolist() == [9.5, 2.0]
    assert frame["since"].iloc[0] == pd.Timestamp("2026-01-02T03:04:05")
    assert frame["churned"].isna().all()
    assert check_rows([GOOD], SCHEMA).frame["tenure"].dtype == "int64"


def test_a_whole_float_fits_an_int_column() -> None:
    assert check_rows([{**GOOD, "tenure": 4.0}], SCHEMA).frame["tenure"].tolist() == [4]


@pytest.mark.parametrize(("column", "value", "message"), [
    ("tenure", 2.5, "expected a whole number, got 2.5"),
    ("tenure", True, "expected a whole number, got True"),
    ("tenure", "3", "expected a whole number, got '3'"),
    ("spend", "9.5", "expected a number, got '9.5'"),
    ("active", 1, "expected true or false, got 1"),
    ("plan", 7, "expected text, got 7"),
    ("since", "yesterday", "expected an ISO date-time string, got 'yesterday'"),
    ("since", 20260102, "expected an ISO date-time string, got 20260102"),
])
def test_a_value_of_the_wrong_type_is_named_by_row_and_column(column, value, message) -> None:
    assert problems([GOOD, {**GOOD, column: value}]) == {(1, column, message)}


def test_missing_columns_and_rows_that_are_not_objects_are_named_and_extras_ignored() -> None:
    missing = {k: v for k, v in GOOD.items() if k != "plan"}
    assert problems([GOOD, missing, {**GOOD, "colour": "blue"}, ["pro", 3], {**GOOD,
                     "tenure": "x", "extra": 1}]) == {
        (1, "plan", "missing"), (3, None, "must be an object"),
        (4, "tenure", "expected a whole number, got 'x'")}
    checked = check_rows([GOOD, {**GOOD, "colour": "blue"}, {**GOOD, "extra": 1}], SCHEMA)
    assert checked.ignored == ["colour", "extra"] and list(checked.frame.columns) == \
        [c["name"] for c in SCHEMA]


OPTIONAL: Any = [{**c, "required": c["name"] in ("tenure", "spend")} for c in SCHEMA]


def test_a_column_nothing_reads_may_be_left_out_and_is_missing_in_the_frame() -> None:
    checked = check_rows([{"tenure": 3, "spend": 1.5, "id": "c-1"}], OPTIONAL)
    frame = checked.frame
    assert list(frame.columns) == ["plan", "tenure", "spend", "active", "since"]
    assert frame["tenure"].tolist() == [3] and frame["spend"].tolist() == [1.5]
    assert frame["plan"].isna().all() and frame["since"].isna().all()
    assert frame["active"].isna().all()
    assert checked.ignored == ["id"]
    # Rows with different columns: each checked alone; an optional one given is used.
    mixed = check_rows([{"tenure": 3, "spend": 1.5}, {"tenure": 4, "spend": 2.0,
                                                      "plan": "pro"}], OPTIONAL).frame
    assert mixed["plan"].isna().tolist() == [True, False]
    # A required column is still required, and an optional one given must fit its type.
    with pytest.raises(PermanentError) as err:
        check_rows([{"spend": 1.5, "plan": 7}], OPTIONAL)
    assert set(row_problems(err.value.extra["fields"])) == {
        (0, "tenure", "missing"), (0, "plan", "expected text, got 7")}


def test_the_error_names_the_first_problem_and_lists_at_most_fifty() -> None:
    rows = [{**GOOD, "tenure": "x", "spend": "y"} for _ in range(40)]
    with pytest.raises(PermanentError) as err:
        check_rows(rows, SCHEMA)
    assert "(80 problem(s)); first: row 0, column spend: expected a number" in str(
        err.value.message)
    assert len(row_problems(err.value.extra["fields"])) == MAX_PROBLEMS
