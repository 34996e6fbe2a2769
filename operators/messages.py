"""Plain messages for invalid params: what the form says under a field instead of pydantic's
wording ("Choose at least one column for Features." rather than "List should have at least 1
item after validation, not 0").

A message names the field the way the canvas's form labels it (the field's title, else its
name in sentence case) and, for a number out of range, the allowed range and the value given.
Error types this module does not know keep pydantic's message.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails


def humanize(key: str) -> str:
    """A param name as the form labels it: ``test_size`` -> ``Test size`` (schemaForm.ts)."""
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", re.sub(r"[_-]+", " ", key)).strip()
    return words[:1].upper() + words[1:]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation holds (``Item``, ``list[Item]``, ``Item | None``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found.extend(_models_in(arg))
    return found


def _field_at(model: type[BaseModel] | None, loc: Sequence[int | str]) -> FieldInfo | None:
    """The field a pydantic error location points at, following nested models and lists."""
    candidates: list[type[BaseModel]] = [model] if model is not None else []
    info: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        owner = next((m for m in candidates if part in m.model_fields), None)
        if owner is None:
            return None
        info = owner.model_fields[part]
        candidates = _models_in(info.annotation)
    return info


def _label(loc: Sequence[int | str], info: FieldInfo | None) -> str:
    if info is not None and info.title:
        return info.title
    names = [p for p in loc if isinstance(p, str)]
    return humanize(names[-1]) if names else "This setting"


def _is_column(info: FieldInfo | None) -> bool:
    extra = info.json_schema_extra if info is not None else None
    return isinstance(extra, dict) and "x-column-of" in extra


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _given(err: ErrorDetails) -> str:
    value = err.get("input")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    return f", got {_number(value)}"


def _count(n: int, noun: str) -> str:
    words = {1: "one", 2: "two", 3: "three"}
    return f"{words.get(n, str(n))} {noun}{'' if n == 1 else 's'}"


def _choices(expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as "a, b or c"."""
    return expected.replace("'", "")


Builder = Callable[[str, dict[str, Any], ErrorDetails, bool], str]

# One builder per pydantic error type our params produce: (label, ctx, error, is a column).
_MESSAGES: dict[str, Builder] = {
    "missing": lambda label, ctx, err, col: (
        f"Choose a column for {label}." if col else f"{label} is required."),
    "too_short": lambda label, ctx, err, col: (
        f"Choose at least {_count(ctx['min_length'], 'column')} for {label}." if col
        else f"{label} needs at least {_count(ctx['min_length'], 'item')}."),
    "too_long": lambda label, ctx, err, col: (
        f"Choose at most {_count(ctx['max_length'], 'column')} for {label}." if col
        else f"{label} can have at most {_count(ctx['max_length'], 'item')}."),
    "string_too_short": lambda label, ctx, err, col: (
        f"{label} cannot be empty." if ctx["min_length"] == 1
        else f"{label} must be at least {_count(ctx['min_length'], 'character')} long."),
    "string_too_long": lambda label, ctx, err, col: (
        f"{label} must be at most {_count(ctx['max_length'], 'character')} long."),
    "string_pattern_mismatch": lambda label, ctx, err, col: (
        f"{label} is not in the expected form (it must match {ctx['pattern']})."),
    "greater_than": lambda label, ctx, err, col: (
        f"{label} must be greater than {_number(ctx['gt'])}{_given(err)}."),
    "greater_than_equal": lambda label, ctx, err, col: (
        f"{label} must be {_number(ctx['ge'])} or more{_given(err)}."),
    "less_than": lambda label, ctx, err, col: (
        f"{label} must be less than {_number(ctx['lt'])}{_given(err)}."),
    "less_than_equal": lambda label, ctx, err, col: (
        f"{label} must be {_number(ctx['le'])} or less{_given(err)}."),
    "literal_error": lambda label, ctx, err, col: (
        f"{label} must be one of {_choices(ctx['expected'])}."),
    "enum": lambda label, ctx, err, col: f"{label} must be one of {_choices(ctx['expected'])}.",
    "int_parsing": lambda label, ctx, err, col: f"{label} must be a whole number.",
    "int_type": lambda label, ctx, err, col: f"{label} must be a whole number.",
    "int_from_float": lambda label, ctx, err, col: f"{label} must be a whole number.",
    "float_parsing": lambda label, ctx, err, col: f"{label} must be a number.",
    "float_type": lambda label, ctx, err, col: f"{label} must be a number.",
    "bool_parsing": lambda label, ctx, err, col: f"{label} must be on or off.",
    "bool_type": lambda label, ctx, err, col: f"{label} must be on or off.",
    "string_type": lambda label, ctx, err, col: (
        f"Choose a column for {label}." if col else f"{label} must be text."),
    "list_type": lambda label, ctx, err, col: f"{label} must be a list.",
    "extra_forbidden": lambda label, ctx, err, col: f"{label} is not a setting of this operator.",
    "value_error": lambda label, ctx, err, col: _sentence(
        f"{label}: {str(ctx.get('error', err['msg']))}"),
}


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def plain_message(err: ErrorDetails, model: type[BaseModel] | None = None) -> str:
    """The message the form shows for one pydantic error, in the form's words."""
    build = _MESSAGES.get(err["type"])
    if build is None:
        return err["msg"]
    loc = err["loc"]
    info = _field_at(model, loc)
    try:
        return build(_label(loc, info), dict(err.get("ctx") or {}), err, _is_column(info))
    except (KeyError, TypeError):
        return err["msg"]


__all__ = ["humanize", "plain_message"]
