"""A run from start to end: starting it (its node runs, cached outputs reused), admitting it
when its workspace has a free slot, cancelling, replaying, and finishing it once no node is
left open. Each state change goes through `run_transaction`, which locks the run, records
numbered events and publishes them after commit; node status changes go through
`transitions`."""
from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Min, Sum
from django.utils import timezone

from datagran.connections.models import Connection
from datagran.core.exceptions import Conflict, PermanentError
from datagran.datasets.artifacts import artifact_store
from datagran.engine.cache import source_fingerprints
from datagran.engine.graph import Graph, Node
from datagran.engine.pushdown import SOURCE, Plan, plan_pushdown
from datagran.pipelines.calls import expanded_graph
from datagran.pipelines.models import Pipeline, PipelineVersion
from datagran.pipelines.validation import validation_context
from datagran.workspaces.models import Workspace
from operators.registry import UnknownOperator, get_operator

from . import transitions
from .cache import cache_lookup, pipeline_cache_keys
from .events import RunTransaction, run_transaction
from .graphs import RunGraph, run_graph
from .models import NODE_OPEN, RUN_DONE, CacheEntry, NodeRun, NodeStatus, Run, RunStatus, Trigger
from .scope import RunScope, node_name, not_cached_error, replay_scope, run_scope

ERR_EMPTY_PIPELINE = "The pipeline has no nodes to run; add some on the canvas first."
ERR_REPLAY_DATASETS = ("The datasets this run read have changed or are gone; it cannot be "
                       "replayed exactly.")
ERR_REPLAY_RECORDS = ("The records source node {node} loaded in this run are gone from the "
                      "artifact store (or it loaded none); it cannot be replayed exactly. "
                      "Run the pipeline again instead.")
REPLAYED_RECORDS = "Records as loaded by run {run}; the source was not called."


def run_start(*, pipeline: Pipeline, user: AbstractBaseUser | None,
              trigger: str = Trigger.MANUAL, version: PipelineVersion | None = None,
              force: bool = False, replay_of: Run | None = None, target: str | None = None,
              scope: str = "upstream", full_refresh: bool = False) -> Run:
    """Create the run and its node runs; reuse cached outputs (unless ``force``) and send the
    nodes that are ready once the transaction commits. With a ``target``, a partial run
    (see `scope`): only ``target`` and its ancestors, or only ``target`` itself. With
    ``full_refresh``, source nodes start over (no cursor of an earlier run) and neither they
    nor what they feed reuse the cache. A replay takes each outside source's records from the
    replayed run (`_replayed_sources`): the outside system is not called again."""
    version = version or pipeline.current_version
    graph = Graph.model_validate(version.graph) if version else Graph()
    if not graph.nodes:
        raise PermanentError(ERR_EMPTY_PIPELINE)
    # A replay calls the versions the replayed run called, "latest" ones included.
    expanded = expanded_graph(pipeline, graph, pinned={
        path: call["version"] for path, call in replay_of.calls.items()} if replay_of else None)
    if expanded.problems:
        raise PermanentError(f"The pipeline cannot run: {expanded.problems[0].message}")
    graph = expanded.graph
    part = (run_scope(graph, target=target, scope=scope) if target is not None else
            replay_scope(graph, replay_of.nodes.values_list("node_id", flat=True))
            if replay_of is not None else None)
    keys = pipeline_cache_keys(pipeline, graph)
    nodes = [n for n in graph.nodes if part is None or n.id in part.nodes]
    hits = {} if force else cache_lookup({n.id: keys[n.id] for n in nodes})
    if full_refresh:
        sources = _connectors(nodes)
        fed: set[str] = set().union(*({n.id} | graph.descendants(n.id) for n in nodes
                                      if n.operator in sources))
        hits = {node_id: hit for node_id, hit in hits.items() if node_id not in fed}
    if part is not None and part.reuse:
        hits.update(_reused_inputs(graph, part, keys))
    datasets = {node_id: {"operator": graph.node(node_id).operator, "hash": fingerprint,
                          "dataset": graph.node(node_id).params.get("dataset")}
                for node_id, fingerprint in source_fingerprints(
                    graph, validation_context(pipeline.workspace)).items()
                if part is None or node_id in part.nodes}
    if replay_of is not None and datasets != replay_of.datasets:
        # Checked before anything is written: a refused replay leaves no run behind.
        raise PermanentError(ERR_REPLAY_DATASETS)
    replayed = _replayed_sources(graph, nodes, replay_of) if replay_of is not None else {}
    # Pushdown among the nodes this run computes: not those the cache or the replayed run
    # gives (a partial run's inputs among them), whose consumers then read stored outputs.
    plan = _pushdown_plan(pipeline, graph, {n.id for n in nodes} - hits.keys()
                          - replayed.keys())
    now = timezone.now()
    with transaction.atomic():
        # One admission at a time per workspace, so the run limit is never overshot.
        Workspace.objects.select_for_update().filter(pk=pipeline.workspace_id).first()
        admitted = _free_slots(pipeline.workspace_id) > 0
        run = Run.objects.create(workspace_id=pipeline.workspace_id, pipeline=pipeline,
                                 version=version, trigger=trigger, created_by=user, force=force,
                                 status=RunStatus.QUEUED if admitted else RunStatus.PENDING,
                                 datasets=datasets, replay_of=replay_of,
                                 full_refresh=full_refresh, calls=expanded.calls,
                                 graph=graph.model_dump(mode="json") if expanded.calls
                                 else None)
        NodeRun.objects.bulk_create([_node_run(run, n.id, n.operator, keys[n.id],
                                               hits.get(n.id), now, replayed.get(n.id),
                                               plan.node_fields(n.id))
                                     for n in nodes])
        with run_transaction(run.pk) as tx:
            tx.emit_run()
            for node in tx.run.nodes.filter(cached=True):
                tx.emit_node(node)
            if admitted:
                _admit(tx)
    return run


