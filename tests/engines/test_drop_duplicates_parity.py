"""transform.drop_duplicates: pandas, DuckDB and Spark keep the same row of each group of
duplicates (the first or the last), in the input's order; missing values match each other."""
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

ODD = 'the "e-mail" ñ'
FRAME = pd.DataFrame({
    ODD: ["a@x", "b@x", "a@x", None, None, "b@x", "it's", "it's", "A@x", "b@x"],
    "plan": ["free", "pro", "pro", "free", "free", "pro", "Zoë", "Zoë", "free", "pro"],
    "n": [1, 2, 3, 4, 4, 2, 5, 5, 1, 2],
    "spend": [1.5, np.nan, 1.5, np.nan, np.nan, np.nan, -0.0, 0.0, 1.5, np.nan],
    "visits": pd.array([1, None, 1, None, None, None, 2, 2, 1, None], dtype="Int64"),
    "active": [True, False, True, True, True, False, True, True, True, False],
    "trial": pd.array([True, None, True, None, None, None, False, False, True, None],
                      dtype="boolean"),
    "joined": pd.to_datetime(["2024-01-05 10:30:00", None, "2024-01-05 10:30:00", None, None,
                              None, "2023-06-01 00:00:00", "2023-06-01 00:00:00",
                              "2024-01-05 10:30:00", None]),
})

SUBSETS: dict[str, list[str]] = {
    "all_columns": [],
    "text": [ODD],
    "text_and_int": [ODD, "n"],
    "float": ["spend"],
    "nullable_int": ["visits"],
    "bool": ["active"],
    "nullable_bool": ["trial"],
    "datetime": ["joined"],
    "every_type": ["plan", "spend", "visits", "trial", "joined"],
}
CASES: dict[str, dict[str, Any]] = {
    f"{name}-{keep}": {"subset": subset, "keep": keep}
    for name, subset in SUBSETS.items() for keep in ("first", "last")
}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_drop_duplicates_is_the_same_on_every_engine(case: str, engine: str) -> None:
    assert_parity("transform.drop_duplicates", CASES[case], engines=(engine,), table=FRAME)


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_an_empty_table_stays_empty_on_every_engine(engine: str) -> None:
    result = assert_parity("transform.drop_duplicates", {"subset": ["plan"]},
                           engines=(engine,), table=FRAME.iloc[:0])
    assert result["table"].empty


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_columns_named_like_its_helper_columns_are_compared_and_kept(engine: str) -> None:
    table = pd.DataFrame({"__position": [9, 9, 8], "__rank": ["a", "a", "b"],
                          "_position": [1, 2, 3]})
    result = assert_parity("transform.drop_duplicates", {"subset": ["__position", "__rank"],
                                                         "keep": "last"},
                           engines=(engine,), table=table)
    assert result["table"]["_position"].tolist() == [2, 3]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_column_names_the_field_on_every_engine(engine: str) -> None:
    exc = error(engine, "transform.drop_duplicates", {"subset": ["plan", 'x") --']},
                table=FRAME)
    assert exc.field == "subset"


def engine_result(engine: str, params: dict[str, Any], source: str | pa.Table
                  ) -> pd.DataFrame:
    op = get_operator("transform.drop_duplicates")
    settings = SPARK if engine == "spark" else EngineSettings(name=engine)
    with tempfile.TemporaryDirectory() as folder:
        result = run_relational(op, op.parse_params(params), {"table": source}, folder,
                                ctx=LocalContext(), settings=settings)
        return arrow_to_pandas(pq.read_table(result.outputs["table"].path))


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
def test_nan_and_missing_in_a_float_column_are_one_missing_value(engine: str) -> None:
    # pandas holds both as NaN; a file an engine wrote may hold NaN beside NULL.
    table = pa.table({"x": pa.array([1.0, float("nan"), None, 1.0, None, float("nan")]),
                      "i": pa.array([0, 1, 2, 3, 4, 5])})
    params = {"subset": ["x"], "keep": "last"}
    got = engine_result(engine, params, table)
    expected = run_pandas("transform.drop_duplicates", params, table=arrow_to_pandas(table))
    assert_same(expected["table"], got)
    assert got["i"].tolist() == [3, 5]


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("keep", ["first", "last"])
def test_a_table_read_in_several_parts_keeps_its_order(engine: str, keep: str) -> None:
    rng = np.random.default_rng(7)
    rows = 320_000
    frame = pd.DataFrame({"key": rng.integers(0, 30_000, rows), "i": np.arange(rows),
                          "noise": rng.random(rows)})
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "in.parquet")
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path,
                       row_group_size=20_000)
        if engine == "spark":
            assert session(SPARK).read.parquet(path).rdd.getNumPartitions() > 1
        got = engine_result(engine, {"subset": ["key"], "keep": keep}, path)
    expected = frame.drop_duplicates(subset=["key"], keep=keep, ignore_index=True)
    pd.testing.assert_frame_equal(got, expected)
