"""What the datasets screen shows of a stored table: its first rows, and each column's
statistics (computed one column at a time from the Parquet file, so memory holds one column,
and kept per content hash: versions are immutable)."""
from __future__ import annotations

from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from django.db import IntegrityError, transaction

from datagran.runs.selectors import json_number, preview_rows

from .artifacts import artifact_store
from .models import Dataset, DatasetProfile

PREVIEW_MAX_ROWS = 200
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
    file = _parquet(dataset.table_hash)
    columns = [column_profile(file.read(columns=[name], use_threads=False)
                              .column(0).to_pandas(), name)
               for name in file.schema_arrow.names]
    try:
        with transaction.atomic():
            DatasetProfile.objects.create(table_hash=dataset.table_hash, columns=columns)
    except IntegrityError:  # another request computed it at the same time
        pass
    return columns


def column_profile(col: pd.Series, name: str) -> dict[str, Any]:
    """Type, nulls and distinct values; min, max and mean of numbers (of times, min and
    max); the most frequent values of text and booleans."""
    from operators.schema import column_type

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
