"""Tables bigger than a worker's memory (issue 18): 50M orders and 1M customers (generated,
seeded, as ../shared/bench/gen_orders.py does for 1M, written in batches and kept under
bench-data/) → filter → join → aggregate → join → label → train (a 1M-row sample:
max_training_rows) → predict every row → export Parquet, as a Datagran pipeline on the
embedded default (DuckDB, out of core) in a process capped at 2 GiB of resident memory
(killed past it, as a cgroup would; DATAGRAN_ENGINE_MEMORY_MB below it). Against, in the
same run and under the same cap: the same steps as one DuckDB SQL script (then scikit-learn
on a 1M-row sample and prediction batch by batch), and the plain pandas script, which fails.
Then the same pipeline on local Spark (DATAGRAN_SPARK_MASTER=local[2]) against the DuckDB
engine on the same data: wall time and whether the results are identical.

Environment: BIGDATA_ORDERS (default 50,000,000), BIGDATA_SPARK_ORDERS (default 5,000,000:
local Spark on two cores takes minutes per 10M rows), BIGDATA_ENGINE_MB (default 1024)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from memory import peak_address_space_mb, peak_mb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
N_ORDERS = int(os.environ.get("BIGDATA_ORDERS", "50000000"))
N_SPARK = int(os.environ.get("BIGDATA_SPARK_ORDERS", "5000000"))
ENGINE_MB = int(os.environ.get("BIGDATA_ENGINE_MB", "1024"))
N_CUSTOMERS = 1_000_000
CAP = 2 * 2**30
BATCH = 1_000_000
SEED = 7
TRAIN_ROWS = 1_000_000
FEATURES = ["category", "region", "total", "n_orders"]


def data_dir(n_orders: int) -> Path:
    return ROOT / "bench-data" / f"bigdata-{n_orders}"


# --- the data -----------------------------------------------------------------------------

def generate(n_orders: int) -> Path:
    """orders.parquet and customers.parquet as gen_orders.py draws them (same seed and
    distributions, 1M customers), a million rows at a time; kept for the next run."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = data_dir(n_orders)
    if (folder / "customers.parquet").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240601)
    categories = pa.array([f"category_{k:02d}" for k in range(20)])
    start = np.datetime64("2025-01-01T00:00:00", "s")
    part = folder / "orders.parquet.part"
    writer = None
    for done in range(0, n_orders, BATCH):
        n = min(BATCH, n_orders - done)
        batch = pa.table({
            "customer_id": rng.integers(0, N_CUSTOMERS, n, dtype=np.int64),
            "amount": np.round(rng.lognormal(mean=3.0, sigma=1.0, size=n), 2),
            "ts": pa.array(start + rng.integers(0, 365 * 86400, n).astype("timedelta64[s]"),
                           pa.timestamp("us")),
            "category": categories.take(pa.array(rng.integers(0, 20, n)))})
        writer = writer or pq.ParquetWriter(part, batch.schema, compression="snappy")
        writer.write_table(batch)
    assert writer is not None
    writer.close()
    part.rename(folder / "orders.parquet")
    regions = pa.array([f"region_{k}" for k in range(8)])
    customers = pa.table({
        "customer_id": np.arange(N_CUSTOMERS, dtype=np.int64),
        "name": pa.array([f"customer_{k:07d}" for k in range(N_CUSTOMERS)]),
        "region": regions.take(pa.array(rng.integers(0, 8, N_CUSTOMERS))),
        "signup_date": pa.array(start - rng.integers(0, 1000, N_CUSTOMERS)
                                .astype("timedelta64[D]"), pa.timestamp("us"))})
    pq.write_table(customers, folder / "customers.parquet.part")
    (folder / "customers.parquet.part").rename(folder / "customers.parquet")
    return folder


# --- the pipeline ---------------------------------------------------------------------------

