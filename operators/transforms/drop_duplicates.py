"""Remove repeated rows."""
from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from pydantic import Field

from ..base import Context, Operator, Params, Port, Schema, column_field, require_columns, schema_of
from ..tables import Query, Rel, columns_sql, ident
from ._common import fresh_name, missing_as_null, position_sql


class DropDuplicatesParams(Params):
    subset: list[str] = column_field(
        [], description="Rows are duplicates when these columns match; empty means all columns."
    )
    keep: Literal["first", "last"] = Field(
        "first", description="Which of the duplicate rows to keep, in table order."
    )


class DropDuplicates(Operator):
    """Keeps one row of each group of duplicate rows.

    Example: ``{"subset": ["email"], "keep": "last"}`` keeps each email's last row.
    Missing values count as equal to each other.
    """

    name = "transform.drop_duplicates"
    label = "Remove duplicates"
    description = "Remove repeated rows, comparing all columns or only some."
    category = "transform"
    icon = "copy-minus"
    keywords = ("duplicates", "dedupe", "distinct", "unique", "remove", "drop")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = DropDuplicatesParams
    example = {"subset": ["email"], "keep": "last"}

    def run(
        self, ctx: Context, params: DropDuplicatesParams, table: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        require_columns(schema_of(table), params.subset, field="subset")
        result = table.drop_duplicates(subset=params.subset or None, keep=params.keep,
                                       ignore_index=True)
        ctx.log(f"Removed {len(table) - len(result)} duplicate row(s) of {len(table)}.")
        return {"table": result}

    def query(self, q: Query, params: DropDuplicatesParams, table: Rel) -> dict[str, Rel]:
        require_columns(table.schema, params.subset, field="subset")
        types = table.types()
        pos_name, rank_name = (fresh_name(table.schema, n) for n in ("__position", "__rank"))
        pos, rank = ident(pos_name), ident(rank_name)
        keys = ", ".join(missing_as_null(c, types[c]) for c in params.subset or table.names)
        numbered = q.define(f"SELECT *, {position_sql(q)} AS {pos} FROM {table.ref}",
                            [*table.schema, {"name": pos_name, "type": "int"}])
        direction = "DESC" if params.keep == "last" else "ASC"
        ranked = q.define(
            f"SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY {pos} {direction}) "
            f"AS {rank} FROM {numbered.ref}",
            [*numbered.schema, {"name": rank_name, "type": "int"}])
        # The window scatters the rows by key: the kept ones go back to the table's order.
        return {"table": q.define(f"SELECT {columns_sql(table.schema)} FROM {ranked.ref} "
                                  f"WHERE {rank} = 1 ORDER BY {pos}", table.schema)}

    def reads(self, params: DropDuplicatesParams, **inputs: Any
              ) -> dict[str, set[str] | None]:
        return {"table": set(params.subset) or None}  # they decide the rows; empty: all

    def infer_schema(
        self, ctx: Context, params: DropDuplicatesParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        require_columns(table, params.subset, field="subset")
        return {"table": table}