def _connectors(nodes: list[Node]) -> set[str]:
    """Of the operators of ``nodes``, the connectors that read an outside system whose data
    changes behind the same params (``reuse_output = False``): incremental sources."""
    found = set()
    for name in {n.operator for n in nodes}:
        try:
            op = get_operator(name)
        except UnknownOperator:
            continue
        if op.category == "connector" and not op.reuse_output:
            found.add(name)
    return found


def _replayed_sources(graph: Graph, nodes: list[Node], replay_of: Run) -> dict[str, NodeRun]:
    """For each outside source of a replay, the replayed run's node run: its records are
    the replay's (the outside system may have changed since). Refused, before anything is
    written, when that node run loaded nothing or its records are gone from the store."""
    # A source pushed into its database in the replayed run loaded no records here: its
    # group reads the database again (pushdown has nothing else to replay).
    pushed = set(replay_of.nodes.exclude(pushed_into="").values_list("node_id", flat=True))
    sources = {n.id for n in nodes if n.operator in _connectors(nodes)} - pushed
    if not sources:
        return {}
    found = {n.node_id: n for n in replay_of.nodes.filter(node_id__in=sources)}
    store = artifact_store()
    for node_id in sorted(sources):
        old = found.get(node_id)
        refs = [] if old is None or old.status != NodeStatus.SUCCEEDED else \
            [r for r in old.outputs.values() if "hash" in r]
        if not refs or not all(store.exists(r) for r in refs):
            raise Conflict(ERR_REPLAY_RECORDS.format(node=node_name(graph.node(node_id))))
    store.touch([r for n in found.values() for r in n.outputs.values() if "hash" in r])
    return found


def _reused_inputs(graph: Graph, part: RunScope,
                   keys: dict[str, str | None]) -> dict[str, CacheEntry]:
    """The cached outputs a partial run takes its inputs from; refused, before anything is
    written, when one of them is not cached."""
    found = cache_lookup({n: keys[n] for n in part.reuse})
    missing = part.reuse - found.keys()
    if missing:
        raise not_cached_error(graph, missing)
    return found


def run_replay(*, run: Run, user: AbstractBaseUser | None) -> Run:
    """Re-run exactly: the same pipeline version and dataset versions, every node of the run
    recomputed (seeds are params, so they come with the version); a partial run's replay
    holds the same nodes, its inputs from the cache again."""
    return run_start(pipeline=run.pipeline, user=user, trigger=Trigger.MANUAL,
                     version=run.version, force=True, replay_of=run)


def run_cancel(*, run: Run) -> Run:
    with run_transaction(run.pk) as tx:
        if tx.run.status in RUN_DONE:
            raise Conflict(f"The run has already {tx.run.status}; there is nothing to cancel.")
        now = timezone.now()
        transitions.cancel(tx, now=now)
        run_finish(tx, RunStatus.CANCELLED, now)
    run.refresh_from_db()
    return run


def admit_pending_runs() -> int:
    """Start the oldest pending runs of each workspace that has free slots again."""
    admitted = 0
    for workspace_id in (Run.objects.filter(status=RunStatus.PENDING)
                         .values_list("workspace_id", flat=True).distinct()):
        with transaction.atomic():
            Workspace.objects.select_for_update().filter(pk=workspace_id).first()
            free = _free_slots(workspace_id)
            for run_id in (Run.objects.filter(workspace_id=workspace_id,
                                              status=RunStatus.PENDING)
                           .order_by("created_at").values_list("pk", flat=True)[:free]):
                with run_transaction(run_id) as tx:
                    tx.run.status = RunStatus.QUEUED
                    tx.run.save(update_fields=["status"])
                    tx.emit_run()
                    _admit(tx)
                admitted += 1
    return admitted


def _free_slots(workspace_id: object) -> int:
    limit = settings.DATAGRAN["MAX_CONCURRENT_RUNS"]
    if not limit:
        return 1 << 30
    active = Run.objects.filter(workspace_id=workspace_id,
                                status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).count()
    return max(0, limit - active)


