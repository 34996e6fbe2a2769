"""A pipeline as a node of another, through the API: runs that expand the called pipelines
(three deep), the pinned version against "always latest", serving through a call, the canvas's
"Make sub-pipeline" and "Expand", and every refusal (cycles, another workspace's pipeline,
deleting a called pipeline), each leaving nothing written."""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

from datagran.pipelines.models import Pipeline, PipelineVersion
from datagran.runs.models import NodeRun, Run
from tests.serving.test_predict import as_rows, promote, run, table

pytestmark = pytest.mark.django_db(transaction=True)


def node(node_id: str, operator: str, x: float = 0, **params: Any) -> dict[str, Any]:
    return {"id": node_id, "operator": operator, "params": params,
            "position": {"x": x, "y": 0}}


def edge(source: str, source_port: str, target: str, target_port: str) -> dict[str, str]:
    return {"source": source, "source_port": source_port, "target": target,
            "target_port": target_port}


# The biggest spenders of a customers table; how many is an exposed param.
TOP = {"nodes": [node("in", "pipeline.input", 0, name="customers"),
                 node("top", "transform.sort_limit", 200,
                      order_by=[{"column": "monthly_spend", "descending": True}], limit=10),
                 node("out", "pipeline.output", 400, name="top")],
       "edges": [edge("in", "table", "top", "table"), edge("top", "table", "out", "table")],
       "exposed": [{"name": "how_many", "node": "top", "param": "limit"}]}


def call(node_id: str, pipeline: dict, version: str | None = None, **params: Any) -> dict:
    return node(node_id, "pipeline.call", 200, pipeline=pipeline["id"],
                version=version or pipeline["version"], params=params)


def caller_graph(called: dict, version: str | None = None, port: str = "top",
                 **params: Any) -> dict:
    return {"nodes": [node("src", "connector.sample_dataset", 0, dataset="customers"),
                      call("n7", called, version, **params),
                      node("ids", "transform.select_columns", 400,
                           columns=["customer_id", "monthly_spend"])],
            "edges": [edge("src", "table", "n7", "customers"), edge("n7", port, "ids", "table")]}


