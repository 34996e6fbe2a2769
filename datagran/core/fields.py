"""Serializer fields and query parameters the API's serializers and views share."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers


class IsoDateTimeField(serializers.DateTimeField):
    """A timestamp as Python's ``isoformat()`` writes it (``+00:00``, not DRF's ``Z``): the
    form the API has always sent."""

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


@extend_schema_field({"type": "object", "additionalProperties": True})
class ObjectField(serializers.JSONField):
    """A JSON object passed through as it is (operator params, metrics, JSON Schemas)."""


@extend_schema_field({"type": "array", "items": {"type": "object", "additionalProperties": True}})
class ObjectListField(serializers.JSONField):
    """A list of JSON objects passed through as it is (table rows, column schemas)."""


#: The ``?workspace=`` query parameter of the list endpoints.
WORKSPACE_QUERY = OpenApiParameter(
    "workspace", OpenApiTypes.UUID, required=False,
    description="A workspace id; defaults to the caller's personal workspace.")


_SHARED: dict[type[serializers.Serializer], serializers.Serializer] = {}


def represent(serializer_class: type[serializers.Serializer], obj: Any) -> Any:
    """``serializer_class(obj).data`` without building the serializer again: DRF copies every
    declared field for each new instance (about 0.3–0.5 ms for a node), so paths that run per
    event or per request share one instance, which holds no state of its own while it
    represents an object."""
    shared = _SHARED.get(serializer_class)
    if shared is None:
        shared = _SHARED.setdefault(serializer_class, serializer_class())
    return shared.to_representation(obj)
