"""The artifact store's API, the same on a local folder and on S3: round trips, content
addressing, listing, streaming, last use and deletion."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from datagran.datasets.artifacts import ArtifactStore
from operators.base import TrainedModel
from operators.tables import BATCH_ROWS


def frame(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "y": rng.integers(0, 2, size=n),
                         "name": [f"row {i}" for i in range(n)],
                         "when": pd.date_range("2024-01-01", periods=n, freq="h")})


def model() -> TrainedModel:
    df = frame()
    estimator = make_pipeline(StandardScaler(), LogisticRegression()).fit(df[["x"]], df["y"])
    return TrainedModel(estimator=estimator, features=[{"name": "x", "dtype": "float64"}],
                        target="y", task="classification", classes=[0, 1],
                        algorithm="logistic_regression")


def test_a_table_comes_back_equal_with_its_rows_and_schema(store: ArtifactStore) -> None:
    df = frame()
    ref = store.put_table(df)
    assert ref.rows == 50 and [c["name"] for c in ref.schema] == ["x", "y", "name", "when"]
    pd.testing.assert_frame_equal(store.read_table(ref.hash), df)
    assert store.exists(ref.as_json()) and store.size(ref.as_json()) > 0


def test_a_big_table_is_stored_in_row_groups_an_engine_reads_in_parallel(
        store: ArtifactStore, tmp_path) -> None:
    """A table stored whole (an upload, a pandas node's output) is split into row groups of
    BATCH_ROWS rows, as streamed outputs are: DuckDB reads row groups on all its threads,
    and a 1M-row upload in one group was read on one."""
    df = frame(BATCH_ROWS * 2 + 10)
    ref = store.put_table(df)
    meta = pq.read_metadata(store.table_path(ref.hash, str(tmp_path)))
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [
        BATCH_ROWS, BATCH_ROWS, 10]
    pd.testing.assert_frame_equal(store.read_table(ref.hash), df)


def test_a_model_comes_back_predicting_the_same(store: ArtifactStore) -> None:
    original = model()
    digest = store.put_model(original)
    loaded = store.read_model(digest)
    assert loaded.target == "y" and loaded.algorithm == "logistic_regression"
    x = frame(10, seed=1)[["x"]]
    assert (loaded.estimator.predict(x) == original.estimator.predict(x)).all()


def test_a_file_comes_back_byte_for_byte_and_streams(store: ArtifactStore) -> None:
    data = bytes(range(256)) * 1000
    digest = store.put_file(data)
    assert store.read_file(digest) == data
    with store.open({"kind": "file", "hash": digest}) as fh:
        chunks = iter(lambda: fh.read(4096), b"")
        assert b"".join(chunks) == data


def test_the_same_bytes_are_the_same_key_and_stored_once(store: ArtifactStore) -> None:
    first, again = store.put_table(frame()), store.put_table(frame())
    other = store.put_table(frame(seed=2))
    assert first.hash == again.hash != other.hash
    assert store.put_model(model()) == store.put_model(model())
    assert store.put_file(b"same") == store.put_file(b"same") != store.put_file(b"other")
    listed = [(a.kind, a.hash) for a in store.artifacts()]
    assert len(listed) == len(set(listed)) == 5
    assert {kind for kind, _ in listed} == {"table", "model", "file"}


def test_a_deleted_artifact_is_gone_and_a_missing_one_is_not_found(
        store: ArtifactStore) -> None:
    ref = {"kind": "file", "hash": store.put_file(b"bye")}
    store.touch([ref])
    store.delete(ref)
    assert not store.exists(ref) and list(store.artifacts()) == []
    with pytest.raises(FileNotFoundError):
        store.read_file(ref["hash"])
    store.delete(ref)  # deleting twice is fine


def test_a_touched_artifact_counts_as_used_after_older_writes(store: ArtifactStore) -> None:
    old = {"kind": "file", "hash": store.put_file(b"old")}
    # S3 keeps times to the second: let the clock move on between the two uses.
    time.sleep(1.1)
    new = {"kind": "file", "hash": store.put_file(b"new")}
    time.sleep(1.1)
    store.touch([old])
    used = {a.hash: a.used for a in store.artifacts()}
    assert used[old["hash"]] > used[new["hash"]]


def test_a_hash_that_is_not_a_sha256_is_refused(store: ArtifactStore) -> None:
    with pytest.raises(ValueError, match="not an artifact hash"):
        store.exists({"kind": "table", "hash": "../../etc/passwd"})
