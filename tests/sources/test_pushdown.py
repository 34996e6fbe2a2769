"""Pushdown (issue 18): filter / select / rename / join / aggregate nodes after a SQL source
run inside its database (PostgreSQL and MariaDB servers, a database of their own dg_pushdown_*
created and dropped; SQLite files). Each pipeline runs twice, as a worker runs it (pushed
nodes skipped, frontiers through ``execute_frontier``, the others through ``execute_node``):
with pushdown and with ``pushdown: false`` on the sources; the outputs must be equal, the
database must have done the work (the frontier fetched only the aggregated rows, the pushed
nodes stored nothing), and hostile names and values must have had no effect."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from datagran.datasets.artifacts import ArtifactStore
from datagran.datasets.storage import LocalStorage
from datagran.engine.execute import execute_node
from datagran.engine.graph import Graph
from datagran.engine.pushdown import execute_frontier, plan_pushdown
from operators.base import OperatorError
from operators.connections import MySQLConnection, PostgresConnection, SQLiteConnection
from operators.engines import EngineSettings
from operators.registry import get_operator
from operators.tables import arrow_to_pandas
from tests.engines.parity import normalised
from tests.graphs import edge, node

from ..operators.sql_helpers import local_context

SERVERS = {"postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432",
           "mysql": "mysql+pymysql://root@127.0.0.1:3306"}
BACKENDS = [pytest.param("postgresql", marks=pytest.mark.services),
            pytest.param("mysql", marks=pytest.mark.services), "sqlite"]
HOSTILE = 'x" OR 1=1 --'  # a column name
PAYLOAD = "x\\' OR '1'='1"  # a filter value (MySQL reads a backslash as an escape)
ENGINE = EngineSettings(name="duckdb", memory_mb=512)


@dataclass
class Db:
    kind: str
    name: str
    engine: sa.Engine
    root: Path

    def conn(self) -> PostgresConnection | MySQLConnection | SQLiteConnection:
        if self.kind == "postgresql":
            return PostgresConnection(database=self.name, user="postgres")
        if self.kind == "mysql":
            return MySQLConnection(database=self.name, user="root")
        return SQLiteConnection(path=self.name)

    def run(self, *statements: str) -> None:
        with self.engine.begin() as c:
            c = c.execution_options(no_parameters=True)
            for statement in statements:
                c.exec_driver_sql(statement)

    def count(self, table: str) -> int:
        with self.engine.connect() as c:
            return int(c.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())

    def q(self, name: str) -> str:
        """A quoted identifier in this database's SQL."""
        return f"`{name}`" if self.kind == "mysql" else '"' + name.replace('"', '""') + '"'


@contextmanager
def database(kind: str, root: Path) -> Iterator[Db]:
    name = f"dg_pushdown_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        engine = sa.create_engine(f"sqlite:///{root / name}", poolclass=sa.pool.NullPool)
        try:
            yield Db(kind, name, engine, root)
        finally:
            engine.dispose()
        return
    admin = sa.create_engine(f"{SERVERS[kind]}/{'postgres' if kind == 'postgresql' else ''}",
                             poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name}")
    engine = sa.create_engine(f"{SERVERS[kind]}/{name}", poolclass=sa.pool.NullPool)
    try:
        yield Db(kind, name, engine, root)
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE {name}" + (" WITH (FORCE)" if kind ==
                                                           "postgresql" else ""))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    with database(request.param, tmp_path) as d:
        yield d


def sq(text: str, kind: str = "") -> str:
    if kind == "mysql":
        text = text.replace("\\", "\\\\")
    return "'" + text.replace("'", "''") + "'"


