"""The engines that run relational operators (``Operator.query``) on tables bigger than memory.

* ``duckdb`` (the default): embedded, out of core. Reads the input Parquet files, spills to
  ``temp_dir`` past ``memory_mb`` and writes each output as a Parquet file.
* ``spark``: the same SQL, transpiled by sqlglot, on a Spark session (``spark_master``, a
  master URL such as ``local[2]`` or ``spark://host:7077``, or ``spark_remote`` for Spark
  Connect).
* ``pandas``: no engine; the operator's ``run`` on DataFrames, as before this existed.

``run_relational`` is the one entry point; the engine is chosen by ``EngineSettings.name``.
No Django here: the worker builds the settings from its own (datagran/engine/execute.py).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import pandas as pd
import pyarrow as pa

from ..schema import Schema

if TYPE_CHECKING:
    from ..base import Context, Operator
    from ..tables import MappedBatches

ENGINES = ("duckdb", "spark", "pandas")
MEMORY_SETTING = "DATAGRAN_ENGINE_MEMORY_MB"
ENGINE_SETTING = "DATAGRAN_ENGINE"
SPARK_SETTING = "DATAGRAN_SPARK_MASTER"

# A node's input: a Parquet file's path, or (tests, serving) a table already in memory.
Source: TypeAlias = str | pd.DataFrame | pa.Table


@dataclass(frozen=True)
class EngineSettings:
    name: str = "duckdb"
    memory_mb: int = 1024
    temp_dir: str | None = None
    threads: int = 2
    spark_master: str = ""
    spark_remote: str = ""
    spark_conf: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_env(cls, environ: Any = os.environ, **overrides: Any) -> EngineSettings:
        """The settings the environment names (what the Django settings read too)."""
        spark_master = environ.get(SPARK_SETTING, "")
        spark_remote = environ.get("SPARK_REMOTE", "")
        default = "spark" if spark_master or spark_remote else "duckdb"
        values = {
            "name": environ.get(ENGINE_SETTING, "") or default,
            "memory_mb": int(environ.get(MEMORY_SETTING, "") or 1024),
            "temp_dir": environ.get("DATAGRAN_ENGINE_TEMP_DIR") or None,
            "threads": int(environ.get("DATAGRAN_ENGINE_THREADS", "") or 2),
            "spark_master": spark_master,
            "spark_remote": spark_remote,
        }
        if environ.get("DATAGRAN_SPARK_CONF", "").strip():
            from operators.engines.spark import spark_conf

            values["spark_conf"] = spark_conf(environ["DATAGRAN_SPARK_CONF"])
        return cls(**{**values, **overrides})


@dataclass(frozen=True)
class OutputFile:
    """A relational node's output, written by the engine: a Parquet file of ``rows`` rows
    whose columns are exactly ``schema``. The caller moves it into the artifact store."""

    path: str
    rows: int
    schema: Schema
    table: pa.Table | None = None  # the same rows in memory, when the engine kept them
    digest: str | None = None  # the file's SHA-256, when the engine computed it writing


@dataclass
class RelationalResult:
    outputs: dict[str, OutputFile]
    state: Any = None  # what a stateful operator's fit_query learned (None: stateless)


def memory_message(label: str, settings: EngineSettings, what: str = "") -> str:
    where = f" ({what})" if what else ""
    return (f"{label} needed more memory than the {settings.name} engine may use{where}: "
            f"{MEMORY_SETTING}={settings.memory_mb}. Raise {MEMORY_SETTING}, or run big "
            f"tables on Spark ({SPARK_SETTING}, e.g. local[2] or a cluster's master URL).")


def run_relational(op: Operator, params: Any, inputs: Mapping[str, Source | None], out_dir: str,
                   *, ctx: Context, settings: EngineSettings, state: Any = None,
                   keep_bytes: int = 0) -> RelationalResult:
    """Run ``op.query`` (or ``fit_query`` then ``apply_query``) on the engine the settings
    name, writing one Parquet file per output port into ``out_dir``. ``state``: apply a state
    learned before instead of fitting (serving, replays). ``keep_bytes``: an embedded engine
    also hands back an output this small in memory, for the next node."""
    if settings.name == "spark":
        from .spark import SparkEngine

        return SparkEngine(settings).run(op, params, inputs, out_dir, ctx=ctx, state=state)
    from .duck import DuckEngine

    return DuckEngine(settings).run(op, params, inputs, out_dir, ctx=ctx, state=state,
                                    keep_bytes=keep_bytes)


def run_mapped(mapped: MappedBatches, label: str, out_dir: str, *, ctx: Context,
               settings: EngineSettings) -> OutputFile | None:
    """A table an operator makes row by row from a stored table (``MappedBatches``: a
    model's predictions), written as a Parquet file in ``out_dir``: on Spark partition by
    partition on the executors, else here, Arrow batch by Arrow batch (``map_batch``: only
    the columns the function reads become pandas; the others are written as read). None
    when the table is in memory, for the worker to write from its DataFrames."""
    from ..tables import ParquetTable

    if not isinstance(mapped.source, ParquetTable):
        return None
    if settings.name == "spark":
        from .spark import SparkEngine

        return SparkEngine(settings).map_batches(mapped, label, out_dir, ctx=ctx)
    return _map_here(mapped, label, out_dir)


def _map_here(mapped: MappedBatches, label: str, out_dir: str) -> OutputFile:
    import uuid

    import pyarrow.parquet as pq

    from ..tables import (
        ARROW_TYPES,
        BATCH_ROWS,
        COMPRESS_ROWS,
        HashedFile,
        ParquetWriterThread,
        map_batch,
        parquet_options,
    )

    source: Any = mapped.source
    kept = [dict(c) for c in source.schema if c["name"] not in mapped.added]
    added = mapped.added_schema(label)
    new = [(c["name"], ARROW_TYPES[c["type"]]) for c in added]
    path = os.path.join(out_dir, f"{uuid.uuid4().hex}.parquet")
    rows = 0
    big = source.rows > COMPRESS_ROWS
    sink = HashedFile(path)  # the store's digest, computed as the bytes are written
    # pre_buffer off: with it, pyarrow keeps every row group it has read until the file closes.
    # Each batch is written on a thread while the next one is predicted.
    with sink, pq.ParquetFile(source.path, pre_buffer=False) as pf, \
            ParquetWriterThread(sink, lambda schema: parquet_options(schema, source.rows)
                                ) as writer:
        for batch in pf.iter_batches(batch_size=MAP_BATCH_ROWS if big else BATCH_ROWS):
            out = map_batch(mapped.fn, mapped.state, mapped.added, mapped.reads, new, batch)
            writer.write_batch(out)
            rows += out.num_rows
        # No rows: the columns still.
        writer.close(None if rows else pa.schema(
            [(f.name, f.type) for f in pf.schema_arrow if f.name not in mapped.added] + new))
    return OutputFile(path=path, rows=rows, schema=kept + added, digest=sink.digest())


# A big table is mapped in larger batches: a model's fixed cost per call was 10% of the time
# at 65,536 rows. (Mapping in two spawned processes gained only 14% on 10M rows, the reading
# and writing here being a large share: not done.) The memory a batch takes grows with it:
# predicting 20M rows with a three-feature model grew the RSS by 53 MB at 65,536 rows a batch,
# 75 MB at 131,072 and 130-157 MB at 262,144, which was 9% faster than 131,072.
MAP_BATCH_ROWS = 131_072
