"""Models in bounded memory (issue 18): a trainer fits on at most ``max_training_rows`` rows
(a seeded sample, stratified by the target for a classifier; logged and recorded in the
model's lineage), a test table is evaluated on a sample of the same bound, and predict and
k-means label a table of any size batch by batch."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from datagran.datasets.artifacts import ArtifactStore
from datagran.datasets.storage import LocalStorage
from datagran.engine.execute import execute_node
from datagran.registry.models import ModelVersion, RegisteredModel
from datagran.registry.selectors import version_lineage
from operators import LocalContext, OperatorError, TrainedModel, get_operator
from operators.engines import EngineSettings
from operators.models._common import bounded_sample
from operators.tables import BATCH_ROWS, ParquetTable

classifier = get_operator("model.train_classifier")
regressor = get_operator("model.train_regressor")
kmeans = get_operator("model.cluster_kmeans")
predict = get_operator("model.predict")

SAMPLED = "Trained on a stratified sample of 500 of 5,000 rows (max_training_rows)."


def churn(n: int = 5000, seed: int = 0) -> pd.DataFrame:
    """Customers, exactly a fifth of them churned; missing values in text and numbers, and a
    column whose name has a space and a quote."""
    rng = np.random.default_rng(seed)
    churned = rng.permutation(np.array(["yes"] * (n // 5) + ["no"] * (n - n // 5), dtype=object))
    spend = rng.normal(50, 15, n).round(2)
    spend[rng.random(n) < 0.05] = np.nan
    plan = rng.choice(np.array(["basic", "pro", "it's \"max\""], dtype=object), n)
    plan[rng.random(n) < 0.05] = None
    return pd.DataFrame({
        "customer id": np.arange(n, dtype="int64"),
        "plan": plan,
        "tenure_months": rng.integers(1, 60, n).astype("int64") + (churned == "no") * 12,
        "monthly_spend": spend,
        "churned": churned,
    })


def parquet(df: pd.DataFrame, path: Path) -> ParquetTable:
    df.to_parquet(path, index=False)
    return ParquetTable(str(path))


def train(table: Any, test: Any = None, ctx: LocalContext | None = None,
          **raw: Any) -> dict[str, Any]:
    params = classifier.parse_params({"target": "churned", "features": [
        "plan", "tenure_months", "monthly_spend"], **raw})
    inputs = {"train": table} if test is None else {"train": table, "test": test}
    return classifier.run(ctx or LocalContext(), params, **inputs)


def scored(table: Any, model: TrainedModel) -> Any:
    return predict.run(LocalContext(), predict.parse_params({}), model=model,
                       table=table)["table"]


# --- fitting on a bounded sample ---------------------------------------------------------------

def test_a_table_larger_than_max_training_rows_is_fitted_on_a_stratified_sample() -> None:
    ctx = LocalContext()
    out = train(churn(), ctx=ctx, max_training_rows=500)
    model = out["model"]
    assert (model.training_rows, model.sampled_from) == (500, 5000)
    assert SAMPLED in ctx.logs
    # Without a test table the confusion counts the training rows: the classes keep their
    # proportions (a fifth churned) in the sample.
    actual = out["confusion"].groupby("actual")["count"].sum().to_dict()
    assert actual == {"no": 400, "yes": 100}
    assert out["metrics"].set_index("dataset").loc["train", "rows"] == 500


def test_a_table_within_the_bound_is_fitted_whole_and_nothing_is_logged() -> None:
    ctx = LocalContext()
    model = train(churn(), ctx=ctx)["model"]
    assert (model.training_rows, model.sampled_from) == (5000, None)
    assert not [m for m in ctx.logs if "sample" in m]
    assert classifier.parse_params({"target": "churned"}).model_dump()["max_training_rows"] \
        == 1_000_000


def test_the_sample_is_the_same_rows_from_a_dataframe_and_a_parquet_file(tmp_path) -> None:
    df = churn()
    table = parquet(df, tmp_path / "train.parquet")
    from_frame = bounded_sample(df, limit=500, seed=42, stratify="churned").frame
    from_file = bounded_sample(table, limit=500, seed=42, stratify="churned").frame
    assert len(from_frame) == 500
    pd.testing.assert_frame_equal(from_file, from_frame)
    # ... so the models are the same: the same predictions, metrics and confusion.
    a, b = train(df, max_training_rows=500), train(table, max_training_rows=500)
    pd.testing.assert_frame_equal(scored(df, a["model"]), scored(df, b["model"]))
    for port in ("metrics", "confusion", "importances", "curves"):
        pd.testing.assert_frame_equal(a[port], b[port])


def test_columns_the_model_does_not_read_do_not_change_its_sample(tmp_path) -> None:
    """The sample is drawn by the columns the model reads (features and target): a table
    with other columns beside them (an id, a note, as a join brings in) trains the same
    model, from a DataFrame and from a Parquet file; and only those columns are held."""
    df = churn()
    wider = df.assign(note=[f"row {i}" for i in range(len(df))], seen=pd.Timestamp("2026-01-01"))
    narrow = df.drop(columns=["customer id"])
    models = [train(t, max_training_rows=500)["model"] for t in
              (narrow, wider, parquet(wider, tmp_path / "wider.parquet"))]
    base = scored(narrow, models[0])
    for model in models[1:]:
        pd.testing.assert_frame_equal(scored(narrow, model), base)
    held = bounded_sample(parquet(wider, tmp_path / "held.parquet"), limit=500, seed=0,
                          stratify="churned", columns=["plan", "churned"]).frame
    assert list(held.columns) == ["plan", "churned"] and len(held) == 500


def test_every_kind_of_column_samples_the_same_rows_from_a_dataframe_and_its_file(
        tmp_path) -> None:
    """The hash sees one value whatever the column's dtype in memory: nanosecond times
    (microseconds in the file), a categorical, 32-bit integers, NaN (missing in the file),
    nullable booleans, missing text."""
    rng = np.random.default_rng(3)
    n = 3000
    df = pd.DataFrame({
        "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
        "kind": pd.Categorical(rng.choice(["a", "b", "c"], n)),
        "count": rng.integers(0, 50, n).astype("int32"),
        "ratio": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)),
        "flag": pd.array(rng.choice(np.array([True, False, None], dtype=object), n),
                         dtype="boolean"),
        "note": rng.choice(np.array(["x", None, "it's"], dtype=object), n),
        "label": rng.choice(["yes", "no"], n)})
    table = parquet(df, tmp_path / "kinds.parquet")
    for stratify in (None, "label"):
        from_frame = bounded_sample(df, limit=300, seed=5, stratify=stratify).frame
        from_file = bounded_sample(table, limit=300, seed=5, stratify=stratify).frame
        assert len(from_frame) == 300
        pd.testing.assert_frame_equal(from_file.astype(str), from_frame.astype(str))


def test_the_rows_hashed_below_a_cut_give_the_sample_ranking_every_row_gives(
        tmp_path, monkeypatch) -> None:
    """A sample is picked from the rows hashed below a cut a little past each stratum's
    quota (one pass, then a ranking of about the sample's size); it is the very sample a
    ranking of every row gives: strata large and small, a missing value's, none."""
    from operators.engines import duck

    rng = np.random.default_rng(11)
    n = 20_000
    df = pd.DataFrame({"x": rng.integers(0, 10**9, n), "y": rng.random(n),
                       "label": rng.choice(np.array(["a", "b", None, "rare"], dtype=object), n,
                                           p=[0.6, 0.35, 0.045, 0.005])})
    table = parquet(df, tmp_path / "strata.parquet")
    used: list[bool] = []
    below = duck._lowest_below_cuts

    def spy(*args: Any, **kwargs: Any) -> Any:
        picked = below(*args, **kwargs)
        used.append(picked is not None)
        return picked

    for stratify, limit in (("label", 1000), ("label", 120), (None, 1000)):
        monkeypatch.setattr(duck, "_lowest_below_cuts", spy)
        cut = table.sample(limit, seed=3, stratify=stratify)
        monkeypatch.setattr(duck, "_lowest_below_cuts", lambda *a, **k: None)
        ranked = table.sample(limit, seed=3, stratify=stratify)
        assert used.pop() is True
        assert abs(len(cut) - limit) <= 4  # each stratum's share, rounded
        pd.testing.assert_frame_equal(cut, ranked)


def test_a_sample_of_a_million_rows_or_more_is_drawn(tmp_path) -> None:
    """DuckDB's top-k stops short of a million rows: a sample that size (the default
    max_training_rows, unstratified for a regressor) is ranked instead of refused."""
    n = 2_500_000
    table = parquet(pd.DataFrame({"x": np.arange(n, dtype="int64")}), tmp_path / "big.parquet")
    for rows in (table, parquet(table.to_pandas().head(1_000_100), tmp_path / "just.parquet")):
        picked = rows.sample(1_000_000, seed=0)
        assert len(picked) == 1_000_000
        assert picked["x"].is_monotonic_increasing and picked["x"].is_unique


def test_another_seed_draws_another_sample() -> None:
    one = bounded_sample(churn(), limit=500, seed=1, stratify="churned").frame
    two = bounded_sample(churn(), limit=500, seed=2, stratify="churned").frame
    assert set(one["customer id"]) != set(two["customer id"])


def test_a_regressor_samples_without_strata_and_says_so() -> None:
    ctx = LocalContext()
    params = regressor.parse_params({"target": "monthly_spend", "features": [
        "plan", "tenure_months"], "max_training_rows": 500})
    out = regressor.run(ctx, params, train=churn().dropna(subset=["monthly_spend"]))
    assert out["model"].training_rows == 500
    assert any(m.startswith("Trained on a sample of 500 of ") for m in ctx.logs)
    assert out["metrics"].set_index("dataset").loc["train", "rows"] == 500


@pytest.mark.parametrize("bad", [0, -1, "many", None])
def test_a_max_training_rows_that_is_not_a_positive_number_is_refused(bad: Any) -> None:
    for op, target in ((classifier, "churned"), (regressor, "monthly_spend")):
        with pytest.raises(ValidationError) as err:
            op.parse_params({"target": target, "max_training_rows": bad})
        assert err.value.errors()[0]["loc"] == ("max_training_rows",)
    with pytest.raises(ValidationError):
        kmeans.parse_params({"max_training_rows": bad})


def test_a_float_target_is_refused_as_measurements_not_sampled_to_nothing() -> None:
    # Stratifying on 5,000 distinct numbers would keep no row of any: the check names the
    # target's problem instead.
    with pytest.raises(OperatorError, match="holds measurements") as err:
        classifier.run(LocalContext(), classifier.parse_params(
            {"target": "monthly_spend", "max_training_rows": 500}),
            train=churn().dropna(subset=["monthly_spend"]))
    assert err.value.field == "target"


# --- evaluating on a test table ----------------------------------------------------------------

def test_a_large_test_table_is_evaluated_on_a_bounded_stratified_sample(tmp_path) -> None:
    ctx = LocalContext()
    test = parquet(churn(seed=7), tmp_path / "test.parquet")
    out = train(churn(), test, ctx=ctx, max_training_rows=500)
    assert ("Evaluated on a stratified sample of 500 of 5,000 test rows "
            "(max_training_rows).") in ctx.logs
    assert out["metrics"].set_index("dataset").loc["test", "rows"] == 500
    actual = out["confusion"].groupby("actual")["count"].sum().to_dict()
    assert actual == {"no": 400, "yes": 100}
    # The same rows as the same table in memory.
    same = train(churn(), churn(seed=7), max_training_rows=500)
    pd.testing.assert_frame_equal(out["metrics"], same["metrics"])


def test_a_test_table_without_a_feature_is_refused_before_it_is_sampled(tmp_path) -> None:
    test = parquet(churn(seed=7).drop(columns=["plan"]), tmp_path / "test.parquet")
    with pytest.raises(OperatorError, match="lacks the model's feature column") as err:
        train(churn(), test, max_training_rows=500)
    assert err.value.field == "features"


# --- predicting batch by batch -----------------------------------------------------------------

MODEL = train(churn(), algorithm="logistic_regression")["model"]


def test_predict_over_a_parquet_table_yields_batches_equal_to_the_whole_prediction(
        tmp_path) -> None:
    df = churn(150_000, seed=3)
    out = scored(parquet(df, tmp_path / "big.parquet"), MODEL)
    assert isinstance(out, Iterator)
    batches = list(out)
    assert [len(b) for b in batches] == [BATCH_ROWS, BATCH_ROWS, 150_000 - 2 * BATCH_ROWS]
    whole = scored(df, MODEL)
    assert isinstance(whole, pd.DataFrame)
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True), whole)


