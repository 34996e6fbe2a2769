"""transform.sort_limit: pandas, DuckDB and Spark give the same rows in the same order:
missing values last in either direction, ties in the input's order, then the first N."""
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

from .parity import ENGINES, SPARK, assert_parity, assert_same, error, run_pandas

ODD = 'the "plan" ñ'
FRAME = pd.DataFrame({
    "id": [1, 2, 3, 4, 5, 6, 7, 8],
    ODD: ["pro", "free", None, "Zoë", "pro", "zoe", "it's", "Free"],
    "spend": [20.0, np.nan, -0.0, 5.0, 20.0, 0.0, np.nan, -3.5],
    "visits": pd.array([3, None, 7, 3, None, 1, 3, 0], dtype="Int64"),
    "active": [True, False, True, True, False, True, False, True],
    "trial": pd.array([None, True, False, None, True, False, None, True], dtype="boolean"),
    "joined": pd.to_datetime(["2024-01-05 10:30:00", None, "2023-06-01 00:00:00",
                              "2024-01-05 10:30:00", "2022-12-31 23:59:59", None,
                              "2023-06-01 00:00:00", "2024-01-05 10:30:01"]),
})

KEYS = [ODD, "spend", "visits", "active", "trial", "joined"]
CASES: dict[str, dict[str, Any]] = {
    **{f"{c}-{d}": {"order_by": [{"column": c, "descending": d == "desc"}]}
       for c in KEYS for d in ("asc", "desc")},
    "two_keys": {"order_by": [{"column": "active"}, {"column": "spend", "descending": True}]},
    "three_keys_limit": {"order_by": [{"column": "trial", "descending": True},
                                      {"column": "visits"}, {"column": "joined"}],
                         "limit": 5},
    "limit_only": {"limit": 3},
    "limit_beyond_rows": {"order_by": [{"column": "visits"}], "limit": 100},
    "nothing": {},
}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_sort_limit_is_the_same_on_every_engine(case: str, engine: str) -> None:
    assert_parity("transform.sort_limit", CASES[case], engines=(engine,), table=FRAME)


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_an_empty_table_stays_empty_on_every_engine(engine: str) -> None:
    result = assert_parity("transform.sort_limit",
                           {"order_by": [{"column": "spend"}], "limit": 3},
                           engines=(engine,), table=FRAME.iloc[:0])
    assert result["table"].empty


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_a_column_named_like_its_helper_column_sorts_and_stays(engine: str) -> None:
    table = pd.DataFrame({"__position": [2, 1, 2, 1], "v": ["a", "b", "c", "d"]})
    result = assert_parity("transform.sort_limit",
                           {"order_by": [{"column": "__position", "descending": True}]},
                           engines=(engine,), table=table)
    assert result["table"]["v"].tolist() == ["a", "c", "b", "d"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_column_names_the_field_on_every_engine(engine: str) -> None:
    exc = error(engine, "transform.sort_limit",
                {"order_by": [{"column": "id"}, {"column": 'id" DESC; --'}]}, table=FRAME)
    assert exc.field == "order_by.1.column"


def engine_result(engine: str, params: dict[str, Any], source: str | pa.Table
                  ) -> pd.DataFrame:
    op = get_operator("transform.sort_limit")
    settings = SPARK if engine == "spark" else EngineSettings(name=engine)
    with tempfile.TemporaryDirectory() as folder:
        result = run_relational(op, op.parse_params(params), {"table": source}, folder,
                                ctx=LocalContext(), settings=settings)
        return arrow_to_pandas(pq.read_table(result.outputs["table"].path))


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("descending", [False, True])
def test_nan_and_missing_in_a_float_column_both_sort_last_in_order(engine: str,
                                                                   descending: bool) -> None:
    # pandas holds both as NaN; a file an engine wrote may hold NaN beside NULL.
    table = pa.table({"x": pa.array([float("nan"), 2.0, None, 1.0, float("nan"), None]),
                      "i": pa.array([0, 1, 2, 3, 4, 5])})
    params = {"order_by": [{"column": "x", "descending": descending}]}
    got = engine_result(engine, params, table)
    expected = run_pandas("transform.sort_limit", params, table=arrow_to_pandas(table))
    assert_same(expected["table"], got)
    assert got["i"].tolist()[2:] == [0, 2, 4, 5]


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("params", [
    {"order_by": [{"column": "key", "descending": True}]},
    {"order_by": [{"column": "key"}], "limit": 40_000},
    {"limit": 250_000},
], ids=["ties", "ties_limit", "limit_only"])
def test_a_table_read_in_several_parts_keeps_its_order(engine: str, params: dict[str, Any]
                                                       ) -> None:
    rng = np.random.default_rng(11)
    rows = 320_000
    frame = pd.DataFrame({"key": rng.integers(0, 20, rows), "i": np.arange(rows),
                          "noise": rng.random(rows)})
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "in.parquet")
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path,
                       row_group_size=20_000)
        if engine == "spark":
            assert session(SPARK).read.parquet(path).rdd.getNumPartitions() > 1
        got = engine_result(engine, params, path)
    expected = run_pandas("transform.sort_limit", params, table=frame)["table"]
    pd.testing.assert_frame_equal(got, expected)
