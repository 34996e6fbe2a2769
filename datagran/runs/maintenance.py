"""Keeping runs moving when parts fail: the reaper re-queues (or fails) nodes whose worker
died, the reconciler re-sends nodes the broker never delivered, and pending runs are admitted
when their workspace has a free slot. The scheduler process calls `maintain` every second;
in the embedded default a thread of the web process does."""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from datagran.datasets.gc import artifacts_gc

from .context import RunContext
from .events import run_transaction
from .models import NodeRun, NodeStatus, Run, RunStatus
from .selectors import node_json
from .services import _enqueue, _fail, admit_pending_runs

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
            _fail(run_id, node_id, RunContext(workspace_id=None),
                  f"Worker crashed: the node's worker stopped ({silent}) on each of "
                  f"{attempts} attempts.", heartbeat=beat)
            continue
        with run_transaction(run_id) as tx:
            requeued = NodeRun.objects.filter(run=tx.run, node_id=node_id,
                                              status=NodeStatus.RUNNING,
                                              heartbeat_at=beat).update(
                status=NodeStatus.QUEUED, queued_at=timezone.now())
            if not requeued:
                continue
            node = tx.run.nodes.get(node_id=node_id)
            node.logs = node.logs + [f"The worker running attempt {attempts} stopped "
                                     f"({silent}); trying again."]
            node.save(update_fields=["logs"])
            tx.emit("node", node=node_json(node))
            transaction.on_commit(lambda r=run_id, n=node_id: _enqueue(r, [n]))
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
        if NodeRun.objects.filter(pk=pk, status=NodeStatus.QUEUED,
                                  queued_at__lt=cutoff).update(queued_at=timezone.now()):
            _enqueue(run_id, [node_id])
    return len(stale)


_last_gc = 0.0
GC_EVERY_SECONDS = 600


def maintain() -> dict[str, int]:
    """One round of upkeep: reap, resend, admit; and, every ten minutes when the store has a
    size limit, evict least recently used artifacts."""
    global _last_gc
    done = {"reaped": nodes_reap(), "resent": nodes_resend(), "admitted": admit_pending_runs()}
    if settings.DATAGRAN["ARTIFACT_MAX_BYTES"] and time.monotonic() - _last_gc > GC_EVERY_SECONDS:
        _last_gc = time.monotonic()
        done["evicted"] = artifacts_gc()["deleted"]
    return done


__all__ = ["maintain", "nodes_reap", "nodes_resend", "Run"]
