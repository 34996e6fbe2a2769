"""A small, safe expression language over table columns, for Derive column.

The text is parsed with ``ast.parse(mode="eval")`` and only a whitelist of node types is
interpreted here, over whole pandas Series; Python itself never evaluates any of it.
Each value carries its schema type, checked by the rules below before pandas sees it, so the
same walk over an empty table validates an expression and predicts its type before running.

    total * 1.2 > 100 and lower(plan) == "pro"
    if_else(is_null(spend), 0, spend) / col("tenure months")
"""
from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from ..base import OperatorError, schema_of
from ._common import NUMERIC, conform

FIELD = "expression"
MAX_LENGTH = 2000
_DUNDER = r"__\w*__"


@dataclass(frozen=True)
class Typed:
    """A Series or a numpy/Python scalar, with its schema type."""

    value: Any
    type: str


def evaluate(text: str, table: pd.DataFrame) -> tuple[pd.Series, str]:
    """The expression's value for every row of ``table`` and its schema type."""
    if len(text) > MAX_LENGTH:
        fail(f"The expression is longer than {MAX_LENGTH} characters.")
    try:
        body = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise _error(f"The expression is not valid: {exc.msg} "
                     f"(at character {exc.offset}).") from None
    except ValueError as exc:  # e.g. a NUL character
        raise _error(f"The expression is not valid: {exc}.") from None
    except (RecursionError, MemoryError):
        raise _error("The expression is too deeply nested.") from None
    interpreter = _Interpreter(table)
    try:
        with np.errstate(all="ignore"):  # log(0), 1/0: -inf and inf, like pandas
            result = interpreter.visit(body)
        return conform(interpreter.broadcast(result.value), result.type), result.type
    except RecursionError:
        raise _error("The expression is too deeply nested.") from None
    except (TypeError, ValueError, OverflowError) as exc:  # pandas refusing the data
        raise _error(f"The expression cannot be computed: {exc}") from None


def _error(message: str) -> OperatorError:
    return OperatorError(message, field=FIELD)


def fail(message: str) -> NoReturn:
    raise _error(message)


_ARITHMETIC: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add), ast.Sub: ("-", operator.sub), ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv), ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", operator.mod), ast.Pow: ("**", operator.pow),
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
# What to call the syntax a user tried, when it is not part of the language.
_REFUSED = {
    ast.Attribute: "attribute access ('.')", ast.Subscript: "indexing ('[...]')",
    ast.Lambda: "lambda", ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "comprehensions",
    ast.IfExp: "'a if cond else b' (use if_else(cond, a, b))", ast.NamedExpr: "':='",
    ast.List: "lists", ast.Tuple: "tuples", ast.Set: "sets", ast.Dict: "dicts",
    ast.JoinedStr: "f-strings", ast.Starred: "'*' arguments", ast.Await: "await",
    ast.BitAnd: "'&' (use and)", ast.BitOr: "'|' (use or)", ast.BitXor: "'^'",
    ast.Invert: "'~' (use not)", ast.LShift: "'<<'", ast.RShift: "'>>'", ast.MatMult: "'@'",
    ast.In: "'in'", ast.NotIn: "'not in'", ast.Is: "'is' (use is_null)",
    ast.IsNot: "'is not' (use not is_null)",
}


def _refuse(node: Any) -> NoReturn:
    what = _REFUSED.get(type(node), type(node).__name__)
    fail(f"Not allowed in an expression: {what}.")


def _unify(what: str, args: list[Typed]) -> str:
    """The one type that ``args`` share (numbers mix into float)."""
    types = {a.type for a in args}
    if len(types) == 1:
        return types.pop()
    if types <= set(NUMERIC):
        return "float"
    return fail(f"{what} needs values of one type; got {' and '.join(sorted(types))}.")


def _expect(arg: Typed, allowed: tuple[str, ...], what: str) -> Typed:
    if arg.type not in allowed:
        fail(f"{what} needs {' or '.join(allowed)} values; got {arg.type}.")
    return arg


def _int_result(exact: Any, approx: Any, what: str) -> Any:
    """``exact``, a 64-bit integer result that numpy wraps around on overflow (2**63 - 1
    squared gives 1), checked against ``approx``, the same computed in floats: a result
    beyond 64 bits either has a float of 2**64 or more or lands on the other sign. (A
    division by zero is no overflow: its float is infinite or NaN and its result missing.)"""
    size = np.abs(approx)
    big = np.isfinite(size) & (size >= 2.0**62)
    if np.any(big):
        wrapped = np.any(big & (size >= 2.0**64)) or np.any(
            (np.sign(approx) != np.sign(exact)) & big)
        if wrapped:
            fail(f"The result of {what!r} is too large for a whole number (64 bits); "
                 "write a float, as in 1.0 * x, to compute in floats.")
    return exact


def _as_float(value: Any) -> Any:
    return value.astype("float64") if isinstance(value, pd.Series) else np.float64(value)


