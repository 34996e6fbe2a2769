"""The model registry: every model a pipeline trains becomes a numbered version with its
lineage; aliases (staging, production, ...) move by promote and demote, audited."""
from __future__ import annotations

import math
import platform
from importlib.metadata import version
from typing import Any

import pandas as pd
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max

import datagran
from datagran.core.exceptions import FieldError, NotFound
from datagran.datasets.artifacts import (
    BadModelFile,
    UntrustedModel,
    artifact_store,
    load_trusted,
)
from datagran.workspaces.models import Workspace
from datagran.workspaces.services import audit_record
from operators.base import TrainedModel

from .evaluation import evaluation_of
from .models import ModelAlias, ModelVersion, RegisteredModel

ALIAS_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def environment() -> dict[str, str]:
    # The installed version, read without importing scikit-learn (a second at every start).
    return {"python": platform.python_version(), "scikit-learn": version("scikit-learn"),
            "pandas": pd.__version__, "datagran": datagran.__version__}


def registered_name(*, pipeline_name: str, node_id: str, label: str = "",
                    model_name: str = "") -> str:
    """The name a model node's registered model shows: its ``model_name`` param, else the
    pipeline's name and the node's label (its id without one). A name only: the model is
    found by (pipeline, node id), so renaming keeps its versions and aliases."""
    return (model_name.strip() or f"{pipeline_name} / {label or node_id}")[:200]


def registered_model_for(*, workspace: Workspace, name: str) -> RegisteredModel:
    """Get or create the named model, locked, so two runs finishing at once number their
    versions one after the other."""
    try:
        with transaction.atomic():
            RegisteredModel.objects.get_or_create(workspace=workspace, name=name)
    except IntegrityError:
        pass  # created by a concurrent transaction meanwhile
    return RegisteredModel.objects.select_for_update().get(workspace=workspace, name=name)


def registered_model_of_node(*, pipeline: Any, node_id: str, label: str
                             ) -> RegisteredModel:
    """Get or create the model a pipeline's node trains into, locked (see
    registered_model_for). A new one is named ``label``, or ``label (2)`` and so on when
    another model of the workspace has that name."""
    model = RegisteredModel.objects.filter(pipeline=pipeline, node_id=node_id).first()
    for n in range(1, 1000):
        if model is not None:
            break
        suffix = "" if n == 1 else f" ({n})"
        try:
            with transaction.atomic():
                RegisteredModel.objects.create(workspace_id=pipeline.workspace_id,
                                               pipeline=pipeline, node_id=node_id,
                                               name=label[:200 - len(suffix)] + suffix)
        except IntegrityError:
            pass  # the name is taken, or a concurrent run created this node's model
        model = RegisteredModel.objects.filter(pipeline=pipeline, node_id=node_id).first()
    return RegisteredModel.objects.select_for_update().get(pk=model.pk)


def _rename(model: RegisteredModel, name: str) -> None:
    """Give ``model`` the name its node asks for, unless another model of the workspace has
    it (the name stays as it was then: two models never share a name)."""
    if not name or model.name == name or RegisteredModel.objects.filter(
            workspace_id=model.workspace_id, name=name).exclude(pk=model.pk).exists():
        return
    try:
        with transaction.atomic():
            RegisteredModel.objects.filter(pk=model.pk).update(name=name)
    except IntegrityError:
        return  # taken meanwhile
    model.name = name


def _same_version(model: RegisteredModel, *, model_hash: str, training_hash: str | None,
                  params: dict[str, Any], metrics: dict[str, float]) -> ModelVersion | None:
    """The version of ``model`` that this training reproduces (a run forced past the cache
    with the same data and params): same file, same data, same params (its name aside),
    same metrics."""
    if not training_hash:
        return None
    for found in model.versions.filter(model_hash=model_hash, source="pipeline"):
        if ((found.training_data or {}).get("hash") == training_hash
                and _without_name(found.params) == _without_name(params)
                and found.metrics == metrics):
            return found
    return None


def _without_name(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k != "model_name"}


def _next_version(model: RegisteredModel) -> int:
    return (model.versions.aggregate(n=Max("version"))["n"] or 0) + 1


