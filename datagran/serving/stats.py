"""What the deploy page shows of a deployment: recent requests, latency percentiles, the
request schema with an example row, and drift per feature."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings

from datagran.pipelines.models import Pipeline
from datagran.registry.models import ModelVersion

from .drift import PSI_WARNING, drift_report
from .lookups import Lookup
from .models import Deployment, PredictionLog
from .services import training_inputs

RECENT_READ = 500   # requests the percentiles and drift are computed over
RECENT_SHOWN = 50   # requests listed


@dataclass(frozen=True)
class DeploymentStats:
    deployment: Deployment
    model: ModelVersion | None
    input_schema: list[dict[str, Any]]
    example: dict[str, Any]
    requests: list[PredictionLog]
    latency_ms: dict[str, float | None]
    drift: list[dict[str, Any]]
    drift_requests: int
    drift_min_requests: int
    lookups: list[dict[str, Any]]
    psi_warning: float = PSI_WARNING


def deployment_stats(*, pipeline: Pipeline) -> DeploymentStats:
    compiled, deployment = training_inputs(pipeline=pipeline)
    recent = list(deployment.log.all()[:RECENT_READ])
    latencies = np.array([r.latency_ms for r in recent], dtype=float)
    served = pd.DataFrame.from_records([row for r in recent for row in r.inputs])
    training = compiled.training_inputs
    minimum = settings.DATAGRAN["DRIFT_MIN_REQUESTS"]
    drift = drift_report(training[compiled.features], served) if not served.empty else []
    if len(recent) < minimum:  # too few requests to call it drift: shown, not flagged
        drift = [{**row, "warning": False} for row in drift]
    return DeploymentStats(
        deployment=deployment, model=compiled.model, input_schema=compiled.input_schema,
        # What a request must send: the columns something on the serving path reads.
        example=_example(training.head(1)[[c["name"] for c in compiled.input_schema
                                           if c["required"]]]),
        requests=recent[:RECENT_SHOWN],
        latency_ms={f"p{p}": (round(float(np.percentile(latencies, p)), 2)
                              if len(latencies) else None) for p in (50, 95, 99)},
        # Of the model's features only: identifiers and other columns the model ignores
        # always differ between a batch of requests and the training table.
        drift=drift, drift_requests=len(recent), drift_min_requests=minimum,
        lookups=[_lookup_stats(lookup, recent) for lookup in compiled.lookups])


def _lookup_stats(lookup: Lookup, recent: list[PredictionLog]) -> dict[str, Any]:
    seen = [r.lookups[lookup.node] for r in recent if lookup.node in (r.lookups or {})]
    keys = sum(s.get("keys", 0) for s in seen)
    times = np.array([s.get("ms", 0.0) for s in seen], dtype=float)
    return {"node": lookup.node, "label": lookup.label, "mode": lookup.mode,
            "why_not_live": lookup.why_not_live, "requests": len(seen),
            "hit_rate": round(sum(s.get("hits", 0) for s in seen) / keys, 4) if keys else None,
            **{f"p{p}_ms": round(float(np.percentile(times, p)), 2) if len(times) else None
               for p in (50, 99)}}


def _example(train: pd.DataFrame) -> dict[str, Any]:
    if train.empty:
        return {}
    row = train.head(1).astype(object).where(train.head(1).notna(), None)
    return {k: (v.isoformat() if hasattr(v, "isoformat") else
                v.item() if hasattr(v, "item") else v)
            for k, v in row.to_dict(orient="records")[0].items()}
