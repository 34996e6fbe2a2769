from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import error_responses
from datagran.core.fields import represent
from datagran.core.parsers import JSONListParser
from datagran.core.ratelimit import PredictThrottle
from datagran.pipelines.selectors import pipeline_get
from datagran.workspaces.authentication import ApiTokenAuthentication
from datagran.workspaces.models import Role
from datagran.workspaces.selectors import role_check

from .batch import scoring_pipeline_create, scoring_pipelines
from .openapi import endpoint_openapi
from .serializers import (
    BatchScoringInput,
    BatchScoringOutput,
    DeploymentInput,
    DeploymentOutput,
    DeploymentStatsOutput,
    FeedbackInput,
    FeedbackOutput,
    ModelRefOutput,
    PredictInput,
    PredictOutput,
)
from .services import (
    challenger_promote,
    deployment_for,
    deployment_update,
    feedback_record,
    predict,
    serving_credentials,
    serving_pipeline,
)
from .stats import deployment_stats


class DeploymentApi(APIView):
    @extend_schema(responses={200: DeploymentOutput, **error_responses(400, 401, 404)})
    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        return Response(DeploymentOutput(deployment_for(pipeline=pipeline),
                                         context={"request": request}).data)

    @extend_schema(request=DeploymentInput, responses={200: DeploymentOutput, **error_responses()})
    def put(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        data = DeploymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        deployment = deployment_update(pipeline=pipeline, **data.validated_data)
        return Response(DeploymentOutput(deployment, context={"request": request}).data)


class ServingTokenAuthentication(ApiTokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        return serving_credentials(key, lambda: super(
            ServingTokenAuthentication, self).authenticate_credentials(key))


class ServingTokenScheme(OpenApiAuthenticationExtension):
    """The prediction endpoint's token: an API token, checked once in a while (a scheme of
    its own only because the schema names each authentication class once)."""

    target_class = ServingTokenAuthentication
    name = "servingTokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": 'An API token, with the prefix "Token"; remembered for '
                               "DATAGRAN_SERVING_CACHE_SECONDS."}


class PredictApi(APIView):
    """{"rows": [{column: value, ...}, ...]} → a prediction (and probability) per row, and
    the model version that made them. The token, the pipeline and the deployment are
    remembered for DATAGRAN_SERVING_CACHE_SECONDS: a prediction makes no query of its own."""

    authentication_classes = [ServingTokenAuthentication, SessionAuthentication]
    throttle_classes = [PredictThrottle]

    @extend_schema(request=PredictInput, responses={
        200: PredictOutput, **error_responses(400, 401, 403, 404, 413, 429, 503)})
    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = serving_pipeline(user=request.user, pipeline_id=pipeline_id)
        # Not validated through PredictInput: predict checks the rows against the
        # deployment's input schema, once, on the serving path.
        body = request.data if isinstance(request.data, dict) else {}
        return Response(represent(PredictOutput, predict(
            pipeline=pipeline, rows=body.get("rows"), returned=body.get("return"))))


class DeploymentStatsApi(APIView):
    """Recent requests, latency percentiles, the request schema, and drift per feature."""

    @extend_schema(responses={200: DeploymentStatsOutput,
                              **error_responses(400, 401, 404, 503)})
    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        return Response(DeploymentStatsOutput(deployment_stats(pipeline=pipeline),
                                              context={"request": request}).data)


class DeploymentOpenApiApi(APIView):
    """This pipeline's prediction endpoint as an OpenAPI 3 document: the request rows typed
    with its request schema (required columns by column lineage)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT, **error_responses(400, 401, 404, 503)})
    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        endpoint = request.build_absolute_uri(f"/api/pipelines/{pipeline.pk}/predict")
        return Response(endpoint_openapi(pipeline=pipeline, endpoint=endpoint))


class FeedbackApi(APIView):
    """[{"id", "label"}]: the ground truth of logged predictions (ids from the answers), for
    the live accuracy on the deploy page. Ids not given or no longer kept are listed back."""

    authentication_classes = [ServingTokenAuthentication, SessionAuthentication]
    throttle_classes = [PredictThrottle]
    parser_classes = [JSONListParser]

    @extend_schema(request=FeedbackInput(many=True), responses={
        200: FeedbackOutput, **error_responses(400, 401, 403, 404, 413, 429)})
    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = serving_pipeline(user=request.user, pipeline_id=pipeline_id)
        return Response(represent(FeedbackOutput, feedback_record(pipeline=pipeline,
                                                                  items=request.data)))


class ChallengerPromoteApi(APIView):
    """Promote the challenger: production moves to its version and the challenger alias is
    removed, in one audited action."""

    @extend_schema(request=None, responses={200: ModelRefOutput,
                                            **error_responses(401, 403, 404, 409)})
    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        version = challenger_promote(pipeline=pipeline, user=request.user)
        return Response({"name": version.registered_model.name, "version": version.version})


class BatchScoringApi(APIView):
    """The pipelines that score whole tables with this deployment (each with its schedule and
    last run); POST makes one: the rows → the deployment's scores → a CSV export, on a
    schedule (paused unless enabled)."""

    @extend_schema(responses={200: BatchScoringOutput(many=True), **error_responses(401, 404)})
    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        return Response(BatchScoringOutput(scoring_pipelines(pipeline=pipeline), many=True).data)

    @extend_schema(request=BatchScoringInput, responses={201: BatchScoringOutput,
                                                         **error_responses()})
    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        data = BatchScoringInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = scoring_pipeline_create(pipeline=pipeline, user=request.user,
                                          **data.validated_data)
        return Response(BatchScoringOutput(created).data, status=201)