class _Interpreter:
    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        self.types = {c["name"]: c["type"] for c in schema_of(table)}

    def broadcast(self, value: Any) -> pd.Series:
        if isinstance(value, pd.Series):
            return value
        return pd.Series(value, index=self.table.index)

    def visit(self, node: ast.AST) -> Typed:
        method = _NODES.get(type(node))
        return method(self, node) if method else _refuse(node)

    def column(self, name: str) -> Typed:
        if name not in self.types:
            hint = "" if all(n.isidentifier() for n in self.types) else \
                ' Names with spaces or symbols are written col("unit price").'
            fail(f"Unknown column {name!r}; available columns: "
                 f"{', '.join(self.types) or '(none)'}.{hint}")
        return Typed(self.table[name], self.types[name])

    def constant(self, node: ast.Constant) -> Typed:
        value = node.value
        if isinstance(value, bool):
            return Typed(np.bool_(value), "bool")
        if isinstance(value, int):
            if abs(value) >= 2**63:
                fail(f"The number {value} is too large.")
            return Typed(np.int64(value), "int")
        if isinstance(value, float):
            return Typed(np.float64(value), "float")
        if isinstance(value, str):
            if re.search(_DUNDER, value):
                fail(f"Text like {value!r} (double underscores) is not allowed.")
            return Typed(value, "str")
        return fail(f"The constant {value!r} is not allowed (use is_null for missing values).")

    def name(self, node: ast.Name) -> Typed:
        if node.id not in self.types and (node.id in FUNCTIONS or node.id == "col"):
            fail(f"{node.id} is a function: call it, as in {node.id}(...).")
        return self.column(node.id)

    def call(self, node: ast.Call) -> Typed:
        if not isinstance(node.func, ast.Name):
            return _refuse(node.func)
        fname = node.func.id
        if node.keywords:
            fail(f"{fname}() takes no named arguments.")
        if fname == "col":
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant) or not \
                    isinstance(node.args[0].value, str):
                fail('col() takes one column name in quotes, as in col("unit price").')
            return self.column(node.args[0].value)
        if fname not in FUNCTIONS:
            fail(f"{fname!r} is not an allowed function; the functions are: col, "
                 f"{', '.join(sorted(FUNCTIONS))}.")
        least, most, apply = FUNCTIONS[fname]
        if not least <= len(node.args) <= most:
            count = str(least) if least == most else f"{least} to {most}" if most < 99 else \
                f"at least {least}"
            fail(f"{fname}() takes {count} argument(s); got {len(node.args)}.")
        return apply(self, [self.visit(arg) for arg in node.args])

    def binop(self, node: ast.BinOp) -> Typed:
        symbol, fn = _ARITHMETIC.get(type(node.op)) or _refuse(node.op)
        left, right = self.visit(node.left), self.visit(node.right)
        if symbol == "+" and left.type == right.type == "str":
            return Typed(fn(left.value, right.value), "str")
        if left.type not in NUMERIC or right.type not in NUMERIC:
            fail(f"Cannot apply {symbol!r} to {left.type} and {right.type}.")
        if symbol == "**":  # as floats: integer powers overflow or refuse negative exponents
            return Typed(fn(_as_float(left.value), _as_float(right.value)), "float")
        if left.type == right.type == "int" and symbol != "/":
            return Typed(_int_result(fn(left.value, right.value),
                                     fn(_as_float(left.value), _as_float(right.value)),
                                     symbol), "int")
        return Typed(fn(left.value, right.value), "float")

    def unaryop(self, node: ast.UnaryOp) -> Typed:
        arg = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            _expect(arg, ("bool",), "not")
            return Typed(~arg.value if isinstance(arg.value, pd.Series) else not arg.value,
                         "bool")
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            _expect(arg, NUMERIC, "A sign")
            if isinstance(node.op, ast.UAdd):
                return arg
            if arg.type == "int":
                return Typed(_int_result(-arg.value, -_as_float(arg.value), "-"), "int")
            return Typed(-arg.value, arg.type)
        return _refuse(node.op)

    def boolop(self, node: ast.BoolOp) -> Typed:
        what = "and" if isinstance(node.op, ast.And) else "or"
        values = [_expect(self.visit(v), ("bool",), what).value for v in node.values]
        return Typed(reduce(operator.and_ if what == "and" else operator.or_, values), "bool")

    def compare(self, node: ast.Compare) -> Typed:
        # a < b < c means a < b and b < c, as in Python.
        results, left = [], self.visit(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            fn = _COMPARE.get(type(op)) or _refuse(op)
            right = self.visit(right_node)
            result = fn(*self._comparable(left, right))
            if isinstance(result, pd.Series) and result.dtype != bool:
                # Nullable columns compare to <NA>; answer as NaN does: only != is true.
                result = result.fillna(fn is operator.ne).astype(bool)
            results.append(result)
            left = right
        return Typed(reduce(operator.and_, results), "bool")

    def _comparable(self, left: Typed, right: Typed) -> tuple[Any, Any]:
        """Both sides, with a text date compared to a date column read as a date."""
        if {left.type, right.type} == {"datetime", "str"}:
            text = left if left.type == "str" else right
            if isinstance(text.value, pd.Series):
                fail("Cannot compare dates with a text column; cast it to datetime first.")
            try:
                stamp = pd.Timestamp(text.value)
            except ValueError:
                fail(f"{text.value!r} is not a date.")
            return (stamp, right.value) if text is left else (left.value, stamp)
        _unify("A comparison", [left, right])
        return left.value, right.value


_NODES: dict[type, Callable[[_Interpreter, Any], Typed]] = {
    ast.Constant: _Interpreter.constant, ast.Name: _Interpreter.name,
    ast.Call: _Interpreter.call, ast.BinOp: _Interpreter.binop,
    ast.UnaryOp: _Interpreter.unaryop, ast.BoolOp: _Interpreter.boolop,
    ast.Compare: _Interpreter.compare,
}


# --- functions: name -> (fewest arguments, most arguments, implementation) ---------------------

Function = Callable[[_Interpreter, list[Typed]], Typed]


def _float_fn(ufunc: Callable[[Any], Any], fname: str) -> Function:
    def apply(it: _Interpreter, args: list[Typed]) -> Typed:
        return Typed(ufunc(_as_float(_expect(args[0], NUMERIC, f"{fname}()").value)), "float")
    return apply


def _text_fn(method: Callable[[pd.Series], pd.Series], fname: str, result: str) -> Function:
    def apply(it: _Interpreter, args: list[Typed]) -> Typed:
        series = it.broadcast(_expect(args[0], ("str",), f"{fname}()").value)
        return Typed(conform(method(series), result), result)
    return apply


def _date_fn(method: Callable[[pd.Series], pd.Series], fname: str) -> Function:
    def apply(it: _Interpreter, args: list[Typed]) -> Typed:
        series = it.broadcast(_expect(args[0], ("datetime",), f"{fname}()").value)
        return Typed(conform(method(series), "int"), "int")
    return apply


def _abs(it: _Interpreter, args: list[Typed]) -> Typed:
    value = _expect(args[0], NUMERIC, "abs()").value
    if args[0].type == "int":
        return Typed(_int_result(abs(value), abs(_as_float(value)), "abs()"), "int")
    return Typed(abs(value), args[0].type)


def _round(it: _Interpreter, args: list[Typed]) -> Typed:
    number = _expect(args[0], NUMERIC, "round()")
    digits = args[1].value if len(args) > 1 else 0
    if len(args) > 1 and (args[1].type != "int" or isinstance(digits, pd.Series)):
        fail("round()'s second argument must be a whole number, such as 2.")
    value = number.value
    return Typed(value.round(int(digits)) if isinstance(value, pd.Series) else
                 np.round(value, int(digits)), number.type)


def _coalesce(it: _Interpreter, args: list[Typed]) -> Typed:
    kind = _unify("coalesce()", args)
    values = [conform(it.broadcast(a.value), kind) for a in args]
    return Typed(reduce(lambda acc, nxt: acc.fillna(nxt), values), kind)


def _if_else(it: _Interpreter, args: list[Typed]) -> Typed:
    cond = it.broadcast(_expect(args[0], ("bool",), "if_else()'s condition").value)
    kind = _unify("if_else()", args[1:])
    yes, no = (conform(it.broadcast(a.value), kind) for a in args[1:])
    # A missing condition is not true: the row takes the "else" value.
    return Typed(yes.where(cond.fillna(False).astype(bool), no), kind)


def _is_null(it: _Interpreter, args: list[Typed]) -> Typed:
    return Typed(it.broadcast(args[0].value).isna(), "bool")


FUNCTIONS: dict[str, tuple[int, int, Function]] = {
    "abs": (1, 1, _abs),
    "round": (1, 2, _round),
    "log": (1, 1, _float_fn(np.log, "log")),
    "exp": (1, 1, _float_fn(np.exp, "exp")),
    "sqrt": (1, 1, _float_fn(np.sqrt, "sqrt")),
    "lower": (1, 1, _text_fn(lambda s: s.str.lower(), "lower", "str")),
    "upper": (1, 1, _text_fn(lambda s: s.str.upper(), "upper", "str")),
    "len": (1, 1, _text_fn(lambda s: s.str.len(), "len", "int")),
    "coalesce": (2, 99, _coalesce),
    "if_else": (3, 3, _if_else),
    "year": (1, 1, _date_fn(lambda s: s.dt.year, "year")),
    "month": (1, 1, _date_fn(lambda s: s.dt.month, "month")),
    "day": (1, 1, _date_fn(lambda s: s.dt.day, "day")),
    "is_null": (1, 1, _is_null),
}
