"""operators.rowhash: pandas, DuckDB and Spark give every row the same hash, whatever its
types and values, so a seeded choice of rows is the same on every engine."""
from __future__ import annotations

import os
import tempfile
import uuid

import duckdb
import numpy as np
import pandas as pd
import pytest

from operators.engines.spark import session, transpile
from operators.rowhash import SEPARATOR, draws, draws_sql, hash_sql, row_hashes
from operators.schema import schema_of
from operators.tables import FrameTable, ParquetTable, ident

from .parity import SPARK

TINY = 5e-324  # the smallest positive double (subnormal)
COLUMNS: dict[str, pd.Series] = {
    "ints": pd.Series([0, -1, 2**62, -(2**63), 7, 42, 1, 3], dtype="int64"),
    "nullable ints": pd.Series([1, None, -5, 0, None, 9, 10, 11], dtype="Int64"),
    "floats": pd.Series([0.1, np.nan, np.inf, -np.inf, -0.0, 1e20, 1e-300, TINY]),
    "more floats": pd.Series([0.0, 2.0, 1.0, 0.5, 1e300, -1.7976931348623157e308,
                              0.1234567, 0.1234568]),
    "powers of two": pd.Series([2.0**k for k in (-1074, -1022, -1, 0, 1, 52, 53, 1023)]),
    "text": pd.Series(["plain", None, "it's \"quoted\"", "ünïcødé ✓ 漢字", "a\x1fb", "\\N",
                       "", "back\\slash"], dtype="str"),
    "bools": pd.Series([True, False, True, True, False, False, True, False]),
    "nullable bools": pd.Series([True, None, False, None, True, False, True, True],
                                dtype="boolean"),
    "dates": pd.to_datetime(pd.Series(["2024-02-29 13:45:01.123456", None, "1969-12-31 23:59:59",
                                       "1900-01-01", "1970-01-01", "2262-01-01",
                                       "1969-07-20 20:17:40.5", "2000-01-01"]),
                            format="ISO8601"),
    "zoned dates": pd.to_datetime(pd.Series(["2024-03-10 02:30", None, "1960-05-01 12:00",
                                             "2024-01-01", "2024-01-01 00:00:01", "2030-12-31",
                                             "1999-12-31 23:59", "2024-06-30"]),
                                  format="ISO8601").dt.tz_localize("Europe/Madrid"),
}


def frame_of(column: str) -> pd.DataFrame:
    return pd.DataFrame({"row": range(8), column: COLUMNS[column]})


def duckdb_hashes(path: str, seed: int) -> list[str]:
    schema = ParquetTable(path).schema
    sql = (f"SELECT {hash_sql(schema, seed)} AS h FROM read_parquet('{path}') "
           f"ORDER BY {ident('row')}")
    return [r[0] for r in duckdb.execute(sql).fetchall()]


def spark_hashes(path: str, seed: int) -> list[str]:
    spark = session(SPARK)
    view = f"t_{uuid.uuid4().hex[:8]}"
    spark.read.parquet(path).createOrReplaceTempView(view)
    try:
        schema = ParquetTable(path).schema
        sql = (f"SELECT {hash_sql(schema, seed, 'spark')} AS h FROM {view} "
               f"ORDER BY {ident('row')}")
        return [r[0] for r in spark.sql(transpile(sql, "test")).collect()]
    finally:
        spark.catalog.dropTempView(view)


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
@pytest.mark.parametrize("column", sorted(COLUMNS))
def test_every_engine_gives_each_row_the_hash_pandas_gives(column: str, engine: str) -> None:
    frame = frame_of(column)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "t.parquet")
        frame.to_parquet(path, index=False)
        got = duckdb_hashes(path, 7) if engine == "duckdb" else spark_hashes(path, 7)
    assert got == row_hashes(frame, 7).tolist()


def test_all_the_types_together_hash_alike_on_every_engine_and_seeds_differ() -> None:
    frame = pd.DataFrame({"row": range(8), **{k: v for k, v in COLUMNS.items()}})
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "t.parquet")
        frame.to_parquet(path, index=False)
        expected = row_hashes(frame, -3).tolist()
        assert duckdb_hashes(path, -3) == expected
        assert spark_hashes(path, -3) == expected
    assert len(set(expected)) == 8
    assert set(expected).isdisjoint(row_hashes(frame, 3))


def test_only_equal_rows_hash_alike() -> None:
    # Texts that would read alike if the separator or the missing mark were written as is,
    # and decimals that agree to the sixth place.
    frame = pd.DataFrame({
        "a": pd.Series(["x\x1fy", "x", "\\N", None, "p", "p", "p"], dtype="str"),
        "b": pd.Series(["z", "y\x1fz", "q", "q", "s", "s", "s"], dtype="str"),
        "f": [1.0, 1.0, 1.0, 1.0, 0.1234567, 0.1234568, 0.1234567],
    })
    hashes = row_hashes(frame, 1).tolist()
    assert len(set(hashes[:6])) == 6
    assert hashes[6] == hashes[4]
    assert SEPARATOR in frame["a"][0]


def test_minus_zero_is_zero_and_every_missing_value_is_the_same() -> None:
    frame = pd.DataFrame({"f": [0.0, -0.0, np.nan, None], "i": pd.array([1, 1, None, None],
                                                                       dtype="Int64")})
    hashes = row_hashes(frame, 0).tolist()
    assert hashes[0] == hashes[1] and hashes[2] == hashes[3] and hashes[0] != hashes[2]


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_draws_with_replacement_are_the_same_on_every_engine(engine: str) -> None:
    sql = draws_sql(11, 50, 7, engine) + " ORDER BY draw"
    if engine == "duckdb":
        got = [r[1] for r in duckdb.execute(sql).fetchall()]
    else:
        got = [r[1] for r in session(SPARK).sql(transpile(sql, "test")).collect()]
    expected = draws(11, 50, 7).tolist()
    assert got == expected
    assert set(expected) == set(range(7))


STRATIFIED = pd.DataFrame({
    "id": range(300),
    "label": ["a"] * 200 + ["b"] * 70 + ["c"] * 30,
    "amount": np.linspace(-50, 50, 300),
    "when": pd.date_range("1960-01-01", periods=300, freq="37D"),
    "note": [f"it's #{i % 7} ✓" for i in range(300)],
})


@pytest.mark.parametrize("stratify", [None, "label"])
def test_a_parquet_table_and_the_same_frame_sample_the_same_rows(stratify: str | None
                                                                   ) -> None:
    frame = pd.concat([STRATIFIED, STRATIFIED.head(40)], ignore_index=True)  # equal rows
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "t.parquet")
        frame.to_parquet(path, index=False, row_group_size=64)
        from_file = ParquetTable(path).sample(60, seed=5, stratify=stratify)
    in_memory = FrameTable(frame).sample(60, seed=5, stratify=stratify)
    assert from_file.to_dict("split") == in_memory.to_dict("split")
    # In proportion per stratum, half up: 60 x 240/340 = 42.4, x 70/340 = 12.4, x 30/340 = 5.3.
    counts = {"a": 42, "b": 12, "c": 5} if stratify else None
    assert len(in_memory) == (59 if stratify else 60)
    if counts:
        assert in_memory["label"].value_counts().to_dict() == counts
    assert schema_of(from_file) == schema_of(frame)
