from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import request_workspace
from datagran.core.exceptions import FieldError
from datagran.workspaces.models import Role

from .models import Dataset
from .services import dataset_upload

ERR_NO_FILE = "Send the file as multipart form data in the field 'file'."


def dataset_json(d: Dataset) -> dict[str, Any]:
    return {"id": str(d.pk), "name": d.name, "format": d.format, "columns": d.columns,
            "row_count": d.row_count, "size_bytes": d.size_bytes, "sha256": d.source_sha256,
            "workspace": str(d.workspace_id), "created_at": d.created_at.isoformat()}


class DatasetListApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    def get(self, request: Request) -> Response:
        workspace = request_workspace(request)
        return Response([dataset_json(d) for d in workspace.datasets.all()])

    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise FieldError(ERR_NO_FILE, {"file": [ERR_NO_FILE]})
        workspace = request_workspace(request, min_role=Role.EDITOR)
        dataset = dataset_upload(workspace=workspace, user=request.user,
                                 name=request.data.get("name") or upload.name,
                                 fileobj=upload, size=upload.size)
        return Response(dataset_json(dataset), status=status.HTTP_201_CREATED)
