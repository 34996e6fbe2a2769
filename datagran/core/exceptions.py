"""The one place errors become HTTP: every API error is {"message": str, "extra": {...}}, where
``extra`` holds only ``fields`` ({field: [messages]}) and/or ``errors``
([{"node", "field", "message"}]).

The error family itself is in operators/errors.py (importable without Django) and is
re-exported here: DatagranError with a permanent branch (bad input: retrying cannot fix it)
and a retryable one (a passing fault). Actors retry only the retryable branch."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.urls import Resolver404, resolve
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from operators.errors import (
    Conflict,
    DatagranError,
    FieldError,
    Forbidden,
    GraphError,
    NodeProblem,
    NotFound,
    PermanentError,
    RetryableError,
    Unavailable,
)

from .parsers import ERR_TOO_DEEP

__all__ = ["Conflict", "DatagranError", "FieldError", "Forbidden", "GraphError", "NodeProblem",
           "NotFound", "PermanentError", "RetryableError", "Unavailable", "error_body",
           "exception_handler"]

ERR_DATA = "A value in the request cannot be stored or compared by the database: {detail}."


class _Status(DatagranError):
    """An error of Django or DRF, carried into the family with its status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status_code = status


def error_body(exc: DatagranError) -> dict[str, Any]:
    """The response body of ``exc``: ``{"message", "extra"}``."""
    return exc.as_body()


def as_family(exc: Exception) -> DatagranError | None:
    """``exc`` as a member of the family, or None for an error the API does not answer
    (a bug: Django's 500 page)."""
    if isinstance(exc, DatagranError):
        return exc
    if isinstance(exc, RequestDataTooBig):
        return _Status("The request body is larger than the server accepts "
                       f"({settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes).", 413)
    if isinstance(exc, RecursionError):  # input nested deeper than some code can walk
        return PermanentError(ERR_TOO_DEEP)
    if isinstance(exc, DataError):  # a value the database cannot hold or compare (PostgreSQL:
        # a NUL character in a query parameter, a number beyond its column)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid value"
        return PermanentError(ERR_DATA.format(detail=detail))
    if isinstance(exc, DjangoValidationError):  # a model field refusing a value
        return _field_error(exc.message_dict if hasattr(exc, "error_dict") else {
            "non_field_errors": exc.messages})
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, drf_exceptions.ValidationError):
        detail = exc.detail
        return _field_error(detail if isinstance(detail, dict) else {"non_field_errors": detail})
    if isinstance(exc, drf_exceptions.APIException):
        detail = exc.detail.get("detail", "") if isinstance(exc.detail, dict) else exc.detail
        return _Status(str(detail) or "Error.", exc.status_code)
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: the family and Django's and DRF's errors, one shape."""
    error = as_family(exc)
    if error is None:
        return None
    response = drf_exception_handler(exc, context) if isinstance(
        exc, drf_exceptions.APIException) else None
    headers = {k: v for k, v in (response.headers.items() if response else ())
               if k in ("WWW-Authenticate", "Retry-After", "Allow")}
    return Response(error_body(error), status=_status(error), headers=headers)


def _status(error: DatagranError) -> int:
    return getattr(error, "status_code", None) or error.status


def _field_error(detail: dict[str, Any]) -> FieldError:
    """DRF's nested error detail as ``{field: [messages]}``: a nested serializer's field is
    named by its path (``graph.nodes.0.id``)."""
    fields: dict[str, list[str]] = {}
    _flatten(detail, "", fields)
    return FieldError(_first_message(detail), fields)


def _flatten(detail: Any, path: str, out: dict[str, list[str]]) -> None:
    if isinstance(detail, dict):
        for name, value in detail.items():
            _flatten(value, f"{path}.{name}" if path else str(name), out)
    elif isinstance(detail, list) and detail and all(isinstance(d, str) for d in detail):
        out.setdefault(path or "non_field_errors", []).extend(str(d) for d in detail)
    elif isinstance(detail, list):
        for i, value in enumerate(detail):
            _flatten(value, f"{path}.{i}" if path else str(i), out)
    elif detail:
        out.setdefault(path or "non_field_errors", []).append(str(detail))


def _first_message(fields: dict[str, Any]) -> str:
    for name, errors in fields.items():
        while isinstance(errors, (list, dict)) and errors:
            errors = errors[0] if isinstance(errors, list) else next(iter(errors.values()))
        if errors:
            label = "" if name == "non_field_errors" else f"{name}: "
            return f"{label}{errors}"
    return "Invalid input."


def api_not_found(request: HttpRequest, unknown: str = "") -> HttpResponse:
    """Any ``/api/...`` path no operation answers: a 404 in the API's error shape (Django's
    page is HTML). A path that exists with a trailing slash is redirected there, as Django's
    APPEND_SLASH would have done before this catch-all matched it."""
    if not request.path.endswith("/"):
        match = resolve_or_none(request.path + "/")
        if match is not None and match.func is not api_not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(request.path + "/" + (f"?{query}" if query
                                                                       else ""))
    error = NotFound(f"No API operation at {request.path}; the operations are listed at "
                     "/api/schema/.", {"path": ["No such API path."]})
    return JsonResponse(error_body(error), status=404)


ERR_SERVER = ("The server failed on this request; it is logged with its traceback. Nothing "
              "the request asked for may be assumed done.")


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's ``handler500``: an error the API does not answer (a bug) is still a JSON
    body in the API's error shape on ``/api/`` paths (clients read ``message``); the
    pages keep Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"message": ERR_SERVER, "extra": {}}, status=500)
    from django.views.defaults import server_error as page

    return page(request)


def resolve_or_none(path: str) -> Any:
    """The URL match of ``path``, or None."""
    try:
        return resolve(path)
    except Resolver404:
        return None
