"""The state machine of a node run: one table of the status changes allowed, and one function
per change that makes its guarded update and emits its events.

Every function here runs inside `run_transaction` (the run row locked: two workers finishing
the two inputs of a join cannot both miss that it became ready) and moves only rows still in
the status it expects, plus whatever fence the caller names (the attempt, the heartbeat seen):
a row that moved meanwhile is left alone and the function reports that nothing happened.
Deciding *when* to move a node (retry or fail, which successor runs next, when the run ends)
is the callers' business: lifecycle, execution, approval, recovery."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone

from .dispatch import nodes_send_on_commit
from .events import RunTransaction
from .graphs import run_graph
from .models import NodeRun, NodeStatus, RunStatus

PENDING, QUEUED, RUNNING = NodeStatus.PENDING, NodeStatus.QUEUED, NodeStatus.RUNNING
SUCCEEDED, FAILED, SKIPPED = NodeStatus.SUCCEEDED, NodeStatus.FAILED, NodeStatus.SKIPPED
CANCELLED, WAITING = NodeStatus.CANCELLED, NodeStatus.WAITING

ALLOWED: frozenset[tuple[str, str]] = frozenset({
    (PENDING, QUEUED),      # queue: its inputs have succeeded
    (PENDING, RUNNING),     # claim_ready: a worker runs a successor it made ready, at once
    (PENDING, SKIPPED),     # skip: an upstream node failed
    (PENDING, CANCELLED),   # cancel
    (QUEUED, RUNNING),      # claim (its message), take (a worker with time to spare)
    (QUEUED, PENDING),      # reset: a restarted embedded server lost its message
    (QUEUED, CANCELLED),
    (RUNNING, SUCCEEDED),   # succeed
    (RUNNING, FAILED),      # fail: an error, the last attempt, the time limit
    (RUNNING, QUEUED),      # requeue: a retry after a passing fault, or its worker died
    (RUNNING, WAITING),     # wait: an action shows its preview for approval
    (RUNNING, PENDING),     # reset
    (RUNNING, CANCELLED),
    (WAITING, QUEUED),      # approve
    (WAITING, CANCELLED),   # reject (an editor said no), or cancel
})
ERR_REFUSED = "A node run cannot go from {source} to {target}: the transition table forbids it."


class TransitionRefused(RuntimeError):
    """A status change the table does not allow: a bug in the engine, never the user's."""


def transition_check(source: str, target: str) -> None:
    if (source, target) not in ALLOWED:
        raise TransitionRefused(ERR_REFUSED.format(source=source, target=target))


def node_move(nodes: QuerySet[NodeRun], *, source: str, target: str, **fields: Any) -> int:
    """The one guarded update behind every transition: the rows of ``nodes`` still in
    ``source`` move to ``target`` with ``fields``; returns how many moved."""
    transition_check(source, target)
    return nodes.filter(status=source).update(status=target, **fields)


def _move(node: NodeRun, *, source: str, target: str, fence: dict[str, Any] | None = None,
          **fields: Any) -> bool:
    """``node_move`` for one node: its row, while still in ``source`` and matching ``fence``,
    moves to ``target`` with ``fields``; the object then carries them too."""
    if not node_move(NodeRun.objects.filter(pk=node.pk, **(fence or {})), source=source,
                     target=target, **fields):
        return False
    node.status = target
    for name, value in fields.items():
        setattr(node, name, value)
    return True


def _ms(start: Any, end: Any) -> int | None:
    return None if start is None else int((end - start).total_seconds() * 1000)


# --- into the queue ----------------------------------------------------------------------------

def queue(tx: RunTransaction, nodes: Iterable[NodeRun], *, now: Any = None) -> list[NodeRun]:
    """Pending → queued, and their messages sent once the transaction commits. Nodes no
    longer pending are left out; returns those queued."""
    nodes = [n for n in nodes if n.status == PENDING]
    if not nodes:
        return []
    now = now or timezone.now()
    node_move(NodeRun.objects.filter(pk__in=[n.pk for n in nodes]), source=PENDING,
              target=QUEUED, queued_at=now)
    for node in nodes:
        node.status, node.queued_at = QUEUED, now
        tx.emit_node(node)
    nodes_send_on_commit(tx.run.pk, [n.node_id for n in nodes])
    return nodes


