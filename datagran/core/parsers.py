"""The API's JSON: a body parser, and the same reading for JSON sent inside a form field.
Imported by DRF's settings while its views module loads, so it imports nothing of ours."""
from __future__ import annotations

import codecs
import json
import math
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

ERR_TOO_DEEP = "The request is nested too deeply to process."
ERR_BODY_NOT_OBJECT = "body: the request body must be a JSON object."
ERR_NUMBER_RANGE = "the number {text} is beyond the range of a float; numbers must be finite."
ERR_NUL = ("the text at {where} holds a NUL character (\\u0000), which PostgreSQL cannot "
           "store.")


class JSONRefused(ValueError):
    """Valid JSON that the API does not take."""


def _finite(text: str) -> float:
    """A JSON number as a float; 1e999 would become inf, which no column, JSON response or
    PostgreSQL jsonb can hold (DRF already refuses the literals NaN and Infinity)."""
    value = float(text)
    if not math.isfinite(value):
        raise JSONRefused(ERR_NUMBER_RANGE.format(text=text[:40]))
    return value


def json_loads(text: str) -> Any:
    """JSON as the API reads it: finite numbers only; JSONRefused for what it does not take,
    ValueError for what is not JSON."""
    try:
        data = json.loads(text, parse_float=_finite, parse_constant=strict_constant)
    except RecursionError:
        raise JSONRefused(ERR_TOO_DEEP) from None
    # A NUL can only come from this escape (a raw control character is not JSON): the walk
    # is for the rare text that holds it.
    if "\\u0000" in text and (where := _nul_at(data)) is not None:
        raise JSONRefused(ERR_NUL.format(where=where))
    return data


def _nul_at(value: Any) -> str | None:
    """The path of the first key or text holding a NUL character, if any."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return path or "the top"
        children = item.items() if isinstance(item, dict) else enumerate(item) \
            if isinstance(item, list) else ()
        for key, child in children:
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and "\x00" in key:
                return where.replace("\x00", "\\u0000")
            stack.append((child, where))
    return None


class JSONObjectParser(JSONParser):
    """Every JSON body the API takes is an object: anything else is refused here, once, for
    every view, rather than failing where a view expects a mapping. Numbers beyond a float's
    range and nesting deeper than the decoder can go are 400s too."""

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: dict[str, Any] | None = None) -> dict[str, Any] | list[Any]:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json_loads(codecs.getreader(encoding)(stream).read())
        except JSONRefused as exc:
            raise ParseError(f"body: {exc}") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if not isinstance(data, dict) and not (self.lists and isinstance(data, list)):
            raise ParseError(ERR_BODY_NOT_OBJECT)
        return data

    lists = False


class JSONListParser(JSONObjectParser):
    """For the few endpoints whose body is a list (prediction feedback): a list or an
    object, with the same checks."""

    lists = True
