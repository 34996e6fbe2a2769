"""Input and output of the deployment and prediction endpoints."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datagran.core.fields import IsoDateTimeField, ObjectField, ObjectListField
from datagran.runs.models import RunStatus
from datagran.runs.serializers import ColumnOutput

from .alerts import DEFAULTS as ALERT_DEFAULTS
from .models import Deployment, PredictionLog
from .services import MAX_RETURNED, deployment_state

SERVING_STATES = ["off", "waiting", "serving"]


class DeploymentInput(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    input_node = serializers.CharField(required=False)
    output_node = serializers.CharField(required=False)
    sample_rate = serializers.FloatField(required=False, help_text="0 to 1: the share of "
                                         "requests kept for the request list and drift.")
    lookup_modes = serializers.DictField(
        child=serializers.CharField(), required=False,
        help_text='Per lookup node: "live" (read by key per request) or "training" (the '
                  "table the training run saw).")
    lookup_ttl_seconds = serializers.FloatField(
        required=False, help_text="How long looked-up rows are reused; 0: always fresh.")
    alerts = serializers.DictField(
        required=False, help_text="Alert thresholds, each null for off: min_accuracy, "
        "max_drift_psi, max_error_rate (0-1), max_p99_ms; min_requests (logged requests, "
        "or labels, an alert needs); webhook (a webhook connection id) and emails.")


class DeploymentOutput(serializers.Serializer):
    pipeline = serializers.UUIDField(source="pipeline_id")
    enabled = serializers.BooleanField()
    input_node = serializers.CharField()
    output_node = serializers.CharField()
    sample_rate = serializers.FloatField()
    lookup_modes = serializers.DictField(child=serializers.CharField())
    lookup_ttl_seconds = serializers.FloatField()
    alerts = serializers.SerializerMethodField(help_text="The alert settings, defaults "
                                               "filled in.")
    alert_state = serializers.DictField(help_text="Per alert (accuracy, drift, error_rate, "
                                        "p99_ms): firing, since or resolved, value.")
    endpoint = serializers.SerializerMethodField(help_text="The URL to POST rows to.")

    def get_alerts(self, deployment: Deployment) -> dict[str, Any]:
        return {**ALERT_DEFAULTS, **(deployment.alerts or {})}
    serving_state = serializers.SerializerMethodField(help_text="off; waiting (on, but no model "
                                              "version is promoted to production yet); "
                                              "serving.")
    serving_reason = serializers.SerializerMethodField(help_text="Why it is off or waiting.")

    @extend_schema_field(serializers.ChoiceField(choices=SERVING_STATES))
    def get_serving_state(self, deployment: Deployment) -> str:
        return self._state(deployment)[0]

    def get_serving_reason(self, deployment: Deployment) -> str:
        return self._state(deployment)[1]

    def _state(self, deployment: Deployment) -> tuple[str, str]:
        cache = self.context.setdefault("_states", {})
        if deployment.pk not in cache:
            cache[deployment.pk] = deployment_state(deployment)
        return cache[deployment.pk]

    def get_endpoint(self, deployment: Deployment) -> str:
        return self.context["request"].build_absolute_uri(
            f"/api/pipelines/{deployment.pipeline_id}/predict")


class PredictInput(serializers.Serializer):
    """Documents the body; the rows are checked by the service against the deployment's
    own input schema, with messages naming the row and the column."""

    rows = ObjectListField(help_text="One object per row: {column: value}. The columns the "
                           "deployment's input schema marks required must be there; the "
                           "others may be left out, and columns it does not have are ignored "
                           "(named in the answer's warnings).")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # "return" is a Python keyword: declared here instead of as a class attribute.
        fields["return"] = serializers.ListField(
            child=serializers.CharField(), required=False, max_length=MAX_RETURNED,
            help_text="Request columns to echo in each answer (an id to match answers by).")
        return fields


class ModelRefOutput(serializers.Serializer):
    """A registered model's name and one of its version numbers."""

    name = serializers.CharField()
    version = serializers.IntegerField()


class ServedModelOutput(ModelRefOutput):
    """The model version a deployment serves (a ModelVersion)."""

    name = serializers.CharField(source="registered_model.name")


class PredictOutput(serializers.Serializer):
    model = ModelRefOutput(allow_null=True, help_text="The model version that predicted.")
    predictions = ObjectListField(help_text="Per row: an id (when the request is logged: "
                                            "send its label to .../feedback/), its "
                                            "prediction (and probability), "
                                            "or the output node's columns, after the "
                                            "columns named in return.")
    warnings = serializers.ListField(child=serializers.CharField(), help_text="What the "
                                     "request sent that was not used, once per request.")
    latency_ms = serializers.FloatField()


class PredictionLogOutput(serializers.Serializer):
    at = IsoDateTimeField(source="created_at")
    rows = serializers.IntegerField()
    status = serializers.IntegerField(help_text="200, or the error the request got.")
    latency_ms = serializers.SerializerMethodField()
    model_version = serializers.IntegerField(allow_null=True)

    def get_latency_ms(self, entry: PredictionLog) -> float:
        return round(entry.latency_ms, 2)


class LatencyOutput(serializers.Serializer):
    p50 = serializers.FloatField(allow_null=True)
    p95 = serializers.FloatField(allow_null=True)
    p99 = serializers.FloatField(allow_null=True)


class DriftOutput(serializers.Serializer):
    feature = serializers.CharField()
    psi = serializers.FloatField(allow_null=True, help_text="Population stability index.")
    warning = serializers.BooleanField()


