"""A small pre-forking supervisor: the parent imports once what every child needs, opens no
connection and starts no thread, then forks ``processes`` children and replaces any that
exits (an out-of-memory kill, a crash) at once, with a growing delay for a child that dies as
soon as it starts. Booting Python and Django again took 15-38 s on a loaded machine; a fork
serves within a fraction of a second.

SIGTERM (or SIGINT) is passed on to the children as SIGTERM (each finishes what it is doing
and exits), then the parent exits; a second one to the parent kills the children. Used by
``manage.py runworkers`` (Dramatiq worker processes) and ``manage.py serve`` (daphne
processes sharing one listening socket)."""
from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("datagran.prefork")
QUICK_DEATH_SECONDS = 1.0  # a child that dies this soon is restarted with a growing delay
MAX_RESTART_DELAY_SECONDS = 10.0
PR_SET_PDEATHSIG = 1

# child(slot, parent pid, when it was forked) -> exit code
Child = Callable[[int, int, float], int]


def stop_with_parent(parent: int) -> None:
    """A child whose supervisor was killed stops as on SIGTERM (Linux's PR_SET_PDEATHSIG)
    instead of working on with no one to replace it, while the restarted supervisor forks
    new ones."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the call above
        os.kill(os.getpid(), signal.SIGTERM)


class Supervisor:
    def __init__(self, *, processes: int, child: Child, name: str = "process") -> None:
        self.processes, self.child, self.name = processes, child, name
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
                stop_with_parent(parent)
                code = self.child(slot, parent, forked)
            except BaseException:  # noqa: BLE001 - reported, then this process ends
                log.exception("%s %d failed", self.name, slot)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = slot
        self.started[slot] = time.monotonic()
        log.info("started %s %d (pid %d)", self.name, slot, pid)

    def on_signal(self, signum: int, _frame: Any) -> None:
        """The first SIGTERM or SIGINT: each child finishes its work; a second: stop now."""
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
            log.warning("%s %d (pid %d) exited (%s) after %.1f s; replacing it%s", self.name,
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
