"""Symbolic sizes: polynomials with integer coefficients over size symbols and floor divisions.

Every size is kept in a normal form, so that two sizes are provably equal when their normal forms
are equal.  Symbols stand for positive integers.  `Var`s are unknowns solved by unification.
"""

from __future__ import annotations

import itertools

from .nodes import field, frozen

_ids = itertools.count()


@frozen(eq=False)
class Symbol:
    """A named size: a hyperparameter, a generic size of a def, or a spec-wide constant."""

    name: str
    uid: int = field(default_factory=lambda: next(_ids))

    def sort_key(self):
        return (0, self.uid)

    def __repr__(self):
        return self.name


@frozen(eq=False)
class Var:
    """An unknown size, created when a generic callee is instantiated at a call."""

    name: str
    uid: int = field(default_factory=lambda: next(_ids))
    owner: str = ""  # the callee whose generic size this stands for

    def sort_key(self):
        return (1, self.name, self.uid)

    def __repr__(self):
        return self.name


@frozen
class FloorDiv:
    """`num // den`, kept as an atom when it cannot be simplified."""

    num: Size
    den: Size

    def sort_key(self):
        return (2, _terms_key(self.num), _terms_key(self.den))

    def __repr__(self):
        return f"{_paren(self.num)}//{_paren(self.den)}"


Atom = Symbol | Var | FloorDiv
Monomial = tuple  # a sorted tuple of atoms (repeated for powers)


def _terms_key(size: Size):
    """A total order on sizes by structure (two different symbols may print alike)."""
    return tuple((_mono_key(mono), coeff) for mono, coeff in size.terms)


def _atom_key(atom: Atom):
    return atom.sort_key()


def _mono_key(mono: Monomial):
    return (len(mono), [a.sort_key() for a in mono])


