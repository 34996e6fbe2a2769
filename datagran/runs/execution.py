"""What a worker does with a node: claim it, run its operator under a heartbeat, and record
the outcome (success, failure, a retry, a wait for approval) only if the attempt is still the
current one (fencing). A success may make successors ready: the worker claims one and runs it
next, without a round trip through the broker (continuation)."""
from __future__ import annotations

import copy
import logging
import time
import traceback
from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from pydantic import ValidationError

from datagran.datasets.artifacts import artifact_store
from datagran.engine.execute import NodeOutcome, execute_node
from datagran.engine.pushdown import PUSHED_LOG, execute_frontier
from datagran.registry.services import model_version_from_run
from operators.base import ApprovalRequired, params_errors
from operators.engines import EngineSettings
from operators.errors import FieldError, PermanentError, RetryableError
from operators.registry import get_operator

from . import outputs as node_outputs
from . import transitions
from .approval import node_wait_for_approval
from .cache import cache_store
from .context import RunContext
from .dispatch import nodes_send
from .events import RunTransaction, run_transaction
from .graphs import RunGraph, run_graph
from .heartbeat import Heartbeat, NodeInterrupted, NodeTimedOut, retry_on_disconnect
from .lifecycle import node_fail, run_settle
from .models import RUN_DONE, NodeRun, NodeStatus, Run
from .slots import worker_state

log = logging.getLogger(__name__)

# Faults of the machine, the network or the database an operator may meet: passing, so they
# join the retryable branch of the error family. Anything else outside the family is a bug in
# the operator or its input, and retrying would fail the same way.
PASSING = (OSError, TimeoutError, OperationalError, InterfaceError)
# A message of a workspace that holds its share of this process's threads comes back after
# this long (its node stays queued in the database meanwhile).
SHARE_RETRY_MS = 250
Claimed = tuple[Run, NodeRun]


class PassingFault(RetryableError):
    """One of the PASSING faults, met while running an operator."""


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
            nodes_send(run_id, [node_id], delay_ms=SHARE_RETRY_MS)
            return
        claimed = _claim(run_id, node_id)
        while claimed is not None:
            run, node = claimed
            claimed = _run_claimed(run, node, began=began)


def _may_continue(began: float) -> bool:
    """Whether this worker may run one more node within this message: not while it is
    stopping (SIGTERM: it finishes what it runs and hands the rest to the broker), and the
    message must be done (acked) before RabbitMQ's consumer timeout, even if that node takes
    its whole time limit."""
    options = settings.DATAGRAN
    return not worker_state.stopping.is_set() and (
        time.monotonic() - began + options["NODE_TIME_LIMIT_SECONDS"]
        < options["RABBITMQ_CONSUMER_TIMEOUT_SECONDS"])


def _claim(run_id: str, node_id: str) -> Claimed | None:
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
        with run_transaction(run_id) as tx:
            if tx.run.status in RUN_DONE:
                return None
            node = transitions.claim(tx, node_id, now=timezone.now())
    except Run.DoesNotExist:
        log.warning("dropping a message for run %s, which does not exist", run_id)
        return None
    return None if node is None else (tx.run, node)


def _run_claimed(run: Run, node: NodeRun, *, began: float) -> Claimed | None:
    """Execute a claimed node and record its outcome; returns the successor this worker
    claimed to run next, if any. Each outcome is recorded only if this attempt is still the
    current one (fencing), retrying on a lost database connection."""
    node_id, attempt = node.node_id, node.attempts
    graph = run_graph(run)
    ctx = RunContext(workspace_id=run.workspace_id, pipeline_id=run.pipeline_id,
                     run_id=run.pk, node_id=node_id, approved=node.approved_at is not None,
                     node_pk=node.pk, attempt=attempt, full_refresh=run.full_refresh)
    limit = settings.DATAGRAN["NODE_TIME_LIMIT_SECONDS"]
    fail = partial(node_fail, run_id=run.pk, node_id=node_id, logs=ctx.logs, attempts=attempt)

    def abandon() -> None:
        fail(message=f"The node ran longer than its time limit of {limit} s and did not stop "
             "when interrupted; its thread was abandoned.")

    started = time.perf_counter()
    with Heartbeat(node.pk, attempt, interrupts=ctx.interrupts, on_abandon=abandon) as beat:
        try:
            with beat.interruptible():
                outcome = _compute(run, graph, node_id, ctx, node)
        except NodeTimedOut:
            record: Callable[[], None] = partial(
                fail, message=f"The node ran longer than its time limit of {limit} s.")
        except NodeInterrupted:
            return None  # cancelled or superseded: whoever did that recorded everything
        except ApprovalRequired as exc:  # not an error: the action waits for a person
            record = partial(node_wait_for_approval, run_id=run.pk, node_id=node_id,
                             attempt=attempt, logs=ctx.logs, exc=exc)
        except RetryableError as exc:
            log.warning("node %s of run %s: passing fault %r", node_id, run.pk,
                        exc.__cause__ or exc)
            message = exc.message if isinstance(exc, PassingFault) else \
                f"{type(exc).__name__}: {exc}"
            record = partial(_retry_or_fail, run.pk, node_id, ctx, message, attempt)
        except PermanentError as exc:  # OperatorError, bad params, a model that is not trusted
            record = partial(fail, message=exc.message, field=exc.field or "")
        except Exception as exc:  # noqa: BLE001 - any crash of an operator fails its node
            log.exception("node %s of run %s crashed", node_id, run.pk)
            record = partial(fail, message=f"{type(exc).__name__}: {exc}",
                             trace=traceback.format_exc())
        else:
            ctx.log(f"Finished in {time.perf_counter() - started:.3f} s.")
            # A fresh copy of the node each try: a try that failed may have changed it.
            return retry_on_disconnect(lambda: _succeed(
                run.pk, copy.copy(node), ctx, outcome, may_continue=_may_continue(began)))
        retry_on_disconnect(record)
    return None


