"""The schedules API's input and output: the contract drf-spectacular documents."""
from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datagran.core.fields import IsoDateTimeField

from .models import MissedPolicy, Schedule
from .services import fire_times

PREVIEW_COUNT = 5
LAST_FIRES = 5


def upcoming(*, cron: str, tz: str) -> list[str]:
    """The next PREVIEW_COUNT fire times from now, as ISO date-times."""
    return [t.isoformat() for t in fire_times(cron=cron, tz=tz, after=timezone.now(),
                                              count=PREVIEW_COUNT)]


class ScheduleInput(serializers.Serializer):
    cron = serializers.CharField(max_length=100)
    timezone = serializers.CharField(max_length=64, default="UTC")
    enabled = serializers.BooleanField(default=True)
    missed_policy = serializers.ChoiceField(choices=MissedPolicy.values,
                                            default=MissedPolicy.SKIP)


class ScheduleFireOutput(serializers.Serializer):
    fire_time = IsoDateTimeField()
    run = serializers.UUIDField(source="run_id", allow_null=True)
    error = serializers.CharField()
    missed_since = IsoDateTimeField(allow_null=True)


class ScheduleOutput(serializers.Serializer):
    id = serializers.UUIDField()
    pipeline = serializers.UUIDField(source="pipeline_id")
    cron = serializers.CharField()
    timezone = serializers.CharField()
    enabled = serializers.BooleanField()
    missed_policy = serializers.ChoiceField(choices=MissedPolicy.values)
    next_fire_at = IsoDateTimeField(allow_null=True)
    upcoming = serializers.SerializerMethodField()
    last_fires = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.DateTimeField()))
    def get_upcoming(self, schedule: Schedule) -> list[str]:
        return upcoming(cron=schedule.cron, tz=schedule.timezone)

    @extend_schema_field(ScheduleFireOutput(many=True))
    def get_last_fires(self, schedule: Schedule) -> Any:
        return ScheduleFireOutput(schedule.fires.all()[:LAST_FIRES], many=True).data


class SchedulePreviewOutput(serializers.Serializer):
    upcoming = serializers.ListField(child=serializers.DateTimeField())