def fill(db: Db, rows: int = 40) -> None:
    """orders (ids 1..rows; amounts with missing values, and NaN on PostgreSQL; text in mixed
    case, a trailing space, the payload), customers (one per group), and a canary."""
    h = db.q(HOSTILE)
    text = "TEXT" if db.kind != "mysql" else "VARCHAR(50)"
    real = "DOUBLE PRECISION" if db.kind == "postgresql" else "DOUBLE" if db.kind == "mysql" \
        else "REAL"
    db.run(f"CREATE TABLE orders (id INTEGER, {h} {text}, grp {text}, amount {real}, "
           "qty INTEGER)",
           f"CREATE TABLE customers (grp {text}, region {text}, since INTEGER)",
           "CREATE TABLE canary (id INTEGER)", "INSERT INTO canary VALUES (1), (2)")
    labels = ["a", "A", "b", "b ", PAYLOAD, "é", "e", "", "c", "C"]
    if rows <= 1000:
        values = []
        for i in range(1, rows + 1):
            amount = "NULL" if i % 7 == 0 else ("'NaN'" if db.kind == "postgresql" and
                                                i % 11 == 0 else f"{i * 1.25}")
            qty = "NULL" if i % 5 == 0 else str(i % 4)
            values.append(f"({i}, {sq(labels[i % len(labels)], db.kind)}, "
                          f"{sq(labels[(i * 3) % 10], db.kind)}, "
                          f"{amount}, {qty})")
        db.run(f"INSERT INTO orders VALUES {', '.join(values)}")
    else:
        series = {"postgresql": f"generate_series(1, {rows}) AS s(i)",
                  "mysql": f"seq_1_to_{rows} AS s",
                  "sqlite": f"(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                            f"WHERE i < {rows}) SELECT i FROM s) AS s"}[db.kind]
        n = "s.seq" if db.kind == "mysql" else "s.i"
        db.run(f"INSERT INTO orders SELECT {n}, 'v', CASE WHEN {n} % 10 = 0 THEN 'g0' ELSE "
               f"concat_ws('', 'g', {n} % 10) END, {n} * 0.5, {n} % 3 FROM {series}"
               if db.kind != "sqlite" else
               f"INSERT INTO orders SELECT {n}, 'v', 'g' || ({n} % 10), {n} * 0.5, {n} % 3 "
               f"FROM {series}")
    cust = ", ".join(f"({sq(g, db.kind)}, 'r{k % 3}', {k})"
                     for k, g in enumerate(labels[:-1]))
    db.run(f"INSERT INTO customers VALUES {cust}",
           *(f"INSERT INTO customers VALUES ('g{k}', 'r{k % 3}', {k})" for k in range(10)))


def pipeline(*, pushdown: bool = True, how: str = "inner") -> Graph:
    """orders → filter → select → join (customers, same connection) → aggregate."""
    def source(node_id: str, sql: str) -> dict[str, Any]:
        return node(node_id, "connector.sql_query", connection="db", query=sql,
                    pushdown=pushdown)

    return Graph.model_validate({"nodes": [
        source("orders", "SELECT * FROM orders"),
        source("customers", "SELECT * FROM customers"),
        node("filter", "transform.filter_rows", combine="all", conditions=[
            {"column": HOSTILE, "op": "!=", "value": PAYLOAD},
            {"column": "amount", "op": ">", "value": "2"}]),
        node("select", "transform.select_columns", columns=["id", "grp", "amount", "qty",
                                                           HOSTILE]),
        node("join", "transform.join", how=how, on=[{"left": "grp", "right": "grp"}]),
        node("agg", "transform.aggregate", group_by=["region"], aggregations=[
            {"column": "amount", "function": "sum"}, {"column": "qty", "function": "mean"},
            {"column": "id", "function": "count"}, {"column": "grp", "function": "nunique"},
            {"column": "grp", "function": "min", "name": "first_grp"},
            {"column": "amount", "function": "max"}]),
    ], "edges": [edge("orders", "table", "filter", "table"),
                 edge("filter", "table", "select", "table"),
                 edge("select", "table", "join", "left"),
                 edge("customers", "table", "join", "right"),
                 edge("join", "table", "agg", "table")]})


