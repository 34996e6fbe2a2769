"""Keep the rows that match structured conditions (never an evaluated expression string)."""
from __future__ import annotations

import math
import operator
from functools import reduce
from typing import Any, Literal

import pandas as pd
from pydantic import Field, ValidationInfo, field_validator

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
from ..tables import Query, Rel, ident, lit

Op = Literal["==", "!=", ">", ">=", "<", "<=", "in", "not_in", "is_null", "not_null", "contains"]
_COMPARE = {"==": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
            "<": operator.lt, "<=": operator.le}
_NO_VALUE = ("is_null", "not_null")
_LIST_VALUE = ("in", "not_in")


class Condition(Params):
    column: str = column_field(..., description="The column to test.")
    op: Op = Field("==", description="How to compare the column with the value.")
    value: Any = Field(
        None,
        validate_default=True,
        description="What to compare with: a list for in/not_in, nothing for is_null/not_null.",
    )

    @field_validator("value")
    @classmethod
    def _value_fits_op(cls, value: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        if op in _NO_VALUE:
            return None  # the canvas may keep a stale value around when the op changes
        if op in _LIST_VALUE:
            if not isinstance(value, list) or not value:
                raise ValueError(f"'{op}' needs a non-empty list of values")
            if any(v is None or isinstance(v, (list, dict)) for v in value):
                raise ValueError(f"'{op}' needs a list of plain values")
        elif value is None or isinstance(value, (list, dict)):
            raise ValueError(f"'{op}' needs a single value")
        elif op == "contains" and not isinstance(value, str):
            raise ValueError("'contains' needs a text value")
        return value


class FilterRowsParams(Params):
    conditions: list[Condition] = Field(
        default_factory=list, description="The conditions a row must meet to be kept."
    )
    combine: Literal["all", "any"] = Field(
        "all", description="Keep rows meeting all the conditions, or any of them."
    )


def _number(value: Any) -> int | float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return float(value)  # text boxes send "5"
        except ValueError:
            return None
    return None


def _coerce(value: Any, column: str, col_type: str, field: str) -> Any:
    """The value as the column's type, so "5" compares as a number with a numeric column."""
    if col_type in ("int", "float"):
        number = _number(value)
        if number is None:
            raise OperatorError(
                f"{value!r} is not a number, but column {column!r} holds numbers.", field=field
            )
        if isinstance(number, float) and math.isnan(number):
            # NaN is a missing value here; engines disagree on comparing with it.
            raise OperatorError(
                f"{value!r} is a missing value, not a number to compare with: use is_null "
                "or not_null.", field=field)
        return number
    if col_type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise OperatorError(
            f"{value!r} is not true or false, but column {column!r} holds true/false.",
            field=field,
        )
    if col_type == "datetime":
        try:
            return pd.Timestamp(value)
        except (TypeError, ValueError):
            raise OperatorError(
                f"{value!r} is not a date, but column {column!r} holds dates.", field=field
            ) from None
    return value if isinstance(value, str) else str(value)


def _checked_value(i: int, cond: Condition, schema: Schema) -> Any:
    """Check condition ``i`` against the table's schema; return its value coerced."""
    prefix = f"conditions.{i}"
    require_columns(schema, [cond.column], field=f"{prefix}.column")
    col_type = next(c["type"] for c in schema if c["name"] == cond.column)
    if cond.op == "contains" and col_type != "str":
        raise OperatorError(
            f"'contains' only applies to text columns; {cond.column!r} holds {col_type} values.",
            field=f"{prefix}.op",
        )
    if cond.op in _NO_VALUE:
        return None
    if cond.op in _LIST_VALUE:
        return [_coerce(v, cond.column, col_type, f"{prefix}.value") for v in cond.value]
    return _coerce(cond.value, cond.column, col_type, f"{prefix}.value")


def _mask(series: pd.Series, op: str, value: Any) -> pd.Series:
    if op == "is_null":
        return series.isna()
    if op == "not_null":
        return series.notna()
    if op in _LIST_VALUE:
        found = series.isin(value)
        return ~found if op == "not_in" else found
    if op == "contains":
        return series.str.contains(value, regex=False, na=False)
    if op == "!=":  # a missing value is not equal to anything
        return _COMPARE[op](series, value).fillna(True).astype(bool) | series.isna()
    # Nullable dtypes give <NA> when comparing a missing value: such rows do not match.
    return _COMPARE[op](series, value).fillna(False).astype(bool)


def _condition_sql(column: str, col_type: str, op: str, value: Any) -> str:
    """The condition as SQL that is true, false (never NULL) exactly where ``_mask`` is."""
    c = ident(column)
    missing = f"({c} IS NULL OR isnan({c}))" if col_type == "float" else f"{c} IS NULL"
    if op == "is_null":
        return missing
    if op == "not_null":
        return f"NOT {missing}"
    if op in _LIST_VALUE:
        values = ", ".join(lit(v) for v in value)
        return f"({missing} OR {c} NOT IN ({values}))" if op == "not_in" else \
            f"coalesce({c} IN ({values}), false)"
    if op == "contains":
        return f"coalesce(contains({c}, {lit(value)}), false)"
    sql_op = "<>" if op == "!=" else "=" if op == "==" else op
    if op == "!=":
        return f"({missing} OR {c} <> {lit(value)})"
    return f"coalesce({c} {sql_op} {lit(value)}, false)"


class FilterRows(Operator):
    """Keeps the rows meeting the conditions; the columns are unchanged.

    Example: ``{"conditions": [{"column": "plan", "op": "in", "value": ["pro", "enterprise"]},
    {"column": "monthly_spend", "op": ">", "value": 50}], "combine": "all"}``.
    ``contains`` is case-sensitive; comparisons never match a missing value, except ``!=``
    and ``not_in``, which a missing value always meets.
    """

    name = "transform.filter_rows"
    label = "Filter rows"
    description = "Keep only the rows that meet your conditions."
    category = "transform"
    icon = "filter"
    keywords = ("filter", "where", "rows", "condition", "query", "subset")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = FilterRowsParams
    version = "2"  # "!=" keeps missing values whatever the column's dtype
    example = {"conditions": [{"column": "plan", "op": "in", "value": ["pro", "enterprise"]},
                              {"column": "monthly_spend", "op": ">", "value": 50}],
               "combine": "all"}

    def run(
        self, ctx: Context, params: FilterRowsParams, table: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        schema = schema_of(table)
        masks = []
        for i, cond in enumerate(params.conditions):
            value = _checked_value(i, cond, schema)
            try:
                masks.append(_mask(table[cond.column], cond.op, value))
            except TypeError as exc:  # e.g. a naive date against a column with time zones
                raise OperatorError(
                    f"Cannot compare column {cond.column!r} with {cond.value!r}: {exc}",
                    field=f"conditions.{i}.value",
                ) from None
        if not masks:
            ctx.log(f"No conditions: kept all {len(table)} rows.")
            return {"table": table}
        keep = reduce(operator.and_ if params.combine == "all" else operator.or_, masks)
        result = table[keep].reset_index(drop=True)
        ctx.log(f"Kept {len(result)} of {len(table)} rows.")
        return {"table": result}

    def query(self, q: Query, params: FilterRowsParams, table: Rel) -> dict[str, Rel]:
        types = table.types()
        conditions = [_condition_sql(cond.column, types[cond.column], cond.op,
                                     _checked_value(i, cond, table.schema))
                      for i, cond in enumerate(params.conditions)]
        if not conditions:
            return {"table": table}
        where = (" AND " if params.combine == "all" else " OR ").join(
            f"({c})" for c in conditions)
        return {"table": q.define(f"SELECT * FROM {table.ref} WHERE {where}", table.schema)}

    def reads(self, params: FilterRowsParams, **inputs: Any) -> dict[str, set[str] | None]:
        return {"table": {c.column for c in params.conditions}}  # they decide the rows

    def infer_schema(
        self, ctx: Context, params: FilterRowsParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        if table is not None:
            for i, cond in enumerate(params.conditions):
                _checked_value(i, cond, table)
        return {"table": table}
