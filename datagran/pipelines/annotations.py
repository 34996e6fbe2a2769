"""Sticky notes and coloured frames on a pipeline's canvas.

They are stored on the Pipeline (``Pipeline.annotations``), never in a PipelineVersion: a
version is the hash of the graph, and a note must never make a new version, change the
current one or invalidate a cached output. The graph parser refuses any key it does not know,
so an annotation cannot slip into a graph either.

What a client sends is checked here before anything is written: at most MAX_ANNOTATIONS, ids
like node ids, a kind, text of at most MAX_TEXT characters, a position and a size within
bounds, and a colour from the palette or ``#rrggbb``. A refusal is a 400 naming each field at
fault and its limit (``annotations.3.text``), and nothing is stored."""
from __future__ import annotations

import math
import re
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from datagran.core.exceptions import FieldError
from datagran.engine.graph import NODE_ID

from .models import Pipeline

MAX_ANNOTATIONS = 200
MAX_TEXT = 5_000
KINDS = ("note", "frame")
# The canvas offers these; any #rrggbb is accepted too.
COLORS = ("yellow", "orange", "pink", "purple", "blue", "green", "gray")
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
MIN_SIZE, MAX_SIZE = 20, 20_000
MAX_COORD = 1_000_000
FIELDS = ("id", "kind", "text", "position", "size", "color")
# A refusal lists at most this many problems (a hostile list could have 200 × 6).
MAX_PROBLEMS = 20

ERR_NOT_A_LIST = "annotations: a list of annotations is expected."
ERR_TOO_MANY = ("annotations: a pipeline holds at most {limit:,} annotations; this one has "
                "{count:,}.")
ERR_NOT_AN_OBJECT = "{path}: an annotation is an object with {fields}."
ERR_MISSING = "{path}: required."
ERR_UNKNOWN = "{path}: not a field of an annotation (they are {fields})."
ERR_ID = "{path}: {value!r} is not an annotation id: use 1 to 64 letters, digits, '_', '.' or '-'."
ERR_DUPLICATE_ID = "{path}: two annotations have the id {value!r}."
ERR_KIND = "{path}: one of {kinds}."
ERR_TEXT_TYPE = "{path}: a string is expected."
ERR_TEXT_LONG = "{path}: at most {limit:,} characters; this one has {count:,}."
ERR_TEXT_CHARS = "{path}: NUL characters and unpaired surrogates cannot be stored."
ERR_POINT = "{path}: an object with {keys} is expected."
ERR_NUMBER = "{path}: a finite number is expected."
ERR_COORD = "{path}: between {low:,} and {high:,}; this one is {value:,}."
ERR_COLOR = "{path}: one of {colors}, or #rrggbb; not {value!r}."

_SURROGATE = re.compile("[\ud800-\udfff]")


