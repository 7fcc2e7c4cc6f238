"""Unification of symbolic sizes, remembering where every solved size came from."""

from __future__ import annotations

from ..diagnostics import Label
from ..ir import Axis, ScalarType
from ..nodes import mutable
from ..sizes import FloorDiv, Size, Symbol, Var, format_size
from ..source import Span


@mutable
class Outcome:
    """Why two sizes could not be unified: `mismatch` (provably different) or `unproven`."""

    reason: str
    expected: Size
    actual: Size


class Solver:
    """Solves the unknowns (`Var`s) of one definition's body.

    `definitions` gives the meaning of named sizes (spec-wide constants, a module's derived sizes) so
    that `nb` and `n1 // 4` compare equal; `concrete` gives values from `ncdc check --sizes`.
    """

    def __init__(self, definitions: dict[Symbol, Size] | None = None, concrete: dict[str, int] | None = None):
        self.bindings: dict[Var, Size] = {}
        self.origins: dict[Var, tuple[Span | None, str]] = {}
        self.definitions = definitions if definitions is not None else {}
        self.concrete = concrete or {}

    def resolve(self, size: Size) -> Size:
        bindings = self.bindings
        if not bindings:
            return size
        for _ in range(64):  # bindings never form cycles; the bound only guards against surprises
            atom = size.atom
            if atom.__class__ is Symbol:  # one named size (the common case): nothing to resolve
                return size
            if atom.__class__ is Var:  # one unknown: its solution, if it has one
                bound = bindings.get(atom)
                if bound is None:
                    return size
                size = bound
                continue
            if bindings.keys().isdisjoint(size.atoms()):
                return size
            size = size.substitute(lambda a: self.bindings.get(a) if isinstance(a, Var) else None)
        return size

    def expand(self, size: Size) -> Size:
        """Named sizes replaced by their definitions, unknowns by their solutions."""
        size = self.resolve(size)
        for _ in range(64):
            if not (size.symbols() & self.definitions.keys()):
                return size
            size = size.substitute(lambda a: self.definitions.get(a) if isinstance(a, Symbol) else None)
            size = self.resolve(size)
        return size

    def resolve_type(self, t):
        if not self.bindings or isinstance(t, ScalarType):
            return t
        if isinstance(t, tuple):
            return tuple(self.resolve_type(x) for x in t)
        return t.map(self.resolve)

    def resolve_axis(self, axis: Axis) -> Axis:
        return axis.map(self.resolve) if self.bindings else axis

    def equal(self, a: Size, b: Size) -> bool:
        return self.expand(a) == self.expand(b)

    def unify(self, expected: Size, actual: Size, origin: Span | None = None, why: str = "") -> Outcome | None:
        """Make `expected` equal `actual` by solving unknowns; None on success."""
        resolved = self.resolve(expected), self.resolve(actual)
        if resolved[0] == resolved[1]:
            return None
        for unknown, other in (resolved, resolved[::-1]):  # an unknown against a size without any:
            one = unknown.atom  # what solving their difference below gives, without the arithmetic
            if isinstance(one, Var):
                known = self.expand(other)
                if known.vars():
                    break
                if known.constant is not None and known.constant <= 0:
                    return Outcome("mismatch", expected, actual)
                self.bindings[one] = other
                self.origins[one] = (origin, why)
                return None
        difference = self.expand(expected) - self.expand(actual)
        if difference.constant == 0:
            return None
        var, value = _solve_linear(difference)
        if var is not None and value is not None and value.constant is not None and value.constant <= 0:
            return Outcome("mismatch", expected, actual)  # sizes are positive: no solution
        if var is not None and value is not None:
            # Prefer the unexpanded spelling (`nb`, not `n1//4`) when it is the same solution.
            for candidate in (self.resolve(actual), self.resolve(expected)):
                if candidate.atom is not var and var not in candidate.vars() and self.expand(candidate) == value:
                    value = candidate
                    break
            self.bindings[var] = value
            self.origins[var] = (origin, why)
            return None
        expected, actual = self.resolve(expected), self.resolve(actual)
        if _no_integer_solution(difference):
            return Outcome("mismatch", expected, actual)
        if difference.vars():
            return Outcome("unproven", expected, actual)
        concrete = self.evaluate(difference)
        if concrete == 0:
            return None
        if concrete is not None or _never_zero(difference):
            return Outcome("mismatch", expected, actual)
        return Outcome("unproven", expected, actual)

    def evaluate(self, size: Size, concrete: bool = True) -> int | None:
        """The value of a size where constants and `--sizes` fix every symbol in it, else None
        (`concrete=False`: where constants alone fix it)."""
        size = self.expand(size)
        env = {s: self.concrete[s.name] for s in size.symbols() if concrete and s.name in self.concrete}
        try:
            return size.evaluate(env)
        except ZeroDivisionError:  # a divisor that is zero for these sizes: nothing to conclude
            return None

    def describe(self, size: Size) -> str:
        """`k`, or `k (= 64)` when `k` is an unknown solved elsewhere or a named size with a value."""
        text = format_size(self.resolve(size))
        value = self.evaluate(size)
        if value is not None and str(value) != text:
            return f"{text} (= {value})"
        return text

    def origins_of(self, *sizes: Size) -> tuple[list[str], list[Label]]:
        """Where the unknowns in `sizes` were solved: a label on the span that fixed each one, or a
        note for one fixed where there is no span."""
        notes, labels = [], []
        for size in sizes:
            for var in sorted(size.vars(), key=lambda v: v.uid):
                if var in self.bindings and var in self.origins:
                    span, why = self.origins[var]
                    whose = f"`{var.name}` of `{var.owner}`" if var.owner else f"`{var.name}`"
                    fixed = f"{whose} was fixed to `{format_size(self.resolve(Size.of(var)))}`"
                    by = f" by {why}" if why else ""
                    if span is not None:
                        labels.append(Label(span, f"{fixed} here{by}"))
                    else:
                        notes.append(fixed + by)
        return notes, labels


