"""CSV that is safe to open in a spreadsheet: text cells a spreadsheet would run as a formula
(starting with = + - @, a tab or a carriage return) get a leading apostrophe (the OWASP
advice against CSV injection). Every CSV Datagran writes for people goes through here."""
from __future__ import annotations

import io
from typing import Any

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_csv(table: pd.DataFrame) -> bytes:
    safe = table.copy()
    header = [safe_cell(str(c)) for c in table.columns]
    safe.columns = range(safe.shape[1])  # positions, so repeated names cannot collide
    for i in safe.columns:
        if safe[i].dtype.kind not in "iufcbmM":  # only text can hold a formula
            safe[i] = safe[i].map(safe_cell, na_action="ignore")
    # CRLF line ends (RFC 4180) make the writer quote any cell holding a lone CR as well.
    text: str = safe.to_csv(index=False, header=header, lineterminator="\r\n")
    return text.encode("utf-8")


def safe_xlsx(table: pd.DataFrame) -> bytes:
    """An Excel workbook of the table, text cells made inert as in CSV."""
    safe = table.copy()
    safe.columns = [safe_cell(str(c)) for c in table.columns]
    for name in safe.columns:
        column = safe[name]
        if column.dtype.kind not in "iufcbmM":
            safe[name] = column.map(safe_cell, na_action="ignore")
        elif column.dtype.kind == "M" and getattr(column.dt, "tz", None) is not None:
            safe[name] = column.dt.tz_localize(None)  # Excel has no time zones
    buffer = io.BytesIO()
    safe.to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()