class _Problems:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        if len(self.fields) < MAX_PROBLEMS:
            self.fields.setdefault(path, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            first = next(iter(self.fields.values()))[0]
            raise FieldError(first, self.fields)


def annotations_check(raw: Any) -> list[dict[str, Any]]:
    """The annotations ``raw`` holds, cleaned (exactly FIELDS, numbers as floats, colours in
    lower case); raises FieldError naming every field at fault."""
    if not isinstance(raw, list):
        raise FieldError(ERR_NOT_A_LIST, {"annotations": [ERR_NOT_A_LIST]})
    if len(raw) > MAX_ANNOTATIONS:
        message = ERR_TOO_MANY.format(limit=MAX_ANNOTATIONS, count=len(raw))
        raise FieldError(message, {"annotations": [message]})
    problems = _Problems()
    seen: set[str] = set()
    out = []
    for i, item in enumerate(raw):
        path = f"annotations.{i}"
        if not isinstance(item, dict):
            problems.add(path, ERR_NOT_AN_OBJECT.format(path=path, fields=", ".join(FIELDS)))
            continue
        for key in item:
            if key not in FIELDS:
                shown = str(key)[:40]
                problems.add(f"{path}.{shown}", ERR_UNKNOWN.format(path=f"{path}.{shown}",
                                                                   fields=", ".join(FIELDS)))
        for key in FIELDS:
            if key not in item:
                problems.add(f"{path}.{key}", ERR_MISSING.format(path=f"{path}.{key}"))
        if any(key not in item for key in FIELDS):
            continue
        clean = {
            "id": _id(item["id"], f"{path}.id", seen, problems),
            "kind": _kind(item["kind"], f"{path}.kind", problems),
            "text": _text(item["text"], f"{path}.text", problems),
            "position": _pair(item["position"], f"{path}.position", ("x", "y"),
                              -MAX_COORD, MAX_COORD, problems),
            "size": _pair(item["size"], f"{path}.size", ("width", "height"),
                          MIN_SIZE, MAX_SIZE, problems),
            "color": _color(item["color"], f"{path}.color", problems),
        }
        out.append(clean)
    problems.raise_if_any()
    return out


def _id(value: Any, path: str, seen: set[str], problems: _Problems) -> Any:
    if not isinstance(value, str) or not NODE_ID.fullmatch(value):
        shown = value[:70] if isinstance(value, str) else value
        problems.add(path, ERR_ID.format(path=path, value=shown))
    elif value in seen:
        problems.add(path, ERR_DUPLICATE_ID.format(path=path, value=value))
    else:
        seen.add(value)
    return value


def _kind(value: Any, path: str, problems: _Problems) -> Any:
    if value not in KINDS or not isinstance(value, str):
        problems.add(path, ERR_KIND.format(path=path, kinds=", ".join(KINDS)))
    return value


def _text(value: Any, path: str, problems: _Problems) -> Any:
    if not isinstance(value, str):
        problems.add(path, ERR_TEXT_TYPE.format(path=path))
    elif len(value) > MAX_TEXT:
        problems.add(path, ERR_TEXT_LONG.format(path=path, limit=MAX_TEXT, count=len(value)))
    elif "\x00" in value or _SURROGATE.search(value):
        problems.add(path, ERR_TEXT_CHARS.format(path=path))
    return value


def _pair(value: Any, path: str, keys: tuple[str, str], low: float, high: float,
          problems: _Problems) -> Any:
    if not isinstance(value, dict) or set(value) != set(keys):
        problems.add(path, ERR_POINT.format(path=path, keys=" and ".join(keys)))
        return value
    out = {}
    for key in keys:
        number = value[key]
        where = f"{path}.{key}"
        if isinstance(number, bool) or not isinstance(number, (int, float)) \
                or not math.isfinite(number):
            problems.add(where, ERR_NUMBER.format(path=where))
        elif not low <= number <= high:
            problems.add(where, ERR_COORD.format(path=where, low=low, high=high, value=number))
        else:
            out[key] = float(number)
    return out


def _color(value: Any, path: str, problems: _Problems) -> Any:
    if isinstance(value, str) and (value in COLORS or HEX_COLOR.fullmatch(value)):
        return value.lower()
    shown = value[:40] if isinstance(value, str) else value
    problems.add(path, ERR_COLOR.format(path=path, colors=", ".join(COLORS), value=shown))
    return value


def annotations_save(*, pipeline: Pipeline, annotations: list[dict[str, Any]],
                     user: AbstractBaseUser | None = None) -> Pipeline:
    """Store checked annotations (annotations_check) on ``pipeline``: only that column and
    ``updated_at`` are written, so no version is made and nothing cached changes."""
    pipeline.annotations = annotations
    pipeline.save(update_fields=["annotations", "updated_at"])
    return pipeline


# --- the API's description ----------------------------------------------------------------------

class AnnotationPositionSchema(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()


class AnnotationSizeSchema(serializers.Serializer):
    width = serializers.FloatField(min_value=MIN_SIZE, max_value=MAX_SIZE)
    height = serializers.FloatField(min_value=MIN_SIZE, max_value=MAX_SIZE)


class AnnotationSchema(serializers.Serializer):
    """A sticky note or a coloured frame on the canvas (not part of the graph)."""

    id = serializers.CharField(max_length=64, help_text="Like a node id: letters, digits, "
                                                        "'_', '.' or '-'.")
    kind = serializers.ChoiceField(choices=KINDS)
    text = serializers.CharField(allow_blank=True, max_length=MAX_TEXT,
                                 help_text="A note's text, a frame's title.")
    position = AnnotationPositionSchema()
    size = AnnotationSizeSchema()
    color = serializers.CharField(help_text=f"One of {', '.join(COLORS)}, or #rrggbb.")


@extend_schema_field(AnnotationSchema(many=True))
class AnnotationsField(serializers.JSONField):
    """A pipeline's annotations: checked by annotations_check on the way in (a 400 naming the
    field and its limit), read as stored on the way out."""

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        return annotations_check(super().to_internal_value(data))

    def to_representation(self, value: Any) -> Any:
        return value if isinstance(value, list) else []
