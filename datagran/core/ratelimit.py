"""Rate limits: failed logins per user name and client address, predictions per caller.
Counted in Django's cache (CACHE_URL: Redis in production, so every web process shares the
counts) with atomic increments: parallel requests never all read the same count."""
from __future__ import annotations

import functools
import ipaddress
import threading
import time
import unicodedata
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from rest_framework.throttling import BaseThrottle

from datagran.core.env import parse_rate

LOGIN_WINDOW_SECONDS = 15 * 60
TOO_MANY_LOGINS = (f"Too many failed logins for this user name from your address: wait "
                   f"{LOGIN_WINDOW_SECONDS // 60} minutes and try again.")


def client_address(request: HttpRequest) -> str:
    """The client's address: the connection's, or, behind proxies named by
    DATAGRAN_TRUSTED_PROXIES, the right-most address in X-Forwarded-For that is not one of
    them (addresses to its left are whatever the client chose to send)."""
    trusted = settings.DATAGRAN["TRUSTED_PROXIES"]
    remote = request.META.get("REMOTE_ADDR", "")
    if not trusted:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    chain = [a for a in forwarded if a] + [remote]
    if isinstance(trusted, int):  # that many proxies, each appending the address it saw
        return chain[max(0, len(chain) - 1 - trusted)]
    for address in reversed(chain):
        if not _is_trusted(address, trusted):
            return address
    return chain[0]


def _is_trusted(address: str, networks: tuple[Any, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def hit(key: str, *, ttl: int) -> int:
    """One more under ``key`` (created with ``ttl``): the count including this one, counted
    atomically (Redis INCR, or the memory cache's lock)."""
    backend = caches["default"]
    for _ in range(3):  # the key may expire between add and incr
        if backend.add(key, 1, timeout=ttl):
            return 1
        try:
            return backend.incr(key)
        except ValueError:
            continue
    return backend.incr(key)


def throttle_logins(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap a login view (the app's and the admin's share the limit and the counter): each
    POST counts as an attempt before the password is checked, so of N parallel tries at most
    DATAGRAN_LOGIN_FAILURES_LIMIT are checked; a successful login clears the count."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        # As the form reads it (NFKC: a full-width "ａｌｉｃｅ" signs in as alice), any case.
        username = unicodedata.normalize("NFKC", str(request.POST.get("username", ""))
                                         ).casefold()[:150]
        key = f"login-failures:{client_address(request)}:{username}"
        if hit(key, ttl=LOGIN_WINDOW_SECONDS) > settings.DATAGRAN["LOGIN_FAILURES_LIMIT"]:
            return HttpResponse(TOO_MANY_LOGINS, status=429, content_type="text/plain",
                                headers={"Retry-After": str(LOGIN_WINDOW_SECONDS)})
        response = view(request, *args, **kwargs)
        user = getattr(request, "user", None)
        # Signed in as that name by this request (not merely a signed-in user posting some
        # other name, which must not reset that name's count).
        if user is not None and user.is_authenticated and (
                user.get_username().casefold() == username):
            caches["default"].delete(key)
        return response

    return wrapped


class PredictThrottle(BaseThrottle):
    """Per caller limit on the predict endpoint: DATAGRAN_PREDICT_RATE, e.g. 6000/min.

    A sliding window estimated from two fixed-window counts, this window's and the last one's
    weighted by how much of it the sliding window still covers: one round trip to Redis a
    request. DRF's own rate throttle keeps the time of every request in the window and reads
    and rewrites that list on each one (6,000 floats at the default rate)."""

    def allow_request(self, request: Any, view: Any) -> bool:
        rate = parse_rate(settings.DATAGRAN["PREDICT_RATE"])  # checked at start-up; cached
        if rate is None:
            return True
        limit, window = rate
        index, into = divmod(time.time(), window)
        who = request.user.pk if request.user.is_authenticated else self.get_ident(request)
        last, this = (f"predict-rate:{who}:{window}:{int(index) + i}" for i in (-1, 0))
        previous, current = _count(last, this, ttl=2 * window + 1)
        current -= 1  # the requests before this one
        if previous * (1 - into / window) + current >= limit:
            caches["default"].decr(this)
            # When the estimate falls below the limit again: the last window's weight shrinks
            # as time passes; this window's count only goes when the window does.
            self._wait = (window - into if current >= limit else
                          max(0.0, window * (1 - (limit - current) / previous) - into))
            return False
        return True

    def get_ident(self, request: Any) -> str:
        return client_address(request)

    def wait(self) -> float:
        return self._wait


def _count(last: str, this: str, *, ttl: int) -> tuple[int, int]:
    """Counts one more under ``this``: (the count under ``last``, the count under ``this``)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):  # in one round trip
        keys = [backend.make_and_validate_key(k) for k in (last, this)]
        with _writer(backend).pipeline(transaction=False) as pipe:
            pipe.get(keys[0])
            pipe.incr(keys[1])
            pipe.expire(keys[1], ttl)
            previous, current, _ = pipe.execute()
        return int(previous or 0), int(current)
    return backend.get(last, 0), hit(this, ttl=ttl)


_writers: dict[str, Any] = {}
_writers_guard = threading.Lock()


def _writer(backend: RedisCache) -> Any:
    """A client for the backend's server, made once per process. Django keeps cache
    backends per request context under ASGI, so each request got a new backend, a new
    connection pool and a new connection to Redis (and ``get_client`` builds a new
    redis.Redis on every call): ~0.2 ms of every prediction. A client is thread-safe."""
    key = repr((backend._servers, sorted(backend._options.items())))
    client = _writers.get(key)
    if client is None:
        with _writers_guard:
            client = _writers.get(key)
            if client is None:
                client = _writers[key] = backend._cache.get_client(write=True)
    return client
