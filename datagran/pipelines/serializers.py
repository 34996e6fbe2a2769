"""The pipelines API's input and output: the contract drf-spectacular documents.

A graph passes through as JSON: it is checked by datagran/engine/graph.py when it is saved
(every problem by node and field, as a GraphError), so here its shape is only described."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datagran.core.fields import IsoDateTimeField, ObjectField

from .annotations import AnnotationsField
from .models import Pipeline, PipelineVersion

MAX_DESCRIPTION = 10_000
EMPTY_GRAPH: dict[str, list[Any]] = {"nodes": [], "edges": []}


# --- the graph, described -------------------------------------------------------------------

class PositionSchema(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()


class GraphNodeSchema(serializers.Serializer):
    id = serializers.CharField(max_length=64)
    operator = serializers.CharField()
    params = ObjectField(required=False)
    position = PositionSchema(required=False)
    label = serializers.CharField(required=False, allow_blank=True)


class GraphEdgeSchema(serializers.Serializer):
    source = serializers.CharField()
    source_port = serializers.CharField()
    target = serializers.CharField()
    target_port = serializers.CharField()


class ExposedParamSchema(serializers.Serializer):
    name = serializers.CharField(help_text="The param's name on a calling node.")
    node = serializers.CharField()
    param = serializers.CharField()


class GraphSchema(serializers.Serializer):
    nodes = GraphNodeSchema(many=True)
    edges = GraphEdgeSchema(many=True)
    exposed = ExposedParamSchema(many=True, required=False,
                                 help_text="Params a pipeline calling this one may set.")


@extend_schema_field(GraphSchema)
class GraphField(serializers.JSONField):
    """A pipeline graph as JSON, passed through as it is."""


class GraphProblemOutput(serializers.Serializer):
    node = serializers.CharField(allow_null=True)
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


# --- pipelines --------------------------------------------------------------------------------

class PipelineInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True,
                                        max_length=MAX_DESCRIPTION)
    graph = GraphField(required=False)
    annotations = AnnotationsField(required=False, help_text=(
        "Sticky notes and frames on the canvas: stored with the pipeline, outside the graph "
        "(changing them makes no version)."))
    workspace = serializers.UUIDField(required=False)


class LastRunOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    created_at = IsoDateTimeField()


class PipelineOutput(serializers.Serializer):
    """A pipeline with its current graph and its latest run. The latest run comes from the
    ``last_run_*`` annotations of pipeline_list_with_last_run when present, else is read."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    workspace = serializers.UUIDField(source="workspace_id")
    graph = serializers.SerializerMethodField()
    annotations = AnnotationsField(read_only=True)
    version = serializers.SerializerMethodField()
    webhook_enabled = serializers.SerializerMethodField()
    created_at = IsoDateTimeField()
    updated_at = IsoDateTimeField()
    last_run = serializers.SerializerMethodField()

    @extend_schema_field(GraphSchema)
    def get_graph(self, pipeline: Pipeline) -> Any:
        version = pipeline.current_version
        return version.graph if version else EMPTY_GRAPH

    def get_version(self, pipeline: Pipeline) -> str | None:
        """The hash of the current version."""
        return pipeline.current_version.hash if pipeline.current_version else None

    def get_webhook_enabled(self, pipeline: Pipeline) -> bool:
        return bool(pipeline.webhook_token_hash)

    @extend_schema_field(LastRunOutput(allow_null=True))
    def get_last_run(self, pipeline: Pipeline) -> Any:
        if hasattr(pipeline, "last_run_id"):
            run_id = pipeline.last_run_id
            last = None if run_id is None else {
                "id": run_id, "status": pipeline.last_run_status,
                "created_at": pipeline.last_run_at}
        else:
            last = pipeline.runs.order_by("-created_at", "-id").first()
        return None if last is None else LastRunOutput(last).data


class PipelineVersionOutput(serializers.Serializer):
    hash = serializers.CharField()
    created_at = IsoDateTimeField()
    graph = GraphField()
    created_by = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField()

    def get_created_by(self, version: PipelineVersion) -> str | None:
        return version.created_by.get_username() if version.created_by else None

    def get_current(self, version: PipelineVersion) -> bool:
        """Whether this is the pipeline's current version."""
        return version.pk == version.pipeline.current_version_id


class VersionDiffQuery(serializers.Serializer):
    a = serializers.CharField(help_text="The hash of the version to compare from.")
    b = serializers.CharField(help_text="The hash of the version to compare to.")


class ChangeOutput(serializers.Serializer):
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class VersionDiffOutput(serializers.Serializer):
    nodes_added = serializers.ListField(child=serializers.CharField())
    nodes_removed = serializers.ListField(child=serializers.CharField())
    operators_changed = serializers.DictField(child=ChangeOutput())
    labels_changed = serializers.DictField(child=ChangeOutput())
    params_changed = serializers.DictField(child=serializers.DictField(child=ChangeOutput()),
                                           help_text="{node: {param: {old, new}}}")
    edges_added = GraphEdgeSchema(many=True)
    edges_removed = GraphEdgeSchema(many=True)
    moved = serializers.ListField(child=serializers.CharField())


