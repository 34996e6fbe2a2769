"""The runs API's input and output: the contract drf-spectacular documents. The same output
serializers build the run events of the websocket (runs/events.py) and its snapshot."""
from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datagran.core.fields import IsoDateTimeField, ObjectField
from datagran.pipelines.serializers import GraphField

from .models import NodeRun, NodeStatus, Run, RunStatus, Trigger
from .scope import SCOPES

# --- runs and their nodes ---------------------------------------------------------------------

class NodeFileOutput(serializers.Serializer):
    name = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()
    url = serializers.CharField(help_text="Where to download the file.")


SOURCE_REPORT_FIELDS = ("records", "pages", "retries", "new", "updated", "cursor_field",
                        "cursor_before", "cursor_after", "full_refresh", "new_columns",
                        "missing_columns")


class SourceReportOutput(serializers.Serializer):
    """What a source node loaded in this run (its cursor state stays on the server)."""

    records = serializers.IntegerField(help_text="Records the node output (after dropping "
                                                 "those the last run ended on).")
    pages = serializers.IntegerField(allow_null=True, help_text="Pages the API answered.")
    retries = serializers.IntegerField(help_text="Requests retried (rate limits, faults).")
    new = serializers.IntegerField(help_text="Records not loaded before (by primary key).")
    updated = serializers.IntegerField(help_text="Records loaded before, changed since.")
    cursor_field = serializers.CharField(allow_null=True)
    cursor_before = serializers.JSONField(allow_null=True, help_text=(
        "Where the cursor stood when the run started; null on a first run or full refresh."))
    cursor_after = serializers.JSONField(allow_null=True)
    full_refresh = serializers.BooleanField(help_text="Loaded from the start (no cursor).")
    new_columns = serializers.ListField(child=serializers.CharField(), help_text=(
        "Columns new since the last run."))
    missing_columns = serializers.ListField(child=serializers.CharField(), help_text=(
        "Columns the last run had that this one lacks."))


class PushdownOutput(serializers.Serializer):
    """Pushdown of table nodes into a SQL source's database."""

    database = serializers.CharField(help_text="PostgreSQL, MySQL/MariaDB or SQLite.")
    nodes = serializers.ListField(child=serializers.CharField(), help_text=(
        "On a frontier: the nodes its query ran inside the database (sources included, "
        "itself last); empty on a pushed node."))
    ran = serializers.ListField(child=serializers.CharField(), help_text=(
        "On a frontier: those of its nodes that ran in the database (not the sources it "
        "read there); empty on a pushed node."))


class NodeRunOutput(serializers.Serializer):
    node_id = serializers.CharField()
    operator = serializers.CharField()
    status = serializers.ChoiceField(choices=NodeStatus.values)
    attempts = serializers.IntegerField()
    queued_at = IsoDateTimeField(allow_null=True)
    started_at = IsoDateTimeField(allow_null=True)
    finished_at = IsoDateTimeField(allow_null=True)
    duration_ms = serializers.IntegerField(allow_null=True)
    rows_out = serializers.IntegerField(allow_null=True)
    cached = serializers.BooleanField()
    error = serializers.CharField()
    error_field = serializers.CharField()
    logs = serializers.ListField(child=serializers.CharField())
    outputs = serializers.SerializerMethodField()
    files = serializers.SerializerMethodField()
    source = serializers.SerializerMethodField()
    pushed_into = serializers.CharField(help_text=(
        "The node whose query, run inside a SQL database, computed this one (pushdown): it "
        "stored no output of its own. Empty when the node ran itself."))
    pushdown = serializers.SerializerMethodField()

    @extend_schema_field(PushdownOutput(allow_null=True))
    def get_pushdown(self, node: NodeRun) -> dict[str, Any] | None:
        """Where a pushed node ran, or which nodes a frontier ran inside the database; null
        for the others."""
        info = node.pushdown or {}
        if not info.get("database"):
            return None
        return {"database": info["database"], "nodes": list(info.get("nodes") or []),
                "ran": list(info.get("ran") or [])}

    @extend_schema_field(SourceReportOutput(allow_null=True))
    def get_source(self, node: NodeRun) -> dict[str, Any] | None:
        """What a source node loaded (null for other nodes, and for a replay's sources, which
        load nothing)."""
        if not node.source:
            return None
        return {name: node.source.get(name) for name in SOURCE_REPORT_FIELDS}

    @extend_schema_field({"type": "object", "additionalProperties": {
        "type": "object", "additionalProperties": True,
        "properties": {"kind": {"type": "string"}}}})
    def get_outputs(self, node: NodeRun) -> dict[str, Any]:
        """Each public port's output, without its content hash."""
        return {port: {k: v for k, v in ref.items() if k != "hash"}
                for port, ref in node.outputs.items() if not port.startswith("_")}

    @extend_schema_field(NodeFileOutput(many=True))
    def get_files(self, node: NodeRun) -> list[dict[str, Any]]:
        base = f"/api/runs/{node.run_id}/nodes/{node.node_id}"
        return [{"name": f["name"], "size": f["size"], "content_type": f["content_type"],
                 "url": f"{base}/files/{f['name']}"} for f in node.files]


