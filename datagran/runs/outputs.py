"""Outputs of succeeded nodes, remembered per process. A succeeded node's outputs never
change (only running or queued nodes are ever re-run), so the nodes that read them next,
a successor this worker continues with or the many children of a fan-out, skip the query."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

REMEMBERED = 4096

_outputs: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
_lock = threading.Lock()


def remember(run_id: object, node_id: str, outputs: dict[str, Any]) -> None:
    with _lock:
        _outputs[(str(run_id), node_id)] = outputs
        _outputs.move_to_end((str(run_id), node_id))
        while len(_outputs) > REMEMBERED:
            _outputs.popitem(last=False)


def recall(run_id: object, node_id: str) -> dict[str, Any] | None:
    with _lock:
        return _outputs.get((str(run_id), node_id))
