"""Starting, executing and cancelling runs. Each state change goes through run_transaction,
which locks the run, records numbered events and publishes them after commit; messages to
workers are sent only after the transaction that queued their node has committed."""
from __future__ import annotations

import copy
import logging
import time
import traceback
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from pydantic import ValidationError

from datagran.core.exceptions import Conflict, PermanentError, RetryableError
from datagran.datasets.artifacts import artifact_store
from datagran.engine.cache import cache_keys, source_fingerprints
from datagran.engine.execute import NodeOutcome, execute_node
from datagran.engine.graph import Graph
from datagran.pipelines.models import Pipeline, PipelineVersion
from datagran.pipelines.validation import ValidationContext
from datagran.registry.services import model_version_from_run
from datagran.workspaces.models import Workspace
from operators.base import ApprovalRequired, OperatorError, params_errors
from operators.registry import get_operator

from . import outputs as node_outputs
from .context import RunContext
from .dispatch import sender
from .events import RunTransaction, run_transaction
from .graphs import RunGraph, run_graph
from .heartbeat import Heartbeat, NodeInterrupted, NodeTimedOut, retry_on_disconnect
from .models import (
    NODE_OPEN,
    RUN_DONE,
    CacheEntry,
    NodeRun,
    NodeStatus,
    Run,
    RunStatus,
    Trigger,
)
from .selectors import node_json, run_summary_json
from .slots import worker_state

log = logging.getLogger(__name__)
ERR_EMPTY_PIPELINE = "The pipeline has no nodes to run; add some on the canvas first."
ERR_REPLAY_DATASETS = ("The datasets this run read have changed or are gone; it cannot be "
                       "replayed exactly.")


def _enqueue(run_id: object, node_ids: list[str], delay_ms: int | None = None) -> None:
    """Send one message per node, from this process's sender thread: the caller never waits
    for the broker, and a send the broker refused is tried again until it answers."""
    sender.send(run_id, node_ids, delay_ms)


def _graph(run: Run) -> RunGraph:
    return run_graph(run.version)


def _queue(tx: RunTransaction, node_ids: list[str]) -> None:
    """Mark nodes queued (only those still pending: no double enqueue) and send them after
    commit."""
    if node_ids:
        _queue_nodes(tx, list(tx.run.nodes.filter(node_id__in=node_ids,
                                                  status=NodeStatus.PENDING)))


def _queue_nodes(tx: RunTransaction, nodes: list[NodeRun]) -> None:
    """Mark these pending nodes (read under the run's lock) queued; send them after commit."""
    if not nodes:
        return
    now = timezone.now()
    for node in nodes:
        node.status, node.queued_at = NodeStatus.QUEUED, now
        tx.emit("node", node=node_json(node))
    NodeRun.objects.filter(pk__in=[n.pk for n in nodes]).update(status=NodeStatus.QUEUED,
                                                                 queued_at=now)
    run_id, queued = tx.run.pk, [n.node_id for n in nodes]
    transaction.on_commit(lambda: _enqueue(run_id, queued))


