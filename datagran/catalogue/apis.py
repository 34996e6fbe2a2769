from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import error_responses, request_workspace
from datagran.workspaces.models import Role

from .serializers import (
    OperatorOptionsInput,
    OperatorOptionsOutput,
    OperatorOutput,
    OperatorSampleInput,
    OperatorSampleOutput,
)
from .services import operator_for_form, operator_options, operator_sample


class OperatorListApi(APIView):
    @extend_schema(responses={200: OperatorOutput(many=True), **error_responses(401)})
    def get(self, request: Request) -> Response:
        from operators.registry import all_operators

        return Response(OperatorOutput([op.describe() for op in all_operators()],
                                       many=True).data)


class OperatorOptionsApi(APIView):
    """Choices for a param that only the outside system knows (a database's tables, a
    table's columns, a folder's files), given the params so far. Editors only: it reaches
    the workspace's connections."""

    @extend_schema(operation_id="operator_options", request=OperatorOptionsInput,
                   responses={200: OperatorOptionsOutput, **error_responses(
                       400, 401, 403, 404, 503)})
    def post(self, request: Request, name: str) -> Response:
        # Who may ask comes first: a stranger or a viewer learns nothing from the body.
        workspace = request_workspace(request, min_role=Role.EDITOR)
        op = operator_for_form(name)
        data = OperatorOptionsInput(data=request.data)
        data.is_valid(raise_exception=True)
        options = operator_options(workspace=workspace, op=op,
                                   params=data.validated_data.get("params") or {},
                                   field=data.validated_data["field"])
        return Response(OperatorOptionsOutput({"options": options}).data)


class OperatorSampleApi(APIView):
    """The first rows (at most 100) a source reads with these params; their columns are
    remembered as the source's schema until it runs. Editors only."""

    @extend_schema(operation_id="operator_sample", request=OperatorSampleInput,
                   responses={200: OperatorSampleOutput, **error_responses(
                       400, 401, 403, 404, 503)})
    def post(self, request: Request, name: str) -> Response:
        workspace = request_workspace(request, min_role=Role.EDITOR)
        op = operator_for_form(name)
        data = OperatorSampleInput(data=request.data)
        data.is_valid(raise_exception=True)
        sample = operator_sample(workspace=workspace, op=op,
                                 params=data.validated_data.get("params") or {})
        return Response(OperatorSampleOutput(sample).data)
