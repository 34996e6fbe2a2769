"""Node outputs are written on a thread of their own (``ParquetWriterThread``) while the next
batch is computed, into a file hashed as it is written (``HashedFile``): the file is the
table, byte for byte what a plain ParquetWriter writes, and its digest is its SHA-256."""
from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from operators.tables import HashedFile, ParquetWriterThread, link_or_copy, parquet_options


def batches(n: int = 5, rows: int = 1000) -> list[pa.RecordBatch]:
    return [pa.RecordBatch.from_pydict({"id": list(range(i * rows, (i + 1) * rows)),
                                        "name": [f"row {j}" for j in range(rows)]})
            for i in range(n)]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# on a thread of its own, and (a small table) in the caller's: the same bytes and digest
ON_THREAD = pytest.mark.parametrize("on_thread", [True, False], ids=["thread", "inline"])


@ON_THREAD
def test_the_threaded_writer_writes_the_batches_in_order_as_a_plain_writer_does(
        tmp_path, on_thread: bool) -> None:
    parts = batches()
    plain = tmp_path / "plain.parquet"
    with pq.ParquetWriter(plain, parts[0].schema, **parquet_options(parts[0].schema)) as w:
        for batch in parts:
            w.write_batch(batch)
    threaded = tmp_path / "threaded.parquet"
    sink = HashedFile(str(threaded), on_thread=on_thread)
    with sink, ParquetWriterThread(sink, parquet_options, on_thread=on_thread) as writer:
        for batch in parts:
            writer.write_batch(batch)
        writer.close(parts[0].schema)
    assert threaded.read_bytes() == plain.read_bytes()
    assert sink.digest() == sha256(threaded)
    assert pq.read_table(threaded).equals(pa.Table.from_batches(parts))


@ON_THREAD
def test_no_batch_writes_a_table_of_no_rows_with_its_columns(tmp_path, on_thread: bool) -> None:
    schema = batches()[0].schema
    path = tmp_path / "empty.parquet"
    sink = HashedFile(str(path), on_thread=on_thread)
    with sink, ParquetWriterThread(sink, parquet_options, on_thread=on_thread) as writer:
        writer.close(schema)
    table = pq.read_table(path)
    assert table.num_rows == 0 and table.schema.names == ["id", "name"]
    assert sink.digest() == sha256(path)


@ON_THREAD
def test_a_failed_write_is_raised_to_the_caller(tmp_path, on_thread: bool) -> None:
    """A batch the writer refuses (its columns differ from the first one's) fails the
    caller, at the next batch handed over or at the close."""
    parts = batches(2)
    other = pa.RecordBatch.from_pydict({"something": ["else"]})
    sink = HashedFile(str(tmp_path / "bad.parquet"), on_thread=on_thread)

    def write_all() -> None:
        with ParquetWriterThread(sink, parquet_options, on_thread=on_thread) as writer:
            for batch in [parts[0], other, *parts]:
                writer.write_batch(batch)
            writer.close()

    with sink, pytest.raises(ValueError, match="schema"):
        write_all()


def test_a_stored_file_is_handed_on_linked_or_copied(tmp_path, monkeypatch) -> None:
    stored = tmp_path / "stored.parquet"
    stored.write_bytes(b"PAR1 table bytes PAR1")
    link_or_copy(str(stored), str(tmp_path / "linked"))
    assert os.stat(tmp_path / "linked").st_ino == os.stat(stored).st_ino

    def other_file_system(*args: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", other_file_system)
    link_or_copy(str(stored), str(tmp_path / "copied"))
    assert (tmp_path / "copied").read_bytes() == stored.read_bytes()
    assert os.stat(tmp_path / "copied").st_ino != os.stat(stored).st_ino


@pytest.mark.parametrize("linkable", [True, False])
def test_a_name_planted_where_a_file_is_handed_on_is_not_written_through(
        tmp_path, monkeypatch, linkable: bool) -> None:
    """Someone else's link at the target name (a shared temporary folder) fails the hand-on;
    the file it points to keeps its bytes, whether the table would be linked or copied."""
    stored = tmp_path / "stored.parquet"
    stored.write_bytes(b"PAR1 table bytes PAR1")
    canary = tmp_path / "canary"
    canary.write_bytes(b"not yours")
    target = tmp_path / "export.parquet"
    target.symlink_to(canary)
    if not linkable:
        def other_file_system(*args: object) -> None:
            raise OSError(errno.EXDEV, "Invalid cross-device link")

        monkeypatch.setattr(os, "link", other_file_system)
    with pytest.raises(FileExistsError):
        link_or_copy(str(stored), str(target))
    assert canary.read_bytes() == b"not yours"
