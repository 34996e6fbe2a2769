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
from .serializers import RunOutput


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


def run_snapshot(*, run_id: object) -> dict[str, Any]:
    """The whole run as one consistent read: the websocket's first message. Every state
    change locks the run row first (run_transaction), so holding that lock while reading
    makes the nodes match ``seq`` exactly: no event after it is already in the snapshot."""
    with transaction.atomic():
        run = (Run.objects.select_related("version", "created_by", "pipeline")
               .select_for_update(of=("self",)).get(pk=run_id))
        return RunOutput(run).data
