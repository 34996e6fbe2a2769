"""Summarise a table per group: sums, means, counts, ..."""
from __future__ import annotations

from typing import Literal

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
from ._common import NUMERIC, conform, expect_type, types_of

Function = Literal["sum", "mean", "count", "min", "max", "nunique", "median", "std"]
_ANY = ("int", "float", "bool", "str", "datetime")
# function -> (column types it accepts, result type from the column's type)
_FUNCTIONS: dict[str, tuple[tuple[str, ...], dict[str, str] | str]] = {
    "sum": (("int", "float", "bool"), {"int": "int", "bool": "int", "float": "float"}),
    "mean": (("int", "float", "bool"), "float"),
    "median": (NUMERIC, "float"),
    "std": (NUMERIC, "float"),
    "min": (_ANY, "same"),
    "max": (_ANY, "same"),
    "count": (_ANY, "int"),
    "nunique": (_ANY, "int"),
}


class Aggregation(Params):
    column: str = column_field(..., description="The column to summarise.")
    function: Function = Field(
        ..., description="count counts values that are not missing; nunique counts distinct "
        "values; std is the sample standard deviation."
    )
    name: str | None = Field(
        None, min_length=1, description="The result column's name; empty for column_function."
    )

    @property
    def output(self) -> str:
        return self.name or f"{self.column}_{self.function}"


class AggregateParams(Params):
    group_by: list[str] = column_field(
        [], description="One result row per combination of these columns; empty for one row "
        "summarising the whole table."
    )
    aggregations: list[Aggregation] = Field(
        ..., min_length=1, description="The summaries to compute."
    )

    @field_validator("aggregations")
    @classmethod
    def _distinct_names(cls, aggregations: list[Aggregation]) -> list[Aggregation]:
        names = [a.output for a in aggregations]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"two aggregations are named {', '.join(repeated)}; name them")
        return aggregations


def _schema(params: AggregateParams, schema: Schema) -> Schema:
    require_columns(schema, params.group_by, field="group_by")
    types = types_of(schema)
    result = [{"name": g, "type": types[g]} for g in params.group_by]
    for i, agg in enumerate(params.aggregations):
        accepts, gives = _FUNCTIONS[agg.function]
        col_type = expect_type(schema, agg.column, accepts, field=f"aggregations.{i}.column",
                               why=f"{agg.function!r}")
        if agg.output in params.group_by:
            raise OperatorError(f"{agg.output!r} is already a group column; rename the result.",
                                field=f"aggregations.{i}.name")
        if isinstance(gives, dict):
            col_type = gives[col_type]
        elif gives != "same":
            col_type = gives
        result.append({"name": agg.output, "type": col_type})
    return result


class Aggregate(Operator):
    """Groups rows by some columns and summarises each group in one row.

    Example: ``{"group_by": ["plan"], "aggregations": [{"column": "spend", "function":
    "sum", "name": "revenue"}, {"column": "customer_id", "function": "nunique"}]}``.
    Groups are sorted by their keys; missing keys form a group of their own, last. Missing
    values are skipped (a sum of none is 0). The sum of a true/false column counts the trues.
    """

    name = "transform.aggregate"
    label = "Group and summarise"
    description = "Summarise rows per group: sum, mean, count, min, max, ..."
    category = "transform"
    icon = "sigma"
    keywords = ("aggregate", "group by", "summarise", "summarize", "sum", "count", "average",
                "mean", "total", "pivot")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = AggregateParams
    example = {"group_by": ["plan"],
               "aggregations": [{"column": "spend", "function": "sum", "name": "revenue"},
                                {"column": "customer_id", "function": "nunique"}]}

    def run(self, ctx: Context, params: AggregateParams, table: pd.DataFrame
            ) -> dict[str, pd.DataFrame]:
        schema = _schema(params, schema_of(table))
        if params.group_by:
            grouped = table.groupby(params.group_by, dropna=False, sort=True)
            result = pd.DataFrame({a.output: grouped[a.column].agg(a.function)
                                   for a in params.aggregations}).reset_index()
        else:  # like SQL: one row even for an empty table
            result = pd.DataFrame({a.output: [table[a.column].agg(a.function)]
                                   for a in params.aggregations})
        result = result.assign(**{c["name"]: conform(result[c["name"]], c["type"])
                                  for c in schema})
        ctx.log(f"Summarised {len(table)} rows into {len(result)}.")
        return {"table": result[[c["name"] for c in schema]]}

    def infer_schema(self, ctx: Context, params: AggregateParams,
                     table: Schema | None = None) -> dict[str, Schema | None]:
        if table is None:
            return {"table": None}
        return {"table": _schema(params, table)}
