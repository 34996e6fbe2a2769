from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from email.utils import format_datetime

import httpx
import pytest

from operators import LocalContext
from operators.actions import http

from .local_http import JsonHandler, serve


class Counter(JsonHandler):
    hits = 0

    def do_GET(self) -> None:
        Counter.hits += 1
        self.reply(400 if self.path == "/bad" else 500, {"error": "no"})


@pytest.fixture
def server() -> Iterator[str]:
    Counter.hits = 0
    with serve(Counter) as url:
        yield url


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert http.retry_after("120") == 120.0
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    assert 25 <= (http.retry_after(format_datetime(soon, usegmt=True)) or 0) <= 30
    past = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert http.retry_after(format_datetime(past, usegmt=True)) == 0.0
    assert http.retry_after("soon") is None and http.retry_after(None) is None


def test_a_client_error_is_not_retried(server: str) -> None:
    waits: list[float] = []
    policy = http.RetryPolicy(retries=3, sleep=waits.append)
    with http.new_client(5) as client:
        response = http.request(client, "GET", f"{server}/bad", ctx=LocalContext(
            url_allowlist=["127.0.0.1"]), field="url", policy=policy)
    assert response.status_code == 400 and Counter.hits == 1 and waits == []


def test_a_server_error_is_retried_with_doubling_waits_and_then_returned(server: str) -> None:
    waits: list[float] = []
    policy = http.RetryPolicy(retries=3, backoff=0.5, max_wait=1.5, sleep=waits.append)
    with http.new_client(5) as client:
        response = http.request(client, "GET", f"{server}/down", ctx=LocalContext(
            url_allowlist=["127.0.0.1"]), field="url", policy=policy)
    assert response.status_code == 500 and Counter.hits == 4
    assert waits == [0.5, 1.0, 1.5]  # the third wait would be 2.0: capped


def test_a_policy_without_bounds_is_refused() -> None:
    with pytest.raises(ValueError, match="retries must be 0-10"):
        http.RetryPolicy(retries=11)
    with pytest.raises(ValueError, match="max_wait 0-300 seconds"):
        http.RetryPolicy(max_wait=301)


def test_a_quoted_secret_is_redacted_from_a_description() -> None:
    response = httpx.Response(401, text="bad token abc-SECRET   given")
    assert http.describe(response, ["abc-SECRET", ""]) == "HTTP 401: bad token *** given"
