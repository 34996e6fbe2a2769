"""Split a date column into parts: year, month, weekday, ..."""
from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import pandas as pd
from pydantic import Field, field_validator

from ..base import Context, Operator, Params, Port, Schema, column_field, schema_of
from ._common import conform, expect_type, parse_dates, with_columns

Part = Literal["year", "quarter", "month", "day", "weekday", "hour", "week", "dayofyear"]
# Each part from a Series' .dt accessor.
_PARTS: dict[str, Callable[[pd.Series], pd.Series]] = {
    "year": lambda dt: dt.year,
    "quarter": lambda dt: dt.quarter,
    "month": lambda dt: dt.month,
    "day": lambda dt: dt.day,
    "weekday": lambda dt: dt.day_of_week,
    "hour": lambda dt: dt.hour,
    "week": lambda dt: dt.isocalendar().week,
    "dayofyear": lambda dt: dt.day_of_year,
}


class DatePartsParams(Params):
    column: str = column_field(..., description="The date column (or text holding dates).")
    parts: list[Part] = Field(
        ["year", "month", "day"], min_length=1, description="The parts to add as columns."
    )
    prefix: str | None = Field(
        None, min_length=1,
        description="New columns are named prefix_part; empty uses the column's name.",
    )

    @field_validator("parts")
    @classmethod
    def _each_part_once(cls, parts: list[str]) -> list[str]:
        return list(dict.fromkeys(parts))

    def names(self) -> dict[str, str]:
        return {part: f"{self.prefix or self.column}_{part}" for part in self.parts}


class DateParts(Operator):
    """Adds a whole-number column for each chosen part of a date.

    Example: ``{"column": "ordered_at", "parts": ["year", "month", "weekday"]}`` adds
    ``ordered_at_year``, ``ordered_at_month`` and ``ordered_at_weekday``.

    Text is read as dates (ISO 8601 such as 2024-03-31, or other common formats); a value
    that is not a date fails the node, naming it. weekday is 0 for Monday to 6 for Sunday;
    week is the ISO week (1–53). A missing date gives missing parts. A new column with the
    name of an existing one replaces it.
    """

    name = "transform.date_parts"
    label = "Date parts"
    description = "Extract year, month, day, weekday, ... from a date column."
    category = "transform"
    icon = "calendar"
    keywords = ("date", "time", "year", "month", "weekday", "day", "extract", "datetime",
                "feature", "season")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = DatePartsParams
    example = {"column": "ordered_at", "parts": ["year", "month", "weekday"]}

    def run(self, ctx: Context, params: DatePartsParams, table: pd.DataFrame
            ) -> dict[str, pd.DataFrame]:
        expect_type(schema_of(table), params.column, ("datetime", "str"), field="column",
                    why="reading dates")
        dates = parse_dates(table[params.column], column=params.column, field="column").dt
        return {"table": table.assign(**{
            name: conform(_PARTS[part](dates), "int") for part, name in params.names().items()
        })}

    def infer_schema(self, ctx: Context, params: DatePartsParams, table: Schema | None = None
                     ) -> dict[str, Schema | None]:
        if table is None:
            return {"table": None}
        expect_type(table, params.column, ("datetime", "str"), field="column",
                    why="reading dates")
        return {"table": with_columns(table, [{"name": name, "type": "int"}
                                              for name in params.names().values()])}
