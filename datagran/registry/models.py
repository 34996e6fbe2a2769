from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class RegisteredModel(models.Model):
    """A model and its versions. One a pipeline trains is identified by its (pipeline, node
    id), so renaming the pipeline or the node's label changes nothing; an imported one by its
    name. The name is a label, unique in the workspace, by which users and the
    model.registered node pick a model."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE,
                                  related_name="registered_models")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    # The model node that trains it; null for an imported model (or a deleted pipeline's).
    pipeline = models.ForeignKey("pipelines.Pipeline", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="registered_models")
    node_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"],
                                               name="one_model_name_per_workspace"),
                       models.UniqueConstraint(fields=["pipeline", "node_id"],
                                               condition=models.Q(pipeline__isnull=False),
                                               name="one_model_per_pipeline_node")]


class ModelVersion(models.Model):
    """One trained model with everything that made it: data, code, params, environment."""

    registered_model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE,
                                         related_name="versions")
    version = models.IntegerField()
    model_hash = models.CharField(max_length=64)  # the skops file in the artifact store
    source = models.CharField(max_length=10, default="pipeline")  # pipeline | import
    task = models.CharField(max_length=20, default="classification")
    algorithm = models.CharField(max_length=100, blank=True, default="")
    target = models.CharField(max_length=200, blank=True, default="")
    features = models.JSONField(default=list)       # the input schema the model expects
    classes = models.JSONField(default=list)
    metrics = models.JSONField(default=dict)
    # {"confusion": {"labels", "counts"}, "importances": [{"feature", "importance"}],
    # "curves": {"roc"|"pr": {"points": [[x, y]], "area"}}}: what its node output, bounded.
    evaluation = models.JSONField(default=dict)
    params = models.JSONField(default=dict)
    training_data = models.JSONField(default=dict)  # {"hash", "rows", "schema"}
    environment = models.JSONField(default=dict)    # python, scikit-learn, pandas, datagran
    pipeline = models.ForeignKey("pipelines.Pipeline", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="model_versions")
    pipeline_version = models.ForeignKey("pipelines.PipelineVersion", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")
    run = models.ForeignKey("runs.Run", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="model_versions")
    node_id = models.CharField(max_length=64, blank=True, default="")
    operator = models.CharField(max_length=100, blank=True, default="")
    operator_version = models.CharField(max_length=20, blank=True, default="")
    code_reference = models.CharField(max_length=500, blank=True, default="")
    data_description = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["registered_model", "version"],
                                               name="one_number_per_version")]


class ModelAlias(models.Model):
    """A movable name (staging, production, anything) pointing at one version."""

    registered_model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE,
                                         related_name="aliases")
    name = models.CharField(max_length=50)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="aliases")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["registered_model", "name"],
                                               name="one_alias_name_per_model")]
