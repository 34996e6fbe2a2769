"""Rate limits: failed logins per user name and address, predictions per caller. Counted in
Django's cache (CACHE_URL: Redis in production, so every web process shares the counts)."""
from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from rest_framework.throttling import BaseThrottle

LOGIN_WINDOW_SECONDS = 15 * 60


def _login_key(request: HttpRequest) -> str:
    username = str(request.POST.get("username", "")).lower()[:150]
    return f"login-failures:{request.META.get('REMOTE_ADDR', '')}:{username}"


class ThrottledLoginView(auth_views.LoginView):
    """Django's login, refusing further tries after too many failures in 15 minutes."""

    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key = _login_key(request)
        limit = settings.DATAGRAN["LOGIN_FAILURES_LIMIT"]
        if cache.get(key, 0) >= limit:
            return HttpResponse(f"Too many failed logins: wait {LOGIN_WINDOW_SECONDS // 60} "
                                "minutes and try again.", status=429,
                                content_type="text/plain")
        response = super().post(request, *args, **kwargs)
        if response.status_code != 302:  # the form came back: a failed attempt
            cache.add(key, 0, LOGIN_WINDOW_SECONDS)
            cache.incr(key)
        else:
            cache.delete(key)
        return response


class PredictThrottle(BaseThrottle):
    """Per caller limit on the predict endpoint: DATAGRAN_PREDICT_RATE, e.g. 6000/min.

    A sliding window estimated from two fixed-window counts, this window's and the last one's
    weighted by how much of it the sliding window still covers: one round trip to Redis a
    request. DRF's own rate throttle keeps the time of every request in the window and reads
    and rewrites that list on each one (6,000 floats at the default rate)."""

    UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

    def allow_request(self, request: Any, view: Any) -> bool:
        rate = settings.DATAGRAN["PREDICT_RATE"]
        if not rate:
            return True
        count, unit = rate.split("/")
        limit, window = int(count), self.UNITS[unit[0]]
        index, into = divmod(time.time(), window)
        who = request.user.pk if request.user.is_authenticated else self.get_ident(request)
        last, this = (f"predict-rate:{who}:{window}:{int(index) + i}" for i in (-1, 0))
        previous, current = _count(last, this, ttl=2 * window + 1)
        current -= 1  # the requests before this one
        if previous * (1 - into / window) + current >= limit:
            cache.decr(this)
            # When the estimate falls below the limit again: the last window's weight shrinks
            # as time passes; this window's count only goes when the window does.
            self._wait = (window - into if current >= limit else
                          max(0.0, window * (1 - (limit - current) / previous) - into))
            return False
        return True

    def wait(self) -> float:
        return self._wait


def _count(last: str, this: str, *, ttl: int) -> tuple[int, int]:
    """Counts one more under ``this``: (the count under ``last``, the count under ``this``)."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):  # in one round trip
        keys = [backend.make_and_validate_key(k) for k in (last, this)]
        with backend._cache.get_client(keys[1], write=True).pipeline(transaction=False) as pipe:
            pipe.get(keys[0])
            pipe.incr(keys[1])
            pipe.expire(keys[1], ttl)
            previous, current, _ = pipe.execute()
        return int(previous or 0), int(current)
    current = 1 if backend.add(this, 1, timeout=ttl) else backend.incr(this)
    return backend.get(last, 0), current
