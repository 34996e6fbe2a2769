"""Fetching a saved connection and making sure it is of a kind the operator can use."""
from __future__ import annotations

from typing import TypeVar

from ..base import Context, OperatorError
from ..connections import KINDS, ConnectionConfig

T = TypeVar("T", bound=ConnectionConfig)
_KIND_OF = {model: kind for kind, model in KINDS.items()}


def load_connection(ctx: Context, connection_id: str, *models: type[T]) -> T:
    """The connection as one of ``models``; OperatorError(field="connection") otherwise.
    The context checks the kind too, but the operator picks its SQL dialect or its auth
    header from the model, so it does not rely on that."""
    kinds = [_KIND_OF[m] for m in models]
    conn = ctx.connection(connection_id, kinds if len(kinds) > 1 else kinds[0])
    if not isinstance(conn, models):
        raise OperatorError(f"Connection {connection_id!r} is not a {' or '.join(kinds)} "
                            "connection.", field="connection")
    return conn
