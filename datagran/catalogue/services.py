"""What a params form asks of a source before it runs: the choices only the outside system
knows (a database's tables, a folder's files) and a sample of its first rows, whose columns
are remembered as the source's schema (``ctx.known_schema``) so downstream column pickers
work before the first run.

Both run the operator's own ``options`` / ``sample`` with a run's context of the caller's
workspace (its connections only, the private-network rules, the operator's own timeouts),
and turn whatever goes wrong into an error the form can show: never a 500."""
from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from datagran.core.exceptions import DatagranError, FieldError, NotFound, RetryableError
from datagran.pipelines.validation import sampled_schema_remember
from datagran.runs.context import RunContext
from datagran.runs.execution import PASSING
from datagran.runs.selectors import preview_rows
from datagran.workspaces.models import Workspace
from operators.base import Operator, params_errors, schema_of
from operators.connectors._dlt import state_key
from operators.registry import UnknownOperator, get_operator

log = logging.getLogger(__name__)

SAMPLE_ROWS = 100


def operator_for_form(name: str) -> Operator:
    try:
        return get_operator(name)
    except UnknownOperator:
        raise NotFound(f"Unknown operator {name[:100]!r}.") from None


def _params_error(exc: ValidationError, op: Operator) -> FieldError:
    errors = params_errors(exc, op.Params)
    first = errors[0]
    return FieldError(f"{first['field']}: {first['message']}",
                      {e["field"]: [e["message"]] for e in errors})


def _ask(op: Operator, what: str, call: Any) -> Any:
    """``call()``, its failures as errors the form shows: the operator's own (a field at
    fault, a passing fault), invalid params, a network fault (503); anything else a 400
    that names the operator and not the exception's text (it may quote a secret)."""
    try:
        return call()
    except DatagranError:
        raise
    except ValidationError as exc:
        raise _params_error(exc, op) from None
    except PASSING as exc:
        raise RetryableError(f"{op.label}: could not reach the system to {what} "
                             f"({type(exc).__name__}); try again.") from None
    except Exception as exc:  # noqa: BLE001 - an operator's bug is the form's 400, not a 500
        log.exception("%s failed to %s", op.name, what)
        raise FieldError(f"{op.label} could not {what} ({type(exc).__name__}).") from None


def _context(workspace: Workspace) -> RunContext:
    return RunContext(workspace_id=workspace.pk)


def operator_options(*, workspace: Workspace, op: Operator, params: dict[str, Any],
                     field: str) -> list[str]:
    """The choices for the param ``field`` given the raw ``params`` filled in so far."""
    if field not in op.Params.model_fields:
        message = f"{op.label} has no param {field[:100]!r}."
        raise FieldError(f"field: {message}", {"field": [message]})
    options = _ask(op, f"look up the choices for {field}",
                   lambda: op.options(_context(workspace), params, field))
    return [str(o) for o in options]


def operator_sample(*, workspace: Workspace, op: Operator,
                    params: dict[str, Any]) -> dict[str, Any]:
    """The first rows (at most 100) the source reads with ``params``, and their columns,
    remembered for the source (``known_schema`` of its state key) in the workspace."""
    parsed: BaseModel = _ask(op, "read its params", lambda: op.parse_params(params))
    df = _ask(op, "read a sample", lambda: op.sample(_context(workspace), parsed))
    if not isinstance(df, pd.DataFrame):
        raise FieldError(f"{op.label} could not read a sample (it returned no table).")
    head = df.head(SAMPLE_ROWS)
    columns = schema_of(df)
    sampled_schema_remember(workspace.pk, state_key(op.name, parsed.model_dump(mode="json")),
                            columns)
    return {"columns": columns, "rows": preview_rows(head)}