def run_start(*, pipeline: Pipeline, user: AbstractBaseUser | None,
              trigger: str = Trigger.MANUAL, version: PipelineVersion | None = None,
              force: bool = False, replay_of: Run | None = None) -> Run:
    """Create the run and its node runs; reuse cached outputs (unless ``force``) and send the
    nodes that are ready once the transaction commits."""
    version = version or pipeline.current_version
    graph = Graph.model_validate(version.graph) if version else Graph()
    if not graph.nodes:
        raise PermanentError(ERR_EMPTY_PIPELINE)
    keys = pipeline_cache_keys(pipeline, graph)
    hits = {} if force else cache_lookup(keys)
    datasets = {node_id: {"operator": graph.node(node_id).operator, "hash": fingerprint,
                          "dataset": graph.node(node_id).params.get("dataset")}
                for node_id, fingerprint in source_fingerprints(
                    graph, ValidationContext(pipeline.workspace)).items()}
    if replay_of is not None and datasets != replay_of.datasets:
        # Checked before anything is written: a refused replay leaves no run behind.
        raise PermanentError(ERR_REPLAY_DATASETS)
    now = timezone.now()
    with transaction.atomic():
        # One admission at a time per workspace, so the run limit is never overshot.
        Workspace.objects.select_for_update().filter(pk=pipeline.workspace_id).first()
        admitted = _free_slots(pipeline.workspace_id) > 0
        run = Run.objects.create(workspace_id=pipeline.workspace_id, pipeline=pipeline,
                                 version=version, trigger=trigger, created_by=user, force=force,
                                 status=RunStatus.QUEUED if admitted else RunStatus.PENDING,
                                 datasets=datasets, replay_of=replay_of)
        NodeRun.objects.bulk_create([_node_run(run, n.id, n.operator, keys[n.id],
                                               hits.get(n.id), now) for n in graph.nodes])
        with run_transaction(run.pk) as tx:
            tx.emit("run", run=run_summary_json(tx.run))
            for node in tx.run.nodes.filter(cached=True):
                tx.emit("node", node=node_json(node))
            if admitted:
                _admit(tx)
    return run


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
    _queue(tx, _ready(_graph(tx.run), statuses))
    _maybe_finish(tx)


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
                    tx.emit("run", run=run_summary_json(tx.run))
                    _admit(tx)
                admitted += 1
    return admitted


def pipeline_cache_keys(pipeline: Pipeline, graph: Graph) -> dict[str, str | None]:
    try:
        return cache_keys(graph, ValidationContext(pipeline.workspace))
    except OperatorError as exc:
        raise PermanentError(f"The pipeline cannot run: {exc.message}") from None


def cache_hits(keys: dict[str, str | None]) -> dict[str, CacheEntry]:
    """node id → cache entry, for the nodes whose output is stored and still on disk.
    Reads only: planning (every debounced canvas edit, viewers too) uses it as it is."""
    wanted = {key: node_id for node_id, key in keys.items() if key}
    store, hits = artifact_store(), {}
    for entry in CacheEntry.objects.filter(key__in=list(wanted)):
        if all(store.exists(ref) for ref in entry.outputs.values()):
            hits[wanted[entry.key]] = entry
    return hits


def cache_lookup(keys: dict[str, str | None]) -> dict[str, CacheEntry]:
    """The cache hits of a run about to start, marked as used again: the LRU eviction takes
    them last (one batch, for a remote store)."""
    hits = cache_hits(keys)
    artifact_store().touch([ref for entry in hits.values() for ref in entry.outputs.values()])
    return hits


def _node_run(run: Run, node_id: str, operator: str, key: str | None,
              hit: CacheEntry | None, now: Any) -> NodeRun:
    node = NodeRun(run=run, node_id=node_id, operator=operator, cache_key=key or "")
    if hit is not None:
        node.status, node.cached, node.outputs = NodeStatus.SUCCEEDED, True, hit.outputs
        node.rows_out, node.started_at, node.finished_at = hit.rows_out, now, now
        node.duration_ms, node.logs = 0, ["Reused the cached output."]
    return node


def _ready(graph: RunGraph, statuses: dict[str, str]) -> list[str]:
    """Pending nodes whose inputs have all succeeded."""
    preds = graph.predecessors
    return sorted(n for n, status in statuses.items() if status == NodeStatus.PENDING
                  and all(statuses[p] == NodeStatus.SUCCEEDED for p in preds[n]))


def run_replay(*, run: Run, user: AbstractBaseUser | None) -> Run:
    """Re-run exactly: the same pipeline version and dataset versions, every node recomputed
    (seeds are params, so they come with the version)."""
    return run_start(pipeline=run.pipeline, user=user, trigger=Trigger.MANUAL,
                     version=run.version, force=True, replay_of=run)


