"""Write a table to a downloadable file."""
from __future__ import annotations

import io
from typing import Literal

import pandas as pd
from pydantic import Field

from ..base import Context, Operator, OperatorError, Params, Port, Schema
from ..spreadsheet import safe_csv, safe_xlsx

_CONTENT_TYPES = {
    "csv": "text/csv", "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


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


def _serialise(table: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "csv":
        return safe_csv(table)
    if fmt == "xlsx":
        return safe_xlsx(table)
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    return buffer.getvalue()


class ExportFile(Operator):
    """Saves the table as a CSV, Parquet or Excel file to download; passes the rows through.

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

    def run(self, ctx: Context, params: ExportFileParams,
            table: pd.DataFrame) -> dict[str, pd.DataFrame]:
        try:
            data = _serialise(table, params.format)
        except (ValueError, TypeError) as exc:  # pyarrow's errors derive from these
            raise OperatorError(
                f"Cannot write the table as {params.format}: {exc}", field="format"
            ) from None
        filename = f"{params.filename}.{params.format}"
        ctx.save_file(filename, data, _CONTENT_TYPES[params.format])
        ctx.log(f"Exported {len(table)} rows to {filename}.")
        return {"table": table}

    def infer_schema(self, ctx: Context, params: ExportFileParams,
                     table: Schema | None = None) -> dict[str, Schema | None]:
        return {"table": table}
