"""Online predictions from the training pipeline: parity with batch, validation of request
rows, and the served model following the production alias."""
from __future__ import annotations

import copy
import io
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.test import override_settings
from jsonschema import ValidationError
from openapi_schema_validator import OAS30Validator
from openapi_schema_validator import validate as validate_openapi
from openapi_spec_validator import validate as validate_spec

from datagran.pipelines.demo import CHURN
from datagran.serving.models import PredictionLog
from tests.conftest import wait_for_run
from tests.registry.test_model_registry import retrain
from tests.serving.rows import row_problems

pytestmark = pytest.mark.django_db(transaction=True)


def run(api, pipeline_id: str, **body: Any) -> str:
    run_id = api.post(f"/api/pipelines/{pipeline_id}/runs/", body, format="json").json()["id"]
    assert wait_for_run(run_id).status == "succeeded"
    return run_id


def table(api, run_id: str, node: str) -> pd.DataFrame:
    response = api.get(f"/api/runs/{run_id}/nodes/{node}/output/?format=parquet")
    return pd.read_parquet(io.BytesIO(b"".join(response.streaming_content)))


def as_rows(frame: pd.DataFrame) -> list[dict]:
    clean = frame.astype(object).where(frame.notna(), None)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in clean.to_dict(orient="records")]


def promote(api, version: int, name: str = "Churn / train") -> None:
    model = next(m for m in api.get("/api/models/").json() if m["name"] == name)
    assert api.post(f"/api/models/{model['id']}/aliases/",
                    {"alias": "production", "version": version},
                    format="json").status_code == 200


