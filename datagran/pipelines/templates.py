"""The template gallery: the built-in templates (the JSON files in ./templates/) and a
workspace's own (WorkspaceTemplate), and making a pipeline from either.

A template's graph is a pipeline graph whose params may hold two kinds of placeholder, each
a whole string:

- ``"{connection:KIND}"``: a connection of that kind in the workspace (``sql``: any SQL
  database: PostgreSQL, MySQL/MariaDB, SQLite or a SQLAlchemy URL). The request names one
  (``connections: {KIND: id}``), or the workspace's only connection of that kind is used.
- ``"{dataset:NAME}"``: the newest version of the workspace's uploaded dataset NAME. Saving a
  pipeline as a template writes its Uploaded-file nodes this way.

Either one missing refuses the request (400, naming it) before anything is written. The
resolved graph is then saved as every graph is (pipeline_create validates it)."""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from datagran.connections.models import Connection
from datagran.core.exceptions import FieldError, GraphError, NotFound
from datagran.datasets.models import Dataset
from datagran.datasets.services import dataset_latest
from datagran.engine.graph import InvalidGraph, parse_graph
from datagran.schedules.services import fire_times, schedule_save
from datagran.workspaces.models import Role, Workspace
from datagran.workspaces.selectors import role_check
from datagran.workspaces.services import audit_record
from operators.connections import KINDS
from operators.connectors._sql import SQL_KINDS
from operators.registry import UnknownOperator, get_operator

from .models import Pipeline, WorkspaceTemplate
from .selectors import json_strings
from .services import ERR_INVALID_GRAPH, graph_check, pipeline_create

TEMPLATES_DIR = Path(__file__).with_name("templates")
MAX_NAME = 200  # Pipeline.name and WorkspaceTemplate.name
MAX_DESCRIPTION = 10_000  # as a pipeline's (serializers.MAX_DESCRIPTION)
MAX_WORKSPACE_TEMPLATES = 200
MAX_CONNECTION_CHOICES = 20

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
CONNECTION = re.compile(r"\{connection:([a-z_]+)\}")
DATASET = re.compile(r"\{dataset:(.+)\}", re.DOTALL)
NONE = "none"  # a built-in template's "needs" when it needs no connection

# What the gallery calls each need, and the connection kinds that meet it.
_LABELS = {
    "sql": "SQL database", "postgresql": "PostgreSQL", "mysql": "MySQL / MariaDB",
    "sqlite": "SQLite", "http": "HTTP API", "hubspot": "HubSpot", "salesforce": "Salesforce",
    "webhook": "Webhook", "stripe": "Stripe", "shopify": "Shopify",
    "google_sheets": "Google Sheets", "zendesk": "Zendesk", "mailchimp": "Mailchimp",
    "files": "Files", "sqlalchemy": "SQL database (SQLAlchemy URL)",
}
NEEDS: dict[str, tuple[str, ...]] = {"sql": tuple(SQL_KINDS), **{k: (k,) for k in KINDS}}

ERR_NOT_FOUND = "Template not found."
ERR_NEEDS_ONE = ("connections.{need}: this template needs a {label} connection and this "
                 "workspace has none: add one under Connections first. Nothing was created.")
ERR_SEVERAL = ("connections.{need}: this workspace has {count} {label} connections: choose "
               "one. Nothing was created.")
ERR_NOT_A_CONNECTION = ("connections.{need}: no {label} connection with this id in this "
                        "workspace. Nothing was created.")
ERR_UNWANTED = "connections.{need}: this template has no {need} connection to choose."
ERR_TOO_MANY_CHOICES = "connections: at most {limit} entries; this request has {count}."
ERR_DATASET = ("datasets: this template reads the uploaded dataset {name!r}, which this "
               "workspace does not have: upload it on the Datasets page first. Nothing was "
               "created.")
