"""`make worker`: Dramatiq worker processes under the pre-forking supervisor
(datagran.core.prefork).

The parent imports, once, everything a node needs (Django, the actors, the engine and every
operator with pandas, scikit-learn, pyarrow and DuckDB), then forks `--processes` children
that each run Dramatiq worker threads; one that exits is replaced by a new fork, which takes
messages within a fraction of a second (Dramatiq's own CLI stops every process when one dies).

SIGTERM (or SIGINT) is passed on: each child stops taking messages, finishes the nodes it
runs (up to --shutdown-timeout) and exits, then the parent exits; a second one to the parent
kills the children (their nodes are re-queued by the reaper)."""
from __future__ import annotations

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

from datagran.core.prefork import Supervisor

log = logging.getLogger("datagran.workers")


def preload() -> None:
    """Import the actors (as rundramatiq discovers them) and every operator with what it
    imports, so that each fork starts with them loaded."""
    import importlib

    from operators.registry import all_operators

    for module in RunDramatiq().discover_tasks_modules():
        importlib.import_module(module)
    all_operators()
    connections.close_all()


def child(*, index: int, threads: int, shutdown_timeout: float, forked: float) -> int:
    """One worker process: Dramatiq's worker threads until SIGTERM."""
    stop = threading.Event()

    # Only graceful here: under systemd every process of the unit gets SIGTERM and the
    # parent passes one on too. A second signal to the parent kills the children.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent passes Ctrl+C on as SIGTERM
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
        Supervisor(processes=processes, name="worker process", child=lambda slot, _parent,
                   forked: child(index=slot, threads=threads, forked=forked,
                                 shutdown_timeout=shutdown_timeout)).run()
