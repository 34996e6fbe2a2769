"""Small pieces every API view shares: query parameters that are ids, and the workspace a
request names. (The JSON body parser is in parsers.py.)"""
from __future__ import annotations

import uuid
from typing import Any

from rest_framework.request import Request

from datagran.core.exceptions import FieldError
from datagran.workspaces.models import Role, Workspace
from datagran.workspaces.selectors import workspace_for_request

ERR_NOT_AN_ID = "{name}: {value!r} is not an id."


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
