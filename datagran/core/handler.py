"""Django's ASGI handler with the whole middleware chain and the view in one thread.

Django runs a middleware chain in async mode under ASGI, and each `MiddlewareMixin`
middleware then calls its `process_request` and `process_response` through `sync_to_async`:
about fourteen hops between the event loop and a thread per request, before the (sync) view
takes one more. Profiling a one-row prediction under daphne showed the event loop spending
three times the view's own CPU time on that. Every middleware and view here is synchronous, so
this handler builds the chain in sync mode and enters it once, in the request's thread."""
from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)

    async def get_response_async(self, request: Any) -> Any:
        # BaseHandler.get_response: the URLconf, the chain, closing the request, logging 4xx/5xx.
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
