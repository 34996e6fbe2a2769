from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet

from datagran.core.exceptions import NotFound
from datagran.workspaces.models import Membership

from .models import NodeRun, Run


def run_list(*, user: AbstractBaseUser, workspace_id: object | None = None,
             pipeline_id: object | None = None) -> QuerySet[Run]:
    """Runs of the user's workspaces. A malformed or foreign workspace/pipeline id gives an
    empty list, never another workspace's runs."""
    qs = Run.objects.filter(workspace_id__in=Membership.objects.filter(user=user).values(
        "workspace_id"))
    try:
        if workspace_id:
            qs = qs.filter(workspace_id=uuid.UUID(str(workspace_id)))
        if pipeline_id:
            qs = qs.filter(pipeline_id=uuid.UUID(str(pipeline_id)))
    except ValueError:
        return qs.none()
    return qs.select_related("version", "pipeline", "created_by")


def run_get(*, user: AbstractBaseUser, run_id: object) -> Run:
    try:
        return run_list(user=user).get(pk=run_id)
    except (Run.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Run not found.") from None


def node_run_get(*, run: Run, node_id: str) -> NodeRun:
    try:
        return run.nodes.get(node_id=node_id)
    except NodeRun.DoesNotExist:
        raise NotFound(f"Node {node_id!r} is not part of this run.") from None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def node_json(node: NodeRun) -> dict[str, Any]:
    base = f"/api/runs/{node.run_id}/nodes/{node.node_id}"
    return {
        "node_id": node.node_id,
        "operator": node.operator,
        "status": node.status,
        "attempts": node.attempts,
        "queued_at": _iso(node.queued_at),
        "started_at": _iso(node.started_at),
        "finished_at": _iso(node.finished_at),
        "duration_ms": node.duration_ms,
        "rows_out": node.rows_out,
        "cached": node.cached,
        "error": node.error,
        "error_field": node.error_field,
        "logs": node.logs,
        "outputs": {port: {k: v for k, v in ref.items() if k != "hash"}
                    for port, ref in node.outputs.items() if not port.startswith("_")},
        "files": [{"name": f["name"], "size": f["size"], "content_type": f["content_type"],
                   "url": f"{base}/files/{f['name']}"} for f in node.files],
    }


def run_summary_json(run: Run) -> dict[str, Any]:
    return {
        "id": str(run.pk),
        "status": run.status,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "error": run.error,
        "duration_ms": run.duration_ms,
        "rows_processed": run.rows_processed,
        "pipeline": str(run.pipeline_id),
        "workspace": str(run.workspace_id),
        "trigger": run.trigger,
        "created_at": _iso(run.created_at),
        "pipeline_name": run.pipeline.name,
        "version": run.version.hash,
        "created_by": run.created_by.get_username() if run.created_by else None,
    }


def run_json(run: Run, *, with_nodes: bool = True) -> dict[str, Any]:
    data = {
        **run_summary_json(run),
        "seq": run.seq,
        "force": run.force,
        "datasets": run.datasets,
        "replay_of": str(run.replay_of_id) if run.replay_of_id else None,
    }
    if with_nodes:
        data["nodes"] = [node_json(n) for n in run.nodes.order_by("id")]
    return data


def run_snapshot(*, run_id: object) -> dict[str, Any]:
    """The whole run as one consistent read: the websocket's first message. Every state
    change locks the run row first (run_transaction), so holding that lock while reading
    makes the nodes match ``seq`` exactly: no event after it is already in the snapshot."""
    with transaction.atomic():
        run = (Run.objects.select_related("version", "created_by", "pipeline")
               .select_for_update(of=("self",)).get(pk=run_id))
        return run_json(run)
