"""A stable hash of a row, the same in pandas, DuckDB and Spark: what seeded choices of rows
(the train/test split, the sample operator) are made by, so every engine picks the same rows
whatever order it reads them in.

Each value is written as canonical text, the texts joined with the seed by U+001F, and the
row's hash is the MD5 of that in hex (compared as text: the same order as the number). The
canonical text is one-to-one, so two rows hash alike only if they are equal:

* missing (and NaN, infinities): ``\\N``;
* text: itself, a backslash doubled and U+001F written ``\\s`` (so no text reads as missing
  or as two values);
* true/false: ``true``/``false``; integers: decimal digits;
* decimals: the exact binary value, ``<mantissa>p<exponent>`` (an integer of 53 bits times a
  power of two, ``-`` in front when negative; 0 and -0.0 are ``0``), computed with
  operations every engine does exactly, so a float's printing never matters;
* date-times: microseconds since 1970-01-01 (wall time; UTC for a time zone).

Rows hashing alike are equal, so whichever of them an engine takes, the table is the same.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from .schema import Schema, schema_of
from .tables import ident, lit

SEPARATOR = "\x1f"
MISSING = "\\N"
_ESCAPED_SEPARATOR = "\\s"


def fresh_name(schema: Schema, base: str) -> str:
    """A column name for a helper column (a hash, a rank) that no column of ``schema`` has."""
    names = {c["name"] for c in schema}
    name = base
    while name in names:
        name += "_"
    return name


# --- pandas -------------------------------------------------------------------------------

def _float_text(series: pd.Series) -> pd.Series:
    values = series.astype("float64").to_numpy(na_value=np.nan)
    finite = np.isfinite(values)
    mantissa, exponent = np.frexp(np.where(finite, np.abs(values), 0.0))
    digits = (mantissa * 2.0 ** 53).astype(np.int64)
    text = [(("-" if v < 0 else "") + f"{m}p{e - 53}" if v != 0 else "0") if ok else MISSING
            for v, m, e, ok in zip(values, digits, exponent, finite, strict=True)]
    return pd.Series(text, index=series.index, dtype="object")


def _canonical(series: pd.Series, col_type: str) -> pd.Series:
    if col_type == "int":
        values = series.astype("Int64")
        return values.astype("str").astype("object").where(values.notna(), MISSING)
    if col_type == "float":
        return _float_text(series)
    if col_type == "bool":
        return series.map({True: "true", False: "false"}).astype("object").where(
            series.notna(), MISSING)
    if col_type == "datetime":
        values = pd.to_datetime(series)
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        present = values.notna()
        micros = values.astype("datetime64[us]").where(present, pd.Timestamp(0))
        return micros.astype("int64").astype("str").astype("object").where(present, MISSING)
    text = series.astype("object").where(series.notna(), None)
    return text.map(lambda v: MISSING if v is None else
                    str(v).replace("\\", "\\\\").replace(SEPARATOR, _ESCAPED_SEPARATOR))


def row_hashes(df: pd.DataFrame, seed: int) -> pd.Series:
    """Each row's hash (32 hex digits), as ``hash_sql`` computes it in SQL."""
    parts = [_canonical(df.iloc[:, i], c["type"]).tolist()
             for i, c in enumerate(schema_of(df))]
    prefix = f"{seed}"
    rows = zip(*parts, strict=True) if parts else ([] for _ in range(len(df)))
    return pd.Series([hashlib.md5(SEPARATOR.join((prefix, *row)).encode()).hexdigest()
                      for row in rows], index=df.index, dtype="object")


def hash_order(df: pd.DataFrame, seed: int) -> np.ndarray:
    """The row positions of ``df`` sorted by their hash (equal rows in table order)."""
    hashes = row_hashes(df, seed).to_numpy()
    return np.asarray(sorted(range(len(df)), key=hashes.__getitem__), dtype=np.int64)


def draws(seed: int, count: int, rows: int) -> np.ndarray:
    """Which position (in hash order) each of ``count`` draws with replacement picks among
    ``rows`` rows, as ``draws_sql`` computes it."""
    return np.asarray([int(hashlib.md5(SEPARATOR.join(("draw", str(seed), str(i))).encode()
                                       ).hexdigest()[:15], 16) % rows
                       for i in range(count)], dtype=np.int64)


# --- SQL (DuckDB's dialect; ``engine`` picks a Spark function where the names differ) -----

