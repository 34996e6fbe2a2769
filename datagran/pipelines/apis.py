from __future__ import annotations

from typing import Any

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import query_uuid, request_workspace
from datagran.core.exceptions import FieldError
from datagran.engine.graph import Graph, InvalidGraph, graph_diff, parse_graph, validate_graph
from datagran.workspaces.models import Role
from datagran.workspaces.selectors import role_check

from .models import Pipeline
from .selectors import pipeline_get, pipeline_list_with_last_run
from .services import pipeline_create, pipeline_delete, pipeline_update
from .validation import ValidationContext


def pipeline_json(pipeline: Pipeline, last_run: dict[str, Any] | None = None) -> dict[str, Any]:
    version = pipeline.current_version
    return {
        "id": str(pipeline.pk),
        "name": pipeline.name,
        "description": pipeline.description,
        "workspace": str(pipeline.workspace_id),
        "graph": version.graph if version else {"nodes": [], "edges": []},
        "version": version.hash if version else None,
        "webhook_enabled": bool(pipeline.webhook_token_hash),
        "created_at": pipeline.created_at.isoformat(),
        "updated_at": pipeline.updated_at.isoformat(),
        "last_run": last_run,
    }


def _last_run_json(run_id: Any, status: str | None, created_at: Any) -> dict[str, Any] | None:
    if run_id is None:
        return None
    return {"id": str(run_id), "status": status, "created_at": created_at.isoformat()}


def _last_run(pipeline: Pipeline) -> dict[str, Any] | None:
    run = pipeline.runs.order_by("-created_at", "-id").first()
    return None if run is None else _last_run_json(run.pk, run.status, run.created_at)


MAX_DESCRIPTION = 10_000


class PipelineInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True,
                                        max_length=MAX_DESCRIPTION)
    graph = serializers.JSONField(required=False)
    workspace = serializers.UUIDField(required=False)


class PipelineListApi(APIView):
    def get(self, request: Request) -> Response:
        pipelines = pipeline_list_with_last_run(
            user=request.user, workspace_id=query_uuid(request, "workspace"))
        search = request.query_params.get("search")
        if search:
            pipelines = pipelines.filter(name__icontains=search)
        return Response([pipeline_json(p, _last_run_json(p.last_run_id, p.last_run_status,
                                                         p.last_run_at)) for p in pipelines])

    def post(self, request: Request) -> Response:
        data = PipelineInput(data=request.data)
        data.is_valid(raise_exception=True)
        workspace = request_workspace(request, min_role=Role.EDITOR)
        pipeline = pipeline_create(workspace=workspace, user=request.user,
                                   name=data.validated_data["name"],
                                   description=data.validated_data.get("description", ""),
                                   graph=data.validated_data.get("graph"))
        return Response(pipeline_json(pipeline), status=status.HTTP_201_CREATED)


class PipelineDetailApi(APIView):
    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        return Response(pipeline_json(pipeline, _last_run(pipeline)))

    def put(self, request: Request, pipeline_id: str) -> Response:
        return self._update(request, pipeline_id, partial=False)

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
        return Response(pipeline_json(pipeline, _last_run(pipeline)))

    def delete(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        pipeline_delete(pipeline=pipeline, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PipelineVersionListApi(APIView):
    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        return Response([
            {"hash": v.hash, "created_at": v.created_at.isoformat(), "graph": v.graph,
             "created_by": v.created_by.get_username() if v.created_by else None,
             "current": v.pk == pipeline.current_version_id}
            for v in pipeline.versions.select_related("created_by")
        ])


class PipelineVersionDiffApi(APIView):
    """GET ?a=<hash>&b=<hash>: what changed from version a to version b."""

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
        return Response(graph_diff(graphs["a"], graphs["b"]))


class PipelineValidateApi(APIView):
    """Check a graph without saving it: every problem, and each node's output schemas."""

    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        raw = request.data.get("graph") if isinstance(request.data, dict) else None
        try:
            graph = parse_graph(raw)
        except InvalidGraph as exc:
            return Response({"valid": False, "errors": [e.as_json() for e in exc.errors],
                             "schemas": {}})
        result = validate_graph(graph, ValidationContext(pipeline.workspace))
        return Response({"valid": result.valid,
                         "errors": [e.as_json() for e in result.errors],
                         "schemas": result.schemas})


class OperatorListApi(APIView):
    def get(self, request: Request) -> Response:
        from operators.registry import all_operators

        return Response([op.describe() for op in all_operators()])
