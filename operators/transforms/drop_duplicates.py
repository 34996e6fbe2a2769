"""Remove repeated rows."""
from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field

from ..base import Context, Operator, Params, Port, Schema, column_field, require_columns, schema_of


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

    def infer_schema(
        self, ctx: Context, params: DropDuplicatesParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        require_columns(table, params.subset, field="subset")
        return {"table": table}
