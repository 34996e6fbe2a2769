"""Keeping the artifact store under its size limit: least recently used artifacts go first,
and never one that a registered model, an uploaded dataset, a kept or unfinished run, or a
node running now still needs.

A node records its outputs only when it finishes, so while it runs nothing in the database
names what it wrote (or found already stored: a deduplicated write marks the object used).
The collector therefore keeps every object used since the oldest running node started, and
looks at an object's last use again just before deleting it."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone

from .artifacts import artifact_store


def protected_hashes() -> set[str]:
    from datagran.registry.models import ModelVersion
    from datagran.runs.models import NodeRun, Run, RunStatus

    from .models import Dataset

    keep_since = timezone.now() - timedelta(days=settings.DATAGRAN["ARTIFACT_KEEP_DAYS"])
    latest = [r for r in (Run.objects.filter(status=RunStatus.SUCCEEDED)
                          .order_by("pipeline_id", "-created_at")
                          .distinct("pipeline_id").values_list("pk", flat=True))] \
        if _supports_distinct_on() else _latest_runs()
    unfinished = [RunStatus.PENDING, RunStatus.QUEUED, RunStatus.RUNNING]
    kept_runs = Run.objects.filter(Q(created_at__gte=keep_since) | Q(pk__in=latest)
                                   | Q(model_versions__isnull=False)
                                   | Q(status__in=unfinished)).values("pk")
    hashes = set(ModelVersion.objects.values_list("model_hash", flat=True))
    hashes |= set(Dataset.objects.values_list("table_hash", flat=True))
    for outputs, files in NodeRun.objects.filter(run__in=kept_runs).values_list("outputs",
                                                                                "files"):
        hashes |= {ref["hash"] for ref in outputs.values() if "hash" in ref}
        hashes |= {f["hash"] for f in files}
    return hashes | accumulated_hashes()


def accumulated_hashes() -> set[str]:
    """The tables incremental sources accumulated (``NodeRun.source["state"]["accumulated"]``)
    in the latest succeeded source state of each (pipeline, node): the next run merges its
    new records into it. Older states' tables are never read again."""
    from datagran.runs.models import NodeRun, RunStatus

    states = (NodeRun.objects.filter(run__status=RunStatus.SUCCEEDED).exclude(state_key="")
              .order_by("run__pipeline_id", "node_id", "-run__created_at"))
    if _supports_distinct_on():
        rows = states.distinct("run__pipeline_id", "node_id").values_list(
            "run__pipeline_id", "node_id", "source")
    else:
        rows = states.values_list("run__pipeline_id", "node_id", "source")
    latest: dict[tuple[object, str], object] = {}
    for pipeline_id, node_id, source in rows:
        latest.setdefault((pipeline_id, node_id), (source.get("state") or {}).get("accumulated"))
    return {digest for digest in latest.values() if isinstance(digest, str) and digest}


# Clocks of the store (an S3 server) and of the database may disagree by this much.
CLOCK_SLACK_SECONDS = 60


def running_since() -> float:
    """Objects used at or after this Unix time may belong to a node running now: the start
    of the oldest running node less the clock slack, or now when no node runs."""
    from datagran.runs.models import NodeRun, NodeStatus

    oldest = NodeRun.objects.filter(status=NodeStatus.RUNNING).aggregate(
        started=Min("started_at"))["started"]
    now = timezone.now().timestamp()
    return now if oldest is None else min(now, oldest.timestamp() - CLOCK_SLACK_SECONDS)


def _supports_distinct_on() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _latest_runs() -> list[object]:
    from datagran.runs.models import Run, RunStatus

    seen: dict[object, object] = {}
    for pk, pipeline_id in (Run.objects.filter(status=RunStatus.SUCCEEDED)
                            .order_by("-created_at").values_list("pk", "pipeline_id")):
        seen.setdefault(pipeline_id, pk)
    return list(seen.values())


def artifacts_gc(*, max_bytes: int | None = None, unreferenced: bool = False
                 ) -> dict[str, int]:
    """Delete artifacts, least recently used first, until the store fits ``max_bytes``
    (DATAGRAN_ARTIFACT_MAX_BYTES by default); ``unreferenced`` deletes every one nothing
    protects. Works the same on a local folder and a remote store. Returns counts and
    bytes."""
    limit = settings.DATAGRAN["ARTIFACT_MAX_BYTES"] if max_bytes is None else max_bytes
    store = artifact_store()
    recent = running_since()  # before listing: a node starting later uses objects after it
    found = list(store.artifacts())
    total = sum(a.size for a in found)
    keep = protected_hashes()
    candidates = sorted((a for a in found if a.hash not in keep and a.used < recent),
                        key=lambda a: a.used)
    deleted = freed = 0
    for artifact in candidates:
        if not unreferenced and (not limit or total - freed <= limit):
            break
        used = store.last_used(artifact.ref)
        if used is None or used >= recent:
            continue  # gone, or written or reused since the listing
        store.delete(artifact.ref)
        deleted, freed = deleted + 1, freed + artifact.size
    return {"files": len(found), "bytes": total, "deleted": deleted, "freed": freed,
            "protected": len(found) - len(candidates)}
