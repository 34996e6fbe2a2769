from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Dataset(models.Model):
    """One version of an uploaded file, kept as Parquet in the artifact store under its
    content hash. A dataset is its name in a workspace; each upload of changed content under
    that name is a new row with the next ``version``. Rows are never changed afterwards, so a
    node that names a row's id reads the same data for ever (it pins that version)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE,
                                  related_name="datasets")
    name = models.CharField(max_length=255)
    version = models.PositiveIntegerField(default=1)
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
        constraints = [models.UniqueConstraint(fields=["workspace", "name", "version"],
                                               name="one_dataset_version_per_number")]


class DatasetProfile(models.Model):
    """Column statistics of a stored table, computed once per content hash (versions and
    datasets with the same content share it)."""

    table_hash = models.CharField(max_length=64, primary_key=True)
    columns = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
