"""What the datasets screen shows of a stored table: its first rows, and each column's
statistics (computed one column at a time from the Parquet file, so memory holds one column,
and kept per content hash: versions are immutable)."""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings
from django.db import IntegrityError, transaction

from datagran.core.exceptions import Unavailable
from datagran.runs.selectors import json_number, preview_rows
from operators.schema import column_type
from operators.spreadsheet import safe_csv
from operators.tables import BATCH_ROWS, ParquetTable, lit

from .artifacts import artifact_store
from .models import Dataset, DatasetProfile

PREVIEW_MAX_ROWS = 200
# Columns whose statistics are computed (a query or two each; the columns past it are shown
# without): an upload has at most 1,000 (DATAGRAN_UPLOAD_MAX_COLUMNS), a SQL transform's
# output may have many more.
STATS_MAX_COLUMNS = 1000
TOP_VALUES = 5
# Text longer than this is cut in top values: the screen shows a few words of each.
TOP_VALUE_CHARS = 80


def _parquet(table_hash: str) -> pq.ParquetFile:
    store = artifact_store()
    source: str | BinaryIO = store.storage.source(store.key("table", table_hash))
    return pq.ParquetFile(source)


def dataset_preview(*, dataset: Dataset, rows: int) -> dict[str, Any]:
    """The first ``rows`` rows (at most PREVIEW_MAX_ROWS), read batch by batch."""
    rows = max(1, min(rows, PREVIEW_MAX_ROWS))
    file = _parquet(dataset.table_hash)
    batch = next(file.iter_batches(batch_size=rows, use_threads=False), None)
    head = (batch.to_pandas() if batch is not None
            else file.schema_arrow.empty_table().to_pandas())
    return {"columns": dataset.columns, "rows": preview_rows(head),
            "row_count": dataset.row_count}


def dataset_stats(*, dataset: Dataset) -> list[dict[str, Any]]:
    cached = DatasetProfile.objects.filter(table_hash=dataset.table_hash).first()
    if cached is not None:
        return list(cached.columns)
    with stored_table(dataset.table_hash) as table:
        columns = table_profile(table)
    try:
        with transaction.atomic():
            DatasetProfile.objects.create(table_hash=dataset.table_hash, columns=columns)
    except IntegrityError:  # another request computed it at the same time
        pass
    return columns


def table_profile(table: ParquetTable) -> list[dict[str, Any]]:
    """``column_profile`` of every column, computed by the engine (``table_stats``, and the
    most frequent values by grouping) without reading a column whole; a column of nested
    values or durations, which pandas profiles by their text or in seconds, is read alone."""
    dtypes = table_dtypes(table).iloc[:STATS_MAX_COLUMNS]
    fields = list(pq.read_schema(table.path))[:STATS_MAX_COLUMNS]
    stats = table_stats(table, dtypes)
    columns = []
    with _engine(table) as run, pq.ParquetFile(table.path) as file:
        for i, (f, dtype, entry) in enumerate(zip(fields, dtypes, stats, strict=True)):
            if not _flat(f.type) or dtype.kind == "m" or len(set(dtypes.index)) != len(fields):
                columns.append(column_profile(file.read(columns=[f.name], use_threads=False)
                                              .column(0).to_pandas(), f.name))
                continue
            entry = {**entry, "top": []}
            if entry["type"] in ("str", "bool"):
                entry["top"] = _top_values(run, table.path, i, len(fields), f.type)
            columns.append(entry)
    return columns


def _flat(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t)
                or pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_timestamp(t)
                or pa.types.is_date(t) or pa.types.is_decimal(t))


def _top_values(run: Any, path: str, i: int, width: int, t: pa.DataType
                ) -> list[dict[str, Any]]:
    """The most frequent values as pandas orders them: by count, then by text."""
    aliases = ", ".join(f"c{j}" for j in range(width))
    text = (f"CASE WHEN c{i} THEN 'True' ELSE 'False' END" if pa.types.is_boolean(t)
            else f"CAST(c{i} AS VARCHAR)")
    found = run(f"SELECT list(struct_pack(v := v, n := n) ORDER BY n DESC, v) FROM (SELECT "
                f"{text} AS v, "
                f"count(*) AS n FROM read_parquet({lit(path)}) AS t({aliases}) "
                f"WHERE c{i} IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT {TOP_VALUES})")[0]
    return [{"value": str(row["v"])[:TOP_VALUE_CHARS], "count": int(row["n"])}
            for row in found or []]


