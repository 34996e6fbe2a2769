"""Uploading datasets: good files become Parquet with typed columns; bad ones are a clear 400."""
from __future__ import annotations

import io

import pandas as pd
from django.test import override_settings


def upload(api, content: bytes, name: str = "data.csv"):
    fh = io.BytesIO(content)
    fh.name = name
    return api.post("/api/datasets/", {"file": fh}, format="multipart")


def test_a_csv_upload_reports_columns_types_and_rows(api) -> None:
    response = upload(api, b"id,amount,city\n1,9.5,Oslo\n2,12.0,Lima\n")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["row_count"] == 2
    assert body["columns"] == [{"name": "id", "type": "int"}, {"name": "amount", "type": "float"},
                               {"name": "city", "type": "str"}]
    assert [d["id"] for d in api.get("/api/datasets/").json()] == [body["id"]]


def test_a_semicolon_separated_csv_is_detected(api) -> None:
    body = upload(api, b"a;b\n1;2\n3;4\n").json()
    assert [c["name"] for c in body["columns"]] == ["a", "b"]


def test_a_parquet_upload_keeps_its_types(api) -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"flag": [True, False], "x": [1.5, 2.5]}).to_parquet(buffer)
    body = upload(api, buffer.getvalue(), "t.parquet").json()
    assert body["columns"] == [{"name": "flag", "type": "bool"}, {"name": "x", "type": "float"}]


def test_an_empty_file_is_refused(api) -> None:
    response = upload(api, b"")
    assert response.status_code == 400
    assert response.json()["message"] == "The file is empty."
    assert response.json()["extra"]["fields"]["file"]


def test_a_header_without_rows_is_refused(api) -> None:
    response = upload(api, b"a,b,c\n")
    assert response.status_code == 400 and "no rows" in response.json()["message"]


def test_a_malformed_csv_is_refused_with_the_reason(api) -> None:
    response = upload(api, b'a,b\n1,"unterminated\n2,3\n')
    assert response.status_code == 400
    assert response.json()["message"].startswith("Could not read the file as CSV")


def test_a_broken_parquet_file_is_refused(api) -> None:
    response = upload(api, b"this is not parquet", "x.parquet")
    assert response.status_code == 400
    assert "PARQUET" in response.json()["message"]


def test_a_file_over_the_upload_limit_is_refused(api, settings) -> None:
    with override_settings(DATAGRAN={**settings.DATAGRAN, "UPLOAD_MAX_BYTES": 10}):
        response = upload(api, b"a,b\n1,2\n3,4\n")
    assert response.status_code == 400
    assert "upload limit is 10 bytes" in response.json()["message"]


def test_an_unsupported_file_type_is_refused(api) -> None:
    response = upload(api, b"{}", "data.json")
    assert response.status_code == 400 and "'.json'" in response.json()["message"]


def test_a_request_without_a_file_says_how_to_send_one(api) -> None:
    response = api.post("/api/datasets/", {}, format="multipart")
    assert response.status_code == 400 and "'file'" in response.json()["message"]


def test_an_uploaded_dataset_feeds_the_column_pickers_of_its_pipeline(api) -> None:
    dataset = upload(api, b"id,score\n1,0.5\n2,0.7\n").json()
    graph = {"nodes": [{"id": "u", "operator": "connector.upload",
                        "params": {"dataset": dataset["id"]}},
                       {"id": "f", "operator": "transform.filter_rows",
                        "params": {"conditions": [{"column": "grade", "op": ">",
                                                   "value": 1}]}}],
             "edges": [{"source": "u", "source_port": "table", "target": "f",
                        "target_port": "table"}]}
    response = api.post("/api/pipelines/", {"name": "u", "graph": graph}, format="json")
    assert response.status_code == 400
    [error] = response.json()["extra"]["errors"]
    assert error["node"] == "f" and "grade" in error["message"]
    assert error["field"].startswith("params.conditions")


def test_a_dataset_of_another_workspace_cannot_be_used(api, other_api) -> None:
    dataset = upload(other_api, b"id\n1\n").json()
    graph = {"nodes": [{"id": "u", "operator": "connector.upload",
                        "params": {"dataset": dataset["id"]}}], "edges": []}
    response = api.post("/api/pipelines/", {"name": "steal", "graph": graph}, format="json")
    assert response.status_code == 400
    assert response.json()["extra"]["errors"][0]["field"] == "params.dataset"


def test_a_windows_1252_csv_is_decoded(api) -> None:
    from datagran.datasets.artifacts import artifact_store
    from datagran.datasets.models import Dataset

    body = upload(api, "city,temp\nZürich,3\nMálaga,18\n".encode("cp1252")).json()
    table = artifact_store().read_table(Dataset.objects.get(pk=body["id"]).table_hash)
    assert table["city"].tolist() == ["Zürich", "Málaga"]


def test_an_excel_upload_is_read(api) -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"name": ["a", "b"], "n": [1, 2]}).to_excel(buffer, index=False)
    body = upload(api, buffer.getvalue(), "sheet.xlsx").json()
    assert body["columns"] == [{"name": "name", "type": "str"}, {"name": "n", "type": "int"}]


def test_a_json_lines_upload_is_read(api) -> None:
    body = upload(api, b'{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n', "rows.jsonl").json()
    assert body["row_count"] == 2 and [c["name"] for c in body["columns"]] == ["a", "b"]


def test_a_broken_json_lines_file_is_refused(api) -> None:
    response = upload(api, b'{"a": 1}\n{"a": \n', "rows.jsonl")
    assert response.status_code == 400
    assert "JSONL" in response.json()["message"]


def test_a_file_over_the_row_limit_is_refused(api, settings) -> None:
    with override_settings(DATAGRAN={**settings.DATAGRAN, "UPLOAD_MAX_ROWS": 2}):
        response = upload(api, b"a\n1\n2\n3\n")
    assert response.status_code == 400
    assert "more than 2 rows" in response.json()["message"]


def test_a_small_compressed_parquet_that_inflates_past_the_row_limit_is_refused(
        api, settings) -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"x": [0] * 200_000}).to_parquet(buffer)  # a few KB on disk
    with override_settings(DATAGRAN={**settings.DATAGRAN, "UPLOAD_MAX_ROWS": 1000}):
        response = upload(api, buffer.getvalue(), "bomb.parquet")
    assert response.status_code == 400
    assert "200,000 rows; the limit is 1,000" in response.json()["message"]


def test_a_file_uploaded_under_a_datasets_name_is_its_next_version(api) -> None:
    first = upload(api, b"a\n1\n", "sales.csv").json()
    fh = io.BytesIO(b"a\n1\n2\n")
    fh.name = "sales (1).csv"
    response = api.post("/api/datasets/", {"file": fh, "name": "sales.csv"}, format="multipart")
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["version"], body["unchanged"]) == ("sales.csv", 2, False)
    assert body["latest"] is True and first["latest"] is True
    listed = {d["id"]: d["latest"] for d in api.get("/api/datasets/").json()}
    assert listed == {first["id"]: False, body["id"]: True}
