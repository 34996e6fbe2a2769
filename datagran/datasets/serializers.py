"""Input and output of the dataset endpoints."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datagran.core.fields import IsoDateTimeField, ObjectListField

from .profile import PREVIEW_MAX_ROWS


class DatasetUploadInput(serializers.Serializer):
    """Multipart form data: the file, and optionally its name and workspace."""

    # An empty file is refused by dataset_upload, with its own message.
    file = serializers.FileField(allow_empty_file=True)
    name = serializers.CharField(required=False, allow_blank=True,
                                 help_text="Defaults to the file's name. An upload under the "
                                 "name of a dataset is its next version.")
    workspace = serializers.CharField(required=False, help_text="A workspace id; defaults "
                                      "to the caller's personal workspace.")


class DatasetPipelineOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class DatasetOutput(serializers.Serializer):
    """One version of a dataset (the datasets of a workspace are its names)."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    version = serializers.IntegerField(help_text="1 for a name's first upload, then 2, 3, ...")
    latest = serializers.SerializerMethodField(help_text="Whether this is the name's newest "
                                               "version.")
    format = serializers.CharField()
    columns = ObjectListField(help_text='[{"name", "type"}] of the stored table.')
    row_count = serializers.IntegerField()
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField(source="source_sha256")
    workspace = serializers.UUIDField(source="workspace_id")
    created_at = IsoDateTimeField()
    created_by = serializers.SerializerMethodField()
    used_by = serializers.SerializerMethodField(
        help_text="The pipelines whose current version reads this version.")

    @extend_schema_field(serializers.BooleanField())
    def get_latest(self, obj: Any) -> bool:
        latest = self.context.get("latest")
        return True if latest is None else latest.get(obj.name) == obj.version

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_created_by(self, obj: Any) -> str | None:
        return obj.created_by.get_username() if obj.created_by_id else None

    @extend_schema_field(DatasetPipelineOutput(many=True))
    def get_used_by(self, obj: Any) -> list[dict[str, str]]:
        return list(self.context.get("usage", {}).get(str(obj.pk), []))


class DatasetUploadOutput(DatasetOutput):
    unchanged = serializers.BooleanField(
        help_text="The latest version of this name already had these bytes: no new version "
                  "was made (answered 200; a new version is 201).")


class DatasetDeleteQuery(serializers.Serializer):
    all_versions = serializers.BooleanField(
        default=False, help_text="Delete every version of the dataset's name, not only this one.")


class DatasetDeleteOutput(serializers.Serializer):
    deleted = serializers.IntegerField(help_text="Versions deleted.")


class DatasetPreviewQuery(serializers.Serializer):
    rows = serializers.IntegerField(default=50, min_value=1, max_value=PREVIEW_MAX_ROWS)


class DatasetPreviewOutput(serializers.Serializer):
    columns = ObjectListField(help_text='[{"name", "type"}]')
    rows = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()),
                                 help_text="The first rows, each a list in column order.")
    row_count = serializers.IntegerField(help_text="Rows in the whole table.")


class DatasetTopValueOutput(serializers.Serializer):
    value = serializers.CharField()
    count = serializers.IntegerField()


class DatasetColumnStatsOutput(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    nulls = serializers.IntegerField()
    distinct = serializers.IntegerField()
    min = serializers.JSONField(allow_null=True, help_text="Numbers and times only.")
    max = serializers.JSONField(allow_null=True)
    mean = serializers.JSONField(allow_null=True, help_text="Numbers only.")
    top = DatasetTopValueOutput(many=True,
                                help_text="The most frequent values of text and booleans.")


class DatasetStatsOutput(serializers.Serializer):
    row_count = serializers.IntegerField()
    columns = DatasetColumnStatsOutput(many=True)
