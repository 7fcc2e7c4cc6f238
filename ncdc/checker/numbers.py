"""Arithmetic on constant numbers in bodies, bounded at check time.

The generated code computes `2 ** 2 ** 2 ** 40` at run time, where Python's integers would grow
without end; so a constant number, and every step on the way to it, must be a finite float
(at most about 1.8e308) or an integer of at most that size (E0006).
"""

from __future__ import annotations

import math
import sys

from ..diagnostics import Diagnostic, NcdcError
from .. import ir

LIMIT = sys.float_info.max


def check_constant(node: ir.Value, solver) -> None:
    """Raise E0006 if the scalar expression `node` is constant and out of range; `solver` knows the
    values of spec-wide constants."""
    constant(node, solver)


def constant(node: ir.Value, solver) -> int | float | None:
    """The value of a scalar expression of numbers and sizes that constants fix, else None."""
    if isinstance(node, ir.Const):
        return node.value
    if isinstance(node, ir.SizeValue):
        return solver.expand(node.size).constant
    if isinstance(node, ir.Neg):
        value = constant(node.operand, solver)
        return None if value is None else -value
    if not isinstance(node, ir.ScalarBinary):
        return None
    left, right = constant(node.left, solver), constant(node.right, solver)
    if left is None or right is None:
        return None
    value = _apply(node.op, left, right, node)
    if isinstance(value, complex):
        return None
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
        if op == "/":
            return left / right if right else None
        if op == "//":
            return left // right if right else None
        if op == "**":
            if left == 0:
                return None if right < 0 else left ** right
            if right * math.log2(abs(left)) > 1024:  # more than a float's range (the sign of 0.5 ** -2000)
                _too_large(node)
            return left ** right
    except OverflowError:
        _too_large(node)
    except ZeroDivisionError:
        return None
    return None


def _too_large(node: ir.Value):
    raise NcdcError(Diagnostic("E0006", "this number is too large", node.span, "beyond the range of a float",
                               help="a number in an expression is a finite float, at most about 1.8e308"))
