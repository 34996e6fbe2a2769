"""What makes an operator well formed, checked for each one as the registry loads: a catalogue
entry, known port types, a params schema that builds, and compute methods whose keyword
arguments are its input ports (the engine calls them with one per connected input)."""
from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import get_args

from .base import Category, Operator, PortType

CATEGORIES: tuple[str, ...] = get_args(Category)
PORT_TYPES: tuple[str, ...] = get_args(PortType)


def check_operator(cls: type[Operator]) -> list[str]:
    """What is wrong with an operator class, each problem prefixed with its name: its
    catalogue entry, port types, params schema, and the keyword arguments of its compute
    methods against its input ports."""
    name = getattr(cls, "name", None) or cls.__qualname__
    return [f"{name}: {problem}" for problem in _problems(cls)]


def _problems(cls: type[Operator]) -> Iterator[str]:
    for attribute in ("name", "label", "category"):
        if not isinstance(getattr(cls, attribute, None), str):
            yield f"sets no {attribute}"
    if getattr(cls, "category", None) not in CATEGORIES:
        yield f"unknown category {getattr(cls, 'category', None)!r} (one of {CATEGORIES})"
    yield from _port_problems(cls)
    yield from _params_problems(cls)
    yield from _compute_problems(cls)


def _port_problems(cls: type[Operator]) -> Iterator[str]:
    for side, ports in (("input", cls.inputs), ("output", cls.outputs)):
        names = [p.name for p in ports]
        if len(set(names)) != len(names):
            yield f"duplicate {side} port names {names}"
        for port in ports:
            if port.type not in PORT_TYPES:
                yield f"{side} port {port.name!r} has unknown type {port.type!r} " \
                      f"(one of {PORT_TYPES})"


def _params_problems(cls: type[Operator]) -> Iterator[str]:
    try:
        cls.Params.model_json_schema()
    except Exception as exc:  # noqa: BLE001 - any failure here is a broken operator
        yield f"params schema does not build: {type(exc).__name__}: {exc}"


def _compute_problems(cls: type[Operator]) -> Iterator[str]:
    overrides = {m for m in ("run", "fit", "apply", "infer_schema")
                 if getattr(cls, m) is not getattr(Operator, m)}
    if "fit" in overrides and "apply" not in overrides:
        yield "implements fit without apply"
    elif "apply" in overrides and "fit" not in overrides:
        yield "implements apply without fit"
    elif not overrides & {"run", "fit"}:
        yield "implements neither run nor fit and apply"
    leading = {"run": ("ctx", "params"), "fit": ("ctx", "params"),
               "apply": ("ctx", "params", "state"), "infer_schema": ("ctx", "params")}
    for method in sorted(overrides):
        yield from _arguments_problems(cls, method, leading[method])


def _arguments_problems(cls: type[Operator], method: str,
                        leading: tuple[str, ...]) -> Iterator[str]:
    """The engine calls ``method(ctx, params, [state,] **inputs)`` with one keyword argument per
    connected input port: each port needs a keyword argument (or ``**inputs``), each keyword
    argument a port, and an optional port's argument a default."""
    arguments = list(inspect.signature(getattr(cls, method)).parameters.values())[1:]
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    head, rest = arguments[:len(leading)], arguments[len(leading):]
    if len(head) < len(leading) or any(a.kind not in positional for a in head):
        yield f"{method}() must take {', '.join(leading)} first"
        return
    ports = {p.name: p for p in cls.inputs}
    known = ", ".join(ports) or "none"
    takes_any = any(a.kind is inspect.Parameter.VAR_KEYWORD for a in rest)
    named = {a.name: a for a in rest if a.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                   inspect.Parameter.KEYWORD_ONLY)}
    for a in rest:
        if a.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.POSITIONAL_ONLY):
            yield f"{method}() takes {a.name!r} by position; inputs come by keyword"
    for argument in named:
        if argument not in ports:
            yield f"{method}() takes {argument!r}, which is not an input port (inputs: {known})"
    for port in ports.values():
        if port.name not in named and not takes_any:
            yield f"{method}() does not take the input port {port.name!r}"
        elif (port.name in named and port.optional and method != "infer_schema"
              and named[port.name].default is inspect.Parameter.empty):
            yield f"{method}() needs a default for the optional input {port.name!r}"