def run_cancel(*, run: Run) -> Run:
    with run_transaction(run.pk) as tx:
        if tx.run.status in RUN_DONE:
            raise Conflict(f"The run has already {tx.run.status}; there is nothing to cancel.")
        now = timezone.now()
        for node in tx.run.nodes.filter(status__in=NODE_OPEN):
            node.status, node.finished_at = NodeStatus.CANCELLED, now
            node.save(update_fields=["status", "finished_at"])
            tx.emit("node", node=node_json(node))
        _finish(tx, RunStatus.CANCELLED, now)
    run.refresh_from_db()
    return run


def _finish(tx: RunTransaction, status: str, now: Any, error: str = "") -> None:
    run = tx.run
    run.status, run.finished_at, run.error = status, now, error
    run.started_at = run.started_at or now
    run.duration_ms = _ms(run.started_at, now)
    run.rows_processed = run.nodes.aggregate(rows=Sum("rows_out"))["rows"] or 0
    run.save(update_fields=["status", "finished_at", "error", "started_at", "duration_ms",
                            "rows_processed"])
    tx.emit("run", run=run_summary_json(run))
    if settings.DATAGRAN["MAX_CONCURRENT_RUNS"]:
        transaction.on_commit(admit_pending_runs)


def _ms(start: Any, end: Any) -> int | None:
    return None if start is None else int((end - start).total_seconds() * 1000)


# --- executing one node ------------------------------------------------------------------------

# Passing faults: retried with backoff. Anything else an operator raises is a bug in the
# operator or its input, and retrying would fail the same way.
RETRYABLE = (OSError, TimeoutError, OperationalError, InterfaceError, RetryableError)


def node_execute(*, run_id: str, node_id: str) -> None:
    """What a worker does with one message. Safe to receive twice: only the delivery that
    moves the node from queued to running does the work.

    A node's success may make successors ready: the worker claims one of them in the same
    transaction and runs it next, without a round trip through the broker (the others are
    sent, so independent branches still run on other workers); with none, it takes a node of
    the run whose message still waits in the broker. The claimed node is running with a
    fresh heartbeat from the moment that transaction commits, so if this worker dies before
    finishing it, the reaper re-queues it like any other node of a dead worker.

    One workspace holds at most its share of this process's threads: a message beyond it is
    sent again after a short delay, so another workspace's nodes find a thread."""
    began = time.monotonic()
    workspace_id = (NodeRun.objects.filter(run_id=run_id, node_id=node_id)
                    .values_list("run__workspace_id", flat=True).first())
    with worker_state.slot(workspace_id) as taken:
        if not taken:
            _enqueue(run_id, [node_id], delay_ms=SHARE_RETRY_MS)
            return
        claimed = _claim(run_id, node_id)
        while claimed is not None:
            run, node = claimed
            claimed = _run_claimed(run, node, began=began)


# A message of a workspace that holds its share of this process's threads comes back after
# this long (its node stays queued in the database meanwhile).
SHARE_RETRY_MS = 250


def _may_continue(began: float) -> bool:
    """Whether this worker may run one more node within this message: not while it is
    stopping (SIGTERM: it finishes what it runs and hands the rest to the broker), and the
    message must be done (acked) before RabbitMQ's consumer timeout, even if that node takes
    its whole time limit."""
    options = settings.DATAGRAN
    return not worker_state.stopping.is_set() and (
        time.monotonic() - began + options["NODE_TIME_LIMIT_SECONDS"]
        < options["RABBITMQ_CONSUMER_TIMEOUT_SECONDS"])


