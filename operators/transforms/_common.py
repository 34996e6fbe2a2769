"""Helpers shared by the transforms: column types, empty frames, dtype conformance, dates."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..base import OperatorError, Schema, require_columns
from ..tables import Query, ident, lit

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
    if conforms(series.dtype, col_type):
        return series
    kind = series.dtype.kind
    if col_type == "int":
        if kind == "f":
            series = series.replace([np.inf, -np.inf], np.nan)
        return series.astype("Int64" if series.isna().any() else "int64")
    if col_type == "float":
        return series.astype("float64")
    if col_type == "bool":
        return series.astype("boolean" if series.isna().any() else "bool")
    if col_type == "datetime":
        return pd.to_datetime(series)
    return series.astype("str")


def conforms(dtype: Any, col_type: str) -> bool:
    """Whether a column of ``dtype`` is already what ``conform`` makes it for ``col_type``."""
    kinds = _CONFORMING_KINDS.get(col_type)
    if kinds is not None:
        return str(dtype.kind) in kinds
    return col_type != "str" or bool(dtype == "str")


_CONFORMING_KINDS = {"int": ("i", "u"), "float": ("f",), "bool": ("b",), "datetime": ("M",)}


def conform_frame(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """``frame``'s columns of ``schema``, in its order, each with the dtype ``conform`` gives
    it (a column the frame lacks is all missing). Only the columns whose dtype changes are
    rebuilt: on a small table (a served request's rows) a frame rebuilt column by column
    costs more than the operator's own work."""
    names = [c["name"] for c in schema]
    absent = [n for n in names if n not in frame.columns]
    if absent:
        frame = frame.assign(**{n: pd.Series([None] * len(frame), index=frame.index,
                                             dtype=object) for n in absent})
    out = frame if list(frame.columns) == names else frame[names]
    dtypes = out.dtypes.to_dict()
    changed = {col["name"]: conform(out[col["name"]], col["type"]) for col in schema
               if not conforms(dtypes[col["name"]], col["type"])}
    return out.assign(**changed) if changed else out


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
    return _all_read(series, to_dates(series), column=column, field=field)


def _all_read(series: pd.Series, parsed: pd.Series, *, column: str, field: str) -> pd.Series:
    """``parsed``, unless a value of ``series`` that is not missing could not be read: then
    an OperatorError on ``field`` counts them and names the first."""
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


# --- order on the engines ------------------------------------------------------------------------

def position_sql(q: Query) -> str:
    """An expression numbering the rows of the table it is selected FROM in their order:
    increasing, not always consecutive. Selected over a node's input, before anything
    reorders it (a window, a join, a sort). DuckDB numbers rows in insertion order (its
    streaming window); Spark's id is the partition's index, then the row's place in it, and a
    file's partitions are in the file's order. Spark has no ``row_number() OVER ()``."""
    return "monotonically_increasing_id()" if q.engine == "spark" else "row_number() OVER ()"


def fresh_name(schema: Schema, base: str) -> str:
    """``base``, with underscores added until no column of ``schema`` has that name: a helper
    column that cannot shadow the user's."""
    names = {c["name"] for c in schema}
    while base in names:
        base = f"_{base}"
    return base


def missing_as_null(column: str, col_type: str) -> str:
    """The column as SQL where a float's NaN is NULL: pandas holds both as NaN, one missing
    value, where the engines would sort and group them apart."""
    c = ident(column)
    return f"NULLIF({c}, {lit(float('nan'))})" if col_type == "float" else c


# --- dates from text, the same on every engine ----------------------------------------------

import re  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from ..tables import Rel  # noqa: E402


@dataclass(frozen=True)
class DateColumns:
    """A table with helper columns beside its own: ``text`` (the column as ``text_values``
    reads it; None for a datetime column), ``date`` (it read as dates), ``pos`` (the row's
    place in table order; None for a datetime column)."""

    rel: Rel
    date: str
    text: str | None = None
    pos: str | None = None
    complete: bool = True  # every text was read as a date: no need to look for others

    def first_bad(self, q: Query, column: str) -> tuple[int, object]:
        """How many texts are not dates, and the first of them (as the column holds it)."""
        if self.text is None or self.pos is None or self.complete:
            return 0, None
        found = q.fetch(f"SELECT count(*) AS n, arg_min({ident(column)}, {ident(self.pos)}) "
                        f"AS first FROM {self.rel.ref} WHERE {ident(self.text)} IS NOT NULL "
                        f"AND {ident(self.date)} IS NULL", limit=1)
        return int(found["n"].iloc[0]), found["first"].iloc[0]


def _naive(parsed: pd.Series) -> pd.Series:
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed


def naive_dates(series: pd.Series) -> pd.Series:
    """``to_dates``, with a date written with a UTC offset (``Z``, ``+02:00``) converted to
    UTC and the offset dropped, at each step: a column of dates is one wall-clock type on
    every engine (``to_dates`` kept the offset when every value had the same one, converted
    to UTC when they differed, and failed when a later step mixed them with plain dates)."""
    if series.dtype.kind == "M":
        return _naive(series)
    text = text_values(series)
    parsed = _naive(_to_datetime(text, "ISO8601"))
    for fmt in (None, "mixed"):
        retry = parsed.isna() & text.notna()
        if not retry.any():
            break
        parsed = parsed.where(~retry, _naive(_to_datetime(text[retry], fmt)))
    return parsed


def parse_naive_dates(series: pd.Series, *, column: str, field: str) -> pd.Series:
    """``parse_dates`` with ``naive_dates``' reading of UTC offsets."""
    if series.dtype.kind in "iufb":
        raise OperatorError(f"Column {column!r} holds numbers, not dates.", field=field)
    return _all_read(series, naive_dates(series), column=column, field=field)


# Python's str.strip() whitespace, as a regular expression class both RE2 and Java read.
_SPACE = ("[\\x{9}-\\x{d}\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}"
          "\\x{2029}\\x{202f}\\x{205f}\\x{3000}]")
# The ISO 8601 dates every engine and pandas read alike; other text takes the slower paths.
_ISO = ("^[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
        "([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?)?$")
_FORMAT_PARTS = {"%Y": ("([0-9]{4})", 0), "%m": ("([0-9]{2})", 1), "%d": ("([0-9]{2})", 2),
                 "%H": ("([0-9]{2})", 3), "%M": ("([0-9]{2})", 4), "%S": ("([0-9]{2})", 5)}
# Distinct texts in neither ISO 8601 nor the column's format that are read one by one in
# Python (as pandas reads them) and joined back.
DATE_TEXTS_LIMIT = 10_000
ERR_DATE_TEXTS = ("Column {column!r} has more than {limit:,} distinct texts in neither ISO 8601 "
                  "(2024-03-31 14:05:00) nor the format of its first such value ({example!r}); "
                  "they are read one by one. Write the dates in one format, or cast the "
                  "column to datetime upstream.")


def text_sql(column: str) -> str:
    """``text_values`` in SQL: stripped as Python strips, blank text NULL."""
    c = f"CAST({ident(column)} AS VARCHAR)"  # an empty column of text may be stored untyped
    stripped = f"regexp_replace(regexp_replace({c}, {lit('^' + _SPACE + '+')}, ''), " \
               f"{lit(_SPACE + '+$')}, '')"
    # Most text has no space at either end: one test instead of two replacements.
    ends = lit("^" + _SPACE + "|" + _SPACE + "$")
    return f"nullif(CASE WHEN regexp_matches({c}, {ends}) THEN {stripped} ELSE {c} END, '')"


def _format_sql(fmt: str | None, text: str) -> str | None:
    """SQL reading ``text`` in the strptime format ``fmt`` when it is made only of numeric
    fields (%Y %m %d %H %M %S) and literal characters, written with every digit (the only
    spellings that pandas and both engines read alike); None for other formats."""
    if not fmt:
        return None
    pattern, groups, i = "^", [], 0
    while i < len(fmt):
        part = fmt[i:i + 2]
        if part in _FORMAT_PARTS:
            pattern += _FORMAT_PARTS[part][0]
            groups.append(_FORMAT_PARTS[part][1])
            i += 2
        elif fmt[i] == "%":
            return None
        else:
            pattern += re.escape(fmt[i]) if fmt[i] not in "-/ :,T" else fmt[i]
            i += 1
    if sorted(groups)[:3] != [0, 1, 2] or len(set(groups)) != len(groups):
        return None
    pattern += "$"
    fields = ["'00'"] * 6
    for n, field in enumerate(groups, start=1):
        fields[field] = f"regexp_extract({text}, {lit(pattern)}, {n})"
    iso = " || ".join([fields[0], "'-'", fields[1], "'-'", fields[2], "' '", fields[3], "':'",
                       fields[4], "':'", fields[5]])
    return f"CASE WHEN regexp_matches({text}, {lit(pattern)}) THEN TRY_CAST({iso} AS TIMESTAMP) END"


def _iso_ok(value: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return not pd.isna(pd.to_datetime(value, format="ISO8601", errors="coerce"))
        except (ValueError, OverflowError):
            return False


def dates_sql(q: Query, rel: Rel, column: str, *, field: str, limit: int = DATE_TEXTS_LIMIT
              ) -> DateColumns:
    """``rel`` with helper columns: the text of ``column`` (``text_values``) and the same
    read as dates exactly as ``naive_dates`` reads them. Text in ISO 8601 is cast
    by the engine; then the format pandas guesses from the first value left (in table order)
    is applied by the engine when it is numeric; the distinct texts still left (at most
    ``limit``, else an OperatorError) are read in Python as pandas reads them and joined back
    as a VALUES table (the rows then sorted back into table order)."""
    from pandas._libs.tslibs.parsing import guess_datetime_format

    names = [fresh_name(rel.schema, f"_dg_{what}") for what in ("pos", "text", "iso", "date")]
    pos, text, iso, date = names
    extra = [{"name": pos, "type": "int"}, {"name": text, "type": "str"}]
    if types_of(rel.schema)[column] == "datetime":
        return DateColumns(q.define(f"SELECT *, {ident(column)} AS {ident(date)} FROM {rel.ref}",
                                    rel.schema + [{"name": date, "type": "datetime"}]), date)
    t = ident(text)
    base = q.define(f"SELECT *, {position_sql(q)} AS {ident(pos)}, {text_sql(column)} AS {t} "
                    f"FROM {rel.ref}", rel.schema + extra)
    iso_rel = q.define(
        f"SELECT *, CASE WHEN regexp_matches({t}, {lit(_ISO)}) THEN TRY_CAST({t} AS TIMESTAMP) "
        f"END AS {ident(iso)} FROM {base.ref}",
        base.schema + [{"name": iso, "type": "datetime"}])
    left_rows = f"FROM {iso_rel.ref} WHERE {t} IS NOT NULL AND {ident(iso)} IS NULL"
    # The first value left after ISO 8601 in table order gives pandas its format.
    first, head = None, q.fetch(f"SELECT {t} AS t {left_rows} ORDER BY {ident(pos)} LIMIT 1000",
                                limit=1000)["t"]
    if head.empty:  # every text is in ISO 8601
        return DateColumns(iso_rel, iso, text, pos)
    for value in head:
        if not _iso_ok(value):
            first = value
            break
    with warnings.catch_warnings():  # "dayfirst": the guess is what pandas would use
        warnings.simplefilter("ignore", UserWarning)
        fmt = guess_datetime_format(first) if first is not None else None
    fmt_sql = _format_sql(fmt, t)
    parsed = q.define(f"SELECT *, {f'coalesce({ident(iso)}, {fmt_sql})' if fmt_sql else ident(iso)}"
                      f" AS {ident(date)} FROM {iso_rel.ref}",
                      iso_rel.schema + [{"name": date, "type": "datetime"}])
    left = q.fetch(f"SELECT DISTINCT {t} AS t FROM {parsed.ref} WHERE {t} IS NOT NULL AND "
                   f"{ident(date)} IS NULL LIMIT {limit + 1}", limit=limit + 1)["t"].tolist()
    if len(left) > limit:
        raise OperatorError(ERR_DATE_TEXTS.format(column=column, limit=limit, example=first),
                            field=field)
    if not left:
        return DateColumns(parsed, date, text, pos)
    if first is None:  # past the first 1,000 values left: find it among the distinct ones
        others = [v for v in left if not _iso_ok(v)]
        if others:
            found = q.fetch(f"SELECT {t} AS t FROM {parsed.ref} WHERE {t} IN "
                            f"({', '.join(lit(v) for v in others)}) ORDER BY {ident(pos)} "
                            "LIMIT 1", limit=1)["t"]
            first = found.iloc[0]
    texts = pd.Series(([first] if first is not None else []) + left, dtype=object)
    mapping = [(v, stamp) for v, stamp in zip(texts, naive_dates(texts), strict=True)
               if not pd.isna(stamp)]
    complete = set(left) <= {v for v, _ in mapping}
    if not mapping:
        return DateColumns(parsed, date, text, pos, complete)
    values = ", ".join(f"({lit(v)}, {lit(stamp)})" for v, stamp in dict(mapping).items())
    columns = ", ".join(f"p.{ident(c['name'])}" for c in parsed.schema if c["name"] != date)
    joined = q.define(
        f"SELECT {columns}, coalesce(p.{ident(date)}, m.v) AS {ident(date)} FROM {parsed.ref} "
        f"AS p LEFT JOIN (VALUES {values}) AS m(k, v) ON p.{t} = m.k ORDER BY p.{ident(pos)}",
        parsed.schema)
    return DateColumns(joined, date, text, pos, complete)


def distinct_columns(names: list[str]) -> list[str]:
    """A params list of columns that names each column once (a key listed twice made the
    engines fail with their own errors)."""
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{', '.join(repr(n) for n in repeated)} is listed more than once")
    return names


def whole_number_fits(value: object) -> object:
    """A params value, refused when it is a whole number past 64 bits (the tables' whole
    numbers are 64-bit: pandas failed on one with OverflowError)."""
    if isinstance(value, int) and not isinstance(value, bool) and \
            not -(2 ** 63) <= value < 2 ** 63:
        raise ValueError("a whole number must fit in 64 bits (at most 9,223,372,036,854,775,807 "
                         "either way)")
    return value
