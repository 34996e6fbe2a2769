"""Uploads an attacker sends to tie up the server or crash it, and files whose values pandas
would silently change: each refusal is a 400 on the file field naming the limit, and no
dataset is made; an accepted file keeps what it holds."""
from __future__ import annotations

import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.test import override_settings

from datagran.datasets.models import Dataset
from operators.connectors.files import _frames
from operators.textfiles import JSON_LINES

from .test_bombs import refused, upload

pytestmark = pytest.mark.django_db


def wide_csv(columns: int) -> bytes:
    return (",".join(f"c{i}" for i in range(columns)) + "\n"
            + ",".join("1" for _ in range(columns)) + "\n").encode()


def parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def test_a_csv_of_50000_columns_is_refused_by_its_header(api: Any) -> None:
    """600 KB on disk; its statistics once took the server minutes of a core."""
    message = refused(upload(api, wide_csv(50_000), "wide.csv"))
    assert message == ("The file has 50,000 columns; the limit is 1,000 columns "
                       "(DATAGRAN_UPLOAD_MAX_COLUMNS).")


@pytest.mark.parametrize(("name", "data"), [
    ("wide.parquet", parquet(pa.table({f"c{i}": [1] for i in range(1_001)}))),
    ("wide.jsonl", json.dumps({f"c{i}": 1 for i in range(1_001)}).encode() + b"\n"),
])
def test_every_format_is_held_to_the_column_limit(api: Any, name: str, data: bytes) -> None:
    assert "1,001 columns; the limit is 1,000" in refused(upload(api, data, name))


def test_a_table_at_the_column_limit_is_read_and_profiled(api: Any, settings: Any) -> None:
    with override_settings(DATAGRAN={**settings.DATAGRAN, "UPLOAD_MAX_COLUMNS": 300}):
        response = upload(api, wide_csv(300), "at-limit.csv")
    assert response.status_code == 201, response.content[:300]
    stats = api.get(f"/api/datasets/{response.json()['id']}/stats/")
    assert stats.status_code == 200
    assert [c["name"] for c in stats.json()["columns"]] == [f"c{i}" for i in range(300)]


def test_a_parquet_map_column_is_refused_by_name(api: Any) -> None:
    maps = pa.array([[("k", 1)]], type=pa.map_(pa.string(), pa.int64()))
    message = refused(upload(api, parquet(pa.table({"id": [1], "m": maps})), "map.parquet"))
    assert message.startswith("Column 'm' holds key-value maps (map<string, int64>)")


@pytest.mark.parametrize("metadata", [
    b'{"index_columns": 5, "columns": []}',
    json.dumps({"index_columns": [], "columns": [
        {"name": "a", "field_name": "a", "pandas_type": "zzz", "numpy_type": "qq",
         "metadata": None}]}).encode(),
])
def test_crafted_pandas_metadata_is_a_file_pandas_cannot_read(api: Any,
                                                              metadata: bytes) -> None:
    table = pa.table({"a": [1, 2]}).replace_schema_metadata({b"pandas": metadata})
    message = refused(upload(api, parquet(table), "crafted.parquet"))
    assert message.startswith("Could not read the file as PARQUET: "), message


JSON_LINES_FILE = (b'{"id": 1, "created_at": 1700000000, "": 2, "2020-01-01": 3, '
                   b'"code": "007", "ok": true}\n'
                   b'{"id": 2, "created_at": 1700000001, "": 4, "2020-01-01": 5, '
                   b'"code": "010", "ok": false}\n')
KEPT = {"id": ("int", [1, 2]), "created_at": ("int", [1700000000, 1700000001]),
        "Unnamed: 2": ("int", [2, 4]), "2020-01-01": ("int", [3, 5]),
        "code": ("str", ["007", "010"]), "ok": ("bool", [True, False])}


def test_json_lines_keep_their_names_types_and_text(api: Any) -> None:
    """pandas' guesses would make "007" the number 7, created_at a time, and the column
    named "2020-01-01" a time; a column without a name is named as in a CSV file."""
    response = upload(api, JSON_LINES_FILE, "events.jsonl")
    assert response.status_code == 201, response.content[:300]
    assert {c["name"]: c["type"] for c in response.json()["columns"]} == \
        {name: kind for name, (kind, _) in KEPT.items()}
    preview = api.get(f"/api/datasets/{response.json()['id']}/preview/").json()
    names = [c["name"] for c in preview["columns"]]
    assert {name: [row[names.index(name)] for row in preview["rows"]] for name in KEPT} == \
        {name: values for name, (_, values) in KEPT.items()}


def test_the_files_source_reads_json_lines_the_same_way() -> None:
    class Params:
        encoding = "auto"
        delimiter = "auto"

    frame = next(_frames(io.BytesIO(JSON_LINES_FILE), "jsonl", "events.jsonl", Params(),
                         1 << 20, None))
    assert list(frame.columns) == ["" if c == "Unnamed: 2" else c for c in KEPT]
    assert frame["code"].tolist() == ["007", "010"]
    assert frame["created_at"].tolist() == [1700000000, 1700000001]
    assert JSON_LINES["dtype"] is False and not Dataset.objects.exists()
