"""The reference workload (../shared/bench): read orders → filter amount > 10 → derive
amount × 1.2 → group by customer (sum, count, max ts) → join customers → write Parquet, as a
Datagran pipeline in the embedded default (every intermediate persisted as Parquet), against
the plain pandas script in the same process. Also the unchanged re-run (every output reused
from the cache but the export, an action, which always runs; bench/cache.py measures caching
on its own). Median of several runs after a warm-up. Then where a run's time goes: each
node's median time, and a sampling profile of the worker threads over more forced runs: the
functions most often on their stacks."""
from __future__ import annotations

import collections
import runpy
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

from embedded import ROOT, Embedded
from graphs import edge, node

SHARED = ROOT.parent / "shared" / "bench"
DATA = ROOT / "bench-data"
REPEAT = 5


def graph(orders: str, customers: str) -> dict:
    return {"nodes": [
        node("orders", "connector.upload", dataset=orders),
        node("kept", "transform.filter_rows", conditions=[
            {"column": "amount", "op": ">", "value": 10}]),
        node("derived", "transform.derive_column", name="amount_adj", expression="amount * 1.2"),
        node("agg", "transform.aggregate", group_by=["customer_id"], aggregations=[
            {"column": "amount_adj", "function": "sum", "name": "total_adj"},
            {"column": "amount_adj", "function": "count", "name": "n_orders"},
            {"column": "ts", "function": "max", "name": "last_ts"}]),
        node("customers", "connector.upload", dataset=customers),
        node("report", "transform.join", how="left", on=[{"left": "customer_id",
                                                        "right": "customer_id"}]),
        node("write", "action.export_file", format="parquet", filename="report")],
        "edges": [edge("orders", "kept"), edge("kept", "derived"), edge("derived", "agg"),
                  edge("agg", "report", "left"), edge("customers", "report", "right"),
                  edge("report", "write")]}


FLOOR_STEPS = (
    ("kept", "SELECT * FROM read_parquet({orders}) WHERE amount > 10"),
    ("derived", "SELECT *, amount * 1.2 AS amount_adj FROM kept"),
    ("agg", "SELECT customer_id, sum(amount_adj) AS total_adj, count(amount_adj) AS n_orders, "
            "max(ts) AS last_ts FROM derived GROUP BY customer_id ORDER BY customer_id"),
    ("report", "SELECT agg.*, c.* EXCLUDE (customer_id) FROM agg "
               "LEFT JOIN read_parquet({customers}) c USING (customer_id)"))


def stored_like_uploads(folder: str) -> None:
    """The two inputs as the store keeps an upload (``put_table``'s row groups and writer
    settings), in ``folder``: what the floor reads, as the pipeline's nodes do."""
    import pyarrow.parquet as pq

    from operators.tables import BATCH_ROWS, parquet_options

    for name in ("orders", "customers"):
        table = pq.read_table(DATA / f"{name}.parquet")
        pq.write_table(table, f"{folder}/{name}.parquet", row_group_size=BATCH_ROWS,
                       **parquet_options(table.schema))


