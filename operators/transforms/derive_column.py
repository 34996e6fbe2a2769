"""Compute a column from an expression over the other columns (see ``expression.py``)."""
from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import Field

from ..base import Context, Operator, Params, Port, Schema
from ..tables import Query, Rel, ident
from ._common import empty_frame, with_columns
from .expression import FUNCTIONS, MAX_LENGTH, columns_read, compile_sql, evaluate


class DeriveColumnParams(Params):
    name: str = Field(
        ..., min_length=1,
        description="The column to write: a new name adds a column, an existing one replaces it.",
    )
    expression: str = Field(
        ..., min_length=1, max_length=MAX_LENGTH,
        description="A formula over the columns, such as price * quantity or "
        'if_else(age >= 18, "adult", "minor"). Columns with spaces: col("unit price"). '
        f"Functions: {', '.join(sorted(FUNCTIONS))}.",
    )


class DeriveColumn(Operator):
    """Adds (or replaces) a column computed from an expression over each row.

    Example: ``{"name": "revenue", "expression": "price * quantity"}``, or
    ``{"name": "segment", "expression": "if_else(spend > 100, 'vip', 'regular')"}``.

    The language: numbers, "text", True/False; + - * / // % ** (+ also joins text);
    == != < <= > >= (a date column compares with a date written as text); and, or, not;
    parentheses; columns by bare name or ``col("any name")``; and the functions abs, round,
    log, exp, sqrt, lower, upper, len, coalesce, if_else(cond, a, b), year, month, day,
    is_null. ``/`` and ``**`` always give decimals; a comparison with a missing value is
    false (``!=`` true); integer division by zero gives a missing value.

    Version 2: ``//`` and ``%`` of whole numbers by zero give a missing value everywhere (a
    column gave infinity until the end, so ``qty // 0 > 1`` was true; two constants gave 0),
    as on the engines.
    """

    name = "transform.derive_column"
    label = "Derive column"
    description = "Add a column computed with a formula over the other columns."
    category = "transform"
    icon = "calculator"
    keywords = ("derive", "compute", "formula", "expression", "calculate", "new column",
                "mutate", "if")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = DeriveColumnParams
    version = "2"
    example = {"name": "revenue", "expression": "price * quantity"}

    def run(
        self, ctx: Context, params: DeriveColumnParams, table: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        values, _ = evaluate(params.expression, table)
        return {"table": table.assign(**{params.name: values})}

    def query(self, q: Query, params: DeriveColumnParams, table: Rel) -> dict[str, Rel]:
        compiled = compile_sql(params.expression, empty_frame(table.schema), engine=q.engine)
        rel = table
        for layer in compiled.layers:  # helper columns, each computed once
            helpers = ", ".join(f"{sql} AS {ident(name)}" for name, sql, _ in layer)
            rel = q.define(f"SELECT *, {helpers} FROM {rel.ref}",
                           rel.schema + [{"name": name, "type": t} for name, _, t in layer])
        schema = with_columns(table.schema, [{"name": params.name, "type": compiled.type}])
        columns = ", ".join(
            f"{compiled.sql} AS {ident(c['name'])}" if c["name"] == params.name
            else ident(c["name"]) for c in schema)
        return {"table": q.define(f"SELECT {columns} FROM {rel.ref}", schema)}

    def reads(self, params: DeriveColumnParams, **inputs: Any) -> dict[str, set[str] | None]:
        return {"table": columns_read(params.expression)}

    def infer_schema(
        self, ctx: Context, params: DeriveColumnParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        if table is None:
            return {"table": None}
        # The same interpreter over zero rows: every check of a real run, and the type.
        _, col_type = evaluate(params.expression, empty_frame(table))
        return {"table": with_columns(table, [{"name": params.name, "type": col_type}])}
