"""Saving a SQL connection refuses what could never be used safely: a SQLite file outside the
administrator's folder (the app's own database above all), or a host a driver would read as
a socket folder or a list of hosts. And the folder itself may not hold the app's files."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from datagran.connections.models import Connection
from datagran.connections.sql_settings import sqlite_root_check
from operators.connectors._sql import SQLITE_NOT_A_PATH, SQLITE_OFF, SQLITE_OUTSIDE

pytestmark = pytest.mark.django_db


def save(api, kind: str, **fields: Any):
    return api.post("/api/connections/", {"name": "db", "kind": kind, "fields": fields},
                    format="json")


def with_root(root: str | None):
    return override_settings(DATAGRAN={**settings.DATAGRAN, "SQLITE_ROOT": root or "off"})


def test_the_apps_own_database_and_paths_out_of_the_folder_are_refused(api, tmp_path) -> None:
    root = tmp_path / "sqlite"
    root.mkdir()
    (root / "link.db").symlink_to(settings.DATABASES["default"]["NAME"])
    attacks = {str(settings.DATABASES["default"]["NAME"]): SQLITE_OUTSIDE,
               "../../datagran.sqlite3": SQLITE_OUTSIDE, "link.db": SQLITE_OUTSIDE,
               "file:/tmp/dg-h2-canary.db?mode=rwc": SQLITE_NOT_A_PATH,
               str(Path(settings.DATAGRAN["ARTIFACTS_URL"]) / "x.db"): SQLITE_OUTSIDE}
    with with_root(str(root)):
        for path, message in attacks.items():
            response = save(api, "sqlite", path=path)
            assert response.status_code == 400, path
            assert response.json()["extra"]["fields"] == {"path": [message]}
        assert not Path("/tmp/dg-h2-canary.db").exists()
        assert Connection.objects.count() == 0
        assert save(api, "sqlite", path="sales.db").status_code == 201
        assert save(api, "sqlite", path=":memory:").status_code == 201


def test_sqlite_connections_are_refused_when_the_folder_is_off(api) -> None:
    with with_root(None):
        response = save(api, "sqlite", path="sales.db")
    assert response.status_code == 400
    assert response.json()["extra"]["fields"] == {"path": [SQLITE_OFF]}
    assert Connection.objects.count() == 0


@pytest.mark.parametrize("host", ["/var/run/postgresql", "db.example.com,127.0.0.1",
                                  "db host=127.0.0.1", "@/tmp", "h" * 254])
def test_a_host_that_is_not_a_name_or_an_address_is_refused(api, host: str) -> None:
    for kind in ("postgresql", "mysql"):
        response = save(api, kind, host=host, database="d", user="u")
        assert response.status_code == 400 and "host" in response.json()["extra"]["fields"]
    assert Connection.objects.count() == 0


def test_the_folder_may_not_hold_the_apps_files(tmp_path: Path) -> None:
    for unsafe in (settings.DATA_DIR, settings.BASE_DIR, Path("/"),
                   Path(settings.DATAGRAN["ARTIFACTS_URL"]) / "sqlite"):
        with with_root(str(unsafe)):
            assert [e.id for e in sqlite_root_check(None)] == ["datagran.E110"], unsafe
    for safe in (None, str(tmp_path), str(Path(settings.DATA_DIR) / "sqlite")):
        with with_root(safe):
            assert sqlite_root_check(None) == []


@pytest.mark.parametrize(("environment", "expected"), [
    ({}, "DATA_DIR/sqlite"), ({"DATABASE_URL": "postgresql://u@127.0.0.1/x"}, "off"),
    ({"BROKER_URL": "redis://127.0.0.1:6379/8"}, "off"),
    ({"BROKER_URL": "redis://127.0.0.1:6379/8", "DATAGRAN_SQLITE_ROOT": "/srv/sqlite"},
     "/srv/sqlite")])
def test_sqlite_files_are_off_by_default_in_production(environment: dict[str, str],
                                                       expected: str) -> None:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "BROKER_URL", "DATAGRAN_SQLITE_ROOT")}
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; "
         "print(settings.DATAGRAN['SQLITE_ROOT'])"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "datagran.settings", **environment},
        cwd=settings.BASE_DIR, capture_output=True, text=True, check=True).stdout.strip()
    assert out == expected.replace("DATA_DIR", str(settings.DATA_DIR))


def test_a_sqlalchemy_url_that_could_never_be_used_is_refused_without_its_password(
        api, tmp_path: Path) -> None:
    root = tmp_path / "sqlite"
    root.mkdir()
    secret = "dg-h5-url-password"
    refused = {f"snowflake://me:{secret}@acct/db": "pip install snowflake-sqlalchemy",
               f"postgresql://me:{secret}@/db": "must name the database server's host",
               f"postgresql://me:{secret}@db.example.com/db?host=/var/run/postgresql":
                   "may not set 'host'",
               f"sqlite:///{settings.DATABASES['default']['NAME']}": SQLITE_OUTSIDE,
               "sqlite:///../outside.db": SQLITE_OUTSIDE,
               "sqlite:///sales.db?mode=rwc": SQLITE_NOT_A_PATH}
    with with_root(str(root)):
        for url, message in refused.items():
            response = save(api, "sqlalchemy", url=url)
            assert response.status_code == 400, url
            [said] = response.json()["extra"]["fields"]["url"]
            assert message in said and secret not in response.content.decode(), url
        assert Connection.objects.count() == 0
        assert save(api, "sqlalchemy", url="sqlite:///sales.db").status_code == 201
        assert save(api, "sqlalchemy",
                    url=f"postgresql+psycopg://me:{secret}@db.example.com/sales?sslmode=require"
                    ).status_code == 201
