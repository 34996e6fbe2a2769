"""Change the type of columns: text to numbers, numbers to text, text to dates, ..."""
from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
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
    schema_of,
)
from ._common import column_of, conform, shown, text_values, to_dates

TargetType = Literal["int", "float", "bool", "str", "datetime"]
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_WORDS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
# Casts with no single obvious meaning (seconds or days since when?): refused, not guessed.
_REFUSED = {("datetime", "int"), ("datetime", "float"), ("datetime", "bool"),
            ("int", "datetime"), ("float", "datetime"), ("bool", "datetime")}


class Cast(Params):
    column: str = column_field(..., description="The column to convert.")
    type: TargetType = Field(..., description="The type to convert it to.")


class CastColumnsParams(Params):
    columns: list[Cast] = Field(..., min_length=1, description="The columns to convert.")
    errors: Literal["fail", "null"] = Field(
        "fail", description="What to do with a value that cannot be converted: fail the "
        "node, naming it, or make it a missing value.",
    )

    @field_validator("columns")
    @classmethod
    def _each_column_once(cls, columns: list[Cast]) -> list[Cast]:
        names = [c.column for c in columns]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"columns are listed more than once: {', '.join(repeated)}")
        return columns


def _to_float(s: pd.Series) -> pd.Series:
    if s.dtype.kind in "iufb":
        return s.astype("float64")
    return pd.to_numeric(text_values(s), errors="coerce")


def _to_int(s: pd.Series) -> pd.Series:
    if s.dtype.kind in "iub":
        return s.astype("int64") if s.dtype.kind == "b" else s
    numbers = _to_float(s)
    # 2.5 is not an int: truncating it silently would change the data.
    return numbers.where(np.isfinite(numbers) & (numbers == numbers.round()))


def _to_bool(s: pd.Series) -> pd.Series:
    if s.dtype.kind == "b":
        return s
    if s.dtype.kind in "iuf":
        return s.map({1: True, 0: False})
    return text_values(s).str.lower().map(_WORDS)


def _to_str(s: pd.Series) -> pd.Series:
    return s.astype("str")  # missing values stay missing


_CONVERT: dict[str, Callable[[pd.Series], pd.Series]] = {
    "int": _to_int, "float": _to_float, "bool": _to_bool, "str": _to_str, "datetime": to_dates,
}
_READ_AS = {"int": "whole numbers", "float": "numbers", "bool": f"true/false ({', '.join(_TRUE)}"
            f" / {', '.join(_FALSE)})", "str": "text", "datetime": "dates"}


def _check(i: int, cast: Cast, schema: Schema) -> None:
    source = column_of(schema, cast.column, field=f"columns.{i}.column")
    if (source, cast.type) in _REFUSED:
        raise OperatorError(
            f"Cannot convert column {cast.column!r} from {source} to {cast.type}.",
            field=f"columns.{i}.type",
        )


def _convert(i: int, cast: Cast, series: pd.Series, errors: str) -> pd.Series:
    converted = _CONVERT[cast.type](series)
    present = series.notna() if series.dtype.kind != "O" else text_values(series).notna()
    bad = series[present & converted.isna()]
    if len(bad) and errors == "fail":
        raise OperatorError(
            f"Column {cast.column!r} has {len(bad)} value(s) that cannot be read as "
            f"{_READ_AS[cast.type]}, e.g. {shown(bad.iloc[0])}; set errors to 'null' to make "
            "them missing instead.",
            field=f"columns.{i}.column",
        )
    return conform(converted, cast.type)


class CastColumns(Operator):
    """Converts columns to another type.

    Example: ``{"columns": [{"column": "age", "type": "int"}, {"column": "signup",
    "type": "datetime"}], "errors": "null"}``.

    Text is trimmed and blank text counts as missing. ``int`` refuses decimals such as 2.5
    (round first with Derive column); an int column with missing values holds pandas'
    nullable integers. ``bool`` reads true/false, yes/no, t/f, y/n and 1/0. Dates cannot be
    converted to or from numbers.
    """

    name = "transform.cast_columns"
    label = "Change column types"
    description = "Convert columns to numbers, text, true/false or dates."
    category = "transform"
    icon = "replace"
    keywords = ("cast", "convert", "type", "dtype", "parse", "number", "date", "text")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = CastColumnsParams
    example = {"columns": [{"column": "age", "type": "int"},
                           {"column": "signup", "type": "datetime"}],
               "errors": "null"}

    def run(
        self, ctx: Context, params: CastColumnsParams, table: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        schema = schema_of(table)
        for i, cast in enumerate(params.columns):
            _check(i, cast, schema)
        return {"table": table.assign(**{
            cast.column: _convert(i, cast, table[cast.column], params.errors)
            for i, cast in enumerate(params.columns)})}

    def infer_schema(
        self, ctx: Context, params: CastColumnsParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        if table is None:
            return {"table": None}
        for i, cast in enumerate(params.columns):
            _check(i, cast, table)
        types = {c.column: c.type for c in params.columns}
        return {"table": [{**c, "type": types.get(c["name"], c["type"])} for c in table]}
