"""Apache Spark: the same relational operators, their DuckDB SQL transpiled by sqlglot.

One Spark session per process and URL: ``local[N]`` or a standalone cluster's ``spark://``
master (``spark_master``), or Spark Connect's ``sc://`` (``spark_remote``). Inputs are read
from their Parquet files (paths the worker made, so both sides must read the same files: on
a cluster, a shared store), each output is written by Spark as a folder of part files and
then joined, batch by batch, into the one Parquet file the artifact store keeps.

A cluster that cannot be reached is a passing fault (``RetryableError``) naming the URL and
the reason, found within seconds: the master's port is tried first, Spark Connect's client
retries a few times only. Each node's jobs run in their own job group (a tag on Spark
Connect), which cancelling the node cancels."""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp, transforms
from sqlglot.dialects.spark import Spark
from sqlglot.errors import ErrorLevel, SqlglotError

from ..base import OperatorError
from ..errors import RetryableError
from ..schema import Schema
from ..tables import (
    ARROW_TYPES,
    BATCH_ROWS,
    SQL_TYPES,
    CteQuery,
    Rel,
    arrow_to_pandas,
    ident,
    map_batch,
)
from . import EngineSettings, OutputFile, RelationalResult, Source, memory_message
from .duck import OutputLimit, SealedSql, final_select, input_schema, sealed_of

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from ..base import Context, Operator
    from ..tables import MappedBatches

# Spark's TIMESTAMP carries the session's time zone; a schema's datetime is a wall time.
SPARK_TYPES = {**SQL_TYPES, "datetime": "TIMESTAMP_NTZ"}
# How long reaching a cluster may take before the node fails (and is retried).
CONNECT_TIMEOUT_SECONDS = 5.0
CONNECT_DEFAULT_PORT = 15002
STANDALONE_DEFAULT_PORT = 7077
ERR_UNREACHABLE = "Cannot reach the Spark cluster at {url}: {reason}"
ERR_NO_EQUIVALENT = "{label}: this SQL has no Spark equivalent ({reason})."
ERR_SPARK = "{label}: Spark could not run this query: {reason}"
# An OperatorError raised on an executor travels back as this line in Python's traceback.
ERR_MARK = "DATAGRAN-OPERATOR-ERROR "
_lock = threading.Lock()
_sessions: dict[tuple[str, str], SparkSession] = {}


def _within_group(node: exp.Expr) -> exp.Expr:
    """A percentile as ``WITHIN GROUP``: DuckDB's ``quantile_cont(x, q)``, and the
    ``quantile_cont(x, q ORDER BY x DESC)`` sqlglot writes for DuckDB."""
    if isinstance(node, exp.PERCENTILES) and not isinstance(node.parent, exp.WithinGroup):
        order = node.expression
        if isinstance(order, exp.Order) and order.this is not None:
            node = node.copy()
            quantile = node.expression.this.pop()
            ordered = node.expression.pop()
            node.set("this", quantile)
            return exp.WithinGroup(this=node, expression=exp.Order(
                expressions=ordered.expressions))
        return transforms.add_within_group_for_percentiles(node)
    return node

class _Spark(Spark):
    """Spark SQL as Spark 4 reads it: ``percentile_cont(q) WITHIN GROUP (ORDER BY x)`` is
    kept (sqlglot writes Spark 2's approximate ``PERCENTILE_APPROX`` and drops DESC), and
    DuckDB's ``quantile_cont(x, q)`` / ``quantile_disc(x, q)`` are written that way."""

    class Generator(Spark.Generator):  # type: ignore[valid-type,misc]
        TRANSFORMS: dict[type[exp.Expr], Any] = {
            **{k: v for k, v in Spark.Generator.TRANSFORMS.items() if k is not exp.WithinGroup},
            **{kind: transforms.preprocess([_within_group]) for kind in exp.PERCENTILES},
        }



def transpile(sql: str, label: str, field: str | None = None) -> str:
    """DuckDB SQL as Spark SQL; an OperatorError names what has no equivalent."""
    try:
        return sqlglot.transpile(sql, read="duckdb", write=_Spark,
                                 unsupported_level=ErrorLevel.RAISE)[0]
    except SqlglotError as exc:
        raise OperatorError(ERR_NO_EQUIVALENT.format(label=label, reason=_first_line(exc)),
                            field=field) from None


