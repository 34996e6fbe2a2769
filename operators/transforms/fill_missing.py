"""Fill missing values with a constant or with what is typical of the training table."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pandas as pd
from pydantic import Field, ValidationInfo, field_validator

from ..base import (
    Context,
    Operator,
    OperatorError,
    Params,
    Port,
    Schema,
    column_field,
    schema_of,
)
from ..tables import SQL_TYPES, Query, Rel, ident, lit
from ._common import NUMERIC, column_of, conform, whole_number_fits
from .aggregate import clean_rel, median_sql, value_sql

Strategy = Literal["mean", "median", "most_frequent", "constant"]
_LEARNED: dict[str, Callable[[pd.Series], Any]] = {
    "mean": lambda s: s.mean(),
    "median": lambda s: s.median(),
    "most_frequent": lambda s: s.mode().iloc[0],  # mode() is sorted: ties go to the smallest
}


class Fill(Params):
    column: str = column_field(..., description="The column whose missing values to fill.")
    strategy: Strategy = Field(
        "constant", description="Fill with the column's mean, median or most frequent value "
        "in the training table, or with a constant.",
    )
    value: Any = Field(
        None, validate_default=True, description="The constant (only for 'constant')."
    )

    @field_validator("value")
    @classmethod
    def _value_fits_strategy(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("strategy") != "constant":
            return None  # the canvas may keep a stale value around when the strategy changes
        if value is None or isinstance(value, (list, dict)):
            raise ValueError("'constant' needs a single value")
        return whole_number_fits(value)


class FillMissingParams(Params):
    columns: list[Fill] = Field(..., min_length=1, description="The columns to fill.")


def _filled_type(i: int, fill: Fill, schema: Schema) -> str:
    """The column's type once filled; errors where the strategy does not fit the column."""
    col_type = column_of(schema, fill.column, field=f"columns.{i}.column")
    if fill.strategy in ("mean", "median"):
        if col_type not in NUMERIC:
            raise OperatorError(
                f"The {fill.strategy} of column {fill.column!r} cannot be computed: it holds "
                f"{col_type} values, not numbers.", field=f"columns.{i}.strategy")
        return "float"  # the mean of whole numbers is usually not one
    if fill.strategy == "constant":
        return _constant_type(i, fill, col_type)
    return col_type


_FITS: dict[str, Callable[[Any], bool]] = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "datetime": lambda v: isinstance(v, str) and pd.notna(pd.to_datetime(v, errors="coerce")),
}


def _constant_type(i: int, fill: Fill, col_type: str) -> str:
    if col_type == "int" and _FITS["float"](fill.value) and not _FITS["int"](fill.value):
        return "float"  # 2.5 in a column of whole numbers: the column becomes decimals
    if not _FITS[col_type](fill.value):
        raise OperatorError(
            f"{fill.value!r} does not fit column {fill.column!r}, which holds {col_type} "
            "values.", field=f"columns.{i}.value")
    return col_type


