"""Join two tables on matching key columns."""
from __future__ import annotations

from typing import Any, Literal

import numpy as np
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
from ..tables import Query, Rel, ident
from ._common import NUMERIC, conform_frame, nullable, types_of

How = Literal["inner", "left", "right", "outer"]
_SQL_JOIN = {"inner": "INNER JOIN", "left": "LEFT JOIN", "right": "RIGHT JOIN",
             "outer": "FULL OUTER JOIN"}
# Which sides may lack a match, and so gain missing values.
_MAY_BE_MISSING = {"inner": (), "left": ("right",), "right": ("left",),
                   "outer": ("left", "right")}


class JoinKey(Params):
    left: str = column_field(..., port="left", description="Key column of the left table.")
    right: str = column_field(..., port="right", description="Key column of the right table.")


class JoinParams(Params):
    how: How = Field(
        "inner", description="inner: only rows with a match on both sides; left/right: all "
        "rows of that side; outer: all rows of both.",
    )
    on: list[JoinKey] = Field(
        ..., min_length=1, description="Pairs of columns whose values must be equal."
    )
    suffix: str = Field(
        "_right", min_length=1,
        description="Added to the name of a right column that the left table also has.",
    )


def _plan(params: JoinParams, left: Schema, right: Schema) -> tuple[dict[str, str], Schema]:
    """How to rename the right table's columns, and the joined schema."""
    left_types, right_types = types_of(left), types_of(right)
    for i, key in enumerate(params.on):
        require_columns(left, [key.left], field=f"on.{i}.left")
        require_columns(right, [key.right], field=f"on.{i}.right")
        types = {left_types[key.left], right_types[key.right]}
        if len(types) > 1 and not types <= set(NUMERIC):
            raise OperatorError(
                f"Cannot match {key.left!r} ({left_types[key.left]}) with {key.right!r} "
                f"({right_types[key.right]}): convert one of them first.",
                field=f"on.{i}.right",
            )
    # A right key with the left key's name merges into it (a decimal if either side is one);
    # other clashes get the suffix.
    shared_keys = {k.right for k in params.on if k.left == k.right}
    widened = {k for k in shared_keys if left_types[k] != right_types[k]}
    renames = {c["name"]: c["name"] + params.suffix for c in right
               if c["name"] in left_types and c["name"] not in shared_keys}
    schema = [*({**c, "type": "float"} if c["name"] in widened else c for c in left),
              *({**c, "name": renames.get(c["name"], c["name"])} for c in right
                if c["name"] not in shared_keys)]
    names = [c["name"] for c in schema]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise OperatorError(
            f"With suffix {params.suffix!r} the result would have two columns named "
            f"{', '.join(clashes)}; choose another suffix.",
            field="suffix",
        )
    return renames, schema


def _nullable(table: pd.DataFrame) -> pd.DataFrame:
    changed = {c: nullable(table[c]) for c, dtype in table.dtypes.items() if dtype.kind in "iub"}
    return table.assign(**changed) if changed else table


def _missing_keys(table: pd.DataFrame, keys: list[str]) -> pd.Series | None:
    """Which rows have a missing key, or None when none has."""
    missing = table[keys[0]].isna()
    for key in keys[1:]:
        missing |= table[key].isna()
    return missing if missing.any() else None


def _merged(left: pd.DataFrame, right: pd.DataFrame, how: How, left_on: list[str],
            right_on: list[str]) -> pd.DataFrame:
    def merge(lhs: pd.DataFrame, rhs: pd.DataFrame) -> pd.DataFrame:
        return pd.merge(lhs, rhs, how=how, left_on=left_on, right_on=right_on)

    left_null = _missing_keys(left, left_on)
    right_null = _missing_keys(right, right_on)
    if left_null is None and right_null is None:
        return merge(left, right)
    may_miss = _MAY_BE_MISSING[how]
    parts = [merge(left if left_null is None else left[~left_null],
                   right if right_null is None else right[~right_null])]
    # Rows with a missing key match nothing; merging them with no rows of the other side
    # keeps them where the join keeps unmatched rows, with that side's dtypes.
    if "right" in may_miss and left_null is not None:
        parts.append(merge(left[left_null], right.iloc[:0]))
    if "left" in may_miss and right_null is not None:
        parts.append(merge(left.iloc[:0], right[right_null]))
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _retyped(result: pd.DataFrame, before: dict[str, Any]) -> bool:
    """Whether an int or bool column (numpy's) came out of the merge as another type: rows
    without a match gave it missing values, as floats or objects."""
    after = result.dtypes.to_dict()
    return any(dtype.kind in "iub" and isinstance(dtype, np.dtype) and
               after.get(name, dtype) != dtype for name, dtype in before.items())


