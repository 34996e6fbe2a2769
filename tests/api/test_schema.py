"""The OpenAPI schema is the API's contract (the frontend's types are generated from it): every
operation has a response body, every write a request body, and every error response the one
error shape. drf-spectacular generates it without a warning."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRITES = ("post", "put", "patch")
ERROR_REF = "#/components/schemas/Error"
# Writes that take no body, each for a reason: what they act on is all in the URL.
NO_BODY = {
    ("post", "/api/invitations/{token}/accept/"): "the invitation is the token in the URL",
    ("post", "/api/invitations/{token}/verify-email/"): "the address is signed into the token",
    ("post", "/api/runs/{run_id}/cancel/"): "cancels the run the URL names",
    ("post", "/api/connections/{connection_id}/test/"): "tests the saved connection the URL "
                                                        "names, as saved",
    ("post", "/api/runs/{run_id}/replay/"): "repeats that run exactly: nothing to choose",
    ("post", "/api/pipelines/{pipeline_id}/deployment/promote-challenger/"):
        "promotes the challenger the model's alias names",
    ("post", "/api/runs/{run_id}/nodes/{node_id}/approve/"): "approves what the preview shows",
    ("post", "/api/runs/{run_id}/nodes/{node_id}/reject/"): "rejects the node the URL names",
    ("post", "/api/pipelines/{pipeline_id}/webhook/"): "makes a new secret URL for the pipeline",
    ("post", "/api/hooks/{pipeline_id}/{token}/"): "a caller's webhook body is not read: the "
                                                   "URL's secret starts the pipeline's run",
}
# Successful answers that have no body.
NO_CONTENT = {"204"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """The schema as `manage.py spectacular --validate` writes it, and what it printed.
    In a process of its own: drf-spectacular prints each warning once per process."""
    path = tmp_path_factory.mktemp("schema") / "schema.json"
    done = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--format", "openapi-json",
         "--file", str(path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(path.read_text()), done.stderr


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in schema["paths"].items()
            for method, op in ops.items() if method in ("get", "post", "put", "patch", "delete")]


def test_generating_the_schema_warns_of_nothing(generated) -> None:
    _, printed = generated
    problems = [line for line in printed.splitlines()
                if "Warning" in line or "Error" in line]
    assert problems == []


def test_every_operation_answers_with_a_described_body(generated) -> None:
    schema, _ = generated
    missing = []
    for method, path, op in operations(schema):
        success = {code: r for code, r in op.get("responses", {}).items()
                   if code.startswith("2")}
        if not success:
            missing.append((method, path, "no 2xx response"))
        for code, response in success.items():
            if code in NO_CONTENT:
                continue
            content = response.get("content") or {}
            if not content or not all(media.get("schema") for media in content.values()):
                missing.append((method, path, f"{code} without a body schema"))
    assert missing == []


def test_every_write_takes_a_described_body(generated) -> None:
    schema, _ = generated
    missing = []
    for method, path, op in operations(schema):
        if method not in WRITES or (method, path) in NO_BODY:
            continue
        content = (op.get("requestBody") or {}).get("content") or {}
        if not content or not all(media.get("schema") for media in content.values()):
            missing.append((method, path))
    assert missing == []


def test_writes_listed_without_a_body_really_take_none(generated) -> None:
    schema, _ = generated
    ops = {(method, path): op for method, path, op in operations(schema)}
    for key in NO_BODY:
        assert key in ops, f"{key} is no longer an operation: take it off NO_BODY"
        assert "requestBody" not in ops[key], f"{key} takes a body: take it off NO_BODY"


def test_every_operation_documents_its_errors_in_the_one_error_shape(generated) -> None:
    schema, _ = generated
    wrong: list[tuple[object, ...]] = []
    for method, path, op in operations(schema):
        errors = {code: r for code, r in op.get("responses", {}).items()
                  if code[0] in "45"}
        if not errors:
            wrong.append((method, path, "no error response"))
        for code, response in errors.items():
            refs = {media.get("schema", {}).get("$ref")
                    for media in (response.get("content") or {}).values()}
            if refs != {ERROR_REF}:
                wrong.append((method, path, code, sorted(map(str, refs))))
    assert wrong == []


def test_the_error_shape_is_a_message_and_its_fields_or_graph_errors(generated) -> None:
    schema, _ = generated
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"message", "extra"}
    assert set(error["required"]) == {"message", "extra"}
    extra = error["properties"]["extra"]
    assert set(extra["properties"]) == {"fields", "errors"}
    assert extra["additionalProperties"] is False
    assert set(extra["properties"]["errors"]["items"]["properties"]) == {
        "node", "field", "message"}


def test_operation_ids_are_unique_and_named_not_numbered(generated) -> None:
    schema, _ = generated
    ids = [op["operationId"] for _, _, op in operations(schema)]
    assert len(ids) == len(set(ids))
    assert not [i for i in ids if i[-1].isdigit()]


@pytest.mark.django_db
def test_the_schema_is_yaml_by_default_and_json_when_asked(client) -> None:
    yaml = client.get("/api/schema/")
    assert yaml.status_code == 200 and yaml.content.startswith(b"openapi: ")
    as_json = client.get("/api/schema/?format=json")
    assert as_json.status_code == 200 and "json" in as_json["Content-Type"]
    assert json.loads(as_json.content)["paths"]
    assert client.get("/api/schema/?format=yaml").content.startswith(b"openapi: ")