def requeue(tx: RunTransaction, node_id: str, *, lines: list[str], delay_ms: int | None = None,
            **fence: Any) -> bool:
    """Running → queued again (a retry after a passing fault, or the node's worker died),
    with ``lines`` added to its logs; its message goes after ``delay_ms``. Only while the node
    still matches ``fence`` (its attempt, or the heartbeat the reaper saw)."""
    node = tx.run.nodes.filter(node_id=node_id, status=RUNNING, **fence).first()
    if node is None:
        return False
    if not _move(node, source=RUNNING, target=QUEUED, fence=fence, queued_at=timezone.now(),
                 logs=node.logs + lines):
        return False
    tx.emit_node(node)
    nodes_send_on_commit(tx.run.pk, [node_id], delay_ms)
    return True


def approve(tx: RunTransaction, node: NodeRun, *, user: Any) -> bool:
    """Waiting → queued, approved by ``user``: the action runs again and may send."""
    now = timezone.now()
    if not _move(node, source=WAITING, target=QUEUED, queued_at=now, approved_by=user,
                 approved_at=now):
        return False
    tx.emit_node(node)
    nodes_send_on_commit(tx.run.pk, [node.node_id])
    return True


def reject(tx: RunTransaction, node: NodeRun, *, user: Any, message: str) -> bool:
    """Waiting → cancelled, rejected by ``user``: the action sends nothing. Not a failure:
    the node says who rejected it, with no field at fault."""
    now = timezone.now()
    before = len(node.logs)
    if not _move(node, source=WAITING, target=CANCELLED, finished_at=now, error=message,
                 error_field="", approved_by=user, approved_at=now,
                 logs=node.logs + [message]):
        return False
    tx.emit_node(node, logs_before=before)
    return True


def reset(tx: RunTransaction, nodes: list[NodeRun]) -> None:
    """Queued or running → pending, without events (`queue` follows and emits them): their
    messages died with the in-process broker of a stopped embedded server."""
    for source in (QUEUED, RUNNING):
        pks = [n.pk for n in nodes if n.status == source]
        if pks:
            node_move(NodeRun.objects.filter(pk__in=pks), source=source, target=PENDING)
    for node in nodes:
        node.status = PENDING


# --- a worker takes a node ---------------------------------------------------------------------

def claim(tx: RunTransaction, node_id: str, *, now: Any) -> NodeRun | None:
    """Queued → running for the worker that received its message, as a new attempt; the run
    starts running with its first node."""
    if not node_move(tx.run.nodes.filter(node_id=node_id), source=QUEUED, target=RUNNING,
                     started_at=now, heartbeat_at=now, attempts=F("attempts") + 1):
        return None
    if tx.run.status == RunStatus.QUEUED:
        tx.run.status, tx.run.started_at = RunStatus.RUNNING, now
        tx.run.save(update_fields=["status", "started_at"])
        tx.emit_run()
    node = tx.run.nodes.get(node_id=node_id)
    tx.emit_node(node)
    return node


def take(tx: RunTransaction, node: NodeRun, *, now: Any) -> bool:
    """Queued → running, first attempt, for a worker that has time for one more node of the
    run (the node's message, when delivered, finds it taken)."""
    if not _move(node, source=QUEUED, target=RUNNING, started_at=now, heartbeat_at=now,
                 attempts=1):
        return False
    tx.emit_node(node)
    return True


def claim_ready(tx: RunTransaction, node: NodeRun, *, now: Any) -> bool:
    """Pending → running for the worker that made it ready: queued and running at once, with
    both events (a client sees every node pass through the same states) and no message."""
    if not node_move(NodeRun.objects.filter(pk=node.pk), source=PENDING, target=RUNNING,
                     queued_at=now, started_at=now, heartbeat_at=now,
                     attempts=node.attempts + 1):
        return False
    node.status, node.queued_at = QUEUED, now
    tx.emit_node(node)
    node.status, node.started_at = RUNNING, now
    node.heartbeat_at, node.attempts = now, node.attempts + 1
    tx.emit_node(node)
    return True


