"""The in-memory memo of tables a process wrote: the node that reads an output next gets the
same table without reading its Parquet file, exactly as the file would give it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from datagran.datasets.artifacts import ArtifactStore
from datagran.datasets.storage import open_storage


def mixed(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "id": np.arange(n), "x": rng.normal(size=n),
        "maybe": pd.array([None if i % 7 == 0 else i for i in range(n)], dtype="Int64"),
        "flag": rng.integers(0, 2, size=n).astype(bool),
        "name": pd.array([None if i % 5 == 0 else f"n{i % 13}" for i in range(n)], dtype="str"),
        "when": pd.date_range("2024-03-01", periods=n, freq="37min"),
    }, index=np.arange(n) * 3)  # a filtered table's index: dropped when stored


@pytest.fixture
def stores(tmp_path) -> tuple[ArtifactStore, ArtifactStore]:
    """Two stores on one folder: one with a memo (a worker), one without (another process)."""
    url = str(tmp_path / "artifacts")
    return (ArtifactStore(open_storage(url, ""), memo_bytes=64 * 1024 * 1024),
            ArtifactStore(open_storage(url, ""), memo_bytes=0))


def test_a_table_from_the_memo_equals_the_one_read_from_its_file(stores) -> None:
    worker, other = stores
    digest = worker.put_table(mixed()).hash
    assert len(worker.memo) == 1
    pd.testing.assert_frame_equal(worker.read_table(digest), other.read_table(digest),
                                  check_exact=True)


def test_the_memo_serves_the_table_without_its_file(stores) -> None:
    worker, other = stores
    ref = worker.put_table(mixed())
    worker.delete(ref.as_json())
    assert len(worker.read_table(ref.hash)) == 200
    with pytest.raises(FileNotFoundError):
        other.read_table(ref.hash)


def test_each_reader_gets_a_table_of_its_own(stores) -> None:
    worker, _ = stores
    digest = worker.put_table(mixed()).hash
    first = worker.read_table(digest)
    first["x"] = 0.0
    first.loc[0, "name"] = "changed"
    again = worker.read_table(digest)
    assert (again["x"] != 0).all() and again.loc[0, "name"] != "changed"


def test_the_memo_keeps_to_its_budget_dropping_the_least_recently_used(tmp_path) -> None:
    one = pa.Table.from_pandas(mixed(), preserve_index=False).nbytes
    store = ArtifactStore(open_storage(str(tmp_path), ""), memo_bytes=int(one * 2.5))
    a, b = store.put_table(mixed()).hash, store.put_table(mixed().head(199)).hash
    store.read_table(a)  # a is now the most recently used
    c = store.put_table(mixed().head(198)).hash
    assert len(store.memo) == 2
    store.delete({"kind": "table", "hash": b})
    with pytest.raises(FileNotFoundError):
        store.read_table(b)  # b was dropped from the memo, and its file is gone
    assert len(store.read_table(a)) == 200 and len(store.read_table(c)) == 198


def test_tables_of_other_types_are_not_memoized(stores) -> None:
    worker, other = stores
    df = pd.DataFrame({"day": pd.to_datetime(["2024-01-01", "2024-01-02"]).date,
                       "amount": [1.5, 2.5]})
    digest = worker.put_table(df).hash
    assert len(worker.memo) == 0
    pd.testing.assert_frame_equal(worker.read_table(digest), other.read_table(digest))


def test_a_table_stored_again_unchanged_keeps_its_hash_and_its_file(stores) -> None:
    worker, other = stores
    df = mixed()
    ref = worker.put_table(df)
    handed_on = worker.read_table(ref.hash)  # a source or pass-through node's output
    assert worker.put_table(handed_on).hash == ref.hash
    worker.delete(ref.as_json())  # gone from the store (evicted): stored again, not assumed
    assert worker.put_table(handed_on).hash == ref.hash
    pd.testing.assert_frame_equal(other.read_table(ref.hash), worker.read_table(ref.hash))


def test_equal_values_of_another_dtype_are_another_table(stores) -> None:
    worker, other = stores
    plain = pd.DataFrame({"n": np.arange(5, dtype="int64")})
    nullable = plain.astype({"n": "Int64"})
    a, b = worker.put_table(plain).hash, worker.put_table(nullable).hash
    assert a != b
    assert other.read_table(b)["n"].dtype == "Int64"
