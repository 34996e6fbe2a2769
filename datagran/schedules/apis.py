from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import error_responses
from datagran.core.exceptions import NotFound
from datagran.pipelines.selectors import pipeline_get
from datagran.workspaces.models import Role
from datagran.workspaces.selectors import role_check

from .models import Schedule
from .serializers import ScheduleInput, ScheduleOutput, SchedulePreviewOutput, upcoming
from .services import cron_check, schedule_save


class PipelineScheduleListApi(APIView):
    @extend_schema(responses={200: ScheduleOutput(many=True), **error_responses()})
    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        return Response(ScheduleOutput(pipeline.schedules.all(), many=True).data)

    @extend_schema(request=ScheduleInput, responses={201: ScheduleOutput, **error_responses()})
    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        data = ScheduleInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        schedule = schedule_save(pipeline=pipeline, user=request.user, cron=v["cron"],
                                 tz=v["timezone"], enabled=v["enabled"],
                                 missed_policy=v["missed_policy"])
        return Response(ScheduleOutput(schedule).data, status=status.HTTP_201_CREATED)


def _schedule(request: Request, schedule_id: str) -> Schedule:
    try:
        return Schedule.objects.select_related("pipeline").get(
            pk=schedule_id, pipeline__workspace__memberships__user=request.user)
    except (Schedule.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Schedule not found.") from None


class ScheduleDetailApi(APIView):
    @extend_schema(request=ScheduleInput, responses={200: ScheduleOutput, **error_responses()})
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
        return Response(ScheduleOutput(schedule).data)

    @extend_schema(responses={204: None, **error_responses()})
    def delete(self, request: Request, schedule_id: str) -> Response:
        schedule = _schedule(request, schedule_id)
        role_check(user=request.user, workspace_id=schedule.pipeline.workspace_id,
                   min_role=Role.EDITOR)
        schedule.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class SchedulePreviewApi(APIView):
    """The next fire times of a cron expression in a time zone, before saving it."""

    @extend_schema(request=ScheduleInput,
                   responses={200: SchedulePreviewOutput, **error_responses(400, 401)})
    def post(self, request: Request) -> Response:
        data = ScheduleInput(data=request.data)
        data.is_valid(raise_exception=True)
        cron, tz = data.validated_data["cron"], data.validated_data["timezone"]
        cron_check(cron=cron, tz=tz)  # what saving would refuse, the preview refuses too
        return Response(SchedulePreviewOutput({"upcoming": upcoming(cron=cron, tz=tz)}).data)