def graph(orders: str, customers: str) -> dict[str, Any]:
    from graphs import edge, node

    return {"nodes": [
        node("orders", "connector.upload", dataset=orders),
        node("kept", "transform.filter_rows", conditions=[
            {"column": "amount", "op": ">", "value": 10}]),
        node("customers", "connector.upload", dataset=customers),
        node("joined", "transform.join", how="left", on=[{"left": "customer_id",
                                                        "right": "customer_id"}]),
        node("spend", "transform.aggregate", group_by=["customer_id"], aggregations=[
            {"column": "amount", "function": "sum", "name": "total"},
            {"column": "amount", "function": "count", "name": "n_orders"}]),
        # Money in cents: engines add floats in different orders (the last bits differ), and
        # the training sample is drawn by the values the model reads.
        node("cents", "transform.derive_column", name="total", expression="round(total, 2)"),
        node("features", "transform.join", how="left", on=[{"left": "customer_id",
                                                          "right": "customer_id"}]),
        node("labelled", "transform.derive_column", name="big", expression="amount > 50"),
        node("train", "model.train_classifier", target="big", features=FEATURES,
             algorithm="logistic_regression", seed=SEED, max_training_rows=TRAIN_ROWS),
        node("score", "model.predict"),
        node("export", "action.export_file", format="parquet", filename="scored")],
        "edges": [edge("orders", "kept"), edge("kept", "joined", "left"),
                  edge("customers", "joined", "right"), edge("kept", "spend"),
                  edge("spend", "cents"),
                  edge("joined", "features", "left"), edge("cents", "features", "right"),
                  edge("features", "labelled"), edge("labelled", "train", "train"),
                  edge("train", "score", "model", "model"), edge("labelled", "score"),
                  edge("score", "export")]}


def register(bench: Any, path: Path) -> str:
    """The Parquet file as an uploaded dataset, stored as it is (an upload reads the file
    into pandas: setting the benchmark up is not what it measures)."""
    import pyarrow.parquet as pq

    from datagran.datasets.artifacts import artifact_store
    from datagran.datasets.models import Dataset
    from operators.tables import schema_of_arrow

    copy = Path(tempfile.mkdtemp(prefix="bigdata-")) / path.name
    shutil.copy(path, copy)
    ref = artifact_store().put_table_file(str(copy), schema_of_arrow(pq.read_schema(path)),
                                          pq.read_metadata(path).num_rows)
    dataset = Dataset.objects.create(
        workspace=bench.workspace, name=path.name, format="parquet", source_sha256=ref.hash,
        table_hash=ref.hash, columns=ref.schema, row_count=ref.rows,
        size_bytes=path.stat().st_size, created_by=bench.user)
    return str(dataset.pk)


def side_datagran(n_orders: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from embedded import Embedded

    from datagran.datasets.artifacts import artifact_store

    folder = data_dir(n_orders)
    bench = Embedded(threads=2)
    raw = graph(register(bench, folder / "orders.parquet"),
                register(bench, folder / "customers.parquet"))
    pipeline = bench.pipeline("bigdata", raw)
    wall, run = bench.run(pipeline, force=True)
    nodes = {n.node_id: n for n in run.nodes.all()}
    bench.stop()
    scored = artifact_store().table_path(nodes["score"].outputs["table"]["hash"],
                                         tempfile.mkdtemp())
    return {"seconds": wall, "peak_mb": peak_mb(), "result": summary(scored),
            "nodes_ms": {k: n.duration_ms for k, n in nodes.items()},
            "logs": {k: [line for line in n.logs if "sample" in line.lower()
                         or "Computed on" in line] for k, n in nodes.items()}}


SCRIPT = """
    COPY (
        WITH kept AS (SELECT * FROM read_parquet({orders}) WHERE amount > 10),
        spend AS (SELECT customer_id, round(sum(amount), 2) AS total, count(amount) AS n_orders
                  FROM kept GROUP BY customer_id)
        SELECT kept.*, c.name, c.region, c.signup_date, spend.total, spend.n_orders,
               kept.amount > 50 AS big
        FROM kept LEFT JOIN read_parquet({customers}) AS c USING (customer_id)
                  LEFT JOIN spend USING (customer_id)
    ) TO {labelled} (FORMAT parquet, COMPRESSION snappy)
"""


def side_duckdb(n_orders: int) -> dict[str, Any]:
    """The same steps by hand: one DuckDB SQL script for the tables, scikit-learn on a 1M-row
    sample, every row predicted a million at a time into a Parquet file."""
    import duckdb
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from operators.tables import lit

    folder, out = data_dir(n_orders), Path(tempfile.mkdtemp(prefix="bigdata-script-"))
    import pandas  # noqa: F401  (imported before DuckDB takes its memory)

    t = time.perf_counter()
    config: dict[str, Any] = {"memory_limit": f"{ENGINE_MB}MB", "threads": 2,
                              "temp_directory": str(out / "spill")}
    labelled, scored = out / "labelled.parquet", out / "scored.parquet"
    with duckdb.connect(config=config) as con:  # closed: DuckDB keeps what it cached
        con.execute(SCRIPT.format(orders=lit(str(folder / "orders.parquet")),
                                  customers=lit(str(folder / "customers.parquet")),
                                  labelled=lit(str(labelled))))
    with duckdb.connect(config=config) as con:
        arrow = con.sql(f"SELECT {', '.join(FEATURES)}, big FROM read_parquet("
                        f"{lit(str(labelled))}) USING SAMPLE reservoir({TRAIN_ROWS} ROWS) "
                        f"REPEATABLE ({SEED})").to_arrow_table()
    sample = arrow.to_pandas()
    model = classifier()
    model.fit(sample[FEATURES], sample["big"])
    writer = None
    # pre_buffer off: with it every row group read stays in memory until the file closes
    for batch in pq.ParquetFile(labelled, pre_buffer=False).iter_batches(batch_size=BATCH):
        frame = batch.to_pandas()
        proba = model.predict_proba(frame[FEATURES])
        table = pa.Table.from_batches([batch]).append_column(
            "prediction", pa.array(model.classes_[proba.argmax(axis=1)])).append_column(
            "probability", pa.array(np.max(proba, axis=1)))
        writer = writer or pq.ParquetWriter(scored, table.schema, compression="snappy")
        writer.write_table(table)
    assert writer is not None
    writer.close()
    wall = time.perf_counter() - t
    result = summary(str(scored))
    shutil.rmtree(out, ignore_errors=True)
    return {"seconds": wall, "peak_mb": peak_mb(), "result": result,
            "address_space_mb": peak_address_space_mb()}


def classifier() -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return Pipeline([
        ("prepare", ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
             ["total", "n_orders"]),
            ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                          OneHotEncoder(handle_unknown="ignore")),
             ["category", "region"])], sparse_threshold=0.3)),
        ("classify", LogisticRegression(max_iter=1000, random_state=SEED))])


