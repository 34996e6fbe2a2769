"""The one operator registry.

Every operator, built-in or plugin, is found the same way: an entry point of the
``datagran.operators`` group (pyproject.toml) names its class (``module:Class``) or a module
whose operator classes all count. Modules listed in DATAGRAN_OPERATOR_MODULES are read the same
way, for plugins that are not installed as packages. Each operator is checked as the registry
loads (operators/checks.py): a broken one fails the load with an error naming it, and the
``datagran.E001`` system check reports it at start-up.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from importlib import import_module
from importlib.metadata import entry_points
from importlib.util import find_spec
from types import ModuleType
from typing import Any

from .base import Operator
from .checks import CATEGORIES, check_operator

ENTRY_POINT_GROUP = "datagran.operators"
PLUGIN_MODULES_VARIABLE = "DATAGRAN_OPERATOR_MODULES"
NOT_INSTALLED = (f"No operator is declared in the {ENTRY_POINT_GROUP!r} entry point group: the "
                 "datagran project is not installed in this environment (`make deps` runs "
                 "`pip install --no-deps -e .`).")

_registry: dict[str, Operator] = {}
_loaded = False
_load_lock = threading.RLock()


class UnknownOperator(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"Unknown operator {self.name!r}."


class BrokenOperators(Exception):
    """Operators that cannot be registered; each problem starts with the operator's name."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Broken operators:\n" + "\n".join(f"  {p}" for p in problems))
        self.problems = problems


def register(cls: type[Operator]) -> type[Operator]:
    """Class decorator for plugin modules written before entry points: add an operator to the
    registry (names must be unique). Not needed for a class an entry point names."""
    with _load_lock:
        _raise_if(_add(cls))
        if _loaded:
            _raise_if(check_operator(cls))
    return cls


def _add(cls: type[Operator]) -> list[str]:
    existing = _registry.get(cls.name)
    if existing is None:
        _registry[cls.name] = cls()
    elif type(existing) is not cls:
        return [f"{cls.name}: two operators have this name: {type(existing)!r} and {cls!r}"]
    return []


def _raise_if(problems: list[str]) -> None:
    if problems:
        raise BrokenOperators(problems)


# --- discovery ------------------------------------------------------------------------------

def operators_in(obj: Any) -> list[type[Operator]]:
    """What an entry point names: an operator class, or a module and its operator classes
    (those defined there that have a name; imported ones and unnamed bases do not count)."""
    if isinstance(obj, ModuleType):
        return [value for value in vars(obj).values()
                if _is_operator_class(value) and value.__module__ == obj.__name__
                and getattr(value, "name", None)]
    return [obj]


def _is_operator_class(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, Operator) and value is not Operator


def _discover() -> Iterator[tuple[str, type[Operator] | None, str | None]]:
    """(where it was declared, the operator class or None, the problem or None)."""
    declared = entry_points(group=ENTRY_POINT_GROUP)
    if not declared:
        yield "registry", None, NOT_INSTALLED
    for ep in declared:
        where = f"entry point {ep.name!r} ({ep.value})"
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - reported with the entry point's name
            yield where, None, f"cannot be loaded: {type(exc).__name__}: {exc}"
            continue
        if not isinstance(obj, ModuleType) and getattr(obj, "name", ep.name) != ep.name:
            yield where, None, f"names the operator {getattr(obj, 'name', None)!r}"
        for cls in operators_in(obj):
            yield where, cls, None
    for name in plugin_modules():
        for cls in operators_in(import_module(name)):
            yield PLUGIN_MODULES_VARIABLE, cls, None


def _load() -> None:
    """Find and check every operator once. Worker threads may ask at the same moment: the
    lock makes the others wait until the registry is complete, not see it half-filled."""
    global _loaded
    if _loaded:
        return
    with _load_lock:
        if _loaded:
            return
        problems: list[str] = []
        for where, cls, problem in _discover():
            if problem is not None:
                problems.append(f"{where}: {problem}")
            elif cls is not None and not _is_operator_class(cls):
                problems.append(f"{where}: {cls!r} is not an Operator subclass")
            elif cls is not None:
                problems += _add(cls)
        for op in _registry.values():
            problems += check_operator(type(op))
        _raise_if(problems)
        _loaded = True


def reload() -> None:
    """Find the operators again: after installing a plugin into a running process (a notebook,
    a test). Plugin modules already imported are read again, not re-imported."""
    global _loaded
    with _load_lock:
        _registry.clear()
        _loaded = False
        _load()


def plugin_modules() -> list[str]:
    """Plugin modules without an installed package: DATAGRAN_OPERATOR_MODULES, comma-separated
    import paths (read here, not from Django's settings: operators work without Django)."""
    return [n.strip() for n in os.environ.get(PLUGIN_MODULES_VARIABLE, "").split(",")
            if n.strip()]


def check_plugin_modules() -> None:
    """Fail at start-up, naming the variable, when a plugin module cannot be found (the
    registry imports them later, on first use)."""
    for name in plugin_modules():
        try:
            found = find_spec(name) is not None
        except (ImportError, ValueError):  # a parent package is missing, or a bad name
            found = False
        if not found:
            raise ImportError(f"{PLUGIN_MODULES_VARIABLE} names {name!r}, which cannot be "
                              "imported: no such module.")


def get_operator(name: str) -> Operator:
    _load()
    try:
        return _registry[name]
    except KeyError:
        raise UnknownOperator(name) from None


def all_operators() -> list[Operator]:
    _load()
    order = {category: i for i, category in enumerate(CATEGORIES)}
    return sorted(_registry.values(), key=lambda op: (order.get(op.category, 9), op.name))


def check_registry() -> list[str]:
    """Every problem that keeps an operator out of the registry (the start-up check)."""
    try:
        _load()
    except BrokenOperators as exc:
        return exc.problems
    return []
