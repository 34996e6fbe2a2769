"""Sort rows and optionally keep only the first ones."""
from __future__ import annotations

from typing import Any

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
from ..tables import Query, Rel, columns_sql, ident
from ._common import fresh_name, missing_as_null, position_sql


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

    def query(self, q: Query, params: SortLimitParams, table: Rel) -> dict[str, Rel]:
        _check(params, table.schema)
        if not params.order_by and params.limit is None:
            return {"table": table}
        limit = "" if params.limit is None else f" LIMIT {int(params.limit)}"
        if not params.order_by and q.engine == "duckdb":
            # DuckDB keeps insertion order through a LIMIT and stops reading there; Spark's
            # LIMIT gathers partitions in no set order: it takes the first rows by position.
            return {"table": q.define(f"SELECT * FROM {table.ref}{limit}", table.schema)}
        pos_name = fresh_name(table.schema, "__position")
        numbered = q.define(f"SELECT *, {position_sql(q)} AS {ident(pos_name)} "
                            f"FROM {table.ref}", [*table.schema, {"name": pos_name, "type": "int"}])
        types = table.types()
        keys = [f"{missing_as_null(k.column, types[k.column])} "
                f"{'DESC' if k.descending else 'ASC'} NULLS LAST" for k in params.order_by]
        # Ties keep their order (pandas' stable sort): the row's position breaks them.
        order = ", ".join([*keys, ident(pos_name)])
        return {"table": q.define(f"SELECT {columns_sql(table.schema)} FROM {numbered.ref} "
                                  f"ORDER BY {order}{limit}", table.schema)}

    def reads(self, params: SortLimitParams, **inputs: Any) -> dict[str, set[str] | None]:
        return {"table": {k.column for k in params.order_by}}  # they decide the order

    def infer_schema(
        self, ctx: Context, params: SortLimitParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        _check(params, table)
        return {"table": table}
