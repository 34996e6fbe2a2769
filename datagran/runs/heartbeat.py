"""While a node runs, a thread beats for it in the database. If the node was cancelled
meanwhile, the thread interrupts the operator (as Dramatiq's time limit does), so cancel
stops running work promptly instead of letting it finish for nothing."""
from __future__ import annotations

import threading
from types import TracebackType

from django.conf import settings
from django.db import connection
from django.utils import timezone
from dramatiq.threading import raise_thread_exception

from .models import NodeRun, NodeStatus


class NodeInterrupted(BaseException):
    """Raised inside the worker thread when its node is no longer running (cancelled).
    A BaseException, so operators' `except Exception` cannot swallow it."""


class Heartbeat:
    def __init__(self, node_pk: int) -> None:
        self.node_pk = node_pk
        self.target = threading.get_ident()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{node_pk}",
                                       daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with self.lock:
            self.done = True
        self.stop.set()

    def _beat(self) -> None:
        interval = settings.DATAGRAN["HEARTBEAT_SECONDS"]
        try:
            while not self.stop.wait(interval):
                alive = NodeRun.objects.filter(pk=self.node_pk, status=NodeStatus.RUNNING
                                               ).update(heartbeat_at=timezone.now())
                if not alive:
                    with self.lock:
                        if not self.done:
                            raise_thread_exception(self.target, NodeInterrupted)
                    return
        except Exception:  # noqa: BLE001 - the database is away; the reaper decides later
            return
        finally:
            connection.close()