def spark_conf(text: str) -> tuple[tuple[str, str], ...]:
    """``DATAGRAN_SPARK_CONF`` (a JSON object of Spark settings) as pairs; a ValueError
    says what is wrong with it."""
    import json

    if not text.strip():
        return ()
    try:
        conf = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"DATAGRAN_SPARK_CONF is not JSON: {exc}.") from None
    if not isinstance(conf, dict) or not all(isinstance(k, str) for k in conf):
        raise ValueError('DATAGRAN_SPARK_CONF must be a JSON object such as '
                         '{"spark.executor.memory": "4g"}.')
    return tuple((k, str(v).lower() if isinstance(v, bool) else str(v))
                 for k, v in conf.items())


def missing_for_spark(*, remote: bool, environ: Mapping[str, str] = os.environ) -> str:
    """What this machine lacks to run Spark ("" when nothing): pyspark, and Java for a
    session of its own (a local master or a cluster's) or gRPC for Spark Connect."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -r requirements.txt)"
    if remote:
        if importlib.util.find_spec("grpc") is None:
            return "Spark Connect's client is not installed (grpcio, grpcio-status, " \
                "googleapis-common-protos, zstandard: pip install -r requirements.txt)"
        return ""
    java_home = environ.get("JAVA_HOME", "")
    if java_home and os.access(os.path.join(java_home, "bin", "java"), os.X_OK):
        return ""
    if shutil.which("java", path=environ.get("PATH", "")):
        return ""
    return "Java is not found (Spark 4 needs Java 17 or later: set JAVA_HOME or put java on PATH)"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    details = re.search(r'details = "([^"]*)"', text)  # a gRPC error's reason
    if details:
        return details.group(1)
    return text.splitlines()[0] if text else type(exc).__name__


def _url(settings: EngineSettings) -> str:
    return settings.spark_remote or settings.spark_master or "local[2]"


def shown(url: str) -> str:
    """A URL fit for a message: a Spark Connect token is not repeated."""
    return re.sub(r"(?i)(;\s*token=)[^;]*", r"\1***", url)


def _addresses(url: str) -> list[tuple[str, int]]:
    """The host and port of each master a ``spark://`` or ``sc://`` URL names."""
    if url.startswith("sc://"):
        parts = urlsplit(url.split(";")[0].replace("sc://", "http://", 1))
        return [(parts.hostname or "localhost", parts.port or CONNECT_DEFAULT_PORT)]
    if url.startswith("spark://"):
        hosts = url[len("spark://"):].split("/")[0].split(",")
        found = []
        for host in hosts:
            name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
            found.append((name.strip("[]"), int(port or STANDALONE_DEFAULT_PORT)))
        return found
    return []


def _probe(url: str) -> None:
    """Refuse a cluster none of whose addresses accepts a connection, quickly: Spark itself
    would wait for a standalone master for a minute and Spark Connect retry for ten."""
    addresses = _addresses(url)
    reasons = []
    for host, port in addresses:
        try:
            with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS):
                return
        except OSError as exc:
            reasons.append(f"{host}:{port}: {exc.strerror or exc}")
    if addresses:
        raise RetryableError(ERR_UNREACHABLE.format(url=shown(url), reason="; ".join(reasons)))


def _remote_session(spark: SparkSession) -> bool:
    return type(spark).__module__.startswith("pyspark.sql.connect")


def _alive(spark: SparkSession) -> bool:
    """A classic session whose context was not stopped (a master that gave up on us)."""
    if _remote_session(spark):
        return True
    try:
        jsc = spark.sparkContext._jsc
        return jsc is not None and not jsc.sc().isStopped()
    except Exception:  # noqa: BLE001 - a dead JVM raises
        return False


