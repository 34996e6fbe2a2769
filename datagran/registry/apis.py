from __future__ import annotations

from django.http import FileResponse
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datagran.core.api import query_uuid, request_workspace
from datagran.core.exceptions import FieldError
from datagran.core.parsers import JSONObjectParser, JSONRefused, json_loads
from datagran.datasets.artifacts import artifact_store
from datagran.datasets.services import upload_size_check
from datagran.workspaces.models import Role
from datagran.workspaces.selectors import role_check

from .selectors import (
    model_get,
    model_json,
    model_list,
    version_get,
    version_json,
    version_lineage,
    versions_compare,
)
from .services import alias_remove, alias_set, model_import


class ModelListApi(APIView):
    def get(self, request: Request) -> Response:
        models = model_list(user=request.user, workspace_id=query_uuid(request, "workspace"))
        return Response([model_json(m) for m in models])


def _json_field(request: Request, name: str) -> dict:
    raw = request.data.get(name) or "{}"
    try:
        value = json_loads(raw) if isinstance(raw, str) else raw
    except JSONRefused as exc:
        raise FieldError(f"{name}: {exc}", {name: [str(exc)]}) from None
    except ValueError as exc:  # not JSON, or an integer of more digits than Python reads
        raise FieldError(f"{name}: not valid JSON ({getattr(exc, 'msg', exc)}).",
                             {name: ["not valid JSON"]}) from None
    if not isinstance(value, dict):
        raise FieldError(f"{name}: must be a JSON object.",
                             {name: ["must be a JSON object"]})
    return value


class ModelImportApi(APIView):
    """Upload a skops file of a scikit-learn model trained elsewhere as a new version."""

    parser_classes = [MultiPartParser, FormParser]

    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        name = (request.data.get("name") or "").strip()
        if upload is None or not name:
            field = "file" if upload is None else "name"
            raise FieldError(f"{field}: required.", {field: ["required"]})
        workspace = request_workspace(request, min_role=Role.EDITOR)
        upload_size_check(size=upload.size)
        version = model_import(
            workspace=workspace, user=request.user, name=name, data=upload.read(),
            target=request.data.get("target", ""),
            code_reference=request.data.get("code_reference", ""),
            data_description=request.data.get("data_description", ""),
            params=_json_field(request, "params"), metrics=_json_field(request, "metrics"))
        return Response({"model": str(version.registered_model_id),
                         **version_json(version)}, status=status.HTTP_201_CREATED)


class ModelDetailApi(APIView):
    def get(self, request: Request, model_id: str) -> Response:
        return Response(model_json(model_get(user=request.user, model_id=model_id),
                                   with_versions=True))


class ModelVersionApi(APIView):
    def get(self, request: Request, model_id: str, number: int) -> Response:
        model = model_get(user=request.user, model_id=model_id)
        version = version_get(model=model, number=number)
        aliases = list(model.aliases.filter(version=version).values_list("name", flat=True))
        return Response({**version_json(version, aliases=aliases),
                         "lineage": version_lineage(version)})


class ModelVersionDownloadApi(APIView):
    def get(self, request: Request, model_id: str, number: int) -> FileResponse:
        model = model_get(user=request.user, model_id=model_id)
        version = version_get(model=model, number=number)
        model_file = artifact_store().open({"kind": "model", "hash": version.model_hash})
        return FileResponse(model_file, as_attachment=True,
                            filename=f"{model.name}-v{number}.skops")


class AliasInput(serializers.Serializer):
    alias = serializers.CharField(max_length=50)
    version = serializers.IntegerField(min_value=1)


class ModelAliasApi(APIView):
    """Promote: point an alias (staging, production, ...) at a version."""

    parser_classes = [JSONObjectParser]

    def post(self, request: Request, model_id: str) -> Response:
        model = model_get(user=request.user, model_id=model_id)
        role_check(user=request.user, workspace_id=model.workspace_id, min_role=Role.EDITOR)
        data = AliasInput(data=request.data)
        data.is_valid(raise_exception=True)
        alias_set(model=model, alias=data.validated_data["alias"],
                  version_number=data.validated_data["version"], user=request.user)
        return Response(model_json(model, with_versions=True))


class ModelAliasDeleteApi(APIView):
    """Demote: remove an alias."""

    def delete(self, request: Request, model_id: str, alias: str) -> Response:
        model = model_get(user=request.user, model_id=model_id)
        role_check(user=request.user, workspace_id=model.workspace_id, min_role=Role.EDITOR)
        alias_remove(model=model, alias=alias, user=request.user)
        return Response(model_json(model, with_versions=True))


class ModelCompareApi(APIView):
    def get(self, request: Request, model_id: str) -> Response:
        model = model_get(user=request.user, model_id=model_id)
        try:
            a, b = int(request.query_params["a"]), int(request.query_params["b"])
        except (KeyError, ValueError):
            raise FieldError("a, b: give two version numbers, ?a=1&b=2.",
                                 {"a": ["required"], "b": ["required"]}) from None
        return Response(versions_compare(version_get(model=model, number=a),
                                         version_get(model=model, number=b)))
