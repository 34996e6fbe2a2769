"""RFM: score customers by Recency, Frequency and Monetary value of their orders."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from pydantic import Field

from ..base import Context, Operator, OperatorError, Params, Port, Schema, column_field, schema_of
from ..tables import Query, Rel, ident, lit
from ._common import NUMERIC, dates_sql, empty_frame, expect_type, parse_naive_dates, shown
from .aggregate import value_sql

_MEASURES: Schema = [
    {"name": "recency_days", "type": "int"}, {"name": "frequency", "type": "int"},
    {"name": "monetary", "type": "float"}, {"name": "r_score", "type": "int"},
    {"name": "f_score", "type": "int"}, {"name": "m_score", "type": "int"},
    {"name": "rfm_score", "type": "str"},
]


class RfmParams(Params):
    customer: str = column_field(..., port="orders", description="The customer of each order.")
    date: str = column_field(..., port="orders", description="When the order was placed.")
    amount: str = column_field(..., port="orders", description="What the order was worth.")
    as_of: dt.datetime | None = Field(
        None, description="The moment to measure recency from; orders from then on are "
        "ignored. Empty: the day after the last order.",
    )


def _schema(params: RfmParams, orders: Schema) -> Schema:
    customer_type = expect_type(orders, params.customer, ("int", "float", "str"),
                                field="customer", why="a customer id")
    expect_type(orders, params.date, ("datetime", "str"), field="date", why="an order date")
    expect_type(orders, params.amount, NUMERIC, field="amount", why="an amount")
    if params.customer in {c["name"] for c in _MEASURES}:
        raise OperatorError(f"The customer column cannot be named {params.customer!r}: an "
                            "RFM column has that name.", field="customer")
    return [{"name": params.customer, "type": customer_type}, *_MEASURES]


# Amounts are ranked to the millionth: a sum of decimals differs in its last bits with the
# order of additions (pandas, DuckDB and Spark add in different orders), which would break
# or make ties between customers; rounded, the same customers tie on every engine.
MONEY_DECIMALS = 6


def _score(values: pd.Series, *, higher_is_better: bool) -> pd.Series:
    """Quintile scores 1-5 from mid-ranks: (rank - 0.5) / n splits customers into fifths,
    equal values get equal scores, and a lone customer (or a tie of all) scores 3. The
    arithmetic is exact in floats (ranks are whole or halves), so boundaries never wobble."""
    ranks = values.rank(method="average", ascending=higher_is_better)
    return np.ceil((ranks - 0.5) * 5 / len(values)).astype("int64")


def _score_sql(value: str, *, higher_is_better: bool) -> str:
    """``_score`` with window functions, to the bit: the mid-rank is the first rank of the
    value plus half its ties less one, so (rank - 0.5) * 5 / n is (2 * first + ties - 2) * 5
    over 2n, whole numbers divided once in floats as pandas divides once."""
    order = "ASC" if higher_is_better else "DESC"
    twice = (f"(2 * rank() OVER (ORDER BY {value} {order}) + "
             f"count(*) OVER (PARTITION BY {value}) - 2) * 5")
    return (f"CAST(ceil(CAST({twice} AS DOUBLE) / CAST(2 * count(*) OVER () AS DOUBLE)) "
            "AS BIGINT)")


def _naive(moment: dt.datetime) -> pd.Timestamp:
    """``as_of`` as a wall-clock time in UTC, as the dates are read."""
    stamp = pd.Timestamp(moment)
    return stamp if stamp.tzinfo is None else stamp.tz_convert("UTC").tz_localize(None)


class Rfm(Operator):
    """Summarises an orders table into one row per customer with RFM measures and scores.

    Example: ``{"customer": "customer_id", "date": "ordered_at", "amount": "total"}``.

    recency_days: whole days from the customer's last order to ``as_of``; frequency: number
    of orders; monetary: sum of amounts (missing amounts count as 0). Each gets a score from
    1 (worst fifth of customers) to 5 (best fifth; for recency, the most recent); equal
    values get equal scores. rfm_score joins them as text, such as "545". Orders without
    customer or date are ignored. Rows are sorted by customer.

    Version 2, so that pandas, DuckDB and Spark score alike: monetary values are ranked
    rounded to the millionth (sums of decimals differ in their last bits with the order of
    additions, which made or broke ties), and dates are read as wall-clock times in UTC (a
    date written with an offset, or a column with a time zone, is converted to UTC; ``as_of``
    with an offset too).
    """

    name = "transform.rfm"
    label = "RFM scores"
    description = "Score customers by recency, frequency and monetary value of their orders."
    category = "transform"
    icon = "users"
    keywords = ("rfm", "recency", "frequency", "monetary", "customer", "segmentation",
                "orders", "marketing", "clv")
    inputs = (Port("orders", "table"),)
    outputs = (Port("table", "table"),)
    Params = RfmParams
    version = "2"
    example = {"customer": "customer_id", "date": "ordered_at", "amount": "total"}

    def run(self, ctx: Context, params: RfmParams, orders: pd.DataFrame
            ) -> dict[str, pd.DataFrame]:
        schema = _schema(params, schema_of(orders))
        dates = parse_naive_dates(orders[params.date], column=params.date, field="date")
        frame = pd.DataFrame({"customer": orders[params.customer], "date": dates,
                              "amount": orders[params.amount]}).dropna(
            subset=["customer", "date"])
        if frame.empty:
            return {"table": empty_frame(schema)}
        as_of = self._as_of(params, frame["date"])
        late = frame["date"] >= as_of
        if late.any():
            ctx.log(f"Ignored {late.sum()} order(s) from {as_of} on.")
            frame = frame[~late]
        per = frame.groupby("customer", sort=True).agg(
            last=("date", "max"), frequency=("date", "size"), monetary=("amount", "sum")
        ).reset_index()
        result = pd.DataFrame({
            params.customer: per["customer"],
            "recency_days": (as_of - per["last"]).dt.days.astype("int64"),
            "frequency": per["frequency"].astype("int64"),
            "monetary": per["monetary"].astype("float64"),
        })
        scores = {
            "r_score": _score(result["recency_days"], higher_is_better=False),
            "f_score": _score(result["frequency"], higher_is_better=True),
            "m_score": _score(result["monetary"].round(MONEY_DECIMALS), higher_is_better=True),
        }
        result = result.assign(**scores, rfm_score=(
            scores["r_score"].astype("str") + scores["f_score"].astype("str") +
            scores["m_score"].astype("str")))
        ctx.log(f"Scored {len(result)} customers as of {as_of}.")
        return {"table": result[[c["name"] for c in schema]]}

    @staticmethod
    def _as_of(params: RfmParams, dates: pd.Series) -> pd.Timestamp:
        if params.as_of is None:
            return dates.max() + pd.Timedelta(days=1)
        return _naive(params.as_of)

    def query(self, q: Query, params: RfmParams, orders: Rel) -> dict[str, Rel]:
        schema = _schema(params, orders.schema)
        types = orders.types()
        dated = dates_sql(q, orders, params.date, field="date")
        bad, first = dated.first_bad(q, params.date)
        if bad:
            raise OperatorError(f"Column {params.date!r} has {bad} value(s) that are not dates, "
                                f"e.g. {shown(first)}.", field="date")
        customer = value_sql(params.customer, types[params.customer])
        day = f"CAST({ident(dated.date)} AS TIMESTAMP)"
        valid = q.define(
            f"SELECT {customer} AS customer, {day} AS day, "
            f"{value_sql(params.amount, types[params.amount])} AS amount FROM {dated.rel.ref} "
            f"WHERE {customer} IS NOT NULL AND {day} IS NOT NULL",
            [{"name": "customer", "type": types[params.customer]},
             {"name": "day", "type": "datetime"}, {"name": "amount", "type": "float"}])
        moment = f"SELECT max(day) + INTERVAL 1 DAY AS as_of FROM {valid.ref}" \
            if params.as_of is None else f"SELECT {lit(_naive(params.as_of))} AS as_of"
        per = q.define(
            "SELECT customer, date_diff('microsecond', max(day), min(as_of)) // 86400000000 "
            "AS recency_days, count(*) AS frequency, "
            "coalesce(sum(CAST(amount AS DOUBLE)), 0) AS monetary "
            f"FROM {valid.ref} CROSS JOIN ({moment}) AS o "
            "WHERE day < as_of GROUP BY customer",
            [{"name": "customer", "type": types[params.customer]}, *_MEASURES[:3]])
        scores = {"r_score": _score_sql("recency_days", higher_is_better=False),
                  "f_score": _score_sql("frequency", higher_is_better=True),
                  "m_score": _score_sql(f"round(monetary, {MONEY_DECIMALS})",
                                        higher_is_better=True)}
        scored = q.define(
            "SELECT customer, recency_days, frequency, monetary, "
            + ", ".join(f"{sql} AS {name}" for name, sql in scores.items())
            + f" FROM {per.ref}", [{"name": "customer", "type": types[params.customer]},
                                   *_MEASURES[:6]])
        code = " || ".join(f"CAST({name} AS VARCHAR)" for name in scores)
        return {"table": q.define(
            f"SELECT customer AS {ident(params.customer)}, recency_days, frequency, monetary, "
            f"r_score, f_score, m_score, {code} AS rfm_score FROM {scored.ref} "
            "ORDER BY customer", schema)}

    def infer_schema(self, ctx: Context, params: RfmParams, orders: Schema | None = None
                     ) -> dict[str, Schema | None]:
        return {"table": None if orders is None else _schema(params, orders)}
