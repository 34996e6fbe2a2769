from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import error_responses
from datagran.core.exceptions import FieldError, NotFound
from datagran.datasets.artifacts import artifact_store
from datagran.datasets.profile import stored_table, table_csv, table_preview
from datagran.engine.calls import SEP, is_call
from datagran.pipelines.calls import expanded_graph
from datagran.pipelines.selectors import pipeline_get
from datagran.pipelines.services import graph_check
from datagran.workspaces.models import Role
from datagran.workspaces.selectors import role_check

from .approval import node_approve, node_reject
from .cache import cache_hits, pipeline_cache_keys
from .lifecycle import run_cancel, run_replay, run_start
from .models import NodeRun, NodeStatus, RunStatus, Trigger
from .scope import SCOPE_UPSTREAM
from .selectors import node_run_get, run_get, run_list
from .serializers import (
    NodeOutputQuery,
    NodePreviewOutput,
    NodePreviewQuery,
    PlanInput,
    PlanOutput,
    RunListItemOutput,
    RunListQuery,
    RunOutput,
    RunPageOutput,
    RunStartInput,
    RunStatsOutput,
    RunStatsQuery,
)
from .stats import run_stats, slowest_nodes

ERR_NO_OUTPUT = "Node {node} has no output yet (it is {status})."


class PipelineRunCreateApi(APIView):
    @extend_schema(request=RunStartInput, responses={201: RunOutput, **error_responses(
        400, 401, 403, 404, 429)})
    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        # A token is a program calling the API; a session is a person at the canvas.
        trigger = Trigger.API if request.auth is not None else Trigger.MANUAL
        data = RunStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        version = None
        if data.validated_data.get("version"):
            version = pipeline.versions.filter(hash=data.validated_data["version"]).first()
            if version is None:
                raise FieldError("version: not a version of this pipeline.",
                                 {"version": ["unknown version hash"]})
        run = run_start(pipeline=pipeline, user=request.user, trigger=trigger,
                        force=data.validated_data.get("force", False), version=version,
                        target=data.validated_data.get("target"),
                        scope=data.validated_data.get("scope", SCOPE_UPSTREAM),
                        full_refresh=data.validated_data.get("full_refresh", False))
        return Response(RunOutput(run).data, status=status.HTTP_201_CREATED)


class PipelinePlanApi(APIView):
    """What a run would do: for each node, "cached" (its output is reused) or "run".
    Takes an unsaved {"graph"} from the canvas, or plans the saved version."""

    @extend_schema(request=PlanInput, responses={200: PlanOutput, **error_responses()})
    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        raw = request.data.get("graph") if isinstance(request.data, dict) else None
        if raw is None:
            raw = pipeline.current_version.graph if pipeline.current_version else {}
        graph = graph_check(workspace=pipeline.workspace, raw=raw, pipeline=pipeline)
        # A node calling a pipeline is cached when every node it expands into is.
        expanded = expanded_graph(pipeline, graph).graph
        hits = cache_hits(pipeline_cache_keys(pipeline, expanded))
        plan = {}
        for n in graph.nodes:
            inside = [e.id for e in expanded.nodes if e.id.startswith(n.id + SEP)]
            cached = all(i in hits for i in inside) if is_call(n) else n.id in hits
            plan[n.id] = "cached" if cached and (inside or not is_call(n)) else "run"
        return Response(PlanOutput({"nodes": plan}).data)


class RunPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-created_at"


ORDERINGS = {"-created_at", "created_at", "-duration_ms", "duration_ms"}


def _field_error(field: str, message: str) -> FieldError:
    return FieldError(f"{field}: {message}", {field: [message]})


