"""Batch scoring from the deploy page: the pipelines that score whole tables with this
deployment (a ``model.score_deployment`` node naming it), and a new one made in one step:
the rows to score (the serving input's source read afresh, or a saved dataset) → the
deployment's scores → an action (a CSV export to start with; the user swaps in a CRM upsert
or a SQL table in the editor), run on a schedule, paused until the user turns it on."""
from __future__ import annotations

import copy
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from datagran.core.exceptions import FieldError
from datagran.pipelines.models import Pipeline
from datagran.pipelines.services import pipeline_create
from datagran.runs.models import NodeRun, Run
from datagran.schedules.models import Schedule
from datagran.schedules.services import cron_check, schedule_save
from datagran.workspaces.services import audit_record

from .services import deployment_for, serving_graph

SCORE_OPERATOR = "model.score_deployment"
NIGHTLY = "0 2 * * *"
MAX_LISTED = 50


def scoring_pipelines(*, pipeline: Pipeline) -> list[dict[str, Any]]:
    """The workspace's pipelines whose current version scores with this one, newest first,
    each with its schedule and last run."""
    found = []
    candidates = (Pipeline.objects.filter(workspace_id=pipeline.workspace_id)
                  .exclude(pk=pipeline.pk).select_related("current_version"))
    for other in candidates:
        graph = other.current_version.graph if other.current_version else {}
        if any(n.get("operator") == SCORE_OPERATOR
               and (n.get("params") or {}).get("pipeline") == pipeline.name
               for n in graph.get("nodes", [])):
            found.append(other)
        if len(found) == MAX_LISTED:
            break
    return [{"id": p.pk, "name": p.name, "schedule": Schedule.objects.filter(
                pipeline=p).order_by("created_at").first(), "last_run": _last_run(p)}
            for p in found]


def _last_run(pipeline: Pipeline) -> dict[str, Any] | None:
    run = Run.objects.filter(pipeline=pipeline).order_by("-created_at").first()
    if run is None:
        return None
    scored = NodeRun.objects.filter(run=run, operator=SCORE_OPERATOR).values_list(
        "rows_out", flat=True).first()
    return {"id": run.pk, "status": run.status, "created_at": run.created_at,
            "rows_scored": scored}


def scoring_pipeline_create(*, pipeline: Pipeline, user: AbstractBaseUser, source: str,
                            dataset: str | None = None, cron: str = NIGHTLY,
                            timezone: str = "UTC", enabled: bool = False) -> dict[str, Any]:
    """A new pipeline scoring ``source`` ("input": the serving input node, read afresh;
    "dataset": a saved dataset) with this deployment into a CSV export, and its schedule."""
    cron_check(cron=cron, tz=timezone)  # refused now even though it starts paused
    deployment = deployment_for(pipeline=pipeline)
    graph = serving_graph(pipeline)
    if source == "input":
        node = graph.node(deployment.input_node)
        if graph.incoming(node.id):
            message = (f"source: the serving input {node.id} is not a source node (it has "
                       f"inputs), so it cannot be read alone; score a saved dataset instead.")
            raise FieldError(message, {"source": [message]})
        rows = copy.deepcopy(node.model_dump(mode="json", exclude_none=True))
        rows["id"] = "rows"
    elif source == "dataset":
        if not dataset:
            message = "dataset: choose the saved dataset to score."
            raise FieldError(message, {"dataset": [message]})
        rows = {"id": "rows", "operator": "connector.upload", "params": {"dataset": dataset}}
    else:
        message = 'source: "input" (the serving input\'s source) or "dataset".'
        raise FieldError(message, {"source": [message]})
    rows["position"] = {"x": 0, "y": 120}
    new_graph = {"nodes": [
        rows,
        {"id": "score", "operator": SCORE_OPERATOR, "params": {"pipeline": pipeline.name},
         "position": {"x": 280, "y": 120}},
        {"id": "send", "operator": "action.export_file",
         "params": {"format": "csv", "filename": _filename(pipeline.name)},
         "position": {"x": 560, "y": 120}}],
        "edges": [
            {"source": "rows", "source_port": "table", "target": "score", "target_port": "table"},
            {"source": "score", "source_port": "table", "target": "send",
             "target_port": "table"}]}
    with transaction.atomic():
        scoring = pipeline_create(
            workspace=pipeline.workspace, user=user, name=f"{pipeline.name[:180]} · batch scores",
            description=f"Scores every row with the production model of “{pipeline.name}” "
                        f"(its deployment, as online requests are scored) and exports them. "
                        f"Replace the export with a CRM upsert or a SQL table as needed.",
            graph=new_graph)
        schedule = schedule_save(pipeline=scoring, user=user, cron=cron, tz=timezone,
                                 enabled=enabled)
        audit_record(workspace_id=pipeline.workspace_id, actor=user,
                     action="deployment.batch_scoring", target=pipeline.name,
                     pipeline=scoring.name, cron=cron, enabled=enabled)
    return {"id": scoring.pk, "name": scoring.name, "schedule": schedule, "last_run": None}


def _filename(name: str) -> str:
    kept = "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")
    return (kept[:60] or "scores") + "_scores"
