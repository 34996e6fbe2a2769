"""Turn the distinct values of one column into columns (a cross-tab)."""
from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field

from ..base import (
    Context,
    Operator,
    OperatorError,
    Params,
    Port,
    Schema,
    column_field,
    require_columns,
    schema_of,
)
from ._common import NUMERIC, column_of, expect_type

MAX_COLUMNS = 1000
_NUMERIC_ONLY = ("sum", "mean")


class PivotParams(Params):
    index: list[str] = column_field(
        ..., min_length=1, description="One result row per combination of these columns."
    )
    columns: str = column_field(
        ..., description="The column whose distinct values become the new columns."
    )
    values: str = column_field(..., description="The column whose values fill the cells.")
    function: Literal["sum", "mean", "count", "min", "max"] = Field(
        "sum", description="How to combine the values that land in the same cell."
    )
    fill_value: int | float | str | None = Field(
        None, description="What empty cells hold; empty leaves them missing (count uses 0)."
    )


def _check(params: PivotParams, schema: Schema | None) -> None:
    if schema is None:
        return
    require_columns(schema, params.index, field="index")
    column_of(schema, params.columns, field="columns")
    if params.columns in params.index:
        raise OperatorError(f"{params.columns!r} is already an index column.", field="columns")
    allowed = NUMERIC if params.function in _NUMERIC_ONLY else \
        ("int", "float", "bool", "str", "datetime")
    value_type = expect_type(schema, params.values, allowed, field="values",
                             why=f"{params.function!r}")
    numeric_cells = params.function == "count" or value_type in NUMERIC
    wants = (int, float) if numeric_cells else str if value_type == "str" else None
    if params.fill_value is not None and (wants is None or
                                          not isinstance(params.fill_value, wants)):
        raise OperatorError(
            f"{params.fill_value!r} does not fit cells holding "
            f"{'numbers' if numeric_cells else value_type + ' values'}.", field="fill_value")


def _label(value: object) -> str:
    # A column of whole numbers with a gap is read as floats: name its columns 3, not 3.0.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Pivot(Operator):
    """Makes one row per ``index`` combination and one column per value of ``columns``.

    Example: ``{"index": ["region"], "columns": "month", "values": "sales",
    "function": "sum", "fill_value": 0}`` gives a region × month table of sales.

    The new columns are named after the values (as text, 3.0 as 3), in sorted order; rows whose
    ``columns`` value is missing are left out. Because those names depend on the data, the
    output schema is unknown until the node has run: the canvas checks the parameters
    against the input but cannot offer the new columns downstream before a run. At most
    1000 new columns.
    """

    name = "transform.pivot"
    label = "Pivot"
    description = "Turn the values of one column into columns, like a spreadsheet pivot table."
    category = "transform"
    icon = "table"
    keywords = ("pivot", "crosstab", "cross tab", "wide", "reshape", "spread", "unstack")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = PivotParams
    example = {"index": ["region"],
               "columns": "month",
               "values": "sales",
               "function": "sum",
               "fill_value": 0}

    def run(self, ctx: Context, params: PivotParams, table: pd.DataFrame
            ) -> dict[str, pd.DataFrame]:
        _check(params, schema_of(table))
        has_key = table[params.columns].notna()
        if not has_key.all():
            ctx.log(f"Left out {(~has_key).sum()} row(s) with no {params.columns!r} value.")
        rows = table[has_key]
        new_columns = rows[params.columns].nunique()
        if new_columns > MAX_COLUMNS:
            raise OperatorError(
                f"{params.columns!r} has {new_columns} distinct values; a pivot makes at "
                f"most {MAX_COLUMNS} columns.", field="columns")
        fill = 0 if params.fill_value is None and params.function == "count" else \
            params.fill_value
        cells = rows.groupby([*params.index, params.columns], dropna=False, sort=True)[
            params.values].agg(params.function)
        if isinstance(fill, float) and cells.dtype.kind in "iu":
            cells = cells.astype("float64")  # whole-number cells cannot hold 0.5
        wide = cells.unstack(params.columns, fill_value=fill)
        wide.columns = [_label(c) for c in wide.columns]
        clashes = sorted(set(wide.columns) & set(params.index))
        if clashes:
            raise OperatorError(f"A new column would be named like the index column "
                                f"{clashes[0]!r}.", field="columns")
        return {"table": wide.reset_index()}

    def infer_schema(self, ctx: Context, params: PivotParams, table: Schema | None = None
                     ) -> dict[str, Schema | None]:
        _check(params, table)
        return {"table": None}  # the new columns' names are values of the data
