"""Shared fixtures. The API tests run against Django's test client; tests that execute runs
use a real Dramatiq worker (threads over the in-process broker, as in the embedded default)."""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

# The misbehaving operators of the fault-tolerance tests and the changing source of the
# incremental-source tests, loaded as any plugin module is; live servers started by the tests
# inherit this.
os.environ.setdefault("DATAGRAN_OPERATOR_MODULES", "tests.plugins.faults,tests.sources.engine_ops")

# Each test process keeps its own artifact store: the store is content-addressed, so a test
# deleting an artifact (to show it is recomputed) would delete the same table another process's
# test just wrote (the iris sample) and reads next.
if os.environ.get("PYTEST_XDIST_WORKER") and not os.environ.get("DATAGRAN_ARTIFACTS_URL"):
    settings.DATAGRAN["ARTIFACTS_URL"] = str(
        settings.DATA_DIR / f"artifacts-{os.environ['PYTEST_XDIST_WORKER']}")

# Test users' passwords are hashed with MD5: PBKDF2's million rounds cost 0.33 s of CPU for
# each user a test makes (hundreds of tests make one). Hashes made otherwise still check; live
# servers, run as processes, keep the production hashers.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                             *settings.PASSWORD_HASHERS]


@pytest.fixture
def user(db: Any) -> Any:
    return get_user_model().objects.create_user("alice", password="pw-alice-123")


@pytest.fixture
def other_user(db: Any) -> Any:
    return get_user_model().objects.create_user("mallory", password="pw-mallory-123")


def token_client(user: Any) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def api(user: Any) -> APIClient:
    return token_client(user)


@pytest.fixture
def other_api(other_user: Any) -> APIClient:
    return token_client(other_user)


_worker: dramatiq.Worker | None = None
# Pausing a Dramatiq worker stops its consumer, which then sleeps dramatiq's restart delay
# (3 s) before it notices the pause: 3 s of every test that uses `worker`. Patched in this
# process only; live servers keep the default.
dramatiq.worker.CONSUMER_RESTART_DELAY_SECS = 0.05


@pytest.fixture
def worker(transactional_db: Any) -> Iterator[dramatiq.Worker]:
    """Dramatiq worker threads over the in-process broker, as `make run` has them. One worker
    for the session (a broker keeps the middleware of every worker ever made), paused
    between the tests that use it."""
    global _worker
    from datagran.runs import tasks  # noqa: F401

    broker = dramatiq.get_broker()
    broker.flush_all()
    if _worker is None:
        _worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
        _worker.start()
    else:
        _worker.resume()
    yield _worker
    _worker.pause()
    broker.flush_all()


def wait_for_run(run_id: str, timeout: float = 60) -> Any:
    """Poll the database until the run is done; returns the Run."""
    from datagran.runs.models import RUN_DONE, Run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = Run.objects.get(pk=run_id)
        if run.status in RUN_DONE:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish within {timeout} s: {run.status}")


def _uses_live_servers(item: pytest.Item) -> bool:
    path = item.path.as_posix()
    return "/tests/live/" in path or "/tests/e2e/" in path \
        or hasattr(getattr(item, "module", None), "LiveServer")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`make test` runs in two xdist processes (`-n 2 --dist loadgroup`): the tests that start
    live servers or a browser in one, in order, the rest in the other, so the two streams
    share no Redis database, no broker queue and no test table (each stream uses its own)."""
    mark_by_place(items)
    for item in items:
        group = "live" if _uses_live_servers(item) else "rest"
        item.add_marker(pytest.mark.xdist_group(group))


# --- markers (make test-fast) ---
# `make test-fast` leaves out what needs more than this process: `services` (the real
# PostgreSQL, Redis, RabbitMQ, MariaDB), `live` (a live server: daphne and workers started as
# processes) and `e2e` (Chromium). The folders mark their tests here, so a new test there
# cannot be forgotten.
_MARK_BY_FOLDER = {"live": "live", "e2e": "e2e"}


def mark_by_place(items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.relative_to(item.config.rootpath).parts
        mark = _MARK_BY_FOLDER.get(parts[1]) if len(parts) > 2 and parts[0] == "tests" else None
        if mark and not item.get_closest_marker(mark):
            item.add_marker(getattr(pytest.mark, mark))
# --- end of markers ---