def column_profile(col: pd.Series, name: str) -> dict[str, Any]:
    """Type, nulls and distinct values; min, max and mean of numbers (of times, min and
    max); the most frequent values of text and booleans."""
    kind = column_type(col.dtype)
    present = col.dropna()
    if col.dtype.kind == "m":  # durations, as seconds
        present = present.dt.total_seconds()
    elif kind == "str":  # nested lists and objects (JSON lines) by their text
        present = present.astype(str)
    entry: dict[str, Any] = {"name": name, "type": kind, "nulls": int(len(col) - len(present)),
                             "distinct": int(present.nunique()), "min": None, "max": None,
                             "mean": None, "top": []}
    if present.empty:
        return entry
    if kind in ("int", "float"):
        with np.errstate(invalid="ignore"):  # the mean of inf and -inf
            entry.update(min=json_number(present.min()), max=json_number(present.max()),
                         mean=json_number(present.mean()))
    elif kind == "datetime":
        entry.update(min=present.min().isoformat(), max=present.max().isoformat())
    else:
        counts = (present.astype(str).value_counts().sort_index(kind="stable")
                  .sort_values(ascending=False, kind="stable").head(TOP_VALUES))
        entry["top"] = [{"value": str(value)[:TOP_VALUE_CHARS], "count": int(count)}
                        for value, count in counts.items()]
    return entry


# --- any stored table, never whole in memory: a run's preview, statistics and download -------

@contextmanager
def stored_table(digest: str) -> Iterator[ParquetTable]:
    """The table as a ``ParquetTable`` over a local file (the store's own file, or a copy
    in a folder of the engine's that is removed afterwards when the store is remote)."""
    conf = settings.DATAGRAN
    os.makedirs(conf["ENGINE_TEMP_DIR"], exist_ok=True)
    folder = tempfile.mkdtemp(prefix="read-", dir=conf["ENGINE_TEMP_DIR"])
    try:
        yield ParquetTable(artifact_store().table_path(digest, folder),
                           memory_mb=conf["ENGINE_MEMORY_MB"], temp_dir=folder, digest=digest)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def table_preview(*, digest: str, limit: int) -> dict[str, Any]:
    """The first ``limit`` rows, the row count from the file's footer, and each column's
    statistics computed by the engine (``table_stats``)."""
    with stored_table(digest) as table:
        head, dtypes = table.head(limit), table_dtypes(table)
        return {"columns": [{"name": str(n), "type": column_type(d)} for n, d in dtypes.items()],
                "rows": preview_rows(head), "total_rows": table.rows,
                "stats": table_stats(table, dtypes)}


def table_dtypes(table: ParquetTable) -> pd.Series:
    """The columns' pandas types as the whole table reads: those of its first rows, but
    a column pandas wrote as objects (booleans or numbers with None) stays objects, whatever
    its first rows hold."""
    dtypes = table.head(0).dtypes
    meta = pq.read_schema(table.path).pandas_metadata or {}
    written = {c.get("field_name"): c.get("numpy_type") for c in meta.get("columns", [])}
    objects = [i for i, name in enumerate(dtypes.index) if written.get(name) == "object"]
    if not objects:
        return dtypes
    return pd.Series([np.dtype(object) if i in objects else d for i, d in enumerate(dtypes)],
                     index=dtypes.index)