def _no_integer_solution(difference: Size) -> bool:
    """`c*v + n == 0` for one unknown `v` and numbers c, n with c not dividing n."""
    terms = dict(difference.terms)
    rest = {m: c for m, c in terms.items() if m != ()}
    if len(rest) != 1:
        return False
    (mono, coeff), = rest.items()
    return len(mono) == 1 and isinstance(mono[0], Var) and terms.get((), 0) % coeff != 0


def _never_zero(difference: Size) -> bool:
    """Sizes are positive: a polynomial over them whose terms all have one sign is never zero."""
    if any(isinstance(a, FloorDiv) for mono, _ in difference.terms for a in mono):
        return False
    signs = {c > 0 for _, c in difference.terms}
    return len(signs) == 1


def _solve_linear(difference: Size) -> tuple[Var | None, Size | None]:
    """Find an unknown `v` with `difference = c*v + rest` (v nowhere else) and solve for it."""
    for var in sorted(difference.vars(), key=lambda v: v.uid):
        coeff = None
        ok = True
        for mono, c in difference.terms:
            if var in mono:
                if mono == (var,) and coeff is None:
                    coeff = c
                else:
                    ok = False
            elif any(isinstance(a, FloorDiv) and var in Size.of(a).atoms() for a in mono):
                ok = False
        if not ok or coeff is None:
            continue
        rest = difference - coeff * Size.of(var)
        if all(c % coeff == 0 for _, c in rest.terms):
            return var, Size({m: -c // coeff for m, c in rest.terms})
    return None, None


def fresh_symbols(size: Size, memo: dict[Var, Symbol]) -> Size:
    """Unknowns that nothing solved (sizes known only at run time) become symbols of their own."""
    if not size.vars():
        return size
    return size.substitute(lambda a: Size.of(memo.setdefault(a, Symbol(a.name))) if isinstance(a, Var) else None)