def filtered_runs(request: Request) -> Any:
    """The runs the query string asks for: pipeline, status (comma list), trigger, since,
    until (ISO dates), search (pipeline name); always within the caller's workspaces."""
    params = request.query_params
    runs = run_list(user=request.user, workspace_id=params.get("workspace"),
                    pipeline_id=params.get("pipeline"))
    if params.get("status"):
        statuses = params["status"].split(",")
        unknown = sorted(set(statuses) - set(RunStatus.values))
        if unknown:
            raise _field_error("status", f"unknown status {', '.join(unknown)}; use "
                                         f"{', '.join(RunStatus.values)}.")
        runs = runs.filter(status__in=statuses)
    if params.get("trigger"):
        runs = runs.filter(trigger=params["trigger"])
    for name, lookup in (("since", "created_at__gte"), ("until", "created_at__lt")):
        if params.get(name):
            try:
                moment = parse_datetime(params[name]) or _date(params[name])
            except ValueError:  # the right shape, but no such day or time (2026-99-99)
                moment = None
            if moment is None:
                raise _field_error(name, "must be an ISO date or date-time.")
            runs = runs.filter(**{lookup: moment})
    if params.get("search"):
        runs = runs.filter(pipeline__name__icontains=params["search"])
    return runs


def _date(value: str) -> Any:
    day = parse_date(value)
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


class RunListApi(APIView):
    @extend_schema(operation_id="runs_list", parameters=[RunListQuery],
                   responses={200: RunPageOutput, **error_responses(400, 401)})
    def get(self, request: Request) -> Response:
        runs = filtered_runs(request)
        ordering = request.query_params.get("ordering", "-created_at")
        if ordering not in ORDERINGS:
            raise _field_error("ordering", f"must be one of {', '.join(sorted(ORDERINGS))}.")
        paginator = RunPagination()
        if "duration" in ordering:
            # Unfinished runs have no duration yet: they cannot be placed by it.
            runs = runs.filter(duration_ms__isnull=False)
            paginator.ordering = (ordering, "-created_at")  # type: ignore[assignment]  # DRF takes a tuple
        else:
            paginator.ordering = ordering
        page = paginator.paginate_queryset(runs, request, view=self)
        return paginator.get_paginated_response(RunListItemOutput(page, many=True).data)


class RunStatsApi(APIView):
    """Counts by status, success rate per day, duration percentiles and rows processed, for
    the workspace or one pipeline (?pipeline=), over the last ?days= (default 30)."""

    @extend_schema(parameters=[RunStatsQuery],
                   responses={200: RunStatsOutput, **error_responses(400, 401)})
    def get(self, request: Request) -> Response:
        try:
            days = int(request.query_params.get("days", 30))
        except ValueError:
            raise _field_error("days", "must be a whole number.") from None
        if not 1 <= days <= 366:
            raise _field_error("days", "must be between 1 and 366.")
        runs = filtered_runs(request)
        body = run_stats(runs=runs, days=days)
        if request.query_params.get("pipeline"):
            body["slowest_nodes"] = slowest_nodes(runs=runs)
        return Response(RunStatsOutput(body).data)


class RunDetailApi(APIView):
    @extend_schema(responses={200: RunOutput, **error_responses()})
    def get(self, request: Request, run_id: str) -> Response:
        return Response(RunOutput(run_get(user=request.user, run_id=run_id)).data)


class RunCancelApi(APIView):
    @extend_schema(request=None, responses={200: RunOutput, **error_responses()})
    def post(self, request: Request, run_id: str) -> Response:
        run = run_get(user=request.user, run_id=run_id)
        role_check(user=request.user, workspace_id=run.workspace_id, min_role=Role.EDITOR)
        return Response(RunOutput(run_cancel(run=run)).data)


def _node_table(request: Request, run_id: str, node_id: str) -> tuple[NodeRun, str]:
    """The NodeRun and the hash of the table output the request asks for (?port=)."""
    node = node_run_get(run=run_get(user=request.user, run_id=run_id), node_id=node_id)
    if node.status not in (NodeStatus.SUCCEEDED, NodeStatus.WAITING) or not node.outputs:
        raise NotFound(ERR_NO_OUTPUT.format(node=node_id, status=node.status))
    tables = {p: ref for p, ref in node.outputs.items()
              if ref["kind"] == "table" and not p.startswith("_")}
    port = request.query_params.get("port") or next(iter(tables), None)
    if port not in tables:
        raise FieldError(
            f"port: node {node_id} has no table output {port!r}; "
            f"its table outputs are {', '.join(tables) or '(none)'}.",
            {"port": [f"no table output {port!r}"]})
    return node, tables[port]["hash"]


