"""Response headers every page gets."""
from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# What the pages load: the Vite build's scripts and styles from this server; styles also
# inline (the sign-in pages' <style>, Swagger UI's, and style attributes that charts and the
# canvas write into HTML); data: images (the favicon, icons); the API and the websocket on
# this origin. Nothing else: no inline or eval'd script, no plugin, no framing.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
