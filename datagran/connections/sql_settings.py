"""Where SQLite connections may open files (DATAGRAN_SQLITE_ROOT): read once here for the
run context and for saving a connection, and checked at start-up to hold neither the app's
own database nor the artifact store (nor the code or the data folder holding them)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from pydantic import BaseModel

from datagran.core.exceptions import FieldError
from operators.base import OperatorError
from operators.connections import SqlAlchemyConnection, SQLiteConnection


def _root(name: str) -> str | None:
    value = (settings.DATAGRAN.get(name) or "").strip()
    return None if value.lower() in ("", "off") else value


def sqlite_root() -> str | None:
    """The folder SQLite connections' files must lie in; None when SQLite files are off."""
    return _root("SQLITE_ROOT")


def files_root() -> str | None:
    """The folder the files source may read in (DATAGRAN_FILES_ROOT); None when off."""
    return _root("FILES_ROOT")


def sql_connection_check(model: BaseModel) -> None:
    """At save time, what can be known without connecting: a SQLite file outside the
    folder (or SQLite turned off) is refused on ``path``. Database hosts are checked when a
    node connects (DNS answers may change between saving and running)."""
    if isinstance(model, SQLiteConnection):
        # Imported here: the connectors package loads pandas and scikit-learn, which every
        # process's start (a worker's too) would otherwise wait for.
        from operators.connectors._sql import sqlite_file

        try:
            sqlite_file(model.path, sqlite_root(), field="path")
        except OperatorError as exc:
            raise FieldError(f"path: {exc.message}",
                                 {"path": [exc.message]}) from None
    if isinstance(model, SqlAlchemyConnection):
        # A URL whose dialect is not installed, or that would take the driver elsewhere (a
        # socket, another host in its options), or a SQLite file outside the folder: refused
        # on url, never quoting it (its password).
        from operators.connectors._sql import native, sqlite_file

        try:
            target, _options = native(model, field="url")
            if isinstance(target, SQLiteConnection):
                sqlite_file(target.path, sqlite_root(), field="url")
        except OperatorError as exc:
            raise FieldError(f"url: {exc.message}", {"url": [exc.message]}) from None


def _artifact_folder() -> Path | None:
    store = str(settings.DATAGRAN["ARTIFACTS_URL"])
    if "://" in store and not store.startswith("file://"):
        return None  # an object store: no file of it is on this machine
    return Path(os.path.realpath(store.removeprefix("file://")))


def _protected() -> list[Path]:
    """What a SQLite connection must never open: the app's database, the artifact store,
    the data folder and the code."""
    paths = [Path(settings.BASE_DIR), Path(settings.DATA_DIR)]
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        paths.append(Path(str(database["NAME"])))
    paths = [Path(os.path.realpath(p)) for p in paths]
    store = _artifact_folder()
    return paths + [store] if store is not None else paths


def _root_problems(root: str | None, *, setting: str, reader: str, folder: str,
                   check_id: str) -> list[CheckMessage]:
    """A folder users' connections may read must hold none of what _protected names, nor
    lie in the artifact store."""
    if root is None:
        return []
    base = Path(os.path.realpath(root))
    for path in _protected():
        if path == base or base in path.parents:
            return [Error(f"{setting} ({root}) holds {path}: {reader}. Point it at a "
                          "folder of its own, e.g. "
                          f"{Path(settings.DATA_DIR) / folder}.", id=check_id)]
    store = _artifact_folder()
    if store is not None and store in base.parents:
        return [Error(f"{setting} ({root}) lies in the artifact store ({store}).",
                      id=check_id)]
    return []


@register()
def sqlite_root_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    return _root_problems(sqlite_root(), setting="DATAGRAN_SQLITE_ROOT",
                          reader="SQLite connections could open it",
                          folder="sqlite", check_id="datagran.E110")


@register()
def files_root_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    return _root_problems(files_root(), setting="DATAGRAN_FILES_ROOT",
                          reader="the files source could read it",
                          folder="files", check_id="datagran.E111")
