"""The operator reference (docs/operators.md), rendered from the registry so it cannot drift:
each operator's catalogue entry, docstring, ports and a table of its params' JSON Schema."""
from __future__ import annotations

import inspect
import json
from typing import Any

from .base import Operator
from .registry import all_operators

_CATEGORIES = {"connector": "Connectors", "transform": "Transforms", "model": "Models",
               "action": "Actions", "pipeline": "Pipelines"}
_JSON_TYPES = {"string": "text", "integer": "integer", "number": "number",
               "boolean": "true/false", "object": "object", "null": "nothing"}


def render_reference() -> str:
    """The built-in library (modules under ``operators.``); plugins document themselves."""
    lines = ["# Operator reference", "",
             "Generated from the operator registry by `operators.reference.render_reference()`;"
             " do not edit by hand.", ""]
    operators = [op for op in all_operators() if type(op).__module__.startswith("operators.")]
    for category, title in _CATEGORIES.items():
        members = [op for op in operators if op.category == category]
        if members:
            lines += [f"## {title}", ""]
            for op in members:
                lines += _operator(op)
    return "\n".join(lines).rstrip() + "\n"


def _operator(op: Operator) -> list[str]:
    lines = [f"### {op.label} (`{op.name}`)", "", op.description, ""]
    doc = type(op).__doc__
    if doc:
        lines += [inspect.cleandoc(doc), ""]
    lines.append(f"- Inputs: {_ports(op.inputs)}")
    lines.append(f"- Outputs: {_ports(op.outputs)}")
    if op.stateful:
        lines.append("- Learns from the whole table when trained; serving reuses what it "
                     "learned.")
    if op.batch_only:
        lines.append("- Skipped when serving single rows.")
    lines.append("")
    schema = op.Params.model_json_schema()
    rows = _params(schema.get("properties", {}), set(schema.get("required", [])),
                   schema.get("$defs", {}), prefix="")
    if rows:
        lines += ["| Param | Type | Default | Description |", "|---|---|---|---|", *rows]
    else:
        lines.append("No parameters.")
    return [*lines, ""]


def _ports(ports: tuple[Any, ...]) -> str:
    if not ports:
        return "none"
    return ", ".join(f"`{p.name}` ({p.type}{', optional' if p.optional else ''})"
                     for p in ports)


def _params(properties: dict[str, Any], required: set[str], defs: dict[str, Any],
            prefix: str) -> list[str]:
    rows = []
    for name, spec in properties.items():
        default = "required" if name in required else \
            f"`{json.dumps(spec.get('default'))}`"
        rows.append(f"| `{prefix}{name}` | {_cell(_type(spec, defs))} | {default} | "
                    f"{_cell(spec.get('description', ''))} |")
        # A list of objects (say conditions) documents the objects' fields under it.
        nested, suffix = _nested(spec, defs)
        if nested:
            rows += _params(nested.get("properties", {}), set(nested.get("required", [])),
                            defs, prefix=f"{prefix}{name}{suffix}.")
    return rows


def _nested(spec: dict[str, Any], defs: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    if "$ref" in spec:
        return defs[spec["$ref"].rsplit("/", 1)[-1]], ""
    if spec.get("type") == "array" and "$ref" in spec.get("items", {}):
        return defs[spec["items"]["$ref"].rsplit("/", 1)[-1]], "[]"
    return None, ""


def _type(spec: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in spec:
        return "object"
    if "enum" in spec:
        return " or ".join(f"`{json.dumps(v)}`" for v in spec["enum"])
    if "anyOf" in spec:
        options = [_type(s, defs) for s in spec["anyOf"] if s.get("type") != "null"]
        optional = len(options) < len(spec["anyOf"])
        return " or ".join(options) + (" (or empty)" if optional else "")
    kind = spec.get("type")
    if kind == "array":
        return f"list of {_type(spec.get('items', {}), defs)}"
    if kind == "string" and spec.get("format") in ("date-time", "date"):
        return str(spec["format"])
    return _JSON_TYPES.get(str(kind), "any")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