def test_predict_refuses_an_empty_or_unfit_parquet_table_before_writing_anything(
        tmp_path) -> None:
    with pytest.raises(OperatorError, match="table to score is empty"):
        scored(parquet(churn().iloc[:0], tmp_path / "empty.parquet"), MODEL)
    with pytest.raises(OperatorError, match="lacks the model's feature column"):
        scored(parquet(churn().drop(columns=["tenure_months"]), tmp_path / "x.parquet"), MODEL)
    with pytest.raises(OperatorError, match=r"tenure_months \(str, trained on int\)"):
        scored(parquet(churn().astype({"tenure_months": "str"}), tmp_path / "s.parquet"),
               MODEL)


def test_k_means_finds_clusters_on_the_sample_and_labels_every_row_in_batches(
        tmp_path) -> None:
    df = churn(150_000, seed=5)
    params = kmeans.parse_params({"features": ["plan", "tenure_months", "monthly_spend"],
                                  "n_clusters": 3, "n_init": 2, "max_training_rows": 2000})
    ctx = LocalContext()
    whole = kmeans.run(ctx, params, table=df)
    assert any(m.startswith("Found the clusters on a sample of 2,000 of 150,000 rows")
               for m in ctx.logs)
    assert whole["metrics"]["rows"].tolist() == [2000]
    assert len(whole["table"]) == 150_000
    lazy = kmeans.run(LocalContext(), params, table=parquet(df, tmp_path / "k.parquet"))
    batches = list(lazy["table"])
    assert len(batches) == 3
    pd.testing.assert_frame_equal(pd.concat(batches, ignore_index=True), whole["table"])
    pd.testing.assert_frame_equal(lazy["metrics"], whole["metrics"])