@dataclass
class Outcome:
    tables: dict[str, pd.DataFrame]
    logs: list[str]
    rows: dict[str, int | None]
    pushed: dict[str, str]
    artifacts: int


def run_like_a_worker(db: Db, graph: Graph, store_dir: Path) -> Outcome:
    """Every node of ``graph`` in order, as the worker runs it: a pushed node does nothing,
    a frontier runs its group in the database, any other node runs on its inputs."""
    kind = "mysql" if db.kind == "mysql" else db.kind
    plan = plan_pushdown(graph, {"db": kind})
    store = ArtifactStore(LocalStorage(str(store_dir)))
    ctx = local_context(db.root, connections={"db": db.conn()})
    outputs: dict[str, dict[str, Any]] = {}
    tables, rows = {}, {}
    for node_id in graph.order():
        if node_id in plan.pushed:
            continue
        if node_id in plan.frontiers:
            _, info = plan.node_fields(node_id)
            outcome = execute_frontier(store=store, graph=graph, node_id=node_id, info=info,
                                       ctx=ctx, engine=ENGINE)
        else:
            spec = graph.node(node_id)
            refs = {e.target_port: outputs[e.source][e.source_port]
                    for e in graph.incoming(node_id)}
            outcome = execute_node(store=store, op=get_operator(spec.operator),
                                   raw_params=spec.params, input_refs=refs, ctx=ctx,
                                   engine=ENGINE)
        outputs[node_id] = outcome.outputs
        rows[node_id] = outcome.rows_out
        tables[node_id] = arrow_to_pandas(pq.read_table(store.table_path(
            outcome.outputs["table"]["hash"], str(store_dir))))
    artifacts = sum(1 for p in store_dir.rglob("*") if p.is_file()
                    and p.suffix == ".parquet")
    return Outcome(tables, list(ctx.logs), rows, dict(plan.pushed), artifacts)


def without_pushdown(graph: Graph) -> Graph:
    return graph.model_copy(update={"nodes": [
        n.model_copy(update={"params": {**n.params, "pushdown": False}})
        if n.operator == "connector.sql_query" else n for n in graph.nodes]}, deep=True)


def same(a: pd.DataFrame, b: pd.DataFrame, *, ordered: bool = True) -> None:
    assert list(a.columns) == list(b.columns)
    assert [str(t) for t in a.dtypes] == [str(t) for t in b.dtypes]
    left, right = normalised(a), normalised(b)
    if not ordered:
        left = left.sort_values(list(left.columns), na_position="last").reset_index(drop=True)
        right = right.sort_values(list(right.columns), na_position="last"
                                  ).reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right)


# --- parity ------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["inner", "left"])
def test_a_pushed_pipeline_gives_what_the_same_pipeline_gives_without_pushdown(
        db: Db, tmp_path: Path, how: str) -> None:
    fill(db)
    pushed = run_like_a_worker(db, pipeline(how=how), tmp_path / "a")
    plain = run_like_a_worker(db, pipeline(pushdown=False, how=how), tmp_path / "b")
    assert pushed.pushed == {n: "agg" for n in ("orders", "customers", "filter", "select",
                                                 "join")}
    assert plain.pushed == {}
    same(pushed.tables["agg"], plain.tables["agg"])
    groups = len(plain.tables["agg"])
    assert groups == (3 if how == "inner" else 4)  # a left join keeps rows with no region
    # The payload was a value like any other: the rows holding it were filtered out.
    assert PAYLOAD in set(plain.tables["orders"][HOSTILE])
    assert PAYLOAD not in set(plain.tables["select"][HOSTILE])
    assert db.count("canary") == 2
    database = {"postgresql": "PostgreSQL", "mysql": "MariaDB", "sqlite": "SQLite"}[db.kind]
    assert any(line.startswith(f"Ran 4 nodes inside {database}") and
               line.endswith(f"fetched {groups} rows.") for line in pushed.logs), pushed.logs
    # One artifact: the frontier's; the plain run stored all six nodes' outputs.
    assert (pushed.artifacts, plain.artifacts) == (1, 6)


