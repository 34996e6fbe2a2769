from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import error_responses

from .serializers import OperatorOutput


class OperatorListApi(APIView):
    @extend_schema(responses={200: OperatorOutput(many=True), **error_responses(401)})
    def get(self, request: Request) -> Response:
        from operators.registry import all_operators

        return Response(OperatorOutput([op.describe() for op in all_operators()],
                                       many=True).data)