def session(settings: EngineSettings) -> SparkSession:
    """The process's Spark session for these settings; a RetryableError names the URL when
    the cluster cannot be reached."""
    key = (settings.spark_master, settings.spark_remote)
    url = _url(settings)
    with _lock:
        spark = _sessions.get(key)
        if spark is not None and _alive(spark):
            return spark
        _probe(url)
        warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas")
        try:
            spark = _remote(url) if settings.spark_remote else _classic(settings, url)
        except RetryableError:
            raise
        except Exception as exc:  # noqa: BLE001 - py4j and grpc raise their own types
            raise RetryableError(ERR_UNREACHABLE.format(url=shown(url),
                                                        reason=_first_line(exc))) from exc
        _sessions[key] = spark
        return spark


def _classic(settings: EngineSettings, url: str) -> SparkSession:
    from pyspark.sql import SparkSession

    temp = os.path.join(settings.temp_dir or tempfile.gettempdir(), "spark")
    os.makedirs(temp, exist_ok=True)
    builder = (SparkSession.builder.appName("datagran").master(url)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.local.dir", temp)
               .config("spark.driver.memory", f"{settings.memory_mb}m")
               # Python on the executors (predictions) gets batches of the worker's size: with
               # 10,000 (Spark's default), predicting 1M rows took 3.3 s instead of 2.1 s.
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(BATCH_ROWS)))
    if url.startswith("local"):  # nothing needs to reach this driver from elsewhere
        builder = (builder.config("spark.driver.host", "127.0.0.1")
                   .config("spark.driver.bindAddress", "127.0.0.1"))
    for name, value in settings.spark_conf:
        builder = builder.config(name, value)
    spark = builder.getOrCreate()
    if spark.sparkContext.master != url:
        # One SparkContext per process: a worker keeps the first master it was given.
        raise OperatorError(f"This worker already runs Spark on {spark.sparkContext.master}; "
                            f"restart it to use {url}.")
    spark.sparkContext.setLogLevel("ERROR")
    if url.startswith("local") and not os.environ.get("PYSPARK_PYTHON") and \
            not dict(settings.spark_conf).get("spark.pyspark.python"):
        # Python code on the executors (a model's predictions) runs in this interpreter, with
        # its packages, rather than whichever python3 is first on PATH.
        spark.sparkContext.pythonExec = sys.executable
    return spark


def _remote(url: str) -> SparkSession:
    from pyspark.sql.connect.client.retries import DefaultPolicy
    from pyspark.sql.connect.session import SparkSession as RemoteSession

    # ``create`` rather than the generic builder: that one marks the whole process as Spark
    # Connect (an environment variable), which would turn a local session into a client.
    spark = RemoteSession.builder.remote(url).create()
    spark.client.set_retry_policies([DefaultPolicy(max_retries=3, initial_backoff=200,
                                                   max_backoff=2000)])
    try:
        spark.sql("SELECT 1").collect()
    except Exception:
        with _quiet():
            spark.client.close()
        raise
    return spark  # type: ignore[return-value]


@contextmanager
def _quiet() -> Iterator[None]:
    try:
        yield
    except Exception:  # noqa: BLE001, S110 - closing what is already broken
        pass


class SparkQuery(CteQuery):
    engine = "spark"

    def __init__(self, spark: SparkSession, label: str, ctx: Context,
                 seal: SealedSql | None = None, *, staging: str = "",
                 views: list[str] | None = None) -> None:
        super().__init__()
        self.spark, self.label, self.ctx, self.seal = spark, label, ctx, seal
        self.staging, self.views = staging, views if views is not None else []

    def sql(self, body: str) -> Any:
        return self.spark.sql(transpile(self.statement(body), self.label,
                                        self.seal.field if self.seal else None))

    def materialize(self, sql: str, schema: Schema) -> Rel:
        """Computed now into one Parquet file in the node's staging folder (its part files
        joined in order, as an output is) and read from there, as an input is, by the
        node's later statements; without a staging folder, a definition."""
        if not self.staging:
            return self.define(sql, schema)
        name = f"{self.prefix}kept_{uuid.uuid4().hex[:8]}"
        folder = os.path.join(self.staging, name)
        self.write(sql, folder, f"{folder}.parquet", schema)
        _view(self.spark, f"{folder}.parquet", name, self.views)
        return Rel(ident(name), [dict(c) for c in schema])

    def write(self, sql: str, folder: str, path: str, schema: Schema,
              limit: OutputLimit | None = None) -> int:
        """The SELECT's rows written by Spark into ``folder``, then joined in order into the
        one Parquet file ``path`` (``join_parts``); its row count."""
        self.sql(sql).write.mode("overwrite").parquet(folder)
        return join_parts(folder, path, schema, limit)

    def fetch(self, sql: str, *, limit: int = 10_000) -> pd.DataFrame:
        table = self.sql(f"SELECT * FROM ({sql}) LIMIT {limit + 1}").toArrow()
        if table.num_rows > limit:
            raise OperatorError(f"{self.label}: a lookup query returned more than "
                                f"{limit:,} rows.")
        return arrow_to_pandas(table)

    def log(self, message: str) -> None:
        self.ctx.log(message)


