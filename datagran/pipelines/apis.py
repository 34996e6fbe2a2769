from __future__ import annotations

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import error_responses, query_uuid, request_workspace
from datagran.core.exceptions import FieldError, GraphError
from datagran.core.fields import WORKSPACE_QUERY
from datagran.engine.calls import validate
from datagran.engine.graph import (
    Graph,
    GraphProblem,
    InvalidGraph,
    graph_diff,
    parse_graph,
)
from datagran.workspaces.models import Role
from datagran.workspaces.selectors import role_check

from .annotations import annotations_save
from .calls import call_resolver, callable_pipelines, graph_expand_node, graph_make_subpipeline
from .models import WorkspaceTemplate
from .selectors import pipeline_get, pipeline_list_with_last_run
from .serializers import (
    CallablePipelineOutput,
    ExpandInput,
    GraphInput,
    GraphOutput,
    PipelineInput,
    PipelineOutput,
    PipelineVersionOutput,
    SubpipelineInput,
    SubpipelineOutput,
    TemplateInstantiateInput,
    TemplateOutput,
    TemplateSaveInput,
    ValidationOutput,
    VersionDiffOutput,
    VersionDiffQuery,
)
from .services import pipeline_create, pipeline_delete, pipeline_update
from .templates import (
    template_get,
    template_instantiate,
    template_list,
    workspace_template_delete,
    workspace_template_out,
    workspace_template_save,
)
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
        with transaction.atomic():
            pipeline = pipeline_create(workspace=workspace, user=request.user,
                                       name=data.validated_data["name"],
                                       description=data.validated_data.get("description", ""),
                                       graph=data.validated_data.get("graph"))
            if "annotations" in data.validated_data:
                annotations_save(pipeline=pipeline, user=request.user,
                                 annotations=data.validated_data["annotations"])
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
        # Annotations are checked with the rest (is_valid) and written in the same
        # transaction, after the graph: a refused graph writes no annotation either.
        with transaction.atomic():
            pipeline = pipeline_update(pipeline=pipeline, user=request.user,
                                       name=data.validated_data.get("name"),
                                       description=data.validated_data.get("description"),
                                       graph=data.validated_data.get("graph"))
            if "annotations" in data.validated_data:
                annotations_save(pipeline=pipeline, user=request.user,
                                 annotations=data.validated_data["annotations"])
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
        result = validate(graph, validation_context(pipeline.workspace),
                          call_resolver(pipeline.workspace_id), (str(pipeline.pk), pipeline.name))
        if not graph.nodes:
            # Nothing is wrong with it, but nothing would run either: not "Valid".
            return Response(ValidationOutput({"valid": False, "errors": [
                GraphProblem(ERR_EMPTY_GRAPH)], "schemas": {}}).data)
        return Response(ValidationOutput({"valid": result.valid, "errors": result.errors,
                                          "schemas": result.schemas,
                                          "calls": result.calls}).data)



class PipelineCallableApi(APIView):
    """The pipelines this one can call (its workspace's others that declare an input or an
    output): the canvas palette's "Pipelines"."""

    @extend_schema(responses={200: CallablePipelineOutput(many=True), **error_responses()})
    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        found = callable_pipelines(pipeline.workspace_id, exclude=pipeline.pk)
        return Response(CallablePipelineOutput(found, many=True).data)


class PipelineExpandApi(APIView):
    """The graph with one calling node replaced by the called pipeline's nodes (not saved:
    the canvas applies it as one step)."""

    @extend_schema(request=ExpandInput, responses={200: GraphOutput, **error_responses()})
    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        # An edit of the canvas, though nothing is saved: editors only, as saving it is.
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        data = ExpandInput(data=request.data)
        data.is_valid(raise_exception=True)
        graph = _parsed(data.validated_data["graph"])
        expanded = graph_expand_node(pipeline=pipeline, graph=graph,
                                     node_id=data.validated_data["node"])
        return Response(GraphOutput({"graph": expanded.model_dump(mode="json")}).data)


class PipelineSubpipelineApi(APIView):
    """Make sub-pipeline: the selected nodes become a new pipeline (saved, audited), and the
    caller's graph comes back with them replaced by a node calling it (for the canvas to
    apply as one step and save)."""

    @extend_schema(request=SubpipelineInput,
                   responses={201: SubpipelineOutput, **error_responses()})
    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        data = SubpipelineInput(data=request.data)
        data.is_valid(raise_exception=True)
        graph = _parsed(data.validated_data["graph"])
        created, outer = graph_make_subpipeline(
            pipeline=pipeline, user=request.user, graph=graph,
            nodes=data.validated_data["nodes"], name=data.validated_data["name"])
        return Response(SubpipelineOutput({"pipeline": created,
                                           "graph": outer.model_dump(mode="json")}).data,
                        status=status.HTTP_201_CREATED)


def _parsed(raw: object) -> Graph:
    try:
        return parse_graph(raw)
    except InvalidGraph as exc:
        raise GraphError("graph: the graph is invalid.", exc.errors) from None


# --- templates (the gallery: datagran/pipelines/templates.py) -------------------------------

class TemplateListApi(APIView):
    """The built-in templates, then the workspace's own, newest first."""

    @extend_schema(parameters=[WORKSPACE_QUERY],
                   responses={200: TemplateOutput(many=True), **error_responses(401, 404)})
    def get(self, request: Request) -> Response:
        workspace = request_workspace(request)
        return Response(TemplateOutput(template_list(workspace=workspace), many=True).data)


class TemplateDetailApi(APIView):
    @extend_schema(responses={204: None, **error_responses()})
    def delete(self, request: Request, template_id: str) -> Response:
        template = template_get(user=request.user, template_id=template_id)
        workspace_template_delete(template=template, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TemplateInstantiateApi(APIView):
    """A new pipeline from a template (a built-in's slug or a workspace template's id)."""

    @extend_schema(request=TemplateInstantiateInput,
                   responses={201: PipelineOutput, **error_responses()})
    def post(self, request: Request, template_id: str) -> Response:
        template = template_get(user=request.user, template_id=template_id)
        data = TemplateInstantiateInput(data=request.data)
        data.is_valid(raise_exception=True)
        if isinstance(template, WorkspaceTemplate) and "workspace" not in data.validated_data:
            workspace = template.workspace
            role_check(user=request.user, workspace_id=workspace.pk, min_role=Role.EDITOR)
        else:
            workspace = request_workspace(request, min_role=Role.EDITOR)
        pipeline = template_instantiate(
            template=template, workspace=workspace, user=request.user,
            name=data.validated_data.get("name"),
            description=data.validated_data.get("description"),
            connections=data.validated_data.get("connections"))
        return Response(PipelineOutput(pipeline).data, status=status.HTTP_201_CREATED)


class PipelineTemplateApi(APIView):
    """Save the pipeline's current graph as a template of its workspace."""

    @extend_schema(request=TemplateSaveInput,
                   responses={201: TemplateOutput, **error_responses()})
    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        data = TemplateSaveInput(data=request.data)
        data.is_valid(raise_exception=True)
        template = workspace_template_save(pipeline=pipeline, user=request.user,
                                           name=data.validated_data.get("name"),
                                           description=data.validated_data.get("description"))
        return Response(TemplateOutput(workspace_template_out(template)).data,
                        status=status.HTTP_201_CREATED)
