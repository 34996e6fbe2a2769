from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.exceptions import NotFound
from datagran.pipelines.selectors import pipeline_get
from datagran.workspaces.models import Role
from datagran.workspaces.selectors import role_check

from .models import MissedPolicy, Schedule
from .services import cron_check, fire_times, schedule_save

PREVIEW_COUNT = 5


def schedule_json(s: Schedule) -> dict[str, Any]:
    return {"id": str(s.pk), "pipeline": str(s.pipeline_id), "cron": s.cron,
            "timezone": s.timezone, "enabled": s.enabled, "missed_policy": s.missed_policy,
            "next_fire_at": s.next_fire_at.isoformat() if s.next_fire_at else None,
            "upcoming": [t.isoformat() for t in fire_times(
                cron=s.cron, tz=s.timezone, after=timezone.now(), count=PREVIEW_COUNT)],
            "last_fires": [{"fire_time": f.fire_time.isoformat(),
                            "run": str(f.run_id) if f.run_id else None, "error": f.error,
                            "missed_since": f.missed_since.isoformat() if f.missed_since
                            else None}
                           for f in s.fires.all()[:5]]}


class ScheduleInput(serializers.Serializer):
    cron = serializers.CharField(max_length=100)
    timezone = serializers.CharField(max_length=64, default="UTC")
    enabled = serializers.BooleanField(default=True)
    missed_policy = serializers.ChoiceField(choices=MissedPolicy.values,
                                            default=MissedPolicy.SKIP)


class PipelineScheduleListApi(APIView):
    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        return Response([schedule_json(s) for s in pipeline.schedules.all()])

    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        data = ScheduleInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        schedule = schedule_save(pipeline=pipeline, user=request.user, cron=v["cron"],
                                 tz=v["timezone"], enabled=v["enabled"],
                                 missed_policy=v["missed_policy"])
        return Response(schedule_json(schedule), status=status.HTTP_201_CREATED)


def _schedule(request: Request, schedule_id: str) -> Schedule:
    try:
        return Schedule.objects.select_related("pipeline").get(
            pk=schedule_id, pipeline__workspace__memberships__user=request.user)
    except (Schedule.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Schedule not found.") from None


class ScheduleDetailApi(APIView):
    def patch(self, request: Request, schedule_id: str) -> Response:
        schedule = _schedule(request, schedule_id)
        role_check(user=request.user, workspace_id=schedule.pipeline.workspace_id,
                   min_role=Role.EDITOR)
        data = ScheduleInput(data={"cron": schedule.cron, "timezone": schedule.timezone,
                                   "enabled": schedule.enabled,
                                   "missed_policy": schedule.missed_policy, **request.data})
        data.is_valid(raise_exception=True)
        v = data.validated_data
        schedule = schedule_save(pipeline=schedule.pipeline, user=request.user, cron=v["cron"],
                                 tz=v["timezone"], enabled=v["enabled"],
                                 missed_policy=v["missed_policy"], schedule=schedule)
        return Response(schedule_json(schedule))

    def delete(self, request: Request, schedule_id: str) -> Response:
        schedule = _schedule(request, schedule_id)
        role_check(user=request.user, workspace_id=schedule.pipeline.workspace_id,
                   min_role=Role.EDITOR)
        schedule.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class SchedulePreviewApi(APIView):
    """The next fire times of a cron expression in a time zone, before saving it."""

    def post(self, request: Request) -> Response:
        data = ScheduleInput(data=request.data)
        data.is_valid(raise_exception=True)
        cron, tz = data.validated_data["cron"], data.validated_data["timezone"]
        cron_check(cron=cron, tz=tz)  # what saving would refuse, the preview refuses too
        times = fire_times(cron=cron, tz=tz, after=timezone.now(), count=PREVIEW_COUNT)
        return Response({"upcoming": [t.isoformat() for t in times]})
