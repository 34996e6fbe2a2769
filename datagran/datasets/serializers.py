"""Input and output of the dataset endpoints."""
from __future__ import annotations

from rest_framework import serializers

from datagran.core.fields import IsoDateTimeField, ObjectListField


class DatasetUploadInput(serializers.Serializer):
    """Multipart form data: the file, and optionally its name and workspace."""

    # An empty file is refused by dataset_upload, with its own message.
    file = serializers.FileField(allow_empty_file=True)
    name = serializers.CharField(required=False, allow_blank=True,
                                 help_text="Defaults to the file's name.")
    workspace = serializers.CharField(required=False, help_text="A workspace id; defaults "
                                      "to the caller's personal workspace.")


class DatasetOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    format = serializers.CharField()
    columns = ObjectListField(help_text='[{"name", "type"}] of the stored table.')
    row_count = serializers.IntegerField()
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField(source="source_sha256")
    workspace = serializers.UUIDField(source="workspace_id")
    created_at = IsoDateTimeField()
