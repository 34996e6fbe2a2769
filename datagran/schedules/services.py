"""Cron schedules with a time zone each, fired exactly once per occurrence.

An occurrence is claimed by its fire row, and the row commits together with the run it
started: a passing fault while starting the run rolls both back, and the occurrence is tried
again on the next tick (while it is still on time). Occurrences missed while no scheduler ran
collapse into the latest one, which the missed policy runs (run_once) or records as missed
(skip); either way the fire row says since when occurrences were missed."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from datagran.core.exceptions import FieldError, PermanentError
from datagran.pipelines.models import Pipeline
from datagran.runs.lifecycle import run_start
from datagran.runs.models import Trigger

from .cron_messages import cron_error_message
from .models import MissedPolicy, Schedule, ScheduleFire

log = logging.getLogger(__name__)
# An occurrence fired this late still counts as on time (the scheduler ticks every second).
GRACE = timedelta(seconds=60)
# The shortest time allowed between two occurrences (cron's optional seconds field would
# otherwise start a run every second).
MIN_INTERVAL = timedelta(seconds=60)
ERR_TOO_OFTEN = ("cron: occurrences must be at least {minimum} s apart; this expression fires "
                 "{gap:g} s apart.")
ERR_MISSED = ("Missed: no scheduler was running at this time (since {since}), and the "
              "schedule's missed policy is skip.")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError(f"timezone: unknown time zone {name!r} (use a name like "
                             "Europe/Paris).", {"timezone": ["unknown time zone"]}
                             ) from None


def _cron(expr: str, start: datetime) -> CronSim:
    try:
        return CronSim(expr, start)
    except CronSimError as exc:
        message = cron_error_message(expr, str(exc))
        raise FieldError(message, {"cron": [message.removeprefix("cron: ")]}) from None


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


def cron_check(*, cron: str, tz: str) -> list[datetime]:
    """The next occurrences, after refusing an expression that fires more often than
    MIN_INTERVAL. More than one occurrence a minute needs several values in the seconds
    field, and any three consecutive occurrences then include two in the same minute."""
    upcoming = fire_times(cron=cron, tz=tz, after=timezone.now(), count=3)
    gaps = [(b - a).total_seconds() for a, b in zip(upcoming, upcoming[1:], strict=False)]
    if gaps and min(gaps) < MIN_INTERVAL.total_seconds():
        message = ERR_TOO_OFTEN.format(minimum=int(MIN_INTERVAL.total_seconds()),
                                       gap=min(gaps))
        raise FieldError(message, {"cron": [message.removeprefix("cron: ")]})
    return upcoming


def schedule_save(*, pipeline: Pipeline, user: AbstractBaseUser | None, cron: str,
                  tz: str = "UTC", enabled: bool = True,
                  missed_policy: str = MissedPolicy.SKIP,
                  schedule: Schedule | None = None) -> Schedule:
    if missed_policy not in MissedPolicy.values:
        raise FieldError("missed_policy: use skip or run_once.",
                             {"missed_policy": ["skip or run_once"]})
    # Pausing is always allowed, so a schedule saved before the minimum can be stopped.
    upcoming = (cron_check(cron=cron, tz=tz) if enabled
                else fire_times(cron=cron, tz=tz, after=timezone.now(), count=1))
    schedule = schedule or Schedule(pipeline=pipeline, created_by=user)
    schedule.cron, schedule.timezone, schedule.enabled = cron, tz, enabled
    schedule.missed_policy = missed_policy
    schedule.next_fire_at = upcoming[0] if upcoming else None
    schedule.save()
    return schedule


def _latest_due(schedule: Schedule, now: datetime) -> datetime:
    """The latest occurrence at or before ``now`` (found backwards, however many were
    missed), and never before the occurrence the schedule waits for."""
    start = (now + timedelta(seconds=1)).astimezone(_zone(schedule.timezone))
    latest = next(iter(CronSim(schedule.cron, start.replace(microsecond=0), reverse=True)),
                  None)
    if latest is None or latest < schedule.next_fire_at:
        return schedule.next_fire_at
    return latest.astimezone(ZoneInfo("UTC"))


def schedules_fire(*, now: datetime | None = None) -> int:
    """Start the runs of every due occurrence; returns how many this call started."""
    now = now or timezone.now()
    started = 0
    for schedule in Schedule.objects.filter(enabled=True, next_fire_at__lte=now
                                            ).select_related("pipeline"):
        latest = _latest_due(schedule, now)
        missed_since = schedule.next_fire_at if latest > schedule.next_fire_at else None
        if missed_since is not None:
            log.warning("schedule %s: the occurrences from %s to %s were missed (no scheduler "
                        "ran); missed policy %s", schedule.pk, missed_since.isoformat(),
                        latest.isoformat(), schedule.missed_policy)
        late = now - latest > GRACE
        try:
            if late and schedule.missed_policy == MissedPolicy.SKIP:
                _record_missed(schedule, latest, since=missed_since or latest)
            else:
                started += occurrence_fire(schedule, latest, missed_since=missed_since)
        except Exception:  # noqa: BLE001 - a passing fault: the occurrence stays due
            log.exception("schedule %s: occurrence %s not fired; trying again on the next "
                          "tick", schedule.pk, latest.isoformat())
            continue
        upcoming = fire_times(cron=schedule.cron, tz=schedule.timezone, after=now, count=1)
        Schedule.objects.filter(pk=schedule.pk, next_fire_at=schedule.next_fire_at).update(
            next_fire_at=upcoming[0] if upcoming else None)
    return started


def _record_missed(schedule: Schedule, fire_time: datetime, *, since: datetime) -> None:
    try:
        with transaction.atomic():
            ScheduleFire.objects.create(schedule=schedule, fire_time=fire_time,
                                        missed_since=since,
                                        error=ERR_MISSED.format(since=since.isoformat()))
    except IntegrityError:
        pass  # another scheduler recorded it


@transaction.atomic
def occurrence_fire(schedule: Schedule, fire_time: datetime, *,
                    missed_since: datetime | None = None) -> int:
    """Claim the occurrence and start its run in one transaction: if starting fails with a
    passing fault, neither is kept and the occurrence can be fired again; a second scheduler
    waits on the claim and then finds it taken."""
    try:
        with transaction.atomic():
            fire = ScheduleFire.objects.create(schedule=schedule, fire_time=fire_time,
                                               missed_since=missed_since)
    except IntegrityError:
        return 0  # another scheduler fired this occurrence
    try:
        run = run_start(pipeline=schedule.pipeline, user=schedule.created_by,
                        trigger=Trigger.SCHEDULE)
    except PermanentError as exc:
        fire.error = exc.message
        fire.save(update_fields=["error"])
        log.warning("schedule %s could not start a run: %s", schedule.pk, exc.message)
        return 0
    fire.run = run
    fire.save(update_fields=["run"])
    return 1