class RunSummaryOutput(serializers.Serializer):
    """A run without its nodes: what the websocket's run events carry."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=RunStatus.values)
    started_at = IsoDateTimeField(allow_null=True)
    finished_at = IsoDateTimeField(allow_null=True)
    error = serializers.CharField()
    duration_ms = serializers.IntegerField(allow_null=True)
    rows_processed = serializers.IntegerField(allow_null=True)
    pipeline = serializers.UUIDField(source="pipeline_id")
    workspace = serializers.UUIDField(source="workspace_id")
    trigger = serializers.ChoiceField(choices=Trigger.values)
    created_at = IsoDateTimeField(allow_null=True)
    pipeline_name = serializers.CharField(source="pipeline.name")
    version = serializers.CharField(source="version.hash")
    created_by = serializers.SerializerMethodField()
    full_refresh = serializers.BooleanField(help_text=(
        "Sources started over, ignoring the cursors of earlier runs."))

    def get_created_by(self, run: Run) -> str | None:
        """The username of who started the run (none for a schedule or a webhook)."""
        return run.created_by.get_username() if run.created_by else None


class RunListItemOutput(RunSummaryOutput):
    """A run in the runs list: everything but its nodes."""

    seq = serializers.IntegerField(help_text="The number of the run's latest event.")
    force = serializers.BooleanField()
    datasets = ObjectField()
    replay_of = serializers.UUIDField(source="replay_of_id", allow_null=True)
    waiting_node = serializers.SerializerMethodField()

    def get_waiting_node(self, run: Run) -> str | None:
        """The action node waiting for an editor's approval, if any."""
        if hasattr(run, "waiting_node"):  # annotated by run_list: no query per row
            return run.waiting_node
        return (run.nodes.filter(status=NodeStatus.WAITING).order_by("pk")
                .values_list("node_id", flat=True).first())


class RunCallOutput(serializers.Serializer):
    pipeline = serializers.CharField()
    name = serializers.CharField()
    version = serializers.CharField(help_text="The hash of the version called.")
    number = serializers.IntegerField(help_text="That version's number (1 for the first).")
    latest = serializers.BooleanField(help_text="Whether the node calls the latest version.")


class RunOutput(RunListItemOutput):
    nodes = serializers.SerializerMethodField()
    calls = serializers.DictField(
        child=RunCallOutput(), help_text="The pipelines the run called, by calling node path "
        "(\"n7\", \"n7.n2\"): their nodes ran as \"<path>.<id>\".")

    @extend_schema_field(NodeRunOutput(many=True))
    def get_nodes(self, run: Run) -> Any:
        return NodeRunOutput(run.nodes.order_by("id"), many=True).data


class RunPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = RunListItemOutput(many=True)


# --- inputs -------------------------------------------------------------------------------------

