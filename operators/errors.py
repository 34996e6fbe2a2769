"""Datagran's one error family, importable without Django (in the spirit of dramatiq's
``errors.py``).

Two branches under one base:

* ``PermanentError``: bad input or state. Retrying cannot fix it; a worker fails the node.
* ``RetryableError``: a passing fault (a broker or network hiccup). Retrying may fix it.

Every error carries a ``message`` for people and a ``status``, the HTTP status the web core
answers with (datagran/core/exceptions.py maps the family to HTTP in one place). The body is
always ``{"message": str, "extra": {...}}`` where ``extra`` holds only

* ``fields``: ``{field: [messages]}``, produced by ``FieldError`` (and its subclasses), and/or
* ``errors``: ``[{"node", "field", "message"}]``, produced by ``GraphError``.

Those two classes are the only way to put something in ``extra``.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, TypedDict


class NodeProblem(TypedDict):
    """One problem of a pipeline graph, placed on a node and one of its fields."""

    node: str | None
    field: str | None
    message: str


class DatagranError(Exception):
    """The base of every error Datagran raises on purpose."""

    status: ClassVar[int] = 400
    retryable: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        #: The parameter or request field at fault, if one is (the canvas shows it there).
        self.field: str | None = None

    @property
    def extra(self) -> dict[str, Any]:
        return {}

    def as_body(self) -> dict[str, Any]:
        """The response body: ``{"message", "extra"}``."""
        return {"message": self.message, "extra": self.extra}


class PermanentError(DatagranError):
    """Bad input or state: retrying cannot fix it."""


class RetryableError(DatagranError):
    """A passing fault: retrying may fix it."""

    status = 503
    retryable = True


class FieldError(PermanentError):
    """Request fields or operator params at fault: ``fields={field: [messages]}``.

    A single message may be given as a string. ``field`` is the first field named."""

    def __init__(self, message: str,
                 fields: Mapping[str, Iterable[str] | str] | None = None) -> None:
        super().__init__(message)
        self.fields: dict[str, list[str]] = {
            name: [messages] if isinstance(messages, str) else [str(m) for m in messages]
            for name, messages in (fields or {}).items()}
        self.field = next(iter(self.fields), None)

    @property
    def extra(self) -> dict[str, Any]:
        return {"fields": self.fields} if self.fields else {}


class GraphError(PermanentError):
    """A pipeline graph at fault: ``errors=[{"node", "field", "message"}]``, every problem
    placed on its node and field."""

    def __init__(self, message: str, errors: Iterable[Mapping[str, Any]] = ()) -> None:
        super().__init__(message)
        self.errors: list[NodeProblem] = [
            NodeProblem(node=e.get("node"), field=e.get("field"), message=str(e["message"]))
            for e in errors]
        self.field = self.errors[0]["field"] if self.errors else None

    @property
    def extra(self) -> dict[str, Any]:
        return {"errors": list(self.errors)} if self.errors else {}


class NotFound(FieldError):
    """The thing asked for does not exist (or the caller may not know it does)."""

    status = 404


class Forbidden(FieldError):
    """The caller may see the thing but not do this to it."""

    status = 403


class Conflict(FieldError):
    """The request contradicts the current state."""

    status = 409


class Unavailable(RetryableError):
    """Something the request needs is not ready or not reachable now."""


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what caused it, outermost first (``__cause__``, else ``__context__``),
    each once: where a library wraps the error that says what really went wrong."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
