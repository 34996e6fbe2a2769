"""The approval gate of an action: a run that reaches an action requiring approval stores
its preview and waits; an editor approves (the action runs again, approved, and sends) or
rejects (nothing is sent and the run ends cancelled, "Rejected by <user>": a decision, not
a failure)."""
from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from datagran.core.exceptions import Conflict
from datagran.datasets.artifacts import artifact_store
from operators.base import ApprovalRequired

from . import transitions
from .events import RunTransaction, run_transaction
from .lifecycle import run_finish
from .models import NodeRun, NodeStatus, Run, RunStatus

ERR_NOT_WAITING = "Node {node_id} is not waiting for approval."
REJECTED = "Rejected by {user}: nothing was sent."


def node_wait_for_approval(*, run_id: object, node_id: str, attempt: int, logs: list[str],
                           exc: ApprovalRequired) -> None:
    """Store the action's preview and hold the node until an editor decides."""
    preview = artifact_store().put_table(exc.preview)
    with run_transaction(run_id) as tx:
        transitions.wait(tx, node_id, attempt=attempt, logs=[*logs, exc.message],
                         preview=preview.as_json(), rows=preview.rows)


def node_approve(*, run: Run, node_id: str, user: AbstractBaseUser) -> None:
    """Let a waiting action send what its preview shows: it runs again, approved."""
    with run_transaction(run.pk) as tx:
        transitions.approve(tx, _waiting(tx, node_id), user=user)


def node_reject(*, run: Run, node_id: str, user: AbstractBaseUser) -> None:
    """Say no to a waiting action: it sends nothing, and the run ends, cancelled, with the
    node's message ("Rejected by demo: nothing was sent.") as the run's."""
    message = REJECTED.format(user=user.get_username())
    with run_transaction(run.pk) as tx:
        if transitions.reject(tx, _waiting(tx, node_id), user=user, message=message):
            now = timezone.now()
            transitions.cancel(tx, now=now)
            run_finish(tx, RunStatus.CANCELLED, now, error=message)


def _waiting(tx: RunTransaction, node_id: str) -> NodeRun:
    node = tx.run.nodes.filter(node_id=node_id).first()
    if node is None or node.status != NodeStatus.WAITING:
        raise Conflict(ERR_NOT_WAITING.format(node_id=node_id))
    return node