def side_pandas(n_orders: int) -> dict[str, Any]:
    """The plain pandas + scikit-learn script: every table whole in memory."""
    import pandas as pd

    folder = data_dir(n_orders)
    t = time.perf_counter()
    try:
        orders = pd.read_parquet(folder / "orders.parquet")
        kept = orders[orders["amount"] > 10]
        joined = kept.merge(pd.read_parquet(folder / "customers.parquet"), on="customer_id",
                            how="left")
        spend = kept.groupby("customer_id").agg(total=("amount", "sum"),
                                                n_orders=("amount", "count")).reset_index()
        spend["total"] = spend["total"].round(2)
        labelled = joined.merge(spend, on="customer_id", how="left")
        labelled["big"] = labelled["amount"] > 50
        sample = labelled.sample(TRAIN_ROWS, random_state=SEED)
        model = classifier().fit(sample[FEATURES], sample["big"])
        labelled["prediction"] = model.predict(labelled[FEATURES])
        labelled.to_parquet(Path(tempfile.mkdtemp()) / "scored.parquet", index=False)
    except MemoryError:
        return {"seconds": time.perf_counter() - t, "peak_mb": peak_mb(),
                "failed": "MemoryError"}
    return {"seconds": time.perf_counter() - t, "peak_mb": peak_mb(), "failed": ""}


def summary(path: str) -> dict[str, Any]:
    """What the scored table holds, independent of row order: rows, their content hashed
    (a sum of floats rounded: engines add in different orders), rows predicted big, the
    mean probability."""
    import duckdb

    from operators.tables import lit

    [row] = duckdb.connect().execute(
        "SELECT count(*), bit_xor(hash(customer_id, amount, ts, category, region, "
        "round(total, 6), n_orders, big)), count(*) FILTER (WHERE prediction), "
        f"round(avg(probability), 9) FROM read_parquet({lit(path)})").fetchall()
    return {"rows": row[0], "rows_hash": str(row[1]), "predicted_big": row[2],
            "mean_probability": row[3]}




# --- each side in a process of its own ----------------------------------------------------

