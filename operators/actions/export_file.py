"""Write a table to a downloadable file, batch by batch: never whole in memory."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO, Literal, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from ..base import Context, Operator, OperatorError, Params, Port, Schema
from ..spreadsheet import safe_cell, safe_csv
from ..tables import BATCH_ROWS, ParquetTable, Table, as_table, link_or_copy

_CONTENT_TYPES = {
    "csv": "text/csv", "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# Rows written at a time (a Parquet row group; the CSV and Excel writers' unit too).
EXPORT_BATCH_ROWS = BATCH_ROWS
XLSX_MAX_ROWS = 1_048_575  # a worksheet's 1,048,576 rows, less the header
ERR_XLSX_ROWS = ("The table has {rows:,} rows; an Excel sheet holds at most {limit:,}. "
                 "Export it as CSV or Parquet, or filter or aggregate it first.")


class ExportFileParams(Params):
    format: Literal["csv", "parquet", "xlsx"] = Field(
        "csv", description="The file format: CSV, Parquet or Excel (xlsx).")
    filename: str = Field(
        "export",
        min_length=1,
        max_length=100,
        # No path separators and no leading dot: the name can never leave the export folder.
        pattern=r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$",
        description="File name without extension: letters, digits, '-', '_' and '.'.",
    )


class _Writer(Protocol):
    def write(self, batch: pd.DataFrame) -> None: ...

    def close(self) -> None: ...


class CsvWriter:
    """One header, then each batch's rows: the same bytes as ``safe_csv`` of the whole for a
    table of one batch. Past one batch, each time column is written in one format for the
    whole file (``time_formats``), where pandas would choose one per batch."""

    def __init__(self, fh: BinaryIO, formats: dict[str, TimeFormat] | None = None) -> None:
        self.fh, self.header, self.formats = fh, b"", formats or {}

    def write(self, batch: pd.DataFrame) -> None:
        if self.formats:
            batch = batch.assign(**{name: format_times(batch[name], *fmt)
                                    for name, fmt in self.formats.items()})
        data = safe_csv(batch)
        if not self.header:
            self.header = safe_csv(batch.iloc[:0])
            self.fh.write(data)
        else:
            self.fh.write(data[len(self.header):])

    def close(self) -> None:
        pass


# A time column's format in a CSV: (dates only, digits of the second's fraction: 0/3/6/9).
TimeFormat = tuple[bool, int]


def time_formats(table: Table, rows: int) -> dict[str, TimeFormat]:
    """The format pandas would give each time column of the whole table: the date alone when
    every value is at midnight (and the column has no time zone), else the time with as many
    fraction digits as the finest value needs. Read first, time columns only, when the table
    takes more than one batch of ``rows``; {} otherwise (one batch formats itself)."""
    names = [c["name"] for c in table.schema if c["type"] == "datetime"]
    if table.rows <= rows or not names or len(set(names)) != len(names) or \
            len({c["name"] for c in table.schema}) != len(table.schema):
        return {}
    found = {name: (True, 0) for name in names}
    for batch in table.batches(rows, columns=names):
        for name in names:
            column = batch[name].dropna()
            if column.empty:
                continue
            dates_only, digits = found[name]
            fraction = (column.dt.microsecond * 1000 + column.dt.nanosecond).to_numpy()
            need = 9 if (fraction % 1000).any() else 6 if (fraction % 1_000_000).any() \
                else 3 if fraction.any() else 0
            midnight = getattr(column.dt, "tz", None) is None and \
                bool((column == column.dt.normalize()).all())
            found[name] = (dates_only and midnight, max(digits, need))
    return found


def format_times(column: pd.Series, dates_only: bool, digits: int) -> pd.Series:
    """A time column as the text ``time_formats`` chose; a missing time stays missing."""
    if column.dtype.kind != "M":
        return column
    if dates_only:
        text = column.dt.strftime("%Y-%m-%d")
    else:
        text = column.dt.strftime("%Y-%m-%d %H:%M:%S")
        if digits:
            fraction = (column.dt.microsecond * 1000 + column.dt.nanosecond).fillna(0)
            text = text + "." + fraction.astype("int64").astype(str).str.zfill(9).str[:digits]
        if getattr(column.dt, "tz", None) is not None:
            offset = column.dt.strftime("%z")
            text = text + offset.str[:3] + ":" + offset.str[3:]
    return text.astype(object).where(column.notna(), None)


def csv_file(table: Table, fh: BinaryIO, rows: int) -> Iterator[int]:
    """Write ``table`` to ``fh`` as safe CSV ``rows`` at a time, yielding after each batch
    (the caller may stop it: an attachment past its limit)."""
    writer = CsvWriter(fh, time_formats(table, rows))
    for batch in table.batches(rows):
        writer.write(batch)
        yield len(batch)


class _ParquetWriter:
    """Row groups appended batch by batch; the first batch's Arrow schema (with pandas'
    metadata, so the file reads back as the DataFrame) is every later batch's."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh, self.schema = fh, pa.schema([])
        self._writer: pq.ParquetWriter | None = None

    def write(self, batch: pd.DataFrame) -> None:
        table = pa.Table.from_pandas(batch, preserve_index=False)
        if self._writer is None:
            self.schema = table.schema
            self._writer = pq.ParquetWriter(self.fh, table.schema)
        elif not table.schema.equals(self.schema, check_metadata=False):
            # A later batch's column gained missing values (int64 → Int64, ...).
            table = table.cast(self.schema, safe=False)
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


