"""Split a table into train and test rows."""
from __future__ import annotations

from fractions import Fraction
from typing import Any

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
from ..rowhash import fresh_name, hash_sql, row_hashes
from ..tables import Query, Rel, columns_sql, ident, lit
from ._common import shown

# How many unsplittable classes a message names; how many classes a split keeps apart.
_NAMED = 10
_MAX_STRATA = 1_000


class SplitParams(Params):
    test_size: float = Field(0.25, gt=0, lt=1, description="Share of the rows put in test.")
    seed: int = Field(42, description="Random seed: the same seed gives the same split.")
    stratify: str | None = column_field(
        None,
        description="Keep this column's class proportions equal in train and test "
        "(usually the target).",
    )

    @field_validator("test_size")
    @classmethod
    def _countable(cls, test_size: float) -> float:
        """Shares are counted exactly as fractions of denominators up to 10^6 (``_share``):
        a finer one would count as 0 or 1 (1e-9 once put no row in test, and the engines
        then refused it with different, wrong messages)."""
        p, q = _share(test_size)
        if p == 0 or p == q:
            raise ValueError("test_size must be between 0.000001 and 0.999999")
        return test_size


def _share(test_size: float) -> tuple[int, int]:
    """``test_size`` as a fraction p/q (as typed: 0.1 is 1/10), for exact integer counts."""
    share = Fraction(repr(test_size)).limit_denominator(1_000_000)
    return share.numerator, share.denominator


def test_rows(test_size: float, rows: int) -> int:
    """How many of ``rows`` rows go to test: test_size x rows rounded up, as scikit-learn
    counts (0.1 x 30 is 3: the share as typed, without the float's error)."""
    p, q = _share(test_size)
    return (p * rows + q - 1) // q


def _test_rows_sql(test_size: float, rows: str) -> str:
    p, q = _share(test_size)
    return f"(({p} * {rows} + {q - 1}) // {q})"


def _check(params: SplitParams, missing: int, strata: int,
           stats: list[tuple[Any, int, bool]]) -> None:
    """The refusals, the same on every engine. ``stats``: per value of ``stratify`` (one
    entry without it), in order, its rows and whether all of them would go to test."""
    column = params.stratify
    if missing:
        raise OperatorError(
            f"Column {column!r} has missing values; filter them out first or split without "
            "stratifying.", field="stratify")
    if strata > _MAX_STRATA:
        raise OperatorError(
            f"Column {column!r} has {strata:,} different values; stratifying keeps at most "
            f"{_MAX_STRATA:,} classes apart: stratify on a column with fewer values.",
            field="stratify")
    lonely = [shown(v) for v, n, _ in stats if n < 2] if column else []
    if lonely:
        raise OperatorError(
            f"Stratifying needs at least 2 rows of each value of {column!r}; these have only "
            f"one: {', '.join(lonely[:_NAMED])}{' and more' if len(lonely) > _NAMED else ''}.",
            field="stratify")
    rows = sum(n for _, n, _ in stats)
    if rows < 2:
        raise OperatorError(
            f"The table has {rows} row(s); splitting needs at least 2.", field="test_size")
    stuck = [(v, n) for v, n, all_test in stats if all_test]
    if stuck and not column:
        raise OperatorError(
            f"With test_size {params.test_size} all {rows} rows would go to test, none to "
            "train: lower test_size.", field="test_size")
    if stuck:
        named = ", ".join(f"{shown(v)} ({n} rows)" for v, n in stuck[:_NAMED])
        raise OperatorError(
            f"With test_size {params.test_size} every row of these values of {column!r} "
            f"would go to test, none to train: {named}"
            f"{' and more' if len(stuck) > _NAMED else ''}. Lower test_size.",
            field="test_size")


