"""Deciding size inequalities: what the checker proves, refutes, or leaves to a precondition.

Sizes are positive integers; a loop index is not (it runs over its range), so a condition that uses
loop indexes is decided at the ends of their ranges, which is exact when it is multilinear in them
(an affine index, the usual case): true at every end means true for every turn.
"""

from __future__ import annotations


from .. import ir
from ..nodes import mutable
from ..sizes import FloorDiv, Size, Symbol
from .solver import Solver

TRUE, FALSE, UNKNOWN = "true", "false", "unknown"


def nonnegative(size: Size) -> bool | None:
    """Whether `size >= 0` for all positive values of its symbols: True, False, or None (unknown).

    Each symbol is written `1 + x` with `x >= 0`: where every coefficient is then non-negative, so
    is the size (`c*h - c` is `(1 + c')*h'`); where every one is negative or zero, and the constant
    negative, the size is negative.  Floor divisions of a non-negative size by a positive one are
    at least 0, and stay as they are."""
    if size.constant is not None:
        return size.constant >= 0
    atoms = {a for mono, _ in size.terms for a in mono}
    if any(isinstance(a, FloorDiv) and not _floor_nonnegative(a) for a in atoms):
        return None
    shifted = size.substitute(lambda a: Size.of(a) if isinstance(a, FloorDiv) else Size.of(a) + 1)
    coefficients = [c for _, c in shifted.terms]
    if all(c >= 0 for c in coefficients):
        return True
    if all(c <= 0 for c in coefficients) and (shifted.constant if shifted.constant is not None
                                              else dict(shifted.terms).get((), 0)) < 0:
        return False
    return None


def _floor_nonnegative(atom: FloorDiv) -> bool:
    return nonnegative(atom.num) is True and nonnegative(atom.den - 1) is True


def _difference(c: ir.Comparison) -> Size:
    """A size that is >= 0 exactly when the comparison holds (not for `%`)."""
    if c.op == "<=":
        return c.right - c.left
    if c.op == "<":
        return c.right - c.left - 1
    if c.op == ">=":
        return c.left - c.right
    return c.left - c.right - 1


def decide_comparison(c: ir.Comparison) -> bool | None:
    """A comparison over positive sizes (no loop indexes), decided symbolically."""
    if c.op != "%":
        return nonnegative(_difference(c))
    left, right = c.left, c.right
    if right == Size.of(1):
        return True
    if _divides(left) or _divides(right):
        return None
    if right.constant is not None:
        r = right.constant
        if r <= 0:
            return False
        if all(coeff % r == 0 for mono, coeff in left.terms if mono):
            return dict(left.terms).get((), 0) % r == 0  # `left` is this constant modulo r, whatever the sizes
        return None
    quotient = left // right
    if quotient * right == left and not _divides(quotient):
        return True  # an exact multiple: `c % c`, `(2*c) % c`
    return None


def _divides(size: Size) -> bool:
    return any(isinstance(a, FloorDiv) for a in size.atoms())


@mutable
class Decider:
    """Decides the conditions of one definition: `solver` expands named sizes and knows `--sizes`."""

    solver: Solver

    def expand(self, size: Size, concrete: bool) -> Size:
        size = self.solver.expand(size)
        if concrete and self.solver.concrete:
            values = self.solver.concrete
            size = size.substitute(lambda a: Size.of(values[a.name])
                                   if isinstance(a, Symbol) and a.name in values else None)
        return size

    def decide(self, pre: ir.Precondition, concrete: bool) -> str:
        """TRUE, FALSE (it fails whenever the code runs) or UNKNOWN."""
        outcomes = [self.comparison(c, pre.over, concrete) for c in pre.conditions]
        if TRUE in outcomes:
            return TRUE
        if all(o == FALSE for o in outcomes) and self.runs(pre.over, concrete):
            return FALSE
        return UNKNOWN

    def comparison(self, c: ir.Comparison, over: tuple[ir.LoopRange, ...], concrete: bool) -> str:
        case = c.map(lambda s: self.expand(s, concrete))
        indexes = {r.var for r in over}
        if c.op == "%":  # divisibility is not decided by the ends of a range
            return UNKNOWN if case.symbols() & indexes else _outcome([decide_comparison(case)])
        cases = [_difference(case)]  # each must be >= 0
        for loop in reversed(over):  # innermost first: its ends may use the outer indexes
            start, stop = self.expand(loop.start, concrete), self.expand(loop.stop, concrete)
            following = []
            for d in cases:
                if not _multilinear(d, loop.var):
                    return UNKNOWN
                # Affine in the index: where it grows, its least value is at the start of the range,
                # where it shrinks, at the stop (in a loop that runs); otherwise check both.
                slope = Size({tuple(a for a in mono if a is not loop.var): coeff
                              for mono, coeff in d.terms if loop.var in mono})
                ends = [start, stop]
                if not slope.symbols() & indexes:
                    ends = [start] if nonnegative(slope) else [stop] if nonnegative(-slope) else ends
                following += [d.substitute(lambda a, end=end, var=loop.var: end if a is var else None) for end in ends]
            cases = following
        return _outcome([nonnegative(d) for d in cases])

    def runs(self, over: tuple[ir.LoopRange, ...], concrete: bool) -> bool:
        """Whether every loop of `over` provably has a turn (so that a condition false at one end of
        its range does fail): ranges whose ends use no other index, `start <= stop` for all sizes."""
        for loop in over:
            c = ir.Comparison(loop.start, "<=", loop.stop)
            if c.symbols() & {r.var for r in over}:
                return False
            if decide_comparison(c.map(lambda s: self.expand(s, concrete))) is not True:
                return False
        return True


def _outcome(outcomes: list) -> str:
    if all(o is True for o in outcomes):
        return TRUE
    if any(o is False for o in outcomes):
        return FALSE
    return UNKNOWN


def _multilinear(size: Size, var: Symbol) -> bool:
    """`var` appears at most once in each term, and not inside a floor division."""
    for mono, _ in size.terms:
        if mono.count(var) > 1:
            return False
        for a in mono:
            if isinstance(a, FloorDiv) and var in Size.of(a).symbols():
                return False
    return True
