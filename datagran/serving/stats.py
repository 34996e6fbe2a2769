"""What the deploy page shows of a deployment: recent requests, latency percentiles, the
request schema with an example row, and drift per feature."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from sklearn.metrics import roc_auc_score

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
    feedback: dict[str, Any]
    challenger: dict[str, Any] | None
    error_rate: float | None  # of the logged requests: the share answered with an error
    logged: int  # the logged requests read (answered or refused): what error_rate is over
    psi_warning: float = PSI_WARNING


def deployment_stats(*, pipeline: Pipeline) -> DeploymentStats:
    compiled, deployment = training_inputs(pipeline=pipeline)
    recent = list(deployment.log.all()[:RECENT_READ])
    # Latency and drift are of the requests answered: a refused one (logged for the error
    # rate, without its rows) took no model call and has no rows to compare.
    answered = [r for r in recent if r.status < 400]
    latencies = np.array([r.latency_ms for r in answered], dtype=float)
    served = pd.DataFrame.from_records([row for r in answered for row in r.inputs])
    training = compiled.training_inputs
    minimum = settings.DATAGRAN["DRIFT_MIN_REQUESTS"]
    drift = drift_report(training[compiled.features], served) if not served.empty else []
    if len(answered) < minimum:  # too few requests to call it drift: shown, not flagged
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
        drift=drift, drift_requests=len(answered), drift_min_requests=minimum,
        lookups=[_lookup_stats(lookup, recent) for lookup in compiled.lookups],
        feedback=feedback_stats(recent, compiled.task, compiled.classes,
                                compiled.model.metrics if compiled.model else {}),
        challenger=challenger_stats(recent, compiled.challenger, compiled.task),
        error_rate=round(sum(r.status >= 400 for r in recent) / len(recent), 6)
        if recent else None, logged=len(recent))


def challenger_stats(recent: list[PredictionLog], challenger: ModelVersion | None,
                     task: str | None) -> dict[str, Any] | None:
    """Champion against challenger over the logged requests the challenger answered:
    agreement, latency, and quality on the labels sent back."""
    if challenger is None:
        return None
    shadowed = [r for r in recent if (r.shadow or {}).get("version") == challenger.version]
    answered = [r for r in shadowed if "predictions" in r.shadow]
    pairs = [(champion, contender) for r in answered
             for champion, contender in zip(r.predictions, r.shadow["predictions"],
                                            strict=False)]
    regression = task == "regression"

    def quality(which: int) -> float | None:
        scored = [(r.predictions if which == 0 else r.shadow["predictions"])[int(row)][0]
                  for r in answered for row in (r.labels or {})
                  if int(row) < min(len(r.predictions), len(r.shadow["predictions"]))]
        truth = [label for r in answered for row, label in (r.labels or {}).items()
                 if int(row) < min(len(r.predictions), len(r.shadow["predictions"]))]
        if not truth:
            return None
        if regression:
            return round(float(np.mean([abs(float(p) - float(y)) for p, y in
                                        zip(scored, truth, strict=True)])), 6)
        return round(float(np.mean([_same(p, y) for p, y in zip(scored, truth, strict=True)])),
                     6)

    same = [(_close(a[0], b[0]) if regression else _same(a[0], b[0])) for a, b in pairs]
    champion_ms = [r.latency_ms for r in answered]
    challenger_ms = [r.shadow["ms"] for r in answered]
    return {
        "model": challenger.registered_model.name, "version": challenger.version,
        "requests": len(answered), "errors": len(shadowed) - len(answered),
        "last_error": next((r.shadow["error"] for r in shadowed if "error" in r.shadow), ""),
        "agreement": round(float(np.mean(same)), 6) if same else None,
        "champion_p50_ms": _p50(champion_ms), "challenger_p50_ms": _p50(challenger_ms),
        "metric": "mae" if regression else "accuracy",
        "champion_quality": quality(0), "challenger_quality": quality(1),
        "labelled": sum(len(r.labels or {}) for r in answered)}


def _p50(values: list[float]) -> float | None:
    return round(float(np.percentile(values, 50)), 2) if values else None


def _close(a: Any, b: Any) -> bool:
    """Two regression answers agree within 1% (of the larger)."""
    if not (_number(a) and _number(b)):
        return bool(a == b)
    return abs(float(a) - float(b)) <= 0.01 * max(abs(float(a)), abs(float(b)), 1e-12)


def feedback_stats(recent: list[PredictionLog], task: str | None, classes: list[Any],
                   training: dict[str, float]) -> dict[str, Any]:
    """Live quality from the ground truth sent back: accuracy (and ROC AUC for two classes)
    or mean absolute error, over the logged requests, per hour (per day past two days), next
    to the training run's test metrics."""
    pairs = [(entry.created_at, entry.predictions[int(row)], label)
             for entry in recent for row, label in (entry.labels or {}).items()
             if int(row) < len(entry.predictions)]
    pairs.sort(key=lambda p: p[0])
    regression = task == "regression"
    metric = "mae" if regression else "accuracy"
    span = (pairs[-1][0] - pairs[0][0]).total_seconds() if pairs else 0
    step = "%Y-%m-%dT%H:00" if span <= 2 * 86_400 else "%Y-%m-%d"
    buckets: dict[str, list[tuple[Any, Any]]] = {}
    for at, answer, label in pairs:
        buckets.setdefault(at.strftime(step), []).append((answer, label))

    def score(group: list[tuple[Any, Any]]) -> dict[str, float | None]:
        if regression:
            errors = [abs(float(a[0]) - float(y)) for a, y in group
                      if _number(a[0]) and _number(y)]
            return {"mae": round(float(np.mean(errors)), 6) if errors else None, "auc": None}
        hits = [_same(a[0], y) for a, y in group]
        return {"accuracy": round(float(np.mean(hits)), 6) if hits else None,
                "auc": _auc(group, classes)}

    return {"labelled": len(pairs), "metric": metric,
            **score([(a, y) for _, a, y in pairs]),
            "series": [{"at": at, "labelled": len(group), **score(group)}
                       for at, group in buckets.items()],
            "training": {k: training[k] for k in (metric, "roc_auc") if k in training}}


def _same(predicted: Any, label: Any) -> bool:
    return bool(predicted == label or str(predicted) == str(label))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _auc(group: list[tuple[Any, Any]], classes: list[Any]) -> float | None:
    """ROC AUC of two classes, from each answer's probability of the class it predicted."""
    if len(classes) != 2:
        return None
    positive = classes[1]
    truth = [_same(positive, y) for _, y in group]
    scores = [None if a[1] is None else (a[1] if _same(a[0], positive) else 1 - a[1])
              for a, _ in group]
    if None in scores or len(set(truth)) < 2:
        return None
    return round(float(roc_auc_score(truth, scores)), 6)


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
