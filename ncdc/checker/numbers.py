"""Arithmetic on constant numbers in bodies, bounded at check time.

The generated code computes `2 ** 2 ** 2 ** 40` at run time, where Python's integers would grow
without end; so a constant number, and every step on the way to it, must be a finite float
(at most about 1.8e308) or an integer of at most that size (E0006).  The generated code computes
scalar functions with `math` and raises where a function is undefined, so a constant must also be
defined: no `log(0.0)`, `sqrt(-1.0)`, division by zero or `0.0 ** -1` (E0009).
"""

from __future__ import annotations

import math
import sys

from ..diagnostics import Diagnostic, NcdcError
from .. import ir

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2.4 ms of `import ncdc`)
if TYPE_CHECKING:
    from typing import Any, Callable

LIMIT = sys.float_info.max


def check_constant(node: ir.Value, solver) -> None:
    """Raise E0006 if the scalar expression `node` is constant and out of range; `solver` knows the
    values of spec-wide constants."""
    constant(node, solver)


def check_tensor_operand(node: ir.Value, solver) -> None:
    """Raise E0006 if the number `node`, beside a wire (in arithmetic, a comparison, `where`), is a
    constant integer that torch cannot hold (it takes a Python integer beside a tensor as a 64-bit
    one); where `node` is of sizes known at run time only, its largest constant parts."""
    number = constant(node, solver)
    if number is None:
        for part in (node.left, node.right) if isinstance(node, ir.ScalarBinary) else \
                (node.operand,) if isinstance(node, (ir.Neg, ir.ScalarFn)) else ():
            check_tensor_operand(part, solver)
    elif isinstance(number, int) and not -2 ** 63 <= number < 2 ** 63:
        raise NcdcError(Diagnostic("E0006", "this number is too large to use beside a wire", node.span,
                                   f"{_show(number)} is beyond a 64-bit integer", help="write it as a float: "
                                   f"`{float(number)!r}`, which torch takes as one"))


def constant(node: ir.Value, solver) -> int | float | None:
    """The value of a scalar expression of numbers and sizes that constants fix, else None."""
    if isinstance(node, ir.Const):
        return node.value
    if isinstance(node, ir.SizeValue):
        return solver.expand(node.size).constant
    if isinstance(node, ir.Neg):
        value = constant(node.operand, solver)
        return None if value is None else -value
    if isinstance(node, ir.ScalarFn):
        value = constant(node.operand, solver)
        return None if value is None else _function(node.fn, value, node)
    if not isinstance(node, ir.ScalarBinary):
        return None
    left, right = constant(node.left, solver), constant(node.right, solver)
    if left is None or right is None:
        return None
    value = _apply(node.op, left, right, node)
    if isinstance(value, complex):
        _undefined(node, f"`{_show(left, True)} ** {_show(right, True)}` is not a real number",
                   "a negative number to a fractional power")
    if value is not None and (abs(value) > LIMIT or (isinstance(value, float) and not math.isfinite(value))):
        _too_large(node)
    return value


def _apply(op: str, left, right, node: ir.Value):
    try:
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if op in ("/", "//") and not right:
            _undefined(node, "division by zero", f"`{op}` by a constant zero")
        if op == "/":
            return left / right
        if op == "//":
            return left // right
        if op == "**":
            if left == 0:
                if right < 0:
                    _undefined(node, "zero to a negative power", "a division by zero")
                return left ** right
            if right * math.log2(abs(left)) > 1024:  # more than a float's range (the sign of 0.5 ** -2000)
                _too_large(node)
            return left ** right
    except OverflowError:
        _too_large(node)
    except ZeroDivisionError:
        return None
    return None


FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "abs": abs, "sin": math.sin, "cos": math.cos,
    "tanh": math.tanh,
}


def _function(fn: str, value, node: ir.ScalarFn):
    """A scalar function of a constant, as the generated code's `math` computes it."""
    if fn == "sqrt" and value < 0:
        _undefined(node, f"`sqrt` of a negative number, `{_show(value)}`", "the square root of a negative number")
    if fn == "log" and value <= 0:
        _undefined(node, f"`log` of a number that is not positive, `{_show(value)}`", "the logarithm of "
                   + ("zero" if value == 0 else "a negative number"))
    function = FUNCTIONS.get(fn)
    if function is None:
        return None
    try:
        result = function(value)
    except OverflowError:
        _too_large(node)
    except ValueError:
        _undefined(node, f"`{fn}` is undefined at `{_show(value)}`", "outside the function's domain")
    if abs(result) > LIMIT:
        _too_large(node)
    return result


def _show(value, operand: bool = False) -> str:
    text = repr(value) if isinstance(value, float) else str(value)
    return f"({text})" if operand and value < 0 else text


def _undefined(node: ir.Value, message: str, label: str):
    raise NcdcError(Diagnostic("E0009", f"this constant is undefined: {message}", node.span, label,
                               help="the generated code computes this number with Python's `math`, "
                                    "which would raise an error here"))


def _too_large(node: ir.Value):
    raise NcdcError(Diagnostic("E0006", "this number is too large", node.span, "beyond the range of a float",
                               help="a number in an expression is a finite float, at most about 1.8e308"))
