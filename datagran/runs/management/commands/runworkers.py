"""`make worker`: Dramatiq worker processes under a small pre-forking supervisor.

The parent imports, once, everything a node needs (Django, the actors, the engine and every
operator with pandas, scikit-learn, pyarrow and DuckDB), opens no connection and starts no
thread, then forks `--processes` children that each run Dramatiq worker threads. A child
that exits (an out-of-memory kill, a crash) is replaced at once by a new fork, which takes
messages within a fraction of a second: booting Python and Django again took 15-38 s on a
loaded machine, and Dramatiq's own CLI stops every process when one dies.

SIGTERM (or SIGINT) is passed on: each child stops taking messages, finishes the nodes it
runs (up to --shutdown-timeout) and exits, then the parent exits; a second one to the parent
kills the children (their nodes are re-queued by the reaper)."""
from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import random
import signal
import sys
import threading
import time
from typing import Any

import dramatiq
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections
from django_dramatiq.management.commands.rundramatiq import Command as RunDramatiq

log = logging.getLogger("datagran.workers")
QUICK_DEATH_SECONDS = 1.0  # a child that dies this soon is restarted with a growing delay
MAX_RESTART_DELAY_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


def preload() -> None:
    """Import the actors (as rundramatiq discovers them) and every operator with what it
    imports, so that each fork starts with them loaded."""
    import importlib

    from operators.registry import all_operators

    for module in RunDramatiq().discover_tasks_modules():
        importlib.import_module(module)
    all_operators()
    connections.close_all()


def child(*, index: int, threads: int, shutdown_timeout: float, forked: float,
          parent: int) -> int:
    """One worker process: Dramatiq's worker threads until SIGTERM."""
    stop = threading.Event()

    # Only graceful here: under systemd every process of the unit gets SIGTERM and the
    # parent passes one on too. A second signal to the parent kills the children.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent passes Ctrl+C on as SIGTERM
    stop_with_parent(parent)
    random.seed()
    broker = dramatiq.get_broker()
    broker.emit_after("process_boot")
    worker = dramatiq.Worker(broker, worker_threads=threads)
    worker.start()
    log.info("worker process %d ready (pid %d, %d threads) %.2f s after its fork", index,
             os.getpid(), threads, time.monotonic() - forked)
    while not stop.wait(1.0):
        pass
    log.info("worker process %d stopping: finishing its nodes", index)
    worker.stop(timeout=int(shutdown_timeout * 1000))  # sends what it queued (FlushOnShutdown)
    broker.close()
    return 0


def stop_with_parent(parent: int) -> None:
    """A child whose supervisor was killed stops as on SIGTERM (Linux's PR_SET_PDEATHSIG)
    instead of working on with no one to replace it, while the restarted supervisor forks
    new ones."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the call above
        os.kill(os.getpid(), signal.SIGTERM)


class Supervisor:
    def __init__(self, *, processes: int, threads: int, shutdown_timeout: float) -> None:
        self.processes, self.threads = processes, threads
        self.shutdown_timeout = shutdown_timeout
        self.children: dict[int, int] = {}  # pid → slot
        self.started: dict[int, float] = {}  # slot → when its current child started
        self.delay: dict[int, float] = dict.fromkeys(range(processes), 0.0)
        self.restart_at: dict[int, float] = {}  # slot → when to start its next child
        self.stopping = False

    def spawn(self, slot: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        forked, parent = time.monotonic(), os.getpid()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = child(index=slot, threads=self.threads, parent=parent,
                             shutdown_timeout=self.shutdown_timeout, forked=forked)
            except BaseException:  # noqa: BLE001 - reported, then this process ends
                log.exception("worker process %d failed", slot)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = slot
        self.started[slot] = time.monotonic()
        log.info("started worker process %d (pid %d)", slot, pid)

    def on_signal(self, signum: int, _frame: Any) -> None:
        """The first SIGTERM or SIGINT: each child finishes its nodes; a second: stop now."""
        hard = self.stopping
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL if hard else signal.SIGTERM)

    def reap(self) -> None:
        while self.children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return
            slot = self.children.pop(pid, None)
            if slot is None or self.stopping:
                continue
            lived = time.monotonic() - self.started[slot]
            self.delay[slot] = (min(max(2 * self.delay[slot], 0.5), MAX_RESTART_DELAY_SECONDS)
                                if lived < QUICK_DEATH_SECONDS else 0.0)
            self.restart_at[slot] = time.monotonic() + self.delay[slot]
            log.warning("worker process %d (pid %d) exited (%s) after %.1f s; replacing it%s",
                        slot, pid, describe(status), lived,
                        f" in {self.delay[slot]:.1f} s" if self.delay[slot] else "")

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        for slot in range(self.processes):
            self.spawn(slot)
        while self.children or not self.stopping:
            self.reap()
            now = time.monotonic()
            for slot, when in list(self.restart_at.items()):
                if self.stopping:
                    self.restart_at.clear()
                elif when <= now:
                    del self.restart_at[slot]
                    self.spawn(slot)
            time.sleep(0.1)


def describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


class Command(BaseCommand):
    help = ("Run Dramatiq worker processes (BROKER_URL must be set) and replace any that "
            "dies; SIGTERM lets each finish the nodes it runs, then stops them.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--processes", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--shutdown-timeout", type=float, default=600.0,
                            help="seconds a stopping process may take to finish its nodes")

    def handle(self, *args: Any, processes: int, threads: int, shutdown_timeout: float,
               **options: Any) -> None:
        if not settings.WORKER_PROCESS:
            # Settings choose kept database connections for worker processes (no pool, whose
            # connections a fork would share): start again as one.
            os.execve(sys.executable, [sys.executable, *sys.argv],
                      {**os.environ, "DATAGRAN_WORKER_PROCESS": "1"})
        preload()
        if threading.active_count() > 1:  # a fork copies only this thread
            log.warning("threads running before fork: %s", threading.enumerate())
        log.info("workers: starting %d processes × %d threads", processes, threads)
        Supervisor(processes=processes, threads=threads,
                   shutdown_timeout=shutdown_timeout).run()