def test_online_predictions_equal_the_batch_predictions_for_the_same_rows(api, churn) -> None:
    pipeline, run_id = churn
    customers = table(api, run_id, "customers").head(1000)
    batch = table(api, run_id, "score").head(1000)
    request_rows = as_rows(customers.drop(columns=["churned"]))
    response = api.post(f"/api/pipelines/{pipeline['id']}/predict", {"rows": request_rows},
                        format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["model"] == {"name": "Churn / train", "version": 1}
    online = pd.DataFrame(body["predictions"])
    assert len(online) == 1000
    np.testing.assert_array_equal(online["prediction"].to_numpy(),
                                  batch["prediction"].to_numpy())
    np.testing.assert_array_equal(online["probability"].to_numpy(dtype=float),
                                  batch["probability"].to_numpy(dtype=float))


def test_request_rows_are_checked_per_row_and_column(api, churn) -> None:
    pipeline, run_id = churn
    good = as_rows(table(api, run_id, "customers").drop(columns=["churned"]).head(3))
    bad = copy.deepcopy(good)
    del bad[0]["plan"]
    bad[1]["tenure_months"] = "long"
    bad[2]["favourite_colour"] = "blue"
    response = api.post(f"/api/pipelines/{pipeline['id']}/predict", {"rows": bad},
                        format="json")
    assert response.status_code == 400
    problems = {(row, column, message.split(",")[0]) for row, column, message
                in row_problems(response.json()["extra"]["fields"])}
    assert problems == {(0, "plan", "missing"),
                        (1, "tenure_months", "expected a whole number")}
    for rows in ([], "x", [1]):
        assert api.post(f"/api/pipelines/{pipeline['id']}/predict", {"rows": rows},
                        format="json").status_code == 400


FEATURES = {"plan", "tenure_months", "monthly_spend", "orders_last_90d", "support_tickets",
            "days_since_last_order"}  # what CHURN's model reads


def test_a_request_carries_only_the_columns_the_model_reads(api, churn) -> None:
    """The churn pipeline's rows enter at the customers source; the model reads six of its
    columns: only those are required, the others may be sent back with "return", and
    columns the pipeline does not have are ignored with a warning."""
    pipeline, run_id = churn
    url = f"/api/pipelines/{pipeline['id']}/predict"
    # No request logged: a logged one's answers carry ids too (see the feedback test).
    assert api.put(f"/api/pipelines/{pipeline['id']}/deployment/", {"sample_rate": 0},
                   format="json").status_code == 200
    stats = api.get(f"/api/pipelines/{pipeline['id']}/deployment/stats/").json()
    schema = {c["name"]: c["required"] for c in stats["input_schema"]}
    assert {name for name, required in schema.items() if required} == FEATURES
    assert {"customer_id", "email"} <= {name for name, required in schema.items()
                                        if not required}
    assert set(stats["example"]) == FEATURES  # the curl example sends only those

    customers = table(api, run_id, "customers").head(200)
    batch = table(api, run_id, "score").head(200)
    rows = as_rows(customers[[*sorted(FEATURES), "customer_id"]])
    for row in rows:
        row["favourite_colour"] = "blue"
    response = api.post(url, {"rows": rows, "return": ["customer_id"]}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["warnings"] == [
        "Ignored column(s) the pipeline does not take: favourite_colour."]
    online = pd.DataFrame(body["predictions"])
    assert list(online.columns) == ["customer_id", "prediction", "probability"]
    assert online["customer_id"].tolist() == customers["customer_id"].tolist()
    np.testing.assert_array_equal(online["prediction"].to_numpy(),
                                  batch["prediction"].to_numpy())
    np.testing.assert_allclose(online["probability"].to_numpy(dtype=float),
                               batch["probability"].to_numpy(dtype=float))
    # The endpoint's own OpenAPI document says the same, and the example fits it.
    document = api.get(f"/api/pipelines/{pipeline['id']}/deployment/openapi.json").json()
    validate_spec(document)

    def validate_schema(instance: Any, schema: dict) -> None:
        validate_openapi(instance, schema, cls=OAS30Validator)

    (path,) = document["paths"]
    assert path == f"/api/pipelines/{pipeline['id']}/predict"
    body_schema = document["paths"][path]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert set(body_schema["properties"]["rows"]["items"]["required"]) == FEATURES
    validate_schema({"rows": [stats["example"]], "return": ["customer_id"]}, body_schema)
    with pytest.raises(ValidationError):
        validate_schema({"rows": [{"plan": "pro"}]}, body_schema)
    # Without the extra column and "return": the bare answer, no warning.
    plain = api.post(url, {"rows": as_rows(customers[sorted(FEATURES)].head(1))},
                     format="json").json()
    assert plain["warnings"] == [] and set(plain["predictions"][0]) == {"prediction",
                                                                       "probability"}
    # A column the model reads is still required, and "return" names request columns.
    short = [{k: v for k, v in rows[0].items() if k != "monthly_spend"}]
    refused = api.post(url, {"rows": short}, format="json")
    assert refused.status_code == 400
    assert refused.json()["extra"]["fields"] == {"rows.0.monthly_spend": ["missing"]}
    for returned, message in ((["phone"], "return: no request row has the column(s) 'phone'."),
                              (["prediction"], "return: 'prediction' is a column of the "
                                               "answer itself."),
                              ("customer_id", "return: a list of at most 50 column names.")):
        refused = api.post(url, {"rows": rows[:1], "return": returned}, format="json")
        assert refused.status_code == 400 and refused.json()["message"] == message


def test_the_served_model_follows_the_production_alias_without_a_restart(api, churn,
                                                                          settings) -> None:
    pipeline, run_id = churn
    settings.DATAGRAN = {**settings.DATAGRAN, "SERVING_CACHE_SECONDS": 0}
    rows = as_rows(table(api, run_id, "customers").drop(columns=["churned"]).head(5))
    url = f"/api/pipelines/{pipeline['id']}/predict"
    retrain(api, pipeline)  # version 2, not promoted: production still serves 1
    assert api.post(url, {"rows": rows}, format="json").json()["model"]["version"] == 1
    promote(api, 2)
    assert api.post(url, {"rows": rows}, format="json").json()["model"]["version"] == 2
    promote(api, 1)
    assert api.post(url, {"rows": rows}, format="json").json()["model"]["version"] == 1


def test_a_pipeline_that_never_ran_says_so(api, worker) -> None:
    pipeline = api.post("/api/pipelines/", {"name": "New", "graph": copy.deepcopy(CHURN)},
                        format="json").json()
    response = api.post(f"/api/pipelines/{pipeline['id']}/predict", {"rows": [{"a": 1}]},
                        format="json")
    assert response.status_code == 400 and "run the pipeline first" in response.json()["message"]


def test_served_requests_are_logged_sampled_and_feed_the_drift_panel(api, churn,
                                                                      settings) -> None:
    pipeline, run_id = churn
    api.put(f"/api/pipelines/{pipeline['id']}/deployment/", {"sample_rate": 1.0},
            format="json")
    customers = table(api, run_id, "customers").drop(columns=["churned"])
    shifted = customers.head(20).copy()
    shifted["monthly_spend"] = shifted["monthly_spend"] * 10  # a population shift
    for chunk in (customers.head(20), shifted):
        api.post(f"/api/pipelines/{pipeline['id']}/predict", {"rows": as_rows(chunk)},
                 format="json")
    assert PredictionLog.objects.count() == 2
    stats = api.get(f"/api/pipelines/{pipeline['id']}/deployment/stats/").json()
    assert len(stats["requests"]) == 2 and stats["latency_ms"]["p50"] > 0
    drift = {d["feature"]: d for d in stats["drift"]}
    # Two requests are too few to call it drift: shown with its size, not flagged.
    assert stats["drift_requests"] == 2 and stats["drift_min_requests"] == 100
    assert drift["monthly_spend"]["psi"] > stats["psi_warning"]
    assert not any(d["warning"] for d in stats["drift"])
    with override_settings(DATAGRAN={**settings.DATAGRAN, "DRIFT_MIN_REQUESTS": 2}):
        stats = api.get(f"/api/pipelines/{pipeline['id']}/deployment/stats/").json()
    drift = {d["feature"]: d for d in stats["drift"]}
    assert drift["monthly_spend"]["warning"] is True
    assert drift["plan"]["warning"] is False
    # Only the model's features: not the identifiers the request rows also carry.
    assert set(drift) == {"plan", "tenure_months", "monthly_spend", "orders_last_90d",
                          "support_tickets", "days_since_last_order"}
    assert {c["name"] for c in stats["input_schema"]} == set(customers.columns)


def test_bad_deployment_settings_are_refused(api, churn) -> None:
    pipeline, _ = churn
    url = f"/api/pipelines/{pipeline['id']}/deployment/"
    assert api.put(url, {"input_node": "ghost"}, format="json").status_code == 400
    assert api.put(url, {"input_node": "score", "output_node": "customers"},
                   format="json").status_code == 400
    assert api.put(url, {"sample_rate": 2}, format="json").status_code == 400
    assert api.get(url).json()["input_node"] == "customers"


def test_the_request_log_keeps_only_the_newest_requests(api, churn, monkeypatch) -> None:
    from datagran.serving import services

    monkeypatch.setattr(PredictionLog, "MAX_KEPT", 5)
    monkeypatch.setattr(services, "TRIM_EVERY", 4)
    pipeline, run_id = churn
    api.put(f"/api/pipelines/{pipeline['id']}/deployment/", {"sample_rate": 1.0},
            format="json")
    rows = as_rows(table(api, run_id, "customers").drop(columns=["churned"]))
    counts = []
    for i in range(30):
        api.post(f"/api/pipelines/{pipeline['id']}/predict", {"rows": rows[i:i + 1]},
                 format="json")
        counts.append(PredictionLog.objects.count())
    assert max(counts) <= 5 + 4 - 1 and counts[-1] >= 5
    newest = PredictionLog.objects.order_by("-id")[0]
    assert newest.inputs == rows[29:30]


def test_another_user_cannot_predict(other_api, churn) -> None:
    pipeline, _ = churn
    response = other_api.post(f"/api/pipelines/{pipeline['id']}/predict", {"rows": [{}]},
                              format="json")
    assert response.status_code == 404


def test_a_revoked_token_or_a_lost_membership_stops_predictions_at_once(api, churn,
                                                                          user) -> None:
    # Serving remembers the token, the pipeline and the deployment for a second so that a
    # prediction makes no query; a change made in this process must still count at once.
    from rest_framework.authtoken.models import Token

    from datagran.workspaces.models import Membership

    pipeline, run_id = churn
    url = f"/api/pipelines/{pipeline['id']}/predict"
    rows = as_rows(table(api, run_id, "customers").drop(columns=["churned"]).head(1))
    assert api.post(url, {"rows": rows}, format="json").status_code == 200
    api.put(f"/api/pipelines/{pipeline['id']}/deployment/", {"enabled": False},
            format="json")
    response = api.post(url, {"rows": rows}, format="json")
    assert response.status_code == 400 and "turned off" in response.json()["message"]
    api.put(f"/api/pipelines/{pipeline['id']}/deployment/", {"enabled": True}, format="json")
    assert api.post(url, {"rows": rows}, format="json").status_code == 200

    Membership.objects.filter(user=user).delete()
    assert api.post(url, {"rows": rows}, format="json").status_code == 404
    Token.objects.filter(user=user).delete()
    assert api.post(url, {"rows": rows}, format="json").status_code == 401


def test_requests_arriving_together_after_a_promotion_load_the_model_once(
        api, churn, monkeypatch) -> None:
    import threading
    import time

    from datagran.pipelines.models import Pipeline
    from datagran.serving import services

    pipeline, run_id = churn
    rows = as_rows(table(api, run_id, "customers").drop(columns=["churned"]).head(1))
    loads, build = [], services._build

    def slow_build(*args: Any) -> Any:
        loads.append(1)
        time.sleep(0.3)  # reading a large model from S3, say
        return build(*args)

    monkeypatch.setattr(services, "_build", slow_build)
    services._compiled.clear()
    answers = []

    def request() -> None:
        from django.db import connection

        answers.append(services.predict(
            pipeline=Pipeline.objects.select_related("current_version").get(
                pk=pipeline["id"]), rows=rows)["model"]["version"])
        connection.close()

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [1, 1, 1, 1]
    assert len(loads) == 1


def test_each_deployments_request_log_stays_bounded_beside_another(api, monkeypatch) -> None:
    """The bound held only for the deployment whose entries happened to get every
    TRIM_EVERY-th id of the shared table: with two deployments logging in turn, the other
    one grew without end."""
    from datagran.serving import services
    from datagran.serving.models import Deployment
    from tests.graphs import chain_graph

    monkeypatch.setattr(PredictionLog, "MAX_KEPT", 5)
    monkeypatch.setattr(services, "TRIM_EVERY", 2)
    deployments = []
    for name in ("A", "B"):
        pipeline = api.post("/api/pipelines/", {"name": name, "graph": chain_graph()},
                            format="json").json()
        deployments.append(Deployment.objects.create(
            pipeline_id=pipeline["id"], input_node="a", output_node="b", sample_rate=1))
    most = {d.pk: 0 for d in deployments}
    for i in range(40):
        for deployment in deployments:
            services._log(deployment, [{"i": i}], 1.0, None, {})
            most[deployment.pk] = max(most[deployment.pk], deployment.log.count())
    print(f"most rows kept per deployment: {sorted(most.values())} (bound 5 + 2 - 1)")
    assert all(n <= 5 + 2 - 1 for n in most.values())
    for deployment in deployments:  # the newest are the ones kept
        assert [e.inputs for e in deployment.log.all()][0] == [{"i": 39}]


def test_a_pipeline_serves_only_once_a_version_is_promoted(api, trained_churn) -> None:
    pipeline, run_id = trained_churn
    url = f"/api/pipelines/{pipeline['id']}/predict"
    deployment = api.get(f"/api/pipelines/{pipeline['id']}/deployment/").json()
    assert deployment["enabled"] is True and deployment["serving_state"] == "waiting"
    assert "promote" in deployment["serving_reason"]
    # The deploy page still shows what a request looks like, from the newest version.
    stats = api.get(f"/api/pipelines/{pipeline['id']}/deployment/stats/").json()
    assert stats["deployment"]["serving_state"] == "waiting" and stats["input_schema"]
    rows = as_rows(table(api, run_id, "customers").drop(columns=["churned"]).head(2))
    api.put(f"/api/pipelines/{pipeline['id']}/deployment/", {"sample_rate": 1}, format="json")
    refused = api.post(url, {"rows": rows}, format="json")
    assert refused.status_code == 409
    assert "No version of the model “Churn / train” is promoted" in refused.json()["message"]
    # Logged for the error rate, without its rows; not counted as a request answered.
    assert list(PredictionLog.objects.values_list("status", "inputs")) == [(409, [])]
    stats = api.get(f"/api/pipelines/{pipeline['id']}/deployment/stats/").json()
    assert (stats["error_rate"], stats["drift_requests"]) == (1.0, 0)
    promote(api, 1)
    deployment = api.get(f"/api/pipelines/{pipeline['id']}/deployment/").json()
    assert deployment["serving_state"] == "serving"
    assert api.post(url, {"rows": rows}, format="json").status_code == 200
    api.put(f"/api/pipelines/{pipeline['id']}/deployment/", {"enabled": False},
            format="json")
    assert api.get(f"/api/pipelines/{pipeline['id']}/deployment/").json()["serving_state"] == "off"


def test_the_request_schema_follows_the_entry_node_when_it_changes(api, churn) -> None:
    pipeline, _ = churn
    stats_url = f"/api/pipelines/{pipeline['id']}/deployment/stats/"
    before = api.get(stats_url).json()
    assert "churned" not in {c["name"] for c in before["input_schema"]}
    # The rows now enter after the feature selection: the schema and example say so at once.
    graph = api.get(f"/api/pipelines/{pipeline['id']}/").json()["graph"]
    later = next(e["target"] for e in graph["edges"] if e["source"] == "customers")
    saved = api.put(f"/api/pipelines/{pipeline['id']}/deployment/", {"input_node": later},
                    format="json")
    if saved.status_code != 200:
        pytest.skip(f"{later} cannot take request rows: {saved.json()['message']}")
    after = api.get(stats_url).json()
    assert after["deployment"]["input_node"] == later
    names = [c["name"] for c in after["input_schema"] if c["required"]]
    assert set(after["example"]) == set(names) == FEATURES


def test_a_deployment_whose_entry_node_was_replaced_follows_the_pipeline(api, churn) -> None:
    pipeline, _ = churn
    graph = api.get(f"/api/pipelines/{pipeline['id']}/").json()["graph"]
    for node in graph["nodes"]:
        if node["id"] == "customers":
            node["id"] = "people"
    for edge in graph["edges"]:
        if edge["source"] == "customers":
            edge["source"] = "people"
    assert api.patch(f"/api/pipelines/{pipeline['id']}/", {"graph": graph},
                     format="json").status_code == 200
    deployment = api.get(f"/api/pipelines/{pipeline['id']}/deployment/").json()
    assert (deployment["input_node"], deployment["output_node"]) == ("people", "score")


def test_feedback_on_logged_predictions_gives_the_live_accuracy(api, churn, other_api) -> None:
    """Each answer of a logged request has an id; the labels sent back for them make the deploy
    page's live accuracy and AUC, equal to scikit-learn's on the same predictions."""
    from sklearn.metrics import roc_auc_score

    pipeline, run_id = churn
    base = f"/api/pipelines/{pipeline['id']}"
    assert api.put(f"{base}/deployment/", {"sample_rate": 1}, format="json").status_code == 200
    customers = table(api, run_id, "customers").head(120)
    rows = as_rows(customers[sorted(FEATURES)])
    answers = api.post(f"{base}/predict", {"rows": rows}, format="json").json()["predictions"]
    ids = [a["id"] for a in answers]
    assert len(set(ids)) == 120 and all(i.endswith(f"-{n}") for n, i in enumerate(ids))
    truth = customers["churned"].tolist()
    labels = [{"id": i, "label": y} for i, y in zip(ids, truth, strict=True)]
    strangers = [{"id": "999999-0", "label": "yes"}, {"id": f"{ids[0][:-2]}-500", "label": "no"}]
    sent = api.post(f"{base}/feedback/", labels + strangers, format="json")
    assert sent.status_code == 200, sent.json()
    assert sent.json()["recorded"] == 120
    assert sorted(sent.json()["unknown"]) == sorted(["999999-0", f"{ids[0][:-2]}-500"])

    feedback = api.get(f"{base}/deployment/stats/").json()["feedback"]
    predicted = [a["prediction"] for a in answers]
    assert feedback["labelled"] == 120 and feedback["metric"] == "accuracy"
    assert feedback["accuracy"] == pytest.approx(np.mean([p == y for p, y in
                                                          zip(predicted, truth, strict=True)]))
    positive = sorted(set(truth))[1]  # "yes": the model's second class
    p_yes = [a["probability"] if a["prediction"] == positive else 1 - a["probability"]
             for a in answers]
    assert feedback["auc"] == pytest.approx(roc_auc_score([y == positive for y in truth],
                                                          p_yes), abs=1e-6)
    assert sum(p["labelled"] for p in feedback["series"]) == 120
    assert set(feedback["training"]) == {"accuracy", "roc_auc"}

    # A label sent again replaces the first; bad bodies name the item; other users: 404.
    flipped = "no" if truth[0] == "yes" else "yes"
    assert api.post(f"{base}/feedback/", [{"id": ids[0], "label": flipped}],
                    format="json").json() == {"recorded": 1, "unknown": []}
    again = api.get(f"{base}/deployment/stats/").json()["feedback"]
    assert again["labelled"] == 120 and again["accuracy"] != feedback["accuracy"]
    for body, field in (([{"id": ids[0]}], "feedback.0"),
                        ([{"id": ids[1], "label": "yes"}, {"id": "1-2-3", "label": 1}],
                         "feedback.1"),
                        ([{"id": "9" * 40, "label": 1}], "feedback.0"),
                        ([{"id": ids[0], "label": {"nested": 1}}], "feedback.0"),
                        ({"id": ids[0], "label": 1}, "feedback"), ([], "feedback")):
        refused = api.post(f"{base}/feedback/", body, format="json")
        assert refused.status_code == 400 and field in refused.json()["extra"]["fields"], body
    assert api.get(f"{base}/deployment/stats/").json()["feedback"]["accuracy"] == \
        again["accuracy"]  # the refused bodies changed nothing
    assert other_api.post(f"{base}/feedback/", [{"id": ids[0], "label": "yes"}],
                          format="json").status_code == 404


def test_a_challenger_answers_in_the_shadow_and_is_promoted_in_one_step(api, churn) -> None:
    """Version 2 behind the "challenger" alias scores every logged request after the answer
    (which stays version 1's); the deploy page compares the two on agreement and on the
    labels sent back; "promote challenger" moves production to it, audited."""
    from datagran.serving.services import shadow_wait
    from datagran.workspaces.models import AuditEntry

    pipeline, run_id = churn
    base = f"/api/pipelines/{pipeline['id']}"
    second = retrain(api, pipeline)
    model = next(m for m in api.get("/api/models/").json() if m["name"] == "Churn / train")
    assert api.post(f"/api/models/{model['id']}/aliases/", {"alias": "challenger",
                    "version": 2}, format="json").status_code == 200
    assert api.put(f"{base}/deployment/", {"sample_rate": 1}, format="json").status_code == 200
    customers = table(api, run_id, "customers").head(80)
    body = api.post(f"{base}/predict", {"rows": as_rows(customers[sorted(FEATURES)])},
                    format="json").json()
    assert body["model"] == {"name": "Churn / train", "version": 1}  # the champion answers
    shadow_wait()

    champion = table(api, run_id, "score").head(80)["prediction"].tolist()
    contender = table(api, second, "score").head(80)["prediction"].tolist()
    truth = customers["churned"].tolist()
    labels = [{"id": p["id"], "label": y} for p, y in zip(body["predictions"], truth,
                                                          strict=True)]
    assert api.post(f"{base}/feedback/", labels, format="json").json()["recorded"] == 80
    compared = api.get(f"{base}/deployment/stats/").json()["challenger"]
    assert compared["version"] == 2 and compared["requests"] == 1 and compared["errors"] == 0
    assert compared["agreement"] == pytest.approx(
        np.mean([a == b for a, b in zip(champion, contender, strict=True)]))
    assert compared["champion_quality"] == pytest.approx(
        np.mean([a == y for a, y in zip(champion, truth, strict=True)]))
    assert compared["challenger_quality"] == pytest.approx(
        np.mean([b == y for b, y in zip(contender, truth, strict=True)]))
    assert compared["labelled"] == 80 and compared["challenger_p50_ms"] is not None

    promoted = api.post(f"{base}/deployment/promote-challenger/", format="json")
    assert promoted.status_code == 200 and promoted.json() == {"name": "Churn / train",
                                                                "version": 2}
    aliases = next(m for m in api.get("/api/models/").json()
                   if m["name"] == "Churn / train")["aliases"]
    assert aliases == {"production": 2}
    again = api.post(f"{base}/predict", {"rows": as_rows(customers[sorted(FEATURES)].head(1))},
                     format="json").json()
    assert again["model"]["version"] == 2
    assert api.get(f"{base}/deployment/stats/").json()["challenger"] is None
    assert AuditEntry.objects.filter(action="deployment.promote_challenger",
                                     target=pipeline["name"]).count() == 1
    refused = api.post(f"{base}/deployment/promote-challenger/", format="json")
    assert refused.status_code == 409 and "no challenger" in refused.json()["message"]