def floor(folder: str, *, behind: bool = False) -> float:
    """The same steps as one DuckDB script that keeps every intermediate as the store does
    (each written as it is computed by ``ParquetWriterThread`` into a ``HashedFile``, and
    held in memory for the next step), with no pipeline around it: what persisting every
    intermediate costs by itself, the floor of any run that does. Reads the inputs as
    ``stored_like_uploads`` wrote them in ``folder``. ``behind``: each step computed whole
    in memory and written and hashed on a thread of its own while the next steps compute
    (the run ends when every write has): what a node's successor starting before the
    node's output is stored would give, which a pipeline does not do (see decisions)."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    from operators.tables import BATCH_ROWS, HashedFile, ParquetWriterThread, parquet_options

    def write_whole(table: pa.Table, path: str) -> None:
        with HashedFile(path, on_thread=False) as sink:
            pq.write_table(table, sink, row_group_size=BATCH_ROWS, **parquet_options(table.schema))
        sink.digest()

    t = time.perf_counter()
    con = duckdb.connect()
    files = {"orders": f"'{folder}/orders.parquet'", "customers": f"'{folder}/customers.parquet'"}
    writes = []
    for name, sql in FLOOR_STEPS:
        if behind:
            table = con.sql(sql.format(**files)).to_arrow_table()
            writes.append(threading.Thread(target=write_whole,
                                           args=(table, f"{folder}/{name}.parquet")))
            writes[-1].start()
            con.register(name, table)
            continue
        reader = con.sql(sql.format(**files)).to_arrow_reader(BATCH_ROWS)
        batches = []
        with HashedFile(f"{folder}/{name}.parquet") as sink, \
                ParquetWriterThread(sink, parquet_options) as writer:
            for batch in reader:
                writer.write_batch(batch)
                batches.append(batch)
            writer.close(reader.schema)
        sink.digest()
        con.register(name, pa.Table.from_batches(batches, reader.schema))
    for write in writes:
        write.join()
    con.close()
    return time.perf_counter() - t


def plain() -> float:
    module = runpy.run_path(str(SHARED / "plain_orders.py"))
    t = time.perf_counter()
    module["main"](str(DATA))
    return time.perf_counter() - t


class Sampler:
    """A sampling profiler of every thread but the caller's: every ``interval`` seconds, the
    functions on each thread's stack (each counted once per sample). Threads that are idle
    (waiting for a message) are left out."""

    # _sweep: the DuckDB idle-database sweeper, asleep in time.sleep (a C call) between looks.
    IDLE = ("wait", "get", "_wait_for", "select", "sleep", "poll", "_sweep")

    def __init__(self, interval: float = 0.002) -> None:
        self.interval, self.samples = interval, 0
        self.inclusive: collections.Counter[str] = collections.Counter()
        self.leaf: collections.Counter[str] = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Sampler:
        self._ignore = {threading.get_ident(), self._thread.ident}
        self._thread.start()
        self._ignore.add(self._thread.ident)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            for ident, top in sys._current_frames().items():
                if ident in self._ignore or top.f_code.co_name in self.IDLE:
                    continue
                self.samples += 1
                self.leaf[self._name(top)] += 1
                seen: set[str] = set()
                frame: Any = top
                while frame is not None:
                    seen.add(self._name(frame))
                    frame = frame.f_back
                self.inclusive.update(seen)

    @staticmethod
    def _name(frame: Any) -> str:
        path = frame.f_code.co_filename
        short = path.split("site-packages/")[-1] if "site-packages/" in path else \
            path.replace(str(ROOT) + "/", "")
        return f"{frame.f_code.co_name} ({short}:{frame.f_code.co_firstlineno})"

    def report(self, top: int = 25) -> None:
        print(f"  sampling profile of the worker threads ({self.samples:,} busy samples): "
              "share of samples with the function on the stack / at the top")
        for name, count in self.inclusive.most_common(top):
            print(f"    {count / self.samples:6.1%} {self.leaf[name] / self.samples:6.1%}  "
                  f"{name}")


def node_times(runs: list[Any]) -> dict[str, float]:
    """Each node's median duration (ms) over ``runs``."""
    per_node: dict[str, list[float]] = collections.defaultdict(list)
    for run in runs:
        for node_id, ms in run.nodes.values_list("node_id", "duration_ms"):
            per_node[node_id].append(ms or 0)
    return {k: statistics.median(v) for k, v in per_node.items()}


def main() -> None:
    if not (DATA / "orders.parquet").exists():
        sys.argv = ["gen_orders.py", str(DATA)]
        runpy.run_path(str(SHARED / "gen_orders.py"), run_name="__main__")
    bench = Embedded(threads=2)
    raw = graph(bench.upload(DATA / "orders.parquet"), bench.upload(DATA / "customers.parquet"))
    pipeline = bench.pipeline("reference", raw)
    plain()  # warm-up
    bench.run(pipeline)
    baseline = statistics.median(plain() for _ in range(REPEAT))
    with tempfile.TemporaryDirectory() as folder:
        stored_like_uploads(folder)
        floor(folder)  # warm-up
        floor(folder, behind=True)
        least = statistics.median(floor(folder) for _ in range(REPEAT))
        behind = statistics.median(floor(folder, behind=True) for _ in range(REPEAT))
    forced = [bench.run(pipeline, force=True) for _ in range(REPEAT)]
    cold = statistics.median(wall for wall, _ in forced)
    cached = statistics.median(bench.run(pipeline, force=False)[0] for _ in range(REPEAT))
    with Sampler() as sampler:
        for _ in range(REPEAT):
            bench.run(pipeline, force=True)
    bench.stop()
    print("reference workload: 1,000,000 orders, 50,000 customers (7 steps)")
    print(f"  plain pandas script                 {baseline * 1000:8.0f} ms")
    print(f"  the steps as one script keeping     {least * 1000:8.0f} ms   "
          f"{least / baseline:5.2f}x (every intermediate written and hashed as the store "
          "does, no pipeline)")
    print(f"  same, each step written behind      {behind * 1000:8.0f} ms   "
          f"{behind / baseline:5.2f}x (the next steps compute while it is written: not "
          "what a pipeline does)")
    print(f"  Datagran, embedded, every step kept {cold * 1000:8.0f} ms   "
          f"{cold / baseline:5.2f}x the plain script (target 1.0x)")
    print(f"  unchanged re-run (export reruns)    {cached * 1000:8.0f} ms   "
          f"{cached / cold:6.1%} of the first run")
    times = node_times([run for _, run in forced])
    print("  per node, median ms: " + ", ".join(f"{k} {v:,.0f}" for k, v in times.items())
          + f"; sum {sum(times.values()):,.0f}")
    sampler.report()


if __name__ == "__main__":
    main()
