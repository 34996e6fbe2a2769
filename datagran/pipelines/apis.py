from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import error_responses, query_uuid, request_workspace
from datagran.core.exceptions import FieldError
from datagran.core.fields import WORKSPACE_QUERY
from datagran.engine.graph import (
    Graph,
    GraphProblem,
    InvalidGraph,
    graph_diff,
    parse_graph,
    validate_graph,
)
from datagran.workspaces.models import Role
from datagran.workspaces.selectors import role_check

from .selectors import pipeline_get, pipeline_list_with_last_run
from .serializers import (
    GraphInput,
    PipelineInput,
    PipelineOutput,
    PipelineVersionOutput,
    ValidationOutput,
    VersionDiffOutput,
    VersionDiffQuery,
)
from .services import pipeline_create, pipeline_delete, pipeline_update
from .validation import validation_context

ERR_EMPTY_GRAPH = "Empty: add a node to start."
SEARCH_QUERY = OpenApiParameter("search", OpenApiTypes.STR, required=False,
                                description="Only pipelines whose name contains this.")


class PipelineListApi(APIView):
    @extend_schema(parameters=[WORKSPACE_QUERY, SEARCH_QUERY],
                   responses={200: PipelineOutput(many=True), **error_responses()})
    def get(self, request: Request) -> Response:
        pipelines = pipeline_list_with_last_run(
            user=request.user, workspace_id=query_uuid(request, "workspace"))
        search = request.query_params.get("search")
        if search:
            pipelines = pipelines.filter(name__icontains=search)
        return Response(PipelineOutput(pipelines, many=True).data)

    @extend_schema(request=PipelineInput, responses={201: PipelineOutput, **error_responses()})
    def post(self, request: Request) -> Response:
        data = PipelineInput(data=request.data)
        data.is_valid(raise_exception=True)
        workspace = request_workspace(request, min_role=Role.EDITOR)
        pipeline = pipeline_create(workspace=workspace, user=request.user,
                                   name=data.validated_data["name"],
                                   description=data.validated_data.get("description", ""),
                                   graph=data.validated_data.get("graph"))
        return Response(PipelineOutput(pipeline).data, status=status.HTTP_201_CREATED)


class PipelineDetailApi(APIView):
    @extend_schema(responses={200: PipelineOutput, **error_responses()})
    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        return Response(PipelineOutput(pipeline).data)

    @extend_schema(request=PipelineInput, responses={200: PipelineOutput, **error_responses()})
    def put(self, request: Request, pipeline_id: str) -> Response:
        return self._update(request, pipeline_id, partial=False)

    @extend_schema(request=PipelineInput, responses={200: PipelineOutput, **error_responses()})
    def patch(self, request: Request, pipeline_id: str) -> Response:
        return self._update(request, pipeline_id, partial=True)

    def _update(self, request: Request, pipeline_id: str, *, partial: bool) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        data = PipelineInput(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        pipeline = pipeline_update(pipeline=pipeline, user=request.user,
                                   name=data.validated_data.get("name"),
                                   description=data.validated_data.get("description"),
                                   graph=data.validated_data.get("graph"))
        return Response(PipelineOutput(pipeline).data)

    @extend_schema(responses={204: None, **error_responses()})
    def delete(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        pipeline_delete(pipeline=pipeline, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PipelineVersionListApi(APIView):
    @extend_schema(responses={200: PipelineVersionOutput(many=True), **error_responses()})
    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        versions = pipeline.versions.select_related("created_by", "pipeline")
        return Response(PipelineVersionOutput(versions, many=True).data)


class PipelineVersionDiffApi(APIView):
    """GET ?a=<hash>&b=<hash>: what changed from version a to version b."""

    @extend_schema(parameters=[VersionDiffQuery],
                   responses={200: VersionDiffOutput, **error_responses()})
    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        graphs = {}
        for side in ("a", "b"):
            wanted = request.query_params.get(side, "")
            version = pipeline.versions.filter(hash=wanted).first() if wanted else None
            if version is None:
                raise FieldError(f"{side}: not a version of this pipeline.",
                                     {side: ["unknown version hash"]})
            graphs[side] = Graph.model_validate(version.graph)
        return Response(VersionDiffOutput(graph_diff(graphs["a"], graphs["b"])).data)


class PipelineValidateApi(APIView):
    """Check a graph without saving it: every problem, and each node's output schemas."""

    @extend_schema(request=GraphInput, responses={200: ValidationOutput, **error_responses()})
    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        raw = request.data.get("graph") if isinstance(request.data, dict) else None
        try:
            graph = parse_graph(raw)
        except InvalidGraph as exc:
            return Response(ValidationOutput({"valid": False, "errors": exc.problems,
                                              "schemas": {}}).data)
        result = validate_graph(graph, validation_context(pipeline.workspace))
        if not graph.nodes:
            # Nothing is wrong with it, but nothing would run either: not "Valid".
            return Response(ValidationOutput({"valid": False, "errors": [
                GraphProblem(ERR_EMPTY_GRAPH)], "schemas": {}}).data)
        return Response(ValidationOutput({"valid": result.valid, "errors": result.errors,
                                          "schemas": result.schemas}).data)