class Size:
    """An immutable polynomial; build with `Size.of`, `+ - * //`; `atom` is the atom if the size is
    exactly one symbol, var or floor division, else None (set when the size is made: many checks
    ask it)."""

    __slots__ = ("terms", "_hash", "_atoms", "atom")
    terms: tuple[tuple[Monomial, int], ...]
    _atoms: frozenset[Atom] | None
    atom: Atom | None

    def __init__(self, terms: dict[Monomial, int]):
        items = [(m, c) for m, c in terms.items() if c != 0]
        if len(items) > 1:
            items.sort(key=lambda mc: _mono_key(mc[0]))
        normal = self.terms = tuple(items)
        self._hash = hash(normal)
        self._atoms = None
        self.atom = normal[0][0][0] if len(normal) == 1 and normal[0][1] == 1 and len(normal[0][0]) == 1 else None

    @staticmethod
    def of(value: int | Atom | Size) -> Size:
        if isinstance(value, Size):
            return value
        if isinstance(value, int):
            if value == 1 or value == 0:
                return _ONE if value else _ZERO  # the most common (sizes never change: one of each will do)
            return Size._normal(((), value),)
        return Size._normal(((value,), 1),)

    @staticmethod
    def _normal(*terms: tuple[Monomial, int]) -> Size:
        """A size from terms already in normal form (sorted, no zero coefficients)."""
        size = object.__new__(Size)
        size.terms = terms
        size._hash = hash(terms)
        size._atoms = None
        size.atom = terms[0][0][0] if len(terms) == 1 and terms[0][1] == 1 and len(terms[0][0]) == 1 else None
        return size

    # ---- queries
    def __eq__(self, other):
        other = _coerce(other)
        return other is not NotImplemented and self.terms == other.terms

    def __hash__(self):
        return self._hash

    @property
    def constant(self) -> int | None:
        if not self.terms:
            return 0
        if len(self.terms) == 1 and self.terms[0][0] == ():
            return self.terms[0][1]
        return None

    def atoms(self) -> frozenset[Atom]:
        found = self._atoms
        if found is None:  # computed once: a size never changes
            atoms: set[Atom] = set()
            for mono, _ in self.terms:
                for a in mono:
                    atoms.add(a)
                    if isinstance(a, FloorDiv):
                        atoms |= a.num.atoms() | a.den.atoms()
            found = self._atoms = frozenset(atoms)
        return found

    def vars(self) -> set[Var]:
        return {a for a in self.atoms() if isinstance(a, Var)}

    def symbols(self) -> set[Symbol]:
        return {a for a in self.atoms() if isinstance(a, Symbol)}

    # ---- arithmetic
    def __add__(self, other):
        return self._plus(_coerce(other), 1)

    __radd__ = __add__

    def __neg__(self):
        return Size._normal(*((m, -c) for m, c in self.terms))  # still sorted, still without zeros

    def __sub__(self, other):
        return self._plus(_coerce(other), -1)

    def _plus(self, other: Size, sign: int) -> Size:
        """`self + sign * other`, made once (not `-other` first)."""
        terms = dict(self.terms)
        for m, c in other.terms:
            terms[m] = terms.get(m, 0) + sign * c
        return Size(terms)

    def __rsub__(self, other):
        return _coerce(other) - self

    def __mul__(self, other):
        other = _coerce(other)
        terms: dict[Monomial, int] = {}
        for (m1, c1), (m2, c2) in itertools.product(self.terms, other.terms):
            mono = tuple(sorted(m1 + m2, key=_atom_key))
            terms[mono] = terms.get(mono, 0) + c1 * c2
        return Size(terms)

    __rmul__ = __mul__

    def __pow__(self, exponent: int):
        """By repeated squaring: log2(exponent) multiplications (callers bound the exponent)."""
        if exponent < 0:
            raise ValueError("a size has no negative powers")
        result, square = Size.of(1), self
        while exponent:
            if exponent & 1:
                result = result * square
            exponent >>= 1
            if exponent:
                square = square * square
        return result

    def __floordiv__(self, other):
        other = _coerce(other)
        d = other.constant
        if d is not None:
            if d <= 0:
                raise ZeroDivisionError("division of a size by a non-positive number")
            if d == 1:
                return self
            exact = {m: c - c % d for m, c in self.terms}
            rest = {m: c % d for m, c in self.terms}
            quotient = Size({m: c // d for m, c in exact.items()})
            rest = Size(rest)
            if rest.constant is not None:
                return quotient + rest.constant // d
            inner = rest.atom
            if isinstance(inner, FloorDiv) and inner.den.constant is not None:  # (a // b) // d
                return quotient + inner.num // (inner.den.constant * d)
            return quotient + Size.of(FloorDiv(rest, other))
        divided = _divide_exactly(self, other)
        if divided is not None:
            return divided
        # (p + q*d) // d == p // d + q when d is one monomial dividing the terms moved to q.
        quotient, rest = Size.of(0), {}
        for mono, coeff in self.terms:
            term = _divide_exactly(Size({mono: coeff}), other)
            if term is None:
                rest[mono] = coeff
            else:
                quotient = quotient + term
        if quotient.terms and rest:
            return quotient + Size(rest) // other
        return Size.of(FloorDiv(self, other))

    # ---- substitution and evaluation
    def substitute(self, mapping) -> Size:
        """Replace atoms: `mapping(atom)` returns a Size or None to keep the atom."""
        terms = self.terms
        if len(terms) == 1 and terms[0][1] == 1 and len(terms[0][0]) == 1 \
                and not isinstance(terms[0][0][0], FloorDiv):  # one atom (the common case): its replacement
            replaced = mapping(terms[0][0][0])
            if replaced is None:
                return self
            if isinstance(replaced, Size):
                return replaced
        if not any(isinstance(a, FloorDiv) or mapping(a) is not None for mono, _ in self.terms for a in mono):
            return self  # nothing to replace (the common case): no new polynomial
        # Expanded on plain dictionaries of terms, made one normal form at the end (not a polynomial
        # per factor and per term, each sorted and hashed).
        result: dict[Monomial, int] = {}
        for mono, coeff in self.terms:
            expanded: dict[tuple, int] = {(): coeff}  # the term so far, its monomials not yet sorted
            for a in mono:
                replaced = mapping(a)
                if replaced is None:
                    if not isinstance(a, FloorDiv):
                        expanded = {m + (a,): c for m, c in expanded.items()}
                        continue
                    replaced = a.num.substitute(mapping) // a.den.substitute(mapping)
                product: dict[tuple, int] = {}
                for m, c in expanded.items():
                    for m2, c2 in replaced.terms:
                        product[m + m2] = product.get(m + m2, 0) + c * c2
                expanded = product
            for m, c in expanded.items():
                m = tuple(sorted(m, key=_atom_key)) if len(m) > 1 else m
                result[m] = result.get(m, 0) + c
        return Size(result)

    def evaluate(self, env: dict) -> int | None:
        """The value when every symbol is in `env` (keyed by Symbol or Var), else None."""
        missing = [a for a in self.atoms() if not isinstance(a, FloorDiv) and a not in env]
        if missing:
            return None
        return self.substitute(lambda a: None if isinstance(a, FloorDiv) else Size.of(env[a])).constant

    def __str__(self):
        return format_size(self)

    def __repr__(self):
        return f"Size({format_size(self)})"


_ZERO, _ONE = Size._normal(), Size._normal(((), 1),)


def product(sizes) -> Size:
    """The size of axes bound into one: the product of theirs."""
    result = Size.of(1)
    for size in sizes:
        result = result * size
    return result


def _coerce(value):
    if isinstance(value, Size):
        return value
    if isinstance(value, (int, Symbol, Var, FloorDiv)) and not isinstance(value, bool):
        return Size.of(value)
    return NotImplemented


def _divide_exactly(num: Size, den: Size) -> Size | None:
    """num / den when den is one monomial dividing every term of num exactly."""
    if len(den.terms) != 1:
        return None
    dmono, dcoeff = den.terms[0]
    terms = {}
    for mono, coeff in num.terms:
        rest = list(mono)
        for a in dmono:
            if a not in rest:
                return None
            rest.remove(a)
        if coeff % dcoeff:
            return None
        terms[tuple(rest)] = coeff // dcoeff
    return Size(terms)


def _paren(size: Size) -> str:
    text = format_size(size)
    return text if size.atom is not None or size.constant is not None else f"({text})"


def _reading_order(terms):
    """Terms as people write them: higher degree first, positive before negative, constants last
    (`s*((H - w)//s) + w`, `H - 1`, not `-1 + H`)."""
    ranked = sorted(range(len(terms)), key=lambda i: (not terms[i][0], -len(terms[i][0]), terms[i][1] < 0, i))
    return [terms[i] for i in ranked]


def format_size(size: Size) -> str:
    """`2*c + 1`, `k*h`, `(H - 1)//2 + 1`: the spec's own spelling of a size."""
    if not size.terms:
        return "0"
    parts = []
    ordered = _reading_order(size.terms)
    for i, (mono, coeff) in enumerate(ordered):
        factors = []
        for atom, group in itertools.groupby(mono, key=lambda a: a):
            n = len(list(group))
            text = repr(atom) if not isinstance(atom, FloorDiv) else f"{_paren(atom.num)}//{_paren(atom.den)}"
            if isinstance(atom, FloorDiv) and (len(mono) > 1 or abs(coeff) != 1):
                text = f"({text})"
            factors.append(text if n == 1 else f"{text}**{n}")
        magnitude = abs(coeff)
        body = "*".join(([str(magnitude)] if magnitude != 1 or not factors else []) + factors)
        if i == 0:
            if coeff < 0 and "//" in body and len(factors) == 1 and magnitude == 1:
                body = f"({body})"  # -(a//2), not (-a)//2
            parts.append(("-" if coeff < 0 else "") + body)
        else:
            parts.append(("- " if coeff < 0 else "+ ") + body)
    return " ".join(parts)
