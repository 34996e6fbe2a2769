"""Sort rows and optionally keep only the first ones."""
from __future__ import annotations

import pandas as pd
from pydantic import Field

from ..base import (
    Context,
    Operator,
    OperatorError,
    Params,
    Port,
    Schema,
    column_field,
    require_columns,
    schema_of,
)


class SortKey(Params):
    column: str = column_field(..., description="The column to sort by.")
    descending: bool = Field(False, description="Largest (or latest, or Z) first.")


class SortLimitParams(Params):
    order_by: list[SortKey] = Field(
        default_factory=list,
        description="Sort by these columns, the first one first; empty keeps the table order.",
    )
    limit: int | None = Field(
        None, ge=1, description="Keep only this many rows after sorting; empty keeps all."
    )


def _check(params: SortLimitParams, schema: Schema | None) -> None:
    for i, key in enumerate(params.order_by):
        require_columns(schema, [key.column], field=f"order_by.{i}.column")


class SortLimit(Operator):
    """Sorts the rows, then keeps the first ``limit`` of them.

    Example: ``{"order_by": [{"column": "spend", "descending": true}], "limit": 10}`` keeps
    the ten biggest spenders. Missing values sort last; rows that tie keep their order.
    """

    name = "transform.sort_limit"
    label = "Sort and limit"
    description = "Sort rows by one or more columns and keep the first N."
    category = "transform"
    icon = "arrow-down-wide-narrow"
    keywords = ("sort", "order", "order by", "limit", "top", "head", "rank", "first")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = SortLimitParams
    example = {"order_by": [{"column": "spend", "descending": True}], "limit": 10}

    def run(
        self, ctx: Context, params: SortLimitParams, table: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        _check(params, schema_of(table))
        if params.order_by:
            try:
                table = table.sort_values(
                    [k.column for k in params.order_by],
                    ascending=[not k.descending for k in params.order_by],
                    kind="stable", na_position="last", ignore_index=True,
                )
            except TypeError as exc:  # a column mixing text and numbers
                raise OperatorError(f"Cannot sort: {exc}", field="order_by") from None
        if params.limit is not None:
            table = table.head(params.limit)
        return {"table": table.reset_index(drop=True)}

    def infer_schema(
        self, ctx: Context, params: SortLimitParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        _check(params, table)
        return {"table": table}
