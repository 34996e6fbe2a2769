"""Take a random sample of rows."""
from __future__ import annotations

import pandas as pd
from pydantic import Field, model_validator

from ..base import Context, Operator, Params, Port, Schema


class SampleParams(Params):
    n: int | None = Field(None, ge=1, description="How many rows to take (or set fraction).")
    fraction: float | None = Field(
        None, gt=0, description="Share of the rows to take, such as 0.1 (or set n). Above 1 "
        "only with replacement.",
    )
    seed: int = Field(42, description="Random seed: the same seed gives the same sample.")
    replace: bool = Field(False, description="Allow a row to be drawn more than once.")

    @model_validator(mode="after")
    def _n_or_fraction(self) -> SampleParams:
        if (self.n is None) == (self.fraction is None):
            raise ValueError("set exactly one of n and fraction")
        if self.fraction is not None and self.fraction > 1 and not self.replace:
            raise ValueError("a fraction above 1 needs replace")
        return self


class Sample(Operator):
    """Takes random rows, reproducibly for a given seed.

    Example: ``{"n": 1000, "seed": 7}`` or ``{"fraction": 0.1}``. Asking for more rows than
    the table has, without replacement, gives all of them (shuffled) and says so in the log.
    """

    name = "transform.sample"
    label = "Random sample"
    description = "Take a random subset of rows: a number of rows or a share."
    category = "transform"
    icon = "dice-5"
    keywords = ("sample", "random", "subset", "shuffle", "bootstrap", "downsample")
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = SampleParams
    example = {"n": 1000, "seed": 7}
    # Sampling the one row being served would drop it at random.
    batch_only = True

    def run(
        self, ctx: Context, params: SampleParams, table: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        n = params.n
        if n is not None and n > len(table) and not params.replace:
            ctx.log(f"Asked for {n} rows but the table has {len(table)}: took them all.")
            n = len(table)
        if table.empty:
            return {"table": table.reset_index(drop=True)}
        result = table.sample(n=n, frac=params.fraction, replace=params.replace,
                              random_state=params.seed, ignore_index=True)
        return {"table": result}

    def infer_schema(
        self, ctx: Context, params: SampleParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        return {"table": table}
