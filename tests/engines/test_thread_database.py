"""A table node on the DuckDB engine takes a connection to its thread's database, kept open
between that thread's nodes (opening a database costs ~10 ms): each node still sees only its
own inputs, a failed node's database is not used again, a sealed node (a person's SQL) never
touches the shared database nor changes its settings, and idle databases are closed before
a fork, after a minute unused and when the process ends."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import time
import weakref
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from operators.base import LocalContext, OperatorError
from operators.engines import EngineSettings, duck, run_relational
from operators.registry import get_operator
from operators.schema import schema_of
from operators.tables import Rel

from .parity import run_engine

ORDERS = pd.DataFrame({"id": [1, 2, 3, 4], "amount": [5.0, 12.5, 30.0, 8.0],
                       "note": ["a", "b", "not a number", "d"]})


def idle_database() -> duckdb.DuckDBPyConnection | None:
    held = duck._DATABASES._idle.get(threading.get_ident())
    return None if held is None else held[1]


def test_the_next_node_on_a_thread_reuses_its_database_and_keeps_nothing_of_it(
        tmp_path) -> None:
    """The next node's database is the same one; a node's input held in memory (the table
    memo hands the previous node's Arrow table on) is let go when the node ends, and its
    views are not there for the next node."""
    op = get_operator("transform.filter_rows")
    params = op.parse_params({"conditions": [{"column": "amount", "op": ">", "value": 10}]})
    table = pa.Table.from_pandas(ORDERS, preserve_index=False)
    held = weakref.ref(table)
    result = run_relational(op, params, {"table": table}, str(tmp_path), ctx=LocalContext(),
                            settings=EngineSettings())
    assert pq.read_table(result.outputs["table"].path).column("id").to_pylist() == [2, 3]
    first = idle_database()
    assert first is not None
    del table
    gc.collect()
    assert held() is None  # nothing of the node keeps its input alive
    derived = run_engine("duckdb", "transform.derive_column", {
        "name": "double", "expression": "amount * 2"}, table=ORDERS)["table"]
    assert derived["double"].tolist() == [10.0, 25.0, 60.0, 16.0]
    assert idle_database() is first
    con = first.cursor()
    views = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    con.close()
    assert views == []


def test_hostile_names_and_values_leave_nothing_in_the_shared_database() -> None:
    """The shared database outlives a node, so SQL smuggled in a column name, a value or an
    expression would reach the next node's too: each is quoted, and nothing is created."""
    payload = "x'); CREATE TABLE canary AS SELECT 1; CREATE MACRO m() AS 1; --"
    table = ORDERS.rename(columns={"note": 'note"; CREATE TABLE canary2 (a INT); --'})
    kept = run_engine("duckdb", "transform.filter_rows", {"conditions": [
        {"column": table.columns[2], "op": "==", "value": payload}]}, table=table)["table"]
    assert kept.empty and list(kept.columns) == list(table.columns)
    with pytest.raises(OperatorError):
        run_engine("duckdb", "transform.derive_column", {
            "name": "y", "expression": "amount); CREATE TABLE canary3 (a INT); --"},
            table=table)
    run_engine("duckdb", "transform.select_columns", {"columns": ["id"]}, table=ORDERS)
    shared = idle_database()
    assert shared is not None
    con = shared.cursor()
    try:
        assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM duckdb_functions() "
                           "WHERE function_name = 'm'").fetchall() == [(0,)]
    finally:
        con.close()


