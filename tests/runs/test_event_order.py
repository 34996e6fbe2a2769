"""A run's "queued" event is handed to the channel layer before its first nodes are sent to
the workers: a worker of the same process (the embedded default) that takes a node at once
publishes "running" after it, never before (the workspace's runs page once showed a new run
as running, then queued)."""
from __future__ import annotations

from typing import Any

import pytest

from datagran.runs import dispatch, events
from datagran.runs.lifecycle import run_start
from tests.graphs import classifier_graph

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_queued_event_is_published_before_the_nodes_are_sent(api: Any, user: Any,
                                                                 monkeypatch: Any) -> None:
    from datagran.pipelines.models import Pipeline

    order: list[str] = []
    monkeypatch.setattr(events, "publish", lambda messages: order.append(
        "publish " + ",".join(sorted({m["run"]["status"] for _, m in messages
                                      if m.get("type") == "run"}))))
    monkeypatch.setattr(dispatch, "nodes_send", lambda run_id, node_ids, delay_ms=None:
                        order.append("send " + ",".join(node_ids)))
    created = api.post("/api/pipelines/", {"name": "Order", "graph": classifier_graph()},
                       format="json")
    assert created.status_code == 201, created.json()
    run_start(pipeline=Pipeline.objects.get(pk=created.json()["id"]), user=user)
    assert order[0] == "publish queued" and order[1].startswith("send "), order


def test_run_events_name_the_pipeline_and_who_started_it(api: Any, user: Any,
                                                         monkeypatch: Any) -> None:
    """The runs page updates a run's row from its run events: each names the pipeline and
    the user, though the transactions that record nodes no longer read them."""
    from datagran.pipelines.models import Pipeline

    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(events, "publish", lambda messages: sent.extend(
        m["run"] for _, m in messages if m.get("type") == "run"))
    monkeypatch.setattr(dispatch, "nodes_send", lambda run_id, node_ids, delay_ms=None: None)
    created = api.post("/api/pipelines/", {"name": "Named run", "graph": classifier_graph()},
                       format="json")
    run = run_start(pipeline=Pipeline.objects.get(pk=created.json()["id"]), user=user)
    with events.run_transaction(run.pk) as tx:
        tx.run.status = "cancelled"
        tx.emit_run()
    assert {s["status"] for s in sent} == {"queued", "cancelled"}, sent
    assert {(s["pipeline_name"], s["created_by"]) for s in sent} == \
        {("Named run", user.get_username())}, sent
