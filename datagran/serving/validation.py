"""Request rows checked against the serving input's schema: every problem, per row and
column, in one 400. A problem's field is ``rows.<row>.<column>`` (``rows.<row>`` when the row
is not an object), so the error is an ordinary FieldError."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from datagran.core.exceptions import FieldError
from operators.base import Schema
from operators.schema import plain_names

MAX_PROBLEMS = 50


def _fits(value: Any, kind: str) -> bool:
    if value is None:
        return True
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if kind == "float":  # an integer of hundreds of digits is no float either
            return isinstance(value, float) or abs(value) <= sys.float_info.max
        return -(2**63) <= value < 2**63 and float(value).is_integer()
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "datetime":
        if not isinstance(value, str):
            return False
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
        return True
    return isinstance(value, str)


EXPECTED = {"int": "a whole number", "float": "a number", "bool": "true or false",
            "datetime": "an ISO date-time string", "str": "text"}


@dataclass
class CheckedRows:
    frame: pd.DataFrame
    ignored: list[str]  # columns the rows carried that the serving input does not have


def check_rows(rows: list[Any], schema: Schema, *, blank: Sequence[str] = ()) -> CheckedRows:
    """The rows as a frame with the schema's columns and dtypes, plus an all-missing column for
    each name in ``blank`` (the target, which the rows to predict do not have). A column
    the schema marks ``"required": false`` (nothing on the serving path reads it) may be
    left out: it is missing in every row. Columns the schema does not have are ignored and
    named in ``ignored``."""
    expected = {c["name"]: c["type"] for c in schema}
    required = {c["name"] for c in schema if c.get("required", True)}
    keys = rows[0].keys() if rows and type(rows[0]) is dict else None
    if keys is not None and keys >= required and \
            all(type(row) is dict and row.keys() == keys for row in rows):
        # The usual request: every row has the same columns. Checked a column at a time, by
        # the set of value types in it; a cell is looked at alone only when its column is
        # wrong.
        values = {name: [row[name] for row in rows] for name in expected if name in keys}
        problems = [problem for name, kind in expected.items() if name in values
                    and not set(map(type, values[name])) <= _FITTING.get(kind, set())
                    for problem in _cell_problems(values[name], name, kind)]
        ignored = sorted(keys - expected.keys())
    else:
        problems = _row_problems(rows, expected, required)
        values = {name: [row.get(name) for row in rows] for name in expected} \
            if not problems else {}
        ignored = sorted({k for row in rows for k in row} - expected.keys()) \
            if not problems else []
    if problems:
        raise _mismatch(problems)
    absent = [None] * len(rows)
    # Built column by column from plain lists: a request is often one row, and a frame from
    # records followed by a cast per column cost several times the model's own call.
    try:
        columns = {name: _column(values.get(name, absent), kind)
                   for name, kind in expected.items()}
    except OverflowError:  # an integer beyond its column: the type check let every int pass
        raise _mismatch([problem for name, kind in expected.items() if name in values
                         for problem in _cell_problems(values[name], name, kind)]) from None
    for name in blank:
        columns[name] = np.full(len(rows), None, dtype=object)
    return CheckedRows(plain_names(pd.DataFrame(columns, copy=False)), ignored)


def _mismatch(problems: list[dict[str, Any]]) -> FieldError:
    problems.sort(key=lambda p: (p["row"], p["column"] or ""))
    first = problems[0]
    where = f"row {first['row']}" + (f", column {first['column']}" if first["column"] else "")
    fields: dict[str, list[str]] = {}
    for p in problems[:MAX_PROBLEMS]:
        key = f"rows.{p['row']}" + (f".{p['column']}" if p["column"] is not None else "")
        fields.setdefault(key, []).append(p["message"])
    return FieldError(f"The rows do not match the input schema ({len(problems)} "
                      f"problem(s)); first: {where}: {first['message']}.", fields)


# The value types that fit a column type for certain; anything else is checked by _fits
# (a float that is a whole number fits an int column; a datetime is a string to parse).
_NONE = type(None)
_FITTING: dict[str, set[type]] = {"int": {int, _NONE}, "float": {int, float, _NONE},
                                  "bool": {bool, _NONE}, "str": {str, _NONE}}


def _cell_problems(values: list[Any], name: str, kind: str) -> list[dict[str, Any]]:
    return [{"row": i, "column": name,
             "message": f"expected {EXPECTED.get(kind, kind)}, got {_shown(value)}"}
            for i, value in enumerate(values) if not _fits(value, kind)]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _row_problems(rows: list[Any], expected: dict[str, str], required: set[str]
                  ) -> list[dict[str, Any]]:
    """Every problem of rows that are not all objects with the same columns."""
    problems: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            problems.append({"row": i, "column": None, "message": "must be an object"})
            continue
        for name in required - row.keys():
            problems.append({"row": i, "column": name, "message": "missing"})
        problems += [dict(p, row=i) for name, kind in expected.items() if name in row
                     for p in _cell_problems([row[name]], name, kind)]
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems


def _column(values: list[Any], kind: str) -> Any:
    """One column with the dtype batch runs give it (read back from Parquet)."""
    if kind == "datetime":
        return pd.to_datetime(pd.Series(values, dtype=object))
    if kind == "int" and None not in values:
        return np.array(values, dtype="int64")
    if kind in ("int", "float"):
        return np.array([np.nan if v is None else v for v in values], dtype="float64")
    if kind == "str":
        return pd.array(values, dtype="str")
    return values
