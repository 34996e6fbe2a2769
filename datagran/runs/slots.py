"""What a worker process knows about itself, from Dramatiq's public middleware hooks: how many
threads it has (each workspace may hold at most its share of them) and whether it is
stopping (a stopping worker finishes the nodes it runs and hands their successors to the
broker instead of running them too)."""
from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dramatiq


class WorkerState:
    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.threads = 0  # 0: not known yet (no worker booted in this process)
        self.running: Counter[str] = Counter()
        self.stopping = threading.Event()

    def share(self) -> int:
        """Nodes one workspace may run at once in this process: half its threads, rounded
        up, so another workspace always finds a thread (with two threads or more)."""
        return max(1, math.ceil(self.threads / 2)) if self.threads else 1 << 30

    @contextmanager
    def slot(self, workspace_id: object, wait: float = 0.05) -> Iterator[bool]:
        """Take one of the workspace's slots for the duration of the block; yields False
        (and takes nothing) when the workspace still holds its share after ``wait`` seconds
        (a thread that just queued this node's message is usually about to free one)."""
        key = str(workspace_id)
        with self.lock:
            taken = self.lock.wait_for(lambda: self.running[key] < self.share(), wait)
            if taken:
                self.running[key] += 1
        try:
            yield taken
        finally:
            if taken:
                with self.lock:
                    self.running[key] -= 1
                    if not self.running[key]:
                        del self.running[key]
                    self.lock.notify_all()


worker_state = WorkerState()


class WorkerLifecycle(dramatiq.Middleware):
    """Tells `worker_state` how many threads the worker has and when it starts stopping
    (SIGTERM: Dramatiq's Worker.stop emits worker_shutdown before it stops its threads)."""

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        with worker_state.lock:
            worker_state.threads = worker.worker_threads
        worker_state.stopping.clear()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        worker_state.stopping.set()
