"""Tables this process wrote or read lately, kept in memory as Arrow tables by hash.

Every node output is persisted as Parquet (previews, caching and replay need it), but the node
that consumes it usually runs in the same process moments later: reading the Parquet back cost
as much as writing it. The memo hands that node the table it would have read, converted from
Arrow, which costs a few milliseconds instead of a Parquet decode. Content addressing makes
this safe: a hash names exactly one table, so a memo entry can never be stale. Each reader gets
a DataFrame of its own. Bounded by bytes, least recently used first out; per process.

It also recognises a table it already holds: a source node hands on its dataset unchanged, a
pass-through node its input, and storing the same content again would encode and hash the
same Parquet bytes a second time."""
from __future__ import annotations

import threading
from collections import OrderedDict

import pandas as pd
import pyarrow as pa

from operators.tables import arrow_to_pandas


def _plain(t: pa.DataType) -> bool:
    return (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
            or pa.types.is_string(t) or pa.types.is_large_string(t)
            or pa.types.is_timestamp(t) or pa.types.is_null(t))


def _shape(table: pa.Table) -> tuple[int, pa.Schema]:
    return table.num_rows, table.schema


def memoizable(table: pa.Table) -> bool:
    """Only types whose Parquet round trip is exact (numbers, booleans, text, timestamps):
    what the memo gives back must equal what reading the file gives."""
    return all(_plain(field.type) for field in table.schema)


class TableMemo:
    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self._tables: OrderedDict[str, pa.Table] = OrderedDict()
        # (rows, schema) → hashes of the memoized tables of that shape
        self._shapes: dict[tuple[int, pa.Schema], set[str]] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, digest: str) -> pd.DataFrame | None:
        table = self.arrow(digest)
        return None if table is None else arrow_to_pandas(table)

    def arrow(self, digest: str) -> pa.Table | None:
        """The memoized Arrow table itself (immutable: engines read it, never change it)."""
        with self._lock:
            table = self._tables.get(digest)
            if table is not None:
                self._tables.move_to_end(digest)
        return table

    def shape(self, digest: str) -> tuple[int, int] | None:
        """(rows, bytes) of a memoized table; None if not held."""
        with self._lock:
            table = self._tables.get(digest)
        return None if table is None else (table.num_rows, table.nbytes)

    def find(self, table: pa.Table) -> str | None:
        """The hash of a memoized table equal to ``table`` (schema and its pandas metadata
        included: equal tables write the same Parquet bytes), if any."""
        with self._lock:
            candidates = [(d, self._tables[d]) for d in
                          self._shapes.get((table.num_rows, table.schema), ())]
        for digest, held in candidates:
            if held.equals(table, check_metadata=True):
                return digest
        return None

    def put(self, digest: str, table: pa.Table) -> None:
        size = table.nbytes
        if size > self.budget or not memoizable(table):
            return
        with self._lock:
            if digest in self._tables:
                self._tables.move_to_end(digest)
                return
            self._tables[digest] = table
            self._shapes.setdefault(_shape(table), set()).add(digest)
            self._bytes += size
            while self._bytes > self.budget:
                old, evicted = self._tables.popitem(last=False)
                self._bytes -= evicted.nbytes
                self._shapes[_shape(evicted)].discard(old)

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()
            self._shapes.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._tables)
