"""Features looked up live (issue 19) against a real PostgreSQL (a database of its own,
dg_lookup_*), reached through a TCP proxy the test can stop: the request carries a visit (a
customer id and the pages seen); the customer's plan and spend are read by key per request and
passed through the derive node between the source and the join, as in training.

A customer's row changed in the database changes the next prediction, which then equals what
a batch run over the changed table predicts with the same model; the TTL cache reuses rows;
"as of training" reads the training run's table; an unknown key is a warning and missing
features; the database unreachable is a 503 naming the lookup."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from django.conf import settings

from tests.conftest import wait_for_run
from tests.proxy import TcpProxy
from tests.serving.test_predict import promote, table

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432"
CUSTOMERS = 60


@pytest.fixture
def warehouse() -> Iterator[tuple[str, sa.Engine]]:
    name = f"dg_lookup_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{ADMIN}/postgres", poolclass=sa.pool.NullPool,
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name}")
    engine = sa.create_engine(f"{ADMIN}/{name}", poolclass=sa.pool.NullPool)
    rng = np.random.default_rng(3)
    spend = rng.uniform(0, 2000, CUSTOMERS).round(2)
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY, plan TEXT, "
                          "spend DOUBLE PRECISION)")
        c.exec_driver_sql("CREATE TABLE visits (visit_id INTEGER, customer_id INTEGER, "
                          "pages INTEGER, bought TEXT)")
        c.execute(sa.text("INSERT INTO customers VALUES (:id, :plan, :spend)"), [
            {"id": i + 1, "plan": "pro" if i % 3 == 0 else "basic", "spend": float(spend[i])}
            for i in range(CUSTOMERS)])
        visits = []
        for v in range(400):
            customer = int(rng.integers(1, CUSTOMERS + 1))
            pages = int(rng.integers(1, 20))
            score = spend[customer - 1] / 2000 + pages / 20 + rng.normal(0, 0.2)
            visits.append({"v": v, "c": customer, "p": pages,
                           "b": "yes" if score > 1 else "no"})
        c.execute(sa.text("INSERT INTO visits VALUES (:v, :c, :p, :b)"), visits)
    try:
        yield name, engine
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        admin.dispose()


def node(node_id: str, operator: str, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "operator": operator, "params": params,
            "position": {"x": 0, "y": 0}}


def edge(source: str, target: str, target_port: str = "table", source_port: str = "table"
         ) -> dict[str, str]:
    return {"source": source, "source_port": source_port, "target": target,
            "target_port": target_port}


def graph(connection: str, *, model: dict[str, Any] | None = None) -> dict[str, Any]:
    """visits → join ← spend_k ← profiles; train on the join; predict the join's rows. With
    ``model`` (a registered model node), no training: the batch scoring of the same rows."""
    nodes = [
        node("visits", "connector.sql_query", connection=connection,
             query="SELECT visit_id, customer_id, pages, bought FROM visits"),
        # A % and a closing comment: the lookup wraps the query as written.
        node("profiles", "connector.sql_query", connection=connection,
             query="SELECT id, plan, spend FROM customers WHERE plan LIKE '%' -- 100%"),
        node("spend_k", "transform.derive_column", name="spend_k", expression="spend / 1000"),
        node("features", "transform.join", how="left",
             on=[{"left": "customer_id", "right": "id"}]),
        node("predict", "model.predict"),
    ]
    edges = [edge("profiles", "spend_k"), edge("visits", "features", "left"),
             edge("spend_k", "features", "right"), edge("features", "predict")]
    if model is None:
        nodes.append(node("train", "model.train_classifier", target="bought",
                          features=["pages", "plan", "spend_k"],
                          algorithm="logistic_regression", seed=1))
        edges += [edge("features", "train", "train"),
                  edge("train", "predict", "model", "model")]
    else:
        nodes.append(node("model", "model.registered", **model))
        edges.append(edge("model", "predict", "model", "model"))
    return {"nodes": nodes, "edges": edges}


def run(api: Any, pipeline_id: str) -> str:
    run_id = api.post(f"/api/pipelines/{pipeline_id}/runs/", {}, format="json").json()["id"]
    finished = wait_for_run(run_id)
    assert finished.status == "succeeded", finished.error
    return run_id


@pytest.fixture
def served(api: Any, worker: Any, warehouse: tuple[str, sa.Engine],
           monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setitem(settings.DATAGRAN, "URL_ALLOWLIST", ["127.0.0.1"])
    name, engine = warehouse
    with TcpProxy(5432) as proxy:
        connection = api.post("/api/connections/", {
            "name": "Warehouse", "kind": "postgresql", "fields": {
                "host": "127.0.0.1", "port": proxy.port, "database": name,
                "user": "postgres"}}, format="json")
        assert connection.status_code == 201, connection.json()
        pipeline = api.post("/api/pipelines/", {"name": "Lookups", "graph": graph(
            connection.json()["id"])}, format="json").json()
        run_id = run(api, pipeline["id"])
        promote(api, 1, name="Lookups / train")
        yield {"pipeline": pipeline, "run": run_id, "engine": engine, "proxy": proxy,
               "connection": connection.json()["id"]}


def predict(api: Any, pipeline_id: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    response = api.post(f"/api/pipelines/{pipeline_id}/predict",
                        {"rows": rows, "return": ["visit_id"]}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def probabilities(body: dict[str, Any]) -> dict[int, float]:
    return {p["visit_id"]: p["probability"] for p in body["predictions"]}


def test_a_changed_customer_row_is_used_at_once_and_equals_a_batch_run(api: Any,
                                                                      served: Any) -> None:
    pipeline_id = served["pipeline"]["id"]
    stats_url = f"/api/pipelines/{pipeline_id}/deployment/stats/"
    assert api.put(f"/api/pipelines/{pipeline_id}/deployment/", {"sample_rate": 1},
                   format="json").status_code == 200  # every request logged
    stats = api.get(stats_url).json()
    assert [(lk["node"], lk["mode"], lk["why_not_live"]) for lk in stats["lookups"]] == [
        ("spend_k", "live", "")]
    # The request gives the visit; plan and spend come from the database.
    required = {c["name"] for c in stats["input_schema"] if c["required"]}
    assert required == {"customer_id", "pages"}

    visits = table(api, served["run"], "visits").head(30)
    rows = [{"visit_id": int(v.visit_id), "customer_id": int(v.customer_id),
             "pages": int(v.pages)} for v in visits.itertuples()]
    before = probabilities(predict(api, pipeline_id, rows))
    batch_before = table(api, served["run"], "predict").set_index("visit_id")
    for visit_id, probability in before.items():
        assert probability == pytest.approx(batch_before.loc[visit_id, "probability"])

    # Ten times the spend for the customers of those visits: the next request sees it.
    changed = sorted({r["customer_id"] for r in rows})
    with served["engine"].begin() as c:
        c.execute(sa.text("UPDATE customers SET spend = spend * 10 + 5000 "
                          "WHERE id = ANY(:ids)"), {"ids": changed})
    after = probabilities(predict(api, pipeline_id, rows))
    assert all(after[v] != pytest.approx(before[v]) for v in before)

    # A batch run over the changed table, scoring with the same (production) model.
    scoring = api.post("/api/pipelines/", {"name": "Scoring", "graph": graph(
        served["connection"], model={"model": "Lookups / train", "alias": "production"})},
        format="json").json()
    batch = table(api, run(api, scoring["id"]), "predict").set_index("visit_id")
    for visit_id, probability in after.items():
        assert probability == pytest.approx(batch.loc[visit_id, "probability"])

    logged = api.get(stats_url).json()["lookups"][0]
    assert logged["mode"] == "live" and logged["hit_rate"] == 0.0  # TTL 0: always read


def test_the_ttl_reuses_rows_and_as_of_training_reads_the_training_table(api: Any,
                                                                        served: Any) -> None:
    pipeline_id = served["pipeline"]["id"]
    url = f"/api/pipelines/{pipeline_id}/deployment/"
    row = [{"visit_id": 1, "customer_id": 4, "pages": 9}]
    fresh = probabilities(predict(api, pipeline_id, row))[1]
    assert api.put(url, {"lookup_ttl_seconds": 600, "sample_rate": 1},
                   format="json").status_code == 200
    assert probabilities(predict(api, pipeline_id, row))[1] == pytest.approx(fresh)
    with served["engine"].begin() as c:
        c.exec_driver_sql("UPDATE customers SET spend = 99999 WHERE id = 4")
    # Within the TTL the rows read before are reused: the same answer, from the cache.
    assert probabilities(predict(api, pipeline_id, row))[1] == pytest.approx(fresh)
    stats = api.get(f"{url}stats/").json()["lookups"][0]
    assert stats["requests"] >= 1 and stats["hit_rate"] > 0
    # Always fresh again: the change counts.
    assert api.put(url, {"lookup_ttl_seconds": 0}, format="json").status_code == 200
    changed = probabilities(predict(api, pipeline_id, row))[1]
    assert changed != pytest.approx(fresh)
    # As of training: the table the training run read, whatever the database says now.
    assert api.put(url, {"lookup_modes": {"spend_k": "training"}},
                   format="json").status_code == 200
    assert probabilities(predict(api, pipeline_id, row))[1] == pytest.approx(fresh)
    assert api.get(f"{url}stats/").json()["lookups"][0]["mode"] == "training"
    # Refusals name the field.
    for body, field in (({"lookup_modes": {"visits": "live"}}, "lookup_modes.visits"),
                        ({"lookup_modes": {"spend_k": "sometimes"}}, "lookup_modes.spend_k"),
                        ({"lookup_ttl_seconds": -1}, "lookup_ttl_seconds")):
        refused = api.put(url, body, format="json")
        assert refused.status_code == 400 and field in refused.json()["extra"]["fields"]


def test_an_unknown_key_is_a_warning_and_an_unreachable_database_a_503(api: Any,
                                                                      served: Any) -> None:
    pipeline_id = served["pipeline"]["id"]
    body = predict(api, pipeline_id, [{"visit_id": 1, "customer_id": 4, "pages": 9},
                                      {"visit_id": 2, "customer_id": 9999, "pages": 9}])
    assert [p["visit_id"] for p in body["predictions"]] == [1, 2]
    assert body["warnings"] == [
        "1 key(s) not found by the lookup SQL database (profiles) (customer_id: 9999): "
        "their features are missing."]
    served["proxy"].stop()
    refused = api.post(f"/api/pipelines/{pipeline_id}/predict",
                       {"rows": [{"customer_id": 4, "pages": 9}]}, format="json")
    # A pooled connection cut (or a new one refused): the lookup named, nothing predicted.
    assert refused.status_code == 503
    message = refused.json()["message"]
    assert message.startswith("The lookup SQL database (profiles) cannot be read now (")
    assert message.endswith("nothing was predicted. Try again, or set this lookup to “as of "
                            "training” on the deploy page.")
    again = api.post(f"/api/pipelines/{pipeline_id}/predict",
                     {"rows": [{"customer_id": 4, "pages": 9}]}, format="json")
    assert again.status_code == 503 and "Cannot connect to the database" in \
        again.json()["message"]
    served["proxy"].resume()
    assert predict(api, pipeline_id, [{"visit_id": 3, "customer_id": 4, "pages": 9}])[
        "predictions"][0]["visit_id"] == 3


def test_a_join_that_ran_inside_the_database_says_how_to_serve_it(api: Any, served: Any
                                                                  ) -> None:
    """visits joined straight to profiles: in training the join ran inside PostgreSQL
    (pushdown), so no table of the sources was kept; serving says which switch to turn."""
    pushed = graph(served["connection"])
    pushed["nodes"] = [n for n in pushed["nodes"] if n["id"] != "spend_k"]
    pushed["edges"] = [e for e in pushed["edges"] if "spend_k" not in (e["source"], e["target"])]
    pushed["edges"].append(edge("profiles", "features", "right"))
    train = next(n for n in pushed["nodes"] if n["id"] == "train")
    train["params"]["features"] = ["pages", "plan", "spend"]
    pipeline = api.post("/api/pipelines/", {"name": "Pushed", "graph": pushed},
                        format="json").json()
    run(api, pipeline["id"])
    promote(api, 1, name="Pushed / train")
    refused = api.post(f"/api/pipelines/{pipeline['id']}/predict",
                       {"rows": [{"customer_id": 4, "pages": 9}]}, format="json")
    assert refused.status_code == 400
    assert refused.json()["message"] == (
        "visits ran inside the database in the run that trained the served model "
        "(pushdown), so there is no table of it to serve from: turn Pushdown off on the SQL "
        "source visits and run the pipeline again.")
