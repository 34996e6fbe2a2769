from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import error_responses, query_uuid, request_workspace
from datagran.core.exceptions import FieldError
from datagran.core.fields import WORKSPACE_QUERY
from datagran.core.parsers import JSONObjectParser
from datagran.datasets.artifacts import artifact_store
from datagran.datasets.services import upload_size_check
from datagran.workspaces.models import Role
from datagran.workspaces.selectors import role_check

from .selectors import (
    model_get,
    model_list,
    model_with_versions,
    version_get,
    versions_compare,
    with_versions,
)
from .serializers import (
    AliasInput,
    CompareOutput,
    ModelDetailOutput,
    ModelImportInput,
    ModelImportOutput,
    ModelOutput,
    VersionDetailOutput,
)
from .services import alias_remove, alias_set, model_import

ERR_COMPARE = "a, b: give two version numbers, ?a=1&b=2."


class ModelListApi(APIView):
    @extend_schema(parameters=[WORKSPACE_QUERY],
                   responses={200: ModelOutput(many=True), **error_responses(400, 401)})
    def get(self, request: Request) -> Response:
        models = model_list(user=request.user, workspace_id=query_uuid(request, "workspace"))
        return Response(ModelOutput(with_versions(models), many=True).data)


class ModelImportApi(APIView):
    """Upload a skops file of a scikit-learn model trained elsewhere as a new version."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=ModelImportInput,
                   responses={201: ModelImportOutput, **error_responses(400, 401, 403, 404, 413)})
    def post(self, request: Request) -> Response:
        data = ModelImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        workspace = request_workspace(request, min_role=Role.EDITOR)
        upload = fields["file"]
        upload_size_check(size=upload.size)
        version = model_import(
            workspace=workspace, user=request.user, name=fields["name"], data=upload.read(),
            target=fields["target"], code_reference=fields["code_reference"],
            data_description=fields["data_description"], params=fields["params"],
            metrics=fields["metrics"])
        return Response(ModelImportOutput(version).data, status=status.HTTP_201_CREATED)


class ModelDetailApi(APIView):
    @extend_schema(responses={200: ModelDetailOutput, **error_responses(401, 404)})
    def get(self, request: Request, model_id: str) -> Response:
        model = model_get(user=request.user, model_id=model_id)
        return Response(ModelDetailOutput(model_with_versions(model)).data)


class ModelVersionApi(APIView):
    @extend_schema(responses={200: VersionDetailOutput, **error_responses(401, 404)})
    def get(self, request: Request, model_id: str, number: int) -> Response:
        model = model_get(user=request.user, model_id=model_id)
        return Response(VersionDetailOutput(version_get(model=model, number=number)).data)


class ModelVersionDownloadApi(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                              **error_responses(401, 404)})
    def get(self, request: Request, model_id: str, number: int) -> FileResponse:
        model = model_get(user=request.user, model_id=model_id)
        version = version_get(model=model, number=number)
        model_file = artifact_store().open({"kind": "model", "hash": version.model_hash})
        return FileResponse(model_file, as_attachment=True,
                            filename=f"{model.name}-v{number}.skops")


class ModelAliasApi(APIView):
    """Promote: point an alias (staging, production, ...) at a version."""

    parser_classes = [JSONObjectParser]

    @extend_schema(request=AliasInput, responses={200: ModelDetailOutput, **error_responses()})
    def post(self, request: Request, model_id: str) -> Response:
        model = model_get(user=request.user, model_id=model_id)
        role_check(user=request.user, workspace_id=model.workspace_id, min_role=Role.EDITOR)
        data = AliasInput(data=request.data)
        data.is_valid(raise_exception=True)
        alias_set(model=model, alias=data.validated_data["alias"],
                  version_number=data.validated_data["version"], user=request.user)
        return Response(ModelDetailOutput(model_with_versions(model)).data)


class ModelAliasDeleteApi(APIView):
    """Demote: remove an alias."""

    @extend_schema(responses={200: ModelDetailOutput, **error_responses(401, 403, 404)})
    def delete(self, request: Request, model_id: str, alias: str) -> Response:
        model = model_get(user=request.user, model_id=model_id)
        role_check(user=request.user, workspace_id=model.workspace_id, min_role=Role.EDITOR)
        alias_remove(model=model, alias=alias, user=request.user)
        return Response(ModelDetailOutput(model_with_versions(model)).data)


class CompareQuery(serializers.Serializer):
    a = serializers.IntegerField(help_text="A version number.")
    b = serializers.IntegerField(help_text="Another version number.")


class ModelCompareApi(APIView):
    @extend_schema(parameters=[CompareQuery],
                   responses={200: CompareOutput, **error_responses(400, 401, 404)})
    def get(self, request: Request, model_id: str) -> Response:
        model = model_get(user=request.user, model_id=model_id)
        query = CompareQuery(data=request.query_params)
        if not query.is_valid():
            raise FieldError(ERR_COMPARE, {"a": ["required"], "b": ["required"]})
        a, b = query.validated_data["a"], query.validated_data["b"]
        return Response(CompareOutput(versions_compare(version_get(model=model, number=a),
                                                       version_get(model=model, number=b))).data)
