"""Pipelines calling pipelines, in a workspace: resolving a calling node to the version it
calls, the pipelines that can be called, who calls whom, and the canvas's "Make sub-pipeline"
and "Expand" (datagran/engine/calls.py does the graph work)."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q

from datagran.core.exceptions import Conflict, FieldError
from datagran.engine.calls import (
    Callee,
    CallError,
    Expanded,
    Resolver,
    between,
    expand,
    extract,
    fresh_ids,
    has_calls,
    inline,
    interface,
    param_schema,
    validate,
)
from datagran.engine.graph import Graph, GraphProblem
from operators.pipelines import CALL, LATEST
from operators.registry import UnknownOperator, get_operator

from .models import Pipeline, PipelineVersion
from .selectors import pipelines_naming
from .validation import validation_context

ERR_NO_PIPELINE = "Pipeline {id!r} does not exist in this workspace."
ERR_NO_VERSION = "{name} has no version {hash}."
ERR_CALLED = ("{name} is called by {callers}; remove those calls (or expand them) before "
              "deleting it.")
ERR_NOT_A_CALL = "node: {node!r} is not a node calling a pipeline."
ERR_NO_NODE = "node: the graph has no node {node!r}."
ERR_SELECTION = "nodes: select at least one node of the graph."
ERR_SELECTION_UNKNOWN = "nodes: the graph has no node {nodes}."
ERR_SELECTION_HOLE = ("nodes: {nodes} lie between selected nodes; select them too, or the "
                      "sub-pipeline would feed itself.")


def call_resolver(workspace_id: object) -> Resolver:
    """Resolves calls within one workspace (another workspace's pipeline does not exist here),
    each (pipeline, version) read once."""
    seen: dict[tuple[str, str], Callee] = {}

    def resolve(pipeline: str, version: str) -> Callee:
        key = (pipeline, version)
        if key not in seen:
            seen[key] = _callee(workspace_id, pipeline, version)
        return seen[key]
    return resolve


def _callee(workspace_id: object, pipeline_id: str, version: str) -> Callee:
    try:
        pipeline = (Pipeline.objects.select_related("current_version")
                    .filter(workspace_id=workspace_id, pk=pipeline_id).first())
    except (ValueError, DjangoValidationError):
        pipeline = None
    if pipeline is None:
        raise CallError(ERR_NO_PIPELINE.format(id=pipeline_id), "pipeline")
    found = (pipeline.current_version if version == LATEST
             else pipeline.versions.filter(hash=version).first())
    if found is None:
        raise CallError(ERR_NO_VERSION.format(name=pipeline.name, hash=version[:12]), "version")
    return Callee(pipeline=str(pipeline.pk), name=pipeline.name, version=found.hash,
                  graph=Graph.model_validate(found.graph), number=version_number(found))


def version_number(version: PipelineVersion) -> int:
    """1 for a pipeline's first version, 2 for the next, ... as the versions dialog counts."""
    return PipelineVersion.objects.filter(
        Q(created_at__lt=version.created_at) | Q(created_at=version.created_at,
                                                 id__lte=version.pk),
        pipeline_id=version.pipeline_id).count()


def expanded_graph(pipeline: Pipeline, graph: Graph,
                   pinned: dict[str, str] | None = None) -> Expanded:
    """The graph as it runs: every call expanded. Problems (a called pipeline deleted since,
    say) are the caller's to raise."""
    if not has_calls(graph):
        return Expanded(graph)
    return expand(graph, call_resolver(pipeline.workspace_id),
                  root=(str(pipeline.pk), pipeline.name), pinned=pinned)


def callable_pipelines(workspace_id: object, *, exclude: object = None) -> list[dict[str, Any]]:
    """The workspace's pipelines whose current version declares an input or an output: the
    palette's "Pipelines"."""
    found = []
    for pipeline in (Pipeline.objects.filter(workspace_id=workspace_id)
                     .exclude(pk=exclude).select_related("current_version").order_by("name")):
        version = pipeline.current_version
        if version is None:
            continue
        graph = Graph.model_validate(version.graph)
        shape = interface(graph, param_schema)
        if not shape["inputs"] and not shape["outputs"]:
            continue
        found.append({"id": pipeline.pk, "name": pipeline.name,
                      "description": pipeline.description, "version": version.hash,
                      "number": version_number(version), **shape})
    return found


def refuse_if_called(pipeline: Pipeline) -> None:
    """Conflict naming the other pipelines whose current version calls it (as a connection
    or a dataset in use is refused: the same scan of the pipelines' params)."""
    pid = str(pipeline.pk)
    callers = [p["name"] for p in pipelines_naming(workspace_id=pipeline.workspace_id,
                                                   ids=[pid]).get(pid, []) if p["id"] != pid]
    if callers:
        message = ERR_CALLED.format(name=pipeline.name, callers=", ".join(sorted(callers)))
        raise Conflict(message, {"pipeline": [message]})


# --- the canvas ---------------------------------------------------------------------------

def graph_expand_node(*, pipeline: Pipeline, graph: Graph, node_id: str) -> Graph:
    """``graph`` with one calling node replaced by the called version's nodes (fresh canvas
    ids, placed where the calling node was), its exposed params set as the node sets them.
    Nested calls stay calls."""
    node = next((n for n in graph.nodes if n.id == node_id), None)
    if node is None:
        raise FieldError(ERR_NO_NODE.format(node=node_id), {"node": ["no such node"]})
    if node.operator != CALL:
        raise FieldError(ERR_NOT_A_CALL.format(node=node_id), {"node": ["not a call"]})
    params = node.params
    try:
        callee = call_resolver(pipeline.workspace_id)(str(params.get("pipeline", "")),
                                                     str(params.get("version", LATEST)))
    except CallError as exc:
        raise FieldError(f"node: {exc.message}", {"node": [exc.message]}) from None
    problems: list[GraphProblem] = []
    expanded = inline(graph, node_id, callee.graph, callee_name=callee.name,
                      new_id=fresh_ids({n.id for n in graph.nodes}), problems=problems)
    if problems:
        raise FieldError(f"node: {problems[0].message}",
                         {"node": [p.message for p in problems]})
    return expanded


def graph_make_subpipeline(*, pipeline: Pipeline, user: Any, graph: Graph,
                           nodes: list[str], name: str) -> tuple[Pipeline, Graph]:
    """The selected ``nodes`` of ``graph`` saved as a new pipeline (inputs and outputs where
    edges cross the selection), and ``graph`` with them replaced by a node calling its
    version. The new pipeline is saved; the caller's graph is returned, for the canvas to
    apply (one undo step) and save."""
    from .services import pipeline_create

    if not nodes:
        raise FieldError(ERR_SELECTION, {"nodes": ["empty"]})
    known = {n.id for n in graph.nodes}
    unknown = sorted(set(nodes) - known)
    if unknown:
        message = ERR_SELECTION_UNKNOWN.format(nodes=", ".join(repr(n) for n in unknown))
        raise FieldError(message, {"nodes": [message]})
    hole = between(graph, nodes)
    if hole:
        message = ERR_SELECTION_HOLE.format(nodes=", ".join(repr(n) for n in hole))
        raise FieldError(message, {"nodes": [message]})
    operators = {n.id: n.operator for n in graph.nodes}

    def port_type(node_id: str, port: str) -> str:
        try:
            found = get_operator(operators[node_id]).output(port)
        except UnknownOperator:
            found = None
        return found.type if found is not None else "table"

    # The columns where edges enter the selection, as the graph's validation infers them:
    # the new pipeline's inputs declare them, for its own canvas's column pickers.
    schemas = validate(graph, validation_context(pipeline.workspace),
                       call_resolver(pipeline.workspace_id),
                       (str(pipeline.pk), pipeline.name)).schemas
    made = extract(graph, nodes, port_type=port_type, label=name,
                   call_params={"pipeline": "", "version": LATEST, "params": {}},
                   columns=lambda node, port: schemas.get(node, {}).get(port))
    created = pipeline_create(workspace=pipeline.workspace, user=user, name=name,
                              description=f"Made from {len(nodes)} nodes of {pipeline.name}.",
                              graph=made.inner.model_dump(mode="json"))
    assert created.current_version is not None
    call = next(n for n in made.outer.nodes if n.id == made.call_id)
    call.params = {"pipeline": str(created.pk), "version": created.current_version.hash,
                   "params": {}}
    return created, made.outer
