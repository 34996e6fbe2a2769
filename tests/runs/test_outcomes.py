"""How the run loop records what an operator raised: the error family's permanent branch fails
the node (with the field at fault), its retryable branch and the passing faults of the
machine re-queue it with backoff, anything else fails it with its traceback."""
from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from datagran.runs import execution
from datagran.runs.execution import node_execute
from datagran.runs.models import NodeRun
from operators.base import OperatorError
from operators.errors import PermanentError, RetryableError
from tests.graphs import chain_graph

pytestmark = pytest.mark.django_db(transaction=True)


class Params(BaseModel):
    n: int


def invalid_params() -> ValidationError:
    try:
        Params.model_validate({"n": "many"})
    except ValidationError as exc:
        return exc
    raise AssertionError("the params were valid")


def run_first_node_raising(api: Any, monkeypatch: pytest.MonkeyPatch,
                           error: BaseException) -> NodeRun:
    """Start a run (no worker takes it) and execute its first node here, its operator
    raising ``error``."""
    pipeline = api.post("/api/pipelines/", {"name": "P", "graph": chain_graph()},
                        format="json").json()
    run_id = api.post(f"/api/pipelines/{pipeline['id']}/runs/", {}, format="json").json()["id"]

    def raises(**kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(execution, "execute_node", raises)
    node_execute(run_id=run_id, node_id="a")
    return NodeRun.objects.get(run_id=run_id, node_id="a")


@pytest.mark.parametrize(("error", "message", "field"), [
    (OperatorError("Column 'x' does not exist.", field="column"),
     "Column 'x' does not exist.", "column"),
    (PermanentError("The dataset is gone."), "The dataset is gone.", ""),
    (invalid_params(), "n: N must be a whole number.", "n"),
])
def test_a_permanent_error_fails_the_node_on_its_field(
        api: Any, monkeypatch: pytest.MonkeyPatch, error: Exception, message: str,
        field: str) -> None:
    node = run_first_node_raising(api, monkeypatch, error)
    assert (node.status, node.error, node.error_field, node.attempts) == (
        "failed", message, field, 1)
    assert node.traceback == "" and node.logs[-1] == f"Error: {message}"
    assert NodeRun.objects.get(run=node.run, node_id="b").status == "skipped"


@pytest.mark.parametrize(("error", "described"), [
    (ConnectionRefusedError("the service refused"), "ConnectionRefusedError: the service "
                                                    "refused"),
    (TimeoutError("no answer"), "TimeoutError: no answer"),
    (RetryableError("The broker is away."), "RetryableError: The broker is away."),
])
def test_a_passing_fault_requeues_the_node_with_backoff(
        api: Any, monkeypatch: pytest.MonkeyPatch, error: Exception, described: str) -> None:
    node = run_first_node_raising(api, monkeypatch, error)
    assert (node.status, node.error, node.attempts) == ("queued", "", 1)
    assert node.logs[-1].startswith(f"Attempt 1 of 3 failed: {described}; retrying in ")


def test_any_other_exception_fails_the_node_with_its_traceback(
        api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    node = run_first_node_raising(api, monkeypatch, ZeroDivisionError("division by zero"))
    assert (node.status, node.error) == ("failed", "ZeroDivisionError: division by zero")
    assert "ZeroDivisionError" in node.traceback
