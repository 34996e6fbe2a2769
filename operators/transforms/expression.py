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
from ..tables import ident, lit
from ._common import NUMERIC, conform, nullable

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


def columns_read(text: str) -> set[str] | None:
    """The column names the expression reads (bare names outside a call's function position,
    and ``col("...")``'s argument); ``None`` when it does not parse (then it reads anything,
    and running it says what is wrong)."""
    try:
        body = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    names: set[str] = set()
    functions = {id(n.func) for n in ast.walk(body) if isinstance(n, ast.Call)}
    for node in ast.walk(body):
        if isinstance(node, ast.Name) and id(node) not in functions:
            names.add(node.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id == "col" and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            names.add(node.args[0].value)
    return names


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


def _int_division(fn: Callable[[Any, Any], Any], left: Any, right: Any) -> Any:
    """``left // right`` or ``left % right`` on whole numbers, missing where ``right`` is 0
    (pandas gives infinity for a column, numpy 0 for two constants: neither is a whole
    number, and infinity compared as larger than any number)."""
    if not isinstance(left, pd.Series) and not isinstance(right, pd.Series):
        return np.nan if right == 0 or pd.isna(right) or pd.isna(left) else fn(left, right)
    result = conform(fn(left, right), "int")  # infinity: missing
    zero = (right == 0).fillna(False) if isinstance(right, pd.Series) else \
        pd.Series(right == 0, index=result.index)
    # pandas' nullable integers (Int64) give 0 where numpy's give infinity.
    return nullable(result).mask(zero) if np.any(zero) else result


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
        if left.type == right.type == "int" and symbol in ("//", "%"):
            return Typed(_int_division(fn, left.value, right.value), "int")
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


# round()'s digits: 10 to their power must be a double (the engines scale by it).
MAX_ROUND_DIGITS = 300


def _round_digits(digits: int) -> int:
    if abs(digits) > MAX_ROUND_DIGITS:
        fail(f"round()'s second argument must be between -{MAX_ROUND_DIGITS} and "
             f"{MAX_ROUND_DIGITS}.")
    return digits


def _round(it: _Interpreter, args: list[Typed]) -> Typed:
    number = _expect(args[0], NUMERIC, "round()")
    digits = args[1].value if len(args) > 1 else 0
    if len(args) > 1 and (args[1].type != "int" or isinstance(digits, pd.Series)):
        fail("round()'s second argument must be a whole number, such as 2.")
    value, digits = number.value, _round_digits(int(digits))
    return Typed(value.round(digits) if isinstance(value, pd.Series) else
                 np.round(value, digits), number.type)


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


# --- the same language as SQL, for the engines ----------------------------------------------------
#
# Each node becomes SQL with pandas' meaning (a missing value is NULL; a float's NaN is made
# NULL, as pandas holds both as NaN): a comparison with a missing value is false (``!=``
# true), ``/`` by zero gives infinity, ``//`` and ``%`` by zero a missing whole number, and
# so on. Names and values enter only through ``ident`` and ``lit``. An operand that a rule
# reads more than once (``a / b`` tests ``b`` before dividing) is computed once, as a helper
# column of an earlier SELECT ("a binding"), so the SQL grows linearly with the expression.

_NAN = "CAST('nan' AS DOUBLE)"
_INF = "CAST('inf' AS DOUBLE)"


@dataclass(frozen=True)
class Sql:
    """SQL for one value, its schema type, and the binding level it reads (0: none)."""

    text: str
    type: str
    level: int = 0
    simple: bool = False  # a column, a binding or a literal: cheap to repeat


@dataclass(frozen=True)
class Binding:
    name: str
    sql: str
    type: str
    level: int


def _over_zero(a: str, b: str) -> str:
    """``a / b`` where ``b`` is zero, as IEEE divides: infinity of the signs of both (``b``
    may be -0.0, whose sign no comparison shows and Spark's ``atan2`` drops: its text keeps
    it on both engines), NaN for 0 / 0."""
    return f"{a} * CASE WHEN CAST({b} AS VARCHAR) LIKE '-%' THEN - {_INF} ELSE {_INF} END"


def _no_nan(sql: str) -> str:
    return f"nullif({sql}, {_NAN})"


def _double(arg: Sql) -> str:
    return f"CAST({arg.text} AS DOUBLE)" if arg.type == "int" else arg.text


def _rint(sql: str, engine: str) -> str:
    """Round half to even, as numpy does (``round_even`` is DuckDB's name, ``rint`` Spark's)."""
    return f"rint({sql})" if engine == "spark" else f"round_even({sql}, 0)"


class _Compiler:
    """The parsed expression as SQL; run only after ``evaluate`` accepted it over an empty
    table of the same schema, so every check and type rule has already passed."""

    def __init__(self, table: pd.DataFrame, engine: str, taken: set[str]) -> None:
        self.interpreter = _Interpreter(table)
        self.types, self.engine, self.taken = self.interpreter.types, engine, taken
        self.bindings: list[Binding] = []

    def bind(self, arg: Sql) -> Sql:
        """``arg`` as a helper column computed once in an earlier SELECT."""
        if arg.simple:
            return arg
        name = f"_dg_{len(self.bindings)}"
        while name in self.taken:
            name = f"_{name}"
        self.taken.add(name)
        self.bindings.append(Binding(name, arg.text, arg.type, arg.level + 1))
        return Sql(ident(name), arg.type, arg.level + 1, simple=True)

    def visit(self, node: ast.AST) -> Sql:
        method = _SQL_NODES[type(node)]
        return method(self, node)

    def column(self, name: str) -> Sql:
        col_type = self.types[name]
        text = _no_nan(ident(name)) if col_type == "float" else ident(name)
        return Sql(text, col_type, simple=True)

    def constant(self, node: ast.Constant) -> Sql:
        value = node.value
        if isinstance(value, bool):
            return Sql("true" if value else "false", "bool", simple=True)
        if isinstance(value, int):
            return Sql(f"CAST({lit(value)} AS BIGINT)", "int", simple=True)
        if isinstance(value, float):
            text = f"CAST({lit(value)} AS DOUBLE)"
            return Sql(_no_nan(text) if value != value else text, "float", simple=True)
        return Sql(lit(value), "str", simple=True)

    def name(self, node: ast.Name) -> Sql:
        return self.column(node.id)

    def call(self, node: ast.Call) -> Sql:
        fname = node.func.id  # type: ignore[attr-defined]
        if fname == "col":
            return self.column(node.args[0].value)  # type: ignore[attr-defined]
        if fname == "round":
            digits = int(self.interpreter.visit(node.args[1]).value) if len(node.args) > 1 \
                else 0
            return _round_sql(self, self.visit(node.args[0]), _round_digits(digits))
        return _SQL_FUNCTIONS[fname](self, [self.visit(arg) for arg in node.args])

    def binop(self, node: ast.BinOp) -> Sql:
        symbol = _ARITHMETIC[type(node.op)][0]
        left, right = self.visit(node.left), self.visit(node.right)
        level = max(left.level, right.level)
        if symbol == "+" and left.type == right.type == "str":
            return Sql(f"({left.text} || {right.text})", "str", level)
        ints = left.type == right.type == "int"
        if ints and symbol in ("+", "-", "*"):
            return Sql(f"({left.text} {symbol} {right.text})", "int", level)
        if ints and symbol in ("//", "%"):
            return _int_division_sql(self, symbol, left, right)
        if symbol in ("+", "-", "*"):
            return Sql(_no_nan(f"({_double(left)} {symbol} {_double(right)})"), "float", level)
        a, b = self.bind(Sql(_double(left), "float", left.level, left.simple)), \
            self.bind(Sql(_double(right), "float", right.level, right.simple))
        level = max(a.level, b.level)
        if symbol == "/":
            return Sql(_no_nan(f"CASE WHEN {b.text} = 0 THEN {_over_zero(a.text, b.text)} "
                               f"ELSE {a.text} / nullif({b.text}, 0) END"), "float", level)
        if symbol == "**":  # numpy: x ** 0 and 1 ** y are 1, even for a missing x or y
            return Sql(_no_nan(f"CASE WHEN {b.text} = 0 OR {a.text} = 1 THEN "
                               f"CAST(1 AS DOUBLE) ELSE power({a.text}, {b.text}) END"),
                       "float", level)
        return _float_division_sql(self, symbol, a, b)

    def unaryop(self, node: ast.UnaryOp) -> Sql:
        arg = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return Sql(f"(NOT {arg.text})", "bool", arg.level)
        if isinstance(node.op, ast.UAdd):
            return arg
        return Sql(f"(- {arg.text})", arg.type, arg.level)

    def boolop(self, node: ast.BoolOp) -> Sql:
        values = [self.visit(v) for v in node.values]
        joiner = " AND " if isinstance(node.op, ast.And) else " OR "
        return Sql("(" + joiner.join(v.text for v in values) + ")", "bool",
                   max(v.level for v in values))

    def compare(self, node: ast.Compare) -> Sql:
        sql_ops = {ast.Eq: "=", ast.NotEq: "<>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
                   ast.GtE: ">="}
        nodes = [node.left, *node.comparators]
        values = [self.visit(n) for n in nodes]
        if len(values) > 2:  # the middle operands are read twice
            values = [values[0], *(self.bind(v) for v in values[1:-1]), values[-1]]
        parts = []
        for i, op in enumerate(node.ops):
            left, right = self._comparable(nodes[i], values[i], nodes[i + 1], values[i + 1])
            missing = "true" if isinstance(op, ast.NotEq) else "false"
            parts.append(f"coalesce({left} {sql_ops[type(op)]} {right}, {missing})")
        return Sql("(" + " AND ".join(parts) + ")", "bool", max(v.level for v in values))

    def _comparable(self, left_node: ast.AST, left: Sql, right_node: ast.AST, right: Sql
                    ) -> tuple[str, str]:
        """Both sides; a date written as text (a constant: ``evaluate`` refused a column)
        compared with a date column is a timestamp literal."""
        if {left.type, right.type} == {"datetime", "str"}:
            text_node = left_node if left.type == "str" else right_node
            stamp = lit(pd.Timestamp(self.interpreter.visit(text_node).value))
            return (stamp, right.text) if left.type == "str" else (left.text, stamp)
        return left.text, right.text


def _int_division_sql(c: _Compiler, symbol: str, left: Sql, right: Sql) -> Sql:
    """Python's ``//`` (towards minus infinity) and ``%`` (the divisor's sign) on whole
    numbers; the engines truncate towards zero. By zero: missing."""
    # A zero divisor made NULL: every part is then NULL, and no engine folds a constant
    # division by zero into an error.
    a, b = c.bind(left), c.bind(Sql(f"nullif({right.text}, 0)", "int", right.level))
    level = max(a.level, b.level)
    rem = f"({a.text} % {b.text})"
    signs_differ = f"({rem} <> 0 AND (({rem} < 0) <> ({b.text} < 0)))"
    if symbol == "//":
        body = f"({a.text} // {b.text}) - CASE WHEN {signs_differ} THEN 1 ELSE 0 END"
    else:
        body = f"CASE WHEN {signs_differ} THEN {rem} + {b.text} ELSE {rem} END"
    return Sql(f"({body})", "int", level)


def _float_division_sql(c: _Compiler, symbol: str, a: Sql, b: Sql) -> Sql:
    """numpy's ``floor_divide`` and ``remainder`` on floats (its ``divmod``): ``fmod``, then
    the remainder moved to the divisor's sign, the quotient rounded as numpy rounds it."""
    mod = c.bind(Sql(f"{a.text} % nullif({b.text}, 0)", "float", max(a.level, b.level)))
    moved = f"({mod.text} <> 0 AND (({b.text} < 0) <> ({mod.text} < 0)))"
    if symbol == "%":
        return Sql(_no_nan(f"CASE WHEN {moved} THEN {mod.text} + {b.text} "
                           f"ELSE {mod.text} END"), "float", mod.level)
    div = c.bind(Sql(f"(({a.text} - {mod.text}) / nullif({b.text}, 0)) - CASE WHEN {moved} THEN 1 "
                     "ELSE 0 END", "float", mod.level))
    floor = f"floor({div.text})"
    return Sql(_no_nan(f"CASE WHEN {b.text} = 0 THEN {_over_zero(a.text, b.text)} ELSE {floor} + "
                       f"CASE WHEN {div.text} - {floor} > 0.5 THEN 1 ELSE 0 END END"),
               "float", div.level)


def _round_sql(c: _Compiler, number: Sql, digits: int) -> Sql:
    """numpy's round: half to even of the number scaled by 10**digits."""
    if number.type == "int" and digits >= 0:
        return number
    scale = f"CAST({lit(10.0 ** abs(digits))} AS DOUBLE)"
    value = _double(number)
    scaled = f"{_rint(f'{value} * {scale}', c.engine)} / {scale}" if digits >= 0 else \
        f"{_rint(f'{value} / {scale}', c.engine)} * {scale}"
    if number.type == "int":
        return Sql(f"CAST({scaled} AS BIGINT)", "int", number.level)
    return Sql(_no_nan(scaled), "float", number.level)


def _sql_unify(args: list[Sql]) -> tuple[str, list[str]]:
    types = {a.type for a in args}
    kind = types.pop() if len(types) == 1 else "float"
    return kind, [_double(a) if kind == "float" else a.text for a in args]


def _sql_coalesce(c: _Compiler, args: list[Sql]) -> Sql:
    kind, texts = _sql_unify(args)
    return Sql(f"coalesce({', '.join(texts)})", kind, max(a.level for a in args))


def _sql_if_else(c: _Compiler, args: list[Sql]) -> Sql:
    kind, (yes, no) = _sql_unify(args[1:])
    return Sql(f"CASE WHEN {args[0].text} THEN {yes} ELSE {no} END", kind,
               max(a.level for a in args))


def _sql_log(c: _Compiler, args: list[Sql]) -> Sql:
    x = c.bind(Sql(_double(args[0]), "float", args[0].level, args[0].simple))
    return Sql(f"CASE WHEN {x.text} > 0 THEN ln({x.text}) WHEN {x.text} = 0 THEN - {_INF} END",
               "float", x.level)


def _sql_call(template: str, result: str | None = None, *, double: bool = False,
              no_nan: bool = False) -> Callable[[_Compiler, list[Sql]], Sql]:
    def apply(c: _Compiler, args: list[Sql]) -> Sql:
        arg = args[0]
        text = template.format(_double(arg) if double else arg.text)
        return Sql(_no_nan(text) if no_nan else text, result or arg.type, arg.level)
    return apply


_SQL_FUNCTIONS: dict[str, Callable[[_Compiler, list[Sql]], Sql]] = {
    "abs": _sql_call("abs({})"),
    "log": _sql_log,
    "exp": _sql_call("exp({})", "float", double=True),
    "sqrt": _sql_call("sqrt({})", "float", double=True, no_nan=True),
    "lower": _sql_call("lower({})"),
    "upper": _sql_call("upper({})"),
    "len": _sql_call("CAST(length({}) AS BIGINT)", "int"),
    "coalesce": _sql_coalesce,
    "if_else": _sql_if_else,
    "year": _sql_call("CAST(year({}) AS BIGINT)", "int"),
    "month": _sql_call("CAST(month({}) AS BIGINT)", "int"),
    "day": _sql_call("CAST(day({}) AS BIGINT)", "int"),
    "is_null": _sql_call("({} IS NULL)", "bool"),
}
_SQL_NODES: dict[type, Callable[[_Compiler, Any], Sql]] = {
    ast.Constant: _Compiler.constant, ast.Name: _Compiler.name, ast.Call: _Compiler.call,
    ast.BinOp: _Compiler.binop, ast.UnaryOp: _Compiler.unaryop, ast.BoolOp: _Compiler.boolop,
    ast.Compare: _Compiler.compare,
}


@dataclass(frozen=True)
class Compiled:
    """The expression as SQL (``sql``, of schema type ``type``) over the table's columns and
    the helper columns of ``layers``: each layer's (name, SQL, type) are selected, beside
    every column, from the previous one (the first from the table)."""

    sql: str
    type: str
    layers: list[list[tuple[str, str, str]]]


def compile_sql(text: str, table: pd.DataFrame, *, engine: str) -> Compiled:
    """``text`` as SQL over a table with ``table``'s columns (an empty frame of its schema);
    every OperatorError ``evaluate`` raises, raised the same."""
    _, col_type = evaluate(text, table)
    body = ast.parse(text.strip(), mode="eval").body
    compiler = _Compiler(table, engine, {str(c) for c in table.columns})
    result = compiler.visit(body)
    levels = max((b.level for b in compiler.bindings), default=0)
    layers = [[(b.name, b.sql, b.type) for b in compiler.bindings if b.level == level]
              for level in range(1, levels + 1)]
    return Compiled(result.text, col_type, layers)
