"""The one way connectors and actions call web APIs: every connection checked against private
addresses and made to the address that was checked, a timeout on every request, redirects not
followed, and retries with exponential backoff on 429 and 5xx that honour Retry-After (capped,
so a server cannot park a worker)."""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from ..base import Context, OperatorError
from ..net import resolve

Sleep = Callable[[float], None]
MAX_RETRIES = 10
MAX_WAIT_SECONDS = 300.0


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    backoff: float = 1.0  # the first wait; it doubles on each retry
    max_wait: float = 60.0  # cap on any single wait, Retry-After included
    # None waits with this module's pause(); tests inject a function that does not sleep.
    sleep: Sleep | None = dataclasses.field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.retries <= MAX_RETRIES or not 0 < self.max_wait <= MAX_WAIT_SECONDS:
            raise ValueError("retries must be 0-10 and max_wait 0-300 seconds")


def pause(seconds: float) -> None:
    time.sleep(seconds)


class HttpFailure(Exception):
    """No answer after every retry (connection refused, timeout, ...). The message names the
    host only, never headers, so it is safe to show."""


def retryable(status: int) -> bool:
    return status == 429 or status >= 500


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def where(url: str) -> str:
    """Host and path of a URL for messages: no query string, no user info."""
    parts = urlsplit(url)
    return f"{parts.hostname or ''}{parts.path}"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced: for messages quoting what a server said, in case
    it echoes a request header back."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


# The request extension that carries (allowlist, field) from request() to the transport.
URL_CHECK = "datagran_url_check"


class CheckedTransport(httpx.HTTPTransport):
    """Resolves each request's host once, refuses it unless every address is public or the
    host is allow-listed, and connects to that very address: a second lookup by the
    connection could answer differently (DNS rebinding). The Host header stays the name and
    TLS verifies the certificate for the name (SNI). A request that does not come through
    request() carries no allowlist and may reach public addresses only."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        extensions = dict(request.extensions)
        allowlist, field = extensions.pop(URL_CHECK, ((), "url"))
        url = request.url
        if url.scheme not in ("http", "https") or not url.raw_host:
            raise OperatorError(f"{url!r} is not an http:// or https:// URL.", field=field)
        host = url.raw_host.decode("ascii")
        address = resolve(host, url.port or (443 if url.scheme == "https" else 80),
                          allowlist=list(allowlist), field=field)
        if url.scheme == "https" and host != address:
            extensions.setdefault("sni_hostname", host)
        pinned = httpx.Request(request.method, url.copy_with(host=address),
                               headers=request.headers, stream=request.stream,
                               extensions=extensions)
        return super().handle_request(pinned)


def new_client(timeout: float) -> httpx.Client:
    # Redirects are not followed: a redirect could lead to an address the check refuses, and
    # would carry custom auth headers to another host.
    return httpx.Client(timeout=timeout, follow_redirects=False, transport=CheckedTransport())


def request(client: httpx.Client, method: str, url: str, *, ctx: Context, field: str,
            policy: RetryPolicy, **kwargs: Any) -> httpx.Response:
    """Send one request, retrying 429/5xx and network failures per ``policy``; return the
    last response (which may still be a 429 or 5xx). Raises OperatorError(field=...) if the
    URL is refused, HttpFailure if the server was never reached.

    Requests that change data are retried too: every caller's request is safe to repeat (an
    upsert, or a webhook batch carrying the same Idempotency-Key)."""
    # The transport checks the address, on every attempt, and connects to the one it checked.
    extensions = {URL_CHECK: (tuple(ctx.url_allowlist), field)}
    for attempt in range(policy.retries + 1):
        last = attempt == policy.retries
        try:
            response = client.request(method, url, extensions=extensions, **kwargs)
        except httpx.TransportError as exc:
            reason = type(exc).__name__
            if last:
                raise HttpFailure(f"Cannot reach {where(url)} ({reason}).") from None
            wait = policy.backoff * 2**attempt
        else:
            if last or not retryable(response.status_code):
                return response
            reason = f"HTTP {response.status_code}"
            suggested = retry_after(response.headers.get("Retry-After"))
            wait = suggested if suggested is not None else policy.backoff * 2**attempt
        wait = min(wait, policy.max_wait)
        ctx.log(f"{method} {where(url)}: {reason}; retry {attempt + 1} of {policy.retries} "
                f"in {wait:g} s.")
        (policy.sleep or pause)(wait)
    raise AssertionError("unreachable: the last attempt returns or raises")


def describe(response: httpx.Response, secrets: Iterable[str] = ()) -> str:
    """"HTTP 400: <the start of the body>" for messages, secrets redacted."""
    text = " ".join(response.text.split())[:300]
    return redact(f"HTTP {response.status_code}" + (f": {text}" if text else ""), secrets)
