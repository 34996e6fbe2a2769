"""Summarise a table per group: sums, means, counts, ..."""
from __future__ import annotations

from collections.abc import Sequence
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
from ..tables import Query, Rel, ident
from ._common import NUMERIC, conform_frame, distinct_columns, expect_type, types_of

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

    @field_validator("group_by")
    @classmethod
    def _distinct_keys(cls, group_by: list[str]) -> list[str]:
        return distinct_columns(group_by)

    @field_validator("aggregations")
    @classmethod
    def _distinct_names(cls, aggregations: list[Aggregation]) -> list[Aggregation]:
        names = [a.output for a in aggregations]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"two aggregations are named {', '.join(repeated)}; name them")
        return aggregations


def value_sql(column: str, col_type: str) -> str:
    """A column as pandas sees it: a float NaN is a missing value (SQL keeps NaN apart from
    NULL, and sums, averages and compares it)."""
    c = ident(column)
    return f"CASE WHEN isnan({c}) THEN NULL ELSE {c} END" if col_type == "float" else c


def clean_rel(q: Query, table: Rel, columns: Sequence[str], *, medians: Sequence[str] = (),
              keys: Sequence[str] = ()) -> Rel:
    """``columns`` of ``table`` as pandas sees them (``value_sql``). On Spark, beside them,
    what ``median_sql`` needs for each column of ``medians`` per group of ``keys``."""
    types = table.types()
    rel = q.define("SELECT " + ", ".join(f"{value_sql(c, types[c])} AS {ident(c)}"
                                         for c in columns) + f" FROM {table.ref}",
                   [{"name": c, "type": types[c]} for c in columns])
    if q.engine != "spark" or not medians:
        return rel
    part = f"PARTITION BY {', '.join(ident(k) for k in keys)}" if keys else ""
    extra, schema = [], list(rel.schema)
    for c in dict.fromkeys(medians):
        extra += [f"row_number() OVER ({part} ORDER BY {ident(c)} ASC NULLS LAST) "
                  f"AS {ident(_rank_name(c))}",
                  f"count({ident(c)}) OVER ({part}) AS {ident(_count_name(c))}"]
        schema += [{"name": _rank_name(c), "type": "int"},
                   {"name": _count_name(c), "type": "int"}]
    return q.define(f"SELECT *, {', '.join(extra)} FROM {rel.ref}", schema)


def _rank_name(column: str) -> str:
    return f"__median_rank {column}"


def _count_name(column: str) -> str:
    return f"__median_count {column}"


def median_sql(q: Query, column: str) -> str:
    """pandas' median of a column of ``clean_rel``, exactly: the two middle values (the same
    one when the count is odd), added and halved in floats. Interpolating SQL medians
    compute lo + (hi - lo) / 2, which differs in the last bits (Spark's does); DuckDB
    picks the middle values with quantile_disc (the upper one as the lower of the negated
    values), Spark by row numbers, as its ordered-set aggregates do not transpile."""
    x = f"CAST({ident(column)} AS DOUBLE)"
    if q.engine != "spark":
        return f"(quantile_disc({x}, 0.5) - quantile_disc(-{x}, 0.5)) / 2"
    rank, count = ident(_rank_name(column)), ident(_count_name(column))
    return (f"(max(CASE WHEN {rank} = ({count} + 1) // 2 THEN {x} END) + "
            f"max(CASE WHEN {rank} = {count} // 2 + 1 THEN {x} END)) / 2")


# function -> its SQL over a column of ``clean_rel``; every one skips missing values as
# pandas does, and a sum of none is 0 as in pandas (SQL's is NULL).
def _aggregate_sql(q: Query, function: str, column: str, col_type: str) -> str:
    c = ident(column)
    if function == "sum":
        return f"coalesce(sum({f'CAST({c} AS BIGINT)' if col_type == 'bool' else c}), 0)"
    if function == "count":
        return f"count({c})"
    if function == "nunique":
        return f"count(DISTINCT {c})"
    if function in ("min", "max"):
        return f"{function}({c})"
    if function == "median":
        return median_sql(q, column)
    # pandas computes these in floats, whatever the column's type.
    return f"{'avg' if function == 'mean' else 'stddev_samp'}(CAST({c} AS DOUBLE))"


def _scalar(value: object) -> object:
    """A whole-table summary as one cell: a missing one as None, which ``conform`` turns
    into the column's missing value (pd.NA, from an empty nullable column, breaks a cast
    to float)."""
    return None if pd.isna(value) else value


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
    Without group columns the result is one row, even for an empty table.

    On an engine (DuckDB, Spark) the same table comes out: the median is the two middle
    values added and halved, as pandas computes it; std is the sample standard deviation
    (missing for a group of one). Sums and means of decimals may differ from pandas in the
    last bits (the order of additions differs), never more.
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
            result = pd.DataFrame({a.output: pd.Series([_scalar(
                table[a.column].agg(a.function))], dtype=object) for a in params.aggregations})
        result = conform_frame(result, schema)
        ctx.log(f"Summarised {len(table)} rows into {len(result)}.")
        return {"table": result}

    def query(self, q: Query, params: AggregateParams, table: Rel) -> dict[str, Rel]:
        schema = _schema(params, table.schema)
        types = table.types()
        used = list(dict.fromkeys([*params.group_by, *(a.column for a in params.aggregations)]))
        clean = clean_rel(q, table, used, keys=params.group_by, medians=[
            a.column for a in params.aggregations if a.function == "median"])
        selected = [*(ident(g) for g in params.group_by), *(
            f"{_aggregate_sql(q, a.function, a.column, types[a.column])} AS {ident(a.output)}"
            for a in params.aggregations)]
        sql = f"SELECT {', '.join(selected)} FROM {clean.ref}"
        if params.group_by:  # pandas' groupby(sort=True, dropna=False)
            sql += f" GROUP BY {', '.join(ident(g) for g in params.group_by)} ORDER BY " + \
                ", ".join(f"{ident(g)} ASC NULLS LAST" for g in params.group_by)
        return {"table": q.define(sql, schema)}

    def infer_schema(self, ctx: Context, params: AggregateParams,
                     table: Schema | None = None) -> dict[str, Schema | None]:
        if table is None:
            return {"table": None}
        return {"table": _schema(params, table)}
