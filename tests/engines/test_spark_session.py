"""The Spark engine's session: cancel stops the node's jobs, an unreachable cluster is a
passing fault naming the URL (retried by a run like any other, then failed), and Spark's
own noise stays off the worker's stdout, its scratch files under the engine's temp dir."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.test import override_settings

from operators.base import LocalContext, OperatorError
from operators.engines import EngineSettings, run_relational
from operators.engines import spark as spark_module
from operators.errors import RetryableError
from operators.registry import get_operator

from .parity import SPARK

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    """A port on loopback nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sql_node(settings: EngineSettings, query: str, frame: pd.DataFrame, tmp_path: Path,
             ctx: LocalContext | None = None) -> pd.DataFrame:
    op = get_operator("transform.sql")
    path = str(tmp_path / "in.parquet")
    frame.to_parquet(path, index=False)
    result = run_relational(op, op.parse_params({"query": query}), {"a": path}, str(tmp_path),
                            ctx=ctx or LocalContext(), settings=settings)
    return pd.read_parquet(result.outputs["table"].path)


def test_an_interrupt_stops_the_node_and_its_spark_jobs(tmp_path: Path) -> None:
    spark = spark_module.session(SPARK)
    ctx = LocalContext()
    big = pd.DataFrame({"id": np.arange(60_000)})
    # 3.6 billion rows: a minute's work for one core, so only the interrupt ends the node.
    # Not more: a task already running computes on after its job is cancelled (the cross
    # join's generated code never checks), and a three-way join of 3,000 rows kept a core
    # busy for minutes after the test, under the tests that came next.
    query = "SELECT sum(hash(a1.id + a2.id)) AS h FROM a a1, a a2"
    tracker = spark.sparkContext.statusTracker()
    started = threading.Event()

    def interrupt_once_running() -> None:
        while not tracker.getActiveJobsIds():
            time.sleep(0.1)
        started.set()
        ctx.interrupts.interrupt()  # as the worker does on cancel

    threading.Thread(target=interrupt_once_running, daemon=True).start()
    began = time.monotonic()
    with pytest.raises(OperatorError) as err:
        sql_node(SPARK, query, big, tmp_path, ctx)
    print(f"stopped {time.monotonic() - began:.1f} s after starting")
    assert started.is_set() and err.value.message.startswith("Stopped")
    for _ in range(100):  # cancelled tasks report back asynchronously
        if not tracker.getActiveJobsIds():
            break
        time.sleep(0.1)
    assert list(tracker.getActiveJobsIds()) == []
    # The session is still good for the next node.
    assert sql_node(SPARK, "SELECT count(*) AS n FROM a", big, tmp_path)["n"].tolist() == [len(big)]


def test_an_unreachable_standalone_master_is_a_passing_fault_naming_it(tmp_path: Path) -> None:
    url = f"spark://127.0.0.1:{closed_port()}"
    with pytest.raises(RetryableError) as err:
        sql_node(EngineSettings(name="spark", spark_master=url), "SELECT * FROM a",
                 pd.DataFrame({"x": [1]}), tmp_path)
    assert err.value.message.startswith(f"Cannot reach the Spark cluster at {url}: ")
    assert "refused" in err.value.message.lower()


def test_an_unreachable_spark_connect_server_is_a_passing_fault_naming_it(
        tmp_path: Path) -> None:
    url = f"sc://127.0.0.1:{closed_port()}"
    with pytest.raises(RetryableError) as err:
        sql_node(EngineSettings(name="spark", spark_remote=url), "SELECT * FROM a",
                 pd.DataFrame({"x": [1]}), tmp_path)
    assert err.value.message.startswith(f"Cannot reach the Spark cluster at {url}: ")
    assert "refused" in err.value.message.lower()


def test_spark_connects_own_retries_end_and_name_the_reason(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Past the port check (a server that went away in between): the Connect client's own
    retries are bounded, then the same passing fault; a local session still works after."""
    monkeypatch.setattr(spark_module, "_probe", lambda url: None)
    url = f"sc://127.0.0.1:{closed_port()}"
    with pytest.raises(RetryableError) as err:
        spark_module.session(EngineSettings(name="spark", spark_remote=url))
    assert err.value.message.startswith(f"Cannot reach the Spark cluster at {url}: ")
    assert "Connection refused" in err.value.message
    assert "SPARK_CONNECT_MODE_ENABLED" not in os.environ
    assert sql_node(SPARK, "SELECT count(*) AS n FROM a", pd.DataFrame({"x": [1, 2]}),
                    tmp_path)["n"].tolist() == [2]


@pytest.mark.django_db(transaction=True)
def test_a_run_retries_an_unreachable_cluster_then_fails_the_node_naming_it(
        api, worker, settings) -> None:
    from datagran.runs.models import NodeRun
    from tests.conftest import wait_for_run
    from tests.graphs import edge, node

    url = f"spark://127.0.0.1:{closed_port()}"
    graph = {"nodes": [node("data", "connector.sample_dataset", dataset="iris"),
                       node("f", "transform.filter_rows", conditions=[
                           {"column": "sepal_length", "op": ">", "value": 5}])],
             "edges": [edge("data", "table", "f", "table")]}
    with override_settings(DATAGRAN={**settings.DATAGRAN, "RETRY_BACKOFF_SECONDS": 0.01,
                                     "SPARK_MASTER": url}):
        pipeline = api.post("/api/pipelines/", {"name": "P", "graph": graph},
                            format="json").json()
        run = wait_for_run(api.post(f"/api/pipelines/{pipeline['id']}/runs/", {},
                                    format="json").json()["id"])
    failed = NodeRun.objects.get(run=run, node_id="f")
    assert run.status == "failed" and failed.attempts == 3
    assert f"Cannot reach the Spark cluster at {url}" in failed.error
    assert "gave up after 3 attempts" in failed.error
    assert sum("retrying" in line for line in failed.logs) == 2


def test_spark_keeps_stdout_clean_and_its_scratch_files_under_the_temp_dir(
        tmp_path: Path) -> None:
    """A worker's stdout carries its own lines only: Spark's log and progress go to stderr
    (at ERROR), and Spark's local dir is under DATAGRAN_ENGINE_TEMP_DIR."""
    report = tmp_path / "report.json"
    script = textwrap.dedent(f"""
        import json, pandas as pd
        from operators.base import LocalContext
        from operators.engines import EngineSettings, run_relational
        from operators.engines.spark import session
        from operators.transforms.sql import Sql
        settings = EngineSettings(name="spark", spark_master="local[1]",
                                  temp_dir={str(tmp_path / "engine")!r})
        pd.DataFrame({{"x": list(range(100))}}).to_parquet({str(tmp_path / "in.parquet")!r})
        op = Sql()
        result = run_relational(op, op.parse_params({{"query": "SELECT x % 7 AS k, count(*) AS n "
                                "FROM a GROUP BY 1"}}), {{"a": {str(tmp_path / "in.parquet")!r}}},
                                {str(tmp_path)!r}, ctx=LocalContext(), settings=settings)
        conf = session(settings).sparkContext.getConf().get("spark.local.dir")
        import os
        json.dump({{"rows": result.outputs["table"].rows, "local_dir": conf,
                    "made": sorted(n.split("-")[0] for n in os.listdir(conf))}},
                  open({str(report)!r}, "w"))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == ""
    found = json.loads(report.read_text())
    assert found["rows"] == 7 and found["local_dir"] == str(tmp_path / "engine" / "spark")
    assert "blockmgr" in found["made"]  # Spark's scratch files were there while it ran
