"""The one operator registry: built-in operators and plugins from the ``datagran.operators``
entry point group. ``check_registry`` runs at start-up (a Django system check)."""
from __future__ import annotations

import os
import threading
from importlib import import_module
from importlib.metadata import entry_points
from importlib.util import find_spec

from .base import Operator

ENTRY_POINT_GROUP = "datagran.operators"
PLUGIN_MODULES_VARIABLE = "DATAGRAN_OPERATOR_MODULES"
BUILTIN_MODULES = (
    "operators.connectors",
    "operators.transforms",
    "operators.models",
    "operators.actions",
)

_registry: dict[str, Operator] = {}
_loaded = False
_load_lock = threading.RLock()


class UnknownOperator(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"Unknown operator {self.name!r}."


def register(cls: type[Operator]) -> type[Operator]:
    """Class decorator: add an operator to the registry (names must be unique)."""
    existing = _registry.get(cls.name)
    if existing is not None and type(existing) is not cls:
        raise ValueError(f"Two operators are named {cls.name!r}: {type(existing)!r} and {cls!r}")
    _registry[cls.name] = cls()
    return cls


def _load() -> None:
    """Import every operator module once. Worker threads may ask at the same moment: the
    lock makes the others wait until the registry is complete, not see it half-filled."""
    global _loaded
    if _loaded:
        return
    with _load_lock:
        if _loaded:
            return
        for module in BUILTIN_MODULES:
            import_module(module)
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            register(ep.load())
        for name in plugin_modules():
            import_module(name)
        _loaded = True


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
    order = {"connector": 0, "transform": 1, "model": 2, "action": 3}
    return sorted(_registry.values(), key=lambda op: (order.get(op.category, 9), op.name))


def check_registry() -> list[str]:
    """Problems that would break the catalogue: each params schema must build, each
    operator must name its category and ports sensibly."""
    problems = []
    for op in all_operators():
        try:
            op.Params.model_json_schema()
        except Exception as exc:  # noqa: BLE001 - any failure here is a broken operator
            problems.append(f"{op.name}: params schema does not build: {exc}")
        if op.category not in ("connector", "transform", "model", "action"):
            problems.append(f"{op.name}: unknown category {op.category!r}")
        names = [p.name for p in op.inputs] + [p.name for p in op.outputs]
        if len({p.name for p in op.inputs}) != len(op.inputs) or len(
            {p.name for p in op.outputs}) != len(op.outputs):
            problems.append(f"{op.name}: duplicate port names {names}")
    return problems
