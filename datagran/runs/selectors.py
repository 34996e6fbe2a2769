from __future__ import annotations

import json
import math
import uuid
from typing import Any

import numpy as np
import pandas as pd
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery

from datagran.core.exceptions import NotFound
from datagran.workspaces.models import Membership
from operators.base import column_type

from .models import NodeRun, NodeStatus, Run
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
    waiting = NodeRun.objects.filter(run=OuterRef("pk"), status=NodeStatus.WAITING)
    return qs.select_related("version", "pipeline", "created_by").annotate(
        waiting_node=Subquery(waiting.order_by("pk").values("node_id")[:1]))


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


# --- a table output, previewed ------------------------------------------------------------

def json_number(value: Any) -> float | str | None:
    """A number as JSON can hold it: JSON has no infinities, so they are spelled as
    JavaScript spells them; NaN (the mean of inf and -inf) is no number at all."""
    value = float(value)
    if math.isfinite(value):
        return value
    return None if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"


def preview_rows(head: pd.DataFrame) -> list[list[Any]]:
    """The rows of ``head`` for JSON, infinities included (pandas would write null)."""
    infinite = [name for name in head.columns if head[name].dtype.kind == "f"
                and np.isinf(head[name].to_numpy(dtype="float64", na_value=np.nan)).any()]
    if infinite:
        head = head.assign(**{name: head[name].map(json_number, na_action="ignore")
                              .astype(object) for name in infinite})
    return json.loads(head.to_json(orient="split", date_format="iso", index=False))["data"]


def column_stats(df: pd.DataFrame) -> list[dict[str, Any]]:
    stats = []
    for name in df.columns:
        col = df[name]
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        entry: dict[str, Any] = {"name": str(name), "type": column_type(col.dtype),
                                 "nulls": int(col.isna().sum()),
                                 "distinct": int(col.nunique(dropna=True))}
        if numeric and col.notna().any():
            with np.errstate(invalid="ignore"):  # the mean of inf and -inf
                mean = col.mean()
            entry.update(min=json_number(col.min()), max=json_number(col.max()),
                         mean=json_number(mean))
        elif pd.api.types.is_datetime64_any_dtype(col) and col.notna().any():
            entry.update(min=col.min().isoformat(), max=col.max().isoformat(), mean=None)
        else:
            entry.update(min=None, max=None, mean=None)
        stats.append(entry)
    return stats