# --- through the engine, and the lineage -------------------------------------------------------

def test_a_run_records_the_sample_in_the_model_ref_and_scores_a_stored_table(tmp_path) -> None:
    store = ArtifactStore(LocalStorage(tmp_path / "store"))
    engine = EngineSettings(temp_dir=str(tmp_path / "tmp"))
    df = churn()
    train_ref = store.put_table(df).as_json()
    trained = execute_node(
        store=store, op=classifier, raw_params={
            "target": "churned", "features": ["plan", "tenure_months", "monthly_spend"],
            "max_training_rows": 500},
        input_refs={"train": train_ref}, ctx=LocalContext(), engine=engine)
    model_ref = trained.outputs["model"]
    assert (model_ref["training_rows"], model_ref["sampled_from"]) == (500, 5000)
    out = execute_node(store=store, op=predict, raw_params={},
                       input_refs={"model": model_ref, "table": train_ref},
                       ctx=LocalContext(), engine=engine)
    written = store.read_table(out.outputs["table"]["hash"])
    pd.testing.assert_frame_equal(written, scored(df, store.read_model(model_ref["hash"])))


def test_the_lineage_says_a_version_was_trained_on_a_sample() -> None:
    registered = RegisteredModel(name="Churn")
    sampled = ModelVersion(registered_model=registered, version=3, training_data={
        "hash": "a" * 64, "rows": 50_000_000, "trained_rows": 1_000_000, "sampled": True})
    label = version_lineage(sampled)["nodes"][0]["label"]
    assert label == "Churn v3 · trained on a sample of 1,000,000 of 50,000,000 rows"
    whole = ModelVersion(registered_model=registered, version=4, training_data={
        "hash": "a" * 64, "rows": 5000, "trained_rows": 5000, "sampled": False})
    assert version_lineage(whole)["nodes"][0]["label"] == "Churn v4"


