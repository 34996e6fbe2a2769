"""Small pieces every API view shares."""
from __future__ import annotations

from typing import Any

from rest_framework.request import Request

from datagran.workspaces.models import Role, Workspace
from datagran.workspaces.selectors import workspace_for_request


def request_workspace(request: Request, *, min_role: str = Role.VIEWER) -> Workspace:
    """The workspace a request names (body or ?workspace=), else the caller's personal one."""
    data: Any = request.data if isinstance(request.data, dict) else {}
    workspace_id = data.get("workspace") or request.query_params.get("workspace")
    return workspace_for_request(user=request.user, workspace_id=workspace_id, min_role=min_role)
