"""Helpers shared by the transforms: column types, empty frames, dtype conformance, dates."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..base import OperatorError, Schema, require_columns

NUMERIC = ("int", "float")
# What an empty column of each schema type looks like, for checking an operation before
# any data exists.
_EMPTY_DTYPE = {"int": "int64", "float": "float64", "bool": "bool", "str": "str",
                "datetime": "datetime64[ns]"}


def types_of(schema: Schema) -> dict[str, str]:
    return {c["name"]: c["type"] for c in schema}


def column_of(schema: Schema, column: str, *, field: str) -> str:
    """The type of ``column``, after checking it exists."""
    require_columns(schema, [column], field=field)
    return types_of(schema)[column]


def expect_type(schema: Schema, column: str, allowed: tuple[str, ...], *, field: str,
                why: str) -> str:
    """The type of ``column``; an OperatorError on ``field`` unless it is one of ``allowed``."""
    col_type = column_of(schema, column, field=field)
    if col_type not in allowed:
        raise OperatorError(
            f"Column {column!r} holds {col_type} values; {why} needs "
            f"{' or '.join(allowed)} values.",
            field=field,
        )
    return col_type


def with_columns(schema: Schema, columns: Schema) -> Schema:
    """``schema`` after ``DataFrame.assign(columns)``: a known name is replaced in place, a
    new one appended."""
    new = {c["name"]: c for c in columns}
    names = {c["name"] for c in schema}
    return [new.get(c["name"], c) for c in schema] + [c for c in columns if c["name"] not in names]


def empty_frame(schema: Schema) -> pd.DataFrame:
    return pd.DataFrame({c["name"]: pd.Series([], dtype=_EMPTY_DTYPE.get(c["type"], "str"))
                         for c in schema})


def conform(series: pd.Series, col_type: str) -> pd.Series:
    """``series`` with a dtype that ``schema_of`` reports as ``col_type``.

    pandas changes dtypes with the data (an int column gains a missing value and becomes
    float); the schema promised before running must hold whatever the data was.
    """
    kind = series.dtype.kind
    if col_type == "int" and kind not in "iu":
        if kind == "f":
            series = series.replace([np.inf, -np.inf], np.nan)
        return series.astype("Int64" if series.isna().any() else "int64")
    if col_type == "float" and kind != "f":
        return series.astype("float64")
    if col_type == "bool" and kind != "b":
        return series.astype("boolean" if series.isna().any() else "bool")
    if col_type == "datetime" and kind != "M":
        return pd.to_datetime(series)
    if col_type == "str" and series.dtype != "str":
        return series.astype("str")
    return series


def nullable(series: pd.Series) -> pd.Series:
    """``series`` in a dtype that can hold missing values without changing type."""
    if series.dtype.kind in "iu":
        return series.astype("Int64")
    if series.dtype.kind == "b":
        return series.astype("boolean")
    return series


def shown(value: object) -> str:
    """A value as a user would write it: 0.5, not np.float64(0.5)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def text_values(series: pd.Series) -> pd.Series:
    """``series`` as stripped text, blank text counting as missing."""
    return series.astype("str").str.strip().replace("", None)


def to_dates(series: pd.Series) -> pd.Series:
    """``series`` as datetimes, missing where a value is not a date. Text is parsed as
    ISO 8601, then in the format of the first value left (both vectorised), then what is
    still left one value at a time, in any format pandas recognises."""
    if series.dtype.kind == "M":
        return series
    text = text_values(series)
    parsed = _to_datetime(text, "ISO8601")
    for fmt in (None, "mixed"):
        retry = parsed.isna() & text.notna()
        if not retry.any():
            break
        parsed = parsed.where(~retry, _to_datetime(text[retry], fmt))
    return parsed


def parse_dates(series: pd.Series, *, column: str, field: str) -> pd.Series:
    """``series`` as datetimes; an OperatorError on ``field`` names a value that is not one."""
    if series.dtype.kind == "M":
        return series
    if series.dtype.kind in "iufb":
        raise OperatorError(f"Column {column!r} holds numbers, not dates.", field=field)
    parsed = to_dates(series)
    bad = series[parsed.isna() & text_values(series).notna()]
    if len(bad):
        raise OperatorError(
            f"Column {column!r} has {len(bad)} value(s) that are not dates, "
            f"e.g. {shown(bad.iloc[0])}.",
            field=field,
        )
    return parsed


def _to_datetime(text: pd.Series, fmt: str | None) -> pd.Series:
    with warnings.catch_warnings():
        # "Could not infer format": the values are then parsed one by one, which is the plan.
        warnings.simplefilter("ignore", UserWarning)
        try:
            return pd.to_datetime(text, errors="coerce", format=fmt)
        except ValueError:  # mixed time zone offsets: compare them as UTC
            return pd.to_datetime(text, errors="coerce", format=fmt, utc=True)
