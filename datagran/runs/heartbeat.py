"""One attempt of a node while it runs: its heartbeat, its fence and its deadline.

A thread beats for the attempt in the database. It outlives passing database errors (a fresh
connection, retries with backoff) and stops its own node only when it has been silent for
nearly the heartbeat timeout, before the reaper would hand the node to another worker. Between
beats it looks whether the attempt is still the current one (not cancelled, not superseded)
and enforces the node's time limit; either way it interrupts the node: the operator's
registered native interrupts (a query, a DuckDB statement) and an exception in its thread.

Fencing: every attempt carries its attempt number, and everything it writes (its result, the
send log before and after each batch) checks that it is still the current running attempt,
so a superseded attempt can neither record nor send anything."""
from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TypeVar

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from dramatiq.threading import raise_thread_exception

from operators.base import Interrupts

from .models import NodeRun, NodeStatus

log = logging.getLogger(__name__)
T = TypeVar("T")
# Cancel is seen within this long, however long the heartbeat interval.
CHECK_SECONDS = 1.0
# After the time limit, how long an interrupted node has to end before it is failed and its
# thread abandoned (native code that ignores every interrupt).
ABANDON_AFTER_SECONDS = 10.0


class NodeInterrupted(BaseException):
    """Raised inside the worker thread when its attempt is no longer the current running one
    (cancelled, or handed to another worker). A BaseException, so operators' `except
    Exception` cannot swallow it."""


class NodeTimedOut(NodeInterrupted):
    """Raised inside the worker thread when its node reaches its time limit."""


def attempt_is_current(node_pk: int, attempt: int, *, lock: bool = False) -> bool:
    """Whether this attempt is still the node's running one. With ``lock`` (inside a
    transaction), the node row stays locked until it commits: the reaper cannot re-queue it
    meanwhile."""
    rows = NodeRun.objects.filter(pk=node_pk, status=NodeStatus.RUNNING, attempts=attempt)
    return (rows.select_for_update() if lock else rows).exists()


def retry_on_disconnect(write: Callable[[], T], *, seconds: float | None = None) -> T:
    """Run a database write, again with a fresh connection if the connection fails (a
    restarted server, a dropped socket), with backoff, for up to ``seconds`` (the heartbeat
    timeout by default). Each try must be a whole transaction: a write inside an outer one
    cannot be retried and fails at once."""
    budget = settings.DATAGRAN["HEARTBEAT_TIMEOUT_SECONDS"] if seconds is None else seconds
    give_up, wait = time.monotonic() + budget, 0.05
    while True:
        try:
            return write()
        except (OperationalError, InterfaceError) as exc:
            if connection.in_atomic_block or time.monotonic() + wait > give_up:
                raise
            log.warning("database write failed (%s); retrying with a new connection", exc)
            _reconnect()
            time.sleep(wait)
            wait = min(wait * 2, 2.0)


def _reconnect() -> None:
    with contextlib.suppress(Exception):
        connection.close()