def _float_sql(c: str) -> str:
    x = f"CAST({c} AS DOUBLE)"
    a = f"abs({x})"
    guess = f"floor(log2({a}))"  # may be one off near a power of two: corrected next
    exp2 = (f"({guess} + CASE WHEN {a} / pow(2.0, {guess}) >= 2 THEN 1 "
            f"WHEN {a} / pow(2.0, {guess}) < 1 THEN -1 ELSE 0 END)")
    digits = f"CAST({a} / pow(2.0, {exp2}) * pow(2.0, 52) AS BIGINT)"
    return (f"CASE WHEN isnan({x}) OR {a} = CAST('inf' AS DOUBLE) THEN NULL "
            f"WHEN {x} = 0 THEN '0' ELSE "
            f"(CASE WHEN {x} < 0 THEN '-' ELSE '' END) || CAST({digits} AS VARCHAR) || 'p' || "
            f"CAST(CAST({exp2} - 52 AS BIGINT) AS VARCHAR) END")


def _canonical_sql(column: str, col_type: str, engine: str) -> str:
    c = ident(column)
    if col_type == "int":
        text = f"CAST({c} AS VARCHAR)"
    elif col_type == "float":
        text = _float_sql(c)
    elif col_type == "bool":
        text = f"CASE WHEN {c} THEN 'true' WHEN NOT {c} THEN 'false' END"
    elif col_type == "datetime":
        # DuckDB's epoch_us; Spark's unix_micros (an unknown function passes sqlglot as is).
        func = "unix_micros" if engine == "spark" else "epoch_us"
        text = f"CAST({func}({c}) AS VARCHAR)"
    else:
        text = (f"replace(replace(CAST({c} AS VARCHAR), {lit(chr(92))}, {lit(chr(92) * 2)}), "
                f"{lit(SEPARATOR)}, {lit(_ESCAPED_SEPARATOR)})")
    return f"coalesce({text}, {lit(MISSING)})"


def hash_sql(schema: Schema, seed: int, engine: str = "duckdb") -> str:
    """A SQL expression (DuckDB's dialect) for each row's hash over ``schema``'s columns."""
    parts = [lit(str(seed))] + [_canonical_sql(c["name"], c["type"], engine) for c in schema]
    return f"md5(concat_ws({lit(SEPARATOR)}, {', '.join(parts)}))"


def fast_hash_sql(schema: Schema, seed: int) -> str:
    """DuckDB's own 64-bit ``hash`` of a row's values, each first brought to one type per
    kind (BIGINT, DOUBLE with NaN as missing, BOOLEAN, microseconds, VARCHAR) so a table
    hashes alike from a DataFrame and from the Parquet file it was written to. About a
    thousand times cheaper than ``hash_sql`` (no text, no MD5), but DuckDB's alone and free
    to change between its versions: for choices made by DuckDB on the worker only (the
    training sample of a big table), never for those every engine must agree on."""
    def value(col: dict[str, str]) -> str:
        c = ident(col["name"])
        if col["type"] == "int":
            return f"CAST({c} AS BIGINT)"
        if col["type"] == "float":
            return f"CASE WHEN isnan(CAST({c} AS DOUBLE)) THEN NULL ELSE CAST({c} AS DOUBLE) END"
        if col["type"] == "bool":
            return f"CAST({c} AS BOOLEAN)"
        if col["type"] == "datetime":
            return f"epoch_us({c})"
        return f"CAST({c} AS VARCHAR)"

    return f"hash({int(seed)}, {', '.join(value(c) for c in schema)})"


def draws_sql(seed: int, count: int, rows: int, engine: str = "duckdb") -> str:
    """A SELECT of ``count`` rows (``draw``: 0, 1, ...; ``pos``: the position in hash order
    it picks among ``rows`` rows), the same as ``draws``."""
    digest = (f"substr(md5(concat_ws({lit(SEPARATOR)}, 'draw', {lit(str(seed))}, "
              "CAST(draw AS VARCHAR))), 1, 15)")
    number = f"CAST(conv({digest}, 16, 10) AS BIGINT)" if engine == "spark" else \
        f"CAST('0x' || {digest} AS BIGINT)"
    return (f"SELECT draw, {number} % {int(rows)} AS pos FROM "
            f"(SELECT unnest(range(0, {int(count)})) AS draw) AS numbers")


# --- a table's sample ---------------------------------------------------------------------

def quota(n: int, stratum_rows: int | float, total: int | float) -> int:
    """How many of a stratum's rows a sample of ``n`` of ``total`` keeps (half up)."""
    return int(np.floor(n * stratum_rows / total + 0.5)) if total else 0
