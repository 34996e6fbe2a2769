"""One deployment's prediction endpoint as an OpenAPI document: the request rows typed by the
pipeline's own request schema (the required columns by column lineage), for a client
generator or an API tool. The server's own schema (/api/schema/) describes every endpoint,
with rows as plain objects."""
from __future__ import annotations

from typing import Any

from datagran.pipelines.models import Pipeline

from .services import ANSWER_COLUMNS, MAX_RETURNED, MAX_ROWS, training_inputs

_TYPES: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "format": "int64"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string", "format": "date-time"},
    "str": {"type": "string"},
}


def endpoint_openapi(*, pipeline: Pipeline, endpoint: str) -> dict[str, Any]:
    compiled, _deployment = training_inputs(pipeline=pipeline)
    columns = compiled.input_schema
    row = {
        "type": "object",
        "properties": {c["name"]: {**_TYPES.get(c["type"], {}), "nullable": True,
                                   "description": "Read by the pipeline." if c["required"]
                                   else "Not read: may be left out."} for c in columns},
        "required": [c["name"] for c in columns if c["required"]],
        "additionalProperties": True,
        "description": "Other columns are ignored and named in the answer's warnings.",
    }
    answer_types = {"prediction": {}, "probability": {"type": "number", "nullable": True}}
    answer = {"type": "object", "additionalProperties": True, "properties": {
        name: {**answer_types[name]} for name in ANSWER_COLUMNS}}
    version = compiled.model
    path = endpoint.split("://", 1)[-1].split("/", 1)[-1]
    server = endpoint[: len(endpoint) - len(path) - 1]
    return {
        "openapi": "3.0.3",
        "info": {"title": f"{pipeline.name}: predictions",
                 "version": f"{pipeline.current_version.hash[:12]}",
                 "description": (f"Serves {version.registered_model.name} (the version "
                                 f"promoted to production; v{version.version} now)."
                                 if version else "Serves the pipeline's output node.")},
        "servers": [{"url": server}],
        "components": {"securitySchemes": {"token": {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": 'An API token with the prefix "Token".'}}},
        "security": [{"token": []}],
        "paths": {f"/{path}": {"post": {
            "operationId": "predict",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["rows"], "properties": {
                    "rows": {"type": "array", "minItems": 1, "maxItems": MAX_ROWS,
                             "items": row},
                    "return": {"type": "array", "maxItems": MAX_RETURNED,
                               "items": {"type": "string"},
                               "description": "Request columns to echo in each answer."},
                }}}}},
            "responses": {
                "200": {"description": "A prediction per row.", "content": {
                    "application/json": {"schema": {"type": "object", "properties": {
                        "model": {"type": "object", "nullable": True},
                        "predictions": {"type": "array", "items": answer},
                        "warnings": {"type": "array", "items": {"type": "string"}},
                        "latency_ms": {"type": "number"}}}}}},
                "400": {"description": "The rows do not fit the request schema (each "
                                       "problem named by row and column)."},
                "401": {"description": "No valid token."},
                "409": {"description": "No model version promoted to production yet."},
                "429": {"description": "Too many requests."},
                "503": {"description": "Something the answer needs cannot be reached now."},
            }}}},
    }
