"""Schedules saved before the minimum interval whose cron fires less than 60 s apart (a
seconds field with several values) are paused: they started a run every second. Their owners
see them paused and are told why when they turn them on again."""
from datetime import UTC, datetime

from cronsim import CronSim, CronSimError
from django.db import migrations


def too_often(cron: str) -> bool:
    try:
        it = CronSim(cron, datetime.now(UTC).replace(microsecond=0))
        times = [next(it) for _ in range(3)]
    except (CronSimError, StopIteration, ValueError):
        return False
    return min((b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)) < 60


def forwards(apps, schema_editor):
    Schedule = apps.get_model("schedules", "Schedule")
    for schedule in Schedule.objects.filter(enabled=True):
        if too_often(schedule.cron):
            schedule.enabled = False
            schedule.save(update_fields=["enabled"])


class Migration(migrations.Migration):

    dependencies = [
        ("schedules", "0002_fire_records_missed_occurrences"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
