"""Serializer fields and query parameters the API's serializers and views share."""
from __future__ import annotations

from datetime import datetime

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
