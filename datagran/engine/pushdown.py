"""Pushdown (issue 18): the filter / select / rename / join / aggregate nodes that follow a SQL
source run inside its database, when its dialect computes them exactly as the DuckDB engine.

``plan_pushdown`` is pure: from the run's graph, the nodes that will run and each
connection's kind, which nodes form a group, which of them are **pushed** (every consumer
inside the group: nothing is materialised, they succeed at once) and which are **frontiers**
(a consumer outside the group, or none: they run the SQL of the group's nodes they need in
the database and store the result). A source whose consumers are all outside runs as before.

``execute_frontier`` runs a frontier: the source query and each node's ``query`` composed
into one statement (``operators.engines.database``), read a batch at a time into Parquet.
Where the database would not give the DuckDB engine's result (a column type, a function;
known only once the source's columns are), it runs the group's nodes here instead, one
after the other, as an ordinary run would have, and says why. No Django here."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from operators.base import Context, OperatorError
from operators.connectors._connection import load_connection
from operators.connectors._sql import SQL_MODELS, Database, SQLConnection
from operators.connectors.sql_query import NOT_A_COLUMN, SqlQueryParams, declared, reflect
from operators.engines import EngineSettings
from operators.engines.database import (
    DATABASE_NAMES,
    DIALECT_OF,
    PUSHABLE,
    DatabaseQuery,
    NotPushable,
    probe_source,
    refusal,
    source_refusal,
    write_result,
)
from operators.registry import UnknownOperator, get_operator
from operators.schema import Schema
from operators.tables import Rel

from .execute import NodeOutcome, Store, engine_folder, execute_node
from .graph import Graph, Node

SOURCE = "connector.sql_query"
PUSHED_LOG = "Pushed down into {database}: runs inside the query of {frontier}."
ERR_QUERY = "The query in the database failed"


@dataclass(frozen=True)
class Frontier:
    connection: str
    dialect: str
    nodes: tuple[str, ...]  # the group's nodes it computes, in order, itself last
    ran: tuple[str, ...] = ()  # those of them that are not sources (run in the database)

    @property
    def database(self) -> str:
        return DATABASE_NAMES[self.dialect]


@dataclass
class Plan:
    pushed: dict[str, str] = field(default_factory=dict)  # node -> its frontier
    frontiers: dict[str, Frontier] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)  # node -> why not further

    def node_fields(self, node_id: str) -> tuple[str, dict[str, Any]]:
        """(pushed_into, pushdown) of a node run."""
        if node_id in self.pushed:
            into = self.pushed[node_id]
            return into, {"database": self.frontiers[into].database}
        info: dict[str, Any] = {}
        if node_id in self.frontiers:
            f = self.frontiers[node_id]
            info = {"database": f.database, "dialect": f.dialect, "connection": f.connection,
                    "nodes": list(f.nodes), "ran": list(f.ran)}
        if self.notes.get(node_id):
            info["not_pushed"] = self.notes[node_id]
        return "", info


def node_label(node: Node) -> str:
    return f"{node.label} ({node.id})" if node.label and node.label != node.id else node.id


def _parsed(node: Node) -> Any:
    try:
        return get_operator(node.operator).parse_params(node.params)
    except (UnknownOperator, ValueError):  # pydantic's ValidationError is a ValueError
        return None


def plan_pushdown(graph: Graph, kinds: Mapping[str, str], *,
                  running: Collection[str] | None = None) -> Plan:
    """Which nodes run inside a database. ``kinds``: connection id -> its kind
    (postgresql, mysql, sqlite, ...); ``running``: the nodes this run computes (a partial
    run's, without those taken from the cache); None for all."""
    scope = set(running) if running is not None else {n.id for n in graph.nodes}
    preds, succs = graph.predecessors(), graph.successors()
    order = [n for n in graph.order() if n in scope]
    position = {n: i for i, n in enumerate(order)}
    group: dict[str, str] = {}  # member -> connection id
    dialects: dict[str, str] = {}  # connection id -> dialect
    plan = Plan()

    def note(node_id: str, text: str) -> None:
        plan.notes.setdefault(node_id, []).append(text)

    for node_id in order:
        spec = graph.node(node_id)
        params = _parsed(spec)
        if params is None:
            continue
        if spec.operator == SOURCE and not preds[node_id]:
            dialect = DIALECT_OF.get(kinds.get(params.connection, ""))
            why = source_refusal(params) or (
                None if dialect else "its connection's kind has no pushdown")
            if why is not None:
                if any(graph.node(c).operator in PUSHABLE for c in succs[node_id] & scope):
                    note(node_id, f"Nothing after it runs in the database: {why}.")
                continue
            assert dialect is not None
            group[node_id], dialects[params.connection] = params.connection, dialect
            continue
        inputs = preds[node_id]
        grouped = {group[p] for p in inputs if p in group}
        if not grouped:
            continue
        if spec.operator not in PUSHABLE:
            continue  # not a table operator with SQL: nothing to say
        why = None
        if len(grouped) > 1 or any(p not in group for p in inputs) or not inputs <= scope:
            why = "its inputs do not all come from the same database connection"
        else:
            why = refusal(dialects[next(iter(grouped))], spec.operator, params, None)
        if why is None:
            group[node_id] = next(iter(grouped))
            continue
        for p in sorted(inputs):
            if p in group:
                note(p, f"{node_label(spec)} does not run in the database: {why}.")
    for member in sorted(group, key=position.__getitem__):
        consumers = succs[member] & scope
        if consumers and all(group.get(c) == group[member] for c in consumers):
            continue  # pushed, once a frontier claims it
        need = {member}
        stack = [member]
        while stack:
            for p in preds[stack.pop()]:
                if p in group and p not in need:
                    need.add(p)
                    stack.append(p)
        if need == {member}:
            continue  # a source read as before
        connection = group[member]
        ordered = tuple(sorted(need, key=position.__getitem__))
        plan.frontiers[member] = Frontier(
            connection=connection, dialect=dialects[connection], nodes=ordered,
            ran=tuple(n for n in ordered if graph.node(n).operator != SOURCE))
    for member in sorted(group, key=position.__getitem__):
        consumers = succs[member] & scope
        if member in plan.frontiers or not consumers or \
                not all(group.get(c) == group[member] for c in consumers):
            continue
        into = [f for f in sorted(plan.frontiers, key=position.__getitem__)
                if member in plan.frontiers[f].nodes]
        if into:
            plan.pushed[member] = into[0]
    return plan


# --- running a frontier ------------------------------------------------------------------------

def execute_frontier(*, store: Store, graph: Graph, node_id: str, info: Mapping[str, Any],
                     ctx: Context, engine: EngineSettings | None = None) -> NodeOutcome:
    """Run frontier ``node_id`` (its node run's ``pushdown`` is ``info``): its group's SQL in
    the database; its output stored as any node's."""
    engine = engine or EngineSettings.from_env()
    nodes = [graph.node(n) for n in info["nodes"]]
    for why in info.get("not_pushed", []):
        ctx.log(why)
    try:
        return _in_database(store, graph, nodes, info, ctx, engine)
    except NotPushable as exc:
        ctx.log(f"Could not run in {info['database']} exactly as here: {exc}. Ran "
                f"{_names(nodes)} here instead.")
    return _here(store, graph, nodes, ctx, engine)


def _names(nodes: list[Node]) -> str:
    return ", ".join(node_label(n) for n in nodes)


def _in_database(store: Store, graph: Graph, nodes: list[Node], info: Mapping[str, Any],
                 ctx: Context, engine: EngineSettings) -> NodeOutcome:
    from sqlalchemy.exc import SQLAlchemyError

    sources = [n for n in nodes if n.operator == SOURCE]
    source_params = [cast(SqlQueryParams, get_operator(SOURCE).parse_params(n.params))
                     for n in sources]
    conn = cast(SQLConnection, load_connection(ctx, info["connection"], *SQL_MODELS))
    timeout = max(p.timeout_seconds for p in source_params)
    dialect = info["dialect"]
    db = Database(ctx, conn, read_only=True, timeout=timeout)
    folder = tempfile.mkdtemp(prefix="pushdown-", dir=engine_folder(engine))
    path = os.path.join(folder, f"{uuid.uuid4().hex}.parquet")
    try:
        with db.connect() as connection, ctx.on_interrupt(db.interrupt):
            driver_errors: tuple[type[BaseException], ...] = (SQLAlchemyError, getattr(
                connection.dialect.loaded_dbapi, "Error", SQLAlchemyError))
            try:
                server = _server(connection, dialect)
                q = DatabaseQuery(dialect, nodes[-1].label or nodes[-1].id, ctx)
                rels: dict[str, Rel] = {}
                for spec, source in zip(sources, source_params, strict=True):
                    query, expected = (source.query or "", None) if source.mode == "query" \
                        else table_query(connection, source)
                    columns = probe_source(connection, dialect, query,
                                           typed=source.mode == "table")
                    for have, want in zip(columns.schema, expected or columns.schema,
                                          strict=True):
                        if have["type"] != want["type"]:
                            raise NotPushable(
                                f"column {have['name']!r} holds {have['type']} values where "
                                f"the table declares {want['type']}")
                    rels[spec.id] = q.source(query, columns)
                for spec in nodes:
                    if spec.id in rels:
                        continue
                    op = get_operator(spec.operator)
                    parsed = op.parse_params(spec.params)
                    inputs = {e.target_port: rels[e.source] for e in graph.incoming(spec.id)}
                    why = refusal(dialect, op.name, parsed,
                                  {port: rel.schema for port, rel in inputs.items()})
                    if why:
                        raise NotPushable(f"{node_label(spec)}: {why}")
                    rels[spec.id] = op.query(q, parsed, **inputs)["table"]
                rel = rels[nodes[-1].id]
                db.check()
                result = connection.execution_options(
                    stream_results=True, max_row_buffer=10_000, no_parameters=True
                ).exec_driver_sql(q.statement(rel))
                rows = write_result(result, rel.schema, path, db.check)
            except driver_errors as exc:
                raise db.failure(exc, ERR_QUERY, field="") from None
        name = getattr(ctx, "connection_names", {}).get(info["connection"], "")
        where = f"{server}{f' (connection {name!r})' if name else ''}"
        ran = [n for n in nodes if n.operator != SOURCE]
        ctx.log(f"Ran {len(ran)} node{'s' if len(ran) != 1 else ''} inside {where}: "
                f"{_names(ran)}; fetched {rows:,} rows.")
        ref = store.put_table_file(path, [dict(c) for c in rel.schema], rows)
        return NodeOutcome(outputs={"table": ref.as_json()}, rows_out=ref.rows)
    finally:
        db.close()
        shutil.rmtree(folder, ignore_errors=True)


def table_query(connection: Any, params: SqlQueryParams) -> tuple[str, Schema]:
    """Table mode's SELECT, as the source reads it: the chosen columns (all when none), then
    the primary key's, of the table the database lists under that name (names checked
    against the database's own and quoted by SQLAlchemy, as the source does); and the types
    the table declares, which dlt reads the columns as."""
    import sqlalchemy as sa

    assert params.table is not None
    table = reflect(connection, params.table)
    have = [str(c.name) for c in table.columns]
    for field_name, names in (("columns", params.columns),
                              ("primary_key", params.primary_key)):
        for name in names:
            if name not in have:
                raise OperatorError(NOT_A_COLUMN.format(table=params.table, name=name),
                                    field=field_name)
    key = list(params.primary_key) or [str(c.name) for c in table.primary_key.columns]
    included = list(dict.fromkeys([*(params.columns or have), *key]))
    select = sa.select(*(table.c[c] for c in included))
    return str(select.compile(dialect=connection.dialect)), declared(table, included)


def _server(connection: Any, dialect: str) -> str:
    """The database's name for the log; NotPushable when its session reads string literals
    otherwise than sqlglot writes them (a backslash is an escape in MySQL's default mode
    and a plain character in PostgreSQL's)."""
    if dialect == "postgres":
        if connection.exec_driver_sql("SHOW standard_conforming_strings").scalar() != "on":
            raise NotPushable("the server reads backslashes in strings as escapes "
                              "(standard_conforming_strings is off)")
        return DATABASE_NAMES[dialect]
    if dialect != "mysql":
        return DATABASE_NAMES[dialect]
    mode = str(connection.exec_driver_sql("SELECT @@SESSION.sql_mode").scalar() or "")
    if "NO_BACKSLASH_ESCAPES" in mode.upper():
        raise NotPushable("the server's sql_mode has NO_BACKSLASH_ESCAPES")
    info = str(connection.connection.dbapi_connection.get_server_info())
    return "MariaDB" if "mariadb" in info.lower() else "MySQL"


def _here(store: Store, graph: Graph, nodes: list[Node], ctx: Context,
          engine: EngineSettings) -> NodeOutcome:
    """The group's nodes run one after the other, as an ordinary run runs them."""
    outcomes: dict[str, NodeOutcome] = {}
    for spec in nodes:
        refs = {e.target_port: outcomes[e.source].outputs[e.source_port]
                for e in graph.incoming(spec.id)}
        outcomes[spec.id] = execute_node(store=store, op=get_operator(spec.operator),
                                         raw_params=spec.params, input_refs=refs, ctx=ctx,
                                         engine=engine, node=node_label(spec))
    return outcomes[nodes[-1].id]