def _view(spark: SparkSession, path: str, name: str, views: list[str]) -> None:
    """The Parquet file at ``path`` as the node's temporary view ``name`` (in ``views``,
    which the node drops when it ends)."""
    spark.read.parquet(path).createOrReplaceTempView(name)
    views.append(name)


def join_parts(folder: str, path: str, schema: Schema, limit: OutputLimit | None = None
               ) -> int:
    """Spark's part files, in order, as one Parquet file; its row count. ``limit`` refuses
    the output as soon as it passes a sealed operator's row or byte limit."""
    parts = sorted(glob.glob(os.path.join(folder, "part-*.parquet")))
    writer, rows = None, 0
    try:
        for part in parts:
            with pq.ParquetFile(part) as pf:
                for batch in pf.iter_batches():
                    if limit is not None:
                        limit.add(batch)
                    table = pa.Table.from_batches([batch])
                    if writer is None:
                        writer = pq.ParquetWriter(path, table.schema, compression="snappy")
                    writer.write_table(table.cast(writer.schema))
                    rows += batch.num_rows
        if writer is None:  # no rows: the schema from the first part (Spark writes one)
            arrow_schema = pq.read_schema(parts[0]) if parts else pa.schema(
                [(c["name"], pa.string()) for c in schema])
            pq.write_table(arrow_schema.empty_table(), path)
    finally:
        if writer is not None:
            writer.close()
    return rows


class _JobGroup:
    """The node's Spark jobs under one name: a job group on a classic session (for the
    calling thread: PySpark pins each Python thread to a JVM thread), a tag on Spark
    Connect. ``cancel`` stops every job of the group, and keeps stopping any the node still
    starts (a job submitted just after the cancel) until the node has ended."""

    def __init__(self, spark: SparkSession, label: str) -> None:
        self.spark, self.name = spark, f"datagran-{uuid.uuid4().hex}"
        self.remote = _remote_session(spark)
        self.ended = threading.Event()
        self._cancelling = threading.Lock()
        if self.remote:
            spark.addTag(self.name)
        else:
            spark.sparkContext.setJobGroup(self.name, label, interruptOnCancel=True)

    def cancel(self) -> None:
        if not self._cancelling.acquire(blocking=False):
            return  # already cancelling
        threading.Thread(target=self._keep_cancelling, daemon=True,
                         name=f"cancel {self.name}").start()

    def _keep_cancelling(self) -> None:
        while not self.ended.is_set():
            with _quiet():
                if self.remote:
                    self.spark.interruptTag(self.name)
                else:
                    self.spark.sparkContext.cancelJobGroup(self.name)
            self.ended.wait(0.5)

    def close(self) -> None:
        self.ended.set()
        with _quiet():
            if self.remote:
                self.spark.removeTag(self.name)
            else:
                self.spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)  # type: ignore[arg-type]


