"""Request rows checked against the serving input's schema: every problem, per row and
column, in one 400."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from datagran.core.exceptions import PermanentError
from operators.base import Schema

MAX_PROBLEMS = 50


def _fits(value: Any, kind: str) -> bool:
    if value is None:
        return True
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return kind == "float" or float(value).is_integer()
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


def check_rows(rows: list[Any], schema: Schema, *, blank: Sequence[str] = ()) -> pd.DataFrame:
    """The rows as a frame with the schema's columns and dtypes, plus an all-missing column for
    each name in ``blank`` (the target, which the rows to predict do not have)."""
    expected = {c["name"]: c["type"] for c in schema}
    problems: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            problems.append({"row": i, "column": None, "message": "must be an object"})
            continue
        for name in expected.keys() - row.keys():
            problems.append({"row": i, "column": name, "message": "missing"})
        for name in row.keys() - expected.keys():
            problems.append({"row": i, "column": name, "message": "unexpected column"})
        for name, kind in expected.items():
            if name in row and not _fits(row[name], kind):
                problems.append({"row": i, "column": name,
                                 "message": f"expected {EXPECTED.get(kind, kind)}, "
                                            f"got {row[name]!r}"})
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        problems.sort(key=lambda p: (p["row"], p["column"] or ""))
        first = problems[0]
        where = f"row {first['row']}" + (f", column {first['column']}" if first["column"] else "")
        raise PermanentError(f"The rows do not match the input schema ({len(problems)} "
                             f"problem(s)); first: {where}: {first['message']}.",
                             {"problems": problems[:MAX_PROBLEMS]})
    # Built column by column from plain lists: a request is often one row, and a frame from
    # records followed by a cast per column cost several times the model's own call.
    columns = {name: _column([row.get(name) for row in rows], kind)
               for name, kind in expected.items()}
    for name in blank:
        columns[name] = np.full(len(rows), None, dtype=object)
    return pd.DataFrame(columns, copy=False)


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
