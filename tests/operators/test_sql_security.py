"""SQL connections are outbound connections like URLs: SQLite files only in the
administrator's folder, database hosts through the private-address check, no reading or
writing of the database server's files, and one message for every refused connection."""
from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import SecretStr, ValidationError

from operators import LocalContext, OperatorError, get_operator
from operators.connections import MySQLConnection, PostgresConnection, SQLiteConnection
from operators.connectors._sql import (
    CONNECT_FAILED,
    SQLITE_NOT_A_PATH,
    SQLITE_OFF,
    SQLITE_OUTSIDE,
)

from .sql_helpers import local_context

query_op = get_operator("connector.sql_query")
table_op = get_operator("action.sql_table")
HASH = "pbkdf2_sha256$870000$salt$victim-hash"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A database outside the SQLite folder, like the app's own: users and memberships."""
    path = tmp_path / "datagran.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE auth_user (id INTEGER PRIMARY KEY, password TEXT)")
        db.execute("INSERT INTO auth_user VALUES (1, ?)", (HASH,))
        db.execute("CREATE TABLE membership (id INTEGER PRIMARY KEY, role TEXT)")
    db.close()
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "sqlite"
    folder.mkdir()
    return folder


def read(ctx: LocalContext, path: str, sql: str = "SELECT * FROM auth_user") -> pd.DataFrame:
    ctx.connections["db"] = SQLiteConnection(path=path)
    return query_op.run(ctx, query_op.parse_params({"connection": "db", "query": sql}))["table"]


def append(ctx: LocalContext, path: str, table: str = "membership") -> pd.DataFrame:
    ctx.connections["db"] = SQLiteConnection(path=path)
    params = table_op.parse_params({"connection": "db", "table": table, "key_columns": ["id"]})
    return table_op.run(ctx, params, table=pd.DataFrame({"id": [2], "role": ["owner"]}))


def payloads(victim: Path, root: Path) -> dict[str, str]:
    (root / "link.db").symlink_to(victim)
    return {"absolute path": str(victim), "dot-dot": "../datagran.sqlite3",
            "dot-dot from a sub-folder": "a/../../datagran.sqlite3", "symlink out": "link.db",
            "file: URI": f"file:{victim}?mode=ro", "the folder itself": "."}


def test_a_sqlite_file_outside_the_folder_is_neither_read_nor_written(victim: Path,
                                                                      root: Path) -> None:
    ctx = LocalContext(sqlite_root=str(root))
    for name, path in payloads(victim, root).items():
        for attempt in (read, append):
            with pytest.raises(OperatorError) as err:
                attempt(ctx, path)
            assert err.value.field == "connection", name
            assert err.value.message in (SQLITE_OUTSIDE, SQLITE_NOT_A_PATH), name
            assert HASH not in err.value.message
    with sqlite3.connect(victim) as db:
        assert db.execute("SELECT count(*) FROM membership").fetchone() == (0,)
    db.close()


def test_a_file_uri_asking_to_create_a_file_creates_nothing(tmp_path: Path, root: Path) -> None:
    canary = tmp_path / f"canary-{uuid.uuid4().hex}.db"
    ctx = LocalContext(sqlite_root=str(root))
    for path in (f"file:{canary}?mode=rwc", f"file:{canary}?vfs=unix-none&mode=rwc",
                 f"{canary}?mode=rwc", f"file:{canary}?immutable=1", str(canary)):
        with pytest.raises(OperatorError):
            append(ctx, path, table="t")
    assert not canary.exists() and os.listdir(root) == []


def test_sqlite_is_refused_when_no_folder_is_set(root: Path) -> None:
    (root / "ok.db").touch()
    with pytest.raises(OperatorError) as err:
        read(LocalContext(), str(root / "ok.db"), "SELECT 1")
    assert err.value.message == SQLITE_OFF and err.value.field == "connection"


def test_files_in_the_folder_and_memory_databases_still_work(root: Path) -> None:
    ctx = LocalContext(sqlite_root=str(root))
    assert statuses(append(ctx, "sub/../scores.db", table="scores")) == ["sent"]
    assert read(ctx, str(root / "scores.db"), "SELECT role FROM scores")["role"].tolist() == \
        ["owner"]
    assert read(ctx, ":memory:", "SELECT 42 AS answer")["answer"].tolist() == [42]
    # :memory: needs no folder at all.
    assert read(LocalContext(), ":memory:", "SELECT 1 AS one")["one"].tolist() == [1]


def statuses(results: dict[str, pd.DataFrame]) -> list[str]:
    return results["results"]["status"].tolist()


# --- database hosts --------------------------------------------------------------------------
SERVERS = [pytest.param(PostgresConnection(database="postgres", user="postgres"),
                        marks=pytest.mark.services, id="postgresql"),
           pytest.param(MySQLConnection(database="test", user="root"),
                        marks=pytest.mark.services, id="mariadb")]


def run_query(ctx: LocalContext, conn: Any, sql: str = "SELECT 1 AS one") -> pd.DataFrame:
    ctx.connections["db"] = conn
    return query_op.run(ctx, query_op.parse_params({"connection": "db", "query": sql}))["table"]


