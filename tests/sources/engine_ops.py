"""Operators for the engine's tests of incremental sources, loaded as a plugin module
(tests/conftest.py names it in DATAGRAN_OPERATOR_MODULES, so a registry reload keeps them): a
source whose records (and columns) the test changes between runs, loaded through the one
load of operators.connectors._dlt, and a pass-through that fails while a test says so.
Their state is this module's: the worker threads run in the test's process."""
from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import Field

from operators.base import Context, Operator, OperatorError, Params, Port, Schema
from operators.connectors import _dlt
from operators.errors import RetryableError

# name → the records the source named so reads now ({"id", "updated", ...}).
RECORDS: dict[str, list[dict[str, Any]]] = {}
# name → how many times the source was read (a replay must not read it).
READS: dict[str, int] = {}
# Names of the failing pass-throughs that fail now.
FAILING: set[str] = set()
SECRET = "s3cr3t-token-value"


class ChangingParams(Params):
    name: str = Field("rows", min_length=1, max_length=40,
                      description="Which records of the test's table to read.")
    connection: str = Field("", max_length=64, description="A webhook connection to resolve "
                            "(the form endpoints' tests); none if empty.")
    output: str = Field("new", pattern="^(new|accumulated)$", description="new or accumulated.")


class ChangingSource(Operator):
    """Records of a test table, incremental on ``updated``, keyed by ``id``.

    Example: ``{"name": "rows"}``."""

    name = "test.changing_source"
    label = "Changing source (test)"
    description = "A test source."
    category = "connector"
    reuse_output = False
    outputs = (Port("table", "table"),)
    Params = ChangingParams
    example = {"name": "rows"}

    def key(self, params: ChangingParams) -> str:
        return _dlt.state_key(self.name, params.model_dump(mode="json"))

    def run(self, ctx: Context, params: ChangingParams) -> dict[str, pd.DataFrame]:
        READS[params.name] = READS.get(params.name, 0) + 1
        key = self.key(params)
        prev = _dlt.previous(ctx, key, keyed=True)
        since = prev.cursor if prev is not None else None
        records = [dict(r) for r in RECORDS.get(params.name, [])
                   if since is None or r["updated"] >= since]
        table = _dlt.load(ctx, _dlt.Source(name="Test table", records=records,
                                           primary_key=["id"], cursor_column="updated"),
                          key=key, prev=prev, output=params.output)
        return {"table": table}

    def infer_schema(self, ctx: Context, params: ChangingParams,
                     **inputs: Schema | None) -> dict[str, Schema | None]:
        return {"table": ctx.known_schema(self.key(params))}

    def options(self, ctx: Context, params: dict[str, Any], field: str) -> list[str]:
        if params.get("connection"):
            ctx.connection(str(params["connection"]), "webhook")
        if field == "output":
            raise OperatorError(f"Cannot list outputs for {params.get('name')!r}.",
                                field="output")
        if params.get("name") == "flaky":
            raise RetryableError("Test table: the server is busy; try again.")
        if params.get("name") == "crash":
            raise RuntimeError(f"failed with token {SECRET}")
        return sorted(RECORDS)

    def sample(self, ctx: Context, params: ChangingParams) -> pd.DataFrame:
        if params.connection:
            ctx.connection(params.connection, "webhook")
        return pd.DataFrame(RECORDS.get(params.name, [])).head(100)


class FailingParams(Params):
    name: str = Field("gate", max_length=40, description="Fails while FAILING holds it.")


class FailWhileAsked(Operator):
    """Passes its table through, or fails while the test asks.

    Example: ``{"name": "gate"}``."""

    name = "test.fail_while_asked"
    label = "Fail while asked (test)"
    description = "A test pass-through."
    category = "transform"
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = FailingParams
    reuse_output = False
    example = {"name": "gate"}

    def run(self, ctx: Context, params: FailingParams,
            table: pd.DataFrame) -> dict[str, pd.DataFrame]:
        if params.name in FAILING:
            raise OperatorError("Failing, as the test asked.")
        return {"table": table}
