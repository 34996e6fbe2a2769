"""connector.sql_query's params form through the API: the tables and a table's columns of a
saved sqlalchemy connection, and a sample, with a hostile table name refused on ``table``.
(Apart from test_sql_table.py, whose ``db`` fixture would stand in for pytest-django's.)"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

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