ERR_CONNECTION_GONE = "{field}: connection {value!r} is not a {kinds} connection of this workspace."
ERR_LIMIT = ("workspace: a workspace holds at most {limit} templates and this one has "
             "{count}: delete one first.")
ERR_EMPTY = "graph: the pipeline has no nodes: there is nothing to save as a template."
ERR_BUILTIN_DELETE = "template: {slug!r} is a built-in template: it cannot be deleted."
ERR_OTHER_WORKSPACE = ("workspace: a workspace's template makes pipelines in that workspace "
                       "only.")


def need_label(need: str) -> str:
    return _LABELS.get(need, need.replace("_", " ").title())


# --- placeholders -------------------------------------------------------------------------------

def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, change) for v in value]
    return value


def _params_strings(graph: dict[str, Any]) -> Iterator[str]:
    """Every string in the params of the graph's nodes, at any depth."""
    for node in graph.get("nodes") or []:
        if isinstance(node, dict):
            yield from json_strings(node.get("params"))


def graph_needs(graph: dict[str, Any]) -> list[str]:
    """The connection kinds a template's graph asks for ("{connection:KIND}"), sorted."""
    return sorted({m.group(1) for s in _params_strings(graph)
                   if (m := CONNECTION.fullmatch(s))})


def graph_datasets(graph: dict[str, Any]) -> list[str]:
    """The uploaded datasets a template's graph reads by name ("{dataset:NAME}"), sorted."""
    return sorted({m.group(1) for s in _params_strings(graph) if (m := DATASET.fullmatch(s))})