def table_stats(table: ParquetTable, dtypes: pd.Series) -> list[dict[str, Any]]:
    """What ``datagran.runs.selectors.column_stats`` gives of the whole table in memory, the
    same numbers and shapes, computed by DuckDB over the file under the engine's memory limit
    (spilling to its folder). ``dtypes``: the columns' pandas types, as the table reads.
    Floats' NaN counts as missing, as in pandas; distinct values are counted by grouping
    (which spills; ``count(DISTINCT)`` does not); times' min and max are read by Arrow
    (DuckDB keeps microseconds, a time may have nanoseconds). Of the first
    ``STATS_MAX_COLUMNS`` columns only."""
    dtypes = dtypes.iloc[:STATS_MAX_COLUMNS]
    fields = list(pq.read_schema(table.path))[:STATS_MAX_COLUMNS]
    aliases = [f"c{i}" for i in range(len(fields))]
    source = f"read_parquet({lit(table.path)}) AS t({', '.join(aliases)})"
    parts, present, times = [], [], []
    for c, f, dtype in zip(aliases, fields, dtypes, strict=True):
        real = f"NOT isnan({c})" if pa.types.is_floating(f.type) else f"{c} IS NOT NULL"
        present.append(real)
        parts.append(f"count(*) - count(*) FILTER (WHERE {real})")
        if _numeric(dtype):
            mean = (f"fsum({c}) FILTER (WHERE {real}) / count({c}) FILTER (WHERE {real})"
                    if pa.types.is_floating(f.type) else f"avg({c})")
            parts += [f"min({c}) FILTER (WHERE {real})", f"max({c}) FILTER (WHERE {real})",
                      f"CAST({mean} AS DOUBLE)"]
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            times.append(c)
    with _engine(table) as run:
        values = run(f"SELECT {', '.join(parts)} FROM {source}") if parts else []
        distinct = [run(f"SELECT count(*) FROM (SELECT {c} FROM {source} WHERE {real} "
                        f"GROUP BY {c})")[0] for c, real in zip(aliases, present, strict=True)]
    extremes = dict(zip(times, _time_extremes(table, [fields[aliases.index(c)].name
                                                      for c in times]), strict=True))
    stats, at = [], 0
    for c, f, dtype, count in zip(aliases, fields, dtypes, distinct, strict=True):
        entry: dict[str, Any] = {"name": f.name, "type": column_type(dtype),
                                 "nulls": int(values[at]), "distinct": int(count),
                                 "min": None, "max": None, "mean": None}
        at += 1
        if _numeric(dtype):
            low, high, mean = values[at:at + 3]
            at += 3
            if low is not None:
                entry.update(min=json_number(low), max=json_number(high),
                             mean=json_number(_mean(float(low), float(high), mean)))
        elif c in extremes:
            low, high = extremes[c]
            if low is not None and high is not None:
                entry.update(min=low.isoformat(), max=high.isoformat())
        stats.append(entry)
    return stats


def _mean(low: float, high: float, mean: float | None) -> float:
    """An infinite value makes the mean infinite (or NaN, both signs): a compensated sum
    would give NaN for either."""
    if math.isinf(low) or math.isinf(high):
        return math.nan if math.isinf(low) and math.isinf(high) and low != high else (
            low if math.isinf(low) else high)
    return math.nan if mean is None else mean


def _numeric(dtype: Any) -> bool:
    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


@contextmanager
def _engine(table: ParquetTable) -> Iterator[Any]:
    """Run queries of one row on a DuckDB connection with the engine's memory limit."""
    from operators.engines import EngineSettings, memory_message
    from operators.engines.duck import connect

    engine = EngineSettings(memory_mb=table.memory_mb, temp_dir=table.temp_dir,
                            threads=settings.DATAGRAN["ENGINE_THREADS"])
    try:
        with connect(engine) as con:
            # A query per column reads the same footer: 2,000 columns, 13 → 5 ms a query.
            con.execute("SET parquet_metadata_cache = true")
            yield lambda sql: list(con.sql(sql).fetchall()[0])
    except duckdb.OutOfMemoryException:
        raise Unavailable(memory_message("The column statistics", engine)) from None


def _time_extremes(table: ParquetTable, names: list[str]
                   ) -> list[tuple[pd.Timestamp | None, pd.Timestamp | None]]:
    """Each time column's min and max as pandas reads them, batch by batch."""
    if not names:
        return []
    lows: list[list[Any]] = [[] for _ in names]
    highs: list[list[Any]] = [[] for _ in names]
    with pq.ParquetFile(table.path) as pf:
        for batch in pf.iter_batches(columns=names):
            for j in range(len(names)):
                column = batch.column(j)
                if pa.types.is_date(column.type):
                    column = column.cast(pa.timestamp("us"))
                found = pc.min_max(column)
                lows[j].append(found["min"])
                highs[j].append(found["max"])
    return [(_extreme(low, pc.min), _extreme(high, pc.max)) for low, high in zip(lows, highs,
                                                                              strict=True)]


