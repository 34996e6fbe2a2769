"""Caching of node outputs (issue 6): a 10-node pipeline on the 1,000,000-row reference orders
in the embedded default. Prints, from one run of this script, the first run (every node
computed), the unchanged re-run (every output reused from the cache; target under 5% of the
first run) and the re-run after editing the last node (target: that node's own time plus
overhead), each the median of several runs after a warm-up."""
from __future__ import annotations

import copy
import runpy
import statistics
import sys

from embedded import Embedded
from graphs import edge, node
from reference import DATA, SHARED

REPEAT = 5


def graph(orders: str, customers: str) -> dict:
    return {"nodes": [
        node("orders", "connector.upload", dataset=orders),
        node("kept", "transform.filter_rows", conditions=[
            {"column": "amount", "op": ">", "value": 10}]),
        node("derived", "transform.derive_column", name="amount_adj", expression="amount * 1.2"),
        node("months", "transform.date_parts", column="ts", parts=["year", "month"]),
        node("agg", "transform.aggregate", group_by=["customer_id", "ts_month"], aggregations=[
            {"column": "amount_adj", "function": "sum", "name": "total_adj"},
            {"column": "amount_adj", "function": "count", "name": "n_orders"}]),
        node("customers", "connector.upload", dataset=customers),
        node("report", "transform.join", how="left", on=[{"left": "customer_id",
                                                        "right": "customer_id"}]),
        node("average", "transform.derive_column", name="average",
          expression="total_adj / n_orders"),
        node("ranked", "transform.sort_limit", order_by=[{"column": "total_adj",
                                                        "descending": True}]),
        node("columns", "transform.select_columns",
          columns=["customer_id", "ts_month", "total_adj", "n_orders", "average"])],
        "edges": [edge("orders", "kept"), edge("kept", "derived"), edge("derived", "months"),
                  edge("months", "agg"), edge("agg", "report", "left"),
                  edge("customers", "report", "right"), edge("report", "average"),
                  edge("average", "ranked"), edge("ranked", "columns")]}


def main() -> None:
    from datagran.pipelines.services import pipeline_update
    from datagran.runs.models import NodeRun

    if not (DATA / "orders.parquet").exists():
        sys.argv = ["gen_orders.py", str(DATA)]
        runpy.run_path(str(SHARED / "gen_orders.py"), run_name="__main__")
    bench = Embedded(threads=2)
    raw = graph(bench.upload(DATA / "orders.parquet"), bench.upload(DATA / "customers.parquet"))
    pipeline = bench.pipeline("cache", raw)
    bench.run(pipeline)  # warm-up
    first = statistics.median(bench.run(pipeline, force=True)[0] for _ in range(REPEAT))
    unchanged = []
    for _ in range(REPEAT):
        wall, run = bench.run(pipeline, force=False)
        computed = NodeRun.objects.filter(run=run, cached=False)
        if computed.exists():
            raise SystemExit(f"an unchanged re-run computed {[n.node_id for n in computed]}")
        unchanged.append(wall)
    edited, own = copy.deepcopy(raw), []
    timings = []
    columns = raw["nodes"][-1]["params"]["columns"]
    for i in range(REPEAT):  # a column order not seen before, so the last node recomputes
        edited["nodes"][-1]["params"]["columns"] = list(reversed(columns[i:] + columns[:i]))
        pipeline_update(pipeline=pipeline, user=bench.user, graph=edited)
        wall, run = bench.run(pipeline, force=False)
        computed = NodeRun.objects.filter(run=run, cached=False)
        if [n.node_id for n in computed] != ["columns"]:
            raise SystemExit(f"editing the last node recomputed {[n.node_id for n in computed]}")
        node = computed[0]
        own.append((node.finished_at - node.started_at).total_seconds())
        timings.append(wall)
    bench.stop()
    cached, after_edit, last_node = map(statistics.median, (unchanged, timings, own))
    print("10-node pipeline on 1,000,000 orders, embedded default")
    print(f"  first run (every node computed)   {first * 1000:8.0f} ms")
    print(f"  unchanged re-run (all cached)     {cached * 1000:8.0f} ms   "
          f"{cached / first:6.1%} of the first run (target < 5%)")
    print(f"  re-run after editing the last node{after_edit * 1000:8.0f} ms   "
          f"{after_edit / first:6.1%} of the first run; the node itself "
          f"{last_node * 1000:.0f} ms, overhead {(after_edit - last_node) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
