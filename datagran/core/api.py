"""Small pieces every API view shares: the error body's schema and the error responses a view
declares, query parameters that are ids, and the workspace a request names. (The JSON body
parser is in parsers.py.)"""
from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request

from datagran.core.exceptions import FieldError
from datagran.workspaces.models import Role, Workspace
from datagran.workspaces.selectors import workspace_for_request

ERR_NOT_AN_ID = "{name}: {value!r} is not an id."

_FIELDS_SCHEMA = {
    "type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "description": "The request fields (or params) at fault: {field: [messages]}. A nested "
                   "field is named by its path, e.g. graph.nodes.0.id."}
_ERRORS_SCHEMA = {
    "type": "array", "description": "A pipeline graph's problems, each on its node and field.",
    "items": {"type": "object", "required": ["node", "field", "message"],
              "properties": {"node": {"type": "string", "nullable": True},
                             "field": {"type": "string", "nullable": True},
                             "message": {"type": "string"}}}}


@extend_schema_field({"type": "object", "additionalProperties": False,
                      "properties": {"fields": _FIELDS_SCHEMA, "errors": _ERRORS_SCHEMA}})
class ErrorExtraField(serializers.JSONField):
    """``extra``: only ``fields`` (FieldError) and/or ``errors`` (GraphError)."""


class ErrorSerializer(serializers.Serializer):
    """The one error body (operators/errors.py; mapped to HTTP in core/exceptions.py)."""

    message = serializers.CharField(help_text="What went wrong, for people.")
    extra = ErrorExtraField()


ERROR_MEANING = {
    400: "The request is invalid: extra.fields names the fields at fault, extra.errors the "
         "problems of a pipeline graph.",
    401: "No valid credentials.",
    403: "The caller's role in the workspace does not allow this.",
    404: "Not found, or not visible to the caller.",
    409: "The request contradicts the current state.",
    413: "The request body is larger than the server accepts.",
    429: "Too many requests; retry after the Retry-After header's seconds.",
    503: "A passing fault; retrying may succeed.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error responses of an operation for ``@extend_schema(responses=...)``: 400, 401,
    403 and 404 unless other statuses are named. Merge with the success responses:
    ``responses={200: Out, **error_responses()}``."""
    return {status: OpenApiResponse(ErrorSerializer, description=ERROR_MEANING[status])
            for status in statuses or (400, 401, 403, 404)}


def query_uuid(request: Request, name: str) -> uuid.UUID | None:
    """The id in the query parameter ``name``; a 400 naming it if it is not one."""
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        message = ERR_NOT_AN_ID.format(name=name, value=value[:40])
        raise FieldError(message, {name: ["not an id"]}) from None


def request_workspace(request: Request, *, min_role: str = Role.VIEWER) -> Workspace:
    """The workspace a request names (body or ?workspace=), else the caller's personal one."""
    data: Any = request.data if isinstance(request.data, dict) else {}
    workspace_id = data.get("workspace") or request.query_params.get("workspace")
    return workspace_for_request(user=request.user, workspace_id=workspace_id, min_role=min_role)
