from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Dataset(models.Model):
    """An uploaded file, kept as Parquet in the artifact store under its content hash."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE,
                                  related_name="datasets")
    name = models.CharField(max_length=255)
    format = models.CharField(max_length=10)
    source_sha256 = models.CharField(max_length=64)
    table_hash = models.CharField(max_length=64)
    columns = models.JSONField(default=list)
    row_count = models.IntegerField()
    size_bytes = models.BigIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
