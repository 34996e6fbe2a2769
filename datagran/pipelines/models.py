from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Pipeline(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE,
                                  related_name="pipelines")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    current_version = models.ForeignKey("PipelineVersion", null=True, on_delete=models.PROTECT,
                                        related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # SHA-256 of the secret in the pipeline's webhook URL; empty: no webhook trigger.
    webhook_token_hash = models.CharField(max_length=64, blank=True, default="")
    # Sticky notes and frames on the canvas (annotations.py): outside the graph and its hash.
    annotations = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.name


class PipelineVersion(models.Model):
    """An immutable snapshot of a pipeline's graph, identified by the hash of its canonical
    JSON. Saving a graph that already has a version reuses it."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="versions")
    hash = models.CharField(max_length=64)
    graph = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["pipeline", "hash"],
                                               name="one_version_per_graph")]


class WorkspaceTemplate(models.Model):
    """A pipeline graph saved as a template of its workspace: the gallery offers it beside
    the built-in templates (datagran/pipelines/templates/*.json). An uploaded dataset is
    named in the graph by its name ("{dataset:NAME}"), so a pipeline made from it reads that
    dataset's newest version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE,
                                  related_name="pipeline_templates")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    graph = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "name"]

    def __str__(self) -> str:
        return self.name
