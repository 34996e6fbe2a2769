"""Running one operator three ways on the same inputs, for the parity tests: pandas (its
``run``, the reference), DuckDB and Spark (its ``query`` through ``run_relational``, from and
to Parquet files as in a run), and comparing what a user would see of the results."""
from __future__ import annotations

import hashlib
import os
import tempfile
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from operators.base import LocalContext, OperatorError
from operators.engines import EngineSettings, run_relational
from operators.registry import get_operator
from operators.schema import schema_of
from operators.tables import arrow_to_pandas

ENGINES = ("pandas", "duckdb", "spark")
SPARK = EngineSettings(name="spark", spark_master="local[2]", memory_mb=1024)


def run_pandas(name: str, params: dict[str, Any], **frames: pd.DataFrame
               ) -> dict[str, pd.DataFrame]:
    op = get_operator(name)
    parsed = op.parse_params(params)
    ctx = LocalContext()
    if op.stateful:
        return op.apply(ctx, parsed, op.fit(ctx, parsed, **frames), **frames)
    return op.run(ctx, parsed, **frames)


def run_engine(engine: str, name: str, params: dict[str, Any], **frames: pd.DataFrame
               ) -> dict[str, pd.DataFrame]:
    """The operator's ``query`` on ``engine``, its inputs written as Parquet by pandas first
    (as upstream nodes' outputs are), its outputs read back as any node reads them."""
    op = get_operator(name)
    assert op.relational, f"{name} has no query"
    parsed = op.parse_params(params)
    settings = SPARK if engine == "spark" else EngineSettings(name=engine)
    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for port, frame in frames.items():
            paths[port] = os.path.join(folder, f"in-{port}.parquet")
            frame.to_parquet(paths[port], index=False)
        result = run_relational(op, parsed, paths, folder, ctx=LocalContext(),
                                settings=settings)
        out = {}
        for port, written in result.outputs.items():
            out[port] = arrow_to_pandas(pq.read_table(written.path))
            assert schema_of(out[port]) == written.schema, (port, written.schema)
            if engine == "duckdb":  # hashed as written: the store keys the file by it
                with open(written.path, "rb") as fh:
                    assert written.digest == hashlib.sha256(fh.read()).hexdigest()
        return out


def run(engine: str, name: str, params: dict[str, Any], **frames: pd.DataFrame
        ) -> dict[str, pd.DataFrame]:
    if engine == "pandas":
        return run_pandas(name, params, **frames)
    return run_engine(engine, name, params, **frames)


def error(engine: str, name: str, params: dict[str, Any], **frames: pd.DataFrame
          ) -> OperatorError:
    """The OperatorError ``engine`` raises for these inputs (the test fails if none)."""
    with pytest.raises(OperatorError) as info:
        run(engine, name, params, **frames)
    return info.value


def normalised(df: pd.DataFrame) -> pd.DataFrame:
    """What a user sees: the schema's types, missing values as None, datetimes to the µs."""
    out = {}
    for col in schema_of(df):
        s = df[col["name"]]
        if col["type"] == "datetime":
            s = pd.to_datetime(s).astype("datetime64[us]")
        elif col["type"] == "float":
            s = s.astype("float64").round(9)
        s = s.astype(object).where(s.notna(), None)
        out[col["name"]] = s.tolist()
    return pd.DataFrame(out, columns=list(df.columns), dtype=object)


def assert_same(expected: pd.DataFrame, actual: pd.DataFrame, *, ordered: bool = True
                ) -> None:
    """Equal columns, types, values and missing values; in the same order where the operator
    defines one (``ordered``), else as multisets of rows."""
    assert list(actual.columns) == list(expected.columns)
    assert schema_of(actual) == schema_of(expected)
    a, e = normalised(actual), normalised(expected)
    if not ordered:
        key = [str(c) for c in range(len(a.columns))]
        a = a.set_axis(key, axis=1).sort_values(key, key=lambda s: s.astype(str)).reset_index(
            drop=True).set_axis(actual.columns, axis=1)
        e = e.set_axis(key, axis=1).sort_values(key, key=lambda s: s.astype(str)).reset_index(
            drop=True).set_axis(expected.columns, axis=1)
    assert a.to_dict("split")["data"] == e.to_dict("split")["data"]


def assert_parity(name: str, params: dict[str, Any], *, ordered: bool = True,
                  engines: tuple[str, ...] = ENGINES, **frames: pd.DataFrame
                  ) -> dict[str, pd.DataFrame]:
    """Every engine gives what pandas gives, on every output port; pandas' result."""
    reference = run_pandas(name, params, **{k: v.copy() for k, v in frames.items()})
    for engine in engines:
        if engine == "pandas":
            continue
        got = run_engine(engine, name, params, **frames)
        assert set(got) == set(reference)
        for port in reference:
            try:
                assert_same(reference[port], got[port], ordered=ordered)
            except AssertionError as exc:
                raise AssertionError(f"{engine} differs from pandas on {port!r}:\n"
                                     f"pandas:\n{reference[port]}\n{engine}:\n{got[port]}"
                                     ) from exc
    return reference
