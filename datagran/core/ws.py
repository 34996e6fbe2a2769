"""Websocket authentication: the browser's session, or the same `Authorization: Token` header
the API takes; and an Origin check for browsers."""
from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host
from rest_framework.authtoken.models import Token


@database_sync_to_async
def _token_user(key: str) -> Any:
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        header = dict(scope.get("headers", [])).get(b"authorization", b"").decode("latin1")
        if header.startswith("Token "):
            scope = {**scope, "user": await _token_user(header[6:].strip())}
        return await super().__call__(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """A browser always sends Origin, and its host must be one of ALLOWED_HOSTS. Other clients
    send none and must authenticate with a token (they carry no victim's cookies)."""

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        host = parsed_origin.hostname or ""
        return bool(host) and validate_host(host, settings.ALLOWED_HOSTS)


def websocket_stack(inner: Any) -> Any:
    return BrowserOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(inner)), [])
