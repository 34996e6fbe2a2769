from __future__ import annotations

from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import request_workspace
from datagran.workspaces.models import Role
from datagran.workspaces.selectors import role_check
from operators.connections import KINDS, secret_fields

from .models import Connection
from .services import (
    ERR_SECRETS_CLEARED,
    connection_create,
    connection_delete,
    connection_for_user,
    connection_json,
    connection_update,
)


class ConnectionInput(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.CharField(max_length=30)
    fields = serializers.DictField(required=False, default=dict)
    workspace = serializers.UUIDField(required=False)


class ConnectionKindListApi(APIView):
    def get(self, request: Request) -> Response:
        return Response([{"kind": kind, "schema": model.model_json_schema(),
                          "secret_fields": secret_fields(kind)} for kind, model in KINDS.items()])


class ConnectionListApi(APIView):
    def get(self, request: Request) -> Response:
        workspace = request_workspace(request)
        return Response([connection_json(c) for c in workspace.connections.all()])

    def post(self, request: Request) -> Response:
        data = ConnectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        workspace = request_workspace(request, min_role=Role.OWNER)
        connection = connection_create(workspace=workspace, user=request.user,
                                       name=data.validated_data["name"],
                                       kind=data.validated_data["kind"],
                                       fields=data.validated_data["fields"])
        return Response(connection_json(connection), status=status.HTTP_201_CREATED)


def _connection(request: Request, connection_id: str) -> Connection:
    return connection_for_user(user=request.user, connection_id=connection_id)


class ConnectionDetailApi(APIView):
    def get(self, request: Request, connection_id: str) -> Response:
        return Response(connection_json(_connection(request, connection_id)))

    def patch(self, request: Request, connection_id: str) -> Response:
        connection = _connection(request, connection_id)
        role_check(user=request.user, workspace_id=connection.workspace_id, min_role=Role.OWNER)
        data = ConnectionInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        connection, cleared = connection_update(connection=connection,
                                                name=data.validated_data.get("name"),
                                                fields=data.validated_data.get("fields"),
                                                by=request.user)
        body = connection_json(connection)
        if cleared:
            body["secrets_cleared"] = cleared
            body["message"] = ERR_SECRETS_CLEARED.format(names=", ".join(cleared)).strip()
        return Response(body)

    def delete(self, request: Request, connection_id: str) -> Response:
        connection = _connection(request, connection_id)
        role_check(user=request.user, workspace_id=connection.workspace_id, min_role=Role.OWNER)
        connection_delete(connection=connection, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