class SparkEngine:
    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings

    def run(self, op: Operator, params: Any, inputs: Mapping[str, Source | None], out_dir: str,
            *, ctx: Context, state: Any = None) -> RelationalResult:
        spark = session(self.settings)
        seal = sealed_of(op)
        staging = os.path.join(out_dir, f"spark-{uuid.uuid4().hex[:8]}")
        os.makedirs(staging, exist_ok=True)
        group = _JobGroup(spark, op.label)
        limit = OutputLimit(seal, group.cancel)
        views: list[str] = []
        try:
            with ctx.on_interrupt(group.cancel), self._errors(op.label, ctx, limit, seal), limit:
                rels = {port: self._input(spark, port, source, staging, views)
                        for port, source in inputs.items() if source is not None}
                q = SparkQuery(spark, op.label, ctx, seal, staging=staging, views=views)
                if op.stateful:
                    if state is None:
                        state = op.fit_query(q, params, **rels)
                    outputs = op.apply_query(q, params, state, **rels)
                else:
                    outputs = op.query(q, params, **rels)
                written = {}
                for port, rel in outputs.items():
                    path = os.path.join(out_dir, f"{uuid.uuid4().hex}.parquet")
                    rows = q.write(final_select(rel, SPARK_TYPES),
                                   os.path.join(staging, f"out-{port}"), path, rel.schema,
                                   limit)
                    written[port] = OutputFile(path=path, rows=rows,
                                               schema=[dict(c) for c in rel.schema])
            return RelationalResult(outputs=written, state=state if op.stateful else None)
        finally:
            group.close()
            for view in views:
                with _quiet():
                    spark.catalog.dropTempView(view)
            shutil.rmtree(staging, ignore_errors=True)

    def map_batches(self, mapped: MappedBatches, label: str, out_dir: str, *, ctx: Context
                    ) -> OutputFile:
        """``mapped`` (a function of a state and a batch, over a Parquet file) run on the
        executors, partition by partition: the state (a fitted model) broadcast to them (sent
        with the function on Spark Connect), each Arrow batch Spark reads handed to the
        function as the worker would read it, its added columns appended to the batch's own.
        No shuffle: the partitions are the file's row groups in order and each part file is a
        partition, so the rows keep the file's order. Written into ``out_dir`` as one Parquet
        file; the driver never holds the table."""
        from pyspark.sql import types as st

        spark_types = {"int": st.LongType(), "float": st.DoubleType(), "bool": st.BooleanType(),
                       "str": st.StringType(), "datetime": st.TimestampNTZType()}

        source: Any = mapped.source  # a ParquetTable: run_mapped checked
        kept = [dict(c) for c in source.schema if c["name"] not in mapped.added]
        new = mapped.added_schema(label)
        schema = kept + new
        spark = session(self.settings)
        staging = os.path.join(out_dir, f"spark-{uuid.uuid4().hex[:8]}")
        os.makedirs(staging, exist_ok=True)
        group = _JobGroup(spark, label)
        limit = OutputLimit(None, group.cancel)
        view, shared = f"mapped_{uuid.uuid4().hex[:8]}", None
        try:
            with ctx.on_interrupt(group.cancel), self._errors(label, ctx, limit, None), limit:
                frame = spark.read.parquet(source.path)
                struct = st.StructType(
                    [f for f in frame.schema.fields if f.name not in mapped.added]
                    + [st.StructField(c["name"], spark_types[c["type"]]) for c in new])
                if not group.remote:
                    shared = spark.sparkContext.broadcast(mapped.state)
                mapper = _partition_mapper(mapped.fn, shared if shared is not None
                                           else mapped.state, shared is not None,
                                           mapped.added, mapped.reads,
                                           [(c["name"], ARROW_TYPES[c["type"]]) for c in new])
                with warnings.catch_warnings():  # PySpark on pandas 3 (as in session())
                    warnings.filterwarnings(
                        "ignore", message=".*PySpark does not yet fully support pandas")
                    frame.mapInArrow(mapper, struct).createOrReplaceTempView(view)
                folder = os.path.join(staging, "out")
                q = SparkQuery(spark, label, ctx)
                q.sql(final_select(Rel(ident(view), schema), SPARK_TYPES)).write.mode(
                    "overwrite").parquet(folder)
                parts = len(glob.glob(os.path.join(folder, "part-*.parquet")))
                path = os.path.join(out_dir, f"{uuid.uuid4().hex}.parquet")
                rows = join_parts(folder, path, schema, limit)
            ctx.log(f"{label}: computed on Spark ({shown(_url(self.settings))}) partition by "
                    f"partition, {parts:,} partition(s), from and to Parquet files.")
            return OutputFile(path=path, rows=rows, schema=schema)
        finally:
            group.close()
            with _quiet():
                spark.catalog.dropTempView(view)
            if shared is not None:
                with _quiet():
                    shared.destroy()
            shutil.rmtree(staging, ignore_errors=True)

    @staticmethod
    def _input(spark: SparkSession, port: str, source: Source, staging: str,
               views: list[str]) -> Rel:
        path = source
        if not isinstance(source, str):  # a table in memory: to a file first
            path = os.path.join(staging, f"in-{port}.parquet")
            table = source if isinstance(source, pa.Table) else \
                pa.Table.from_pandas(source, preserve_index=False)
            pq.write_table(table, path)
        view = f"in_{uuid.uuid4().hex[:8]}_{port}"
        _view(spark, path, view, views)
        return Rel(ident(view), input_schema(source))

    @contextmanager
    def _errors(self, label: str, ctx: Context, limit: OutputLimit, seal: SealedSql | None
                ) -> Iterator[None]:
        """Spark's failures as the error family: stopped, out of memory, the cluster lost
        (passing), or the query itself (a person's SQL Spark cannot run)."""
        try:
            yield
        except (OperatorError, RetryableError):
            raise
        except Exception as exc:
            if limit.timed_out.is_set() or ctx.interrupts.fired:
                raise limit.stopped() from None
            raised = _raised_on_executor(exc)
            if raised is not None:
                raise raised from None
            reason = _first_line(exc)
            if "OutOfMemory" in str(exc) or "Java heap space" in str(exc):
                raise OperatorError(memory_message(label, self.settings)) from None
            if _lost(exc):
                raise RetryableError(ERR_UNREACHABLE.format(url=shown(_url(self.settings)),
                                                            reason=reason)) from exc
            if _is_analysis(exc):
                raise OperatorError(ERR_SPARK.format(label=label, reason=reason),
                                    field=seal.field if seal else None) from None
            raise


