from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import error_responses, request_workspace
from datagran.core.fields import WORKSPACE_QUERY
from datagran.workspaces.models import Role
from datagran.workspaces.selectors import role_check
from operators.connections import KINDS

from .models import Connection
from .serializers import (
    ConnectionInput,
    ConnectionKindOutput,
    ConnectionOutput,
    ConnectionTestInput,
    ConnectionTestOutput,
    ConnectionUpdateOutput,
)
from .services import (
    connection_create,
    connection_delete,
    connection_for_user,
    connection_get,
    connection_test,
    connection_test_fields,
    connection_update,
    connection_usage,
)


class ConnectionKindListApi(APIView):
    @extend_schema(responses={200: ConnectionKindOutput(many=True), **error_responses(401)})
    def get(self, request: Request) -> Response:
        return Response(ConnectionKindOutput(list(KINDS), many=True).data)


class ConnectionListApi(APIView):
    @extend_schema(parameters=[WORKSPACE_QUERY],
                   responses={200: ConnectionOutput(many=True), **error_responses(401, 404)})
    def get(self, request: Request) -> Response:
        workspace = request_workspace(request)
        usage = connection_usage(workspace_id=workspace.pk)
        return Response(ConnectionOutput(workspace.connections.all(), many=True,
                                         context={"usage": usage}).data)

    @extend_schema(request=ConnectionInput, responses={201: ConnectionOutput, **error_responses()})
    def post(self, request: Request) -> Response:
        data = ConnectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        workspace = request_workspace(request, min_role=Role.OWNER)
        connection = connection_create(workspace=workspace, user=request.user,
                                       name=data.validated_data["name"],
                                       kind=data.validated_data["kind"],
                                       fields=data.validated_data["fields"])
        return Response(ConnectionOutput(connection).data, status=status.HTTP_201_CREATED)


def _connection(request: Request, connection_id: str) -> Connection:
    return connection_for_user(user=request.user, connection_id=connection_id)


class ConnectionDetailApi(APIView):
    @extend_schema(responses={200: ConnectionOutput, **error_responses(401, 404)})
    def get(self, request: Request, connection_id: str) -> Response:
        connection = _connection(request, connection_id)
        usage = connection_usage(workspace_id=connection.workspace_id)
        return Response(ConnectionOutput(connection, context={"usage": usage}).data)

    @extend_schema(request=ConnectionInput,
                   responses={200: ConnectionUpdateOutput, **error_responses()})
    def patch(self, request: Request, connection_id: str) -> Response:
        connection = _connection(request, connection_id)
        role_check(user=request.user, workspace_id=connection.workspace_id, min_role=Role.OWNER)
        data = ConnectionInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        connection, cleared = connection_update(connection=connection,
                                                name=data.validated_data.get("name"),
                                                fields=data.validated_data.get("fields"),
                                                by=request.user)
        return Response(ConnectionUpdateOutput(
            connection, context={"secrets_cleared": cleared}).data)

    @extend_schema(responses={204: None, **error_responses(401, 403, 404, 409)})
    def delete(self, request: Request, connection_id: str) -> Response:
        connection = _connection(request, connection_id)
        role_check(user=request.user, workspace_id=connection.workspace_id, min_role=Role.OWNER)
        connection_delete(connection=connection, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConnectionTestApi(APIView):
    """Test a saved connection: reach its system once with its credentials. Any member who
    may edit pipelines may test where it already points."""

    @extend_schema(operation_id="connection_test", request=None,
                   responses={200: ConnectionTestOutput, **error_responses(401, 403, 404)})
    def post(self, request: Request, connection_id: str) -> Response:
        connection = _connection(request, connection_id)
        role_check(user=request.user, workspace_id=connection.workspace_id, min_role=Role.EDITOR)
        result = connection_test(connection=connection, by=request.user)
        return Response(ConnectionTestOutput(result).data)


class ConnectionTestFieldsApi(APIView):
    """Test fields before saving them; owners only, like saving (they name any host)."""

    @extend_schema(operation_id="connection_test_fields", request=ConnectionTestInput,
                   responses={200: ConnectionTestOutput, **error_responses()})
    def post(self, request: Request) -> Response:
        # Who may test comes first: a stranger or a viewer learns nothing from the body's errors.
        workspace = request_workspace(request, min_role=Role.OWNER)
        data = ConnectionTestInput(data=request.data)
        data.is_valid(raise_exception=True)
        stored_id = data.validated_data.get("connection")
        stored = None
        if stored_id is not None:
            stored = connection_get(workspace_id=workspace.pk, connection_id=stored_id)
        result = connection_test_fields(workspace=workspace, kind=data.validated_data["kind"],
                                        fields=data.validated_data["fields"], stored=stored,
                                        by=request.user)
        return Response(ConnectionTestOutput(result).data)
