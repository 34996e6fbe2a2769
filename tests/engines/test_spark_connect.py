"""SPARK_REMOTE: table nodes on a Spark Connect server (started here on loopback, with an
authentication token, in its own process): the same results as pandas, cancel interrupts the
node's tagged operations, and the token never appears in a message."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from operators.base import LocalContext, OperatorError
from operators.engines import EngineSettings, run_relational
from operators.errors import RetryableError
from operators.transforms.sql import Sql

from .parity import assert_same, run_pandas
from .test_spark_session import closed_port

# The server's JVM starts within the first test (up to minutes on a loaded machine).
pytestmark = pytest.mark.timeout(900)
TOKEN = "h1-test-token"
SERVER = textwrap.dedent("""
    import sys
    from pyspark.sql import SparkSession
    SparkSession.builder.remote("local[1]").config(
        "spark.connect.grpc.binding.port", sys.argv[1]).config(
        "spark.connect.grpc.binding.address", "127.0.0.1").config(
        "spark.ui.enabled", "false").getOrCreate()
    sys.stdin.read()  # serve until the test closes our stdin
""")


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = closed_port()
    log = open(tmp_path_factory.mktemp("connect") / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdin=subprocess.PIPE,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            # Python on the server's executors (a model's predictions)
                            # runs in this interpreter, with its packages.
                            env={**os.environ, "SPARK_CONNECT_AUTHENTICATE_TOKEN": TOKEN,
                                 "PYSPARK_PYTHON": sys.executable})
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(1)
        assert proc.poll() is None, "the Spark Connect server did not start"
        yield f"sc://localhost:{port}/;token={TOKEN}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def sql_node(url: str, query: str, frame: pd.DataFrame, folder: Path,
             ctx: LocalContext | None = None) -> pd.DataFrame:
    op = Sql()
    path = str(folder / "in.parquet")
    frame.to_parquet(path, index=False)
    result = run_relational(op, op.parse_params({"query": query}), {"a": path}, str(folder),
                            ctx=ctx or LocalContext(),
                            settings=EngineSettings(name="spark", spark_remote=url))
    return pd.read_parquet(result.outputs["table"].path)


def test_a_sql_node_on_spark_connect_gives_what_pandas_gives(connect_url: str,
                                                             tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "plan": ["pro", None, "it's", "pro"],
                          "spend": [1.5, np.nan, 3.0, 4.0]})
    query = ("SELECT plan, count(*) AS n, sum(spend) AS spend FROM a GROUP BY plan "
             "ORDER BY plan")
    expected = run_pandas("transform.sql", {"query": query}, a=frame)["table"]
    assert_same(expected, sql_node(connect_url, query, frame, tmp_path))


def test_a_split_on_spark_connect_gives_what_pandas_gives(connect_url: str,
                                                         tmp_path: Path) -> None:
    """Its row hashes are computed once into the node's staging folder and read back from
    there (``materialize``): both sides as pandas splits them, in the table's order."""
    from operators.registry import get_operator

    frame = pd.DataFrame({"id": range(40), "plan": ["pro", "free"] * 20,
                          "spend": np.linspace(0, 10, 40)})
    op = get_operator("transform.split")
    params = {"test_size": 0.25, "seed": 5, "stratify": "plan"}
    path = str(tmp_path / "in.parquet")
    frame.to_parquet(path, index=False)
    result = run_relational(op, op.parse_params(params), {"table": path}, str(tmp_path),
                            ctx=LocalContext(),
                            settings=EngineSettings(name="spark", spark_remote=connect_url))
    expected = run_pandas("transform.split", params, table=frame)
    for side in ("train", "test"):
        assert_same(expected[side], pd.read_parquet(result.outputs[side].path))


def test_a_token_in_the_url_is_not_repeated_in_the_message(tmp_path: Path) -> None:
    url = f"sc://localhost:{closed_port()}/;token={TOKEN}"
    with pytest.raises(RetryableError) as err:
        sql_node(url, "SELECT * FROM a", pd.DataFrame({"x": [1]}), tmp_path)
    assert TOKEN not in err.value.message and ";token=***" in err.value.message


def test_predict_on_spark_connect_equals_the_worker_path(connect_url: str,
                                                          tmp_path: Path) -> None:
    """The model travels with the function (no broadcast on Spark Connect) and scores the
    table on the server's executors; an error there fails the node with the worker's
    message."""
    from datagran.datasets.artifacts import ArtifactStore
    from datagran.datasets.storage import LocalStorage
    from datagran.engine.execute import execute_node
    from operators.registry import get_operator

    from .test_predict_spark import (
        BATCH,
        FEATURES,
        MISTYPED,
        batches,
        customers,
        mistyped_past_the_first_batch,
    )

    store = ArtifactStore(LocalStorage(tmp_path / "store"))
    worker = EngineSettings(name="duckdb", temp_dir=str(tmp_path / "duck"))
    remote = EngineSettings(name="spark", spark_remote=connect_url,
                            temp_dir=str(tmp_path / "spark"))
    trained = execute_node(
        store=store, op=get_operator("model.train_classifier"), raw_params={
            "target": "churned", "features": FEATURES, "algorithm": "logistic_regression"},
        input_refs={"train": store.put_table(customers(2000, seed=5)).as_json()},
        ctx=LocalContext(), engine=worker)
    table = store.put_table_batches(batches(customers(3 * BATCH, seed=6)),
                                    str(tmp_path / "in")).as_json()
    refs = {"model": trained.outputs["model"], "table": table}
    outcomes = []
    for engine in (worker, remote):
        ctx = LocalContext()
        outcomes.append(execute_node(store=store, op=get_operator("model.predict"),
                                     raw_params={}, input_refs=refs, ctx=ctx, engine=engine))
    assert any("computed on Spark (sc://localhost" in m and ";token=***" in m
               for m in ctx.logs), ctx.logs
    expected, got = (store.read_table(o.outputs["table"]["hash"]) for o in outcomes)
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, atol=0)
    mistyped = mistyped_past_the_first_batch(store, customers(3 * BATCH, seed=7), tmp_path)
    with pytest.raises(OperatorError) as err:
        execute_node(store=store, op=get_operator("model.predict"), raw_params={},
                     input_refs={**refs, "table": mistyped}, ctx=LocalContext(),
                     engine=remote)
    assert err.value.message == MISTYPED


# Last in the file: the server's own tasks compute on after the cancel (see below), and the
# module's server is stopped after it rather than kept busy under the next test.
def test_an_interrupt_stops_the_node_on_spark_connect(connect_url: str,
                                                      tmp_path: Path) -> None:
    ctx = LocalContext()
    threading.Timer(5, ctx.interrupts.interrupt).start()
    with pytest.raises(OperatorError) as err:
        sql_node(connect_url, "SELECT sum(hash(a1.id + a2.id * a3.id)) AS h "
                 "FROM a a1, a a2, a a3", pd.DataFrame({"id": np.arange(3000)}), tmp_path,
                 ctx)
    # The node is stopped; the server's own task may compute on until its next kill check
    # (Spark Connect's jobs are not interrupted on cancel), so nothing more is asked here.
    assert err.value.message.startswith("Stopped")
