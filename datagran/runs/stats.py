"""Run statistics computed by the database in a few queries, never by looping over runs."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Avg, Count, FloatField, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import NodeRun, Run, RunStatus


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(p) WITHIN GROUP (ORDER BY expr)."""

    function = "percentile_cont"
    template = "%(function)s(%(p)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, p: float) -> None:
        super().__init__(expression, p=p)


def _percentiles(runs: QuerySet[Run], ps: tuple[float, ...]) -> dict[str, float | None]:
    done = runs.filter(duration_ms__isnull=False)
    if connection.vendor == "postgresql":
        row = done.aggregate(**{f"p{int(p * 100)}": PercentileCont("duration_ms", p)
                                for p in ps})
        return {k: (round(v, 1) if v is not None else None) for k, v in row.items()}
    # Elsewhere (SQLite): the nearest-rank value, one indexed ORDER BY ... OFFSET per percentile.
    n = done.count()
    out: dict[str, float | None] = {}
    for p in ps:
        rank = max(0, min(n - 1, int(round(p * (n - 1)))))
        value = done.order_by("duration_ms").values_list("duration_ms", flat=True)[rank:rank + 1]
        out[f"p{int(p * 100)}"] = float(value[0]) if n else None
    return out


def run_stats(*, runs: QuerySet[Run], days: int) -> dict[str, Any]:
    since = timezone.now() - timedelta(days=days)
    runs = runs.filter(created_at__gte=since).order_by()
    totals = runs.aggregate(
        total=Count("pk"),
        rows=Sum("rows_processed"),
        **{status: Count("pk", filter=Q(status=status)) for status in RunStatus.values},
    )
    finished = totals[RunStatus.SUCCEEDED] + totals[RunStatus.FAILED]
    per_day = (runs.annotate(day=TruncDate("created_at")).values("day")
               .annotate(total=Count("pk"),
                         succeeded=Count("pk", filter=Q(status=RunStatus.SUCCEEDED)),
                         failed=Count("pk", filter=Q(status=RunStatus.FAILED)),
                         mean_duration=Avg("duration_ms"))
               .order_by("day"))
    return {
        "days": days,
        "total": totals["total"],
        "by_status": {status: totals[status] for status in RunStatus.values},
        "success_rate": round(totals[RunStatus.SUCCEEDED] / finished, 4) if finished else None,
        "rows_processed": totals["rows"] or 0,
        "duration_ms": _percentiles(runs, (0.5, 0.95)),
        "per_day": [
            {"day": d["day"].isoformat(), "total": d["total"], "succeeded": d["succeeded"],
             "failed": d["failed"], "mean_duration_ms": d["mean_duration"],
             "success_rate": (round(d["succeeded"] / (d["succeeded"] + d["failed"]), 4)
                              if d["succeeded"] + d["failed"] else None)}
            for d in per_day
        ],
    }


def slowest_nodes(*, runs: QuerySet[Run], limit: int = 5) -> list[dict[str, Any]]:
    rows = (NodeRun.objects.filter(run__in=runs.order_by().values("pk"),
                                   duration_ms__isnull=False)
            .values("node_id", "operator")
            .annotate(mean_ms=Avg("duration_ms"), max_ms=Max("duration_ms"), runs=Count("pk"))
            .order_by("-mean_ms")[:limit])
    return [{**r, "mean_ms": round(r["mean_ms"], 1)} for r in rows]
