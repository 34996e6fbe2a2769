"""transform.sample: pandas, DuckDB and Spark take the same rows in the same order."""
from __future__ import annotations

import tempfile
from typing import Any

import numpy as np
import pandas as pd
import pytest

from operators import LocalContext, get_operator
from operators.engines import EngineSettings, run_relational

from .parity import ENGINES, assert_parity, error, run

N = 40
FRAME = pd.DataFrame({
    "id": range(N),
    "plan": pd.Series((["pro", "free", None, "it's \"ent\""] * 10), dtype="str"),
    "spend": [np.nan if i % 9 == 0 else i * 1.25 - 20 for i in range(N)],
    "visits": pd.array([None if i % 7 == 0 else i % 5 for i in range(N)], dtype="Int64"),
    "active": pd.array([None if i % 6 == 0 else i % 2 == 0 for i in range(N)],
                       dtype="boolean"),
    "joined": pd.to_datetime([None if i % 11 == 0 else f"19{50 + i}-03-0{1 + i % 9}"
                              for i in range(N)]),
    "naïve \"col\" name": ["ü✓" * (i % 3) for i in range(N)],
})
DUPLICATES = pd.concat([FRAME.head(10)] * 3, ignore_index=True)

CASES: dict[str, tuple[dict[str, Any], pd.DataFrame]] = {
    "n": ({"n": 10, "seed": 7}, FRAME),
    "fraction_half_up": ({"fraction": 0.3125}, FRAME),  # 12.5 rows: 13
    "more_than_there_are": ({"n": 100}, FRAME),
    "with_replacement": ({"fraction": 2.5, "replace": True, "seed": -4}, FRAME),
    "n_with_replacement": ({"n": 15, "replace": True}, FRAME.head(5)),
    "duplicates": ({"n": 12}, DUPLICATES),
    "duplicates_with_replacement": ({"n": 12, "replace": True}, DUPLICATES),
    "empty": ({"n": 3}, FRAME.head(0)),
    "empty_with_replacement": ({"fraction": 1.5, "replace": True}, FRAME.head(0)),
}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_sample_is_the_same_on_every_engine(case: str, engine: str) -> None:
    params, frame = CASES[case]
    assert_parity("transform.sample", params, engines=(engine,), table=frame)


def test_it_takes_the_counts_asked_shuffled_and_repeats_only_with_replacement() -> None:
    def ids(params: dict[str, Any], frame: pd.DataFrame = FRAME) -> list[int]:
        return run("pandas", "transform.sample", params, table=frame)["table"]["id"].tolist()

    assert len(ids({"fraction": 0.3125})) == 13
    taken = ids({"n": 100})
    assert sorted(taken) == list(range(N)) and taken != list(range(N))
    drawn = ids({"fraction": 2.5, "replace": True})
    assert len(drawn) == 100 and len(set(drawn)) < N
    assert ids({"n": 10, "seed": 1}) != ids({"n": 10, "seed": 2})


@pytest.mark.parametrize("engine", ["duckdb"])
def test_asking_for_more_rows_than_exist_is_logged_on_the_engine_too(engine: str) -> None:
    op = get_operator("transform.sample")
    ctx = LocalContext()
    with tempfile.TemporaryDirectory() as folder:
        run_relational(op, op.parse_params({"n": 50}), {"table": FRAME.head(5)}, folder,
                       ctx=ctx, settings=EngineSettings(name=engine))
    assert ctx.logs == ["Asked for 50 rows but the table has 5: took them all."]


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
@pytest.mark.parametrize(("params", "field"), [({"n": 100_000_000, "replace": True}, "n"),
                                          ({"fraction": 30_000_000.0, "replace": True},
                                           "fraction")])
def test_draws_with_replacement_are_refused_past_the_limit(engine: str, params: dict,
                                                           field: str) -> None:
    """Five rows asked for 10^8 draws once took the worker's whole memory (DuckDB built
    the list of draws; pandas hashed each one in Python)."""
    from operators.transforms.sample import MAX_DRAWS

    five = pd.DataFrame({"id": range(5)})
    exc = error(engine, "transform.sample", params, table=five)
    assert exc.field == field
    assert exc.message.startswith(f"A sample with replacement draws at most {MAX_DRAWS:,}")
