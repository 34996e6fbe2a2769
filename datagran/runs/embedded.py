"""The embedded default: Dramatiq worker threads inside the ASGI server process.

They start with the first request (the moment the server's event loop is known), publish
events on that loop, and first re-send what a previous server process left unfinished."""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import dramatiq
from asgiref.sync import sync_to_async
from django.conf import settings

from . import publish

log = logging.getLogger(__name__)


def start_worker() -> dramatiq.Worker:
    from .dispatch import actors_declare

    actors_declare()
    worker = dramatiq.Worker(dramatiq.get_broker(),
                             worker_threads=settings.DATAGRAN["EMBEDDED_WORKER_THREADS"],
                             worker_timeout=100)
    worker.start()
    return worker


class EmbeddedWorker:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.worker: dramatiq.Worker | None = None
        self._lock = threading.Lock()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if self.worker is None and scope["type"] in ("http", "websocket"):
            await self._start()
        return await self.app(scope, receive, send)

    async def _start(self) -> None:
        with self._lock:
            if self.worker is not None:
                return
            publish.use_loop(asyncio.get_running_loop())
            self.worker = start_worker()
        from .recovery import run_recover

        resent = await sync_to_async(run_recover)()
        if resent:
            log.warning("re-sent %d nodes left unfinished by the previous server", resent)
        threading.Thread(target=_scheduler_loop, name="datagran-scheduler", daemon=True).start()


def _scheduler_loop() -> None:
    """The embedded default's scheduler: what `manage.py scheduler` does in production."""
    from datagran.schedules.ticks import ticks_run

    ticks_run(interval=1.0)
