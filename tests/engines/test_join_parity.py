"""transform.join: pandas, DuckDB and Spark give the same rows (a join defines no order on an
engine: compared as multisets), columns, types and missing values, for every ``how``."""
from __future__ import annotations

import tempfile
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from operators import LocalContext, get_operator
from operators.engines import EngineSettings, run_relational
from operators.tables import arrow_to_pandas

from .parity import ENGINES, SPARK, assert_parity, assert_same

ORDERS = pd.DataFrame({
    "order_id": [10, 11, 12, 13, 14, 15],
    "customer_id": pd.array([1, 2, 1, None, 3, 1], dtype="Int64"),
    "amount": [5.0, 7.5, np.nan, 1.0, 2.25, 0.0],
    "paid": [True, False, True, True, False, True],
    "note": pd.Series(["it's", None, "ok", "ünï ✓", "x\"y", ""], dtype="str"),
    "placed": pd.to_datetime(["2024-01-05", None, "1969-07-20 20:17:40", "2024-03-01",
                              "2022-12-31", "2024-01-05"], format="ISO8601"),
    "key text": pd.Series(["a", "b", "a", None, "c'", "a"], dtype="str"),
    "score": [1.0, np.nan, 3.0, 4.0, np.nan, 1.0],
})
CUSTOMERS = pd.DataFrame({
    "id": [1.0, 3.0, np.nan, 4.0, 1.0],  # decimals: matched with integers by value
    "name": pd.Series(["Ana", "Chen", "Nobody", "Dee", "Ana bis"], dtype="str"),
    "amount": [100, 300, 0, 400, 101],
    "vip": [True, False, True, False, False],
    "since": pd.to_datetime(["2020-01-01", "1955-05-05", None, "2021-06-30", "2020-01-02"]),
    "key text": pd.Series(["a", "c'", None, "d", "b"], dtype="str"),
    "score": [1.0, np.nan, 3.0, 5.0, 4.0],
})
SAME_NAMES = CUSTOMERS.rename(columns={"id": "customer_id"})

CASES: dict[str, tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]] = {
    "int_with_float_key": ({"on": [{"left": "customer_id", "right": "id"}]}, ORDERS,
                           CUSTOMERS),
    "shared_key_widened": ({"on": [{"left": "customer_id", "right": "customer_id"}],
                            "suffix": " (customer)"}, ORDERS, SAME_NAMES),
    "text_keys_and_suffix_clash": ({"on": [{"left": "key text", "right": "key text"}]},
                                   ORDERS, CUSTOMERS),
    "float_keys_with_nan": ({"on": [{"left": "score", "right": "score"}]}, ORDERS, CUSTOMERS),
    "two_keys": ({"on": [{"left": "customer_id", "right": "id"},
                         {"left": "key text", "right": "key text"}]}, ORDERS, CUSTOMERS),
    "datetime_key": ({"on": [{"left": "placed", "right": "since"}]},
                     ORDERS, CUSTOMERS.assign(since=ORDERS["placed"].iloc[[0, 2, 1, 3, 4]]
                                              .to_numpy())),
    "empty_left": ({"on": [{"left": "customer_id", "right": "id"}]}, ORDERS.head(0),
                   CUSTOMERS),
    "empty_right": ({"on": [{"left": "customer_id", "right": "id"}]}, ORDERS,
                    CUSTOMERS.head(0)),
}


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("how", ["inner", "left", "right", "outer"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_join_is_the_same_on_every_engine(case: str, how: str, engine: str) -> None:
    params, left, right = CASES[case]
    assert_parity("transform.join", {**params, "how": how}, ordered=False,
                  engines=(engine,), left=left, right=right)


def test_missing_keys_match_nothing_and_keep_their_rows_where_the_join_keeps_them() -> None:
    params = {"how": "outer", "on": [{"left": "score", "right": "score"}]}
    result = assert_parity("transform.join", params, ordered=False, engines=("pandas",),
                           left=ORDERS, right=CUSTOMERS)["table"]
    # 1.0 twice on the left x once on the right, 3.0 and 4.0 once x once: 4 matched rows;
    # the NaN scores (2 left, 1 right) and the right's 5.0 match nothing and stay alone.
    assert len(result) == 4 + 2 + 2
    assert result["order_id"].isna().sum() == 2 and result["name"].isna().sum() == 2


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "pandas"])
@pytest.mark.parametrize("how", ["inner", "outer"])
def test_a_nan_key_written_by_an_engine_matches_nothing_either(how: str, engine: str) -> None:
    # pandas writes NaN to Parquet as a null; an engine's output (0 / 0) keeps a real NaN,
    # which SQL engines hold equal to NaN.
    left = pa.table({"k": pa.array([1.0, float("nan"), 2.0], from_pandas=False),
                     "x": pa.array([1, 2, 3])})
    right = pa.table({"k": pa.array([float("nan"), 1.0], from_pandas=False),
                      "y": pa.array(["nan", "one"])})
    op = get_operator("transform.join")
    params = op.parse_params({"how": how, "on": [{"left": "k", "right": "k"}]})
    with tempfile.TemporaryDirectory() as folder:
        paths = {"left": f"{folder}/left.parquet", "right": f"{folder}/right.parquet"}
        pq.write_table(left, paths["left"])
        pq.write_table(right, paths["right"])
        result = run_relational(op, params, paths, folder, ctx=LocalContext(),
                                settings=SPARK if engine == "spark" else EngineSettings())
        got = arrow_to_pandas(pq.read_table(result.outputs["table"].path))
    expected = op.run(LocalContext(), params, left=arrow_to_pandas(left),
                      right=arrow_to_pandas(right))["table"]
    assert_same(expected, got, ordered=False)
    assert len(got) == (1 if how == "inner" else 4)