def _run_claimed(run: Run, node: NodeRun, *, began: float) -> tuple[Run, NodeRun] | None:
    """Execute a claimed node and record its outcome; returns the successor this worker
    claimed to run next, if any. Each outcome is recorded only if this attempt is still the
    current one (fencing), retrying on a lost database connection."""
    node_id, attempt = node.node_id, node.attempts
    graph = _graph(run)
    spec = graph.node(node_id)
    ctx = RunContext(workspace_id=run.workspace_id, pipeline_id=run.pipeline_id,
                     run_id=run.pk, node_id=node_id, approved=node.approved_at is not None,
                     node_pk=node.pk, attempt=attempt)
    limit = settings.DATAGRAN["NODE_TIME_LIMIT_SECONDS"]

    def abandon() -> None:
        _fail(run.pk, node_id, ctx, f"The node ran longer than its time limit of {limit} s "
              "and did not stop when interrupted; its thread was abandoned.", attempt=attempt)

    started = time.perf_counter()
    with Heartbeat(node.pk, attempt, interrupts=ctx.interrupts, on_abandon=abandon) as beat:
        try:
            with beat.interruptible():
                op = get_operator(spec.operator)
                outcome = execute_node(store=artifact_store(), op=op, raw_params=spec.params,
                                       input_refs=_input_refs(run, graph, node_id), ctx=ctx)
        except NodeTimedOut:
            record = partial(_fail, run.pk, node_id, ctx,
                             f"The node ran longer than its time limit of {limit} s.",
                             attempt=attempt)
        except NodeInterrupted:
            return None  # cancelled or superseded: whoever did that recorded everything
        except ApprovalRequired as exc:
            record = partial(_wait_for_approval, run.pk, node_id, ctx, exc, attempt)
        except OperatorError as exc:
            record = partial(_fail, run.pk, node_id, ctx, exc.message, field=exc.field or "",
                             attempt=attempt)
        except ValidationError as exc:
            first = params_errors(exc)[0]
            record = partial(_fail, run.pk, node_id, ctx, f"{first['field']}: {first['message']}",
                             field=first["field"], attempt=attempt)
        except PermanentError as exc:
            record = partial(_fail, run.pk, node_id, ctx, exc.message,
                             field=exc.extra.get("field", ""), attempt=attempt)
        except RETRYABLE as exc:
            log.warning("node %s of run %s: passing fault %r", node_id, run.pk, exc)
            record = partial(_retry_or_fail, run.pk, node_id, ctx, f"{type(exc).__name__}: {exc}",
                             attempt)
        except Exception as exc:  # noqa: BLE001 - any crash of an operator fails its node
            log.exception("node %s of run %s crashed", node_id, run.pk)
            record = partial(_fail, run.pk, node_id, ctx, f"{type(exc).__name__}: {exc}",
                             trace=traceback.format_exc(), attempt=attempt)
        else:
            ctx.log(f"Finished in {time.perf_counter() - started:.3f} s.")
            # A fresh copy of the node each try: a try that failed may have changed it.
            return retry_on_disconnect(lambda: _succeed(
                run.pk, copy.copy(node), ctx, outcome, may_continue=_may_continue(began)))
        retry_on_disconnect(record)
    return None


def _retry_or_fail(run_id: object, node_id: str, ctx: RunContext, message: str,
                   attempts: int) -> None:
    limit = settings.DATAGRAN["NODE_MAX_ATTEMPTS"]
    if attempts >= limit:
        _fail(run_id, node_id, ctx, f"{message} (gave up after {attempts} attempts)",
              attempt=attempts)
        return
    delay = settings.DATAGRAN["RETRY_BACKOFF_SECONDS"] * 2 ** (attempts - 1)
    with run_transaction(run_id) as tx:
        node = tx.run.nodes.get(node_id=node_id)
        if node.status != NodeStatus.RUNNING or node.attempts != attempts:
            return
        node.status, node.queued_at = NodeStatus.QUEUED, timezone.now()
        node.logs = node.logs + ctx.logs + [
            f"Attempt {attempts} of {limit} failed: {message}; retrying in {delay:g} s."]
        node.save(update_fields=["status", "queued_at", "logs"])
        tx.emit("node", node=node_json(node))
        transaction.on_commit(lambda: _enqueue(run_id, [node_id], delay_ms=int(delay * 1000)))