# --- a table much bigger than the memory it is predicted in ------------------------------------

def write_customers(path: Path, rows: int) -> float:
    """A table of ``rows`` customers written in parts of a million rows; its size in memory
    as pandas holds it (MB), measured on the first part."""
    rng = np.random.default_rng(0)
    writer, mb_per_row = None, 0.0
    for start in range(0, rows, 1_000_000):
        n = min(1_000_000, rows - start)
        part = pd.DataFrame({
            "customer id": np.arange(start, start + n, dtype="int64"),
            "plan": rng.choice(np.array(["basic", "pro", "max"], dtype=object), n),
            "tenure_months": rng.integers(1, 60, n).astype("int64"),
            "monthly_spend": rng.normal(50, 15, n)})
        if writer is None:
            mb_per_row = part.memory_usage(deep=True).sum() / 2**20 / n
        table = pa.Table.from_pandas(part, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=250_000)
    assert writer is not None
    writer.close()
    return mb_per_row * rows


# Imports, trains a small model and stores the big table (all before measuring), then
# predicts the big table through the engine: the RSS before, and its peak while predicting
# (Linux's VmHWM, reset first through clear_refs).
MEMORY_CHILD = textwrap.dedent("""
    import json, shutil, sys
    import django
    django.setup()
    import numpy as np, pyarrow.parquet as pq
    from datagran.datasets.artifacts import ArtifactStore
    from datagran.datasets.storage import LocalStorage
    from datagran.engine.execute import execute_node
    from operators import LocalContext, get_operator
    from operators.engines import EngineSettings

    path, store_dir, tmp_dir = sys.argv[1:4]
    store, engine = ArtifactStore(LocalStorage(store_dir)), EngineSettings(temp_dir=tmp_dir)
    train = pq.ParquetFile(path).read_row_group(0).to_pandas().head(20_000)
    train["churned"] = np.where(train["tenure_months"] > 30, "no", "yes")
    model = execute_node(
        store=store, op=get_operator("model.train_classifier"), raw_params={
            "target": "churned", "features": ["plan", "tenure_months", "monthly_spend"],
            "algorithm": "logistic_regression"},
        input_refs={"train": store.put_table(train).as_json()}, ctx=LocalContext(),
        engine=engine).outputs["model"]
    del train
    shutil.copyfile(path, path + ".copy")  # put_table_file consumes the file it stores
    ref = store.put_table_file(path + ".copy", [], pq.read_metadata(path).num_rows).as_json()
    def status(field):
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) / 1024 for line in fh if line.startswith(field))

    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # the peak RSS (VmHWM) starts again from the current RSS
    before = status("VmRSS:")
    out = execute_node(store=store, op=get_operator("model.predict"), raw_params={},
                       input_refs={"model": model, "table": ref}, ctx=LocalContext(),
                       engine=engine)
    after = status("VmHWM:")
    print(json.dumps({"before_mb": before, "after_mb": after, "rows_out": out.rows_out}))
""")


@pytest.mark.slow
def test_a_table_many_times_larger_than_the_memory_it_takes_is_predicted(tmp_path) -> None:
    rows = int(os.environ.get("DG_H6_PREDICT_ROWS", "20000000"))
    table_mb = write_customers(tmp_path / "big.parquet", rows)
    assert table_mb > 500  # loading it whole would take that (its prediction as much again)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "datagran.settings"}
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD, str(tmp_path / "big.parquet"),
         str(tmp_path / "store"), str(tmp_path / "tmp")],
        capture_output=True, text=True, env=env, cwd=os.getcwd(), timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rows_out"] == rows
    print(f"RSS {result['before_mb']:.0f} MB, peak {result['after_mb']:.0f} MB predicting "
          f"{rows:,} rows of {table_mb:.0f} MB in memory")
    assert result["after_mb"] - result["before_mb"] < table_mb / 5, result
