"""Keep some columns, in the order given."""
from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import field_validator

from ..base import (
    Context,
    Operator,
    Params,
    Port,
    Schema,
    column_field,
    columns_of,
    require_columns,
    schema_of,
)
from ..tables import Query, Rel, columns_sql


class SelectColumnsParams(Params):
    columns: list[str] = column_field(
        ..., min_length=1, description="The columns to keep, in the order they should appear."
    )

    @field_validator("columns")
    @classmethod
    def _no_duplicates(cls, columns: list[str]) -> list[str]:
        # A repeated name would make two columns with the same name, which nothing downstream
        # can address.
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise ValueError(f"columns are listed more than once: {', '.join(repeated)}")
        return columns


def _selected(params: SelectColumnsParams, schema: Schema) -> Schema:
    require_columns(schema, params.columns, field="columns")
    by_name = {c["name"]: c for c in schema}
    return [by_name[c] for c in params.columns]


class SelectColumns(Operator):
    """Keeps only the listed columns, in that order; the others are dropped.

    Example: ``{"columns": ["plan", "monthly_spend", "churned"]}``.
    """

    name = "transform.select_columns"
    label = "Select columns"
    description = "Keep only some columns, in the order you choose."
    category = "transform"
    icon = "columns"
    keywords = ("select", "columns", "keep", "drop", "reorder", "project")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = SelectColumnsParams
    example = {"columns": ["plan", "monthly_spend", "churned"]}

    def run(
        self, ctx: Context, params: SelectColumnsParams, table: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        require_columns(schema_of(table), params.columns, field="columns")
        return {"table": columns_of(table, params.columns)}

    def query(self, q: Query, params: SelectColumnsParams, table: Rel) -> dict[str, Rel]:
        schema = _selected(params, table.schema)
        return {"table": q.define(f"SELECT {columns_sql(schema)} FROM {table.ref}", schema)}

    def reads(self, params: SelectColumnsParams, **inputs: Any) -> dict[str, set[str] | None]:
        return {"table": set()}  # keeps columns as they are: reads none of its own

    def infer_schema(
        self, ctx: Context, params: SelectColumnsParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        return {"table": None if table is None else _selected(params, table)}
