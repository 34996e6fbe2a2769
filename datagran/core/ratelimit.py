"""Rate limits: failed logins per user name and address, predictions per caller. Counted in
Django's cache (CACHE_URL: Redis in production, so every web process shares the counts)."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from rest_framework.throttling import ScopedRateThrottle

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


class PredictThrottle(ScopedRateThrottle):
    """Per user (token) limit on the predict endpoint: DATAGRAN_PREDICT_RATE, e.g. 600/min."""

    scope_attr = "throttle_scope"

    def get_rate(self) -> str | None:
        return settings.DATAGRAN["PREDICT_RATE"] or None