def test_an_unsorted_output_has_the_same_rows(db: Db, tmp_path: Path) -> None:
    """The filter as the frontier (its output consumed by nothing): the rows of the join
    promise no order, so compared as sets; text compared byte by byte on every database
    (MariaDB compares 'b' and 'b ' and 'B' alike by default)."""
    fill(db)
    graph = pipeline()
    graph.nodes = [n for n in graph.nodes if n.id not in ("select", "join", "agg",
                                                         "customers")]
    graph.edges = [e for e in graph.edges if e.target == "filter"]
    graph.nodes[-1].params["combine"] = "any"
    graph.nodes[-1].params["conditions"] = [
        {"column": "grp", "op": "in", "value": ["b", "A", "é"]},
        {"column": HOSTILE, "op": "contains", "value": "C"}]
    pushed = run_like_a_worker(db, graph, tmp_path / "a")
    plain = run_like_a_worker(db, without_pushdown(graph), tmp_path / "b")
    assert pushed.pushed == {"orders": "filter"}
    same(pushed.tables["filter"], plain.tables["filter"], ordered=False)
    kept = plain.tables["filter"]
    assert set(kept[~kept[HOSTILE].str.contains("C")]["grp"]) == {"b", "A", "é"}
    # Kept by contains "C" alone: "C", never "c" (case-insensitive by MariaDB's default).
    assert set(kept[~kept["grp"].isin(["b", "A", "é"])][HOSTILE]) == {"C"}


@pytest.mark.parametrize("kind", [pytest.param("postgresql", marks=pytest.mark.services),
                                  pytest.param("mysql", marks=pytest.mark.services),
                                  "sqlite"])
