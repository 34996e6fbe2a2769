"""The state machine of a node run: every transition in the table works against the database,
every other pair of statuses is refused and changes nothing, and each named transition (the
functions the engine calls) goes through that one table."""
from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from datagran.pipelines.services import pipeline_create
from datagran.runs import transitions
from datagran.runs.events import RunTransaction, run_transaction
from datagran.runs.models import NodeRun, NodeStatus, Run, RunEvent, RunStatus
from datagran.runs.transitions import ALLOWED, TransitionRefused, node_move
from datagran.workspaces.services import workspace_personal
from tests.graphs import chain_graph

pytestmark = pytest.mark.django_db

STATUSES: list[str] = list(NodeStatus.values)
REFUSED = sorted(set(itertools.product(STATUSES, STATUSES)) - ALLOWED)


@pytest.fixture
def run(db: Any) -> Run:
    """A running run of a -> b, with no node started: each test puts a node where it needs."""
    user = get_user_model().objects.create(username="alice")  # no password: nothing to hash
    pipeline = pipeline_create(workspace=workspace_personal(user=user), user=user, name="P",
                               graph=chain_graph())
    run = Run.objects.create(workspace_id=pipeline.workspace_id, pipeline=pipeline,
                             version=pipeline.current_version, status=RunStatus.RUNNING)
    for node_id in ("a", "b"):
        NodeRun.objects.create(run=run, node_id=node_id, operator="test")
    return run


def put(run: Run, status: str, **fields: Any) -> NodeRun:
    NodeRun.objects.filter(run=run, node_id="a").update(status=status, **fields)
    return NodeRun.objects.get(run=run, node_id="a")


def row(node: NodeRun) -> dict[str, Any]:
    return NodeRun.objects.filter(pk=node.pk).values().get()


def test_the_table_names_only_real_statuses_and_no_self_loops() -> None:
    assert {s for pair in ALLOWED for s in pair} <= set(STATUSES)
    assert all(source != target for source, target in ALLOWED)
    # Once a node is done, nothing moves it again.
    done = {NodeStatus.SUCCEEDED, NodeStatus.FAILED, NodeStatus.SKIPPED, NodeStatus.CANCELLED}
    assert not [pair for pair in ALLOWED if pair[0] in done]


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_every_allowed_transition_moves_the_node(run: Run, source: str, target: str) -> None:
    node = put(run, source)
    with run_transaction(run.pk):
        moved = node_move(NodeRun.objects.filter(pk=node.pk), source=source, target=target)
    node.refresh_from_db()
    assert (moved, node.status) == (1, target)


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_an_allowed_transition_leaves_a_node_that_moved_meanwhile(
        run: Run, source: str, target: str) -> None:
    other = next(s for s in STATUSES if s != source)
    node = put(run, other)
    before = row(node)
    assert node_move(NodeRun.objects.filter(pk=node.pk), source=source, target=target) == 0
    assert row(node) == before


@pytest.mark.parametrize(("source", "target"), REFUSED)
def test_every_other_transition_is_refused_and_changes_nothing(
        run: Run, source: str, target: str) -> None:
    node = put(run, source)
    before = row(node)
    with pytest.raises(TransitionRefused, match=f"from {source} to {target}"):
        node_move(NodeRun.objects.filter(pk=node.pk), source=source, target=target,
                  error="must not be written")
    assert row(node) == before


# --- the named transitions ---------------------------------------------------------------------

Call = Callable[[RunTransaction, NodeRun], object]
NOW = timezone.now()
NAMED: dict[str, tuple[str, Call, str, list[str]]] = {
    # name: (status before, the call, status after, the events it emits)
    "queue": ("pending", lambda tx, n: transitions.queue(tx, [n]), "queued", ["node"]),
    "requeue": ("running", lambda tx, n: transitions.requeue(tx, "a", attempts=1,
                                                             lines=["again"]),
                "queued", ["node"]),
    "approve": ("waiting", lambda tx, n: transitions.approve(tx, n, user=None), "queued",
                ["node"]),
    "reset": ("running", lambda tx, n: transitions.reset(tx, [n]), "pending", []),
    "claim": ("queued", lambda tx, n: transitions.claim(tx, "a", now=NOW), "running",
              ["node"]),
    "take": ("queued", lambda tx, n: transitions.take(tx, n, now=NOW), "running", ["node"]),
    "claim_ready": ("pending", lambda tx, n: transitions.claim_ready(tx, n, now=NOW),
                    "running", ["node", "node"]),
    "succeed": ("running", lambda tx, n: transitions.succeed(
        tx, n, now=NOW, rows_out=3, outputs={}, logs=["done"], files=[]),
        "succeeded", ["log", "node"]),
    "fail": ("running", lambda tx, n: transitions.fail(tx, "a", message="boom", logs=[],
                                                       attempts=1),
             "failed", ["log", "node", "node"]),  # b, downstream, is skipped
    "skip": ("pending", lambda tx, n: transitions.skip(tx, ["a"], because="x", now=NOW),
             "skipped", ["node"]),
    "wait": ("running", lambda tx, n: transitions.wait(tx, "a", attempt=1, logs=["look"],
                                                       preview={}, rows=0),
             "waiting", ["log", "node"]),
    "cancel": ("running", lambda tx, n: transitions.cancel(tx, now=NOW), "cancelled",
               ["node", "node"]),  # b too
    "reject": ("waiting", lambda tx, n: transitions.reject(tx, n, user=None, message="no"),
               "cancelled", ["log", "node"]),
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_each_named_transition_makes_its_update_and_emits_its_events(
        run: Run, name: str) -> None:
    before, call, after, events = NAMED[name]
    node = put(run, before, attempts=1 if before != "queued" else 0)
    with run_transaction(run.pk) as tx:
        call(tx, node)
    node.refresh_from_db()
    assert node.status == after
    assert [e.type for e in tx.events] == events
    assert list(RunEvent.objects.filter(run=run).values_list("type", flat=True)) == events


@pytest.mark.parametrize("name", sorted(NAMED))
def test_each_named_transition_goes_through_the_table(
        run: Run, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    before, call, _, _ = NAMED[name]
    node = put(run, before, attempts=1 if before != "queued" else 0)
    state = row(node)
    monkeypatch.setattr(transitions, "ALLOWED", frozenset())
    with pytest.raises(TransitionRefused), run_transaction(run.pk) as tx:
        call(tx, node)
    assert row(node) == state
    assert not RunEvent.objects.filter(run=run).exists()


def test_a_fenced_transition_leaves_a_superseded_attempt_alone(run: Run) -> None:
    node = put(run, "running", attempts=2)
    state = row(node)
    with run_transaction(run.pk) as tx:
        assert not transitions.fail(tx, "a", message="old", logs=[], attempts=1)
        assert not transitions.requeue(tx, "a", attempts=1, lines=["old"])
        assert not transitions.wait(tx, "a", attempt=1, logs=[], preview={}, rows=0)
        node.attempts = 1
        assert not transitions.succeed(tx, node, now=NOW, rows_out=0, outputs={}, logs=[],
                                       files=[])
    assert row(node) == state and tx.events == []