def _claim(run_id: str, node_id: str) -> tuple[Run, NodeRun] | None:
    # A message whose node is no longer queued (a duplicate, or a node another worker took
    # when it finished its own) is dropped without waiting for the run's lock.
    status = NodeRun.objects.filter(run_id=run_id, node_id=node_id).values_list(
        "status", flat=True).first()
    if status is None:
        log.warning("dropping a message for run %s, which does not exist", run_id)
        return None
    if status != NodeStatus.QUEUED:
        return None
    try:
        return _claim_queued(run_id, node_id)
    except Run.DoesNotExist:
        log.warning("dropping a message for run %s, which does not exist", run_id)
        return None


def _claim_queued(run_id: str, node_id: str) -> tuple[Run, NodeRun] | None:
    with run_transaction(run_id) as tx:
        if tx.run.status in RUN_DONE:
            return None
        now = timezone.now()
        claimed = NodeRun.objects.filter(run=tx.run, node_id=node_id,
                                         status=NodeStatus.QUEUED).update(
            status=NodeStatus.RUNNING, started_at=now, heartbeat_at=now,
            attempts=F("attempts") + 1)
        if not claimed:
            return None
        if tx.run.status == RunStatus.QUEUED:
            tx.run.status, tx.run.started_at = RunStatus.RUNNING, now
            tx.run.save(update_fields=["status", "started_at"])
            tx.emit("run", run=run_summary_json(tx.run))
        node = tx.run.nodes.get(node_id=node_id)
        tx.emit("node", node=node_json(node))
    return tx.run, node


def _input_refs(run: Run, graph: RunGraph, node_id: str) -> dict[str, dict[str, Any]]:
    edges = graph.incoming[node_id]
    outputs = {e.source: known for e in edges
               if (known := node_outputs.recall(run.pk, e.source)) is not None}
    missing = {e.source for e in edges} - outputs.keys()
    if missing:
        for source, status, refs in run.nodes.filter(node_id__in=missing).values_list(
                "node_id", "status", "outputs"):
            outputs[source] = refs
            if status == NodeStatus.SUCCEEDED:
                node_outputs.remember(run.pk, source, refs)
    return {e.target_port: outputs[e.source][e.source_port] for e in edges}


def _succeed(run_id: object, node: NodeRun, ctx: RunContext, outcome: NodeOutcome, *,
             may_continue: bool = False) -> tuple[Run, NodeRun] | None:
    """Record the node's success and queue the successors it made ready. With
    ``may_continue``, claim a node for this worker to run next: one of those successors
    instead of queueing it, or else a node of the run still waiting in the broker."""
    if node.cache_key:  # the outputs are stored: reusable whatever happens to this run
        CacheEntry.objects.bulk_create(
            [CacheEntry(key=node.cache_key, operator=node.operator, outputs=outcome.outputs,
                        rows_out=outcome.rows_out)],
            update_conflicts=True, unique_fields=["key"],
            update_fields=["operator", "outputs", "rows_out", "last_used_at"])
    with run_transaction(run_id) as tx:
        now = timezone.now()
        fields = {"status": NodeStatus.SUCCEEDED, "finished_at": now,
                  "duration_ms": _ms(node.started_at, now), "rows_out": outcome.rows_out,
                  "outputs": outcome.outputs, "logs": node.logs + ctx.logs, "files": ctx.files}
        # Still this attempt, running: not cancelled, nor re-queued by the reaper meanwhile.
        if not NodeRun.objects.filter(pk=node.pk, status=NodeStatus.RUNNING,
                                      attempts=node.attempts).update(**fields):
            return None
        before = len(node.logs)
        for name, value in fields.items():
            setattr(node, name, value)
        transaction.on_commit(lambda: node_outputs.remember(run_id, node.node_id,
                                                            outcome.outputs))
        _register_models(tx.run, node)
        _emit_node(tx, node, before)
        ready = _ready_successors(tx, node.node_id)
        following = ready.pop(0) if ready and may_continue else None
        _queue_nodes(tx, ready)
        if following is not None and not _claim_pending(tx, following, now):
            following = None
        if following is None and may_continue:
            following = _take_queued(tx, now)
        if following is None and not ready:
            _maybe_finish(tx)
    return (tx.run, following) if following is not None else None


