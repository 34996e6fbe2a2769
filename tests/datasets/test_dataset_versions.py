"""Datasets have versions: a changed file uploaded under a dataset's name is its next version,
the same file again is "unchanged"; each version keeps its own data, preview and column
statistics; deleting is refused while a pipeline's current version reads it."""
from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest

from datagran.datasets.artifacts import artifact_store
from datagran.datasets.models import Dataset, DatasetProfile
from datagran.workspaces.models import Membership, Role

V1 = b"id,city,score\n1,Oslo,0.5\n2,Lima,\n3,Oslo,2.5\n"
V2 = b"id,city,score\n1,Oslo,0.5\n2,Lima,1.0\n3,Oslo,2.5\n4,Pune,4.0\n"


def upload(api: Any, content: bytes, name: str = "sales.csv", **extra: str) -> Any:
    fh = io.BytesIO(content)
    fh.name = name
    return api.post("/api/datasets/", {"file": fh, **extra}, format="multipart")


def pipeline_reading(api: Any, dataset_id: str, name: str = "Reads sales") -> dict[str, Any]:
    graph = {"nodes": [{"id": "u", "operator": "connector.upload",
                        "params": {"dataset": dataset_id}}], "edges": []}
    response = api.post("/api/pipelines/", {"name": name, "graph": graph}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_changed_file_under_the_same_name_is_the_next_version(api) -> None:
    first = upload(api, V1)
    second = upload(api, V2)
    assert (first.status_code, second.status_code) == (201, 201)
    one, two = first.json(), second.json()
    assert (one["version"], two["version"]) == (1, 2)
    assert one["id"] != two["id"] and (two["name"], two["row_count"]) == ("sales.csv", 4)
    listed = {d["id"]: d for d in api.get("/api/datasets/").json()}
    assert {d["name"] for d in listed.values()} == {"sales.csv"}
    assert (listed[one["id"]]["latest"], listed[two["id"]]["latest"]) == (False, True)
    assert listed[two["id"]]["created_by"] == "alice"


def test_the_same_file_again_is_unchanged_and_makes_no_version(api) -> None:
    one = upload(api, V1).json()
    again = upload(api, V1)
    assert again.status_code == 200
    assert again.json()["unchanged"] is True and again.json()["id"] == one["id"]
    assert Dataset.objects.count() == 1


def test_another_name_is_another_dataset(api) -> None:
    upload(api, V1)
    other = upload(api, V1, name="sales-copy.csv").json()
    assert (other["name"], other["version"]) == ("sales-copy.csv", 1)
    assert Dataset.objects.count() == 2


def test_an_older_version_keeps_reading_its_own_data(api) -> None:
    one = upload(api, V1).json()
    upload(api, V2)
    table = artifact_store().read_table(Dataset.objects.get(pk=one["id"]).table_hash)
    assert table["id"].tolist() == [1, 2, 3]


def test_the_preview_is_the_first_rows(api) -> None:
    one = upload(api, V2).json()
    body = api.get(f"/api/datasets/{one['id']}/preview/?rows=2").json()
    assert body["rows"] == [[1, "Oslo", 0.5], [2, "Lima", 1.0]]
    assert body["row_count"] == 4 and [c["name"] for c in body["columns"]] == [
        "id", "city", "score"]
    too_many = api.get(f"/api/datasets/{one['id']}/preview/?rows=100000")
    assert too_many.status_code == 400 and "rows" in too_many.json()["extra"]["fields"]


def test_column_statistics_are_computed_once_per_content(api) -> None:
    one = upload(api, V1).json()
    body = api.get(f"/api/datasets/{one['id']}/stats/").json()
    stats = {c["name"]: c for c in body["columns"]}
    assert stats["score"] == {"name": "score", "type": "float", "nulls": 1, "distinct": 2,
                              "min": 0.5, "max": 2.5, "mean": 1.5, "top": []}
    assert stats["city"]["top"] == [{"value": "Oslo", "count": 2}, {"value": "Lima", "count": 1}]
    assert (stats["id"]["min"], stats["id"]["max"], stats["id"]["distinct"]) == (1, 3, 3)
    assert DatasetProfile.objects.count() == 1
    DatasetProfile.objects.update(columns=[{"name": "cached"}])
    assert api.get(f"/api/datasets/{one['id']}/stats/").json()["columns"] == [
        {"name": "cached"}]


def test_the_statistics_of_times_and_an_empty_column(api) -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"at": pd.to_datetime(["2024-01-02", "2024-03-04"]),
                  "none": [None, None]}).to_parquet(buffer)
    one = upload(api, buffer.getvalue(), name="t.parquet").json()
    stats = {c["name"]: c for c in api.get(f"/api/datasets/{one['id']}/stats/").json()["columns"]}
    assert (stats["at"]["min"], stats["at"]["max"]) == ("2024-01-02T00:00:00",
                                                        "2024-03-04T00:00:00")
    assert (stats["none"]["nulls"], stats["none"]["distinct"]) == (2, 0)