def _admit(tx: RunTransaction) -> None:
    """Send what is ready of an admitted run (or finish it, if the cache had everything)."""
    statuses = dict(tx.run.nodes.values_list("node_id", "status"))
    ready = _ready(run_graph(tx.run), statuses)
    if ready:
        transitions.queue(tx, tx.run.nodes.filter(node_id__in=ready,
                                                  status=NodeStatus.PENDING))
    run_settle(tx)


def _pushdown_plan(pipeline: Pipeline, graph: Graph, running: set[str]) -> Plan:
    """Which of the ``running`` nodes run inside a SQL source's database (see
    datagran/engine/pushdown.py), from the kinds of the connections the sources name."""
    wanted = set()
    for n in graph.nodes:
        connection = n.params.get("connection") if n.operator == SOURCE else None
        if n.id in running and isinstance(connection, str):
            try:
                wanted.add(uuid.UUID(connection))
            except ValueError:
                continue
    kinds = {str(pk): kind for pk, kind in Connection.objects.filter(
        workspace_id=pipeline.workspace_id, pk__in=wanted).values_list("pk", "kind")} \
        if wanted else {}
    return plan_pushdown(graph, kinds, running=running)


def _node_run(run: Run, node_id: str, operator: str, key: str | None,
              hit: CacheEntry | None, now: Any, replayed: NodeRun | None = None,
              pushdown: tuple[str, dict[str, Any]] = ("", {})) -> NodeRun:
    node = NodeRun(run=run, node_id=node_id, operator=operator, cache_key=key or "")
    node.pushed_into, node.pushdown = pushdown
    if replayed is not None:  # no source state: a replay never moves a cursor
        node.status, node.cached, node.outputs = NodeStatus.SUCCEEDED, True, replayed.outputs
        node.rows_out, node.started_at, node.finished_at = replayed.rows_out, now, now
        node.duration_ms = 0
        node.logs = [REPLAYED_RECORDS.format(run=str(replayed.run_id)[:8])]
    elif hit is not None:
        node.status, node.cached, node.outputs = NodeStatus.SUCCEEDED, True, hit.outputs
        node.rows_out, node.started_at, node.finished_at = hit.rows_out, now, now
        node.duration_ms, node.logs = 0, ["Reused the cached output."]
    return node


def _ready(graph: RunGraph, statuses: dict[str, str]) -> list[str]:
    """Pending nodes whose inputs have all succeeded."""
    preds = graph.predecessors
    return sorted(n for n, status in statuses.items() if status == NodeStatus.PENDING
                  and all(statuses[p] == NodeStatus.SUCCEEDED for p in preds[n]))


def node_fail(*, run_id: object, node_id: str, message: str, logs: list[str] | None = None,
              field: str = "", trace: str = "", source: str = NodeStatus.RUNNING,
              **fence: Any) -> None:
    """Fail a node that is still in ``source`` and matches ``fence`` (see
    `transitions.fail`), skip what depends on it, and finish the run if nothing is left."""
    with run_transaction(run_id) as tx:
        if transitions.fail(tx, node_id, message=message, logs=logs or [], field=field,
                            trace=trace, source=source, **fence):
            run_settle(tx)


def run_settle(tx: RunTransaction) -> None:
    """Finish the run once none of its nodes is open: failed if one failed."""
    # Asks the database whether any node is still open, rather than reading every node's
    # status: with a wide fan-out, each of its nodes finishing would read them all.
    if tx.run.nodes.filter(status__in=NODE_OPEN).exists():
        return
    failed = (tx.run.nodes.filter(status=NodeStatus.FAILED).order_by("pk")
              .values_list("node_id", "error").first())
    if failed:
        run_finish(tx, RunStatus.FAILED, timezone.now(),
                   error=f"Node {failed[0]} failed: {failed[1]}")
    else:
        run_finish(tx, RunStatus.SUCCEEDED, timezone.now())


def run_finish(tx: RunTransaction, status: str, now: Any, error: str = "") -> None:
    run = tx.run
    run.status, run.finished_at, run.error = status, now, error
    run.started_at = run.started_at or now
    totals = run.nodes.aggregate(rows=Sum("rows_out"), queued=Min("queued_at"),
                                 started=Min("started_at"))
    # The span its timeline draws: from the first node queued (or reused) to the end, so
    # the run page's header, its timeline and the runs list say the same duration.
    began = min(t for t in (run.started_at, totals["queued"], totals["started"]) if t)
    run.duration_ms = int((now - began).total_seconds() * 1000)
    run.rows_processed = totals["rows"] or 0
    run.save(update_fields=["status", "finished_at", "error", "started_at", "duration_ms",
                            "rows_processed"])
    tx.emit_run()
    if settings.DATAGRAN["MAX_CONCURRENT_RUNS"]:
        transaction.on_commit(admit_pending_runs)
