from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class MissedPolicy(models.TextChoices):
    SKIP = "skip"          # occurrences missed while the scheduler was down are dropped
    RUN_ONCE = "run_once"  # they are caught up with a single run


class Schedule(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pipeline = models.ForeignKey("pipelines.Pipeline", on_delete=models.CASCADE,
                                 related_name="schedules")
    cron = models.CharField(max_length=100)
    timezone = models.CharField(max_length=64, default="UTC")
    enabled = models.BooleanField(default=True)
    missed_policy = models.CharField(max_length=10, choices=MissedPolicy.choices,
                                     default=MissedPolicy.SKIP)
    next_fire_at = models.DateTimeField(null=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["enabled", "next_fire_at"])]


class ScheduleFire(models.Model):
    """One occurrence fired. Unique per (schedule, time): two schedulers running at once
    still start each occurrence exactly once."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="fires")
    fire_time = models.DateTimeField()
    run = models.ForeignKey("runs.Run", null=True, on_delete=models.SET_NULL, related_name="+")
    error = models.TextField(blank=True, default="")
    # The first of the occurrences missed while no scheduler ran, collapsed into this one.
    missed_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-fire_time"]
        constraints = [models.UniqueConstraint(fields=["schedule", "fire_time"],
                                               name="one_fire_per_occurrence")]
