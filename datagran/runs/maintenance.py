"""Keeping runs moving when parts fail: one round of upkeep reaps the nodes of dead workers,
re-sends the nodes the broker never delivered (`recovery`), and admits pending runs when
their workspace has a free slot (`lifecycle`). The scheduler process calls `maintain` every
second (datagran.schedules.ticks); in the embedded default a thread of the web process does."""
from __future__ import annotations

import time

from django.conf import settings

from datagran.datasets.gc import artifacts_gc

from .lifecycle import admit_pending_runs
from .recovery import nodes_reap, nodes_resend

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