def _partition_mapper(fn: Callable[[Any, pd.DataFrame], pd.DataFrame], shared: Any,
                      broadcast: bool, added: tuple[str, ...], reads: tuple[str, ...] | None,
                      new: list[tuple[str, pa.DataType]]
                      ) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """What each executor runs on its partition's Arrow batches (pickled with its closure:
    ``fn`` by reference to its module, so the executors need this package installed)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        state = shared.value if broadcast else shared
        for batch in batches:
            if batch.num_rows == 0:
                continue
            try:
                yield map_batch(fn, state, added, reads, new, batch)
            except OperatorError as exc:  # the message the worker's path gives, not a trace
                raise RuntimeError(ERR_MARK + json.dumps(
                    {"message": exc.message, "field": exc.field})) from None

    return run


def _raised_on_executor(exc: BaseException) -> OperatorError | None:
    """The OperatorError an executor's Python raised (``ERR_MARK``), or None."""
    for e in _chain(exc):
        found = re.search(re.escape(ERR_MARK) + r"(\{.*\})", str(e))
        if found:
            raised = json.loads(found.group(1))
            return OperatorError(str(raised["message"]), field=raised.get("field"))
    return None


def _lost(exc: BaseException) -> bool:
    """The cluster went away (a dead JVM, a closed channel), not the query failing."""
    names = {type(e).__name__ for e in _chain(exc)}
    text = str(exc)
    return bool(names & {"Py4JNetworkError", "ConnectionRefusedError", "ConnectionResetError"}
                ) or "StatusCode.UNAVAILABLE" in text or "SparkContext was shut down" in text \
        or "stopped SparkContext" in text


def _is_analysis(exc: BaseException) -> bool:
    return any(type(e).__name__ in ("AnalysisException", "ParseException",
                                    "SparkRuntimeException", "NumberFormatException",
                                    "ArithmeticException", "DateTimeException",
                                    "SparkNumberFormatException", "SparkArithmeticException",
                                    "SparkDateTimeException", "IllegalArgumentException")
               for e in _chain(exc))


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__

