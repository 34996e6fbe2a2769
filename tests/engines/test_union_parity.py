"""transform.union: pandas, DuckDB and Spark stack the same rows (the first table's, then the
second's, each in its order) under the same columns and types."""
from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from operators.base import LocalContext
from operators.engines import EngineSettings, run_relational
from operators.engines.spark import session
from operators.registry import get_operator
from operators.tables import arrow_to_pandas

from .parity import ENGINES, SPARK, assert_parity, error

ODD = 'the "plan" ñ'
JAN = pd.DataFrame({
    "id": [1, 2, 3],
    ODD: ["pro", None, "it's"],
    "amount": [10, 20, 30],
    "visits": pd.array([3, None, 7], dtype="Int64"),
    "paid": [True, False, True],
    "trial": pd.array([True, None, False], dtype="boolean"),
    "at": pd.to_datetime(["2024-01-05 10:30:00", None, "2024-01-31 23:59:59"]),
    "score": [0.5, np.nan, -0.0],
})
# The same columns in another order, decimals where January has whole numbers.
FEB = pd.DataFrame({
    "score": [1.25, np.nan],
    "at": pd.to_datetime([None, "2024-02-29 12:00:00"]),
    "trial": [False, True],
    "paid": pd.array([None, True], dtype="boolean"),
    "visits": [5, 6],
    "amount": [2.5, np.nan],
    ODD: ['Zoë "Z"', None],
    "id": [4, 5],
})
# Columns only one table has, of every type.
EXTRA = pd.DataFrame({
    "id": [6, 7],
    "note": ["late", None],
    "flag": pd.array([None, True], dtype="boolean"),
    "due": pd.to_datetime(["2024-03-01 00:00:00", None]),
    "count": pd.array([None, 9], dtype="Int64"),
    "ratio": [np.nan, 0.75],
})

FRAMES = {"jan": JAN, "feb": FEB, "extra": EXTRA}
CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "by_name": ({}, "jan", "feb"),
    "by_name_reversed": ({}, "feb", "jan"),
    "allow_missing": ({"allow_missing": True}, "jan", "extra"),
    "allow_missing_reversed": ({"allow_missing": True}, "extra", "jan"),
    "by_position": ({"mode": "by_position"}, "jan", "jan_renamed"),
    "by_position_with_decimals": ({"mode": "by_position"}, "feb", "feb_renamed"),
}


def frame(name: str) -> pd.DataFrame:
    if name.endswith("_renamed"):  # the same values under other names
        base = FRAMES[name.removesuffix("_renamed")]
        return base.set_axis([f"col {i} \"x\"" for i in range(base.shape[1])], axis=1)
    return FRAMES[name]


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_union_is_the_same_on_every_engine(case: str, engine: str) -> None:
    params, first, second = CASES[case]
    assert_parity("transform.union", params, engines=(engine,), first=frame(first),
                  second=frame(second))


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("empty", ["first", "second", "both"])
def test_an_empty_table_adds_no_rows_on_every_engine(engine: str, empty: str) -> None:
    first = JAN.iloc[:0] if empty in ("first", "both") else JAN
    second = FEB.iloc[:0] if empty in ("second", "both") else FEB
    result = assert_parity("transform.union", {}, engines=(engine,), first=first,
                           second=second)
    assert len(result["table"]) == len(first) + len(second)


@pytest.mark.parametrize("engine", ENGINES)
def test_columns_that_differ_are_refused_unless_allowed_on_every_engine(engine: str) -> None:
    exc = error(engine, "transform.union", {}, first=JAN, second=EXTRA)
    assert exc.field == "allow_missing"
    assert "only in the second: note, flag, due, count, ratio" in exc.message


@pytest.mark.parametrize("engine", ENGINES)
def test_text_stacked_on_numbers_is_refused_on_every_engine(engine: str) -> None:
    second = JAN.assign(amount=["x' UNION ALL SELECT 1 --", "b", "c"])
    exc = error(engine, "transform.union", {}, first=JAN, second=second)
    assert exc.field == "mode"
    assert "'amount'" in exc.message


@pytest.mark.parametrize("engine", ENGINES)
def test_by_position_needs_as_many_columns_on_every_engine(engine: str) -> None:
    exc = error(engine, "transform.union", {"mode": "by_position"}, first=JAN,
                second=JAN[["id"]])
    assert exc.field == "mode"


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_tables_read_in_several_parts_keep_their_order(engine: str) -> None:
    rng = np.random.default_rng(5)
    rows = 320_000
    first = pd.DataFrame({"i": np.arange(rows), "v": rng.random(rows)})
    second = pd.DataFrame({"v": rng.random(rows), "i": np.arange(rows, 2 * rows) * 1.0})
    op = get_operator("transform.union")
    settings = SPARK if engine == "spark" else EngineSettings(name=engine)
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for port, table in (("first", first), ("second", second)):
            paths[port] = os.path.join(folder, f"{port}.parquet")
            pq.write_table(pa.Table.from_pandas(table, preserve_index=False), paths[port],
                           row_group_size=20_000)
            if engine == "spark":
                assert session(SPARK).read.parquet(paths[port]).rdd.getNumPartitions() > 1
        result = run_relational(op, op.parse_params({}), paths, folder, ctx=LocalContext(),
                                settings=settings)
        got = arrow_to_pandas(pq.read_table(result.outputs["table"].path))
    assert got["i"].tolist() == list(range(2 * rows))
    assert got["v"].tolist() == [*first["v"], *second["v"]]
