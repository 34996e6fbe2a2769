from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from datagran.core.exceptions import GraphError
from datagran.engine.calls import validate
from datagran.engine.graph import Graph, InvalidGraph, graph_hash, parse_graph
from datagran.workspaces.models import Workspace
from datagran.workspaces.services import audit_record

from .calls import call_resolver, refuse_if_called
from .models import Pipeline, PipelineVersion
from .validation import validation_context

ERR_INVALID_GRAPH = "The pipeline graph is invalid; nothing was saved."


def graph_check(*, workspace: Workspace, raw: Any, pipeline: Pipeline | None = None) -> Graph:
    """Parse and validate a graph (of ``pipeline``, when it exists: a call back to it is a
    cycle); raise a 400 listing every problem by node and field."""
    try:
        graph = parse_graph(raw)
    except InvalidGraph as exc:
        raise GraphError(ERR_INVALID_GRAPH, exc.errors) from None
    root = (str(pipeline.pk), pipeline.name) if pipeline is not None else None
    result = validate(graph, validation_context(workspace), call_resolver(workspace.pk), root)
    if not result.valid:
        raise GraphError(f"{ERR_INVALID_GRAPH} {result.errors[0].message}",
                         [e.as_json() for e in result.errors])
    return graph


def _version_for(*, pipeline: Pipeline, graph: Graph,
                 user: AbstractBaseUser | None) -> PipelineVersion:
    version, _ = PipelineVersion.objects.get_or_create(
        pipeline=pipeline, hash=graph_hash(graph),
        defaults={"graph": graph.model_dump(mode="json"), "created_by": user})
    return version


@transaction.atomic
def pipeline_create(*, workspace: Workspace, user: AbstractBaseUser | None, name: str,
                    description: str = "", graph: Any = None) -> Pipeline:
    checked = graph_check(workspace=workspace, raw=graph or {"nodes": [], "edges": []})
    pipeline = Pipeline.objects.create(workspace=workspace, name=name, description=description,
                                       created_by=user)
    pipeline.current_version = _version_for(pipeline=pipeline, graph=checked, user=user)
    pipeline.save(update_fields=["current_version"])
    return pipeline


@transaction.atomic
def pipeline_update(*, pipeline: Pipeline, user: AbstractBaseUser | None,
                    name: str | None = None, description: str | None = None,
                    graph: Any = None) -> Pipeline:
    """Change name, description and/or graph. An invalid graph raises before anything is
    written, so the saved version stays intact. Only the fields given are written: a column
    changed meanwhile by someone else (a webhook secret revoked, say) keeps its new value."""
    checked = (graph_check(workspace=pipeline.workspace, raw=graph, pipeline=pipeline)
               if graph is not None else None)
    changed = ["updated_at"]
    if name is not None:
        pipeline.name = name
        changed.append("name")
    if description is not None:
        pipeline.description = description
        changed.append("description")
    if checked is not None:
        pipeline.current_version = _version_for(pipeline=pipeline, graph=checked, user=user)
        changed.append("current_version")
    pipeline.save(update_fields=changed)
    return pipeline


def pipeline_delete(*, pipeline: Pipeline, by: AbstractBaseUser | None = None) -> None:
    """Refused while another pipeline of the workspace calls it (their names said)."""
    refuse_if_called(pipeline)
    with transaction.atomic():
        audit_record(workspace_id=pipeline.workspace_id, actor=by, action="pipeline.delete",
                     target=pipeline.name)
        Pipeline.objects.filter(pk=pipeline.pk).update(current_version=None)
        # Its runs go with it (Run.pipeline cascades), but first: each run protects the
        # version it ran (Run.version), which the pipeline's deletion would otherwise refuse.
        pipeline.runs.all().delete()
        pipeline.delete()
