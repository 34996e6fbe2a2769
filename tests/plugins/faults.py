"""Operators that misbehave on purpose, for fault-tolerance tests: loaded as a plugin with
DATAGRAN_OPERATOR_MODULES=tests.plugins.faults (the way any plugin module is)."""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
from pydantic import Field

from operators.base import Context, Operator, Params, Port
from operators.registry import register


class SlowParams(Params):
    seconds: float = Field(2.0, ge=0, le=600)
    # A file touched when the node starts: tests wait for it before killing a worker.
    marker: str = ""
    # Ignore interrupts (a plain sleep, as native code that cannot be stopped).
    stubborn: bool = False
    # A file each attempt appends "start|end|stop <pid> <unix time>" lines to.
    timeline: str = ""


@register
class Slow(Operator):
    """Passes its table through after `seconds`."""

    name = "test.slow"
    label = "Slow (test)"
    category = "transform"
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = SlowParams
    reuse_output = False

    def run(self, ctx: Context, params: SlowParams, table: pd.DataFrame) -> dict:
        if params.marker:
            Path(params.marker).write_text(str(os.getpid()))
        if params.timeline:
            note(params.timeline, "start")
            try:
                self.wait(ctx, params)
                note(params.timeline, "end")
            finally:
                note(params.timeline, "stop")
            return {"table": table}
        self.wait(ctx, params)
        return {"table": table}

    def wait(self, ctx: Context, params: SlowParams) -> None:
        if params.stubborn:
            time.sleep(params.seconds)
            return
        stop = threading.Event()  # waits as a sleep would, but cancel ends it at once
        with ctx.on_interrupt(stop.set):
            stop.wait(params.seconds)


def note(path: str, event: str) -> None:
    with open(path, "a") as f:
        f.write(f"{event} {os.getpid()} {time.time():.3f}\n")


class CrashParams(Params):
    # Crash only while this file exists, so a test can let a later attempt succeed.
    while_exists: str = ""


@register
class Crash(Operator):
    """Kills its own worker process with SIGKILL, as an out-of-memory kill would."""

    name = "test.crash"
    label = "Crash (test)"
    category = "transform"
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = CrashParams
    reuse_output = False

    def run(self, ctx: Context, params: CrashParams, table: pd.DataFrame) -> dict:
        if not params.while_exists or Path(params.while_exists).exists():
            os.kill(os.getpid(), signal.SIGKILL)
        return {"table": table}


class FlakyParams(Params):
    counter: str  # a file counting the attempts
    fail_times: int = 1


@register
class Flaky(Operator):
    """Raises a passing fault (a refused connection) on its first `fail_times` attempts."""

    name = "test.flaky"
    label = "Flaky (test)"
    category = "transform"
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = FlakyParams
    example = {"counter": "/tmp/attempts"}
    reuse_output = False

    def run(self, ctx: Context, params: FlakyParams, table: pd.DataFrame) -> dict:
        path = Path(params.counter)
        attempt = int(path.read_text()) + 1 if path.exists() else 1
        path.write_text(str(attempt))
        if attempt <= params.fail_times:
            raise ConnectionRefusedError(f"attempt {attempt}: the service refused")
        return {"table": table}


class SpinParams(Params):
    marker: str = ""


@register
class DuckdbSpin(Operator):
    """Keeps a core busy inside DuckDB (native code a Python exception cannot reach) until
    interrupted through ctx.on_interrupt: what a heavy SQL node looks like to the engine."""

    name = "test.duckdb_spin"
    label = "DuckDB spin (test)"
    category = "transform"
    inputs = (Port("table", "table"),)
    outputs = (Port("table", "table"),)
    Params = SpinParams
    reuse_output = False

    def run(self, ctx: Context, params: SpinParams, table: pd.DataFrame) -> dict:
        import duckdb

        con = duckdb.connect()
        con.execute("SET threads = 1")
        if params.marker:
            Path(params.marker).write_text(str(os.getpid()))
        with ctx.on_interrupt(con.interrupt):
            con.execute("SELECT count(*) FROM range(1000000000000) t(x) WHERE x % 7 = 3")
        return {"table": table}


class UnreachableSourceParams(Params):
    # While this file exists, the source cannot be reached when a run starts.
    while_exists: str


@register
class UnreachableSource(Operator):
    """A source whose data version is asked of an outside system when a run starts (as a
    registered model's alias is): a refused connection while ``while_exists`` exists."""

    name = "test.unreachable_source"
    label = "Unreachable source (test)"
    category = "connector"
    outputs = (Port("table", "table"),)
    Params = UnreachableSourceParams
    example = {"while_exists": "/tmp/down"}

    def fingerprint(self, ctx: Context, params: UnreachableSourceParams) -> str:
        if Path(params.while_exists).exists():
            raise ConnectionRefusedError("the source refused the connection")
        return "v1"

    def run(self, ctx: Context, params: UnreachableSourceParams) -> dict:
        return {"table": pd.DataFrame({"x": [1, 2, 3]})}

    def infer_schema(self, ctx: Context, params: UnreachableSourceParams) -> dict:
        return {"table": [{"name": "x", "type": "int"}]}
