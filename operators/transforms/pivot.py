"""Turn the distinct values of one column into columns (a cross-tab)."""
from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field, field_validator

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
from ..rowhash import fresh_name
from ..tables import Query, Rel, ident, lit
from ._common import (
    NUMERIC,
    column_of,
    conform,
    distinct_columns,
    expect_type,
    types_of,
    whole_number_fits,
)
from .aggregate import clean_rel

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

    @field_validator("index")
    @classmethod
    def _distinct_index(cls, index: list[str]) -> list[str]:
        return distinct_columns(index)

    @field_validator("fill_value")
    @classmethod
    def _fill_fits(cls, value: int | float | str | None) -> int | float | str | None:
        whole_number_fits(value)
        return value


def _check(params: PivotParams, schema: Schema | None) -> None:
    if schema is not None:
        _cell_type(params, schema)


def _cell_type(params: PivotParams, schema: Schema) -> str:
    """The type of every new column, whatever the data (checking the params on the way):
    whole numbers stay whole numbers when some cells are empty."""
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
    cell = "int" if params.function == "count" else \
        "float" if params.function == "mean" else value_type
    return "float" if cell == "int" and isinstance(params.fill_value, float) else cell


def _new_columns(values: list[object], params: PivotParams) -> list[str]:
    """The new columns' names, in order; an error if there would be too many or one would
    be named like an index column."""
    if len(values) > MAX_COLUMNS:
        raise OperatorError(
            f"{params.columns!r} has {len(values)} distinct values; a pivot makes at "
            f"most {MAX_COLUMNS} columns.", field="columns")
    names = [_label(v) for v in values]
    clashes = sorted(set(names) & set(params.index))
    if clashes:
        raise OperatorError(f"A new column would be named like the index column "
                            f"{clashes[0]!r}.", field="columns")
    return names


def _label(value: object) -> str:
    # A column of whole numbers with a gap is read as floats: name its columns 3, not 3.0.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _cell_sql(params: PivotParams, value: str) -> str:
    """The function over the values of one cell's rows, as pandas' groupby computes it."""
    return {"sum": f"coalesce(sum({value}), 0)", "count": f"count({value})",
            "mean": f"avg(CAST({value} AS DOUBLE))", "min": f"min({value})",
            "max": f"max({value})"}[params.function]


def _spread_sql(params: PivotParams, position: int, at: str, cell_of: str) -> str:
    """The new column at ``position`` from the cells (one row per index and position): the
    cell, or the fill value where the index has no rows with that key. As pandas' unstack,
    a cell whose values are all missing stays as the function made it (missing for mean,
    min and max), it is not filled. ``at`` and ``cell_of``: the cells' position and value
    columns (quoted)."""
    cell = f"max(CASE WHEN {at} = {position} THEN {cell_of} END)"
    fill = 0 if params.fill_value is None and params.function == "count" else \
        params.fill_value
    if fill is None:
        return cell
    fill_sql = f"CAST({lit(repr(float(fill)))} AS DOUBLE)" if isinstance(fill, float) else \
        lit(fill)
    if params.function in ("sum", "count"):  # never missing where there are rows
        return f"coalesce({cell}, {fill_sql})"
    return (f"CASE WHEN count(CASE WHEN {at} = {position} THEN 1 END) = 0 "
            f"THEN {fill_sql} ELSE {cell} END")


