from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.ratelimit import PredictThrottle
from datagran.pipelines.selectors import pipeline_get
from datagran.workspaces.models import Role
from datagran.workspaces.selectors import role_check

from .drift import PSI_WARNING, drift_report
from .models import Deployment
from .services import (
    deployment_for,
    deployment_update,
    predict,
    serving_credentials,
    serving_pipeline,
    training_inputs,
)


def deployment_json(d: Deployment, request: Request) -> dict[str, Any]:
    url = request.build_absolute_uri(f"/api/pipelines/{d.pipeline_id}/predict")
    return {"pipeline": str(d.pipeline_id), "enabled": d.enabled, "input_node": d.input_node,
            "output_node": d.output_node, "sample_rate": d.sample_rate, "endpoint": url}


class DeploymentInput(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    input_node = serializers.CharField(required=False)
    output_node = serializers.CharField(required=False)
    sample_rate = serializers.FloatField(required=False)


class DeploymentApi(APIView):
    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        return Response(deployment_json(deployment_for(pipeline=pipeline), request))

    def put(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        role_check(user=request.user, workspace_id=pipeline.workspace_id, min_role=Role.EDITOR)
        data = DeploymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        deployment = deployment_update(pipeline=pipeline, **data.validated_data)
        return Response(deployment_json(deployment, request))


class ServingTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        return serving_credentials(key, lambda: super(
            ServingTokenAuthentication, self).authenticate_credentials(key))


class PredictApi(APIView):
    """{"rows": [{column: value, ...}, ...]} → a prediction (and probability) per row, and
    the model version that made them. The token, the pipeline and the deployment are
    remembered for DATAGRAN_SERVING_CACHE_SECONDS: a prediction makes no query of its own."""

    authentication_classes = [ServingTokenAuthentication, SessionAuthentication]
    throttle_classes = [PredictThrottle]

    def post(self, request: Request, pipeline_id: str) -> Response:
        pipeline = serving_pipeline(user=request.user, pipeline_id=pipeline_id)
        rows = request.data.get("rows") if isinstance(request.data, dict) else None
        return Response(predict(pipeline=pipeline, rows=rows))


class DeploymentStatsApi(APIView):
    """Recent requests, latency percentiles, the request schema, and drift per feature."""

    def get(self, request: Request, pipeline_id: str) -> Response:
        pipeline = pipeline_get(user=request.user, pipeline_id=pipeline_id)
        compiled, deployment = training_inputs(pipeline=pipeline)
        recent = list(deployment.log.all()[:500])
        latencies = np.array([r.latency_ms for r in recent], dtype=float)
        served = pd.DataFrame.from_records([row for r in recent for row in r.inputs])
        training = compiled.training_inputs
        version = compiled.model
        return Response({
            "deployment": deployment_json(deployment, request),
            "model": None if version is None else {"name": version.registered_model.name,
                                                   "version": version.version},
            "input_schema": compiled.input_schema,
            "example": _example(training.head(1).drop(columns=compiled.targets,
                                                      errors="ignore")),
            "requests": [{"at": r.created_at.isoformat(), "rows": r.rows,
                          "latency_ms": round(r.latency_ms, 2),
                          "model_version": r.model_version} for r in recent[:50]],
            "latency_ms": {f"p{p}": (round(float(np.percentile(latencies, p)), 2)
                                     if len(latencies) else None) for p in (50, 95, 99)},
            # Of the model's features only: identifiers and other columns the model ignores
            # always differ between a batch of requests and the training table.
            "drift": (drift_report(training[compiled.features], served)
                      if not served.empty else []),
            "psi_warning": PSI_WARNING,
        })


def _example(train: pd.DataFrame) -> dict[str, Any]:
    if train.empty:
        return {}
    row = train.head(1).astype(object).where(train.head(1).notna(), None)
    return {k: (v.isoformat() if hasattr(v, "isoformat") else
                v.item() if hasattr(v, "item") else v)
            for k, v in row.to_dict(orient="records")[0].items()}