def test_a_split_on_a_hostile_column_and_values_keeps_only_its_own_table() -> None:
    """A split keeps its row hashes in a table it creates from SQL built over the column's
    name and its values (the thresholds): smuggled SQL in either creates nothing else."""
    payload = "x'); CREATE TABLE canary AS SELECT 1; --"
    column = 'plan"; CREATE TABLE canary2 (a INT); --'
    frame = pd.DataFrame({"id": range(8), column: [payload, "b"] * 4})
    node = duck.connect(EngineSettings())
    node.register("t", pa.Table.from_pandas(frame, preserve_index=False))
    q = duck.DuckQuery(node, "Split", LocalContext())
    op = get_operator("transform.split")
    sides = op.query(q, op.parse_params({"test_size": 0.5, "seed": 1, "stratify": column}),
                     table=Rel('"t"', schema_of(frame)))
    test = node.sql(q.statement(f"SELECT * FROM {sides['test'].ref}")).df()
    assert sorted(test[column]) == sorted([payload, payload, "b", "b"])
    tables = [name for (name,) in node.execute("SELECT table_name FROM duckdb_tables()"
                                               ).fetchall()]
    assert len(tables) == 1 and tables[0].startswith(q.prefix)
    node.close()


def test_a_materialized_definition_is_computed_once_and_goes_with_the_node() -> None:
    """``materialize`` (a split's row hashes) is computed once: every statement of the node
    reads the same rows (``random()`` would differ if each computed it again, as a plain
    definition is); it is a temporary table of the node's connection, gone with it."""
    db = duck.connect(EngineSettings())
    node = db.cursor()
    q = duck.DuckQuery(node, "Test", LocalContext())
    kept = q.materialize("SELECT random() AS r FROM range(50)", [{"name": "r", "type": "float"}])
    again = q.define("SELECT random() AS r FROM range(50)", [{"name": "r", "type": "float"}])
    read = [q.fetch(f"SELECT r FROM {rel.ref}")["r"].tolist() for rel in (kept, kept, again, again)]
    assert read[0] == read[1] and read[2] != read[3]
    node.close()
    assert db.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)
    db.close()


def test_a_node_that_kept_a_table_closes_the_thread_s_database() -> None:
    """A split keeps its row hashes in a temporary table; DuckDB holds on to the memory it
    took (100 MB for 757k rows) after dropping it, so the thread's database is closed, not
    kept, and the next node opens a fresh one."""
    run_engine("duckdb", "transform.select_columns", {"columns": ["id"]}, table=ORDERS)
    before = idle_database()
    assert before is not None
    halves = run_engine("duckdb", "transform.split", {"test_size": 0.5, "seed": 3}, table=ORDERS)
    assert len(halves["train"]) + len(halves["test"]) == len(ORDERS)
    assert idle_database() is None
    with pytest.raises(duckdb.ConnectionException):
        before.execute("SELECT 1")
    run_engine("duckdb", "transform.select_columns", {"columns": ["id"]}, table=ORDERS)
    assert idle_database() is not None


def test_a_failed_node_does_not_leave_its_database_for_the_next() -> None:
    run_engine("duckdb", "transform.select_columns", {"columns": ["id"]}, table=ORDERS)
    before = idle_database()
    assert before is not None
    with pytest.raises(OperatorError, match="cannot be read as numbers"):
        run_engine("duckdb", "transform.cast_columns", {
            "columns": [{"column": "note", "type": "float"}]}, table=ORDERS)
    assert idle_database() is None
    with pytest.raises(duckdb.ConnectionException):
        before.execute("SELECT 1")  # closed, not kept
    # The next node opens a new database and works as before.
    out = run_engine("duckdb", "transform.select_columns", {"columns": ["amount"]},
                     table=ORDERS)["table"]
    assert out["amount"].tolist() == ORDERS["amount"].tolist()


def test_a_sealed_node_runs_on_a_database_of_its_own(tmp_path) -> None:
    """A person's SQL switches external access off and locks the configuration for good: on
    a database of its own, so the thread's database still reads files afterwards, and the
    SQL finds nothing of the nodes before it."""
    run_engine("duckdb", "transform.select_columns", {"columns": ["id"]}, table=ORDERS)
    shared = idle_database()
    assert shared is not None
    out = run_engine("duckdb", "transform.sql", {"query": "SELECT id FROM a WHERE id > 2"},
                     a=ORDERS)["table"]
    assert out["id"].tolist() == [3, 4]
    assert idle_database() is shared
    con = shared.cursor()
    assert con.execute("SELECT current_setting('enable_external_access')").fetchone() == (True,)
    con.close()
    # and a node after it on the same thread reads its Parquet input as usual
    after = run_engine("duckdb", "transform.filter_rows", {
        "conditions": [{"column": "id", "op": "<", "value": 2}]}, table=ORDERS)["table"]
    assert after["id"].tolist() == [1]


