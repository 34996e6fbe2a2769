from __future__ import annotations

from typing import Any

from django.db.models import Max
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
from datagran.workspaces.selectors import role_check

from .models import Dataset
from .profile import dataset_preview, dataset_stats
from .serializers import (
    DatasetDeleteOutput,
    DatasetDeleteQuery,
    DatasetOutput,
    DatasetPreviewOutput,
    DatasetPreviewQuery,
    DatasetStatsOutput,
    DatasetUploadInput,
    DatasetUploadOutput,
)
from .services import (
    dataset_delete,
    dataset_get_for_user,
    dataset_upload_version,
    dataset_usage,
)

ERR_NO_FILE = "Send the file as multipart form data in the field 'file'."


def _context(workspace_id: object) -> dict[str, Any]:
    """What DatasetOutput tells of a version besides its row: the pipelines reading it and
    whether it is its name's newest."""
    latest = dict(Dataset.objects.filter(workspace_id=workspace_id).values("name")
                  .annotate(v=Max("version")).values_list("name", "v"))
    return {"latest": latest, "usage": dataset_usage(workspace_id=workspace_id)}


class DatasetListApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(parameters=[WORKSPACE_QUERY],
                   responses={200: DatasetOutput(many=True), **error_responses(401, 404)})
    def get(self, request: Request) -> Response:
        workspace = request_workspace(request)
        rows = workspace.datasets.select_related("created_by")
        return Response(DatasetOutput(rows, many=True, context=_context(workspace.pk)).data)

    @extend_schema(request=DatasetUploadInput,
                   responses={201: DatasetUploadOutput, 200: DatasetUploadOutput,
                              **error_responses(400, 401, 403, 404, 413)})
    def post(self, request: Request) -> Response:
        if request.FILES.get("file") is None:
            raise FieldError(ERR_NO_FILE, {"file": [ERR_NO_FILE]})
        data = DatasetUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        workspace = request_workspace(request, min_role=Role.EDITOR)
        dataset, unchanged = dataset_upload_version(
            workspace=workspace, user=request.user,
            name=data.validated_data.get("name") or upload.name, fileobj=upload,
            size=upload.size)
        body = DatasetOutput(dataset, context=_context(workspace.pk)).data
        return Response({**body, "unchanged": unchanged},
                        status=status.HTTP_200_OK if unchanged else status.HTTP_201_CREATED)


class DatasetDetailApi(APIView):
    @extend_schema(responses={200: DatasetOutput, **error_responses(401, 404)})
    def get(self, request: Request, dataset_id: str) -> Response:
        dataset = dataset_get_for_user(user=request.user, dataset_id=dataset_id)
        return Response(DatasetOutput(dataset, context=_context(dataset.workspace_id)).data)

    @extend_schema(parameters=[DatasetDeleteQuery],
                   responses={200: DatasetDeleteOutput, **error_responses(400, 401, 403, 404,
                                                                          409)})
    def delete(self, request: Request, dataset_id: str) -> Response:
        dataset = dataset_get_for_user(user=request.user, dataset_id=dataset_id)
        role_check(user=request.user, workspace_id=dataset.workspace_id, min_role=Role.EDITOR)
        query = DatasetDeleteQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        deleted = dataset_delete(dataset=dataset,
                                 all_versions=query.validated_data["all_versions"])
        return Response({"deleted": deleted})


class DatasetPreviewApi(APIView):
    @extend_schema(parameters=[DatasetPreviewQuery],
                   responses={200: DatasetPreviewOutput, **error_responses(400, 401, 404)})
    def get(self, request: Request, dataset_id: str) -> Response:
        dataset = dataset_get_for_user(user=request.user, dataset_id=dataset_id)
        query = DatasetPreviewQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(dataset_preview(dataset=dataset, rows=query.validated_data["rows"]))


class DatasetStatsApi(APIView):
    @extend_schema(responses={200: DatasetStatsOutput, **error_responses(401, 404)})
    def get(self, request: Request, dataset_id: str) -> Response:
        dataset = dataset_get_for_user(user=request.user, dataset_id=dataset_id)
        return Response({"row_count": dataset.row_count,
                         "columns": dataset_stats(dataset=dataset)})