class GraphInput(serializers.Serializer):
    graph = GraphField(required=False, help_text="The graph to check; the saved one if left "
                                                 "out (plan only).")


@extend_schema_field({"type": "object", "additionalProperties": {
    "type": "object", "additionalProperties": {
        "type": "array", "nullable": True, "items": {
            "type": "object", "properties": {"name": {"type": "string"},
                                             "type": {"type": "string"}}}}}})
class SchemasField(serializers.JSONField):
    """{node: {port: [{"name", "type"}] or null when unknown}}."""


class InterfacePortOutput(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=["table", "model"])
    node = serializers.CharField(help_text="The marker node inside the called pipeline.")


class InterfaceParamOutput(serializers.Serializer):
    name = serializers.CharField()
    node = serializers.CharField()
    param = serializers.CharField()
    default = serializers.JSONField(allow_null=True)
    schema = ObjectField(required=False, help_text="The param's JSON schema.")


class InterfaceOutput(serializers.Serializer):
    """What a node calling a pipeline offers: the called pipeline's input and output markers
    as ports, and its exposed params."""

    inputs = InterfacePortOutput(many=True)
    outputs = InterfacePortOutput(many=True)
    params = InterfaceParamOutput(many=True)


class CallOutput(InterfaceOutput):
    pipeline = serializers.CharField()
    name = serializers.CharField()
    version = serializers.CharField(help_text="The hash of the version called.")
    number = serializers.IntegerField(help_text="That version's number (1 for the first).")


class CallablePipelineOutput(InterfaceOutput):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    version = serializers.CharField(help_text="The hash of its current version.")
    number = serializers.IntegerField(help_text="Its current version's number.")


class ValidationOutput(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = GraphProblemOutput(many=True)
    schemas = SchemasField()
    calls = serializers.DictField(child=CallOutput(), required=False,
                                  help_text="Each node calling a pipeline: what it calls.")


class ExpandInput(serializers.Serializer):
    graph = GraphField()
    node = serializers.CharField(max_length=64, help_text="The calling node to expand.")


class SubpipelineInput(serializers.Serializer):
    graph = GraphField()
    nodes = serializers.ListField(child=serializers.CharField(max_length=64), min_length=1,
                                  max_length=1000, help_text="The selected nodes.")
    name = serializers.CharField(max_length=200, help_text="The new pipeline's name.")


class GraphOutput(serializers.Serializer):
    graph = GraphField()


class SubpipelineOutput(serializers.Serializer):
    pipeline = PipelineOutput()
    graph = GraphField(help_text="The caller's graph, the selection replaced by a call.")


# --- templates (the gallery: datagran/pipelines/templates.py) -------------------------------

class TemplateNeedOutput(serializers.Serializer):
    kind = serializers.CharField(help_text="A connection kind, or sql: any SQL database.")
    label = serializers.CharField()
    kinds = serializers.ListField(child=serializers.CharField(),
                                  help_text="The connection kinds that meet the need.")


class TemplateTriggerOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["schedule", "webhook"])
    cron = serializers.CharField(required=False,
                                 help_text="A schedule's cron (UTC), created paused.")


class TemplateNodeOutline(serializers.Serializer):
    id = serializers.CharField()
    operator = serializers.CharField()
    label = serializers.CharField(allow_blank=True)
    position = PositionSchema()


class TemplateEdgeOutline(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()


class TemplateGraphOutline(serializers.Serializer):
    nodes = TemplateNodeOutline(many=True)
    edges = TemplateEdgeOutline(many=True)


class TemplateOutput(serializers.Serializer):
    id = serializers.CharField(help_text="A built-in template's slug, or a workspace "
                                         "template's id.")
    kind = serializers.ChoiceField(choices=["builtin", "workspace"])
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    needs = TemplateNeedOutput(many=True, help_text="The connections to choose when making a "
                                                    "pipeline from it.")
    datasets = serializers.ListField(child=serializers.CharField(), help_text=(
        "The uploaded datasets it reads, by name (their newest version)."))
    trigger = TemplateTriggerOutput(allow_null=True)
    graph = TemplateGraphOutline(help_text="Its nodes and edges, to draw it (no params).")
    created_by = serializers.CharField(allow_null=True)
    created_at = IsoDateTimeField(allow_null=True)


class TemplateInstantiateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, help_text=(
        "The new pipeline's name; the template's (numbered if taken) when left out."))
    description = serializers.CharField(required=False, allow_blank=True,
                                        max_length=MAX_DESCRIPTION)
    workspace = serializers.UUIDField(required=False)
    connections = serializers.DictField(
        child=serializers.CharField(max_length=64), required=False,
        help_text="{need: connection id} for the template's needs; a need left out uses the "
                  "workspace's only connection of that kind.")


class TemplateSaveInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False,
                                 help_text="The template's name; the pipeline's when left out.")
    description = serializers.CharField(required=False, allow_blank=True,
                                        max_length=MAX_DESCRIPTION)