class Join(Operator):
    """Combines each row of ``left`` with the rows of ``right`` whose keys are equal.

    Example: ``{"how": "left", "on": [{"left": "customer_id", "right": "id"}]}`` adds the
    customer's columns to each order, keeping orders with no customer.
    Like SQL, a missing key (NaN too) matches nothing; those rows are kept by the joins that
    keep all rows of their side. Integers and decimals match by value.

    Row order: in pandas (serving, previews) the rows of a left or inner join follow the left
    table, those of a right join the right table, an outer join's are sorted by key, and rows
    with a missing key come last; on DuckDB and Spark (table nodes in a run) a join, as in
    SQL, promises no order: sort after it where the order matters.
    """

    name = "transform.join"
    label = "Join"
    description = "Combine two tables by matching key columns."
    category = "transform"
    icon = "merge"
    keywords = ("join", "merge", "lookup", "combine", "vlookup", "left join", "inner join")
    inputs = (Port("left", "table"), Port("right", "table"))
    outputs = (Port("table", "table"),)
    Params = JoinParams
    example = {"how": "left", "on": [{"left": "customer_id", "right": "id"}]}

    def run(self, ctx: Context, params: JoinParams, left: pd.DataFrame,
            right: pd.DataFrame) -> dict[str, pd.DataFrame]:
        renames, schema = _plan(params, schema_of(left), schema_of(right))
        right = right.rename(columns=renames) if renames else right
        left_on = [k.left for k in params.on]
        right_on = [renames.get(k.right, k.right) for k in params.on]
        result = _merged(left, right, params.how, left_on, right_on)
        may_miss = _MAY_BE_MISSING[params.how]
        if may_miss and _retyped(result, {**right.dtypes.to_dict(), **left.dtypes.to_dict()}):
            # Int and bool columns turned into floats and objects where rows found no match
            # (a float loses the digits of an integer past 2**53): merged again from
            # nullable dtypes, which keep the schema promised before running. Where every
            # row matched, the columns keep their numpy dtypes (as a table read back from
            # a run's Parquet has them).
            result = _merged(_nullable(left) if "left" in may_miss else left,
                             _nullable(right) if "right" in may_miss else right,
                             params.how, left_on, right_on)
        result = conform_frame(result, schema)
        ctx.log(f"Joined {len(left)} and {len(right)} rows into {len(result)}.")
        return {"table": result}

    def query(self, q: Query, params: JoinParams, left: Rel, right: Rel) -> dict[str, Rel]:
        renames, schema = _plan(params, left.schema, right.schema)
        lt, rt = left.types(), right.types()
        conditions, merged = [], {}
        for key in params.on:
            lhs, rhs = f"l.{ident(key.left)}", f"r.{ident(key.right)}"
            if lt[key.left] != rt[key.right]:  # an integer matches a decimal by value
                lhs, rhs = f"CAST({lhs} AS DOUBLE)", f"CAST({rhs} AS DOUBLE)"
            # NULL matches nothing in SQL, but NaN equals NaN: pandas counts it as missing.
            conditions += [f"{lhs} = {rhs}", *(f"NOT isnan({side})" for side, t in
                                              ((lhs, lt[key.left]), (rhs, rt[key.right]))
                                              if t == "float")]
            if key.left == key.right:  # one column: the key of whichever side has the row
                merged[key.left] = f"coalesce({lhs}, {rhs})"
        columns = [f"{merged.get(c['name'], 'l.' + ident(c['name']))} AS {ident(c['name'])}"
                   for c in left.schema]
        columns += [f"r.{ident(c['name'])} AS {ident(renames.get(c['name'], c['name']))}"
                    for c in right.schema if c["name"] not in merged]
        sql = (f"SELECT {', '.join(columns)} FROM {left.ref} AS l {_SQL_JOIN[params.how]} "
               f"{right.ref} AS r ON {' AND '.join(conditions)}")
        return {"table": q.define(sql, schema)}

    def reads(self, params: JoinParams, left: Schema | None = None,
              right: Schema | None = None, **_: Any) -> dict[str, set[str] | None]:
        """The keys, and the right table's columns the answer asks for under their new
        names (a clash gets the suffix): those are not passed through under their name."""
        if left is None or right is None:
            return {"left": None, "right": None}
        renames, _schema = _plan(params, left, right)
        return {"left": {k.left for k in params.on},
                "right": {k.right for k in params.on} | set(renames)}

    def infer_schema(self, ctx: Context, params: JoinParams, left: Schema | None = None,
                     right: Schema | None = None) -> dict[str, Schema | None]:
        if left is None or right is None:
            for i, key in enumerate(params.on):
                require_columns(left, [key.left], field=f"on.{i}.left")
                require_columns(right, [key.right], field=f"on.{i}.right")
            return {"table": None}
        return {"table": _plan(params, left, right)[1]}
