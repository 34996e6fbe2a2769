"""An example plugin: one operator, written against the SDK in ``operators.base``."""
from __future__ import annotations

import pandas as pd
from pydantic import Field

from operators.base import Context, Operator, Params, Port, Schema, column_field, require_columns


class ShoutParams(Params):
    column: str = column_field(description="The text column to write in capitals.")
    suffix: str = Field("!", max_length=10, description="Appended to each value.")


class Shout(Operator):
    """Writes a text column in capitals.

    Example: ``{"column": "name", "suffix": "!"}``.
    """

    name = "example.shout"
    label = "Shout"
    description = "Write a text column in capitals (an example plugin)."
    category = "transform"
    icon = "megaphone"
    keywords = ("example", "plugin", "upper case", "capitals")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = ShoutParams
    example = {"column": "name", "suffix": "!"}

    def run(self, ctx: Context, params: ShoutParams, table: pd.DataFrame
            ) -> dict[str, pd.DataFrame]:
        shouted = table[params.column].astype("string").str.upper() + params.suffix
        return {"table": table.assign(**{params.column: shouted})}

    def infer_schema(self, ctx: Context, params: ShoutParams, table: Schema | None = None
                     ) -> dict[str, Schema | None]:
        require_columns(table, [params.column], field="column")
        return {"table": None if table is None else [
            {**c, "type": "str"} if c["name"] == params.column else c for c in table]}