def test_the_database_does_the_work_on_100000_rows(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as db:
        fill(db, rows=100_000)
        graph = pipeline()
        graph.nodes[2].params["conditions"] = [{"column": "amount", "op": ">", "value": 10}]
        plan_pushdown(graph, {"db": kind})  # the operator registry loads once, not timed
        started = time.perf_counter()
        pushed = run_like_a_worker(db, graph, tmp_path / "a")
        middle = time.perf_counter()
        plain = run_like_a_worker(db, without_pushdown(graph), tmp_path / "b")
        ended = time.perf_counter()
    print(f"{kind}: pushed {middle - started:.2f} s, fetched {pushed.rows['agg']} rows; "
          f"not pushed {ended - middle:.2f} s, read {plain.rows['orders']} rows")
    same(pushed.tables["agg"], plain.tables["agg"])
    assert plain.rows["orders"] == 100_000
    assert pushed.rows["agg"] == len(pushed.tables["agg"]) == 3
    assert "orders" not in pushed.rows  # never read out of the database


def test_a_construct_the_database_lacks_runs_here_and_says_why(tmp_path: Path) -> None:
    """SQLite has no standard deviation: the group's nodes run in the worker, same result."""
    with database("sqlite", tmp_path) as db:
        fill(db)
        graph = pipeline()
        graph.nodes[-1].params["aggregations"].append({"column": "amount", "function": "std"})
        pushed = run_like_a_worker(db, graph, tmp_path / "a")
        plain = run_like_a_worker(db, without_pushdown(graph), tmp_path / "b")
    assert "agg does not run in the database: SQLite has no standard deviation." in \
        pushed.logs
    assert pushed.pushed == {n: "join" for n in ("orders", "customers", "filter", "select")}
    same(pushed.tables["agg"], plain.tables["agg"])
    plan = plan_pushdown(graph, {"db": "sqlite"})
    assert plan.frontiers["join"].nodes == ("orders", "customers", "filter", "select", "join")
    assert plan.notes["join"] == ["agg does not run in the database: SQLite has no standard "
                                  "deviation."]


def test_a_column_type_found_at_run_time_runs_the_group_here(tmp_path: Path) -> None:
    """A column with no value at all: pandas gives it a type from nothing (text), which the
    database cannot say: the frontier runs the nodes itself, with the same result as
    without pushdown."""
    with database("sqlite", tmp_path) as db:
        fill(db)
        graph = pipeline()
        graph.nodes[0].params["query"] = "SELECT *, NULL AS nada FROM orders"
        graph.nodes[2].params["conditions"] = [{"column": "amount", "op": ">", "value": 2}]
        pushed = run_like_a_worker(db, graph, tmp_path / "a")
        plain = run_like_a_worker(db, without_pushdown(graph), tmp_path / "b")
    assert any("Could not run in SQLite exactly as here: column 'nada'" in line
               for line in pushed.logs), pushed.logs
    same(pushed.tables["agg"], plain.tables["agg"])


def test_a_database_error_fails_the_frontier_with_the_drivers_message(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as db:
        fill(db)
        graph = pipeline()
        graph.nodes[0].params["query"] = "SELECT * FROM no_such_table"
        with pytest.raises(OperatorError) as info:
            run_like_a_worker(db, graph, tmp_path / "a")
    assert info.value.message == ("The query in the database failed: no such table: "
                                  "no_such_table")


def test_types_dates_and_true_false_values_come_out_the_same(db: Db, tmp_path: Path) -> None:
    """Time stamps (a filter on one, min and max of them), true/false (PostgreSQL's own type,
    MySQL's and SQLite's integers), decimals and integers without missing values: the same
    types and values with and without pushdown."""
    dec = "NUMERIC(10, 2)" if db.kind != "sqlite" else "NUMERIC"
    ts = "TIMESTAMP" if db.kind == "postgresql" else "DATETIME" if db.kind == "mysql" \
        else "TEXT"
    flag = "BOOLEAN"
    db.run(f"CREATE TABLE events (id INTEGER, at {ts}, ok {flag}, price {dec}, kind "
           f"VARCHAR(10))")
    true, false = ("TRUE", "FALSE") if db.kind == "postgresql" else ("1", "0")
    db.run("INSERT INTO events VALUES " + ", ".join(
        f"({i}, '2024-0{1 + i % 3}-1{i % 10} 0{i % 10}:30:00', {true if i % 2 else false}, "
        f"{i}.25, '{'abc'[i % 3]}')" for i in range(1, 31)))
    when = "2024-02-01 00:00:00"
    graph = Graph.model_validate({"nodes": [
        node("ev", "connector.sql_query", connection="db", query="SELECT * FROM events"),
        node("f", "transform.filter_rows", conditions=[
            {"column": "at", "op": ">=", "value": when},  # text on SQLite: compared as text
            {"column": "ok", "op": "==", "value": "true" if db.kind == "postgresql" else 1}]),
        node("agg", "transform.aggregate", group_by=["kind"], aggregations=[
            {"column": "at", "function": "min"}, {"column": "at", "function": "max"},
            {"column": "price", "function": "sum"}, {"column": "id", "function": "sum"},
            {"column": "ok", "function": "count"}, {"column": "price", "function": "std"}
            if db.kind != "sqlite" else {"column": "price", "function": "mean"}]),
    ], "edges": [edge("ev", "table", "f", "table"), edge("f", "table", "agg", "table")]})
    pushed = run_like_a_worker(db, graph, tmp_path / "a")
    plain = run_like_a_worker(db, without_pushdown(graph), tmp_path / "b")
    assert pushed.pushed == {"ev": "agg", "f": "agg"}
    assert not any("Could not run" in line for line in pushed.logs), pushed.logs
    same(pushed.tables["agg"], plain.tables["agg"])
    assert list(plain.tables["agg"]["kind"]) == ["b", "c"]  # "a" only before February


@pytest.mark.services
def test_a_postgresql_type_pandas_reads_its_own_way_runs_the_group_here(tmp_path: Path
                                                                         ) -> None:
    """A time stamp with a time zone (pandas keeps the zone, DuckDB would not): the frontier
    runs the nodes itself and says why, with the same result as without pushdown."""
    with database("postgresql", tmp_path) as db:
        fill(db)
        graph = pipeline()
        graph.nodes[0].params["query"] = ("SELECT *, TIMESTAMPTZ '2024-01-01 10:00+02' AS "
                                          "at FROM orders")
        pushed = run_like_a_worker(db, graph, tmp_path / "a")
        plain = run_like_a_worker(db, without_pushdown(graph), tmp_path / "b")
    assert any(line.startswith("Could not run in PostgreSQL exactly as here: column 'at' has "
                               "a type pushdown does not read (timestamptz).")
               for line in pushed.logs), pushed.logs
    same(pushed.tables["agg"], plain.tables["agg"])


def items_pipeline(db: Db, *, flag: str = "BOOLEAN", ts: str = "") -> Graph:
    """items (a hostile column name, mixed case, the payload, true/false, missing values)
    read in table mode → filter → aggregate."""
    ts = ts or ("TIMESTAMP" if db.kind == "postgresql" else "DATETIME")
    db.run(f"CREATE TABLE items (id INTEGER PRIMARY KEY, {db.q('Mixed Case')} INTEGER, "
           f"{db.q(HOSTILE)} VARCHAR(20), ok {flag}, price DOUBLE PRECISION, at {ts})"
           if db.kind != "mysql" else
           f"CREATE TABLE items (id INTEGER PRIMARY KEY, {db.q('Mixed Case')} INTEGER, "
           f"{db.q(HOSTILE)} VARCHAR(20), ok BOOLEAN, price DOUBLE, at DATETIME)")
    true, false = ("TRUE", "FALSE") if db.kind == "postgresql" else ("1", "0")
    db.run("INSERT INTO items VALUES " + ", ".join(
        f"({i}, {'NULL' if i % 4 == 0 else i % 3}, {sq(['a', 'A', PAYLOAD][i % 3], db.kind)}, "
        f"{'NULL' if i % 5 == 0 and db.kind == 'postgresql' else true if i % 2 else false}, "
        f"{'NULL' if i % 6 == 0 else i / 4}, '2024-01-{1 + i % 9:02d} 12:00:00')"
        for i in range(1, 41)))
    graph = Graph.model_validate({"nodes": [
        node("items", "connector.sql_query", connection="db", mode="table", table="items",
             columns=["Mixed Case", HOSTILE, "ok", "price", "at"]),
        node("f", "transform.filter_rows", combine="any", conditions=[
            {"column": HOSTILE, "op": "==", "value": PAYLOAD},
            {"column": "Mixed Case", "op": "is_null"}]),
        node("agg", "transform.aggregate", group_by=[HOSTILE], aggregations=[
            {"column": "Mixed Case", "function": "sum"}, {"column": "ok", "function": "count"},
            {"column": "price", "function": "mean"}, {"column": "at", "function": "max"},
            {"column": "id", "function": "count"}]),
    ], "edges": [edge("items", "table", "f", "table"), edge("f", "table", "agg", "table")]})
    return graph


def test_table_mode_is_pushed_with_the_types_dlt_reads(db: Db, tmp_path: Path) -> None:
    """A table chosen from the list (no incremental column): dlt reads it through Arrow, so
    integers and true/false keep their type with missing values; the chosen columns, then
    the primary key. Pushed, the same table comes out (SQLite: the types it keeps)."""
    fill(db)
    graph = items_pipeline(db, **({"flag": "INTEGER", "ts": "TEXT"} if db.kind == "sqlite"
                                  else {}))
    pushed = run_like_a_worker(db, graph, tmp_path / "a")
    plain = run_like_a_worker(db, without_pushdown(graph), tmp_path / "b")
    assert pushed.pushed == {"items": "agg", "f": "agg"}
    assert not any("Could not run" in line for line in pushed.logs), pushed.logs
    assert list(plain.tables["items"].columns) == ["Mixed Case", HOSTILE, "ok", "price", "at",
                                                   "id"]
    same(pushed.tables["agg"], plain.tables["agg"])
    assert set(plain.tables["agg"][HOSTILE]) == {"a", "A", PAYLOAD}
    assert db.count("canary") == 2


def test_a_type_sqlite_declares_but_does_not_keep_runs_the_group_here(tmp_path: Path
                                                                      ) -> None:
    """SQLite keeps BOOLEAN and DATETIME columns as integers and text, which dlt reads as
    the declared types: the frontier runs the nodes itself, same result, and says why."""
    with database("sqlite", tmp_path) as db:
        fill(db)
        graph = items_pipeline(db)
        pushed = run_like_a_worker(db, graph, tmp_path / "a")
        plain = run_like_a_worker(db, without_pushdown(graph), tmp_path / "b")
    assert [line for line in pushed.logs if "Could not run" in line] == [
        "Could not run in SQLite exactly as here: column 'ok' holds int values where the "
        "table declares bool. Ran items, f, agg here instead."]
    same(pushed.tables["agg"], plain.tables["agg"])


def test_an_aggregates_order_survives_the_nodes_after_it(db: Db, tmp_path: Path) -> None:
    """aggregate → rename → filter: the groups stay sorted by key (MySQL would drop the
    order of a subquery; the final SELECT sorts again). Integer and decimal keys join by
    value. A select dropping the key the order is by runs the group here, same result."""
    fill(db)
    graph = Graph.model_validate({"nodes": [
        node("orders", "connector.sql_query", connection="db", query="SELECT * FROM orders"),
        node("customers", "connector.sql_query", connection="db",
             query="SELECT since * 1.0 AS since, region FROM customers"),
        node("join", "transform.join", how="left", on=[{"left": "qty", "right": "since"}]),
        node("agg", "transform.aggregate", group_by=["grp"], aggregations=[
            {"column": "amount", "function": "sum"}, {"column": "region", "function": "max"}]),
        node("ren", "transform.rename_columns", mapping=[{"column": "grp", "new_name": "g"}]),
        node("f", "transform.filter_rows", conditions=[
            {"column": "amount_sum", "op": ">", "value": 0}]),
    ], "edges": [edge("orders", "table", "join", "left"),
                 edge("customers", "table", "join", "right"),
                 edge("join", "table", "agg", "table"), edge("agg", "table", "ren", "table"),
                 edge("ren", "table", "f", "table")]})
    pushed = run_like_a_worker(db, graph, tmp_path / "a")
    plain = run_like_a_worker(db, without_pushdown(graph), tmp_path / "b")
    assert pushed.pushed == {n: "f" for n in ("orders", "customers", "join", "agg", "ren")}
    assert not any("Could not run" in line for line in pushed.logs), pushed.logs
    same(pushed.tables["f"], plain.tables["f"])
    keys = list(plain.tables["f"]["g"])
    assert keys == sorted(keys, key=lambda k: k.encode()) and len(keys) > 5

    raw = graph.model_dump(mode="json")
    raw["nodes"].append(node("sel", "transform.select_columns", columns=["amount_sum"]))
    raw["edges"].append(edge("f", "table", "sel", "table"))
    graph = Graph.model_validate(raw)
    pushed = run_like_a_worker(db, graph, tmp_path / "c")
    plain = run_like_a_worker(db, without_pushdown(graph), tmp_path / "d")
    assert any("a later node drops a column the row order is by" in line
               for line in pushed.logs), pushed.logs
    same(pushed.tables["sel"], plain.tables["sel"])
