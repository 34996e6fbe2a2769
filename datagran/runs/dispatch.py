"""Dispatch: the messages that hand a node to a worker. The only module that knows the actor
and the sender; everything else calls `nodes_send` or `nodes_send_on_commit`.

Sending never makes anyone wait for the broker.

Whoever queues a node (a run's start request, a worker recording a success, the reaper) has
already recorded in the database that it is queued; the message itself goes to this process's
sender thread, which sends in order. When the broker refuses, drops or stalls a send (each
bounded by the client's socket timeout) the sender keeps the message and tries again with a
growing pause (0.1 s doubling up to 2 s), so sending resumes within about two seconds of the
broker coming back, and a start request answers at once however the broker is (the embedded
default's in-process broker cannot fail or block: it is sent to directly). The database
stays the record: messages of a process that dies before sending them are sent again by the
scheduler after RESEND_QUEUED_AFTER_SECONDS."""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque

import dramatiq
from django.db import transaction
from dramatiq.brokers.stub import StubBroker

log = logging.getLogger(__name__)
FIRST_PAUSE_SECONDS, MAX_PAUSE_SECONDS = 0.1, 2.0
Message = tuple[str, str, "int | None"]


class Sender:
    def __init__(self) -> None:
        self.pending: deque[Message] = deque()
        self.cond = threading.Condition()
        self.sending = False
        self.failures = 0
        self.pid = 0  # the process whose thread sends (a fork starts its own)

    def send(self, run_id: object, node_ids: list[str], delay_ms: int | None = None) -> None:
        if isinstance(dramatiq.get_broker(), StubBroker):
            # The embedded default's broker is a queue in this process's memory: it neither
            # fails nor blocks, so its messages go at once, in the caller's thread.
            for node_id in node_ids:
                self._send((str(run_id), node_id, delay_ms))
            return
        with self.cond:
            if self.pid != os.getpid():
                self.pid = os.getpid()
                self.pending.clear()  # a fork's copy of its parent's queue is the parent's
                threading.Thread(target=self._loop, name="datagran-send", daemon=True).start()
            self.pending.extend((str(run_id), node_id, delay_ms) for node_id in node_ids)
            self.cond.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until every message handed over so far was sent; False on timeout."""
        with self.cond:
            return self.cond.wait_for(lambda: not self.pending and not self.sending, timeout)

    def _loop(self) -> None:
        while True:
            with self.cond:
                self.cond.wait_for(lambda: bool(self.pending))
                message, self.sending = self.pending[0], True
            sent = self._send(message)
            with self.cond:
                if sent:
                    self.pending.popleft()
                self.sending = False
                self.cond.notify_all()
            if not sent:
                time.sleep(min(MAX_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2 ** (self.failures - 1)))

    def _send(self, message: Message) -> bool:
        from .tasks import execute_node_task  # here: the actor's module imports the engine

        run_id, node_id, delay_ms = message
        try:
            execute_node_task.send_with_options(args=(run_id, node_id), delay=delay_ms)
        except Exception as exc:  # noqa: BLE001 - kept and sent again
            self.failures += 1
            if self.failures == 1:
                log.warning("the broker refused node %s of run %s (%r); %d messages wait, "
                            "sending again until it answers", node_id, run_id, exc,
                            len(self.pending))
            return False
        if self.failures:
            log.warning("the broker answers again after %d failed sends", self.failures)
            self.failures = 0
        return True


sender = Sender()
atexit.register(sender.flush, 5.0)


class FlushOnShutdown(dramatiq.Middleware):
    """A stopping worker sends what its last nodes queued (their successors) before its
    process ends: a worker process's exit skips atexit."""

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: object) -> None:
        sender.flush(5.0)


def nodes_send(run_id: object, node_ids: list[str], delay_ms: int | None = None) -> None:
    """One message per node, from this process's sender thread: the caller never waits for
    the broker, and a send the broker refused is tried again until it answers."""
    sender.send(run_id, node_ids, delay_ms)


def nodes_send_on_commit(run_id: object, node_ids: list[str],
                         delay_ms: int | None = None) -> None:
    """Send once the transaction that queued these nodes has committed (a worker must find
    them queued), and not at all if it rolls back."""
    transaction.on_commit(lambda: nodes_send(run_id, node_ids, delay_ms))


def actors_declare() -> None:
    """Declare the actors on the broker (a worker started in this process consumes them)."""
    from . import tasks  # noqa: F401
