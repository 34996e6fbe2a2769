"""Change the type of columns: text to numbers, numbers to text, text to dates, ..."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

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
from ..tables import Query, Rel, ident, lit
from ._common import (
    column_of,
    conform,
    dates_sql,
    fresh_name,
    missing_as_null,
    naive_dates,
    position_sql,
    shown,
    text_sql,
    text_values,
)

TargetType = Literal["int", "float", "bool", "str", "datetime"]
_WHOLE_TEXT = r"[+-]?[0-9]+"
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
    # 2.5 is not an int: truncating it silently would change the data; nor is 1e20.
    whole = numbers.where(np.isfinite(numbers) & (numbers == numbers.round()) &
                          (numbers.abs() < 2.0**63))
    if s.dtype.kind == "f":
        return whole
    # Whole numbers written as such are read exactly (past 2**53 a decimal is not).
    text = text_values(s)
    exact = text.str.fullmatch(_WHOLE_TEXT).fillna(False).astype(bool)
    if not exact.any():
        return whole
    result = whole.astype("Int64")
    result[exact] = pd.array([v if -2**63 <= v < 2**63 else None
                              for v in map(int, text[exact])], dtype="Int64")
    return result


def _to_bool(s: pd.Series) -> pd.Series:
    if s.dtype.kind == "b":
        return s
    if s.dtype.kind in "iuf":
        return s.map({1: True, 0: False})
    return text_values(s).str.lower().map(_WORDS)


def _to_str(s: pd.Series) -> pd.Series:
    return s.astype("str")  # missing values stay missing


_CONVERT: dict[str, Callable[[pd.Series], pd.Series]] = {
    "int": _to_int, "float": _to_float, "bool": _to_bool, "str": _to_str,
    "datetime": naive_dates,
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

    Version 2: a date written with a UTC offset (``Z``, ``+02:00``) is converted to UTC (the
    column kept the offset when every value had the same one, and failed when dates with and
    without offsets were read in different steps); whole numbers written as text are read
    exactly (past 2**53 they were rounded through decimals when the column had a missing
    value); a decimal too large for 64 bits cannot be read as a whole number (it failed
    with a pandas error).
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
    version = "2"
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

    def query(self, q: Query, params: CastColumnsParams, table: Rel) -> dict[str, Rel]:
        for i, cast in enumerate(params.columns):
            _check(i, cast, table.schema)
        pos, rel = fresh_name(table.schema, "_dg_row"), table
        if params.errors == "fail":  # to name the first value that cannot be read
            rel = q.define(f"SELECT *, {position_sql(q)} AS {ident(pos)} FROM {table.ref}",
                           table.schema + [{"name": pos, "type": "int"}])
        converted: dict[str, tuple[str, str | None]] = {}
        for i, cast in enumerate(params.columns):
            rel, converted[cast.column] = _cast_sql(q, rel, i, cast)
        if params.errors == "fail":
            _fail_on_bad_values(q, rel, params.columns, converted, pos)
        types = {c.column: c.type for c in params.columns}
        schema = [{**c, "type": types.get(c["name"], c["type"])} for c in table.schema]
        columns = ", ".join(f"{converted[c['name']][0]} AS {ident(c['name'])}"
                            if c["name"] in converted else ident(c["name"]) for c in schema)
        return {"table": q.define(f"SELECT {columns} FROM {rel.ref}", schema)}

    def reads(self, params: CastColumnsParams, **inputs: Any) -> dict[str, set[str] | None]:
        return {"table": set()}  # each column converted under its own name

    def infer_schema(
        self, ctx: Context, params: CastColumnsParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        if table is None:
            return {"table": None}
        for i, cast in enumerate(params.columns):
            _check(i, cast, table)
        types = {c.column: c.type for c in params.columns}
        return {"table": [{**c, "type": types.get(c["name"], c["type"])} for c in table]}


# --- the same on the engines ----------------------------------------------------------------

_INF = "CAST('inf' AS DOUBLE)"
# What pd.to_numeric reads (after stripping): decimals, exponents, infinities; not NaN,
# which pandas reads as a missing value and so as a value that cannot be read.
_NUMBER = "^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
_WHOLE = "^[+-]?[0-9]+$"


def _text_to_float(text: str) -> str:
    return (f"CASE WHEN regexp_matches({text}, {lit(_NUMBER)}) THEN TRY_CAST({text} AS DOUBLE) "
            f"WHEN lower({text}) IN ('inf', '+inf', 'infinity', '+infinity') THEN {_INF} "
            f"WHEN lower({text}) IN ('-inf', '-infinity') THEN - {_INF} END")


def _float_to_int(number: str) -> str:
    """A whole, finite decimal as an integer; NULL for 2.5 (never truncated)."""
    return (f"CASE WHEN abs({number}) < CAST(9.223372036854775807e18 AS DOUBLE) AND "
            f"{number} = floor({number}) THEN CAST({number} AS BIGINT) END")


def _cast_sql(q: Query, rel: Rel, i: int, cast: Cast) -> tuple[Rel, tuple[str, str | None]]:
    """``rel`` (with helper columns if needed), the column converted as SQL, and the SQL that
    is true where a value is present but cannot be converted (None: every value can)."""
    source = rel.types()[cast.column]
    c, target = ident(cast.column), cast.type
    value = missing_as_null(cast.column, source)
    if target == "datetime":
        dates = dates_sql(q, rel, cast.column, field=f"columns.{i}.column")
        if dates.text is None:  # a datetime column already
            return rel, (c, None)
        date = ident(dates.date)
        return dates.rel, (date, f"{ident(dates.text)} IS NOT NULL AND {date} IS NULL")
    if target == "str":
        return _to_text_sql(q, rel, cast.column, source)
    if source == "str":
        text = text_sql(cast.column)
        if target == "bool":
            lower = f"lower({text})"
            converted = (f"CASE WHEN {lower} IN ({', '.join(lit(w) for w in _TRUE)}) THEN true "
                         f"WHEN {lower} IN ({', '.join(lit(w) for w in _FALSE)}) THEN false END")
        elif target == "float":
            converted = _text_to_float(text)
        else:  # whole numbers as whole numbers (exact past 2**53), others through decimals
            converted = (f"CASE WHEN regexp_matches({text}, {lit(_WHOLE)}) THEN "
                         f"TRY_CAST({text} AS BIGINT) ELSE {_float_to_int(_text_to_float(text))} "
                         "END")
        return rel, (converted, f"{text} IS NOT NULL AND ({converted}) IS NULL")
    if target == source:
        return rel, (value, None)
    if target == "bool":  # from numbers: 1 and 0 only
        converted = f"CASE WHEN {value} = 1 THEN true WHEN {value} = 0 THEN false END"
    elif target == "float":
        return rel, (f"CAST({value} AS DOUBLE)", None)
    elif source == "float":
        converted = _float_to_int(value)
    else:  # bool to int
        return rel, (f"CAST({value} AS BIGINT)", None)
    return rel, (converted, f"{value} IS NOT NULL AND ({converted}) IS NULL")


def _fail_on_bad_values(q: Query, rel: Rel, casts: list[Cast],
                        converted: dict[str, tuple[str, str | None]], pos: str) -> None:
    """The OperatorError ``_convert`` raises for the first cast with values it cannot read,
    from one pass over the table."""
    checked = [(i, cast, converted[cast.column][1]) for i, cast in enumerate(casts)
               if converted[cast.column][1] is not None]
    if not checked:
        return
    aggregates = ", ".join(
        f"count(*) FILTER (WHERE {bad}) AS n{i}, "
        f"arg_min({ident(cast.column)}, {ident(pos)}) FILTER (WHERE {bad}) AS e{i}"
        for i, cast, bad in checked)
    found = q.fetch(f"SELECT {aggregates} FROM {rel.ref}", limit=1)
    for i, cast, _ in checked:
        count = int(found[f"n{i}"].iloc[0])
        if count:
            raise OperatorError(
                f"Column {cast.column!r} has {count} value(s) that cannot be read as "
                f"{_READ_AS[cast.type]}, e.g. {shown(found[f'e{i}'].iloc[0])}; set errors to "
                "'null' to make them missing instead.",
                field=f"columns.{i}.column",
            )


def _to_text_sql(q: Query, rel: Rel, column: str, source: str
                 ) -> tuple[Rel, tuple[str, str | None]]:
    """``Series.astype("str")``: True/False, Python's repr of a float, and dates in the one
    format pandas picks for the whole column (no time when every value is at midnight,
    milliseconds or microseconds when some value has them)."""
    c = ident(column)
    if source == "str":
        return rel, (c, None)
    if source == "int":
        return rel, (f"CAST({c} AS VARCHAR)", None)
    if source == "bool":
        return rel, (f"CASE WHEN {c} THEN 'True' WHEN NOT {c} THEN 'False' END", None)
    if source == "float":
        return _float_text(q, rel, column)
    micros = f"CAST(strftime({c}, '%f') AS BIGINT)"
    found = q.fetch(f"SELECT coalesce(bool_or(strftime({c}, '%H:%M:%S.%f') <> "
                    f"'00:00:00.000000'), false) AS t, coalesce(bool_or({micros} % 1000 <> 0), "
                    f"false) AS us, coalesce(bool_or({micros} <> 0), false) AS ms "
                    f"FROM {rel.ref}", limit=1).iloc[0]
    if not found["t"]:
        return rel, (f"strftime({c}, '%Y-%m-%d')", None)
    width = 26 if found["us"] else 23 if found["ms"] else 19
    return rel, (f"substr(strftime({c}, '%Y-%m-%d %H:%M:%S.%f'), 1, {width})", None)


def _float_text(q: Query, rel: Rel, column: str) -> tuple[Rel, tuple[str, str | None]]:
    """Python's repr of a float. DuckDB writes it so; Spark writes Java's (1.0E20, 1.0E-5),
    whose digits are read back and laid out as Python lays them out."""
    c = missing_as_null(column, "float")
    infinite = f"CASE WHEN {c} = {_INF} THEN 'inf' WHEN {c} = - {_INF} THEN '-inf'"
    if q.engine != "spark":
        return rel, (f"{infinite} ELSE CAST({c} AS VARCHAR) END", None)
    s, j, d, p, n = (fresh_name(rel.schema, f"_dg_{column}_{x}") for x in "sjdpn")
    java = f"regexp_replace(CAST({c} AS VARCHAR), '^-', '')"
    whole, fraction = (f"regexp_extract({ident(s)}, '^([0-9]+)[.]([0-9]+)', {g})" for g in (1, 2))
    power = (f"CASE WHEN {ident(s)} LIKE '%E%' THEN CAST(regexp_extract({ident(s)}, "
             f"'E(-?[0-9]+)$', 1) AS BIGINT) + 1 ELSE length({whole}) - "
             f"(length({whole} || {fraction}) - length(regexp_replace({whole} || {fraction}, "
             "'^0+', ''))) END")
    digits = f"regexp_replace(regexp_replace({whole} || {fraction}, '^0+', ''), '0+$', '')"
    rel = q.define(f"SELECT *, {java} AS {ident(s)} FROM {rel.ref}",
                   rel.schema + [{"name": s, "type": "str"}])
    rel = q.define(f"SELECT *, {digits} AS {ident(j)}, {power} AS {ident(p)} FROM {rel.ref}",
                   rel.schema + [{"name": j, "type": "str"}, {"name": p, "type": "int"}])
    # Java 17 may write a digit or two more than needed (JDK-4511638): Python writes the
    # shortest digits that read back the same number, so 16 or 17 rounded digits are kept
    # when they do.
    jj, tries = ident(j), []
    for k in (16, 17):
        rounded = (f"CAST(TRY_CAST(substr({jj}, 1, {k}) AS BIGINT) + CASE WHEN "
                   f"substr({jj}, {k + 1}, 1) >= '5' THEN 1 ELSE 0 END AS VARCHAR)")
        tries.append(f"WHEN length({jj}) > {k} AND length({rounded}) = {k} AND "
                     f"TRY_CAST('0.' || {rounded} || 'e' || CAST({ident(p)} AS VARCHAR) AS "
                     f"DOUBLE) = abs({c}) THEN regexp_replace({rounded}, '0+$', '')")
    best = f"CASE {' '.join(tries)} ELSE {jj} END"
    rel = q.define(f"SELECT *, {best} AS {ident(d)} FROM {rel.ref}",
                   rel.schema + [{"name": d, "type": "str"}])
    rel = q.define(f"SELECT *, length({ident(d)}) AS {ident(n)} FROM {rel.ref}",
                   rel.schema + [{"name": n, "type": "int"}])
    dd, pp, nn = ident(d), ident(p), ident(n)
    fixed = (f"CASE WHEN {pp} <= 0 THEN '0.' || repeat('0', CAST(- {pp} AS INTEGER)) || {dd} "
             f"WHEN {pp} >= {nn} THEN {dd} || repeat('0', CAST({pp} - {nn} AS INTEGER)) || '.0' "
             f"ELSE substr({dd}, 1, CAST({pp} AS INTEGER)) || '.' || "
             f"substr({dd}, CAST({pp} + 1 AS INTEGER)) END")
    scientific = (f"substr({dd}, 1, 1) || CASE WHEN {nn} > 1 THEN '.' || substr({dd}, 2) "
                  f"ELSE '' END || 'e' || CASE WHEN {pp} - 1 < 0 THEN '-' ELSE '+' END || "
                  f"CASE WHEN abs({pp} - 1) < 10 THEN '0' ELSE '' END || "
                  f"CAST(abs({pp} - 1) AS VARCHAR)")
    sign = f"CASE WHEN CAST({c} AS VARCHAR) LIKE '-%' THEN '-' ELSE '' END"
    text = (f"{infinite} WHEN {c} IS NULL THEN NULL WHEN {nn} = 0 THEN {sign} || '0.0' "
            f"ELSE {sign} || CASE WHEN {pp} - 1 >= -4 AND {pp} - 1 < 16 THEN {fixed} "
            f"ELSE {scientific} END END")
    return rel, (text, None)
