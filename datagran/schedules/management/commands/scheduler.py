from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from datagran.schedules.ticks import ticks_run


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
        ticks_run(interval=interval, stopping=lambda: stopping, once=once)
