"""Bringing nodes back when part of the system failed: the reaper re-queues (or fails) nodes
whose worker died, the re-send gives the broker again the messages it never delivered, and a
restarted embedded server re-sends what its in-process broker lost."""
from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from . import transitions
from .dispatch import nodes_send
from .events import run_transaction
from .lifecycle import node_fail
from .models import NodeRun, NodeStatus, Run, RunStatus

log = logging.getLogger(__name__)


def nodes_reap() -> int:
    """Nodes whose heartbeat stopped: queued again, or failed after the last attempt. The
    update is conditional on the node still running with that old heartbeat, so it can never
    overwrite a result that raced it."""
    options = settings.DATAGRAN
    cutoff = timezone.now() - timedelta(seconds=options["HEARTBEAT_TIMEOUT_SECONDS"])
    lost = list(NodeRun.objects.filter(status=NodeStatus.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    ).values_list("run_id", "node_id", "attempts", "heartbeat_at"))
    for run_id, node_id, attempts, beat in lost:
        silent = f"no heartbeat for over {options['HEARTBEAT_TIMEOUT_SECONDS']:g} s"
        if attempts >= options["NODE_MAX_ATTEMPTS"]:
            fence = {"heartbeat_at": beat} if beat is not None else {}
            node_fail(run_id=run_id, node_id=node_id, **fence,
                      message=f"Worker crashed: the node's worker stopped ({silent}) on each "
                      f"of {attempts} attempts.")
            continue
        with run_transaction(run_id) as tx:
            requeued = transitions.requeue(tx, node_id, heartbeat_at=beat, lines=[
                f"The worker running attempt {attempts} stopped ({silent}); trying again."])
        if requeued:
            log.warning("re-queued node %s of run %s: %s", node_id, run_id, silent)
    return len(lost)


def nodes_resend() -> int:
    """Nodes queued for long without a worker taking them: send their message again (the
    claim is idempotent, so a duplicate costs nothing)."""
    cutoff = timezone.now() - timedelta(
        seconds=settings.DATAGRAN["RESEND_QUEUED_AFTER_SECONDS"])
    stale = list(NodeRun.objects.filter(status=NodeStatus.QUEUED, queued_at__lt=cutoff)
                 .exclude(run__status__in=[RunStatus.CANCELLED, RunStatus.FAILED])
                 .values_list("pk", "run_id", "node_id"))
    for pk, run_id, node_id in stale:
        # Not a status change: the node stays queued, its clock restarts.
        if NodeRun.objects.filter(pk=pk, status=NodeStatus.QUEUED,
                                  queued_at__lt=cutoff).update(queued_at=timezone.now()):
            nodes_send(run_id, [node_id])
    return len(stale)


def run_recover() -> int:
    """Re-send the nodes a stopped embedded server left queued or running: its in-process
    broker lost their messages. Returns how many nodes were re-sent."""
    count = 0
    for run_id in Run.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
                                     ).values_list("pk", flat=True):
        with run_transaction(run_id) as tx:
            stale = list(tx.run.nodes.filter(status__in=[NodeStatus.QUEUED, NodeStatus.RUNNING]))
            transitions.reset(tx, stale)
            if stale:
                transitions.queue(tx, tx.run.nodes.filter(
                    node_id__in=[n.node_id for n in stale], status=NodeStatus.PENDING))
            count += len(stale)
    return count
