"""Cron schedules (time zone, preview, exactly-once firing, missed occurrences) and the
webhook trigger."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from datagran.runs.models import Run
from datagran.schedules.models import Schedule, ScheduleFire
from datagran.schedules.services import occurrence_fire, schedules_fire
from tests.graphs import chain_graph

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(api) -> dict:
    return api.post("/api/pipelines/", {"name": "Nightly", "graph": chain_graph()},
                    format="json").json()


def test_a_schedule_previews_its_next_fire_times_in_its_time_zone(api, pipeline) -> None:
    body = api.post(f"/api/pipelines/{pipeline['id']}/schedules/",
                    {"cron": "30 9 * * 1-5", "timezone": "America/New_York"},
                    format="json").json()
    assert len(body["upcoming"]) == 5
    from datetime import datetime
    from zoneinfo import ZoneInfo

    local = [datetime.fromisoformat(t).astimezone(ZoneInfo("America/New_York"))
             for t in body["upcoming"]]
    assert all((t.hour, t.minute) == (9, 30) and t.weekday() < 5 for t in local)
    preview = api.post("/api/schedules/preview/", {"cron": "0 0 1 * *"}, format="json").json()
    assert all(t.endswith("+00:00") and "T00:00:00" in t for t in preview["upcoming"])


def test_bad_cron_or_time_zone_is_refused_naming_the_field(api, pipeline) -> None:
    url = f"/api/pipelines/{pipeline['id']}/schedules/"
    bad_cron = api.post(url, {"cron": "61 * * * *"}, format="json")
    assert bad_cron.status_code == 400 and "cron" in bad_cron.json()["extra"]["fields"]
    bad_zone = api.post(url, {"cron": "0 * * * *", "timezone": "Mars/Olympus"}, format="json")
    assert bad_zone.status_code == 400 and "timezone" in bad_zone.json()["extra"]["fields"]
    assert Schedule.objects.count() == 0


@pytest.mark.parametrize(("cron", "message"), [
    ("75 * * * *", "cron: minute must be 0–59, got 75."),
    ("0 24 * * *", "cron: hour must be 0–23, got 24."),
    ("0 0 32 * *", "cron: day of month must be 1–31, got 32."),
    ("0 0 1 13 *", "cron: month must be 1–12 or JAN–DEC, got 13."),
    ("0 0 * * 9", "cron: day of week must be 0–7 or SUN–SAT (0 and 7 are Sunday), got 9."),
    ("x * * * *", "cron: minute must be 0–59, got 'x'."),
    ("0 0 *", "cron: give five fields (minute hour day-of-month month day-of-week), got 3."),
    ("*/0 * * * *", "cron: minute step cannot be 0 (in '*/0')."),
    ("0 5-2 * * *", "cron: hour range 5-2 goes backwards; write the smaller number first."),
    ("0 0 30 2 *", "cron: day of month 30 never occurs in the month chosen."),
])
def test_a_bad_cron_names_the_field_and_its_allowed_range(
        api, pipeline, cron: str, message: str) -> None:
    response = api.post(f"/api/pipelines/{pipeline['id']}/schedules/", {"cron": cron},
                        format="json")
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert response.json()["extra"]["fields"] == {"cron": [message.removeprefix("cron: ")]}
    assert Schedule.objects.count() == 0
    preview = api.post("/api/schedules/preview/", {"cron": cron}, format="json")
    assert preview.status_code == 400 and preview.json()["message"] == message


def due(schedule_id: str, ago: timedelta) -> None:
    Schedule.objects.filter(pk=schedule_id).update(next_fire_at=timezone.now() - ago)


def test_a_due_occurrence_starts_one_scheduled_run(api, pipeline) -> None:
    body = api.post(f"/api/pipelines/{pipeline['id']}/schedules/", {"cron": "* * * * *"},
                    format="json").json()
    due(body["id"], timedelta(seconds=2))
    assert schedules_fire() == 1
    assert schedules_fire() == 0  # the next occurrence is in the future now
    run = Run.objects.get()
    assert run.trigger == "schedule"
    assert Schedule.objects.get(pk=body["id"]).next_fire_at > timezone.now()


def test_the_same_occurrence_fires_once_however_many_schedulers_try(api, pipeline) -> None:
    body = api.post(f"/api/pipelines/{pipeline['id']}/schedules/", {"cron": "* * * * *"},
                    format="json").json()
    schedule = Schedule.objects.get(pk=body["id"])
    moment = timezone.now().replace(second=0, microsecond=0)
    assert [occurrence_fire(schedule, moment) for _ in range(3)] == [1, 0, 0]
    assert ScheduleFire.objects.count() == 1 and Run.objects.count() == 1


@pytest.mark.parametrize(("policy", "runs"), [("skip", 0), ("run_once", 1)])
def test_occurrences_missed_during_downtime_follow_the_policy(api, pipeline, policy,
                                                              runs) -> None:
    body = api.post(f"/api/pipelines/{pipeline['id']}/schedules/",
                    {"cron": "*/5 * * * *", "missed_policy": policy}, format="json").json()
    # The scheduler comes back 2.5 minutes after an occurrence, 36 occurrences late.
    base = timezone.now().replace(second=0, microsecond=0)
    back = base.replace(minute=base.minute - base.minute % 5) + timedelta(minutes=2, seconds=30)
    Schedule.objects.filter(pk=body["id"]).update(next_fire_at=back - timedelta(hours=3))
    schedules_fire(now=back)
    assert Run.objects.count() == runs


def test_a_paused_schedule_does_not_fire(api, pipeline) -> None:
    body = api.post(f"/api/pipelines/{pipeline['id']}/schedules/", {"cron": "* * * * *"},
                    format="json").json()
    assert api.patch(f"/api/schedules/{body['id']}/", {"enabled": False},
                     format="json").json()["enabled"] is False
    due(body["id"], timedelta(seconds=5))
    assert schedules_fire() == 0


def test_schedules_of_another_workspace_are_not_found(api, other_api, pipeline) -> None:
    body = api.post(f"/api/pipelines/{pipeline['id']}/schedules/", {"cron": "* * * * *"},
                    format="json").json()
    assert other_api.patch(f"/api/schedules/{body['id']}/", {"enabled": False},
                           format="json").status_code == 404
    assert other_api.get(f"/api/pipelines/{pipeline['id']}/schedules/").status_code == 404


def test_a_webhook_url_starts_a_run_and_a_wrong_or_revoked_one_does_not(api, pipeline) -> None:
    url = api.post(f"/api/pipelines/{pipeline['id']}/webhook/").json()["url"]
    path = url.split("testserver", 1)[1]
    anonymous = APIClient(enforce_csrf_checks=True)
    response = anonymous.post(path)
    assert response.status_code == 201 and response.json()["trigger"] == "webhook"
    assert anonymous.post(path.replace(path.split("/")[-2], "guess")).status_code == 404
    api.delete(f"/api/pipelines/{pipeline['id']}/webhook/")
    assert anonymous.post(path).status_code == 404
    assert Run.objects.filter(trigger="webhook").count() == 1


def test_a_cron_firing_more_often_than_once_a_minute_is_refused(api, pipeline) -> None:
    url = f"/api/pipelines/{pipeline['id']}/schedules/"
    for every_second in ("* * * * * *", "*/20 * * * * *", "0,30 0 * * * *"):
        response = api.post(url, {"cron": every_second}, format="json")
        assert response.status_code == 400, every_second
        assert "60 s apart" in response.json()["extra"]["fields"]["cron"][0]
    assert Schedule.objects.count() == 0
    preview = api.post("/api/schedules/preview/", {"cron": "*/20 * * * * *"}, format="json")
    assert preview.status_code == 400 and "cron" in preview.json()["extra"]["fields"]
    # A seconds field with one value fires at most once a minute.
    assert api.post(url, {"cron": "15 * * * * *"}, format="json").status_code == 201


@pytest.mark.django_db(transaction=True)  # migrations run outside a test transaction
def test_a_schedule_saved_before_the_minimum_is_paused_and_may_only_stay_paused(
        api, pipeline) -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("schedules", "0002_fire_records_missed_occurrences")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    Old = executor.loader.project_state(before).apps.get_model(  # noqa: N806 - a model class
        "schedules", "Schedule")
    fast = Old.objects.create(pipeline_id=pipeline["id"], cron="*/2 * * * * *")
    hourly = Old.objects.create(pipeline_id=pipeline["id"], cron="0 * * * *")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("schedules"))
    assert not Schedule.objects.get(pk=fast.pk).enabled
    assert Schedule.objects.get(pk=hourly.pk).enabled
    url = f"/api/schedules/{fast.pk}/"
    assert api.patch(url, {"enabled": True}, format="json").status_code == 400
    assert api.patch(url, {"enabled": False, "timezone": "Europe/Paris"},
                     format="json").status_code == 200


def test_a_passing_fault_while_starting_the_run_leaves_the_occurrence_to_the_next_tick(
        api, tmp_path) -> None:
    """The fire row used to commit before the run started: a refused connection left a row
    with neither run nor error, and the unique claim blocked any retry."""
    unreachable = tmp_path / "unreachable"
    graph = {"nodes": [{"id": "src", "operator": "test.unreachable_source",
                        "params": {"while_exists": str(unreachable)}}], "edges": []}
    pipeline = api.post("/api/pipelines/", {"name": "Flaky", "graph": graph},
                        format="json").json()
    # Yearly: with every minute, a slow test crossing a minute's start saw a newer occurrence
    # fire instead of the one made due (CI's loaded machine did).
    body = api.post(f"/api/pipelines/{pipeline['id']}/schedules/", {"cron": "0 0 1 1 *"},
                    format="json").json()
    due(body["id"], timedelta(seconds=2))
    occurrence = Schedule.objects.get(pk=body["id"]).next_fire_at
    unreachable.touch()
    assert schedules_fire() == 0
    assert not ScheduleFire.objects.exists() and not Run.objects.exists()
    assert Schedule.objects.get(pk=body["id"]).next_fire_at == occurrence  # still due
    unreachable.unlink()
    assert schedules_fire() == 1
    assert schedules_fire() == 0
    [fire] = ScheduleFire.objects.all()
    assert fire.fire_time == occurrence and fire.run_id == Run.objects.get().pk


@pytest.mark.parametrize(("policy", "runs"), [("skip", 0), ("run_once", 1)])
def test_a_catch_up_over_any_number_of_occurrences_collapses_into_the_latest(
        api, pipeline, policy, runs) -> None:
    """200 days of a five-minute schedule missed (57,600 occurrences), back 2.5 minutes after
    the latest: the catch-up used to stop counting at 10,000 and take an occurrence five
    months old for the latest."""
    body = api.post(f"/api/pipelines/{pipeline['id']}/schedules/",
                    {"cron": "*/5 * * * *", "missed_policy": policy}, format="json").json()
    now = timezone.now().replace(second=0, microsecond=0)
    latest = now.replace(minute=now.minute - now.minute % 5)
    back, down_since = latest + timedelta(minutes=2, seconds=30), latest - timedelta(days=200)
    Schedule.objects.filter(pk=body["id"]).update(next_fire_at=down_since)
    schedules_fire(now=back)
    assert Run.objects.count() == runs
    [fire] = ScheduleFire.objects.all()
    assert fire.fire_time == latest and fire.missed_since == down_since
    assert (fire.run_id is not None) == bool(runs)
    assert ("Missed" in fire.error) == (policy == "skip")
    listed = api.get(f"/api/pipelines/{pipeline['id']}/schedules/").json()[0]["last_fires"]
    assert listed[0]["missed_since"] == down_since.isoformat()