class LookupOutput(serializers.Serializer):
    """A table the serving path reads from outside it, and how."""

    node = serializers.CharField()
    label = serializers.CharField(help_text="The source it reads, and its node.")
    mode = serializers.ChoiceField(choices=["live", "training"])
    why_not_live = serializers.CharField(help_text="Why it cannot be live (empty if it can).")
    requests = serializers.IntegerField(help_text="Logged requests that looked it up.")
    hit_rate = serializers.FloatField(allow_null=True, help_text="Share of keys served from "
                                      "the cache, over those requests.")
    p50_ms = serializers.FloatField(allow_null=True)
    p99_ms = serializers.FloatField(allow_null=True)


class FeedbackPointOutput(serializers.Serializer):
    at = serializers.CharField(help_text="The hour (or the day) of the predictions.")
    labelled = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True, required=False)
    mae = serializers.FloatField(allow_null=True, required=False)
    auc = serializers.FloatField(allow_null=True)


class FeedbackStatsOutput(serializers.Serializer):
    """Live quality from the labels sent back, over the logged requests."""

    labelled = serializers.IntegerField(help_text="Predictions with a label.")
    metric = serializers.ChoiceField(choices=["accuracy", "mae"])
    accuracy = serializers.FloatField(allow_null=True, required=False)
    mae = serializers.FloatField(allow_null=True, required=False)
    auc = serializers.FloatField(allow_null=True, help_text="ROC AUC, two classes only.")
    series = FeedbackPointOutput(many=True)
    training = serializers.DictField(child=serializers.FloatField(), help_text="The served "
                                     "version's test metrics from training, to compare.")


class FeedbackInput(serializers.Serializer):
    """Documents the body: a JSON list of {"id", "label"}, checked by the service."""

    id = serializers.CharField(help_text='A prediction\'s "id" from an answer.')
    label = serializers.JSONField(help_text="Its true value.")


class FeedbackOutput(serializers.Serializer):
    recorded = serializers.IntegerField()
    unknown = serializers.ListField(child=serializers.CharField(), help_text="Ids this "
                                    "deployment did not give, or no longer keeps (at most "
                                    "100 shown).")


class ChallengerOutput(serializers.Serializer):
    """The version behind the challenger alias, answering in the shadow, against the
    champion (production) over the logged requests it answered."""

    model = serializers.CharField()
    version = serializers.IntegerField()
    requests = serializers.IntegerField()
    errors = serializers.IntegerField(help_text="Logged requests the challenger failed on.")
    last_error = serializers.CharField()
    agreement = serializers.FloatField(allow_null=True, help_text="Share of rows where both "
                                       "predict the same (regression: within 1%).")
    champion_p50_ms = serializers.FloatField(allow_null=True)
    challenger_p50_ms = serializers.FloatField(allow_null=True)
    metric = serializers.ChoiceField(choices=["accuracy", "mae"])
    champion_quality = serializers.FloatField(allow_null=True, help_text="On the labels sent "
                                              "back.")
    challenger_quality = serializers.FloatField(allow_null=True)
    labelled = serializers.IntegerField()


class RequestColumnOutput(ColumnOutput):
    required = serializers.BooleanField(help_text="Something on the serving path reads it "
                                        "(column lineage back from the answer). The others "
                                        "may be left out: they are missing in that row.")


class DeploymentStatsOutput(serializers.Serializer):
    """Recent requests, latency percentiles, the request schema, and drift per feature."""

    deployment = DeploymentOutput()
    model = ServedModelOutput(allow_null=True)
    input_schema = RequestColumnOutput(many=True, help_text="The columns of a request row.")
    example = ObjectField(help_text="A row of the training data's required columns, as a "
                                    "request would send it.")
    requests = PredictionLogOutput(many=True)
    latency_ms = LatencyOutput()
    drift = DriftOutput(many=True)
    lookups = LookupOutput(many=True)
    feedback = FeedbackStatsOutput()
    challenger = ChallengerOutput(allow_null=True)
    error_rate = serializers.FloatField(allow_null=True, help_text="Share of the logged "
                                        "requests answered with an error.")
    psi_warning = serializers.FloatField()
    drift_requests = serializers.IntegerField(help_text="Logged requests drift is computed "
                                              "over (n).")
    drift_min_requests = serializers.IntegerField(help_text="Drift is flagged only from this "
                                                  "many logged requests on.")


class BatchScoringInput(serializers.Serializer):
    source = serializers.ChoiceField(
        choices=["input", "dataset"], help_text='"input": the serving input\'s source node, '
        'read afresh at each run; "dataset": a saved dataset.')
    dataset = serializers.CharField(required=False, allow_null=True, max_length=64)
    cron = serializers.CharField(max_length=100, default="0 2 * * *")
    timezone = serializers.CharField(max_length=64, default="UTC")
    enabled = serializers.BooleanField(default=False, help_text="Whether the schedule runs "
                                       "now; paused by default, to check the first run.")


class BatchScoringScheduleOutput(serializers.Serializer):
    cron = serializers.CharField()
    timezone = serializers.CharField()
    enabled = serializers.BooleanField()
    next_fire_at = IsoDateTimeField(allow_null=True)


class BatchScoringRunOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=RunStatus.values)
    created_at = IsoDateTimeField()
    rows_scored = serializers.IntegerField(allow_null=True, help_text="The rows its "
                                           "scoring node scored (null: it did not finish).")


class BatchScoringOutput(serializers.Serializer):
    id = serializers.UUIDField(help_text="The scoring pipeline.")
    name = serializers.CharField()
    schedule = BatchScoringScheduleOutput(allow_null=True)
    last_run = BatchScoringRunOutput(allow_null=True)
