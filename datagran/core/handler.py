"""Django's ASGI handler with the whole middleware chain and the view in one thread, and
that thread kept for later requests.

Django runs a middleware chain in async mode under ASGI, and each `MiddlewareMixin`
middleware then calls its `process_request` and `process_response` through `sync_to_async`:
about fourteen hops between the event loop and a thread per request, before the (sync) view
takes one more. Profiling a one-row prediction under daphne showed the event loop spending
three times the view's own CPU time on that. Every middleware and view here is synchronous, so
this handler builds the chain in sync mode and enters it once, in the request's thread.

Django also starts a new thread for each request (a `ThreadSensitiveContext` of its own) and
joins it afterwards; a fresh thread made a one-row prediction 0.3 ms slower than one run in a
thread that had served before (thread-local set-up in NumPy and scikit-learn), on top of
starting and joining it. Here each request still gets a thread to itself, but from a pool of
idle ones. Database connections are unaffected: Django keeps them per request context, not per
thread, and closes them (or gives them back to the pool) when the request finishes."""
from __future__ import annotations

import asyncio
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler

from .bodylimit import BODY_FILE

IDLE_THREADS_KEPT = 16


class BodyAsFile:
    """``receive`` for a request whose body the server handed over as a file
    (datagran/core/bodylimit.py): Django reads the file instead of copying the body."""

    def __init__(self, receive: Any, body_file: Any) -> None:
        self.receive, self.body_file = receive, body_file

    async def __call__(self) -> Any:
        return await self.receive()


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self._idle: deque[ThreadPoolExecutor] = deque()
        self._running: asyncio.Semaphore | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        body_file = (scope.get("extensions") or {}).get(BODY_FILE)
        if body_file is not None:
            receive = BodyAsFile(receive, body_file)
        # Only the event loop's thread takes and returns threads: no lock.
        executor = (self._idle.pop() if self._idle else
                    ThreadPoolExecutor(max_workers=1, thread_name_prefix="http"))
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            if len(self._idle) < IDLE_THREADS_KEPT:
                self._idle.append(executor)
            else:
                executor.shutdown(wait=False)

    async def read_body(self, receive: Any) -> Any:
        if isinstance(receive, BodyAsFile):
            # The server queued one empty message (or a disconnect, raised from here).
            (await super().read_body(receive.receive)).close()
            return receive.body_file
        return await super().read_body(receive)

    async def get_response_async(self, request: Any) -> Any:
        # BaseHandler.get_response: the URLconf, the chain, closing the request, logging 4xx/5xx.
        if self._running is None:
            self._running = asyncio.Semaphore(settings.DATAGRAN["WEB_THREADS"])
        async with self._running:
            return await sync_to_async(self.get_response, thread_sensitive=True)(request)
