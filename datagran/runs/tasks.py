"""Dramatiq actors: thin, they take ids and call a service. Discovered by rundramatiq."""
from __future__ import annotations

import dramatiq

from .services import node_execute

NODE_TIME_LIMIT_MS = 60 * 60 * 1000


@dramatiq.actor(queue_name="datagran", max_retries=0, time_limit=NODE_TIME_LIMIT_MS)
def execute_node_task(run_id: str, node_id: str) -> None:
    node_execute(run_id=run_id, node_id=node_id)
