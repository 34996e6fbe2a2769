"""Input and output of the model registry endpoints."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datagran.core.fields import IsoDateTimeField, ObjectField, ObjectListField
from datagran.core.parsers import JSONRefused, json_loads

from .models import ModelVersion, RegisteredModel
from .selectors import version_lineage

LINEAGE_KINDS = ["model_version", "run", "dataset", "output"]
REQUIRED = {"required": "required.", "blank": "required.", "null": "required."}


class VersionOutput(serializers.Serializer):
    """A model version: what trained it, on what data, how well it did."""

    version = serializers.IntegerField()
    source = serializers.CharField(help_text="pipeline or import")
    task = serializers.CharField()
    algorithm = serializers.CharField()
    target = serializers.CharField()
    features = ObjectListField(help_text='The input schema the model expects: [{"name", '
                                         '"type"}].')
    classes = serializers.ListField(child=serializers.JSONField())
    metrics = ObjectField()
    params = ObjectField()
    training_data = ObjectField(help_text='{"hash", "rows", "schema"}')
    environment = ObjectField()
    aliases = serializers.SerializerMethodField()
    pipeline = serializers.UUIDField(source="pipeline_id", allow_null=True)
    pipeline_version = serializers.CharField(source="pipeline_version.hash", allow_null=True,
                                             default=None)
    run = serializers.UUIDField(source="run_id", allow_null=True)
    node_id = serializers.CharField()
    operator = serializers.CharField()
    operator_version = serializers.CharField()
    code_reference = serializers.CharField()
    data_description = serializers.CharField()
    model_hash = serializers.CharField()
    created_by = serializers.CharField(source="created_by.get_username", allow_null=True,
                                       default=None)
    created_at = IsoDateTimeField()

    def get_aliases(self, version: ModelVersion) -> list[str]:
        return [alias.name for alias in version.aliases.all()]


class ModelImportOutput(VersionOutput):
    model = serializers.UUIDField(source="registered_model_id")


class LineageNodeOutput(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=LINEAGE_KINDS)
    label = serializers.CharField()
    status = serializers.CharField(required=False, help_text="A run's status.")
    operator = serializers.CharField(required=False)
    node_id = serializers.CharField(required=False, help_text="A pipeline node's id (the "
                                    "label is its name).")


class LineageEdgeOutput(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()


class LineageOutput(serializers.Serializer):
    nodes = LineageNodeOutput(many=True)
    edges = LineageEdgeOutput(many=True)


class VersionDetailOutput(VersionOutput):
    evaluation = ObjectField(help_text='What the version page draws: {"confusion": '
                             '{"labels", "counts"}, "importances": [{"feature", '
                             '"importance"}], "curves": {"roc"|"pr": {"points": [[x, y]], '
                             '"area"}}}; only what its node output.')
    lineage = serializers.SerializerMethodField(
        help_text="Datasets → run → this version → the nodes that used it.")

    @extend_schema_field(LineageOutput)
    def get_lineage(self, version: ModelVersion) -> dict[str, Any]:
        return LineageOutput(version_lineage(version)).data


class ModelOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    workspace = serializers.UUIDField(source="workspace_id")
    description = serializers.CharField()
    pipeline = serializers.UUIDField(source="pipeline_id", allow_null=True,
                                     help_text="The pipeline whose model node trains it "
                                               "(none for an imported model).")
    node_id = serializers.CharField()
    aliases = serializers.SerializerMethodField()
    latest = serializers.SerializerMethodField()
    version_count = serializers.SerializerMethodField()

    def get_aliases(self, model: RegisteredModel) -> dict[str, int]:
        return {alias.name: alias.version.version for alias in model.aliases.all()}

    @extend_schema_field(VersionOutput(allow_null=True))
    def get_latest(self, model: RegisteredModel) -> dict[str, Any] | None:
        versions = model.versions.all()
        return VersionOutput(versions[0]).data if versions else None

    def get_version_count(self, model: RegisteredModel) -> int:
        return len(model.versions.all())


class ModelDetailOutput(ModelOutput):
    versions = VersionOutput(many=True, source="versions.all")


class AliasInput(serializers.Serializer):
    alias = serializers.CharField(max_length=50)
    version = serializers.IntegerField(min_value=1)


@extend_schema_field({"type": "string", "description": "A JSON object, as text."})
class JSONObjectTextField(serializers.Field):
    """A JSON object sent as the text of a form field (multipart bodies carry no JSON)."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        try:
            value = json_loads(data) if isinstance(data, str) else data
        except JSONRefused as exc:
            raise serializers.ValidationError(str(exc)) from None
        except ValueError as exc:  # not JSON, or an integer of more digits than Python reads
            raise serializers.ValidationError(
                f"not valid JSON ({getattr(exc, 'msg', exc)}).") from None
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object.")
        return value

    def to_representation(self, value: Any) -> Any:
        return value


class ModelImportInput(serializers.Serializer):
    """Multipart form data: a skops file of a fitted scikit-learn estimator and what is
    known about it."""

    file = serializers.FileField(allow_empty_file=True, error_messages=REQUIRED)
    # Lengths are checked as the model is saved, in the words every stored name gets.
    name = serializers.CharField(error_messages=REQUIRED)
    workspace = serializers.CharField(required=False, help_text="A workspace id; defaults "
                                      "to the caller's personal workspace.")
    target = serializers.CharField(required=False, allow_blank=True, default="")
    code_reference = serializers.CharField(required=False, allow_blank=True, default="")
    data_description = serializers.CharField(required=False, allow_blank=True, default="")
    params = JSONObjectTextField(required=False, default=dict)
    metrics = JSONObjectTextField(required=False, default=dict)


class PairOutput(serializers.Serializer):
    a = serializers.JSONField(allow_null=True)
    b = serializers.JSONField(allow_null=True)


class TrainingDataCompareOutput(serializers.Serializer):
    same_data = serializers.BooleanField()
    rows = PairOutput()
    columns_added = serializers.ListField(child=serializers.CharField())
    columns_removed = serializers.ListField(child=serializers.CharField())
    type_changes = serializers.DictField(child=PairOutput())


class CompareOutput(serializers.Serializer):
    """Metrics side by side, the params that differ, and how the training data differs."""

    a = serializers.IntegerField()
    b = serializers.IntegerField()
    metrics = serializers.DictField(child=PairOutput())
    params = serializers.DictField(child=PairOutput())
    training_data = TrainingDataCompareOutput()
