"""Predict and k-means labelling on the Spark engine run partition by partition on the
executors, the fitted model broadcast to them: through ``execute_node`` with a real artifact
store (the model read back from its skops file, as a run does), the table scored on Spark
equals the table the worker scores batch by batch (the DuckDB engine's path): the same
columns, types, values and order, across several Spark partitions. A table the model cannot
score fails the node with the worker's message, on the driver or on an executor, and stores
nothing; an interrupt stops the Spark job."""
from __future__ import annotations

import dataclasses
import re
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from datagran.datasets.artifacts import ArtifactStore
from datagran.datasets.storage import LocalStorage
from datagran.engine.execute import execute_node
from operators import LocalContext, OperatorError, get_operator
from operators.engines import EngineSettings
from operators.engines import spark as spark_module
from operators.tables import schema_of_arrow

from .parity import SPARK

# As tests/engines/conftest.py marks the Spark parity cases: one xdist worker starts Spark.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]
ROWS = 300_000
BATCH = 65_536  # the rows of each batch an upstream node writes (a row group each)
FEATURES = ["plan", "tenure_months", "monthly_spend", "visits", "discount"]
classifier = get_operator("model.train_classifier")
predict = get_operator("model.predict")
kmeans = get_operator("model.cluster_kmeans")


def customers(n: int, seed: int) -> pd.DataFrame:
    """Customers with missing text and numbers, a column name with a space and a quote in a
    value; ``churned`` depends on tenure and spend, with noise."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 72, n).astype("int64")
    spend = rng.normal(50, 15, n)
    churned = np.where(tenure * 0.8 - spend * 0.5 + rng.normal(0, 8, n) < 0, "yes", "no")
    spend[rng.random(n) < 0.05] = np.nan
    plan = rng.choice(np.array(["basic", "pro", 'it\'s "max"'], dtype=object), n)
    plan[rng.random(n) < 0.05] = None
    return pd.DataFrame({
        "customer id": np.arange(n, dtype="int64"), "plan": plan, "tenure_months": tenure,
        "monthly_spend": spend, "visits": rng.random(n) * 30, "discount": rng.random(n),
        "churned": churned.astype(object)})


def batches(df: pd.DataFrame) -> Any:
    return (df.iloc[i:i + BATCH].reset_index(drop=True) for i in range(0, len(df), BATCH))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> ArtifactStore:
    return ArtifactStore(LocalStorage(tmp_path_factory.mktemp("store")))


@pytest.fixture(scope="module")
def big(store: ArtifactStore, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The table to score, stored as an upstream node writes it: in batches."""
    folder = str(tmp_path_factory.mktemp("batches"))
    return store.put_table_batches(batches(customers(ROWS, seed=11)), folder).as_json()


def engines(tmp_path: Path) -> tuple[EngineSettings, EngineSettings]:
    worker = EngineSettings(name="duckdb", temp_dir=str(tmp_path / "duck"))
    return worker, dataclasses.replace(SPARK, temp_dir=str(tmp_path / "spark"))


def node(store: ArtifactStore, op: Any, params: dict[str, Any], refs: dict[str, Any],
         engine: EngineSettings, ctx: LocalContext | None = None) -> Any:
    return execute_node(store=store, op=op, raw_params=params, input_refs=refs,
                        ctx=ctx or LocalContext(), engine=engine)


def partitions(ctx: LocalContext) -> int:
    """The partitions the node's log says Spark computed it in."""
    found = [m for m in ctx.logs if "computed on Spark" in m]
    assert len(found) == 1, ctx.logs
    match = re.search(r"([\d,]+) partition\(s\)", found[0])
    assert match, found
    return int(match.group(1).replace(",", ""))


def assert_same_table(expected: pd.DataFrame, actual: pd.DataFrame) -> None:
    """Equal columns, dtypes, order and values; floats to the last bits (the executors score
    batches of another size than the worker's)."""
    pd.testing.assert_frame_equal(actual, expected, check_exact=False, rtol=1e-12, atol=0)


@pytest.mark.parametrize("algorithm", ["logistic_regression", "random_forest"])
def test_spark_predict_equals_the_worker_path_across_partitions(
        store: ArtifactStore, big: dict[str, Any], tmp_path: Path, algorithm: str) -> None:
    worker, spark = engines(tmp_path)
    extra = {"n_estimators": 20} if algorithm == "random_forest" else {}
    trained = node(store, classifier, {"target": "churned", "features": FEATURES,
                                       "algorithm": algorithm, **extra},
                   {"train": store.put_table(customers(4000, seed=1)).as_json()}, worker)
    refs = {"model": trained.outputs["model"], "table": big}
    expected = node(store, predict, {}, refs, worker)
    ctx = LocalContext()
    started = time.monotonic()
    got = node(store, predict, {}, refs, spark, ctx)
    print(f"{algorithm}: {ROWS:,} rows predicted on Spark in {time.monotonic() - started:.1f} s")
    assert partitions(ctx) > 1
    assert got.rows_out == ROWS
    table = store.read_table(got.outputs["table"]["hash"])
    assert_same_table(store.read_table(expected.outputs["table"]["hash"]), table)
    assert got.outputs["table"]["schema"] == expected.outputs["table"]["schema"]
    assert list(table.columns)[-2:] == ["prediction", "probability"]
    assert table["customer id"].tolist() == list(range(ROWS))  # the input's order
    assert set(table["prediction"]) == {"yes", "no"}