def _ready_successors(tx: RunTransaction, node_id: str) -> list[NodeRun]:
    """The pending successors of a node that just succeeded whose other inputs have all
    succeeded too (read under the run's lock, so two inputs finishing at once cannot both
    miss it)."""
    graph = _graph(tx.run)
    candidates = graph.successors[node_id]
    if not candidates:
        return []
    others = {p for c in candidates for p in graph.predecessors[c]} - {node_id}
    done = set(tx.run.nodes.filter(node_id__in=others, status=NodeStatus.SUCCEEDED)
               .values_list("node_id", flat=True)) if others else set()
    return [n for n in tx.run.nodes.filter(node_id__in=candidates, status=NodeStatus.PENDING)
            .order_by("node_id") if graph.predecessors[n.node_id] - {node_id} <= done]


def _take_queued(tx: RunTransaction, now: Any) -> NodeRun | None:
    """A node of this run whose message waits in the broker: this worker runs it now (the
    message, when delivered, finds it taken and is dropped). The oldest first, and first
    attempts only: a retry waits out its backoff, and a re-queued node goes to the broker."""
    node = (tx.run.nodes.filter(status=NodeStatus.QUEUED, attempts=0)
            .order_by("queued_at", "pk").first())
    if node is None or not NodeRun.objects.filter(pk=node.pk, status=NodeStatus.QUEUED).update(
            status=NodeStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=1):
        return None
    node.status, node.started_at, node.heartbeat_at, node.attempts = (
        NodeStatus.RUNNING, now, now, 1)
    tx.emit("node", node=node_json(node))
    return node


def _claim_pending(tx: RunTransaction, node: NodeRun, now: Any) -> bool:
    """Claim a pending node for this worker: queued and running at once (both events, so a
    client sees every node pass through the same states), with no broker message."""
    if not NodeRun.objects.filter(pk=node.pk, status=NodeStatus.PENDING).update(
            status=NodeStatus.RUNNING, queued_at=now, started_at=now, heartbeat_at=now,
            attempts=node.attempts + 1):
        return False
    node.status, node.queued_at = NodeStatus.QUEUED, now
    tx.emit("node", node=node_json(node))
    node.status, node.started_at = NodeStatus.RUNNING, now
    node.heartbeat_at, node.attempts = now, node.attempts + 1
    tx.emit("node", node=node_json(node))
    return True


def _register_models(run: Run, node: NodeRun) -> None:
    if not any(ref.get("kind") == "model" for ref in node.outputs.values()):
        return
    graph = _graph(run)
    version = model_version_from_run(run=run, node=node, spec=graph.node(node.node_id),
                                     op=get_operator(node.operator),
                                     inputs=_input_refs(run, graph, node.node_id))
    if version is not None:
        node.logs = node.logs + [f"Registered as {version.registered_model.name} "
                                 f"v{version.version}."]
        node.save(update_fields=["logs"])


def _fail(run_id: object, node_id: str, ctx: RunContext, message: str, *, field: str = "",
          trace: str = "", expect: str = NodeStatus.RUNNING, heartbeat: Any = None,
          attempt: int | None = None) -> None:
    """Fail a node that is still ``expect`` (and, for the reaper, still has the heartbeat it
    saw: a node that beat meanwhile is alive and keeps running; for a worker, is still in
    its ``attempt``: a superseded attempt records nothing)."""
    with run_transaction(run_id) as tx:
        guard: dict[str, Any] = {"heartbeat_at": heartbeat} if heartbeat is not None else {}
        if attempt is not None:
            guard["attempts"] = attempt
        if not tx.run.nodes.filter(node_id=node_id, status=expect, **guard).exists():
            return
        node = tx.run.nodes.get(node_id=node_id)
        now = timezone.now()
        node.status, node.finished_at = NodeStatus.FAILED, now
        node.duration_ms = _ms(node.started_at, now)
        node.error, node.error_field, node.traceback = message, field, trace
        before = len(node.logs)
        node.logs = node.logs + ctx.logs + [f"Error: {message}"]
        node.save()
        _emit_node(tx, node, before)
        for skipped in tx.run.nodes.filter(node_id__in=_graph(tx.run).descendants(node_id),
                                           status=NodeStatus.PENDING):
            skipped.status, skipped.finished_at = NodeStatus.SKIPPED, now
            skipped.error = f"Skipped because {node_id} failed."
            skipped.save(update_fields=["status", "finished_at", "error"])
            tx.emit("node", node=node_json(skipped))
        _maybe_finish(tx)