@pytest.mark.parametrize("conn", SERVERS)
def test_a_database_on_loopback_needs_the_allowlist(conn: Any, tmp_path: Path) -> None:
    with pytest.raises(OperatorError) as err:
        run_query(LocalContext(), conn)
    assert err.value.field == "connection" and "DATAGRAN_URL_ALLOWLIST" in err.value.message
    for spelling in ("localhost", "127.1", "::ffff:127.0.0.1", "0.0.0.0"):
        with pytest.raises(OperatorError) as err:
            run_query(LocalContext(), conn.model_copy(update={"host": spelling}))
        assert "DATAGRAN_URL_ALLOWLIST" in err.value.message, spelling
    assert run_query(local_context(tmp_path), conn)["one"].tolist() == [1]
    assert run_query(LocalContext(url_allowlist=["127.0.0.0/8"]), conn)["one"].tolist() == [1]


def test_the_action_checks_the_host_too_but_a_dry_run_reaches_nothing() -> None:
    ctx = LocalContext(connections={"db": PostgresConnection(database="x", user="x")})
    params = {"connection": "db", "table": "t", "key_columns": ["id"]}
    rows = pd.DataFrame({"id": [1]})
    assert table_op.run(ctx, table_op.parse_params({**params, "dry_run": True}),
                        table=rows)["results"]["status"].tolist() == ["dry_run"]
    with pytest.raises(OperatorError) as err:
        table_op.run(ctx, table_op.parse_params(params), table=rows)
    assert "DATAGRAN_URL_ALLOWLIST" in err.value.message


@pytest.mark.services
def test_every_refused_connection_says_the_same(tmp_path: Path) -> None:
    """Closed port, unknown host, wrong password, unknown user: one text, so the connector
    cannot be used as a port scanner."""
    wrong = SecretStr("dg-h2-wrong-password")
    refused = {
        "closed port": PostgresConnection(port=1, database="postgres", user="postgres"),
        "closed MySQL port": MySQLConnection(port=1, database="test", user="root"),
        "unknown host": PostgresConnection(host="dg-h2-no-such-host.invalid",
                                           database="postgres", user="postgres"),
        "wrong password": MySQLConnection(database="test", user="root", password=wrong),
        "unknown user": PostgresConnection(database="postgres", user="dg_h2_nobody"),
        "unknown database": MySQLConnection(database="dg_h2_none", user="root"),
    }
    messages = {}
    for name, conn in refused.items():
        with pytest.raises(OperatorError) as err:
            run_query(local_context(tmp_path), conn)
        messages[name] = (err.value.field, err.value.message)
    assert set(messages.values()) == {("connection", CONNECT_FAILED)}, messages


# --- the database server's files -------------------------------------------------------------
CANARY = f"/tmp/dg_h2_canary_{uuid.uuid4().hex}"
FILE_ACCESS = [
    "SELECT LOAD_FILE('/etc/passwd') AS f",
    "SELECT load_file /**/ ('/etc/passwd')",
    "SELECT `load_file`('/etc/passwd')",
    "SELECT /*!50000 LOAD_FILE('/etc/passwd') */",
    f"SELECT 1 INTO OUTFILE '{CANARY}'",
    f"SELECT 1 INTO/**/DUMPFILE '{CANARY}'",
    f"SELECT 'x' FROM DUAL INTO\nOUTFILE '{CANARY}' -- a comment",
    "SELECT pg_read_file('/etc/passwd')",
    'SELECT pg_catalog."pg_read_file"(\'/etc/passwd\')',
    "SELECT * FROM pg_ls_dir('/')",
    "SELECT PG_READ_BINARY_FILE('/etc/passwd')",
    "SELECT lo_import('/etc/passwd')",
    "SELECT query_to_xml('select pg_read_' || 'file(''/etc/passwd'')', true, true, '')",
    'SELECT U&"pg\\005fread\\005ffile"(\'/etc/passwd\')',
    "SELECT 'a\\', pg_read_file('/etc/passwd') --'",
    "SELECT load_extension('/tmp/evil.so')",
]


# Ids without the random canary name, the same in every xdist worker.
@pytest.mark.parametrize("sql", FILE_ACCESS, ids=lambda sql: sql.replace(CANARY, "CANARY"))
def test_reading_or_writing_the_servers_files_is_refused_when_saved(sql: str) -> None:
    with pytest.raises(ValidationError) as err:
        query_op.parse_params({"connection": "db", "query": sql})
    assert "server's files" in str(err.value)


@pytest.mark.parametrize("conn", SERVERS)
def test_the_real_servers_give_nothing_away_and_write_no_file(conn: Any, tmp_path: Path) -> None:
    """What a node does with the SQL: params are parsed (refused) before anything connects."""
    for sql in FILE_ACCESS:
        with pytest.raises((ValidationError, OperatorError)):
            run_query(local_context(tmp_path), conn, sql)
    assert not Path(CANARY).exists()
    # The same server still answers an honest query.
    assert run_query(local_context(tmp_path), conn, "SELECT 'outfiles' AS w")["w"].tolist() \
        == ["outfiles"]


def test_words_that_merely_contain_a_refused_name_are_fine() -> None:
    for sql in ("SELECT outfile_count, my_load_file_id FROM t", "SELECT 1 AS dumpfiles"):
        params: Any = query_op.parse_params({"connection": "db", "query": sql})
        assert params.query == sql