def create(api, name: str, graph: dict) -> dict:
    response = api.post("/api/pipelines/", {"name": name, "graph": graph}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def save(api, pipeline: dict, graph: dict) -> Any:
    return api.patch(f"/api/pipelines/{pipeline['id']}/", {"graph": graph}, format="json")


def test_a_pipeline_calling_a_pipeline_calling_a_pipeline_runs_each_node(api, worker) -> None:
    top = create(api, "Top spenders", TOP)
    # "Top of the pro plan" calls "Top spenders", and "Report" calls it in turn.
    pro = create(api, "Top of the pro plan", {
        "nodes": [node("in", "pipeline.input", 0, name="customers"),
                  node("pro", "transform.filter_rows", 100, conditions=[
                      {"column": "plan", "op": "==", "value": "pro"}]),
                  call("spenders", top, how_many=4),
                  node("out", "pipeline.output", 400, name="top")],
        "edges": [edge("in", "table", "pro", "table"),
                  edge("pro", "table", "spenders", "customers"),
                  edge("spenders", "top", "out", "table")]})
    report = create(api, "Report", caller_graph(pro))
    run_id = run(api, report["id"])
    nodes = dict(NodeRun.objects.filter(run_id=run_id).values_list("node_id", "status"))
    # Every called node ran as a node of the run; the markers are dissolved into edges.
    assert nodes == {"src": "succeeded", "n7.pro": "succeeded",
                     "n7.spenders.top": "succeeded", "ids": "succeeded"}
    ids = table(api, run_id, "ids")
    customers = table(api, run_id, "src")
    expected = (customers[customers["plan"] == "pro"]
                .sort_values("monthly_spend", ascending=False, kind="stable").head(4))
    assert ids["customer_id"].tolist() == expected["customer_id"].tolist()
    # The run keeps what it called: the pipelines and their version hashes.
    calls = Run.objects.get(pk=run_id).calls
    assert {path: c["name"] for path, c in calls.items()} == {
        "n7": "Top of the pro plan", "n7.spenders": "Top spenders"}
    assert calls["n7.spenders"]["version"] == top["version"]
    # The canvas's plan: the calling node is cached once every node it expands into is.
    plan = api.post(f"/api/pipelines/{report['id']}/plan/", {}, format="json").json()
    assert plan["nodes"] == {"src": "cached", "n7": "cached", "ids": "cached"}
    # Run again: every node comes from the cache, the called ones too.
    again = run(api, report["id"])
    assert set(NodeRun.objects.filter(run_id=again).values_list("cached", flat=True)) == {True}


def test_a_pinned_call_keeps_its_version_and_latest_follows(api, worker) -> None:
    top = create(api, "Top spenders", TOP)
    pinned = create(api, "Pinned", caller_graph(top))
    latest = create(api, "Latest", caller_graph(top, "latest"))
    changed = copy.deepcopy(TOP)
    changed["nodes"][1]["params"]["limit"] = 3
    assert save(api, top, changed).status_code == 200
    assert len(table(api, run(api, pinned["id"]), "ids")) == 10
    assert len(table(api, run(api, latest["id"]), "ids")) == 3
    # The caller's version pins the called version: choosing the new one is a new version.
    versions = PipelineVersion.objects.filter(pipeline_id=pinned["id"]).count()
    newest = Pipeline.objects.get(pk=top["id"]).current_version.hash
    assert save(api, pinned, caller_graph({**top, "version": newest})).status_code == 200
    assert PipelineVersion.objects.filter(pipeline_id=pinned["id"]).count() == versions + 1


def test_the_canvas_sees_the_called_ports_and_schemas_and_the_palette_lists_callables(
        api) -> None:
    top = create(api, "Top spenders", TOP)
    create(api, "No interface", {"nodes": [node("a", "connector.sample_dataset",
                                                dataset="iris")], "edges": []})
    report = create(api, "Report", caller_graph(top, how_many=2))
    checked = api.post(f"/api/pipelines/{report['id']}/validate/",
                       {"graph": caller_graph(top, how_many=2)}, format="json").json()
    assert checked["valid"], checked["errors"]
    assert [c["name"] for c in checked["schemas"]["n7"]["top"]][:2] == ["customer_id", "email"]
    shape = checked["calls"]["n7"]
    assert shape["name"] == "Top spenders" and shape["number"] == 1
    assert shape["inputs"] == [{"name": "customers", "type": "table", "node": "in"}]
    assert shape["params"][0]["name"] == "how_many" and shape["params"][0]["default"] == 10
    callable_ = api.get(f"/api/pipelines/{report['id']}/callable/").json()
    assert [p["name"] for p in callable_] == ["Top spenders"]  # nor itself, nor "No interface"
    assert callable_[0]["params"][0]["schema"]["anyOf"][0]["minimum"] == 1
    # A problem inside the called pipeline is the calling node's, prefixed by its name.
    wrong = caller_graph(top, how_many=0)
    checked = api.post(f"/api/pipelines/{report['id']}/validate/", {"graph": wrong},
                       format="json").json()
    assert not checked["valid"]
    assert checked["errors"][0]["node"] == "n7"
    assert checked["errors"][0]["message"].startswith("In Top spenders (top): ")


def test_a_cycle_of_calls_is_refused_naming_the_chain_and_nothing_is_saved(api) -> None:
    top = create(api, "Top spenders", TOP)
    middle = create(api, "Middle", {
        "nodes": [node("in", "pipeline.input", name="customers"), call("c", top, "latest"),
                  node("out", "pipeline.output", name="top")],
        "edges": [edge("in", "table", "c", "customers"), edge("c", "top", "out", "table")]})
    before = Pipeline.objects.get(pk=top["id"]).current_version_id
    looping = copy.deepcopy(TOP)
    looping["nodes"].append(call("m", middle, "latest"))
    looping["edges"].append(edge("in", "table", "m", "customers"))
    response = save(api, top, looping)
    assert response.status_code == 400
    assert ("Calls form a cycle: Top spenders → Middle → Top spenders."
            in response.json()["message"])
    assert Pipeline.objects.get(pk=top["id"]).current_version_id == before
    # Calling itself directly, too.
    itself = copy.deepcopy(TOP)
    itself["nodes"].append(call("me", top, "latest"))
    itself["edges"].append(edge("in", "table", "me", "customers"))
    assert save(api, top, itself).status_code == 400
    assert Pipeline.objects.get(pk=top["id"]).current_version_id == before


def test_another_workspaces_pipeline_cannot_be_called_nor_seen(api, other_api) -> None:
    theirs = create(other_api, "Their top spenders", TOP)
    response = api.post("/api/pipelines/", {"name": "Mine", "graph": caller_graph(theirs)},
                        format="json")
    assert response.status_code == 400
    assert "does not exist in this workspace" in response.json()["message"]
    assert not Pipeline.objects.filter(name="Mine").exists()
    assert api.get(f"/api/pipelines/{theirs['id']}/callable/").status_code == 404
    mine = create(api, "Mine", {"nodes": [], "edges": []})
    expand = api.post(f"/api/pipelines/{mine['id']}/expand/",
                      {"graph": caller_graph(theirs), "node": "n7"}, format="json")
    assert expand.status_code == 400 and "does not exist in this workspace" in str(expand.json())


def test_a_called_pipeline_cannot_be_deleted_and_its_callers_are_named(api) -> None:
    top = create(api, "Top spenders", TOP)
    create(api, "Report A", caller_graph(top))
    create(api, "Report B", caller_graph(top, "latest"))
    response = api.delete(f"/api/pipelines/{top['id']}/")
    assert response.status_code == 409
    assert ("Top spenders is called by Report A, Report B; remove those calls (or expand "
            "them) before deleting it.") == response.json()["message"]
    assert Pipeline.objects.filter(pk=top["id"]).exists()


def test_make_subpipeline_then_expand_gives_the_same_results(api, worker) -> None:
    graph = {"nodes": [node("n1", "connector.sample_dataset", 0, dataset="customers"),
                       node("n2", "transform.filter_rows", 200, conditions=[
                           {"column": "plan", "op": "==", "value": "basic"}]),
                       node("n3", "transform.sort_limit", 400, limit=5, order_by=[
                           {"column": "tenure_months", "descending": True}]),
                       node("n4", "transform.select_columns", 600,
                            columns=["customer_id", "tenure_months"])],
             "edges": [edge("n1", "table", "n2", "table"), edge("n2", "table", "n3", "table"),
                       edge("n3", "table", "n4", "table")]}
    pipeline = create(api, "Long-time basic customers", graph)
    before = table(api, run(api, pipeline["id"]), "n4")
    made = api.post(f"/api/pipelines/{pipeline['id']}/subpipeline/",
                    {"graph": graph, "nodes": ["n2", "n3"], "name": "Longest basic"},
                    format="json")
    assert made.status_code == 201, made.json()
    inner = made.json()["pipeline"]
    outer = made.json()["graph"]
    assert inner["name"] == "Longest basic"
    # Its input declares the columns that entered the selection: its own canvas offers them.
    marker = next(n for n in inner["graph"]["nodes"] if n["operator"] == "pipeline.input")
    assert [c["name"] for c in marker["params"]["columns"]][:2] == ["customer_id", "email"]
    own = api.post(f"/api/pipelines/{inner['id']}/validate/", {"graph": inner["graph"]},
                   format="json").json()
    assert own["valid"] and own["schemas"]["n3"]["table"][0]["name"] == "customer_id"
    assert sorted(n["id"] for n in outer["nodes"]) == ["n1", "n4", "n5"]
    call_node = next(n for n in outer["nodes"] if n["id"] == "n5")
    assert call_node["params"] == {"pipeline": inner["id"], "version": inner["version"],
                                   "params": {}}
    assert save(api, pipeline, outer).status_code == 200
    after = table(api, run(api, pipeline["id"]), "n4")
    pd.testing.assert_frame_equal(before, after)
    # Expand puts the nodes back, the markers dissolved.
    expanded = api.post(f"/api/pipelines/{pipeline['id']}/expand/",
                        {"graph": outer, "node": "n5"}, format="json")
    assert expanded.status_code == 200, expanded.json()
    back = expanded.json()["graph"]
    assert sorted(n["operator"] for n in back["nodes"]) == sorted(
        n["operator"] for n in graph["nodes"])
    assert save(api, pipeline, back).status_code == 200
    pd.testing.assert_frame_equal(before, table(api, run(api, pipeline["id"]), "n4"))


def test_make_subpipeline_refuses_a_selection_that_would_feed_itself(api) -> None:
    graph = {"nodes": [node(i, "transform.sort_limit") for i in ("a", "b", "c")]
             + [node("s", "connector.sample_dataset", dataset="iris")],
             "edges": [edge("s", "table", "a", "table"), edge("a", "table", "b", "table"),
                       edge("b", "table", "c", "table")]}
    pipeline = create(api, "Chain", graph)
    count = Pipeline.objects.count()
    response = api.post(f"/api/pipelines/{pipeline['id']}/subpipeline/",
                        {"graph": graph, "nodes": ["a", "c"], "name": "Hole"}, format="json")
    assert response.status_code == 400
    assert "'b' lie between selected nodes" in response.json()["message"]
    unknown = api.post(f"/api/pipelines/{pipeline['id']}/subpipeline/",
                       {"graph": graph, "nodes": ["zz"], "name": "Ghost"}, format="json")
    assert unknown.status_code == 400 and "no node 'zz'" in unknown.json()["message"]
    long_name = api.post(f"/api/pipelines/{pipeline['id']}/subpipeline/",
                         {"graph": graph, "nodes": ["a"], "name": "x" * 201}, format="json")
    assert long_name.status_code == 400 and "name" in str(long_name.json())
    assert Pipeline.objects.count() == count


def test_serving_applies_the_fitted_state_of_a_called_pipelines_nodes(api, worker) -> None:
    features = create(api, "Churn features", {
        "nodes": [node("in", "pipeline.input", name="customers"),
                  node("fill", "transform.fill_missing", 200,
                       columns=[{"column": "monthly_spend", "strategy": "mean"}]),
                  node("out", "pipeline.output", 400, name="features")],
        "edges": [edge("in", "table", "fill", "table"), edge("fill", "table", "out", "table")]})
    churn = create(api, "Churn", {
        "nodes": [node("customers", "connector.sample_dataset", dataset="customers"),
                  call("prep", features),
                  node("split", "transform.split", 400, test_size=0.25, seed=7,
                       stratify="churned"),
                  node("train", "model.train_classifier", 600, target="churned",
                       features=["plan", "tenure_months", "monthly_spend", "support_tickets"],
                       algorithm="logistic_regression", seed=7),
                  node("score", "model.predict", 800)],
        "edges": [edge("customers", "table", "prep", "customers"),
                  edge("prep", "features", "split", "table"),
                  edge("split", "train", "train", "train"), edge("split", "test", "train", "test"),
                  edge("train", "model", "score", "model"),
                  edge("prep", "features", "score", "table")]})
    run_id = run(api, churn["id"])
    promote(api, 1, name="Churn / train")
    customers = table(api, run_id, "customers").head(300)
    batch = table(api, run_id, "score").head(300)
    answer = api.post(f"/api/pipelines/{churn['id']}/predict",
                      {"rows": as_rows(customers.drop(columns=["churned"]))}, format="json")
    assert answer.status_code == 200, answer.json()
    online = pd.DataFrame(answer.json()["predictions"])
    # Rows with a missing spend were filled with the training mean, inside the called
    # pipeline, online as in the run.
    assert customers["monthly_spend"].isna().any()
    np.testing.assert_array_equal(online["prediction"].to_numpy(), batch["prediction"])
    np.testing.assert_allclose(online["probability"].to_numpy(dtype=float),
                               batch["probability"].to_numpy(dtype=float))
