"""One error family, one response shape: every API error is {"message": str, "extra": {...}}.

ApplicationError has a permanent branch (bad input: retrying cannot fix it) and a retryable
one (a passing fault). Actors retry only the retryable branch."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .parsers import ERR_TOO_DEEP

ERR_DATA = "A value in the request cannot be stored or compared by the database: {detail}."


class ApplicationError(Exception):
    status_code = 400

    def __init__(self, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class PermanentError(ApplicationError):
    """Bad input or state; retrying cannot fix it."""


class RetryableError(ApplicationError):
    """A passing fault (a broker or network hiccup); retrying may fix it."""

    status_code = 503


class NotFound(PermanentError):
    status_code = 404


class Conflict(PermanentError):
    status_code = 409


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response({"message": exc.message, "extra": exc.extra}, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response({"message": "The request body is larger than the server accepts "
                                    f"({settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes).",
                         "extra": {}}, status=413)
    if isinstance(exc, RecursionError):  # input nested deeper than some code can walk
        return Response({"message": ERR_TOO_DEEP, "extra": {}}, status=400)
    if isinstance(exc, DataError):  # a value the database cannot hold or compare (PostgreSQL:
        # a NUL character in a query parameter, a number beyond its column)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid value"
        return Response({"message": ERR_DATA.format(detail=detail), "extra": {}}, status=400)
    if isinstance(exc, DjangoValidationError):  # a model field refusing a value
        fields = exc.message_dict if hasattr(exc, "error_dict") else {
            "non_field_errors": exc.messages}
        return Response({"message": _first_message(fields), "extra": {"fields": fields}},
                        status=400)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        detail = response.data
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        first = _first_message(fields)
        response.data = {"message": first, "extra": {"fields": fields}}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        response.data = {"message": str(detail) or "Error.", "extra": {}}
    return response


def _first_message(fields: dict[str, Any]) -> str:
    for name, errors in fields.items():
        while isinstance(errors, (list, dict)) and errors:
            errors = errors[0] if isinstance(errors, list) else next(iter(errors.values()))
        if errors:
            label = "" if name == "non_field_errors" else f"{name}: "
            return f"{label}{errors}"
    return "Invalid input."