def _plain(value: Any) -> Any:
    """A JSON-friendly version of a learned value: state must survive storage."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


def _fetch_stats(q: Query, table: Rel, stats: list[tuple[int, Fill]]
                 ) -> dict[int, tuple[int, Any]]:
    """Every mean and median in one pass: {i: (values counted, the statistic)}."""
    columns = list(dict.fromkeys(f.column for _, f in stats))
    clean = clean_rel(q, table, columns,
                      medians=[f.column for _, f in stats if f.strategy == "median"])
    parts = []
    for i, fill in stats:
        c = ident(fill.column)
        value = median_sql(q, fill.column) if fill.strategy == "median" else \
            f"avg(CAST({c} AS DOUBLE))"  # pandas' mean is in floats
        parts += [f"count({c}) AS {ident(f'n{i}')}", f"{value} AS {ident(f'v{i}')}"]
    row = q.fetch(f"SELECT {', '.join(parts)} FROM {clean.ref}", limit=1).iloc[0]
    return {i: (int(row[f"n{i}"]), row[f"v{i}"]) for i, _ in stats}


def _fetch_mode(q: Query, table: Rel, column: str) -> tuple[int, Any]:
    """The most frequent value, the smallest of a tie (pandas' mode is sorted); (0, None)
    when the column has no values."""
    clean = clean_rel(q, table, [column])
    top = q.fetch(f"SELECT {ident(column)} AS v, count(*) AS n FROM {clean.ref} "
                  f"WHERE {ident(column)} IS NOT NULL GROUP BY {ident(column)} "
                  "ORDER BY n DESC, v ASC LIMIT 1", limit=1)
    return (0, None) if top.empty else (int(top["n"].iloc[0]), top["v"].iloc[0])


def _fill_sql(value: Any, col_type: str) -> str:
    """A learned or constant value as a literal of the filled column's type."""
    if col_type == "datetime":
        return lit(pd.Timestamp(value))
    if col_type == "float":
        # Through text: Python's repr reads back as the very same double on every engine.
        return f"CAST({lit(repr(float(value)))} AS DOUBLE)"
    return lit(value)


class FillMissing(Operator):
    """Fills the missing values of some columns.

    Example: ``{"columns": [{"column": "spend", "strategy": "median"},
    {"column": "plan", "strategy": "constant", "value": "free"}]}``.

    Mean, median and most frequent value are learned from the whole table when the pipeline
    is trained, and the same values fill rows when it serves: a new row's missing ``spend``
    gets the training median, not its own. Mean and median make a column of decimals.

    On an engine (DuckDB, Spark) the same values are learned: the median is the two middle
    values added and halved, as pandas computes it; a tie for most frequent goes to the
    smallest value (text by code point), as pandas' sorted ``mode`` does. A mean of decimals
    may differ from pandas' in the last bits (the order of additions differs), never more.
    """

    name = "transform.fill_missing"
    label = "Fill missing values"
    description = "Replace missing values with a constant, the mean, median or most common value."
    category = "transform"
    icon = "paint-bucket"
    keywords = ("fill", "missing", "impute", "null", "nan", "na", "mean", "median", "default")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = FillMissingParams
    example = {"columns": [{"column": "spend", "strategy": "median"},
                           {"column": "plan", "strategy": "constant", "value": "free"}]}

    def fit(self, ctx: Context, params: FillMissingParams, table: pd.DataFrame
            ) -> dict[str, Any]:
        schema = schema_of(table)
        state: dict[str, Any] = {}
        for i, fill in enumerate(params.columns):
            _filled_type(i, fill, schema)
            if fill.strategy == "constant":
                state[fill.column] = fill.value
                continue
            present = table[fill.column].dropna()
            if present.empty:
                raise OperatorError(
                    f"Column {fill.column!r} has no values to learn a {fill.strategy} from.",
                    field=f"columns.{i}.column")
            state[fill.column] = _plain(_LEARNED[fill.strategy](present))
            ctx.log(f"{fill.column}: missing values become {state[fill.column]!r}.")
        return state

    def apply(self, ctx: Context, params: FillMissingParams, state: dict[str, Any],
              table: pd.DataFrame) -> dict[str, pd.DataFrame]:
        schema = schema_of(table)
        filled = {}
        for i, fill in enumerate(params.columns):
            col_type = _filled_type(i, fill, schema)
            series = conform(table[fill.column], col_type)
            value = state[fill.column]
            filled[fill.column] = series.fillna(
                pd.Timestamp(value) if col_type == "datetime" else value)
        return {"table": table.assign(**filled)}

    def fit_query(self, q: Query, params: FillMissingParams, table: Rel) -> dict[str, Any]:
        for i, fill in enumerate(params.columns):
            _filled_type(i, fill, table.schema)
        stats = [(i, f) for i, f in enumerate(params.columns) if f.strategy in ("mean", "median")]
        found = _fetch_stats(q, table, stats) if stats else {}
        state: dict[str, Any] = {}
        for i, fill in enumerate(params.columns):
            if fill.strategy == "constant":
                state[fill.column] = fill.value
                continue
            count, value = found[i] if i in found else _fetch_mode(q, table, fill.column)
            if not count:
                raise OperatorError(
                    f"Column {fill.column!r} has no values to learn a {fill.strategy} from.",
                    field=f"columns.{i}.column")
            state[fill.column] = _plain(value)
            q.log(f"{fill.column}: missing values become {state[fill.column]!r}.")
        return state

    def apply_query(self, q: Query, params: FillMissingParams, state: dict[str, Any],
                    table: Rel) -> dict[str, Rel]:
        types = table.types()
        filled = {fill.column: _filled_type(i, fill, table.schema)
                  for i, fill in enumerate(params.columns)}
        selected = [
            f"coalesce(CAST({value_sql(c, types[c])} AS {SQL_TYPES[filled[c]]}), "
            f"{_fill_sql(state[c], filled[c])}) AS {ident(c)}" if c in filled else ident(c)
            for c in table.names]
        schema = [{**c, "type": filled.get(c["name"], c["type"])} for c in table.schema]
        return {"table": q.define(f"SELECT {', '.join(selected)} FROM {table.ref}", schema)}

    def reads(self, params: FillMissingParams, **inputs: Any) -> dict[str, set[str] | None]:
        return {"table": set()}  # each column filled under its own name, from what it learned

    def infer_schema(
        self, ctx: Context, params: FillMissingParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        if table is None:
            return {"table": None}
        types = {fill.column: _filled_type(i, fill, table) for i, fill in enumerate(params.columns)}
        return {"table": [{**c, "type": types.get(c["name"], c["type"])} for c in table]}
