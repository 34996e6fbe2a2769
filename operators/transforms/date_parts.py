"""Split a date column into parts: year, month, weekday, ..."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pandas as pd
from pydantic import Field, field_validator

from ..base import Context, Operator, OperatorError, Params, Port, Schema, column_field, schema_of
from ..tables import Query, Rel, ident
from ._common import conform, dates_sql, expect_type, parse_naive_dates, shown, with_columns

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
# The same in SQL (DuckDB's names; Spark's where sqlglot does not translate them).
_PART_SQL = {"year": "year({})", "quarter": "quarter({})", "month": "month({})",
             "day": "day({})", "weekday": "isodow({}) - 1", "hour": "hour({})",
             "week": "weekofyear({})", "dayofyear": "dayofyear({})"}
_SPARK_PART_SQL = {**_PART_SQL, "weekday": "weekday({})"}
ERR_NOT_DATES = "Column {column!r} has {count} value(s) that are not dates, e.g. {example}."


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

    Version 2: a date written with a UTC offset (``Z``, ``+02:00``) is converted to UTC (its
    parts were those of the local time when every value had the same offset).
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
    version = "2"
    example = {"column": "ordered_at", "parts": ["year", "month", "weekday"]}

    def run(self, ctx: Context, params: DatePartsParams, table: pd.DataFrame
            ) -> dict[str, pd.DataFrame]:
        expect_type(schema_of(table), params.column, ("datetime", "str"), field="column",
                    why="reading dates")
        dates = parse_naive_dates(table[params.column], column=params.column,
                                  field="column").dt
        return {"table": table.assign(**{
            name: conform(_PARTS[part](dates), "int") for part, name in params.names().items()
        })}

    def query(self, q: Query, params: DatePartsParams, table: Rel) -> dict[str, Rel]:
        expect_type(table.schema, params.column, ("datetime", "str"), field="column",
                    why="reading dates")
        dates = dates_sql(q, table, params.column, field="column")
        count, example = dates.first_bad(q, params.column)
        if count:
            raise OperatorError(ERR_NOT_DATES.format(column=params.column, count=count,
                                                     example=shown(example)), field="column")
        sql = _SPARK_PART_SQL if q.engine == "spark" else _PART_SQL
        names = {name: part for part, name in params.names().items()}
        schema = with_columns(table.schema, [{"name": n, "type": "int"} for n in names])
        columns = ", ".join(
            f"{sql[names[c['name']]].format(ident(dates.date))} AS {ident(c['name'])}"
            if c["name"] in names else ident(c["name"]) for c in schema)
        return {"table": q.define(f"SELECT {columns} FROM {dates.rel.ref}", schema)}

    def reads(self, params: DatePartsParams, **inputs: Any) -> dict[str, set[str] | None]:
        return {"table": {params.column}}

    def infer_schema(self, ctx: Context, params: DatePartsParams, table: Schema | None = None
                     ) -> dict[str, Schema | None]:
        if table is None:
            return {"table": None}
        expect_type(table, params.column, ("datetime", "str"), field="column",
                    why="reading dates")
        return {"table": with_columns(table, [{"name": name, "type": "int"}
                                              for name in params.names().values()])}
