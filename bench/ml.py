"""A 1,000,000-row machine-learning pipeline (issue 8): read orders → keep amount > 10 → join
customers → spend per customer (aggregate) → join it back → label big orders → split →
train (logistic regression with metrics, confusion and importances) → predict the test rows,
as a Datagran pipeline in the embedded default (every intermediate kept as Parquet), against
the same steps in a plain pandas + scikit-learn script. Each side runs in a process of its own
so that its peak memory (max RSS) is its own; time is the median of several runs after a
warm-up. Targets: within 1.25x in time and 2x in peak memory."""
from __future__ import annotations

import json
import runpy
import statistics
import subprocess
import sys
import time
from pathlib import Path

from graphs import edge, node
from memory import peak_mb

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "bench-data"
SHARED = HERE.parent.parent / "shared" / "bench"
REPEAT = 3
FEATURES = ["category", "region", "total", "n_orders"]
SEED = 7


def graph(orders: str, customers: str) -> dict:
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
        node("features", "transform.join", how="left", on=[{"left": "customer_id",
                                                          "right": "customer_id"}]),
        node("labelled", "transform.derive_column", name="big", expression="amount > 50"),
        node("split", "transform.split", test_size=0.25, seed=SEED),
        node("train", "model.train_classifier", target="big", features=FEATURES,
          algorithm="logistic_regression", seed=SEED),
        node("score", "model.predict")],
        "edges": [edge("orders", "kept"), edge("kept", "joined", "left"),
                  edge("customers", "joined", "right"), edge("kept", "spend"),
                  edge("joined", "features", "left"), edge("spend", "features", "right"),
                  edge("features", "labelled"), edge("labelled", "split"),
                  edge("split", "train", "train", "train"), edge("split", "train", "test", "test"),
                  edge("train", "score", "model", "model"),
                  edge("split", "score", "table", "test")]}


def plain_once() -> None:
    """The same steps and outputs by hand: the tables, the model, its train and test scores,
    confusion matrix, importances and the scored test rows (written as Parquet, like the
    pipeline's outputs)."""
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        precision_recall_fscore_support,
        roc_auc_score,
    )
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    orders = pd.read_parquet(DATA / "orders.parquet")
    kept = orders[orders["amount"] > 10]
    joined = kept.merge(pd.read_parquet(DATA / "customers.parquet"), on="customer_id",
                        how="left")
    spend = kept.groupby("customer_id").agg(total=("amount", "sum"),
                                            n_orders=("amount", "count")).reset_index()
    labelled = joined.merge(spend, on="customer_id", how="left")
    labelled["big"] = labelled["amount"] > 50
    train, test = train_test_split(labelled, test_size=0.25, random_state=SEED)
    model = Pipeline([
        ("prepare", ColumnTransformer([
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
             ["total", "n_orders"]),
            ("categorical", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                          OneHotEncoder(handle_unknown="ignore")),
             ["category", "region"])], sparse_threshold=0.3)),
        ("classify", LogisticRegression(max_iter=1000, random_state=SEED))])
    model.fit(train[FEATURES], train["big"])
    for table in (train, test):
        predicted = model.predict(table[FEATURES])
        accuracy_score(table["big"], predicted)
        precision_recall_fscore_support(table["big"], predicted, average="macro",
                                        zero_division=0)
        roc_auc_score(table["big"], model.predict_proba(table[FEATURES])[:, 1])
    confusion_matrix(test["big"], model.predict(test[FEATURES]))
    np.abs(model[-1].coef_).mean(axis=0)
    scored = test.assign(prediction=model.predict(test[FEATURES]))
    scored["probability"] = model.predict_proba(test[FEATURES]).max(axis=1)
    for frame in (kept, joined, spend, labelled, train, test, scored):
        frame.to_parquet(DATA / "ml-plain.parquet", index=False)


def measure_plain() -> dict:
    plain_once()  # warm-up
    times = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        plain_once()
        times.append(time.perf_counter() - t)
    return {"seconds": statistics.median(times), "peak_mb": peak_mb()}


def measure_datagran() -> dict:
    sys.path.insert(0, str(HERE))
    from embedded import Embedded

    bench = Embedded(threads=2)
    raw = graph(bench.upload(DATA / "orders.parquet"), bench.upload(DATA / "customers.parquet"))
    pipeline = bench.pipeline("ml", raw)
    bench.run(pipeline)  # warm-up
    times = [bench.run(pipeline, force=True)[0] for _ in range(REPEAT)]
    bench.stop()
    return {"seconds": statistics.median(times), "peak_mb": peak_mb()}



def side(name: str) -> dict:
    out = subprocess.run([sys.executable, __file__, name], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    if not (DATA / "orders.parquet").exists():
        sys.argv = ["gen_orders.py", str(DATA)]
        runpy.run_path(str(SHARED / "gen_orders.py"), run_name="__main__")
    plain, ours = side("plain"), side("datagran")
    print("1,000,000-row ML pipeline (10 steps: read, filter, join, aggregate, join, derive, "
          "split, train, predict)")
    print(f"  plain pandas + scikit-learn   {plain['seconds']:7.2f} s   peak "
          f"{plain['peak_mb']:6.0f} MB")
    print(f"  Datagran, embedded            {ours['seconds']:7.2f} s   peak "
          f"{ours['peak_mb']:6.0f} MB")
    print(f"  ratio                         {ours['seconds'] / plain['seconds']:7.2f}x time "
          f"(target 1.25x)   {ours['peak_mb'] / plain['peak_mb']:5.2f}x peak memory "
          f"(target 2x)")


if __name__ == "__main__":
    if sys.argv[1:] == ["plain"]:
        print(json.dumps(measure_plain()))
    elif sys.argv[1:] == ["datagran"]:
        print(json.dumps(measure_datagran()))
    else:
        main()