def test_other_settings_replace_the_thread_s_database(tmp_path) -> None:
    op = get_operator("transform.select_columns")
    path = str(tmp_path / "in.parquet")
    ORDERS.to_parquet(path, index=False)
    params = op.parse_params({"columns": ["id"]})
    run_relational(op, params, {"table": path}, str(tmp_path), ctx=LocalContext(),
                   settings=EngineSettings(memory_mb=512))
    small = idle_database()
    assert small is not None
    run_relational(op, params, {"table": path}, str(tmp_path), ctx=LocalContext(),
                   settings=EngineSettings(memory_mb=768))
    replaced = idle_database()
    assert replaced is not None and replaced is not small
    con = replaced.cursor()
    [(limit,)] = con.execute("SELECT current_setting('memory_limit')").fetchall()
    con.close()
    assert limit.replace(" ", "") in ("768.0MiB", "732.4MiB", "768MiB")
    with pytest.raises(duckdb.ConnectionException):
        small.execute("SELECT 1")


def test_a_database_left_idle_is_closed(monkeypatch) -> None:
    """A worker that runs no more nodes gives back the 30-50 MB its database holds."""
    monkeypatch.setattr(duck._ThreadDatabases, "IDLE_SECONDS", 0.2)
    run_engine("duckdb", "transform.select_columns", {"columns": ["id"]}, table=ORDERS)
    idle = idle_database()
    assert idle is not None
    deadline = time.monotonic() + 30
    while idle_database() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert idle_database() is None
    with pytest.raises(duckdb.ConnectionException):
        idle.execute("SELECT 1")
    # and the next node opens one again
    run_engine("duckdb", "transform.select_columns", {"columns": ["id"]}, table=ORDERS)
    assert idle_database() is not None


def test_a_process_that_ran_a_node_ends_without_complaints(tmp_path) -> None:
    """The thread's database is closed at exit: DuckDB's bindings print a "leaked
    instances" report for every object of theirs still alive when Python ends."""
    path = tmp_path / "in.parquet"
    ORDERS.to_parquet(path, index=False)
    script = (
        "from operators.base import LocalContext\n"
        "from operators.engines import EngineSettings, run_relational\n"
        "from operators.registry import get_operator\n"
        "op = get_operator('transform.select_columns')\n"
        "out = run_relational(op, op.parse_params({'columns': ['id']}),"
        f" {{'table': {str(path)!r}}}, {str(tmp_path)!r}, ctx=LocalContext(),"
        " settings=EngineSettings())\n"
        "print(out.outputs['table'].rows)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4"
    assert "leaked" not in done.stderr, done.stderr[:500]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_idle_databases_are_closed_before_a_fork_and_a_child_starts_empty() -> None:
    run_engine("duckdb", "transform.select_columns", {"columns": ["id"]}, table=ORDERS)
    idle = idle_database()
    assert idle is not None
    pid = os.fork()
    if pid == 0:  # the child (a pre-forked worker, say) starts empty and runs a node itself
        ok = False
        try:
            empty = idle_database() is None
            out = run_engine("duckdb", "transform.select_columns", {"columns": ["note"]},
                             table=ORDERS)["table"]
            ok = empty and out["note"].tolist() == ORDERS["note"].tolist() \
                and idle_database() is not None
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert idle_database() is None
    with pytest.raises(duckdb.ConnectionException):
        idle.execute("SELECT 1")