def _rss(pid: int) -> int:
    """The process's resident memory in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            line = next((row for row in fh if row.startswith("VmRSS:")), "VmRSS: 0 kB")
    except OSError:
        return 0
    return int(line.split()[1]) * 1024


def _capped(args: list[str], environ: dict[str, str], capped: bool) -> tuple[int, str, str]:
    """Run ``args``; when ``capped``, kill it the moment its resident memory passes CAP,
    as a container's or cgroup's out-of-memory killer would. (RLIMIT_AS caps address space,
    not memory: scikit-learn, OpenBLAS and DuckDB reserve far more than they use, and
    the same work fails under it for want of address space, not of memory.)"""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, env=environ, stdout=out, stderr=err, text=True)
        killed = False
        while proc.poll() is None:
            if capped and _rss(proc.pid) > CAP:
                proc.kill()
                killed = True
            time.sleep(0.02)
        out.seek(0)
        err.seek(0)
        stderr = err.read() + (f"\nkilled: resident memory past {CAP // 2**30} GiB"
                               if killed else "")
        return proc.returncode, out.read(), stderr


def side(name: str, n_orders: int, *, capped: bool = True, **env: str) -> dict[str, Any]:
    environ = {**os.environ, "DATAGRAN_ENGINE_MEMORY_MB": str(ENGINE_MB),
               "DATAGRAN_ENGINE_THREADS": "2", "MALLOC_ARENA_MAX": "2",
               # mimalloc, Arrow's default, reserves address space by the GiB
               "ARROW_DEFAULT_MEMORY_POOL": "system",
               "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "1", **env}
    t = time.perf_counter()
    code, stdout, stderr = _capped([sys.executable, __file__, name, str(n_orders)], environ,
                                   capped)
    lines = stdout.strip().splitlines()
    if code != 0 or not lines or not lines[-1].startswith("{"):
        tail = (stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"failed": f"exit {code} after {elapsed(t)}: {tail}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def elapsed(since: float) -> str:
    return f"{time.perf_counter() - since:.0f} s"


def show(label: str, got: dict[str, Any], baseline: dict[str, Any] | None = None) -> None:
    if got.get("failed"):
        print(f"  {label:38} failed under the cap: {got['failed']}"
              + (f" (after {got['seconds']:.1f} s, peak {got['peak_mb']:.0f} MB)"
                 if "seconds" in got else ""))
        return
    ratio = (f"   {got['seconds'] / baseline['seconds']:5.2f}x the script (target 1.3x)"
             if baseline and not baseline.get("failed") else "")
    print(f"  {label:38} {got['seconds']:8.1f} s   peak {got['peak_mb']:6.0f} MB{ratio}")


def main() -> None:
    generate(N_ORDERS)
    print(f"bigdata: {N_ORDERS:,} orders, {N_CUSTOMERS:,} customers; filter → join → "
          "aggregate → join → label → train (1M-row sample) → predict all rows → export; "
          f"each side killed past {CAP // 2**30} GiB resident, engine memory {ENGINE_MB} MB")
    script = side("duckdb", N_ORDERS)
    ours = side("datagran", N_ORDERS)
    plain = side("pandas", N_ORDERS)
    show("one DuckDB SQL script + scikit-learn", script)
    show("Datagran, embedded (DuckDB)", ours, script)
    show("plain pandas + scikit-learn", plain)
    for name, got in (("script", script), ("Datagran", ours)):
        if "result" in got:
            print(f"  {name} result: {got['result']}")
    if "nodes_ms" in ours:
        print("  Datagran per node (ms): " + ", ".join(
            f"{k} {v:,}" for k, v in ours["nodes_ms"].items() if v is not None))
    generate(N_SPARK)
    print(f"the same pipeline on local Spark (local[2]), {N_SPARK:,} orders "
          "(BIGDATA_SPARK_ORDERS), not capped (the JVM is a process of its own)")
    duck = ours if N_SPARK == N_ORDERS else side("datagran", N_SPARK, capped=False)
    spark = side("datagran", N_SPARK, capped=False, DATAGRAN_SPARK_MASTER="local[2]")
    show("Datagran on DuckDB", duck)
    show("Datagran on Spark local[2]", spark)
    if "result" in duck and "result" in spark:
        same = duck["result"] == spark["result"]
        print(f"  results identical: {'yes' if same else 'NO'}   DuckDB {duck['result']}"
              + ("" if same else f"   Spark {spark['result']}"))


if __name__ == "__main__":
    if len(sys.argv) == 3:
        sys.path.insert(0, str(ROOT))
        runner = {"datagran": side_datagran, "duckdb": side_duckdb,
                  "pandas": side_pandas}[sys.argv[1]]
        print(json.dumps(runner(int(sys.argv[2]))))
    else:
        main()