def _substitute(graph: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The graph with each placeholder of ``values`` in its nodes' params replaced."""
    nodes = [{**n, "params": _map_strings(n.get("params") or {},
                                           lambda s: values.get(s, s))}
             if isinstance(n, dict) else n for n in graph.get("nodes") or []]
    return {**graph, "nodes": nodes}


# --- built-in templates ---------------------------------------------------------------------------

@dataclass(frozen=True)
class BuiltinTemplate:
    slug: str
    name: str
    description: str
    needs: tuple[str, ...]
    graph: dict[str, Any] = field(hash=False, compare=False)
    trigger: dict[str, str] | None = field(default=None, hash=False, compare=False)


_KEYS = {"slug", "name", "description", "needs", "graph"}


def _load(path: Path) -> BuiltinTemplate:
    def bad(problem: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(f"Pipeline template {path.name}: {problem}")

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise bad(f"not JSON ({exc})") from None
    if not isinstance(raw, dict) or not _KEYS <= raw.keys() <= _KEYS | {"trigger"}:
        raise bad(f"it must be an object with the keys {sorted(_KEYS)} (and maybe trigger)")
    if raw["slug"] != path.stem or not SLUG.fullmatch(raw["slug"]):
        raise bad("its slug must be its file name, in lower case words joined by '-'")
    for key, limit in (("name", MAX_NAME), ("description", MAX_DESCRIPTION)):
        if not isinstance(raw[key], str) or not 0 < len(raw[key].strip()) <= limit:
            raise bad(f"{key} must be text of 1 to {limit} characters")
    try:
        parse_graph(raw["graph"])
    except InvalidGraph as exc:
        raise bad(f"its graph is malformed: {exc}") from None
    needs = raw["needs"]
    if needs == [NONE]:
        needs = []
    elif (not isinstance(needs, list) or not needs or len(set(needs)) != len(needs)
          or any(n not in NEEDS for n in needs)):
        raise bad(f"needs must be [\"{NONE}\"] or connection kinds of {sorted(NEEDS)}")
    if sorted(needs) != graph_needs(raw["graph"]):
        raise bad(f"needs {sorted(needs)} differ from the graph's connection placeholders "
                  f"{graph_needs(raw['graph'])}")
    trigger = raw.get("trigger")
    if trigger is not None and trigger not in ({"kind": "webhook"},) and not (
            isinstance(trigger, dict) and trigger.keys() == {"kind", "cron"}
            and trigger["kind"] == "schedule" and isinstance(trigger["cron"], str)):
        raise bad('trigger must be {"kind": "webhook"} or {"kind": "schedule", "cron": "..."}')
    if trigger is not None and trigger["kind"] == "schedule":
        try:
            fire_times(cron=trigger["cron"], tz="UTC", after=timezone.now(), count=1)
        except FieldError as exc:
            raise bad(f"its trigger's cron: {exc.message}") from None
    return BuiltinTemplate(slug=raw["slug"], name=raw["name"], description=raw["description"],
                           needs=tuple(sorted(needs)), graph=raw["graph"], trigger=trigger)


@functools.cache
def builtin_templates() -> tuple[BuiltinTemplate, ...]:
    """Every built-in template, in the order of their file names (read once per process)."""
    return tuple(_load(path) for path in sorted(TEMPLATES_DIR.glob("*.json")))


def builtin_get(slug: str) -> BuiltinTemplate | None:
    return next((t for t in builtin_templates() if t.slug == slug), None)


# --- the gallery --------------------------------------------------------------------------------

def _outline(graph: dict[str, Any]) -> dict[str, Any]:
    """What the gallery draws: each node's operator, label and position, and the edges."""
    nodes = [{"id": n.get("id", ""), "operator": n.get("operator", ""),
              "label": n.get("label") or "", "position": n.get("position") or {"x": 0, "y": 0}}
             for n in graph.get("nodes") or [] if isinstance(n, dict)]
    edges = [{"source": e.get("source", ""), "target": e.get("target", "")}
             for e in graph.get("edges") or [] if isinstance(e, dict)]
    return {"nodes": nodes, "edges": edges}


def _needs_out(needs: Iterable[str]) -> list[dict[str, Any]]:
    return [{"kind": n, "label": need_label(n), "kinds": list(NEEDS.get(n, (n,)))}
            for n in needs]


def builtin_out(template: BuiltinTemplate) -> dict[str, Any]:
    return {"id": template.slug, "kind": "builtin", "name": template.name,
            "description": template.description, "needs": _needs_out(template.needs),
            "datasets": graph_datasets(template.graph), "trigger": template.trigger,
            "graph": _outline(template.graph), "created_by": None, "created_at": None}


def workspace_template_out(template: WorkspaceTemplate) -> dict[str, Any]:
    return {"id": str(template.pk), "kind": "workspace", "name": template.name,
            "description": template.description,
            "needs": _needs_out(graph_needs(template.graph)),
            "datasets": graph_datasets(template.graph), "trigger": None,
            "graph": _outline(template.graph),
            "created_by": template.created_by.get_username() if template.created_by else None,
            "created_at": template.created_at}


def template_list(*, workspace: Workspace) -> list[dict[str, Any]]:
    """The built-in templates, then the workspace's own, newest first."""
    own = WorkspaceTemplate.objects.filter(workspace=workspace).select_related("created_by")
    return [*(builtin_out(t) for t in builtin_templates()),
            *(workspace_template_out(t) for t in own)]


def template_get(*, user: AbstractBaseUser, template_id: str
                 ) -> BuiltinTemplate | WorkspaceTemplate:
    """A built-in template by slug, or a template of one of the user's workspaces by id;
    anything else is not found."""
    builtin = builtin_get(template_id)
    if builtin is not None:
        return builtin
    try:
        return WorkspaceTemplate.objects.select_related("workspace").get(
            pk=template_id, workspace__memberships__user=user)
    except (WorkspaceTemplate.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound(ERR_NOT_FOUND) from None


# --- making a pipeline ----------------------------------------------------------------------------

def _connection_choice(*, workspace: Workspace, need: str, chosen: str | None) -> str:
    label, kinds = need_label(need), NEEDS.get(need, (need,))
    candidates = Connection.objects.filter(workspace=workspace, kind__in=kinds)
    if chosen is not None:
        try:
            found = candidates.filter(pk=chosen).first()
        except (ValueError, DjangoValidationError):
            found = None
        if found is None:
            message = ERR_NOT_A_CONNECTION.format(need=need, label=label)
            raise FieldError(message, {f"connections.{need}": [message]})
        return str(found.pk)
    ids = [str(pk) for pk in candidates.order_by("name").values_list("pk", flat=True)[:10]]
    if len(ids) != 1:
        message = (ERR_NEEDS_ONE.format(need=need, label=label) if not ids else
                   ERR_SEVERAL.format(need=need, label=label, count=len(ids)))
        raise FieldError(message, {f"connections.{need}": [message]})
    return ids[0]


@functools.cache
def _connection_params(operator: str) -> dict[str, tuple[str, ...]]:
    """The params of an operator that name a connection, and the kinds each takes."""
    try:
        schema = get_operator(operator).Params.model_json_schema()
    except UnknownOperator:
        return {}
    found = {}
    for name, prop in (schema.get("properties") or {}).items():
        kinds = prop.get("x-connection") if isinstance(prop, dict) else None
        if kinds:
            found[name] = tuple([kinds] if isinstance(kinds, str) else kinds)
    return found


def _refuse_foreign_connections(*, workspace: Workspace, graph: dict[str, Any]) -> None:
    """Every connection a node names must be one of the workspace's, of a kind the node
    takes: a template saved before its connection was deleted is refused, naming the node,
    rather than made into a pipeline that fails when it runs."""
    kinds_by_id = {str(pk): kind for pk, kind in
                   Connection.objects.filter(workspace=workspace).values_list("pk", "kind")}
    problems = []
    for node in graph.get("nodes") or []:
        params = node.get("params") if isinstance(node, dict) else None
        if not isinstance(params, dict):
            continue  # pipeline_create names what is wrong with such a node
        for name, kinds in _connection_params(str(node.get("operator"))).items():
            value = params.get(name)
            if isinstance(value, str) and kinds_by_id.get(value) not in kinds:
                problems.append({"node": node.get("id"), "field": name,
                                 "message": ERR_CONNECTION_GONE.format(
                                     field=name, value=value, kinds=" or ".join(kinds))})
    if problems:
        raise GraphError(f"{ERR_INVALID_GRAPH} {problems[0]['message']}", problems)


def _unique_name(workspace: Workspace, name: str) -> str:
    taken = set(Pipeline.objects.filter(workspace=workspace, name__startswith=name)
                .values_list("name", flat=True))
    if name not in taken:
        return name
    for n in range(2, 1000):
        suffix = f" ({n})"
        candidate = name[:MAX_NAME - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
    return name


def template_instantiate(*, template: BuiltinTemplate | WorkspaceTemplate, workspace: Workspace,
                         user: AbstractBaseUser | None, name: str | None = None,
                         description: str | None = None,
                         connections: dict[str, str] | None = None) -> Pipeline:
    """A new pipeline of ``workspace`` from the template: its placeholders resolved, its
    graph validated as every save is, and a built-in's schedule created paused. Refused,
    with nothing written, when something it needs is missing."""
    if isinstance(template, WorkspaceTemplate) and template.workspace_id != workspace.pk:
        raise FieldError(ERR_OTHER_WORKSPACE, {"workspace": [ERR_OTHER_WORKSPACE]})
    chosen = dict(connections or {})
    if len(chosen) > MAX_CONNECTION_CHOICES:
        message = ERR_TOO_MANY_CHOICES.format(limit=MAX_CONNECTION_CHOICES, count=len(chosen))
        raise FieldError(message, {"connections": [message]})
    graph = template.graph
    needs = graph_needs(graph)
    for unwanted in sorted(set(chosen) - set(needs)):
        message = ERR_UNWANTED.format(need=unwanted[:40])
        raise FieldError(message, {f"connections.{unwanted[:40]}": [message]})
    values = {f"{{connection:{need}}}": _connection_choice(workspace=workspace, need=need,
                                                           chosen=chosen.get(need))
              for need in needs}
    for dataset in graph_datasets(graph):
        found = dataset_latest(workspace_id=workspace.pk, name=dataset)
        if found is None:
            message = ERR_DATASET.format(name=dataset)
            raise FieldError(message, {"datasets": [message]})
        values[f"{{dataset:{dataset}}}"] = str(found.pk)
    resolved = _substitute(graph, values)
    _refuse_foreign_connections(workspace=workspace, graph=resolved)
    trigger = template.trigger if isinstance(template, BuiltinTemplate) else None
    with transaction.atomic():
        pipeline = pipeline_create(
            workspace=workspace, user=user,
            name=name if name is not None else _unique_name(workspace, template.name),
            description=description if description is not None else template.description,
            graph=resolved)
        if trigger and trigger.get("kind") == "schedule":
            schedule_save(pipeline=pipeline, user=user, cron=trigger["cron"], enabled=False)
    return pipeline


# --- a workspace's own templates -----------------------------------------------------------------

def _datasets_by_name(*, workspace: Workspace, graph: dict[str, Any]) -> dict[str, Any]:
    """The graph with each uploaded dataset a node reads named by its name instead of the id
    of one version: a pipeline made from the template reads the newest version."""
    ids = set(_params_strings(graph))
    names = {str(pk): name for pk, name in Dataset.objects.filter(
        workspace=workspace, pk__in=[i for i in ids if _is_uuid(i)]).values_list("pk", "name")}
    return _substitute(graph, {pk: f"{{dataset:{name}}}" for pk, name in names.items()})


def _is_uuid(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}", value))


def workspace_template_save(*, pipeline: Pipeline, user: AbstractBaseUser | None,
                            name: str | None = None,
                            description: str | None = None) -> WorkspaceTemplate:
    """The pipeline's current graph saved as a template of its workspace (audited). Refused
    past MAX_WORKSPACE_TEMPLATES, for an empty pipeline, or when its graph no longer
    validates."""
    workspace = pipeline.workspace
    version = pipeline.current_version
    graph = version.graph if version is not None else {"nodes": [], "edges": []}
    if not graph.get("nodes"):
        raise FieldError(ERR_EMPTY, {"graph": [ERR_EMPTY]})
    graph_check(workspace=workspace, raw=graph)
    name = name if name is not None else pipeline.name
    with transaction.atomic():
        # One save at a time per workspace, so two at once cannot both pass the limit.
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        count = WorkspaceTemplate.objects.filter(workspace=workspace).count()
        if count >= MAX_WORKSPACE_TEMPLATES:
            message = ERR_LIMIT.format(limit=MAX_WORKSPACE_TEMPLATES, count=count)
            raise FieldError(message, {"workspace": [message]})
        template = WorkspaceTemplate.objects.create(
            workspace=workspace, name=name,
            description=description if description is not None else pipeline.description,
            graph=_datasets_by_name(workspace=workspace, graph=graph), created_by=user)
        audit_record(workspace_id=workspace.pk, actor=user, action="template.save",
                     target=name, pipeline=pipeline.name)
    return template


def workspace_template_delete(*, template: BuiltinTemplate | WorkspaceTemplate,
                              user: AbstractBaseUser) -> None:
    if isinstance(template, BuiltinTemplate):
        message = ERR_BUILTIN_DELETE.format(slug=template.slug)
        raise FieldError(message, {"template": [message]})
    role_check(user=user, workspace_id=template.workspace_id, min_role=Role.EDITOR)
    with transaction.atomic():
        audit_record(workspace_id=template.workspace_id, actor=user, action="template.delete",
                     target=template.name)
        template.delete()