class Split(Operator):
    """Splits the rows into ``train`` and ``test`` by a stable hash of each row and the seed.

    Example: ``{"test_size": 0.2, "seed": 42, "stratify": "churned"}`` puts 20% of the rows
    in test (rounded up), 80% in train, with the same share of churned customers in both.

    Test holds the rows with the lowest hashes (``operators.rowhash``: a row's values and
    the seed), per value of ``stratify`` when given: test_size x the rows of that value,
    rounded up (scikit-learn rounds up the whole test set instead, so with several classes
    test may hold a row or two more than it did), and every copy of the last row taken: equal
    rows are never split between train and test. Train holds the others. Both keep the
    table's order, and are the same on pandas, DuckDB and Spark. At most 1,000 classes.
    Version 2: the hash replaces scikit-learn's ``train_test_split`` (the same seed now gives
    other rows than in version 1, and the rows are no longer shuffled).
    """

    name = "transform.split"
    label = "Split train/test"
    description = "Split rows into a training set and a test set."
    category = "transform"
    icon = "split"
    keywords = ("split", "train", "test", "holdout", "sample", "stratify")
    version = "2"
    inputs = (Port("table", "table"),)
    outputs = (Port("train", "table"), Port("test", "table"))
    Params = SplitParams
    example = {"test_size": 0.2, "seed": 42, "stratify": "churned"}
    batch_only = True

    def run(
        self, ctx: Context, params: SplitParams, table: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        keys = pd.Series(0, index=table.index)
        if params.stratify is not None:
            require_columns(schema_of(table), [params.stratify], field="stratify")
            keys = table[params.stratify]
        missing = int(keys.isna().sum())
        hashes = row_hashes(table, params.seed)
        thresholds: dict[Any, str] = {}
        stats: list[tuple[Any, int, bool]] = []
        if not missing and keys.nunique() <= _MAX_STRATA:
            for key, group in hashes.groupby(keys, sort=True):
                ordered = sorted(group)
                thresholds[key] = ordered[test_rows(params.test_size, len(ordered)) - 1]
                stats.append((key, len(ordered), thresholds[key] >= ordered[-1]))
        _check(params, missing, int(keys.nunique()), stats)
        in_test = (hashes <= keys.map(thresholds)).to_numpy()
        train = table[~in_test].reset_index(drop=True)
        test = table[in_test].reset_index(drop=True)
        ctx.log(f"Split {len(table)} rows into {len(train)} train and {len(test)} test.")
        return {"train": train, "test": test}

    def query(self, q: Query, params: SplitParams, table: Rel) -> dict[str, Rel]:
        column = params.stratify
        if column is not None:
            require_columns(table.schema, [column], field="stratify")
        s = ident(column) if column else "0"
        missing = f"{s} IS NULL"
        if column and table.types()[column] == "float":
            missing = f"({s} IS NULL OR isnan({s}))"
        counts = q.fetch(f"SELECT sum(CASE WHEN {missing} THEN 1 ELSE 0 END) AS missing, "
                         f"count(DISTINCT {s}) AS strata FROM {table.ref}")
        nulls, strata = (int(counts[c].fillna(0).iloc[0]) for c in ("missing", "strata"))
        if nulls or strata > _MAX_STRATA:
            _check(params, nulls, strata, [])  # refused before any row is hashed
        h = fresh_name(table.schema, "__dg_h")
        # Each row's hash, computed once (MD5 of its values' text: most of a split's time)
        # for the thresholds, train and test.
        hashed = q.materialize(
            f"SELECT *, {hash_sql(table.schema, params.seed, q.engine)} AS {ident(h)} "
            f"FROM {table.ref}", table.schema + [{"name": h, "type": "str"}])
        stats = self._stats(q, params, s, hashed, h)
        _check(params, nulls, strata, [x[:3] for x in stats])
        if column is None:
            in_test = f"{ident(h)} <= {lit(stats[0][3])}" if stats else "false"
        else:
            in_test = (f"CASE {ident(column)} " + " ".join(
                f"WHEN {lit(v)} THEN {ident(h)} <= {lit(t)}" for v, _, _, t in stats) + " END")
        cols = columns_sql(table.schema)
        return {side: q.define(f"SELECT {cols} FROM {hashed.ref} WHERE {where}", table.schema)
                for side, where in (("train", f"NOT ({in_test})"), ("test", in_test))}

    @staticmethod
    def _stats(q: Query, params: SplitParams, s: str, hashed: Rel, h: str
               ) -> list[tuple[Any, int, bool, str]]:
        """Per class ``s`` (in order) its rows, whether all go to test, and the highest hash
        of its test rows (``h`` of ``hashed``)."""
        part = "PARTITION BY v" if params.stratify else ""
        k = _test_rows_sql(params.test_size, "n")
        found = q.fetch(
            f"SELECT v, n, h AS t, top FROM (SELECT v, h, row_number() OVER ({part} "
            f"ORDER BY h) AS r, count(*) OVER ({part}) AS n, max(h) OVER ({part}) AS top "
            f"FROM (SELECT {s} AS v, {ident(h)} AS h FROM {hashed.ref}) AS hashed) AS ranked "
            f"WHERE r = {k} ORDER BY v",
            limit=_MAX_STRATA)
        return [(v, int(n), t >= top, t) for v, n, t, top in
                zip(found["v"], found["n"], found["t"], found["top"], strict=True)]

    def infer_schema(
        self, ctx: Context, params: SplitParams, table: Schema | None = None
    ) -> dict[str, Schema | None]:
        if table is not None and params.stratify is not None:
            require_columns(table, [params.stratify], field="stratify")
        return {"train": table, "test": table}
