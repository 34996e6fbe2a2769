"""The scheduler's beat: each second, fire the schedules that are due, then keep runs moving
(reap dead workers' nodes, re-send what the broker lost, admit pending runs), then check the
serving alerts that are due. `manage.py
scheduler` runs it in production; a thread of the web process in the embedded default."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import close_old_connections

from datagran.runs.maintenance import maintain
from datagran.serving.alerts import alerts_check_due

from .services import schedules_fire

log = logging.getLogger("datagran.scheduler")


def tick() -> None:
    """One second of the scheduler's work: fire due schedules, then upkeep of runs."""
    close_old_connections()  # a dropped database connection is reopened on the next query
    schedules_fire()
    maintain()
    alerts_check_due()


def ticks_run(*, interval: float, stopping: Callable[[], bool] = lambda: False,
              once: bool = False) -> None:
    """Tick every ``interval`` seconds until ``stopping()`` (or once), through passing
    outages: a failed tick is logged and the next one tries again."""
    while not stopping():
        try:
            tick()
        except Exception:  # noqa: BLE001 - keep ticking through a passing outage
            log.exception("scheduler tick failed")
        if once:
            return
        time.sleep(interval)