def _wait_for_approval(run_id: object, node_id: str, ctx: RunContext,
                       exc: ApprovalRequired, attempt: int) -> None:
    preview = artifact_store().put_table(exc.preview)
    with run_transaction(run_id) as tx:
        node = tx.run.nodes.get(node_id=node_id)
        if node.status != NodeStatus.RUNNING or node.attempts != attempt:
            return
        before = len(node.logs)
        node.status, node.outputs = NodeStatus.WAITING, {"preview": preview.as_json()}
        node.rows_out, node.logs = preview.rows, node.logs + ctx.logs + [exc.message]
        node.save()
        _emit_node(tx, node, before)


def node_approve(*, run: Run, node_id: str, user: AbstractBaseUser) -> None:
    """Let a waiting action send what its preview shows: it runs again, approved."""
    with run_transaction(run.pk) as tx:
        node = _waiting(tx, node_id)
        node.status, node.queued_at = NodeStatus.QUEUED, timezone.now()
        node.approved_by, node.approved_at = user, timezone.now()
        node.save()
        tx.emit("node", node=node_json(node))
        transaction.on_commit(lambda: _enqueue(run.pk, [node_id]))


def node_reject(*, run: Run, node_id: str, user: AbstractBaseUser) -> None:
    with run_transaction(run.pk) as tx:
        _waiting(tx, node_id)
    _fail(run.pk, node_id, RunContext(workspace_id=run.workspace_id),
          f"Rejected by {user.get_username()}: nothing was sent.", field="require_approval",
          expect=NodeStatus.WAITING)


def _waiting(tx: RunTransaction, node_id: str) -> NodeRun:
    node = tx.run.nodes.filter(node_id=node_id).first()
    if node is None or node.status != NodeStatus.WAITING:
        raise Conflict(f"Node {node_id} is not waiting for approval.")
    return node


def _emit_node(tx: RunTransaction, node: NodeRun, logs_before: int) -> None:
    """The node's new log lines (only those: a client appends them), then its state."""
    if node.logs[logs_before:]:
        tx.emit("log", node_id=node.node_id, lines=node.logs[logs_before:])
    tx.emit("node", node=node_json(node))


def _maybe_finish(tx: RunTransaction) -> None:
    # Asks the database whether any node is still open, rather than reading every node's
    # status: with a wide fan-out, each of its nodes finishing would read them all.
    if tx.run.nodes.filter(status__in=NODE_OPEN).exists():
        return
    failed = (tx.run.nodes.filter(status=NodeStatus.FAILED).order_by("pk")
              .values_list("node_id", "error").first())
    if failed:
        _finish(tx, RunStatus.FAILED, timezone.now(),
                error=f"Node {failed[0]} failed: {failed[1]}")
    else:
        _finish(tx, RunStatus.SUCCEEDED, timezone.now())


def run_recover() -> int:
    """Re-send the nodes a stopped embedded server left queued or running: its in-process
    broker lost their messages. Returns how many nodes were re-sent."""
    count = 0
    for run_id in Run.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
                                     ).values_list("pk", flat=True):
        with run_transaction(run_id) as tx:
            stale = list(tx.run.nodes.filter(status__in=[NodeStatus.QUEUED, NodeStatus.RUNNING]))
            tx.run.nodes.filter(pk__in=[n.pk for n in stale]).update(status=NodeStatus.PENDING)
            _queue(tx, [n.node_id for n in stale])
            count += len(stale)
    return count