def test_nested_values_are_counted_by_their_text(api) -> None:
    lines = b'{"id": 1, "tags": ["a", "b"], "meta": {"k": 1}}\n{"id": 2, "tags": ["a", "b"]}\n'
    one = upload(api, lines, name="nested.jsonl").json()
    response = api.get(f"/api/datasets/{one['id']}/stats/")
    assert response.status_code == 200, response.json()
    stats = {c["name"]: c for c in response.json()["columns"]}
    assert (stats["tags"]["distinct"], stats["tags"]["top"][0]["count"]) == (1, 2)
    assert stats["meta"]["nulls"] == 1
    preview = api.get(f"/api/datasets/{one['id']}/preview/")
    assert preview.status_code == 200 and preview.json()["rows"][0][1] == ["a", "b"]


def test_the_list_names_the_pipelines_that_read_each_version(api) -> None:
    one = upload(api, V1).json()
    two = upload(api, V2).json()
    pipeline = pipeline_reading(api, one["id"])
    listed = {d["id"]: d for d in api.get("/api/datasets/").json()}
    assert listed[one["id"]]["used_by"] == [{"id": pipeline["id"], "name": "Reads sales"}]
    assert listed[two["id"]]["used_by"] == []


def test_deleting_a_version_in_use_is_refused_and_deletes_nothing(api) -> None:
    one = upload(api, V1).json()
    pipeline_reading(api, one["id"])
    response = api.delete(f"/api/datasets/{one['id']}/")
    assert response.status_code == 409
    assert "'Reads sales'" in response.json()["message"]
    assert response.json()["extra"]["fields"]["dataset"]
    assert Dataset.objects.filter(pk=one["id"]).exists()


def test_deleting_a_dataset_whose_older_version_is_used_is_refused(api) -> None:
    one = upload(api, V1).json()
    two = upload(api, V2).json()
    pipeline_reading(api, one["id"])
    response = api.delete(f"/api/datasets/{two['id']}/?all_versions=true")
    assert response.status_code == 409 and "'Reads sales'" in response.json()["message"]
    assert Dataset.objects.count() == 2
    # The unused version alone may go.
    assert api.delete(f"/api/datasets/{two['id']}/").json() == {"deleted": 1}
    assert list(Dataset.objects.values_list("pk", flat=True)) == [
        Dataset.objects.get(pk=one["id"]).pk]


def test_a_pipeline_that_no_longer_reads_it_lets_it_go(api) -> None:
    one = upload(api, V1).json()
    pipeline = pipeline_reading(api, one["id"])
    api.patch(f"/api/pipelines/{pipeline['id']}/", {"graph": {"nodes": [], "edges": []}},
              format="json")
    response = api.delete(f"/api/datasets/{one['id']}/?all_versions=true")
    assert response.status_code == 200 and response.json() == {"deleted": 1}
    assert not Dataset.objects.exists()


def test_the_next_upload_after_deleting_the_latest_reuses_no_number(api) -> None:
    upload(api, V1)
    two = upload(api, V2).json()
    api.delete(f"/api/datasets/{two['id']}/")
    three = upload(api, V2 + b"5,Rome,1.0\n").json()
    assert three["version"] == 2  # numbers follow the versions that are kept


def test_a_viewer_cannot_delete(api, user, other_api, other_user) -> None:
    one = upload(api, V1).json()
    workspace = Dataset.objects.get(pk=one["id"]).workspace
    Membership.objects.create(user=other_user, workspace=workspace, role=Role.VIEWER)
    response = other_api.delete(f"/api/datasets/{one['id']}/")
    assert response.status_code == 403
    assert Dataset.objects.filter(pk=one["id"]).exists()


def test_another_workspaces_dataset_is_not_found(api, other_api) -> None:
    one = upload(api, V1).json()
    for path in ("", "preview/", "stats/"):
        assert other_api.get(f"/api/datasets/{one['id']}/{path}").status_code == 404
    assert other_api.delete(f"/api/datasets/{one['id']}/").status_code == 404
    assert Dataset.objects.filter(pk=one["id"]).exists()
    assert api.get("/api/datasets/not-an-id/stats/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_migration_numbers_existing_uploads_of_one_name_by_their_time(user) -> None:
    """Before versions, each upload was an entry of its own, names repeated; after, the rows
    of one name are its versions 1, 2, ... in upload order, ids unchanged."""
    from datetime import timedelta

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    from datagran.workspaces.services import workspace_personal

    workspace = workspace_personal(user=user)
    before, after = [("datasets", "0001_initial")], [("datasets", "0002_dataset_versions")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("datasets", "Dataset")
    start = timezone.now()
    rows = {}
    for key, name, minutes in (("a1", "a.csv", 0), ("b1", "b.csv", 1), ("a3", "a.csv", 5),
                               ("a2", "a.csv", 2)):
        row = old.objects.create(workspace_id=workspace.pk, name=name, format="csv",
                                 source_sha256=key, table_hash=key, row_count=1, size_bytes=1)
        old.objects.filter(pk=row.pk).update(created_at=start + timedelta(minutes=minutes))
        rows[key] = row.pk
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("datasets"))

    numbered = {key: Dataset.objects.get(pk=pk).version for key, pk in rows.items()}
    assert numbered == {"a1": 1, "a2": 2, "a3": 3, "b1": 1}
