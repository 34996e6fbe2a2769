"""Give columns new names, keeping their order and values."""
from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import Field, field_validator

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
from ..tables import Query, Rel, ident


class Rename(Params):
    column: str = column_field(..., description="The column to rename.")
    new_name: str = Field(..., min_length=1, description="Its new name.")


class RenameColumnsParams(Params):
    mapping: list[Rename] = Field(
        ..., min_length=1, description="Which columns to rename, and to what."
    )

    @field_validator("mapping")
    @classmethod
    def _each_column_once(cls, mapping: list[Rename]) -> list[Rename]:
        columns = [r.column for r in mapping]
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise ValueError(f"columns are renamed more than once: {', '.join(repeated)}")
        return mapping


def _renamed(params: RenameColumnsParams, schema: Schema) -> Schema:
    """``schema`` with the new names; an error if two columns would share a name."""
    for i, rename in enumerate(params.mapping):
        require_columns(schema, [rename.column], field=f"mapping.{i}.column")
    new_names = {r.column: r.new_name for r in params.mapping}
    result = [{**c, "name": new_names.get(c["name"], c["name"])} for c in schema]
    names = [c["name"] for c in result]
    for i, rename in enumerate(params.mapping):
        if names.count(rename.new_name) > 1:
            raise OperatorError(
                f"Renaming {rename.column!r} to {rename.new_name!r} would make two columns "
                f"named {rename.new_name!r}.",
                field=f"mapping.{i}.new_name",
            )
    return result


class RenameColumns(Operator):
    """Renames columns; the others, the order and the values are unchanged.

    Example: ``{"mapping": [{"column": "cust_id", "new_name": "customer_id"}]}``.
    Names may be swapped (``a`` → ``b`` and ``b`` → ``a``) as long as no two columns end up
    with the same name.
    """

    name = "transform.rename_columns"
    label = "Rename columns"
    description = "Give columns new names."
    category = "transform"
    icon = "pencil"
    keywords = ("rename", "columns", "name", "alias", "header")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = RenameColumnsParams
    example = {"mapping": [{"column": "cust_id", "new_name": "customer_id"}]}

    def run(
        self, ctx: Context, params: RenameColumnsParams, table: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        _renamed(params, schema_of(table))
        return {"table": table.rename(columns={r.column: r.new_name for r in params.mapping})}

    def query(self, q: Query, params: RenameColumnsParams, table: Rel) -> dict[str, Rel]:
        schema = _renamed(params, table.schema)
        columns = ", ".join(f"{ident(old)} AS {ident(new['name'])}"
                            for old, new in zip(table.names, schema, strict=True))
        return {"table": q.define(f"SELECT {columns} FROM {table.ref}", schema)}

    def reads(self, params: RenameColumnsParams, **inputs: Any) -> dict[str, set[str] | None]:
        return {"table": {r.column for r in params.mapping}}  # under a new name

    def infer_schema(
        self, ctx: Context, params: RenameColumnsParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        return {"table": None if table is None else _renamed(params, table)}
