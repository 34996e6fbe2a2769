"""Uploads that are small on disk and huge once decoded (issue 14, S5): each is refused with
a 400 naming the limit, within seconds, without building the table, and no dataset is made."""
from __future__ import annotations

import io
import time
import zipfile
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from django.test import override_settings

from datagran.datasets.models import Dataset


def upload(api: Any, data: bytes, name: str) -> Any:
    fh = io.BytesIO(data)
    fh.name = name
    started = time.monotonic()
    response = api.post("/api/datasets/", {"file": fh}, format="multipart")
    print(f"{name}: {len(data):,} bytes on disk, answered {response.status_code} "
          f"in {time.monotonic() - started:.2f} s")
    return response


def refused(response: Any) -> str:
    assert response.status_code == 400, response.content[:300]
    assert not Dataset.objects.exists()
    return response.json()["message"]


def parquet_of_one_string_repeated(rows: int, size: int = 1024) -> bytes:
    """``rows`` rows of one ``size``-byte string: the dictionary holds it once, the rows are
    run-length encoded indices. Built as a dictionary array, so the test never holds it
    decoded either."""
    column = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)),
                                            pa.array(["x" * size]))
    sink = io.BytesIO()
    pq.write_table(pa.table({"s": column}), sink, compression="zstd")
    return sink.getvalue()


def test_a_dictionary_encoded_parquet_bomb_is_refused_by_its_decoded_size(api: Any) -> None:
    bomb = parquet_of_one_string_repeated(2_000_000)  # 2 GB decoded
    assert len(bomb) < 300_000
    started = time.monotonic()
    message = refused(upload(api, bomb, "bomb.parquet"))
    assert time.monotonic() - started < 30  # "within seconds"; the figure is printed
    assert "DATAGRAN_UPLOAD_MAX_DECODED_BYTES" in message and f"{1 << 30:,}" in message


def test_a_parquet_file_under_the_decoded_limit_is_still_read(api: Any, settings: Any) -> None:
    data = parquet_of_one_string_repeated(20_000, size=100)  # 2 MB decoded
    with override_settings(DATAGRAN={**settings.DATAGRAN, "UPLOAD_MAX_DECODED_BYTES": 3_000_000}):
        response = upload(api, data, "fine.parquet")
    assert response.status_code == 201 and response.json()["row_count"] == 20_000


def test_a_compressed_parquet_column_is_refused_by_its_uncompressed_size(api: Any,
                                                                          settings: Any) -> None:
    sink = io.BytesIO()  # one 20 MB text per row, plain-encoded, zstd-compressed to little
    pq.write_table(pa.table({"s": ["y" * 20_000_000, "z" * 20_000_000]}), sink,
                   compression="zstd", use_dictionary=False)
    with override_settings(DATAGRAN={**settings.DATAGRAN,
                                     "UPLOAD_MAX_DECODED_BYTES": 10_000_000}):
        message = refused(upload(api, sink.getvalue(), "long.parquet"))
    assert "10,000,000 bytes" in message


def xlsx_with_rows(rows: int) -> bytes:
    """A real workbook whose sheet is rewritten, streaming, with ``rows`` one-cell rows."""
    book = openpyxl.Workbook()
    book.active.append(["n"])
    template = io.BytesIO()
    book.save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(item, src.read(item))
                continue
            head, _, _ = src.read(item).partition(b"<sheetData>")
            with dst.open(item.filename, "w", force_zip64=True) as sheet:
                sheet.write(head.replace(b'<dimension ref="A1"/>', b"") + b"<sheetData>")
                block = b"<row><c><v>1</v></c></row>" * 10_000  # rows without numbers
                for _ in range(rows // 10_000):
                    sheet.write(block)
                sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def test_an_xlsx_with_more_rows_than_a_worksheet_holds_is_refused_before_parsing(
        api: Any) -> None:
    bomb = xlsx_with_rows(2_000_000)
    assert len(bomb) < 1_000_000
    started = time.monotonic()
    message = refused(upload(api, bomb, "bomb.xlsx"))
    assert time.monotonic() - started < 30
    assert "1,048,576 rows" in message and "worksheet" in message


def test_an_xlsx_whose_members_inflate_past_the_limit_is_refused(api: Any,
                                                                settings: Any) -> None:
    bomb = xlsx_with_rows(400_000)  # about 10 MB of sheet XML
    with override_settings(DATAGRAN={**settings.DATAGRAN,
                                     "UPLOAD_MAX_DECODED_BYTES": 5_000_000}):
        message = refused(upload(api, bomb, "wide.xlsx"))
    assert "5,000,000 bytes" in message


def test_an_ordinary_xlsx_is_still_read(api: Any) -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"a": range(500), "b": ["x"] * 500}).to_excel(buffer, index=False)
    response = upload(api, buffer.getvalue(), "ok.xlsx")
    assert response.status_code == 201 and response.json()["row_count"] == 500


def test_rows_are_counted_across_read_chunks() -> None:
    from datagran.datasets.services import _count_rows

    data = xlsx_with_rows(60_000)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        member = archive.getinfo("xl/worksheets/sheet1.xml")
        assert _count_rows(archive, member) == 60_000
