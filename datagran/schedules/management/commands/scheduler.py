from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from datagran.runs.maintenance import maintain
from datagran.schedules.services import schedules_fire

log = logging.getLogger("datagran.scheduler")


def tick() -> None:
    """One second of the scheduler's work: fire due schedules, then upkeep of runs."""
    close_old_connections()  # a dropped database connection is reopened on the next query
    schedules_fire()
    maintain()


class Command(BaseCommand):
    help = ("Fire cron schedules and keep runs moving (reap dead workers' nodes, re-send "
            "nodes the broker lost, admit pending runs). Run one or more; they agree.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--once", action="store_true", help="one round, then exit")

    def handle(self, *args: Any, interval: float, once: bool, **options: Any) -> None:
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write("scheduler: started", ending="\n")
        self.stdout.flush()
        while not stopping:
            try:
                tick()
            except Exception:  # noqa: BLE001 - keep ticking through a passing outage
                log.exception("scheduler tick failed")
            if once:
                return
            time.sleep(interval)
