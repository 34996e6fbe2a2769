from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from datagran.core.exceptions import NotFound

from .models import ModelAlias, ModelVersion, RegisteredModel


def model_list(*, user: AbstractBaseUser, workspace_id: object | None = None
               ) -> QuerySet[RegisteredModel]:
    qs = RegisteredModel.objects.filter(workspace__memberships__user=user)
    return qs.filter(workspace_id=workspace_id) if workspace_id else qs


def model_get(*, user: AbstractBaseUser, model_id: object) -> RegisteredModel:
    try:
        return model_list(user=user).get(pk=model_id)
    except (RegisteredModel.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Model not found.") from None


def version_get(*, model: RegisteredModel, number: int) -> ModelVersion:
    found = model.versions.filter(version=number).select_related("run", "pipeline").first()
    if found is None:
        raise NotFound(f"{model.name} has no version {number}.")
    return found


def with_versions(models: QuerySet[RegisteredModel]) -> QuerySet[RegisteredModel]:
    """``models`` with their versions (newest first) and aliases fetched in three queries,
    however many models: what the models' output serializers read."""
    return models.prefetch_related(*_VERSIONS_AND_ALIASES)


def model_with_versions(model: RegisteredModel) -> RegisteredModel:
    """``model`` with its versions and aliases fetched as they are now."""
    prefetch_related_objects([model], *_VERSIONS_AND_ALIASES)
    return model


_VERSIONS_AND_ALIASES = (
    Prefetch("versions", queryset=ModelVersion.objects.select_related(
        "pipeline_version", "created_by").prefetch_related(
        Prefetch("aliases", queryset=ModelAlias.objects.order_by("pk")))),
    Prefetch("aliases", queryset=ModelAlias.objects.select_related("version").order_by("pk")),
)


def _diff(a: dict[str, Any], b: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: {"a": a.get(k), "b": b.get(k)} for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k)}


def versions_compare(a: ModelVersion, b: ModelVersion) -> dict[str, Any]:
    """Metrics side by side, the params that differ, and how the training data differs."""
    da, db = a.training_data or {}, b.training_data or {}
    cols_a = {c["name"]: c["type"] for c in da.get("schema") or []}
    cols_b = {c["name"]: c["type"] for c in db.get("schema") or []}
    return {
        "a": a.version, "b": b.version,
        "metrics": {k: {"a": a.metrics.get(k), "b": b.metrics.get(k)}
                    for k in sorted(set(a.metrics) | set(b.metrics))},
        "params": _diff(a.params, b.params),
        "training_data": {
            "same_data": bool(da.get("hash")) and da.get("hash") == db.get("hash"),
            "rows": {"a": da.get("rows"), "b": db.get("rows")},
            "columns_added": sorted(set(cols_b) - set(cols_a)),
            "columns_removed": sorted(set(cols_a) - set(cols_b)),
            "type_changes": {c: {"a": cols_a[c], "b": cols_b[c]}
                             for c in sorted(set(cols_a) & set(cols_b))
                             if cols_a[c] != cols_b[c]},
        },
    }


def _node_label(spec: Any) -> str:
    """A node as the editor names it: its label, else its operator's."""
    from operators.registry import get_operator

    if spec.label:
        return str(spec.label)
    try:
        return get_operator(spec.operator).label
    except Exception:  # noqa: BLE001 - an operator no longer installed: its name
        return str(spec.operator)


def _dataset_label(workspace_id: Any, spec: Any) -> str:
    """A dataset a connector read: "file name · vN", else the node's label."""
    from datagran.datasets.models import Dataset

    dataset_id = spec.params.get("dataset")
    if dataset_id:
        try:
            found = Dataset.objects.filter(workspace_id=workspace_id, pk=dataset_id).first()
        except (ValueError, DjangoValidationError):
            found = None
        if found is not None:
            number = getattr(found, "version", None)
            return f"{found.name} · v{number}" if number else found.name
        return str(dataset_id)  # a sample dataset, by its name
    return _node_label(spec)


def _readers(graph: Any, v: ModelVersion) -> list[Any]:
    """The nodes that read this model: those wired to its node's model output, and those
    fed by a registered-model node of this pipeline that names it."""
    sources = {v.node_id}
    for spec in graph.nodes:
        if spec.operator == "model.registered" and \
                spec.params.get("model") == v.registered_model.name:
            sources.add(spec.id)
    reading = {e.target for e in graph.edges
               if e.source in sources and e.source_port == "model" and e.target != v.node_id}
    return [graph.node(n) for n in sorted(reading)]


def _sampled(v: ModelVersion) -> str:
    """The lineage label's note when the model was fitted on a sample of its training table
    (max_training_rows): " · trained on a sample of 1,000,000 of 50,000,000 rows"."""
    data = v.training_data or {}
    if not data.get("sampled") or data.get("trained_rows") is None or data.get("rows") is None:
        return ""
    return f" · trained on a sample of {data['trained_rows']:,} of {data['rows']:,} rows"


def version_lineage(v: ModelVersion) -> dict[str, Any]:
    """Datasets → run → model version → the nodes of that run that read the model."""
    from datagran.engine.graph import Graph

    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, str]] = []
    model_node = f"model:{v.version}"
    nodes.append({"id": model_node, "kind": "model_version",
                  "label": f"{v.registered_model.name} v{v.version}{_sampled(v)}"})
    if v.run is None:
        return {"nodes": nodes, "edges": edges}
    graph = Graph.model_validate(v.pipeline_version.graph) if v.pipeline_version else Graph()
    run_node = f"run:{v.run_id}"
    nodes.append({"id": run_node, "kind": "run", "label": f"run {str(v.run_id)[:8]}",
                  "status": v.run.status})
    edges.append({"source": run_node, "target": model_node})
    ancestors = {n.id for n in graph.nodes if v.node_id in graph.descendants(n.id)}
    for spec in graph.nodes:
        if spec.id in ancestors and spec.operator.startswith("connector."):
            nodes.append({"id": f"data:{spec.id}", "kind": "dataset",
                          "label": _dataset_label(v.registered_model.workspace_id, spec),
                          "operator": spec.operator})
            edges.append({"source": f"data:{spec.id}", "target": run_node})
    if v.node_id in {n.id for n in graph.nodes}:
        for spec in _readers(graph, v):
            nodes.append({"id": f"node:{spec.id}", "kind": "output",
                          "label": _node_label(spec), "operator": spec.operator,
                          "node_id": spec.id})
            edges.append({"source": model_node, "target": f"node:{spec.id}"})
    return {"nodes": nodes, "edges": edges}
