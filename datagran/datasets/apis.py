from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import error_responses, request_workspace
from datagran.core.exceptions import FieldError
from datagran.core.fields import WORKSPACE_QUERY
from datagran.workspaces.models import Role

from .serializers import DatasetOutput, DatasetUploadInput
from .services import dataset_upload

ERR_NO_FILE = "Send the file as multipart form data in the field 'file'."


class DatasetListApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(parameters=[WORKSPACE_QUERY],
                   responses={200: DatasetOutput(many=True), **error_responses(401, 404)})
    def get(self, request: Request) -> Response:
        workspace = request_workspace(request)
        return Response(DatasetOutput(workspace.datasets.all(), many=True).data)

    @extend_schema(request=DatasetUploadInput,
                   responses={201: DatasetOutput, **error_responses(400, 401, 403, 404, 413)})
    def post(self, request: Request) -> Response:
        if request.FILES.get("file") is None:
            raise FieldError(ERR_NO_FILE, {"file": [ERR_NO_FILE]})
        data = DatasetUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        workspace = request_workspace(request, min_role=Role.EDITOR)
        dataset = dataset_upload(workspace=workspace, user=request.user,
                                 name=data.validated_data.get("name") or upload.name,
                                 fileobj=upload, size=upload.size)
        return Response(DatasetOutput(dataset).data, status=status.HTTP_201_CREATED)
