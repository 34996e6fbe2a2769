"""Starting a run from outside: a webhook URL carrying a secret. (Schedules live in
datagran.schedules; a token-authenticated POST to /runs/ is the API trigger.)"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import error_responses
from datagran.core.exceptions import NotFound
from datagran.pipelines.models import Pipeline
from datagran.pipelines.selectors import pipeline_get
from datagran.workspaces.models import Role
from datagran.workspaces.selectors import role_check

from .lifecycle import run_start
from .models import Trigger
from .serializers import RunOutput, WebhookOutput


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def webhook_url(request: Request, pipeline: Pipeline, token: str) -> str:
    return request.build_absolute_uri(f"/api/hooks/{pipeline.pk}/{token}/")


class PipelineWebhookApi(APIView):
    """POST: a new secret webhook URL (shown once; the old one stops working). DELETE: off."""

    @extend_schema(request=None, responses={201: WebhookOutput, **error_responses()})
    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        token = secrets.token_urlsafe(32)
        Pipeline.objects.filter(pk=pipeline.pk).update(webhook_token_hash=_digest(token))
        return Response(WebhookOutput({"url": webhook_url(request, pipeline, token)}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **error_responses()})
    def delete(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        Pipeline.objects.filter(pk=pipeline.pk).update(webhook_token_hash="")
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookTriggerApi(APIView):
    """The webhook itself: no login, the secret in the URL is the credential."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=None, auth=[], responses={201: RunOutput, **error_responses(
        404, 429)})
    def post(self, request: Request, pipeline_id: str, token: str) -> Response:
        try:
            pipeline = Pipeline.objects.get(pk=pipeline_id)
        except (Pipeline.DoesNotExist, ValueError, DjangoValidationError):
            raise NotFound("Not found.") from None
        stored = pipeline.webhook_token_hash
        if not stored or not hmac.compare_digest(stored, _digest(token)):
            raise NotFound("Not found.")
        run = run_start(pipeline=pipeline, user=pipeline.created_by, trigger=Trigger.WEBHOOK)
        return Response(RunOutput(run).data, status=status.HTTP_201_CREATED)
