"""State changes of a run happen inside ``run_transaction``: it locks the run row (so two
workers finishing the two inputs of a join cannot both miss that it became ready), numbers
the events, stores them, and publishes them once the transaction has committed."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from datagran.core.fields import represent

from .models import NodeRun, Run, RunEvent
from .publish import publish, run_group, workspace_group
from .serializers import NodeRunOutput, RunSummaryOutput


@dataclass
class RunTransaction:
    run: Run
    events: list[RunEvent] = field(default_factory=list)

    def emit(self, type: str, **payload: Any) -> None:
        self.run.seq += 1
        self.events.append(RunEvent(run=self.run, seq=self.run.seq, type=type, payload=payload))

    def emit_run(self) -> None:
        """The run's summary as it is now (status, times, counts). Its pipeline and creator
        are read here, once: most transactions emit no run event, and the lock's query is
        cheaper without them."""
        if not Run.pipeline.is_cached(self.run):
            related = Run.objects.select_related("pipeline", "created_by").only(
                "pipeline__name", "created_by__username").get(pk=self.run.pk)
            self.run.pipeline, self.run.created_by = related.pipeline, related.created_by
        self.emit("run", run=represent(RunSummaryOutput, self.run))

    def emit_node(self, node: NodeRun, *, logs_before: int | None = None) -> None:
        """The node's state; with ``logs_before``, first the log lines it gained since then
        (only those: a client appends them)."""
        if logs_before is not None and node.logs[logs_before:]:
            self.emit("log", node_id=node.node_id, lines=node.logs[logs_before:])
        self.emit("node", node=represent(NodeRunOutput, node))


@contextmanager
def run_transaction(run_id: object) -> Iterator[RunTransaction]:
    with transaction.atomic():
        # Lock only the run row; its version is joined for the parsed graph's key (not the
        # graph: runs/graphs.py keeps it parsed per process). Building this query is a good
        # part of a small node's time: the pipeline and creator wait for ``emit_run``.
        tx = RunTransaction(Run.objects.select_related("version")
                            .defer("version__graph", "graph")
                            .select_for_update(of=("self",)).get(pk=run_id))
        # Published at commit before what the body asks for then (sending the nodes it
        # queued): a worker of this process that takes a node at once publishes "running"
        # after this transaction's "queued", never before it.
        messages: list[tuple[str, dict[str, Any]]] = []
        transaction.on_commit(lambda: publish(messages) if messages else None)
        yield tx
        if tx.events:
            Run.objects.filter(pk=tx.run.pk).update(seq=tx.run.seq)
            RunEvent.objects.bulk_create(tx.events)
            messages += [(run_group(tx.run.pk), e.as_message()) for e in tx.events]
            # The runs page of the workspace follows run-level changes (no node detail).
            messages += [(workspace_group(tx.run.workspace_id), e.as_message())
                         for e in tx.events if e.type == "run"]


def events_after(*, run_id: object, seq: int, until: int | None = None) -> list[dict[str, Any]]:
    qs = RunEvent.objects.filter(run_id=run_id, seq__gt=seq)
    if until is not None:
        qs = qs.filter(seq__lt=until)
    return [e.as_message() for e in qs.order_by("seq")]