class _Asker:
    """Makes the heartbeat's database calls in a thread of their own: a hung server (a frozen
    connection blocks a query for as long as TCP holds it) delays the answers, never the
    heartbeat's own decisions (the deadline, giving up). Started at the first call, so a
    node shorter than a tick costs no thread."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.requests: queue.SimpleQueue[Callable[[], bool] | None] = queue.SimpleQueue()
        self.answers: queue.SimpleQueue[tuple[Callable[[], bool], bool, object]] = \
            queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.asked: Callable[[], bool] | None = None
        self.asked_at = 0.0

    def ask(self, call: Callable[[], bool], wait: float
            ) -> tuple[Callable[[], bool], bool, float] | None:
        """(the call answered, its answer, when it was asked), waiting up to ``wait``; None
        when the call asked earlier has not been answered yet. Raises what the call raised."""
        if self.asked is None:
            if self.thread is None:
                self.thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self.thread.start()
            self.asked, self.asked_at = call, time.monotonic()
            self.requests.put(call)
        try:
            answered, ok, value = self.answers.get(timeout=wait)
        except queue.Empty:
            return None
        self.asked = None
        if not ok:
            raise value  # type: ignore[misc]
        return answered, bool(value), self.asked_at

    def close(self) -> None:
        if self.thread is not None:
            self.requests.put(None)

    def _serve(self) -> None:
        try:
            while (call := self.requests.get()) is not None:
                try:
                    self.answers.put((call, True, call()))
                except Exception as exc:  # noqa: BLE001 - handed to the heartbeat
                    _reconnect()
                    self.answers.put((call, False, exc))
        finally:
            _reconnect()


class Heartbeat:
    """``with Heartbeat(...) as beat:`` beats for the whole attempt, recording included;
    ``with beat.interruptible():`` marks the part that cancel, a lost heartbeat or the time
    limit may interrupt (the operator's work, not the recording of its result)."""

    def __init__(self, node_pk: int, attempt: int, *, interrupts: Interrupts | None = None,
                 on_abandon: Callable[[], None] | None = None) -> None:
        options = settings.DATAGRAN
        self.node_pk, self.attempt = node_pk, attempt
        self.interrupts = interrupts or Interrupts()
        self.on_abandon = on_abandon
        self.interval = options["HEARTBEAT_SECONDS"]
        # Stop our own node before the reaper would consider it dead (it counts from the last
        # beat written, as this does): two intervals early, at the latest half way.
        self.silent_limit = max(options["HEARTBEAT_TIMEOUT_SECONDS"] - 2 * self.interval,
                                options["HEARTBEAT_TIMEOUT_SECONDS"] / 2)
        self.deadline = time.monotonic() + options["NODE_TIME_LIMIT_SECONDS"]
        self.target = threading.get_ident()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.armed = False
        self.reason: type[NodeInterrupted] | None = None
        self.thread = threading.Thread(target=self._run, name=f"heartbeat-{node_pk}",
                                       daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with self.lock:
            self.armed = False
        self.stop.set()

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        with self.lock:
            self.armed = True
        try:
            yield
        finally:
            with self.lock:
                self.armed = False

    # --- the beating thread ------------------------------------------------------------------
    def _run(self) -> None:
        asker = _Asker(f"heartbeat-db-{self.node_pk}")
        try:
            self._beat_until_stopped(asker)
        except Exception:  # noqa: BLE001 - never let the thread die silently
            log.exception("heartbeat of node %s failed", self.node_pk)
        finally:
            asker.close()
            _reconnect()  # the abandon path writes from this thread

    def _beat_until_stopped(self, asker: _Asker) -> None:
        tick = min(self.interval, CHECK_SECONDS)
        last_beat = time.monotonic()
        failures, waiting = 0, False
        while not self.stop.wait(0.02 if waiting  # ask() itself waited a tick for the answer
                                 else tick if not failures else min(tick, 0.1 * 2 ** failures)):
            now = time.monotonic()
            if now >= self.deadline:
                self._interrupt(NodeTimedOut)
                if now >= self.deadline + ABANDON_AFTER_SECONDS:
                    self._abandon()
                    return
            waiting = False
            try:
                answer = asker.ask(self._beat if now - last_beat >= self.interval
                                   else self._check, wait=tick)
            except (OperationalError, InterfaceError) as exc:
                failures += 1
                problem = str(exc).strip() or type(exc).__name__
            else:
                if answer is not None:
                    call, current, asked_at = answer
                    failures = 0
                    if call == self._beat:
                        last_beat = asked_at  # the beat's time is at most this old
                    if not current:
                        self._interrupt(NodeInterrupted)
                        return
                    continue
                problem, waiting = "the database does not answer", True
            if time.monotonic() - last_beat >= self.silent_limit:
                log.error("node %s: no heartbeat written for %.0f s (%s); stopping it so that "
                          "another worker can take it", self.node_pk,
                          time.monotonic() - last_beat, problem)
                self._interrupt(NodeInterrupted)
                return

    def _beat(self) -> bool:
        return bool(NodeRun.objects.filter(pk=self.node_pk, status=NodeStatus.RUNNING,
                                           attempts=self.attempt)
                    .update(heartbeat_at=timezone.now()))

    def _check(self) -> bool:
        return attempt_is_current(self.node_pk, self.attempt)

    def _interrupt(self, reason: type[NodeInterrupted]) -> None:
        with self.lock:
            if not self.armed or self.reason is not None:
                return
            self.reason = reason
            raise_thread_exception(self.target, reason)
        self.interrupts.interrupt()

    def _abandon(self) -> None:
        """The node's code ignored every interrupt past its time limit: fail the node (so the
        run moves on) and stop beating. Its thread is left to end on its own; whatever it
        returns is fenced out."""
        log.error("node %s ignored its interrupts past its time limit; abandoning its thread",
                  self.node_pk)
        if self.on_abandon is not None:
            retry_on_disconnect(self.on_abandon)
