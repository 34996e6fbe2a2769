"""The runs list (filters, sorting, cursor pagination) and the stats endpoint, against known
generated runs: exact expected numbers."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from datagran.pipelines.services import pipeline_create
from datagran.runs.models import NodeRun, Run
from tests.graphs import chain_graph

pytestmark = pytest.mark.django_db
# Noon today, so the few minutes between runs never cross midnight.
NOW = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)


@pytest.fixture
def history(user):
    """Two pipelines; 12 runs over the last three days with fixed statuses and durations."""
    workspace = user.personal_workspace
    first = pipeline_create(workspace=workspace, user=user, name="Churn daily",
                            graph=chain_graph())
    second = pipeline_create(workspace=workspace, user=user, name="Iris", graph=chain_graph())
    plan = [  # (pipeline, days ago, status, duration ms, rows, trigger)
        (first, 0, "succeeded", 100, 10, "manual"), (first, 0, "succeeded", 200, 10, "api"),
        (first, 0, "failed", 300, 0, "manual"), (first, 1, "succeeded", 400, 20, "schedule"),
        (first, 1, "succeeded", 500, 20, "manual"), (first, 2, "failed", 600, 0, "manual"),
        (first, 2, "cancelled", 700, 0, "manual"), (second, 0, "succeeded", 800, 5, "api"),
        (second, 1, "succeeded", 900, 5, "api"), (second, 2, "succeeded", 1000, 5, "api"),
        (second, 2, "running", None, 0, "manual"), (second, 40, "succeeded", 50, 1, "manual"),
    ]
    runs = []
    for i, (pipeline, days, status, duration, rows, trigger) in enumerate(plan):
        run = Run.objects.create(workspace=workspace, pipeline=pipeline,
                                 version=pipeline.current_version, status=status,
                                 trigger=trigger, duration_ms=duration, rows_processed=rows,
                                 created_by=user)
        Run.objects.filter(pk=run.pk).update(created_at=NOW - timedelta(days=days, minutes=i))
        NodeRun.objects.create(run=run, node_id="a", operator="connector.sample_dataset",
                               status="succeeded", duration_ms=10 * (i + 1))
        NodeRun.objects.create(run=run, node_id="b", operator="transform.select_columns",
                               status="succeeded", duration_ms=1)
        runs.append(run)
    return first, second, runs


def ids(response) -> list[str]:
    return [r["id"] for r in response.json()["results"]]


def test_runs_are_listed_newest_first_and_filtered(api, history) -> None:
    first, second, runs = history
    assert ids(api.get("/api/runs/?page_size=3")) == [str(r.pk) for r in runs[:3]]
    assert len(ids(api.get(f"/api/runs/?pipeline={first.pk}&page_size=100"))) == 7
    assert len(ids(api.get("/api/runs/?status=failed,cancelled"))) == 3
    assert len(ids(api.get("/api/runs/?trigger=api"))) == 4
    assert len(ids(api.get("/api/runs/?search=iris"))) == 5
    since = (NOW - timedelta(days=1, hours=1)).isoformat()
    assert len(ids(api.get("/api/runs/", {"since": since}))) == 7


def test_cursor_pagination_walks_every_run_once(api, history) -> None:
    seen, url = [], "/api/runs/?page_size=5"
    while url:
        body = api.get(url).json()
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(str(r.pk) for r in history[2]) and len(seen) == 12


def test_runs_sort_by_duration(api, history) -> None:
    durations = [r["duration_ms"] for r in api.get(
        "/api/runs/?ordering=-duration_ms&status=succeeded").json()["results"]]
    assert durations == [1000, 900, 800, 500, 400, 200, 100, 50]


def test_bad_filters_name_the_parameter(api, history) -> None:
    for query, field in [("status=exploded", "status"), ("since=yesterday", "since"),
                         ("ordering=name", "ordering")]:
        response = api.get(f"/api/runs/?{query}")
        assert response.status_code == 400, query
        assert field in response.json()["extra"]["fields"], query


def test_workspace_stats_count_statuses_rates_percentiles_and_rows(api, history) -> None:
    stats = api.get("/api/runs/stats/?days=30").json()
    assert stats["total"] == 11  # the run 40 days ago is outside the window
    assert stats["by_status"] == {"pending": 0, "queued": 0, "running": 1, "succeeded": 7,
                                  "failed": 2,
                                  "cancelled": 1}
    assert stats["success_rate"] == round(7 / 9, 4)
    assert stats["rows_processed"] == 75
    # Durations 100..1000 step 100 (the running run has none): p50 = 550 (interpolated on
    # PostgreSQL) or the nearest-rank neighbour 500/600 elsewhere.
    assert stats["duration_ms"]["p50"] in (500.0, 550.0, 600.0)
    assert stats["duration_ms"]["p95"] in (955.0, 1000.0)
    today = stats["per_day"][-1]
    assert (today["total"], today["succeeded"], today["failed"]) == (4, 3, 1)
    assert sum(d["total"] for d in stats["per_day"]) == 11


def test_pipeline_stats_add_the_slowest_nodes(api, history) -> None:
    first = history[0]
    stats = api.get(f"/api/runs/stats/?pipeline={first.pk}").json()
    assert stats["total"] == 7 and stats["by_status"]["succeeded"] == 4
    assert [n["node_id"] for n in stats["slowest_nodes"]] == ["a", "b"]
    assert stats["slowest_nodes"][0]["mean_ms"] == 40.0  # 10, 20, ... 70 → mean 40


def test_another_users_runs_never_appear(other_api, history) -> None:
    assert other_api.get("/api/runs/").json()["results"] == []
    assert other_api.get("/api/runs/stats/").json()["total"] == 0
    assert other_api.get(f"/api/runs/?pipeline={history[0].pk}").json()["results"] == []