class _XlsxWriter:
    """openpyxl's write-only workbook: rows go to a temporary file as they come."""

    def __init__(self, fh: BinaryIO) -> None:
        from openpyxl import Workbook

        self.fh, self.book = fh, Workbook(write_only=True)
        self.sheet, self.started = self.book.create_sheet("Sheet1"), False

    def write(self, batch: pd.DataFrame) -> None:
        if not self.started:
            self.sheet.append([safe_cell(str(c)) for c in batch.columns])
            self.started = True
        columns = [_excel_column(batch[c]) for c in batch.columns]
        for row in zip(*columns, strict=True):
            self.sheet.append(list(row))

    def close(self) -> None:
        self.book.save(self.fh)


def _excel_column(column: pd.Series) -> list[Any]:
    """A column's cells as openpyxl takes them: text made inert, no time zones (Excel has
    none), every missing value an empty cell."""
    if column.dtype.kind == "M" and getattr(column.dt, "tz", None) is not None:
        column = column.dt.tz_localize(None)
    if column.dtype.kind not in "iufcbmM":
        column = column.map(safe_cell, na_action="ignore")
    return [None if _missing(v) else (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v)
            for v in column.astype(object).tolist()]


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or \
        (isinstance(value, float) and value != value)


_WRITERS: dict[str, type[_ParquetWriter] | type[_XlsxWriter]] = {
    "parquet": _ParquetWriter, "xlsx": _XlsxWriter}


def write_file(table: Table, fmt: str, fh: BinaryIO) -> int:
    """Write ``table`` to ``fh`` as ``fmt``, one batch at a time; the rows written."""
    if fmt == "xlsx" and table.rows > XLSX_MAX_ROWS:
        raise OperatorError(ERR_XLSX_ROWS.format(rows=table.rows, limit=XLSX_MAX_ROWS),
                            field="format")
    if fmt == "csv":
        return sum(csv_file(table, fh, EXPORT_BATCH_ROWS))
    if fmt == "parquet" and isinstance(table, ParquetTable):
        with open(table.path, "rb") as artifact:  # already the table as Parquet
            shutil.copyfileobj(artifact, fh, 1 << 20)
        return int(table.rows)
    writer: _Writer = _WRITERS[fmt](fh)
    rows = 0
    try:
        for batch in table.batches(EXPORT_BATCH_ROWS):
            writer.write(batch)
            rows += len(batch)
    except (ValueError, TypeError) as exc:  # pyarrow's errors derive from these
        raise OperatorError(f"Cannot write the table as {fmt}: {exc}", field="format") from None
    writer.close()
    return rows


class ExportFile(Operator):
    """Saves the table as a CSV, Parquet or Excel file to download; passes the rows through.
    The file is written batch by batch (a table bigger than memory exports as it is); an
    Excel sheet holds at most 1,048,575 rows, and a bigger table is refused.

    Example: ``{"format": "csv", "filename": "churn-scores"}`` saves ``churn-scores.csv``.
    """

    name = "action.export_file"
    label = "Export file"
    description = "Save the table as a CSV, Parquet or Excel file to download."
    category = "action"
    icon = "download"
    keywords = ("export", "download", "save", "file", "csv", "parquet", "excel", "write")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = ExportFileParams
    example = {"format": "csv", "filename": "churn-scores"}
    batch_only = True
    lazy_inputs = True

    def run(self, ctx: Context, params: ExportFileParams,
            table: pd.DataFrame | Table) -> dict[str, pd.DataFrame | Table]:
        source = as_table(table)
        folder = getattr(source, "temp_dir", None) or tempfile.gettempdir()
        os.makedirs(folder, exist_ok=True)
        fd, path = tempfile.mkstemp(prefix="export-", suffix=f".{params.format}", dir=folder)
        digest = None
        try:
            if params.format == "parquet" and isinstance(source, ParquetTable):
                # The stored table's own bytes: linked (copied across file systems), and its
                # digest is the file's, so 37.8M rows export without a copy and a hash.
                os.close(fd)
                os.unlink(path)
                link_or_copy(source.path, path)
                rows, digest = int(source.rows), source.digest
            else:
                with os.fdopen(fd, "wb") as fh:
                    rows = write_file(source, params.format, fh)
            filename = f"{params.filename}.{params.format}"
            ctx.save_file_from(filename, path, _CONTENT_TYPES[params.format], digest)
        finally:
            if os.path.exists(path):
                os.unlink(path)
        ctx.log(f"Exported {rows} rows to {filename}.")
        # The rows pass on as they came: a DataFrame, or the input's file.
        return {"table": table}

    def infer_schema(self, ctx: Context, params: ExportFileParams,
                     table: Schema | None = None) -> dict[str, Schema | None]:
        return {"table": table}
