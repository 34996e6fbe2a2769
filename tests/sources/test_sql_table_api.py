"""connector.sql_query's params form through the API: the tables and a table's columns of a
saved sqlalchemy connection, and a sample, with a hostile table name refused on ``table``.
(Apart from test_sql_table.py, whose ``db`` fixture would stand in for pytest-django's.)"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from tests.graphs import node

from .test_engine_sources import node_of, run
from .test_sql_table import OP, database


@pytest.mark.django_db
def test_the_params_form_lists_tables_and_columns_and_samples_through_the_api(
        api: Any, tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as db, override_settings(
            DATAGRAN={**settings.DATAGRAN, "SQLITE_ROOT": str(tmp_path)}):
        saved = api.post("/api/connections/", {"name": "db", "kind": "sqlalchemy", "fields": {
            "url": f"sqlite:///{db.name}"}}, format="json")
        assert saved.status_code == 201, saved.json()
        params = {"connection": str(saved.json()["id"]), "mode": "table", "table": "orders"}
        url = f"/api/operators/{OP.name}/"
        tables = api.post(url + "options/", {"params": {"connection": params["connection"]},
                                             "field": "table"}, format="json")
        assert tables.status_code == 200, tables.json()
        assert {"orders", "canary", "big_orders"} <= set(tables.json()["options"])
        columns = api.post(url + "options/", {"params": params, "field": "columns"},
                           format="json")
        assert columns.json()["options"] == ["id", "customer", "amount", "seq", "updated_at"]
        hostile = api.post(url + "options/", {"params": {**params, "table": "orders; DROP "
                                                         "TABLE canary"}, "field": "columns"},
                           format="json")
        assert hostile.status_code == 400 and "table" in hostile.json()["extra"]["fields"]
        sample = api.post(url + "sample/", {"params": {**params, "columns": ["id", "amount"]}},
                          format="json")
        assert sample.status_code == 200, sample.json()
        assert [c["name"] for c in sample.json()["columns"]] == ["id", "amount"]
        assert len(sample.json()["rows"]) == 20 and db.count("canary") == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_pipeline_reads_a_table_incrementally_run_after_run(api: Any, worker: Any,
                                                              tmp_path: Path) -> None:
    with database("postgresql", tmp_path) as db, override_settings(
            DATAGRAN={**settings.DATAGRAN, "URL_ALLOWLIST": ["127.0.0.1"]}):
        saved = api.post("/api/connections/", {"name": "Orders DB", "kind": "postgresql",
                                                "fields": {"database": db.name,
                                                           "user": "postgres"}}, format="json")
        assert saved.status_code == 201, saved.json()
        graph = {"nodes": [node("orders", OP.name, connection=str(saved.json()["id"]),
                                mode="table", table="orders", columns=["id", "amount"],
                                incremental_column="updated_at")], "edges": []}
        created = api.post("/api/pipelines/", {"name": "Orders", "graph": graph},
                           format="json")
        assert created.status_code == 201, created.json()
        pipeline = created.json()["id"]
        first = run(api, pipeline)
        assert first["status"] == "succeeded", first
        report = node_of(first, "orders")["source"]
        assert (report["records"], report["new"], report["cursor_field"]) == \
            (20, 20, "updated_at")
        db.run("UPDATE orders SET amount = 1, updated_at = '2024-02-01 10:00:00' WHERE id = 3",
               "UPDATE orders SET amount = 2 WHERE id = 4")  # older than the cursor: not read
        second = run(api, pipeline)
        report2 = node_of(second, "orders")["source"]
        assert (report2["records"], report2["new"], report2["updated"]) == (1, 0, 1)
        assert report2["cursor_before"] == report["cursor_after"]
        assert report2["cursor_after"].startswith("2024-02-01")
