"""A worker runs the successor its node just made ready itself, without a broker message;
the other ready successors still go to the broker, and a worker with nothing ready takes a
queued node of the run whose message still waits; a continued node whose worker dies is
re-queued by the reaper like any other (at least once)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from datagran.runs.execution import node_execute
from datagran.runs.models import NodeRun, Run
from datagran.runs.recovery import nodes_reap
from datagran.runs.slots import worker_state
from datagran.runs.tasks import execute_node_task
from tests.conftest import wait_for_run
from tests.graphs import chain_graph, edge, node

pytestmark = pytest.mark.django_db(transaction=True)


def start(api, graph) -> str:
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": graph}, format="json").json()
    return api.post(f"/api/pipelines/{pipeline['id']}/runs/").json()["id"]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The node ids of every message sent to the broker."""
    messages: list[str] = []
    send = execute_node_task.send_with_options

    def counting(*, args: tuple, **options: Any) -> Any:
        messages.append(args[1])
        return send(args=args, **options)

    monkeypatch.setattr(execute_node_task, "send_with_options", counting)
    return messages


def three_chain() -> dict:
    graph = chain_graph()
    graph["nodes"].append(node("c", "transform.select_columns", columns=["target"]))
    graph["edges"].append(edge("b", "table", "c", "table"))
    return graph


def test_a_chain_runs_on_one_message_each_successor_claimed_as_its_input_succeeds(
        api, worker, sent) -> None:
    run_id = start(api, three_chain())
    assert wait_for_run(run_id).status == "succeeded"
    assert sent == ["a"]
    nodes = {n.node_id: n for n in NodeRun.objects.filter(run_id=run_id)}
    assert all(n.attempts == 1 for n in nodes.values())
    # Claimed in the transaction that recorded its input's success: queued and started at once.
    assert nodes["b"].queued_at == nodes["b"].started_at == nodes["a"].finished_at
    assert nodes["c"].queued_at == nodes["c"].started_at == nodes["b"].finished_at


def test_other_ready_successors_go_to_the_broker_so_branches_run_elsewhere(
        api, worker, sent, monkeypatch) -> None:
    # Both branches may run at once in this process (a workspace's share of the worker's
    # threads is half of them: here, as with the embedded default's four, two).
    monkeypatch.setattr(worker_state, "threads", 4)
    graph = {"nodes": [node("a", "connector.sample_dataset"),
                       node("b", "transform.select_columns", columns=["target"]),
                       node("c", "transform.select_columns", columns=["target"]),
                       node("j", "transform.union")],
             "edges": [edge("a", "table", "b", "table"), edge("a", "table", "c", "table"),
                       edge("b", "table", "j", "first"), edge("c", "table", "j", "second")]}
    run_id = start(api, graph)
    assert wait_for_run(run_id).status == "succeeded"
    # a; then b continues on a's worker and c is sent; the join continues on whichever
    # branch finished last.
    assert sent == ["a", "c"]
    assert set(NodeRun.objects.filter(run_id=run_id).values_list("attempts", flat=True)) == {1}


def test_a_worker_takes_the_queued_siblings_whose_messages_wait_in_the_broker(
        api, worker, sent) -> None:
    graph = {"nodes": [node("a", "connector.sample_dataset")]
             + [node(n, "transform.select_columns", columns=["target"]) for n in "bcd"],
             "edges": [edge("a", "table", n, "table") for n in "bcd"]}
    worker.pause()  # no other worker: this thread runs what it claims and takes the rest
    run_id = start(api, graph)
    node_execute(run_id=run_id, node_id="a")
    assert Run.objects.get(pk=run_id).status == "succeeded"
    assert sent == ["a", "c", "d"]  # b continued; c and d were sent, then taken
    seq = Run.objects.get(pk=run_id).seq
    for late in "cd":  # their messages arrive late and are dropped: nothing runs twice
        node_execute(run_id=run_id, node_id=late)
    assert set(NodeRun.objects.filter(run_id=run_id).values_list("attempts", flat=True)) == {1}
    assert Run.objects.get(pk=run_id).seq == seq


def test_no_continuing_when_a_node_could_outlast_the_message_deadline(
        api, worker, sent, settings) -> None:
    # Continuing must never keep a message past RabbitMQ's consumer timeout.
    options = {**settings.DATAGRAN, "RABBITMQ_CONSUMER_TIMEOUT_SECONDS":
               settings.DATAGRAN["NODE_TIME_LIMIT_SECONDS"]}
    with override_settings(DATAGRAN=options):
        run_id = start(api, three_chain())
        assert wait_for_run(run_id).status == "succeeded"
    assert sent == ["a", "b", "c"]


def test_a_continued_node_whose_worker_died_is_requeued_and_runs_again(
        api, worker, sent, monkeypatch) -> None:
    from datagran.runs import execution

    execute = execution.execute_node

    def dies_on_b(**kwargs: Any) -> Any:
        if kwargs["ctx"].node_id == "b":
            raise SystemExit("the worker process died")  # nothing below it catches this
        return execute(**kwargs)

    worker.pause()
    run_id = start(api, chain_graph())
    monkeypatch.setattr(execution, "execute_node", dies_on_b)
    with pytest.raises(SystemExit):
        node_execute(run_id=run_id, node_id="a")
    b = NodeRun.objects.get(run_id=run_id, node_id="b")
    assert b.status == "running" and b.attempts == 1 and sent == ["a"]

    monkeypatch.setattr(execution, "execute_node", execute)
    old = timezone.now() - timedelta(minutes=5)
    NodeRun.objects.filter(pk=b.pk).update(heartbeat_at=old)  # its heartbeat went silent
    assert nodes_reap() == 1
    assert sent == ["a", "b"]
    worker.resume()
    assert wait_for_run(run_id).status == "succeeded"
    b = NodeRun.objects.get(pk=b.pk)
    assert b.attempts == 2 and "stopped" in " ".join(b.logs)
    assert Run.objects.get(pk=run_id).status == "succeeded"
