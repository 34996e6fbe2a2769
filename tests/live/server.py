"""A real Datagran server for tests: daphne serving the app from a fresh data folder, and, in
production mode, `manage.py rundramatiq` worker processes against real Redis or RabbitMQ and
PostgreSQL on loopback. Used by the live tests and the browser tests."""
from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    """mode: "embedded" (SQLite, in-process worker), "redis" or "rabbitmq" (+ PostgreSQL)."""

    mode: str = "embedded"
    workers: int = 2
    schedulers: int = 0
    # Above 1: daphne in that many processes behind the port (manage.py serve).
    web_processes: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    token: str = ""
    procs: list[subprocess.Popen] = field(default_factory=list)
    worker_procs: dict[int, subprocess.Popen] = field(default_factory=dict)
    restarts: int = 0
    database: str | None = None
    _supervising: bool = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> LiveServer:
        self.tmp = tempfile.TemporaryDirectory(prefix="datagran-live-")
        self.env = {**os.environ, "DATAGRAN_DATA_DIR": self.tmp.name, "PYTHONUNBUFFERED": "1",
                    "SECRET_KEY": SECRET_KEY, "DEBUG": "0"}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        if self.mode != "embedded":
            self._production_env()
        self.env.update(self.extra_env)
        self.token = _prepared(self.tmp.name, self.database)
        if self.mode != "embedded":
            for i in range(self.workers):
                self.start_worker(i)
            for i in range(self.schedulers):
                self._spawn(f"scheduler{i}", [sys.executable, "manage.py", "scheduler",
                                              "--interval", "0.5"])
        if self.web_processes > 1:
            self._spawn("daphne", [sys.executable, "manage.py", "serve", "--processes",
                                   str(self.web_processes), "--port", str(self.port)])
        else:
            self._spawn("daphne", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p",
                                   str(self.port), "datagran.asgi:application"])
        self._wait_until_up()
        if self.mode != "embedded":
            # Production runs workers under a supervisor that restarts them (the worker CLI
            # exits when one of its processes dies): so does this test server.
            self._supervising = True
            threading.Thread(target=self._supervise, daemon=True).start()
        return self

    def start_worker(self, i: int) -> None:
        self.worker_procs[i] = self._spawn(f"worker{i}", [
            sys.executable, "manage.py", "rundramatiq", "--processes", "1", "--threads", "2"])

    def _supervise(self) -> None:
        while self._supervising:
            for i, proc in list(self.worker_procs.items()):
                if proc.poll() is not None and self._supervising:
                    self.restarts += 1
                    self.start_worker(i)
            time.sleep(0.2)

    def stop(self) -> None:
        self._supervising = False
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if self.database:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self.tmp.cleanup()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _production_env(self) -> None:
        import redis

        self.database = f"datagran_live_{uuid.uuid4().hex[:10]}"
        redis.Redis.from_url(f"{REDIS_URL}/12").flushdb()
        self.env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{self.database}"
        self.env["CHANNEL_LAYER_URL"] = f"{REDIS_URL}/12"
        self.env["CACHE_URL"] = f"{REDIS_URL}/12"  # rate-limit counters, as the README has it
        if self.mode == "redis":
            redis.Redis.from_url(f"{REDIS_URL}/11").flushdb()
            self.env["BROKER_URL"] = f"{REDIS_URL}/11"
        else:
            self.env["BROKER_URL"] = RABBITMQ_URL
        self.env["dramatiq_worker_timeout"] = "100"  # see LIMITS: idle Redis polls back off

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        log = open(Path(self.tmp.name) / f"{name}.log", "ab")
        worker = "rundramatiq" in cmd or "runworkers" in cmd
        env = {**self.env, "DATAGRAN_WORKER_PROCESS": "1"} if worker else self.env
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        path = Path(self.tmp.name) / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError("a server process exited:\n" + self.log("daphne")
                                   + self.log("worker0"))
            try:
                self.api("GET", "/api/operators/")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout} s")

    # --- talking to it -----------------------------------------------------------------------
    def manage(self, *args: str) -> str:
        return _manage(self.env, *args)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers={
            "Authorization": f"Token {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def api(self, method: str, path: str, body: Any = None) -> Any:
        status, content = self.request(method, path, body)
        if status >= 400:
            raise AssertionError(f"{method} {path} -> {status}: {content[:500]!r}")
        return json.loads(content) if content else None


# --- a migrated data folder and database with the demo, made once per test process ---------
# Every live server starts from the same state: the migrated schema, the demo workspace and an
# API token. Making it (three Django start-ups: migrate, demo_setup, create_api_token) took
# 13 s on a quiet machine and 30-50 s beside the other test stream, for each of the ~35
# servers of `make test`; it is made once per process and each server gets a copy (the data
# folder copied, the PostgreSQL database created from a template database). No server's
# extra_env changes what these commands write.

_templates: dict[str, tuple[str, str]] = {}  # "sqlite" | "postgres" -> (data folder, token)
# One per test process, the template's and every server's: the demo's HubSpot connection
# is stored encrypted with a key derived from it.
SECRET_KEY = "live-test-" + uuid.uuid4().hex


def _template_database() -> str:
    return f"datagran_live_template_{os.getpid()}"


def _drop_template_databases() -> None:
    """Drop this process's template database and every one whose process is gone (before
    making this process's, where a reused process id may have left one, and at exit)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'datagran_live_template_%'")]
        for name in names:
            pid = int(name.rsplit("_", 1)[1])
            if pid == os.getpid() or not _alive(pid):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        pass
    return True


def _prepared(data_dir: str, database: str | None) -> str:
    """Fill `data_dir` (and create `database`, in production mode) from the template; return
    the demo user's API token."""
    kind = "postgres" if database else "sqlite"
    if kind not in _templates:
        folder = tempfile.mkdtemp(prefix=f"datagran-live-template-{kind}-")
        atexit.register(shutil.rmtree, folder, True)
        env = {**os.environ, "DATAGRAN_DATA_DIR": folder, "DEBUG": "0",
               "SECRET_KEY": SECRET_KEY}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        if database:
            import psycopg

            _drop_template_databases()
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{_template_database()}"')
            atexit.register(_drop_template_databases)
            env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{_template_database()}"
        for args in (("migrate", "-v0"), ("demo_setup",)):
            _manage(env, *args)
        token = _manage(env, "create_api_token", "demo").strip().splitlines()[-1]
        _templates[kind] = (folder, token)
    folder, token = _templates[kind]
    shutil.copytree(folder, data_dir, dirs_exist_ok=True)
    if database:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}" TEMPLATE "{_template_database()}"')
    return token


def _manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


# --- runs through the API ------------------------------------------------------------------

def pipeline_ids(server: LiveServer) -> dict[str, str]:
    return {p["name"]: p["id"] for p in server.api("GET", "/api/pipelines/")}


def wait_run(server: LiveServer, run_id: str, timeout: float = 90) -> dict[str, Any]:
    """Poll the API until the run has finished; return its JSON."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = server.api("GET", f"/api/runs/{run_id}/")
        if run["status"] in ("succeeded", "failed", "cancelled"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish within {timeout} s")


def start_run(server: LiveServer, pipeline_id: str, *, force: bool = False,
              wait: bool = True) -> dict[str, Any]:
    body = {"force": True} if force else {}
    run = server.api("POST", f"/api/pipelines/{pipeline_id}/runs/", body)
    return wait_run(server, run["id"]) if wait else run
