from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class RunStatus(models.TextChoices):
    PENDING = "pending"      # waiting for a slot: the workspace runs its limit already
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class NodeStatus(models.TextChoices):
    PENDING = "pending"      # waiting for its inputs
    QUEUED = "queued"        # its message is on the broker
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"      # an upstream node failed
    CANCELLED = "cancelled"
    WAITING = "waiting"      # an action waits for an editor to approve its preview


RUN_DONE = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)
NODE_OPEN = (NodeStatus.PENDING, NodeStatus.QUEUED, NodeStatus.RUNNING, NodeStatus.WAITING)


class Trigger(models.TextChoices):
    MANUAL = "manual"
    API = "api"
    SCHEDULE = "schedule"
    WEBHOOK = "webhook"


class Run(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE,
                                  related_name="runs")
    pipeline = models.ForeignKey("pipelines.Pipeline", on_delete=models.CASCADE,
                                 related_name="runs")
    version = models.ForeignKey("pipelines.PipelineVersion", on_delete=models.PROTECT,
                                related_name="runs")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    error = models.TextField(blank=True, default="")
    # The sequence number of the last event; events are numbered 1, 2, 3... per run.
    seq = models.IntegerField(default=0)
    # Set when the run finishes, so lists sort and stats aggregate without touching NodeRun.
    duration_ms = models.IntegerField(null=True)
    rows_processed = models.BigIntegerField(default=0)
    # Recompute every node, ignoring cached outputs.
    force = models.BooleanField(default=False)
    # The dataset versions the run read: {node id: {"dataset", "hash"}}.
    datasets = models.JSONField(default=dict)
    # A replay of this run: same pipeline version, same dataset versions, same seeds.
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="replays")
    # "Full refresh": the sources start over (no cursor of an earlier run), their cache unused.
    full_refresh = models.BooleanField(default=False)
    # A version that calls pipelines runs expanded (datagran/engine/calls.py): the expanded
    # graph, and each call's pipeline and version hash by node path. Null and empty otherwise.
    graph = models.JSONField(null=True, blank=True)
    calls = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "-created_at"]),
                   models.Index(fields=["pipeline", "-created_at"]),
                   models.Index(fields=["status"]),
                   models.Index(fields=["workspace", "status", "-created_at"]),
                   models.Index(fields=["workspace", "-duration_ms"])]


class NodeRun(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="nodes")
    node_id = models.CharField(max_length=64)
    operator = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=NodeStatus.choices,
                              default=NodeStatus.PENDING)
    attempts = models.IntegerField(default=0)
    queued_at = models.DateTimeField(null=True)
    heartbeat_at = models.DateTimeField(null=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    duration_ms = models.IntegerField(null=True)
    rows_out = models.BigIntegerField(null=True)
    cached = models.BooleanField(default=False)
    cache_key = models.CharField(max_length=64, blank=True, default="")
    error = models.TextField(blank=True, default="")
    error_field = models.CharField(max_length=200, blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    logs = models.JSONField(default=list)
    # port name -> {"kind", "hash", "rows", "schema"}
    outputs = models.JSONField(default=dict)
    # [{"name", "hash", "content_type", "size"}]: files an action wrote (an export)
    files = models.JSONField(default=list)
    # The approval gate of an action: who let it send (or rejected it), and when.
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    approved_at = models.DateTimeField(null=True)
    # What a source node loaded (operators.connectors._dlt report): records, pages, new vs
    # updated, cursor before and after, columns new or gone; "state_key" and "state" (the
    # cursor the next run continues from) stay server-side. {} for other nodes.
    source = models.JSONField(default=dict)
    # source["state_key"], copied for the lookup of the latest succeeded state ("" if none).
    state_key = models.CharField(max_length=64, blank=True, default="")
    # Pushdown (datagran/engine/pushdown.py): the frontier whose database query computes
    # this node ("" if it runs itself); ``pushdown``: {"database"} on a pushed node,
    # {"database", "dialect", "connection", "nodes"} on a frontier, "not_pushed" reasons.
    pushed_into = models.CharField(max_length=64, blank=True, default="")
    pushdown = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "node_id"], name="one_noderun")]
        # status + heartbeat: the reaper; run + status: is anything of this run still open,
        # which queued node can a worker take next (a wide fan-out asks for each node);
        # state_key + node: a source's latest succeeded state (only rows that have one).
        indexes = [models.Index(fields=["status", "heartbeat_at"]),
                   models.Index(fields=["run", "status"]),
                   models.Index(fields=["state_key", "node_id"], name="noderun_state_key",
                                condition=~models.Q(state_key=""))]


class CacheEntry(models.Model):
    """A node output that can be reused: same operator, version, params and inputs."""

    key = models.CharField(max_length=64, primary_key=True)
    operator = models.CharField(max_length=100)
    outputs = models.JSONField()
    rows_out = models.BigIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(auto_now=True)


class SendLog(models.Model):
    """What an action node has sent, per record: a retry, a re-run or a replay never sends
    the same record again unless its content changed."""

    pipeline = models.ForeignKey("pipelines.Pipeline", on_delete=models.CASCADE,
                                 related_name="send_log")
    node_id = models.CharField(max_length=64)
    record_key = models.CharField(max_length=500)
    content_hash = models.CharField(max_length=64)  # of the content last sent; "" if none
    run = models.ForeignKey(Run, null=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(auto_now=True)
    # A batch being sent (recorded before the request, cleared once it is answered): the
    # content and the batch's idempotency key, so a retry sends it again the same way.
    in_flight_hash = models.CharField(max_length=64, blank=True, default="")
    in_flight_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pipeline", "node_id", "record_key"],
                                               name="one_send_per_record")]


class RunEvent(models.Model):
    """Every event sent to the browser, kept: the database is the record, the channel layer
    only a fast path that may drop messages."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    seq = models.IntegerField()
    type = models.CharField(max_length=10)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="one_event_per_seq")]
        ordering = ["seq"]

    def as_message(self) -> dict:
        return {"type": self.type, "seq": self.seq, **self.payload}
