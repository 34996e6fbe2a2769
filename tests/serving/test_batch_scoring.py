"""Batch scoring through a deployment (model.score_deployment): a whole table scored with the
production model through the plan online requests go through, equal to them row for row, and
sent on to an action; the refusals a user meets before the pipeline serves."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from datagran.runs.models import NodeRun
from tests.conftest import wait_for_run
from tests.datasets.test_dataset_versions import upload
from tests.serving.test_predict import as_rows, promote, run, table

pytestmark = pytest.mark.django_db(transaction=True)


def scoring_graph(source: dict, served: str = "Churn") -> dict:
    return {"nodes": [
        source,
        {"id": "score", "operator": "model.score_deployment", "params": {"pipeline": served}},
        {"id": "export", "operator": "action.export_file",
         "params": {"format": "csv", "filename": "churn_scores"}}],
        "edges": [
            {"source": source["id"], "source_port": "table", "target": "score",
             "target_port": "table"},
            {"source": "score", "source_port": "table", "target": "export",
             "target_port": "table"}]}


def customers_changed(api, run_id: str) -> pd.DataFrame:
    """600 of the demo's customers as a business would upload them: some values changed, some
    missing, the label absent."""
    rows = table(api, run_id, "customers").head(600).drop(columns=["churned"])
    rows.loc[::7, "monthly_spend"] = np.nan
    rows.loc[::5, "support_tickets"] = rows.loc[::5, "support_tickets"] + 4
    rows.loc[::11, "plan"] = None
    return rows


def test_batch_scores_equal_the_online_answers_row_for_row(api, churn) -> None:
    pipeline, run_id = churn
    rows = customers_changed(api, run_id)
    dataset = upload(api, rows.to_csv(index=False).encode(), name="customers_today.csv").json()
    scoring = api.post("/api/pipelines/", {"name": "Churn scores", "graph": scoring_graph(
        {"id": "today", "operator": "connector.upload", "params": {"dataset": dataset["id"]}})},
        format="json")
    assert scoring.status_code == 201, scoring.json()
    scored_run = run(api, scoring.json()["id"])
    batch = table(api, scored_run, "score")
    assert len(batch) == 600
    # The table's own columns pass through, the answer's come last.
    assert list(batch.columns) == [*rows.columns, "prediction", "probability"]
    np.testing.assert_array_equal(batch["customer_id"].to_numpy(), rows["customer_id"])
    uploaded = table(api, scored_run, "today")
    online = api.post(f"/api/pipelines/{pipeline['id']}/predict", {"rows": as_rows(uploaded)},
                      format="json")
    assert online.status_code == 200, online.json()
    answers = pd.DataFrame(online.json()["predictions"])
    np.testing.assert_array_equal(batch["prediction"].to_numpy(),
                                  answers["prediction"].to_numpy())
    np.testing.assert_array_equal(batch["probability"].to_numpy(dtype=float),
                                  answers["probability"].to_numpy(dtype=float))
    # Scored with the production model, which the run's log names; the scores exported.
    node = NodeRun.objects.get(run_id=scored_run, node_id="score")
    assert any("Churn / train v1" in line for line in node.logs)
    export = NodeRun.objects.get(run_id=scored_run, node_id="export")
    assert export.files and export.files[0]["name"].endswith(".csv")


def test_the_next_scoring_follows_the_production_alias(api, churn) -> None:
    """Never a cached result: after a promotion, the same table scores with the new model."""
    from tests.registry.test_model_registry import retrain

    pipeline, run_id = churn
    scoring = api.post("/api/pipelines/", {"name": "Churn scores", "graph": scoring_graph(
        {"id": "all", "operator": "connector.sample_dataset",
         "params": {"dataset": "customers"}})}, format="json").json()
    first = run(api, scoring["id"])
    retrain(api, pipeline, seed=11)
    promote(api, 2)
    second = run(api, scoring["id"])
    logs = {r: NodeRun.objects.get(run_id=r, node_id="score") for r in (first, second)}
    assert not logs[second].cached
    assert any("v1" in line for line in logs[first].logs)
    assert any("v2" in line for line in logs[second].logs)


def test_scoring_before_a_promotion_fails_the_node_saying_what_to_do(api, trained_churn
                                                                   ) -> None:
    scoring = api.post("/api/pipelines/", {"name": "Churn scores", "graph": scoring_graph(
        {"id": "all", "operator": "connector.sample_dataset",
         "params": {"dataset": "customers"}})}, format="json").json()
    run_id = api.post(f"/api/pipelines/{scoring['id']}/runs/", {}, format="json").json()["id"]
    assert wait_for_run(run_id).status == "failed"
    node = NodeRun.objects.get(run_id=run_id, node_id="score")
    assert "promote" in node.error and "Churn" in node.error
    assert not NodeRun.objects.filter(run_id=run_id, node_id="export", status="succeeded"
                                      ).exists()


def test_rows_the_endpoint_would_refuse_fail_the_node_with_its_message(api, churn) -> None:
    dataset = upload(api, b"customer_id,plan\n1,basic\n2,pro\n", name="thin.csv").json()
    scoring = api.post("/api/pipelines/", {"name": "Thin", "graph": scoring_graph(
        {"id": "thin", "operator": "connector.upload", "params": {"dataset": dataset["id"]}})},
        format="json").json()
    run_id = api.post(f"/api/pipelines/{scoring['id']}/runs/", {}, format="json").json()["id"]
    assert wait_for_run(run_id).status == "failed"
    error = NodeRun.objects.get(run_id=run_id, node_id="score").error
    assert "lacks the column(s) the deployment requires" in error
    assert all(c in error for c in ("tenure_months", "monthly_spend", "days_since_last_order"))


def test_a_pipeline_that_is_not_there_is_refused_at_save(api, churn) -> None:
    from datagran.pipelines.models import Pipeline

    before = Pipeline.objects.count()
    response = api.post("/api/pipelines/", {"name": "Nowhere", "graph": scoring_graph(
        {"id": "all", "operator": "connector.sample_dataset",
         "params": {"dataset": "customers"}}, served="No such pipeline")}, format="json")
    assert response.status_code == 400
    assert "No pipeline named 'No such pipeline'" in str(response.json())
    assert Pipeline.objects.count() == before


def test_a_pipeline_of_another_workspace_is_not_found(api, other_api, churn) -> None:
    response = other_api.post("/api/pipelines/", {"name": "Theirs", "graph": scoring_graph(
        {"id": "all", "operator": "connector.sample_dataset",
         "params": {"dataset": "customers"}})}, format="json")
    assert response.status_code == 400
    assert "No pipeline named 'Churn'" in str(response.json())


def test_the_scores_reach_an_action_as_a_csv(api, churn) -> None:
    scoring = api.post("/api/pipelines/", {"name": "Churn scores", "graph": scoring_graph(
        {"id": "all", "operator": "connector.sample_dataset",
         "params": {"dataset": "customers"}})}, format="json").json()
    run_id = run(api, scoring["id"])
    export = NodeRun.objects.get(run_id=run_id, node_id="export")
    response = api.get(f"/api/runs/{run_id}/nodes/export/files/{export.files[0]['name']}")
    assert response.status_code == 200
    csv = pd.read_csv(io.BytesIO(b"".join(response.streaming_content)))
    assert {"customer_id", "prediction", "probability"} <= set(csv.columns)
    assert len(csv) == len(table(api, run_id, "all"))


# --- the deploy page's "Score on a schedule" ---------------------------------------------------

def test_the_deploy_page_makes_a_scheduled_scoring_pipeline_that_runs_green(api, churn) -> None:
    from datagran.schedules.models import Schedule
    from datagran.workspaces.models import AuditEntry

    pipeline, _run = churn
    url = f"/api/pipelines/{pipeline['id']}/deployment/batch/"
    assert api.get(url).json() == []
    response = api.post(url, {"source": "input"}, format="json")
    assert response.status_code == 201, response.json()
    made = response.json()
    assert made["schedule"]["cron"] == "0 2 * * *" and made["schedule"]["enabled"] is False
    schedule = Schedule.objects.get(pipeline_id=made["id"])
    assert not schedule.enabled
    # The rows are the serving input's source, read afresh: the customers sample.
    graph = api.get(f"/api/pipelines/{made['id']}/").json()["graph"]
    rows = next(n for n in graph["nodes"] if n["id"] == "rows")
    assert (rows["operator"], rows["params"]) == ("connector.sample_dataset",
                                                  {"dataset": "customers"})
    scored = run(api, made["id"])
    assert len(table(api, scored, "score")) == len(table(api, _run, "customers"))
    listed = api.get(url).json()
    assert [p["id"] for p in listed] == [made["id"]]
    assert listed[0]["last_run"]["status"] == "succeeded"
    assert AuditEntry.objects.filter(action="deployment.batch_scoring").count() == 1


def test_batch_scoring_refusals_name_the_field_and_save_nothing(api, other_api, churn) -> None:
    from datagran.pipelines.models import Pipeline

    pipeline, _run = churn
    url = f"/api/pipelines/{pipeline['id']}/deployment/batch/"
    before = Pipeline.objects.count()
    for body, field in (({"source": "ftp"}, "source"), ({"source": "dataset"}, "dataset"),
                        ({"source": "dataset", "dataset": "nope"}, "dataset"),
                        ({"source": "input", "cron": "* * * * * *"}, "cron"),
                        ({"source": "input", "timezone": "Mars/Olympus"}, "timezone")):
        response = api.post(url, body, format="json")
        assert response.status_code == 400, (body, response.json())
        assert field in str(response.json()), (body, response.json())
    # Another workspace's pipeline is not found, as every foreign object.
    assert other_api.post(url, {"source": "input"}, format="json").status_code == 404
    assert other_api.get(url).status_code == 404
    assert Pipeline.objects.count() == before