def _compute(run: Run, graph: RunGraph, node_id: str, ctx: RunContext,
             node: NodeRun | None = None) -> NodeOutcome:
    """Run the node's operator; what it raises outside the error family but knowably
    permanent (invalid params) or passing (a lost connection) joins the family here. A node
    pushed into a database does nothing (its frontier's query computes it); a frontier runs
    its group's query there (datagran/engine/pushdown.py)."""
    spec = graph.node(node_id)
    try:
        if node is not None and node.pushed_into:
            into = graph.node(node.pushed_into)
            ctx.log(PUSHED_LOG.format(database=node.pushdown.get("database", "the database"),
                                      frontier=f"{into.label or get_operator(into.operator).label}"
                                               f" ({into.id})"))
            return NodeOutcome()
        if node is not None and node.pushdown.get("nodes"):
            return execute_frontier(store=artifact_store(), graph=graph.graph, node_id=node_id,
                                    info=node.pushdown, ctx=ctx, engine=engine_settings())
        for why in (node.pushdown.get("not_pushed", []) if node is not None else []):
            ctx.log(why)
        op = get_operator(spec.operator)
        return execute_node(store=artifact_store(), op=op, raw_params=spec.params,
                            input_refs=_input_refs(run, graph, node_id), ctx=ctx,
                            engine=engine_settings(),
                            node=f"{spec.label or op.label} ({node_id})")
    except ValidationError as exc:
        first = params_errors(exc)[0]
        raise FieldError(f"{first['field']}: {first['message']}",
                         {first["field"]: [first["message"]]}) from exc
    except PASSING as exc:
        raise PassingFault(f"{type(exc).__name__}: {exc}") from exc


def engine_settings() -> EngineSettings:
    """The engine the settings name for table nodes (operators.engines)."""
    from operators.engines.spark import spark_conf

    conf = settings.DATAGRAN
    spark = conf["SPARK_MASTER"] or conf["SPARK_REMOTE"]
    return EngineSettings(name=conf["ENGINE"] or ("spark" if spark else "duckdb"),
                          memory_mb=conf["ENGINE_MEMORY_MB"], temp_dir=conf["ENGINE_TEMP_DIR"],
                          threads=conf["ENGINE_THREADS"], spark_master=conf["SPARK_MASTER"],
                          spark_remote=conf["SPARK_REMOTE"],
                          spark_conf=spark_conf(conf.get("SPARK_CONF", "")))


def _retry_or_fail(run_id: object, node_id: str, ctx: RunContext, message: str,
                   attempts: int) -> None:
    limit = settings.DATAGRAN["NODE_MAX_ATTEMPTS"]
    if attempts >= limit:
        node_fail(run_id=run_id, node_id=node_id, logs=ctx.logs,
                  message=f"{message} (gave up after {attempts} attempts)", attempts=attempts)
        return
    delay = settings.DATAGRAN["RETRY_BACKOFF_SECONDS"] * 2 ** (attempts - 1)
    with run_transaction(run_id) as tx:
        transitions.requeue(tx, node_id, attempts=attempts, delay_ms=int(delay * 1000), lines=[
            *ctx.logs,
            f"Attempt {attempts} of {limit} failed: {message}; retrying in {delay:g} s."])


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
             may_continue: bool = False) -> Claimed | None:
    """Record the node's success and queue the successors it made ready. With
    ``may_continue``, claim a node for this worker to run next: one of those successors
    instead of queueing it, or else a node of the run still waiting in the broker."""
    cache_store(node, outputs=outcome.outputs, rows_out=outcome.rows_out)
    with run_transaction(run_id) as tx:
        now = timezone.now()

        def remember_and_register(node: NodeRun) -> None:
            transaction.on_commit(lambda: node_outputs.remember(run_id, node.node_id,
                                                                outcome.outputs))
            _register_models(tx.run, node)

        if not transitions.succeed(tx, node, now=now, rows_out=outcome.rows_out,
                                   outputs=outcome.outputs, logs=ctx.logs, files=ctx.files,
                                   loaded=ctx.source_report, before_events=remember_and_register):
            return None
        ready = _ready_successors(tx, node.node_id)
        following = ready.pop(0) if ready and may_continue else None
        transitions.queue(tx, ready)
        if following is not None and not transitions.claim_ready(tx, following, now=now):
            following = None
        if following is None and may_continue:
            following = _take_queued(tx, now)
        if following is None and not ready:
            run_settle(tx)
    return (tx.run, following) if following is not None else None


def _ready_successors(tx: RunTransaction, node_id: str) -> list[NodeRun]:
    """The pending successors of a node that just succeeded whose other inputs have all
    succeeded too (read under the run's lock, so two inputs finishing at once cannot both
    miss it)."""
    graph = run_graph(tx.run)
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
    if node is None or not transitions.take(tx, node, now=now):
        return None
    return node


def _register_models(run: Run, node: NodeRun) -> None:
    if not any(ref.get("kind") == "model" for ref in node.outputs.values()):
        return
    graph = run_graph(run)
    version = model_version_from_run(run=run, node=node, spec=graph.node(node.node_id),
                                     op=get_operator(node.operator),
                                     inputs=_input_refs(run, graph, node.node_id))
    if version is not None:
        node.logs = node.logs + [f"Registered as {version.registered_model.name} "
                                 f"v{version.version}."]
        node.save(update_fields=["logs"])
