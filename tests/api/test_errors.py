"""One error family (operators/errors.py) and one body: {"message", "extra"}, where extra holds
only fields ({field: [messages]}) and/or errors ([{"node", "field", "message"}]). The core
maps the family, DRF's and Django's errors to HTTP in one place."""
from __future__ import annotations

import io
import subprocess
import sys
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf

from datagran.core.api import ErrorSerializer, error_responses
from datagran.core.exceptions import ERR_SERVER, exception_handler
from operators.base import OperatorError
from operators.errors import (
    Conflict,
    DatagranError,
    FieldError,
    Forbidden,
    GraphError,
    NotFound,
    PermanentError,
    RetryableError,
    Unavailable,
)


def answer(exc: Exception) -> tuple[int, dict[str, Any], Any]:
    response = exception_handler(exc, {})
    assert response is not None
    assert ErrorSerializer(data=response.data).is_valid(), response.data
    return response.status_code, response.data, response


def test_the_family_imports_without_django() -> None:
    code = ("import sys, operators.errors; assert not [m for m in sys.modules "
            "if m.split('.')[0] in ('django', 'rest_framework')]")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_field_error_puts_only_fields_in_extra() -> None:
    error = FieldError("name: too long.", {"name": "too long", "tags": ["a", "b"]})
    assert error.as_body() == {"message": "name: too long.",
                               "extra": {"fields": {"name": ["too long"], "tags": ["a", "b"]}}}
    assert error.field == "name" and error.status == 400
    assert FieldError("Nothing named.").as_body() == {"message": "Nothing named.", "extra": {}}


def test_a_graph_error_puts_only_errors_in_extra() -> None:
    error = GraphError("The graph is invalid.", [
        {"node": "b", "field": "params.columns", "message": "no such column"}])
    assert error.as_body() == {"message": "The graph is invalid.", "extra": {"errors": [
        {"node": "b", "field": "params.columns", "message": "no such column"}]}}
    assert error.field == "params.columns"


@pytest.mark.parametrize(("error", "status", "retryable"), [
    (PermanentError("bad"), 400, False), (FieldError("bad"), 400, False),
    (GraphError("bad"), 400, False), (Forbidden("no"), 403, False),
    (NotFound("gone"), 404, False), (Conflict("clash"), 409, False),
    (RetryableError("later"), 503, True), (Unavailable("later"), 503, True),
])
def test_each_error_has_its_branch_and_status(error: DatagranError, status: int,
                                              retryable: bool) -> None:
    assert isinstance(error, RetryableError if retryable else PermanentError)
    assert error.retryable is retryable
    code, body, _ = answer(error)
    assert code == status and body["message"] == error.message


def test_an_operator_error_is_a_field_error_on_its_param() -> None:
    error = OperatorError("column: 'x' is not in the table.", field="column")
    assert isinstance(error, FieldError) and error.field == "column"
    assert error.extra == {"fields": {"column": ["column: 'x' is not in the table."]}}
    assert OperatorError("No rows.").extra == {}


def test_drf_validation_errors_become_fields_named_by_their_path() -> None:
    status, body, _ = answer(drf.ValidationError(
        {"name": ["This field is required."], "graph": {"nodes": [{"id": ["Not valid."]}]}}))
    assert status == 400
    assert body == {"message": "name: This field is required.", "extra": {"fields": {
        "name": ["This field is required."], "graph.nodes.0.id": ["Not valid."]}}}
    _, body, _ = answer(drf.ValidationError(["Send an object."]))
    assert body["extra"] == {"fields": {"non_field_errors": ["Send an object."]}}


def test_django_errors_keep_their_status_in_the_one_shape() -> None:
    status, body, _ = answer(DjangoValidationError({"name": ["Too long."]}))
    assert (status, body) == (400, {"message": "name: Too long.",
                                    "extra": {"fields": {"name": ["Too long."]}}})
    assert answer(Http404())[:2] == (404, {"message": "Not found.", "extra": {}})
    assert answer(PermissionDenied())[0] == 403


def test_a_throttled_request_keeps_its_retry_after_header() -> None:
    status, body, response = answer(drf.Throttled(wait=7))
    assert status == 429 and set(body["extra"]) == set()
    assert response.headers["Retry-After"] == "7"


def test_an_unexpected_exception_is_left_to_the_server_error_page() -> None:
    assert exception_handler(RuntimeError("a bug"), {}) is None


def test_error_responses_document_the_error_body() -> None:
    responses = error_responses()
    assert sorted(responses) == [400, 401, 403, 404]
    assert all(r.response is ErrorSerializer for r in responses.values())
    assert sorted(error_responses(409, 503)) == [409, 503]


def test_an_invalid_request_over_http_has_the_shape(api: Any) -> None:
    body = api.post("/api/pipelines/", {"graph": {}}, format="json").json()
    assert body == {"message": "name: This field is required.",
                    "extra": {"fields": {"name": ["This field is required."]}}}
    body = api.post("/api/pipelines/", {"name": "P", "graph": {"nodes": [{"id": "a"}]}},
                    format="json").json()
    assert set(body) == {"message", "extra"} and set(body["extra"]) == {"errors"}
    assert body["extra"]["errors"][0] == {
        "node": "a", "field": "nodes.0.operator",
        "message": "nodes.0.operator: Operator is required."}


def test_an_unauthenticated_request_keeps_its_www_authenticate_header() -> None:
    exc = drf.NotAuthenticated()
    exc.auth_header = "Token"  # what APIView sets before calling the handler
    status, body, response = answer(exc)
    assert status == 401 and response.headers["WWW-Authenticate"] == "Token"
    assert body == {"message": "Authentication credentials were not provided.", "extra": {}}


@pytest.mark.django_db
def test_an_unknown_api_path_is_a_json_404_and_a_missing_slash_still_redirects(api) -> None:
    response = api.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["extra"] == {"fields": {"path": ["No such API path."]}}
    moved = api.get("/api/pipelines?search=x")
    assert moved.status_code == 301 and moved["Location"] == "/api/pipelines/?search=x"


@pytest.mark.django_db
def test_a_bug_on_an_api_path_answers_json_and_a_page_keeps_djangos_page(
        api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash (once: a Parquet upload with a map column) answered an HTML page that API
    clients could not read; it now answers the error shape, with no detail of the bug."""
    from datagran.datasets import apis

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret detail of the bug")

    monkeypatch.setattr(apis, "dataset_upload_version", crash)
    api.raise_request_exception = False
    upload = io.BytesIO(b"x\n1\n")
    upload.name = "a.csv"
    response = api.post("/api/datasets/", {"file": upload}, format="multipart")
    assert response.status_code == 500
    assert response.json() == {"message": ERR_SERVER, "extra": {}}
    assert b"secret detail" not in response.content
