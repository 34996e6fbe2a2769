from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import OuterRef, QuerySet, Subquery

from datagran.core.exceptions import NotFound

from .models import Pipeline


def pipeline_list(*, user: AbstractBaseUser, workspace_id: object | None = None
                  ) -> QuerySet[Pipeline]:
    qs = Pipeline.objects.filter(workspace__memberships__user=user).select_related(
        "current_version", "workspace")
    if workspace_id:
        qs = qs.filter(workspace_id=workspace_id)
    return qs


def pipeline_list_with_last_run(*, user: AbstractBaseUser, workspace_id: object | None = None
                                ) -> QuerySet[Pipeline]:
    """The pipelines with their latest run's id, status and time (``last_run_id``,
    ``last_run_status``, ``last_run_at``) in the same query, however many runs they have."""
    from datagran.runs.models import Run

    latest = Run.objects.filter(pipeline=OuterRef("pk")).order_by("-created_at", "-id")
    return pipeline_list(user=user, workspace_id=workspace_id).annotate(
        **{f"last_run_{name}": Subquery(latest.values(field)[:1])
           for name, field in (("id", "id"), ("status", "status"), ("at", "created_at"))})


def pipeline_get(*, user: AbstractBaseUser, pipeline_id: object) -> Pipeline:
    """A pipeline of one of the user's workspaces; anything else is not found."""
    try:
        return pipeline_list(user=user).get(pk=pipeline_id)
    except (Pipeline.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Pipeline not found.") from None


def json_strings(value: Any) -> Iterable[str]:
    """Every string inside a JSON value (a graph's params), at any depth."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from json_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from json_strings(v)


def pipelines_naming(*, workspace_id: object, ids: Iterable[str] | None = None
                     ) -> dict[str, list[dict[str, str]]]:
    """id → the pipelines ({"id", "name"}, by name) whose current version has a node whose
    params name it, at any depth: what uses a connection or a dataset. Ids are UUIDs, so a
    param equal to one is a reference to it. ``ids`` narrows the answer."""
    wanted = None if ids is None else set(ids)
    usage: dict[str, list[dict[str, str]]] = {}
    pipelines = (Pipeline.objects.filter(workspace_id=workspace_id)
                 .exclude(current_version=None).order_by("name")
                 .values_list("pk", "name", "current_version__graph"))
    for pk, name, graph in pipelines:
        nodes = (graph or {}).get("nodes") or []
        named = set(json_strings([n.get("params") for n in nodes if isinstance(n, dict)]))
        for found in named if wanted is None else named & wanted:
            usage.setdefault(found, []).append({"id": str(pk), "name": name})
    return usage