# --- how an attempt ends -----------------------------------------------------------------------

def succeed(tx: RunTransaction, node: NodeRun, *, now: Any, rows_out: int | None,
            outputs: dict[str, Any], logs: list[str], files: list[dict[str, Any]],
            loaded: dict[str, Any] | None = None,
            before_events: Callable[[NodeRun], None] | None = None) -> bool:
    """Running → succeeded, if ``node`` is still this attempt (not cancelled, nor re-queued by
    the reaper meanwhile), with what a source node ``loaded`` (its report and cursor state: kept
    only with a success). ``before_events`` does what belongs to the success itself (it may
    add log lines) before the events go out."""
    before = len(node.logs)
    if not _move(node, source=RUNNING, target=SUCCEEDED, fence={"attempts": node.attempts},
                 finished_at=now, duration_ms=_ms(node.started_at, now), rows_out=rows_out,
                 outputs=outputs, logs=node.logs + logs, files=files):
        return False
    if loaded:
        node.source, node.state_key = loaded, str(loaded.get("state_key") or "")[:64]
        NodeRun.objects.filter(pk=node.pk).update(source=node.source, state_key=node.state_key)
    if before_events is not None:
        before_events(node)
    tx.emit_node(node, logs_before=before)
    return True


def fail(tx: RunTransaction, node_id: str, *, message: str, logs: list[str], field: str = "",
         trace: str = "", source: str = RUNNING, **fence: Any) -> bool:
    """``source`` (running) → failed, while the node still
    matches ``fence`` (the attempt that failed; for the reaper, the heartbeat it saw: a node
    that beat meanwhile is alive and keeps running). Its pending descendants are skipped."""
    transition_check(source, FAILED)
    node = tx.run.nodes.filter(node_id=node_id, status=source, **fence).first()
    if node is None:
        return False
    now = timezone.now()
    before = len(node.logs)
    if not _move(node, source=source, target=FAILED, fence=fence, finished_at=now,
                 duration_ms=_ms(node.started_at, now), error=message, error_field=field,
                 traceback=trace, logs=node.logs + logs + [f"Error: {message}"]):
        return False
    tx.emit_node(node, logs_before=before)
    skip(tx, run_graph(tx.run).descendants(node_id), because=node_id, now=now)
    return True


def skip(tx: RunTransaction, node_ids: Iterable[str], *, because: str, now: Any) -> None:
    """Pending → skipped: the nodes downstream of one that failed."""
    skipped = list(tx.run.nodes.filter(node_id__in=node_ids, status=PENDING))
    if not skipped:
        return
    error = f"Skipped because {because} failed."
    node_move(NodeRun.objects.filter(pk__in=[n.pk for n in skipped]), source=PENDING,
              target=SKIPPED, finished_at=now, error=error)
    for node in skipped:
        node.status, node.finished_at, node.error = SKIPPED, now, error
        tx.emit_node(node)


def wait(tx: RunTransaction, node_id: str, *, attempt: int, logs: list[str],
         preview: dict[str, Any], rows: int | None) -> bool:
    """Running → waiting: an action holds its preview until an editor approves it."""
    node = tx.run.nodes.filter(node_id=node_id, status=RUNNING, attempts=attempt).first()
    if node is None:
        return False
    before = len(node.logs)
    if not _move(node, source=RUNNING, target=WAITING, fence={"attempts": attempt},
                 outputs={"preview": preview}, rows_out=rows, logs=node.logs + logs):
        return False
    tx.emit_node(node, logs_before=before)
    return True


def cancel(tx: RunTransaction, *, now: Any) -> None:
    """Every open node of the run → cancelled (a running attempt sees it and stops)."""
    for node in tx.run.nodes.filter(status__in=[PENDING, QUEUED, RUNNING, WAITING]):
        if _move(node, source=node.status, target=CANCELLED, finished_at=now):
            tx.emit_node(node)
