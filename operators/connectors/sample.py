"""Built-in sample datasets, so a new user can build a pipeline before uploading anything."""
from __future__ import annotations

import re
from functools import cache
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field
from sklearn import datasets

from ..base import Context, Operator, Params, Port, Schema, schema_of

DatasetName = Literal["iris", "wine", "breast_cancer", "customers", "orders"]

# Changing the seed or the formulas changes every demo built on "customers": bump `version`.
_CUSTOMERS_SEED = 20240601
_CUSTOMERS_ROWS = 2000


def _snake_case(name: str) -> str:
    name = re.sub(r"\(.*?\)", "", name)  # drop units such as "(cm)"
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def _sklearn_frame(loader: str) -> pd.DataFrame:
    bunch = getattr(datasets, loader)(as_frame=True)
    frame = bunch.frame.rename(columns=_snake_case)
    # Class names read better on a canvas than 0/1/2 and survive a round trip through CSV.
    frame["target"] = pd.Series(np.asarray(bunch.target_names)[bunch.target], dtype="str")
    return frame


def _customers() -> pd.DataFrame:
    rng = np.random.default_rng(_CUSTOMERS_SEED)
    n = _CUSTOMERS_ROWS
    ids = np.arange(1, n + 1)
    first = np.array(["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo"])
    last = np.array(["Garcia", "Smith", "Müller", "Dubois", "Rossi", "Silva", "Kim", "Novak"])
    plan = rng.choice(["basic", "pro", "enterprise"], size=n, p=[0.6, 0.3, 0.1])
    tenure = rng.integers(1, 73, size=n)
    base_spend = np.select([plan == "basic", plan == "pro"], [20.0, 60.0], 200.0)
    spend = np.round(base_spend * rng.lognormal(0.0, 0.3, size=n), 2)
    orders = rng.poisson(1.0 + spend / 40.0)
    tickets = rng.poisson(0.8, size=n)
    days_since = np.where(orders > 0, rng.integers(0, 90, size=n), rng.integers(90, 366, size=n))
    logit = (-0.8 - 0.04 * tenure + 0.6 * tickets + 0.012 * days_since - 0.25 * orders
             - 0.6 * (plan == "enterprise"))
    churned = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    # Missing spend comes after churn is drawn so the label depends on the true behaviour.
    spend[rng.random(n) < 0.03] = np.nan
    names = [f"{f} {s}" for f, s in zip(rng.choice(first, n), rng.choice(last, n), strict=True)]
    country = rng.choice(["US", "UK", "DE", "FR", "BR", "IN"], size=n,
                         p=[0.35, 0.15, 0.15, 0.1, 0.15, 0.1])
    return pd.DataFrame({
        "customer_id": ids,
        "email": [f"customer_{i:05d}@example.com" for i in ids],
        "name": names,
        "country": country,
        "plan": plan,
        "tenure_months": tenure,
        "monthly_spend": spend,
        "orders_last_90d": orders,
        "support_tickets": tickets,
        "days_since_last_order": days_since,
        "churned": np.where(churned, "yes", "no"),
    }).astype({"email": "str", "name": "str", "country": "str", "plan": "str", "churned": "str"})


# "Today" for the orders sample: each customer's last order is days_since_last_order before it.
ORDERS_AS_OF = pd.Timestamp("2026-01-01")


def _orders() -> pd.DataFrame:
    """The orders behind the customers table, consistent with it: each customer's last order
    is days_since_last_order before ORDERS_AS_OF and orders_last_90d fall in the last 90 days,
    so RFM features computed from these orders explain the churn label."""
    customers = load_sample("customers")
    rng = np.random.default_rng(_CUSTOMERS_SEED + 1)
    rows: list[tuple[int, int, float]] = []  # (customer, days before as-of, amount)
    for c in customers.itertuples(index=False):
        typical = c.monthly_spend if c.monthly_spend == c.monthly_spend else 40.0  # NaN-safe
        recent = [c.days_since_last_order] + list(
            rng.integers(c.days_since_last_order, 91, size=max(c.orders_last_90d - 1, 0)))
        start = max(91, c.days_since_last_order)  # nothing newer than the last order
        older = list(rng.integers(start, start + 30 * c.tenure_months, size=rng.poisson(
            c.tenure_months / 6)))
        for days in recent + older:
            rows.append((c.customer_id, int(days), round(float(typical * rng.lognormal(-0.7,
                                                                                        0.4)), 2)))
    frame = pd.DataFrame(rows, columns=["customer_id", "days", "amount"])
    frame.insert(0, "order_id", np.arange(1, len(frame) + 1))
    frame["ordered_at"] = ORDERS_AS_OF - pd.to_timedelta(frame.pop("days"), unit="D")
    return frame.sort_values(["ordered_at", "order_id"], kind="stable").reset_index(drop=True)


@cache
def load_sample(name: str) -> pd.DataFrame:
    """The cached frame; callers must copy before handing it out."""
    loaders = {"iris": "load_iris", "wine": "load_wine", "breast_cancer": "load_breast_cancer"}
    if name == "customers":
        return _customers()
    if name == "orders":
        return _orders()
    return _sklearn_frame(loaders[name])


class SampleDatasetParams(Params):
    dataset: DatasetName = Field(
        "iris",
        description="Which sample: iris, wine and breast_cancer are classic classification "
        "tables; customers is a synthetic churn table with some missing values; orders are "
        "those customers' orders (for RFM features).",
    )


class SampleDataset(Operator):
    """A ready-made table to try Datagran with.

    Example: ``{"dataset": "customers"}`` gives 2,000 customers with a ``churned`` column to
    predict; ``{"dataset": "iris"}`` gives 150 flowers with a ``target`` species column.
    """

    name = "connector.sample_dataset"
    label = "Sample dataset"
    description = "A built-in example table (iris, wine, breast cancer, customers, orders)."
    category = "connector"
    icon = "database"
    keywords = ("sample", "demo", "example", "iris", "wine", "breast cancer", "churn")
    outputs = (Port("table", "table"),)
    Params = SampleDatasetParams
    example = {"dataset": "customers"}

    def run(self, ctx: Context, params: SampleDatasetParams) -> dict[str, pd.DataFrame]:
        return {"table": load_sample(params.dataset).copy()}

    def infer_schema(self, ctx: Context, params: SampleDatasetParams) -> dict[str, Schema | None]:
        return {"table": schema_of(load_sample(params.dataset))}