class Pivot(Operator):
    """Makes one row per ``index`` combination and one column per value of ``columns``.

    Example: ``{"index": ["region"], "columns": "month", "values": "sales",
    "function": "sum", "fill_value": 0}`` gives a region × month table of sales.

    The new columns are named after the values (as text, 3.0 as 3), in sorted order; rows whose
    ``columns`` value is missing are left out. Because those names depend on the data, the
    output schema is unknown until the node has run: the canvas checks the parameters
    against the input but cannot offer the new columns downstream before a run. At most
    1000 new columns. Rows are sorted by the index; a missing index value is a row of its
    own, last.

    Version 2: the new columns have one type whatever the data, so every engine (pandas,
    DuckDB, Spark) gives the same table: sums, minimums and maximums of whole numbers stay
    whole numbers where some cells are empty (version 1 turned such a column into decimals,
    but not when every cell was filled); true/false cells stay true/false.
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
    version = "2"
    example = {"index": ["region"],
               "columns": "month",
               "values": "sales",
               "function": "sum",
               "fill_value": 0}

    def run(self, ctx: Context, params: PivotParams, table: pd.DataFrame
            ) -> dict[str, pd.DataFrame]:
        schema = schema_of(table)
        cell_type = _cell_type(params, schema)
        has_key = table[params.columns].notna()
        if not has_key.all():
            ctx.log(f"Left out {(~has_key).sum()} row(s) with no {params.columns!r} value.")
        rows = table[has_key]
        if rows[params.columns].nunique() > MAX_COLUMNS:
            _new_columns(list(rows[params.columns].unique()), params)
        fill = 0 if params.fill_value is None and params.function == "count" else \
            params.fill_value
        cells = rows.groupby([*params.index, params.columns], dropna=False, sort=True)[
            params.values].agg(params.function)
        if isinstance(fill, float) and cells.dtype.kind in "iu":
            cells = cells.astype("float64")  # whole-number cells cannot hold 0.5
        wide = cells.unstack(params.columns, fill_value=fill)
        wide.columns = _new_columns(list(wide.columns), params)
        types = types_of(schema)
        result = wide.reset_index()
        return {"table": result.assign(**{
            c: conform(result[c], types.get(c, cell_type) if c in params.index else cell_type)
            for c in result.columns})}

    def query(self, q: Query, params: PivotParams, table: Rel) -> dict[str, Rel]:
        cell_type = _cell_type(params, table.schema)
        key, value = ident(params.columns), ident(params.values)
        clean = clean_rel(q, table, list(dict.fromkeys([*params.index, params.columns,
                                                        params.values])))
        keys = q.define(f"SELECT {key} AS value, row_number() OVER (ORDER BY {key}) AS position "
                        f"FROM (SELECT DISTINCT {key} FROM {clean.ref} WHERE {key} IS NOT NULL)"
                        " AS k", [{"name": "value", "type": table.types()[params.columns]},
                                  {"name": "position", "type": "int"}])
        found = q.fetch(f"SELECT value, position, count(*) OVER () AS n FROM {keys.ref} "
                        f"ORDER BY position LIMIT {MAX_COLUMNS}", limit=MAX_COLUMNS)
        total = int(found["n"].iloc[0]) if len(found) else 0
        if total > MAX_COLUMNS:
            _new_columns([None] * total, params)
        names = _new_columns(list(found.sort_values("position")["value"]), params)
        types = table.types()
        index = [ident(c) for c in params.index]
        # Names no index column has (an index named "__pivot position" once took its place).
        at_name = fresh_name(table.schema, "__pivot position")
        cell_name = fresh_name([*table.schema, {"name": at_name}], "__pivot cell")
        at, cell_of = ident(at_name), ident(cell_name)
        cells = q.define(
            f"SELECT {', '.join(f'd.{c}' for c in index)}, k.position AS {at}, "
            f"{_cell_sql(params, f'd.{value}')} AS {cell_of} FROM {clean.ref} AS d "
            f"JOIN {keys.ref} AS k ON d.{key} = k.value "
            f"GROUP BY {', '.join(f'd.{c}' for c in index)}, k.position",
            [*({"name": c, "type": types[c]} for c in params.index),
             {"name": at_name, "type": "int"}, {"name": cell_name, "type": cell_type}])
        spread = [f"{_spread_sql(params, i, at, cell_of)} AS {ident(name)}"
                  for i, name in enumerate(names, start=1)]
        return {"table": q.define(
            f"SELECT {', '.join([*index, *spread])} FROM {cells.ref} "
            f"GROUP BY {', '.join(index)} "
            f"ORDER BY {', '.join(f'{c} ASC NULLS LAST' for c in index)}",
            [*({"name": c, "type": types[c]} for c in params.index),
             *({"name": n, "type": cell_type} for n in names)])}

    def infer_schema(self, ctx: Context, params: PivotParams, table: Schema | None = None
                     ) -> dict[str, Schema | None]:
        _check(params, table)
        return {"table": None}  # the new columns' names are values of the data
