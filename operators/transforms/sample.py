"""Take a random sample of rows."""
from __future__ import annotations

import math

import pandas as pd
from pydantic import Field, model_validator

from ..base import Context, Operator, OperatorError, Params, Port, Schema
from ..rowhash import draws, draws_sql, fresh_name, hash_order, hash_sql
from ..tables import Query, Rel, ident

# Rows a sample with replacement may draw: each is made, so a five-row table asked for 10^8
# draws once took a worker's whole memory (the same bound as a SQL transform's result).
MAX_DRAWS = 10_000_000
ERR_DRAWS = ("A sample with replacement draws at most {limit:,} rows; this one would draw "
             "{count:,}.")


class SampleParams(Params):
    n: int | None = Field(None, ge=1, description="How many rows to take (or set fraction).")
    fraction: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="Share of the rows to take, such as 0.1 "
        "(or set n). Above 1 only with replacement.",
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


def _count(params: SampleParams, rows: int, log: Context | Query) -> int:
    """How many rows the sample has (draws, with replacement) out of ``rows``."""
    if params.fraction is not None:
        n = math.floor(params.fraction * rows + 0.5)  # half up
    else:
        n = params.n or 0
        if n > rows and not params.replace:
            log.log(f"Asked for {n} rows but the table has {rows}: took them all.")
            return rows
    if params.replace and n > MAX_DRAWS and rows:
        raise OperatorError(ERR_DRAWS.format(limit=MAX_DRAWS, count=n),
                            field="n" if params.fraction is None else "fraction")
    return n


class Sample(Operator):
    """Takes rows chosen by a stable hash of each row and the seed: the same rows on pandas,
    DuckDB and Spark for a given seed, whatever order they read the table in.

    Example: ``{"n": 1000, "seed": 7}`` or ``{"fraction": 0.1}`` (the share of the rows,
    rounded half up). Without replacement: the rows with the lowest hashes, in hash order (a
    shuffle); asking for more rows than the table has gives all of them, shuffled, and says so
    in the log. With replacement: each draw picks a row by the hash of the seed and the draw's
    number, in the order drawn. Equal rows are interchangeable. Version 2: the hash replaces
    pandas' random generator (the same seed now gives other rows than in version 1).
    """

    name = "transform.sample"
    label = "Random sample"
    description = "Take a random subset of rows: a number of rows or a share."
    category = "transform"
    icon = "dice-5"
    keywords = ("sample", "random", "subset", "shuffle", "bootstrap", "downsample")
    version = "2"
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = SampleParams
    example = {"n": 1000, "seed": 7}
    # Sampling the one row being served would drop it at random.
    batch_only = True

    def run(
        self, ctx: Context, params: SampleParams, table: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        count = _count(params, len(table), ctx)
        if table.empty:
            return {"table": table.reset_index(drop=True)}
        order = hash_order(table, params.seed)
        picks = order[draws(params.seed, count, len(table))] if params.replace else \
            order[:count]
        return {"table": table.iloc[picks].reset_index(drop=True)}

    def query(self, q: Query, params: SampleParams, table: Rel) -> dict[str, Rel]:
        rows = int(q.fetch(f"SELECT count(*) AS n FROM {table.ref}")["n"].iloc[0])
        count = _count(params, rows, q)
        count = count if rows else 0  # no row to draw
        h = hash_sql(table.schema, params.seed, q.engine)
        if not params.replace:
            return {"table": q.define(f"SELECT * FROM {table.ref} ORDER BY {h} LIMIT {count}",
                                      table.schema)}
        pos = fresh_name(table.schema, "__dg_pos")
        ranked = q.define(f"SELECT *, row_number() OVER (ORDER BY {h}) - 1 AS {ident(pos)} "
                          f"FROM {table.ref}", [*table.schema, {"name": pos, "type": "int"}])
        cols = ", ".join(f"t.{ident(c['name'])}" for c in table.schema)
        numbers = draws_sql(params.seed, count, max(rows, 1), q.engine)
        return {"table": q.define(
            f"SELECT {cols} FROM ({numbers}) AS d JOIN {ranked.ref} AS t "
            f"ON t.{ident(pos)} = d.pos ORDER BY d.draw", table.schema)}

    def infer_schema(
        self, ctx: Context, params: SampleParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        return {"table": table}
