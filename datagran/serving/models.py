from __future__ import annotations

from django.db import models


class Deployment(models.Model):
    """How a pipeline serves online predictions: which node takes the request rows and
    which node's table is the answer."""

    pipeline = models.OneToOneField("pipelines.Pipeline", on_delete=models.CASCADE,
                                    related_name="deployment")
    enabled = models.BooleanField(default=True)
    input_node = models.CharField(max_length=64)
    output_node = models.CharField(max_length=64)
    # Fraction of requests whose rows are kept for the drift panel and the request list.
    sample_rate = models.FloatField(default=0.1)
    # Per lookup (the node whose table a join on the serving path reads from outside it):
    # "live" (read by key per request, the default where the source can) or "training" (the
    # table as the training run saw it).
    lookup_modes = models.JSONField(default=dict, blank=True)
    # How long a looked-up key's rows are reused; 0: every request reads them again.
    lookup_ttl_seconds = models.FloatField(default=0)
    # Thresholds and where to say so (datagran.serving.alerts.DEFAULTS), and each alert's
    # state: {kind: {"firing": bool, "since" | "resolved": iso time, "value": x}}.
    alerts = models.JSONField(default=dict, blank=True)
    alert_state = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)


class PredictionLog(models.Model):
    """A sampled served request. Bounded: only the newest MAX_KEPT per deployment stay."""

    MAX_KEPT = 2000

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="log")
    created_at = models.DateTimeField(auto_now_add=True)
    rows = models.IntegerField()
    latency_ms = models.FloatField()
    model_version = models.IntegerField(null=True)
    status = models.IntegerField(default=200)
    inputs = models.JSONField(default=list)   # the first rows of the request (at most 20)
    # Per live lookup: {node: {"keys": n, "hits": from the cache, "ms": time spent}}.
    lookups = models.JSONField(default=dict, blank=True)
    # Each row's answer, [prediction, probability or None]: its id is "<log id>-<row>".
    predictions = models.JSONField(default=list, blank=True)
    # Ground truth sent back (POST .../feedback/): {"<row>": label}.
    labels = models.JSONField(default=dict, blank=True)
    # The challenger's answers to the same rows, scored after the answer went:
    # {"version", "predictions": [[prediction, probability]], "ms"} (or "error").
    shadow = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["deployment", "-created_at"])]