def _extreme(scalars: list[Any], pick: Any) -> pd.Timestamp | None:
    present = [s for s in scalars if s.is_valid]
    if not present:
        return None
    value = pick(pa.array([s.value for s in present], type=pa.int64()))
    ts: pd.Timestamp = pa.array([value.as_py()], type=pa.int64()).cast(present[0].type
                                                                       ).to_pandas()[0]
    return ts


def table_csv(table: ParquetTable, rows: int = BATCH_ROWS) -> Iterator[bytes]:
    """The table as ``safe_csv`` writes it whole, batch by batch: the header once, then each
    batch's rows. pandas writes a time column as dates alone when every value is a
    midnight, and with as many decimals as its most precise value: a first pass reads those
    facts of the whole column, so every batch writes its times as the whole table would."""
    formats = _time_formats(table, rows)
    header = b""
    for n, batch in enumerate(table.batches(rows)):
        for name, (dates_only, digits) in formats.items():
            batch[name] = _times_text(batch[name], dates_only, digits)
        data = safe_csv(batch)
        if n == 0:
            header = safe_csv(batch.iloc[:0])
            yield header
        yield data[len(header):]


# pandas' decimals of a time column: 9 if a value has nanoseconds, 6 if microseconds, 3 if
# milliseconds, else none.
_DECIMALS = ((1000, 9), (1_000_000, 6), (1_000_000_000, 3))


def _time_formats(table: ParquetTable, rows: int) -> dict[str, tuple[bool, int]]:
    """Column name → (dates only, decimals) of each time column, as pandas decides them for
    the whole column (a column with a zone is never written as dates alone)."""
    names = [c["name"] for c in table.schema if c["type"] == "datetime"]
    facts: dict[str, tuple[bool, int]] = {}
    if not names or len({c["name"] for c in table.schema}) != len(table.schema):
        return facts  # repeated names: the batches cannot be changed column by column
    for batch in table.batches(rows, columns=names):
        for name in names:
            column = batch[name]
            if column.dtype.kind != "M":
                continue
            zoned = _zoned(column)
            nanos = _nanos_of_day(column)
            dates_only, digits = facts.get(name, (not zoned, 0))
            facts[name] = (dates_only and not nanos.any(),
                           max(digits, _decimals(nanos % 1_000_000_000)))
    return facts


def _zoned(column: pd.Series) -> bool:
    return getattr(column.dtype, "tz", None) is not None


def _nanos_of_day(column: pd.Series) -> np.ndarray:
    """Nanoseconds since midnight of each time present (wall-clock time where zoned)."""
    if _zoned(column):
        column = column.dt.tz_localize(None)
    unit, _ = np.datetime_data(column.dtype)
    ints = column.dropna().to_numpy().view("i8")
    per_day = int(np.timedelta64(1, "D") / np.timedelta64(1, unit))  # type: ignore[call-overload]
    return np.asarray((ints % per_day) * (86_400_000_000_000 // per_day))


def _decimals(sub_second_nanos: np.ndarray) -> int:
    for step, digits in _DECIMALS:
        if (sub_second_nanos % step).any():
            return digits
    return 0


def _times_text(column: pd.Series, dates_only: bool, digits: int) -> pd.Series:
    """A time column as pandas writes the whole column in CSV (NaT stays missing)."""
    if column.dtype.kind != "M":
        return column
    if dates_only:
        return column.dt.strftime("%Y-%m-%d")
    text = column.dt.strftime("%Y-%m-%d %H:%M:%S")
    if digits:
        nanos = pd.Series(_nanos_of_day(column) % 1_000_000_000 // 10 ** (9 - digits),
                          index=column.index[column.notna()])
        text = text + "." + nanos.astype(str).str.zfill(digits).reindex(column.index)
    if _zoned(column):
        # +0100 and +000921 (local mean time) are written +01:00 and +00:09:21
        text = text + column.dt.strftime("%z").str.replace(r"(\d\d)(?=\d)", r"\1:",
                                                          regex=True)
    return text
