"""Dramatiq actors: thin, they take ids and call a service. Discovered by rundramatiq."""
from __future__ import annotations

import dramatiq
from django.conf import settings

from .execution import node_execute


# Retries are ours (counted in the database, with backoff): Dramatiq's would not count a
# worker killed mid-node, and would retry errors that retrying cannot fix. Each node's time
# limit is enforced by its heartbeat (datagran.runs.heartbeat), which also interrupts native
# work; a message, which may run several nodes of a run, is bounded by RabbitMQ's consumer
# timeout (the node loop never starts a node that could overrun it).
@dramatiq.actor(queue_name="datagran", max_retries=0,
                time_limit=settings.DATAGRAN["RABBITMQ_CONSUMER_TIMEOUT_SECONDS"] * 1000)
def execute_node_task(run_id: str, node_id: str) -> None:
    node_execute(run_id=run_id, node_id=node_id)
