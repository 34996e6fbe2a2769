"""Cron schedules with a time zone each, fired exactly once per occurrence."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from datagran.core.exceptions import PermanentError
from datagran.pipelines.models import Pipeline
from datagran.runs.models import Trigger
from datagran.runs.services import run_start

from .models import MissedPolicy, Schedule, ScheduleFire

log = logging.getLogger(__name__)
# An occurrence fired this late still counts as on time (the scheduler ticks every second).
GRACE = timedelta(seconds=60)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PermanentError(f"timezone: unknown time zone {name!r} (use a name like "
                             "Europe/Paris).", {"fields": {"timezone": ["unknown time zone"]}}
                             ) from None


def _cron(expr: str, start: datetime) -> CronSim:
    try:
        return CronSim(expr, start)
    except CronSimError as exc:
        raise PermanentError(f"cron: {exc}", {"fields": {"cron": [str(exc)]}}) from None


def fire_times(*, cron: str, tz: str, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` occurrences strictly after ``after``, as aware UTC datetimes."""
    it = _cron(cron, after.astimezone(_zone(tz)).replace(microsecond=0))
    times = []
    for moment in it:
        if moment > after:
            times.append(moment.astimezone(ZoneInfo("UTC")))
        if len(times) == count:
            break
    return times


def schedule_save(*, pipeline: Pipeline, user: AbstractBaseUser | None, cron: str,
                  tz: str = "UTC", enabled: bool = True,
                  missed_policy: str = MissedPolicy.SKIP,
                  schedule: Schedule | None = None) -> Schedule:
    if missed_policy not in MissedPolicy.values:
        raise PermanentError("missed_policy: use skip or run_once.",
                             {"fields": {"missed_policy": ["skip or run_once"]}})
    upcoming = fire_times(cron=cron, tz=tz, after=timezone.now(), count=1)
    schedule = schedule or Schedule(pipeline=pipeline, created_by=user)
    schedule.cron, schedule.timezone, schedule.enabled = cron, tz, enabled
    schedule.missed_policy = missed_policy
    schedule.next_fire_at = upcoming[0] if upcoming else None
    schedule.save()
    return schedule


def schedules_fire(*, now: datetime | None = None) -> int:
    """Start the runs of every due occurrence; returns how many this call started."""
    now = now or timezone.now()
    started = 0
    for schedule in Schedule.objects.filter(enabled=True, next_fire_at__lte=now
                                            ).select_related("pipeline"):
        due = [schedule.next_fire_at] + fire_times(cron=schedule.cron, tz=schedule.timezone,
                                                   after=schedule.next_fire_at, count=10_000)
        due = [t for t in due if t <= now]
        latest = due[-1]
        on_time = now - latest <= GRACE
        if on_time or schedule.missed_policy == MissedPolicy.RUN_ONCE:
            started += _fire(schedule, latest)
        upcoming = fire_times(cron=schedule.cron, tz=schedule.timezone, after=now, count=1)
        Schedule.objects.filter(pk=schedule.pk, next_fire_at=schedule.next_fire_at).update(
            next_fire_at=upcoming[0] if upcoming else None)
    return started


def _fire(schedule: Schedule, fire_time: datetime) -> int:
    try:
        with transaction.atomic():
            fire = ScheduleFire.objects.create(schedule=schedule, fire_time=fire_time)
    except IntegrityError:
        return 0  # another scheduler fired this occurrence
    try:
        run = run_start(pipeline=schedule.pipeline, user=schedule.created_by,
                        trigger=Trigger.SCHEDULE)
    except PermanentError as exc:
        ScheduleFire.objects.filter(pk=fire.pk).update(error=exc.message)
        log.warning("schedule %s could not start a run: %s", schedule.pk, exc.message)
        return 0
    ScheduleFire.objects.filter(pk=fire.pk).update(run=run)
    return 1