def test_spark_k_means_labels_equal_the_worker_path(
        store: ArtifactStore, big: dict[str, Any], tmp_path: Path) -> None:
    worker, spark = engines(tmp_path)
    params = {"features": ["plan", "tenure_months", "monthly_spend"], "n_clusters": 4,
              "n_init": 2, "max_training_rows": 3000}
    expected = node(store, kmeans, params, {"table": big}, worker)
    ctx = LocalContext()
    got = node(store, kmeans, params, {"table": big}, spark, ctx)
    assert partitions(ctx) > 1
    for port in ("table", "metrics"):
        assert_same_table(store.read_table(expected.outputs[port]["hash"]),
                          store.read_table(got.outputs[port]["hash"]))
    table = store.read_table(got.outputs["table"]["hash"])
    assert sorted(table["cluster"].unique()) == [0, 1, 2, 3]
    assert table["customer id"].tolist() == list(range(ROWS))


MISTYPED = ("The table to score has feature column(s) of another type than the model was "
            "trained on: tenure_months (str, trained on int).")


def mistyped_past_the_first_batch(store: ArtifactStore, df: pd.DataFrame, folder: Path
                                  ) -> dict[str, Any]:
    """``df`` with text where the model learned numbers past the first batch only (missing
    before it): the first rows pass the check, an executor finds it mid-table."""
    late = df.astype({"tenure_months": object})
    late.loc[:BATCH + 10, "tenure_months"] = None
    late.loc[BATCH + 11:, "tenure_months"] = "twelve'); DROP TABLE x; --"
    path = folder / "late.parquet"
    arrow = pa.Table.from_pandas(late, preserve_index=False)
    pq.write_table(arrow, path, row_group_size=BATCH)
    return store.put_table_file(str(path), schema_of_arrow(arrow.schema), len(late)).as_json()


def stored_tables(store: ArtifactStore) -> set[str]:
    return {a.hash for a in store.artifacts() if a.kind == "table"}


def test_spark_predict_refuses_what_the_worker_refuses_with_its_message_storing_nothing(
        store: ArtifactStore, tmp_path: Path) -> None:
    worker, spark = engines(tmp_path)
    trained = node(store, classifier, {"target": "churned", "features": FEATURES,
                                       "algorithm": "logistic_regression"},
                   {"train": store.put_table(customers(4000, seed=2)).as_json()}, worker)
    model = trained.outputs["model"]
    df = customers(3 * BATCH, seed=3)
    folder = str(tmp_path / "in")
    # A feature column missing: found on the first rows, before Spark runs anything.
    missing = store.put_table_batches(batches(df.drop(columns=["visits"])), folder).as_json()
    wrong = mistyped_past_the_first_batch(store, df, tmp_path)
    for table, message in (
            (missing, "The table to score lacks the model's feature column(s): visits."),
            (wrong, MISTYPED)):
        before = stored_tables(store)
        errors = []
        for engine in (worker, spark):
            with pytest.raises(OperatorError) as err:
                node(store, predict, {}, {"model": model, "table": table}, engine)
            errors.append(err.value)
        assert [e.message for e in errors] == [message, message]
        assert "Traceback" not in str(errors[1]) and "at org.apache" not in str(errors[1])
        assert stored_tables(store) == before


def test_an_interrupt_stops_spark_predict_and_its_job(
        store: ArtifactStore, big: dict[str, Any], tmp_path: Path) -> None:
    worker, spark = engines(tmp_path)
    trained = node(store, classifier, {"target": "churned", "features": FEATURES,
                                       "algorithm": "random_forest", "n_estimators": 300},
                   {"train": store.put_table(customers(4000, seed=4)).as_json()}, worker)
    tracker = spark_module.session(SPARK).sparkContext.statusTracker()
    ctx = LocalContext()
    started = threading.Event()

    def interrupt_once_running() -> None:
        while not tracker.getActiveJobsIds():
            time.sleep(0.05)
        started.set()
        ctx.interrupts.interrupt()  # as the worker does on cancel

    threading.Thread(target=interrupt_once_running, daemon=True).start()
    before = stored_tables(store)
    with pytest.raises(OperatorError) as err:
        node(store, predict, {}, {"model": trained.outputs["model"], "table": big}, spark, ctx)
    assert started.is_set() and err.value.message.startswith("Stopped")
    for _ in range(100):  # cancelled tasks report back asynchronously
        if not tracker.getActiveJobsIds():
            break
        time.sleep(0.1)
    assert list(tracker.getActiveJobsIds()) == []
    assert stored_tables(store) == before
