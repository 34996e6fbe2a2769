"""RFM: score customers by Recency, Frequency and Monetary value of their orders."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from pydantic import Field

from ..base import Context, Operator, OperatorError, Params, Port, Schema, column_field, schema_of
from ._common import NUMERIC, empty_frame, expect_type, parse_dates

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


def _score(values: pd.Series, *, higher_is_better: bool) -> pd.Series:
    """Quintile scores 1-5 from mid-ranks: (rank - 0.5) / n splits customers into fifths,
    equal values get equal scores, and a lone customer (or a tie of all) scores 3. The
    arithmetic is exact in floats (ranks are whole or halves), so boundaries never wobble."""
    ranks = values.rank(method="average", ascending=higher_is_better)
    return np.ceil((ranks - 0.5) * 5 / len(values)).astype("int64")


class Rfm(Operator):
    """Summarises an orders table into one row per customer with RFM measures and scores.

    Example: ``{"customer": "customer_id", "date": "ordered_at", "amount": "total"}``.

    recency_days: whole days from the customer's last order to ``as_of``; frequency: number
    of orders; monetary: sum of amounts (missing amounts count as 0). Each gets a score from
    1 (worst fifth of customers) to 5 (best fifth; for recency, the most recent); equal
    values get equal scores. rfm_score joins them as text, such as "545". Orders without
    customer or date are ignored. Rows are sorted by customer.
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
    example = {"customer": "customer_id", "date": "ordered_at", "amount": "total"}

    def run(self, ctx: Context, params: RfmParams, orders: pd.DataFrame
            ) -> dict[str, pd.DataFrame]:
        schema = _schema(params, schema_of(orders))
        dates = parse_dates(orders[params.date], column=params.date, field="date")
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
            "m_score": _score(result["monetary"], higher_is_better=True),
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
        as_of = pd.Timestamp(params.as_of)
        tz = dates.dt.tz
        if tz is not None and as_of.tzinfo is None:
            return as_of.tz_localize(tz)
        if tz is None and as_of.tzinfo is not None:
            return as_of.tz_convert(None)
        return as_of

    def infer_schema(self, ctx: Context, params: RfmParams, orders: Schema | None = None
                     ) -> dict[str, Schema | None]:
        return {"table": None if orders is None else _schema(params, orders)}