def _metrics(ref: dict[str, Any] | None) -> dict[str, float]:
    """The test row of a metrics table if there is one, else its first row."""
    if not ref or ref.get("kind") != "table":
        return {}
    table = artifact_store().read_table(ref["hash"])
    if table.empty:
        return {}
    if "dataset" in table.columns and (table["dataset"] == "test").any():
        table = table[table["dataset"] == "test"]
    row = table.iloc[0]
    # An undefined metric (ROC AUC of a single-class test set) is NaN: left out, as JSON
    # has no NaN.
    return {str(k): float(v) for k, v in row.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


def model_version_from_run(*, run: Any, node: Any, spec: Any, op: Any,
                           inputs: dict[str, dict[str, Any]]) -> ModelVersion | None:
    """Register the model a node of a run just trained (called inside the run's transaction):
    a new version, or the existing one when this run reproduced it exactly."""
    model_ref = next((ref for port, ref in node.outputs.items()
                      if ref.get("kind") == "model" and not port.startswith("_")), None)
    if model_ref is None:
        return None
    training = next((ref for ref in inputs.values() if ref.get("kind") == "table"), {})
    params = op.parse_params(spec.params).model_dump(mode="json")
    name = registered_name(pipeline_name=run.pipeline.name, node_id=spec.id,
                           label=spec.label, model_name=params.get("model_name") or "")
    registered = registered_model_of_node(pipeline=run.pipeline, node_id=spec.id, label=name)
    if params.get("model_name"):
        _rename(registered, name)
    metrics = _metrics(node.outputs.get("metrics"))
    same = _same_version(registered, model_hash=model_ref["hash"],
                         training_hash=training.get("hash"), params=params, metrics=metrics)
    if same is not None:
        # The run that reproduced it is the one it now comes from: its run page lists it, its
        # lineage and serving read that run's (identical, and newer) outputs.
        same.run, same.pipeline_version = run, run.version
        same.save(update_fields=["run", "pipeline_version"])
        return same
    return ModelVersion.objects.create(
        registered_model=registered, version=_next_version(registered),
        model_hash=model_ref["hash"], task=model_ref.get("task", ""),
        algorithm=model_ref.get("algorithm", ""), target=model_ref.get("target", ""),
        features=[c for c in model_ref.get("schema", []) if c["name"] != model_ref.get("target")],
        classes=model_ref.get("classes", []), metrics=metrics,
        evaluation=evaluation_of(node.outputs), params=params,
        training_data={**{k: training.get(k) for k in ("hash", "rows", "schema")},
                       # of those rows, how many it was fitted on (max_training_rows)
                       "trained_rows": model_ref.get("training_rows"),
                       "sampled": model_ref.get("sampled_from") is not None},
        environment=environment(), pipeline=run.pipeline, pipeline_version=run.version,
        run=run, node_id=node.node_id, operator=op.name, operator_version=op.version,
        created_by=run.created_by)


@transaction.atomic
def model_import(*, workspace: Workspace, user: AbstractBaseUser | None, name: str,
                 data: bytes, target: str = "", code_reference: str = "",
                 data_description: str = "", params: dict | None = None,
                 metrics: dict | None = None) -> ModelVersion:
    """A model trained elsewhere, as a new version: a skops file of a fitted scikit-learn
    estimator (a Pipeline with its preprocessing, ideally) fitted on a DataFrame."""
    try:
        estimator = load_trusted(data)
    except (UntrustedModel, BadModelFile):
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's input
        raise FieldError(f"file: not a readable skops file ({type(exc).__name__}).",
                             {"file": ["not a readable skops file"]}) from None
    if not hasattr(estimator, "predict"):
        raise FieldError("file: the object in the file has no predict method.",
                             {"file": ["not a fitted scikit-learn estimator"]})
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        message = ("the model does not record its feature names: fit it on a pandas "
                   "DataFrame so predict nodes can check their input columns.")
        raise FieldError(f"file: {message}", {"file": [message]})
    classes = [c.item() if hasattr(c, "item") else c for c in getattr(estimator, "classes_", [])]
    model = TrainedModel(estimator=estimator, features=[{"name": str(n), "type": "any"}
                                                         for n in names],
                         target=target, task="classification" if classes else "regression",
                         classes=classes, algorithm=type(estimator).__name__)
    registered = registered_model_for(workspace=workspace, name=name)
    version = ModelVersion.objects.create(
        registered_model=registered, version=_next_version(registered),
        model_hash=artifact_store().put_model(model), source="import", task=model.task,
        algorithm=model.algorithm, target=target, features=model.features, classes=classes,
        metrics=metrics or {}, params=params or {}, environment=environment(),
        code_reference=code_reference, data_description=data_description, created_by=user)
    audit_record(workspace_id=workspace.pk, actor=user, action="model.import",
                 target=f"{name} v{version.version}")
    return version


def alias_set(*, model: RegisteredModel, alias: str, version_number: int,
              user: AbstractBaseUser | None) -> ModelAlias:
    if not alias or set(alias) - ALIAS_CHARS:
        raise FieldError("alias: use lower-case letters, digits, '-' and '_'.",
                             {"alias": ["invalid alias name"]})
    version = model.versions.filter(version=version_number).first()
    if version is None:
        raise FieldError(f"version: {model.name} has no version {version_number}.",
                             {"version": ["no such version"]})
    with transaction.atomic():
        previous = model.aliases.filter(name=alias).select_related("version").first()
        entry, _ = ModelAlias.objects.update_or_create(registered_model=model, name=alias,
                                                       defaults={"version": version})
        audit_record(workspace_id=model.workspace_id, actor=user, action="model.promote",
                     target=f"{model.name}@{alias}", version=version.version,
                     previous=previous.version.version if previous else None)
    return entry


def alias_remove(*, model: RegisteredModel, alias: str, user: AbstractBaseUser | None) -> None:
    with transaction.atomic():
        entry = model.aliases.filter(name=alias).select_related("version").first()
        if entry is None:
            raise NotFound(f"{model.name} has no alias {alias!r}.")
        entry.delete()
        audit_record(workspace_id=model.workspace_id, actor=user, action="model.demote",
                     target=f"{model.name}@{alias}", version=entry.version.version)


def version_resolve(*, model: RegisteredModel, alias: str | None = None,
                    version: int | None = None, fallback_to_latest: bool = True
                    ) -> ModelVersion:
    """A version by number, else by alias, else (if allowed) the newest."""
    if version is not None:
        found = model.versions.filter(version=version).first()
        if found is None:
            raise NotFound(f"{model.name} has no version {version}.")
        return found
    if alias:
        entry = model.aliases.select_related("version").filter(name=alias).first()
        if entry is not None:
            return entry.version
        if not fallback_to_latest:
            raise NotFound(f"{model.name} has no version with the alias {alias!r}.")
    newest = model.versions.first()
    if newest is None:
        raise NotFound(f"{model.name} has no versions yet.")
    return newest
