"""Stack the rows of two tables."""
from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field

from ..base import Context, Operator, OperatorError, Params, Port, Schema, schema_of
from ..tables import Query, Rel, cast, ident
from ._common import NUMERIC, conform


class UnionParams(Params):
    mode: Literal["by_name", "by_position"] = Field(
        "by_name", description="Match columns by their names, or by their order (the first "
        "table's names are kept).",
    )
    allow_missing: bool = Field(
        False, description="By name: a column only one table has is kept, missing in the "
        "other table's rows. Off: such columns are an error.",
    )


def _plan(params: UnionParams, first: Schema, second: Schema) -> tuple[list[str], Schema]:
    """The second table's column names in the first's terms, and the stacked schema."""
    if params.mode == "by_position":
        if len(first) != len(second):
            raise OperatorError(
                f"The first table has {len(first)} columns and the second {len(second)}; "
                "stacking by position needs the same number.", field="mode")
        second = [{**b, "name": a["name"]} for a, b in zip(first, second, strict=True)]
    names_1, names_2 = [c["name"] for c in first], [c["name"] for c in second]
    only_1 = [n for n in names_1 if n not in names_2]
    only_2 = [n for n in names_2 if n not in names_1]
    if (only_1 or only_2) and not params.allow_missing:
        raise OperatorError(
            f"The tables' columns differ: only in the first: {', '.join(only_1) or '(none)'}; "
            f"only in the second: {', '.join(only_2) or '(none)'}. Turn on allow_missing to "
            "keep them anyway.", field="allow_missing")
    types_1 = {c["name"]: c["type"] for c in first}
    types_2 = {c["name"]: c["type"] for c in second}
    schema = []
    for name in [*names_1, *only_2]:
        types = {t for t in (types_1.get(name), types_2.get(name)) if t is not None}
        if len(types) > 1 and not types <= set(NUMERIC):
            raise OperatorError(
                f"Column {name!r} holds {types_1[name]} values in the first table and "
                f"{types_2[name]} in the second; convert one of them first.", field="mode")
        schema.append({"name": name, "type": "float" if len(types) > 1 else types.pop()})
    return names_2, schema


def _aligned(table: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """``table`` with every column of ``schema``, in order, typed to match."""
    columns = {}
    for col in schema:
        if col["name"] in table:
            series = conform(table[col["name"]], col["type"])
        else:
            series = conform(pd.Series(index=table.index, dtype="float64"), col["type"])
        columns[col["name"]] = series
    return pd.DataFrame(columns, index=table.index)


def _select(rel: Rel, names: list[str], schema: Schema) -> str:
    """SQL selecting ``rel`` (whose columns are ``names`` in the stacked table's terms) as
    ``schema``: NULL where it lacks a column, whole numbers cast where decimals stack."""
    own = dict(zip(names, rel.schema, strict=True))
    columns = []
    for col in schema:
        mine = own.get(col["name"])
        sql = "NULL" if mine is None else ident(mine["name"])
        if mine is not None and mine["type"] != col["type"]:
            sql = cast(sql, col["type"])
        columns.append(f"{sql} AS {ident(col['name'])}")
    return f"SELECT {', '.join(columns)} FROM {rel.ref}"


class Union(Operator):
    """Puts the rows of ``second`` under the rows of ``first``.

    Example: ``{"mode": "by_name"}`` stacks January's and February's orders. Whole numbers
    stacked with decimals become decimals; other type differences are an error.
    """

    name = "transform.union"
    label = "Stack tables"
    description = "Append the rows of one table to another (union)."
    category = "transform"
    icon = "layers"
    keywords = ("union", "append", "stack", "concat", "combine", "rows", "union all")
    inputs = (Port("first", "table"), Port("second", "table"))
    outputs = (Port("table", "table"),)
    Params = UnionParams
    example = {"mode": "by_name"}

    def run(self, ctx: Context, params: UnionParams, first: pd.DataFrame,
            second: pd.DataFrame) -> dict[str, pd.DataFrame]:
        names_2, schema = _plan(params, schema_of(first), schema_of(second))
        second = second.set_axis(names_2, axis=1)
        result = pd.concat([_aligned(first, schema), _aligned(second, schema)],
                           ignore_index=True)
        return {"table": result}

    def query(self, q: Query, params: UnionParams, first: Rel, second: Rel
              ) -> dict[str, Rel]:
        names_2, schema = _plan(params, first.schema, second.schema)
        # UNION ALL keeps the first table's rows, then the second's, on both engines
        # (DuckDB's insertion order; Spark's partitions in order).
        return {"table": q.define(f"{_select(first, first.names, schema)} UNION ALL "
                                  f"{_select(second, names_2, schema)}", schema)}

    def infer_schema(self, ctx: Context, params: UnionParams, first: Schema | None = None,
                     second: Schema | None = None) -> dict[str, Schema | None]:
        if first is None or second is None:
            return {"table": None}
        return {"table": _plan(params, first, second)[1]}