@extend_schema_field(OpenApiTypes.BOOL)
class ExactlyTrueField(serializers.JSONField):
    """A flag that is set only by JSON ``true`` (not by "true" or 1)."""

    def to_internal_value(self, data: Any) -> bool:
        return data is True


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only: "yes", 1 or "true" are refused, not guessed at."""

    default_error_messages = {"invalid": "must be true or false (a JSON boolean)."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class RunStartInput(serializers.Serializer):
    version = serializers.CharField(required=False, allow_null=True, allow_blank=True,
                                    help_text="The hash of a version to run; the current "
                                              "one if left out.")
    force = ExactlyTrueField(required=False, help_text="Recompute every node, ignoring "
                                                       "cached outputs.")
    full_refresh = StrictBooleanField(required=False, help_text=(
        "Sources start over: each loads everything again, ignoring the cursor of earlier "
        "runs (and the cache)."))
    target = serializers.CharField(required=False, max_length=64, help_text=(
        "A node id: run only up to this node (see scope); the whole pipeline if left out."))
    scope = serializers.ChoiceField(choices=SCOPES, required=False, help_text=(
        "With target: \"upstream\" (default) runs the target and everything upstream of "
        "it; \"node\" runs the target alone, its inputs taken from cached outputs (refused "
        "when an input has none). Nothing downstream of the target runs."))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "scope" in attrs and "target" not in attrs:
            raise serializers.ValidationError({"target": ["required with scope"]})
        return attrs


class PlanInput(serializers.Serializer):
    graph = GraphField(required=False, help_text="An unsaved graph to plan; the saved one "
                                                 "if left out.")


class PlanOutput(serializers.Serializer):
    nodes = serializers.DictField(child=serializers.ChoiceField(choices=["cached", "run"]),
                                  help_text="For each node: reused from the cache, or run.")


class RunFilterQuery(serializers.Serializer):
    workspace = serializers.UUIDField(required=False)
    pipeline = serializers.UUIDField(required=False)
    status = serializers.CharField(required=False, help_text="Statuses, comma-separated.")
    trigger = serializers.ChoiceField(choices=Trigger.values, required=False)
    since = serializers.CharField(required=False, help_text="An ISO date or date-time.")
    until = serializers.CharField(required=False, help_text="An ISO date or date-time.")
    search = serializers.CharField(required=False, help_text="In the pipeline's name.")


class RunListQuery(RunFilterQuery):
    ordering = serializers.ChoiceField(
        choices=["-created_at", "created_at", "-duration_ms", "duration_ms"], required=False)
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)


class RunStatsQuery(RunFilterQuery):
    days = serializers.IntegerField(required=False, min_value=1, max_value=366)


# --- statistics and previews --------------------------------------------------------------------

class DayStatsOutput(serializers.Serializer):
    day = serializers.DateField()
    total = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    mean_duration_ms = serializers.FloatField(allow_null=True)
    success_rate = serializers.FloatField(allow_null=True)


class SlowNodeOutput(serializers.Serializer):
    node_id = serializers.CharField()
    operator = serializers.CharField()
    mean_ms = serializers.FloatField()
    max_ms = serializers.IntegerField()
    runs = serializers.IntegerField()


class RunStatsOutput(serializers.Serializer):
    days = serializers.IntegerField()
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    success_rate = serializers.FloatField(allow_null=True)
    rows_processed = serializers.IntegerField()
    duration_ms = serializers.DictField(child=serializers.FloatField(allow_null=True),
                                        help_text="Percentiles: p50, p95.")
    per_day = DayStatsOutput(many=True)
    slowest_nodes = SlowNodeOutput(many=True, required=False,
                                   help_text="With ?pipeline= only.")


class ColumnOutput(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()


class ColumnStatsOutput(ColumnOutput):
    nulls = serializers.IntegerField()
    distinct = serializers.IntegerField()
    min = serializers.JSONField(allow_null=True)
    max = serializers.JSONField(allow_null=True)
    mean = serializers.JSONField(allow_null=True)


@extend_schema_field({"type": "array", "items": {"type": "array", "items": {}}})
class RowsField(serializers.JSONField):
    """Table rows as lists of values, in the order of the columns."""


class NodePreviewOutput(serializers.Serializer):
    columns = ColumnOutput(many=True)
    rows = RowsField()
    total_rows = serializers.IntegerField()
    stats = ColumnStatsOutput(many=True)


class NodePreviewQuery(serializers.Serializer):
    port = serializers.CharField(required=False, help_text="A table output; the first if "
                                                           "left out.")
    limit = serializers.IntegerField(required=False, help_text="Rows to show (default 50).")


class NodeOutputQuery(serializers.Serializer):
    port = serializers.CharField(required=False)
    format = serializers.ChoiceField(choices=["csv", "parquet"], required=False)


class WebhookOutput(serializers.Serializer):
    url = serializers.URLField(help_text="The secret webhook URL, shown this once: POST to it "
                                         "to start a run.")
