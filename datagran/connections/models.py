from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Connection(models.Model):
    """Credentials for an external system. ``config`` holds the plain fields; the secret ones
    (the kind's SecretStr fields) live only in ``secrets_encrypted``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE,
                                  related_name="connections")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30)
    config = models.JSONField(default=dict)
    secrets_encrypted = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
