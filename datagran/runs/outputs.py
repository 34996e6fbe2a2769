"""Outputs of succeeded nodes, remembered per process. A succeeded node's outputs never
change (only running or queued nodes are ever re-run), so the nodes that read them next,
a successor this worker continues with or the many children of a fan-out, skip the query."""
from __future__ import annotations

from typing import Any

from datagran.core.lru import Lru

_outputs = Lru(4096)


def remember(run_id: object, node_id: str, outputs: dict[str, Any]) -> None:
    _outputs.put((str(run_id), node_id), outputs)


def recall(run_id: object, node_id: str) -> dict[str, Any] | None:
    return _outputs.get((str(run_id), node_id))
