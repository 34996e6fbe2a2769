"""What operators may look up in a workspace without running: datasets' schemas and
fingerprints, registered models. Graph validation and cache keys use it as their context;
a run's context extends it."""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, cast

import pandas as pd
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError

from datagran.core.exceptions import NotFound
from datagran.datasets.artifacts import artifact_store
from datagran.datasets.models import Dataset
from datagran.registry.models import ModelVersion, RegisteredModel
from datagran.registry.services import version_resolve
from datagran.workspaces.models import Workspace
from operators.base import Context, OperatorError, Schema, TrainedModel


class ValidationContext:
    seed = 0
    url_allowlist: list[str] = []
    approved = False

    def __init__(self, workspace: Workspace | None = None, *,
                 workspace_id: object = None) -> None:
        self.workspace_id = workspace.pk if workspace is not None else workspace_id

    # --- datasets ----------------------------------------------------------------------------
    def _dataset(self, dataset_id: str, field: str) -> str | list | None:
        try:
            return Dataset.objects.filter(workspace_id=self.workspace_id,
                                          id=dataset_id).values_list(field, flat=True).first()
        except (ValueError, DjangoValidationError):  # a malformed id is simply not a dataset
            return None

    def _missing_dataset(self, dataset_id: str) -> OperatorError:
        return OperatorError(f"Dataset {dataset_id!r} does not exist in this workspace.",
                             field="dataset")

    def dataset_schema(self, dataset_id: str) -> Schema | None:
        columns = self._dataset(dataset_id, "columns")
        if columns is None:
            raise self._missing_dataset(dataset_id)
        return cast(Schema, columns)

    def dataset_fingerprint(self, dataset_id: str) -> str:
        table_hash = self._dataset(dataset_id, "table_hash")
        if table_hash is None:
            raise self._missing_dataset(dataset_id)
        return str(table_hash)

    def read_dataset(self, dataset_id: str) -> pd.DataFrame:
        raise OperatorError("Datasets are not read while validating.")

    # --- registered models -------------------------------------------------------------------
    def _version(self, name: str, alias: str | None, version: int | None,
                 fallback_to_latest: bool) -> ModelVersion:
        model = RegisteredModel.objects.filter(workspace_id=self.workspace_id, name=name).first()
        if model is None:
            raise OperatorError(f"No registered model named {name!r} in this workspace.",
                                field="model")
        try:
            return version_resolve(model=model, alias=alias, version=version,
                                   fallback_to_latest=fallback_to_latest)
        except NotFound as exc:
            raise OperatorError(exc.message, field="version" if version else "alias") from None

    def registered_model(self, name: str, *, alias: str | None = None,
                         version: int | None = None,
                         fallback_to_latest: bool = True) -> TrainedModel:
        found = self._version(name, alias, version, fallback_to_latest)
        return artifact_store().read_model(found.model_hash)

    def registered_model_hash(self, name: str, *, alias: str | None = None,
                              version: int | None = None, fallback_to_latest: bool = True) -> str:
        return self._version(name, alias, version, fallback_to_latest).model_hash

    def registered_model_schema(self, name: str) -> Schema | None:
        model = RegisteredModel.objects.filter(workspace_id=self.workspace_id, name=name).first()
        newest = model.versions.first() if model else None
        if newest is None:
            raise OperatorError(f"No registered model named {name!r} with a version in this "
                                "workspace.", field="model")
        # The model port's schema ends with the target (model.predict relies on it); an
        # imported model may not name one.
        target = {"name": newest.target or "prediction", "type": "str"}
        if newest.task == "regression":  # model.predict reads the task from the target
            target.update(type="float", task="regression")
        return newest.features + [target]

    # --- served pipelines (batch scoring) ----------------------------------------------------
    def served_pipeline(self, name: str) -> Any:
        """The workspace's pipeline of that name (model.score_deployment's param)."""
        from datagran.pipelines.models import Pipeline

        found = list(Pipeline.objects.filter(workspace_id=self.workspace_id, name=name)
                     .select_related("current_version")[:2])
        if not found:
            raise OperatorError(f"No pipeline named {name!r} in this workspace.",
                                field="pipeline")
        if len(found) > 1:
            raise OperatorError(f"Several pipelines are named {name!r}: rename the one that "
                                "serves, or the others.", field="pipeline")
        return found[0]

    def deployment_answer(self, pipeline: str) -> Schema | None:
        from datagran.serving.services import batch_answer_schema

        return batch_answer_schema(pipeline=self.served_pipeline(pipeline))

    def deployment_scorer(self, pipeline: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
        raise OperatorError("Nothing is scored while validating.")

    # --- sources ---------------------------------------------------------------------------
    def known_schema(self, state_key: str) -> Schema | None:
        return source_known_schema(self.workspace_id, state_key)

    # --- nothing happens while validating ------------------------------------------------------
    def log(self, message: str) -> None:
        pass

    def progress(self, fraction: float) -> None:
        pass

    def save_file(self, filename: str, data: bytes, content_type: str) -> None:
        pass

    def save_file_from(self, filename: str, path: str, content_type: str,
                       digest: str | None = None) -> None:
        os.unlink(path)


# How long the columns a params form's sample showed are remembered for its source.
SAMPLED_SCHEMA_SECONDS = 30 * 24 * 3600


def sampled_schema_key(workspace_id: object, state_key: str) -> str:
    return f"dg:sampled-schema:{workspace_id}:{state_key}"


def sampled_schema_remember(workspace_id: object, state_key: str, schema: Schema) -> None:
    """The columns the sample endpoint saw for a source (operators.connectors._dlt.state_key
    of its params): what ``known_schema`` answers until it has run."""
    cache.set(sampled_schema_key(workspace_id, state_key), schema, SAMPLED_SCHEMA_SECONDS)


def source_known_schema(workspace_id: object, state_key: str) -> Schema | None:
    """The columns a source with this state key was last seen to have in the workspace: those
    its params form sampled, or else the table output of its latest succeeded node run."""
    from datagran.runs.models import NodeRun, RunStatus

    if not state_key:
        return None
    sampled = cache.get(sampled_schema_key(workspace_id, state_key))
    if sampled is not None:
        return cast(Schema, sampled)
    outputs = (NodeRun.objects.filter(state_key=state_key, run__workspace_id=workspace_id,
                                      run__status=RunStatus.SUCCEEDED)
               .order_by("-run__created_at").values_list("outputs", flat=True).first())
    for ref in (outputs or {}).values():
        if ref.get("kind") == "table" and ref.get("schema") is not None:
            return cast(Schema, ref["schema"])
    return None


def validation_context(workspace: Workspace) -> Context:
    """A ValidationContext as the engine's functions take it: schema inference and cache keys
    ask a context only for what it answers (datasets, models, connections, seed); nothing that
    runs (files, sends, progress) is asked of it while a graph is only being checked."""
    return cast(Context, ValidationContext(workspace))
