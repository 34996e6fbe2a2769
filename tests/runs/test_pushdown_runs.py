"""Pushdown through the normal run path (the embedded worker, the API): the run page's data
says which nodes were pushed and into which frontier, the frontier's log which nodes it ran
in the database; a replay and a partial run still work; cancelling interrupts a slow pushed
query on the PostgreSQL server. A database of the test's own (dg_pushdown_*)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from django.test import override_settings

from datagran.datasets.artifacts import artifact_store
from datagran.runs.models import NodeRun
from operators.tables import arrow_to_pandas
from tests.conftest import wait_for_run
from tests.operators.sql_helpers import pg_running, pg_sleeper
from tests.runs.test_sql_cancel import wait_until
from tests.sources.test_pushdown import Db, database, fill, pipeline, same

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


@pytest.fixture
def pg(tmp_path: Path, settings: Any) -> Any:
    with database("postgresql", tmp_path) as db, override_settings(
            DATAGRAN={**settings.DATAGRAN, "URL_ALLOWLIST": ["127.0.0.1"]}):
        fill(db)
        yield db


def make_pipeline(api: Any, db: Db, *, pushdown: bool = True) -> dict[str, Any]:
    connection = api.post("/api/connections/", {
        "name": "warehouse", "kind": "postgresql",
        "fields": {"database": db.name, "user": "postgres"}}, format="json")
    assert connection.status_code == 201, connection.json()
    graph = pipeline(pushdown=pushdown).model_dump(mode="json")
    for n in graph["nodes"]:
        if n["operator"] == "connector.sql_query":
            n["params"]["connection"] = connection.json()["id"]
    response = api.post("/api/pipelines/", {"name": "pushdown", "graph": graph},
                        format="json")
    assert response.status_code == 201, response.json()
    return dict(response.json())


def finished(api: Any, response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.json()
    assert wait_for_run(response.json()["id"]).status == "succeeded"
    return {n["node_id"]: n for n in api.get(f"/api/runs/{response.json()['id']}/"
                                             ).json()["nodes"]}


def table(node: dict[str, Any], run_id: str) -> Any:
    ref = NodeRun.objects.get(run_id=run_id, node_id=node["node_id"]).outputs["table"]
    return arrow_to_pandas(pq.read_table(artifact_store().table_path(ref["hash"], "/tmp")))


def test_the_api_says_what_was_pushed_and_a_replay_reads_the_database_again(
        api: Any, worker: Any, pg: Db) -> None:
    p = make_pipeline(api, pg)
    response = api.post(f"/api/pipelines/{p['id']}/runs/")
    nodes = finished(api, response)
    for node_id in ("orders", "customers", "filter", "select", "join"):
        assert nodes[node_id]["pushed_into"] == "agg"
        assert nodes[node_id]["pushdown"] == {"database": "PostgreSQL", "nodes": [],
                                              "ran": []}
        assert nodes[node_id]["outputs"] == {} and nodes[node_id]["rows_out"] is None
        assert nodes[node_id]["logs"][0] == ("Pushed down into PostgreSQL: runs inside the "
                                             "query of Group and summarise (agg).")
    assert nodes["agg"]["pushed_into"] == ""
    assert nodes["agg"]["pushdown"] == {"database": "PostgreSQL", "nodes": [
        "orders", "customers", "filter", "select", "join", "agg"], "ran": [
        "filter", "select", "join", "agg"]}
    assert any(line == "Ran 4 nodes inside PostgreSQL (connection 'warehouse'): filter, "
               "select, join, agg; fetched 3 rows." for line in nodes["agg"]["logs"]), \
        nodes["agg"]["logs"]
    assert nodes["agg"]["rows_out"] == 3
    pushed = table(nodes["agg"], response.json()["id"])

    # The same pipeline with pushdown off: the same table.
    plain_pipeline = make_pipeline(api, pg, pushdown=False)
    plain_response = api.post(f"/api/pipelines/{plain_pipeline['id']}/runs/")
    plain = finished(api, plain_response)
    assert all(n["pushed_into"] == "" and n["pushdown"] is None for n in plain.values())
    same(pushed, table(plain["agg"], plain_response.json()["id"]))

    # A replay: the pushed sources loaded no records, so the group reads the database again.
    pg.run("DELETE FROM orders WHERE grp = 'a'")
    replay = api.post(f"/api/runs/{response.json()['id']}/replay/")
    again = finished(api, replay)
    assert again["filter"]["pushed_into"] == "agg"
    assert table(again["agg"], replay.json()["id"])["id_count"].sum() < \
        pushed["id_count"].sum()


def test_run_up_to_here_pushes_only_what_it_runs(api: Any, worker: Any, pg: Db) -> None:
    p = make_pipeline(api, pg)
    nodes = finished(api, api.post(f"/api/pipelines/{p['id']}/runs/",
                                   {"target": "select", "scope": "upstream"}, format="json"))
    assert set(nodes) == {"orders", "filter", "select"}
    assert nodes["orders"]["pushed_into"] == nodes["filter"]["pushed_into"] == "select"
    assert nodes["select"]["rows_out"] > 0


def test_cancel_interrupts_a_pushed_query_on_the_server(api: Any, worker: Any,
                                                        pg: Db) -> None:
    sql, key = pg_sleeper(120)
    p = make_pipeline(api, pg)
    graph = p["graph"]
    # Floats only: no pass over the data to type the columns, so what sleeps is the pushed
    # statement itself.
    graph["nodes"][0]["params"]["query"] = (
        'SELECT CAST(o.id AS FLOAT) AS id, o."x"" OR 1=1 --", o.grp, o.amount, '
        f"CAST(o.qty AS FLOAT) AS qty FROM orders o, ({sql}) s")
    assert api.put(f"/api/pipelines/{p['id']}/", {"name": "pushdown", "graph": graph},
                   format="json").status_code == 200
    monitor = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                               poolclass=sa.pool.NullPool)
    try:
        run_id = api.post(f"/api/pipelines/{p['id']}/runs/").json()["id"]
        assert wait_until(lambda: pg_running(monitor, key) == 1, 30) is not None
        with monitor.connect() as c:
            running = c.exec_driver_sql(
                "SELECT query FROM pg_stat_activity WHERE application_name = 'datagran' "
                "AND state = 'active'").scalars().all()
        # The group's statement, streamed through a server-side cursor (the probes of the
        # source's columns run as plain SELECTs).
        assert [q.split(" ")[0] for q in running] == ["FETCH"], running
        assert NodeRun.objects.get(run_id=run_id, node_id="agg").status == "running"
        assert api.post(f"/api/runs/{run_id}/cancel/").status_code in (200, 202)
        gone_after = wait_until(lambda: pg_running(monitor, key) == 0, 30)
    finally:
        monitor.dispose()
    assert gone_after is not None
    assert NodeRun.objects.get(run_id=run_id, node_id="agg").status == "cancelled"
