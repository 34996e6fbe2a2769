"""Websocket authentication: the browser's session, or the same `Authorization: Token` header
the API takes; and an Origin check for browsers."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.routing import URLRouter
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host
from django.urls import re_path

from datagran.workspaces.tokens import token_user


@database_sync_to_async
def _token_user(key: str) -> Any:
    """A personal API token's user or a DRF token's (revoked or unknown: anonymous)."""
    found = token_user(key)
    return AnonymousUser() if found is None else found[0]


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        header = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin1")
        if header.startswith("Token "):
            scope = {**scope, "user": await _token_user(header[6:].strip())}
        return await super().__call__(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """A browser always sends Origin, and it must be the page's own origin (the scheme, host
    and port it asked this server for, the host one of ALLOWED_HOSTS) or one of
    CSRF_TRUSTED_ORIGINS, compared on scheme, host and port as Django's CSRF check does.
    Other clients send none and must authenticate with a token (they carry no victim's
    cookies)."""

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        origin = dict(scope.get("headers", [])).get(b"origin")
        if origin is None or self.allowed(urlparse(origin.decode("latin1")), scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    def allowed(self, origin: Any, scope: dict) -> bool:
        try:
            return any(self.match_allowed_origin(origin, allowed)
                       for allowed in allowed_origins(scope))
        except ValueError:  # a port that is not a number
            return False


def allowed_origins(scope: dict) -> list[str]:
    """The origins a socket opened with this handshake may come from: its own, and the
    trusted ones (Django's `https://*.example.com` written as channels' `.example.com`)."""
    headers = dict(scope.get("headers", []))
    host = headers.get(b"host", b"").decode("latin1")
    secure = scope.get("scheme") in ("wss", "https")
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:  # behind a TLS-terminating proxy trusted with X-Forwarded-Proto
        name = proxy[0].removeprefix("HTTP_").replace("_", "-").lower().encode("latin1")
        secure = headers.get(name, b"").decode("latin1").split(",")[0].strip() == proxy[1]
    domain, _ = split_domain_port(host)
    own = ([f"{'https' if secure else 'http'}://{host}"]
           if domain and validate_host(domain, settings.ALLOWED_HOSTS) else [])
    return own + [origin.replace("://*.", "://.") for origin in settings.CSRF_TRUSTED_ORIGINS]


def websocket_stack(inner: Any) -> Any:
    if isinstance(inner, URLRouter):
        # A path no route matches is refused at the handshake (HTTP 403), as a bad Origin
        # is, instead of URLRouter raising an error for every such probe.
        inner = URLRouter([*inner.routes, re_path(r"", WebsocketDenier.as_asgi())])
    return BrowserOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(inner)), [])