class NodePreviewApi(APIView):
    @extend_schema(parameters=[NodePreviewQuery],
                   responses={200: NodePreviewOutput, **error_responses()})
    def get(self, request: Request, run_id: str, node_id: str) -> Response:
        node, digest = _node_table(request, run_id, node_id)
        try:
            limit = max(0, min(int(request.query_params.get("limit", 50)),
                               settings.DATAGRAN["PREVIEW_MAX_ROWS"]))
        except ValueError:
            raise FieldError("limit: must be a whole number.",
                                 {"limit": ["must be a whole number"]}) from None
        return Response(NodePreviewOutput(table_preview(digest=digest, limit=limit)).data)


class NodeOutputApi(APIView):
    @extend_schema(parameters=[NodeOutputQuery], responses={
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The table."),
        (200, "application/octet-stream"): OpenApiResponse(
            OpenApiTypes.BINARY, description="The table as Parquet (?format=parquet)."),
        **error_responses()})
    def get(self, request: Request, run_id: str, node_id: str) -> HttpResponse:
        node, digest = _node_table(request, run_id, node_id)
        fmt = request.query_params.get("format", "csv")
        name = f"{node.node_id}"
        if fmt == "parquet":
            return FileResponse(artifact_store().open({"kind": "table", "hash": digest}),
                                as_attachment=True, filename=f"{name}.parquet")
        if fmt != "csv":
            raise FieldError(f"format: {fmt!r} is not one of csv, parquet.",
                                 {"format": ["must be csv or parquet"]})
        response = StreamingHttpResponse(_csv_download(digest), content_type="text/csv")
        # A node id of a graph saved before ids had a character set may hold anything.
        response["Content-Disposition"] = content_disposition_header(True, f"{name}.csv")
        return response


def _csv_download(digest: str) -> Iterator[bytes]:
    """The table as CSV, batch by batch (the download never holds the table whole)."""
    with stored_table(digest) as table:
        yield from table_csv(table)


class NodeFileApi(APIView):
    @extend_schema(responses={
        (200, "application/octet-stream"): OpenApiResponse(
            OpenApiTypes.BINARY, description="The file, with the content type it was "
                                             "written with."),
        **error_responses()})
    def get(self, request: Request, run_id: str, node_id: str, name: str) -> HttpResponse:
        node = node_run_get(run=run_get(user=request.user, run_id=run_id), node_id=node_id)
        entry = next((f for f in node.files if f["name"] == name), None)
        if entry is None:
            raise NotFound(f"Node {node_id} wrote no file named {name!r}.")
        return FileResponse(artifact_store().open({"kind": "file", "hash": entry["hash"]}),
                            as_attachment=True, filename=name,
                            content_type=entry["content_type"])


class NodeApproveApi(APIView):
    """An action waiting at its approval gate: approve sends what its preview shows."""

    @extend_schema(request=None, responses={200: RunOutput, **error_responses(
        400, 401, 403, 404, 409)})
    def post(self, request: Request, run_id: str, node_id: str) -> Response:
        run = run_get(user=request.user, run_id=run_id)
        role_check(user=request.user, workspace_id=run.workspace_id, min_role=Role.EDITOR)
        node_approve(run=run, node_id=node_id, user=request.user)
        return Response(RunOutput(run_get(user=request.user, run_id=run_id)).data)


class NodeRejectApi(APIView):
    @extend_schema(request=None, responses={200: RunOutput, **error_responses(
        400, 401, 403, 404, 409)})
    def post(self, request: Request, run_id: str, node_id: str) -> Response:
        run = run_get(user=request.user, run_id=run_id)
        role_check(user=request.user, workspace_id=run.workspace_id, min_role=Role.EDITOR)
        node_reject(run=run, node_id=node_id, user=request.user)
        return Response(RunOutput(run_get(user=request.user, run_id=run_id)).data)


class RunReplayApi(APIView):
    """Re-run exactly: same pipeline version, same dataset versions, same seeds."""

    @extend_schema(request=None, responses={201: RunOutput, **error_responses(
        400, 401, 403, 404, 429)})
    def post(self, request: Request, run_id: str) -> Response:
        run = run_get(user=request.user, run_id=run_id)
        role_check(user=request.user, workspace_id=run.workspace_id, min_role=Role.EDITOR)
        return Response(RunOutput(run_replay(run=run, user=request.user)).data,
                        status=status.HTTP_201_CREATED)
