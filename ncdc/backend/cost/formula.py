"""Readable cost formulas: strided sizes named once per module, common factors taken out.

A cost is a polynomial kept expanded (`ncdc.sizes.Size`), which is what makes two costs comparable, but
an expanded ResNet cost repeats `((H - 1)//s)` in dozens of terms.  For reading, a module's formulas
name each strided size once (`H_s = (H - 1)//s + 1`, `H_4 = (H_2 + 1)//2`): written in the names, the
terms that the floor division had split come together again (`2*n0*n1*B*H_s*W_s`, not four terms).
Then each sum takes out the factors its terms share, the largest first (`B*H*W*(18*c0*c1 + 4*c1)`).

The text stays Python arithmetic: with the names' values (each computed from those before it) it
gives the same number as the polynomial.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable

from ...sizes import FloorDiv, Size, Symbol, format_size

Term = tuple[tuple, int]  # (a sorted tuple of atoms, repeated for powers; the coefficient)
SHORT = 4  # a sum of this many terms is read as it is, once its common factors are out


def _compound(atoms: Iterable) -> list[FloorDiv]:
    """The floor divisions of a sum (`(H - 1)//s`), not those of one term (`n1//4`), innermost first."""
    found = {a for a in atoms if isinstance(a, FloorDiv) and len(a.num.terms) > 1
             and not any(isinstance(b, FloorDiv) and len(b.num.terms) > 1 for b in a.num.atoms())}
    return sorted(found, key=lambda a: a.sort_key())


class Formulas:
    """The formulas of one module or def: `names` are the strided sizes it names, in the order they are
    defined (each in the spec's names and the names before it)."""

    def __init__(self, sizes: Iterable[Size], taken: set[str]):
        self.names: list[tuple[Symbol, Size]] = []
        self._replace: dict[FloorDiv, Size] = {}
        origin: dict[Symbol, tuple[str, str]] = {}  # a name: the size it strides and its stride
        taken = set(taken)
        current = list(sizes)
        for _ in range(8):  # a level of nesting a round
            atoms = _compound(a for s in current for a in s.atoms())
            if not atoms:
                break
            for a in atoms:
                constant = dict(a.num.terms).get((), 0)
                offset = 1 if constant < 0 else 0  # a convolution's `(H - k)//s + 1`
                base, stride = self._stride_of(a, origin)
                name = _unique(f"{base}_{stride}", taken)
                symbol = Symbol(name)
                origin[symbol] = (base, stride)
                self.names.append((symbol, Size.of(a) + offset))
                self._replace[a] = Size.of(symbol) - offset
            current = [self.named(s) for s in current]

    @staticmethod
    def _stride_of(a: FloorDiv, origin: dict[Symbol, tuple[str, str]]) -> tuple[str, str]:
        lead = next((atom for mono, _ in sorted(a.num.terms, key=lambda t: -len(t[0])) for atom in mono
                     if isinstance(atom, Symbol)), None)
        den = a.den.constant
        stride = str(den) if den is not None else re.sub(r"\W", "", format_size(a.den))
        if lead is None:
            return "size", stride
        if lead in origin:
            base, inner = origin[lead]
            return base, (str(int(inner) * den) if inner.isdigit() and den is not None else inner + stride)
        return lead.name, stride

    def named(self, size: Size) -> Size:
        """The size written in the names."""
        for _ in range(8):
            if not any(a in self._replace for a in size.atoms() if isinstance(a, FloorDiv)):
                break
            size = size.substitute(lambda a: self._replace.get(a) if isinstance(a, FloorDiv) else None)
        return size

    def text(self, size: Size) -> str:
        """The formula of a size: in the names, its common factors taken out."""
        return factored(self.named(size))

    def definitions(self) -> list[tuple[str, str]]:
        """`(name, formula)` of each name, in order: each in the spec's names and the names before it."""
        return [(s.name, format_size(v)) for s, v in self.names]

    def values(self, env: dict[str, int]) -> dict[str, int | None]:
        """Each name's value at the given sizes (by name; None where a size is missing)."""
        spelled: dict[Symbol, Size] = {}  # each name in the spec's own names
        out: dict[str, int | None] = {}
        for symbol, value in self.names:
            spelled[symbol] = value = value.substitute(lambda a: spelled.get(a) if isinstance(a, Symbol) else None)
            out[symbol.name] = value.substitute(
                lambda a: Size.of(env[a.name]) if isinstance(a, Symbol) and a.name in env else None).constant
        return out


def _unique(name: str, taken: set[str]) -> str:
    name = re.sub(r"\W", "", name)
    if not name.isidentifier():
        name = "S_" + name
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def factored(size: Size) -> str:
    """`2*B*H*W*(9*c0 + 2)`: the text of a polynomial with the factors its terms share taken out."""
    return _text(list(size.terms))


def _divides(common: tuple, mono: tuple) -> bool:
    need, have = Counter(common), Counter(mono)
    return all(have[a] >= n for a, n in need.items())


def _shared(monos: list[tuple]) -> tuple:
    """The largest monomial dividing every one of them."""
    common = Counter(monos[0])
    for m in monos[1:]:
        common &= Counter(m)
    return tuple(sorted(common.elements(), key=lambda a: a.sort_key()))


def _without(mono: tuple, common: tuple) -> tuple:
    rest = Counter(mono)
    rest.subtract(Counter(common))
    return tuple(sorted(rest.elements(), key=lambda a: a.sort_key()))


def _text(terms: list[Term]) -> str:
    if len(terms) <= 1:
        return format_size(Size(dict(terms)))
    common = _shared([m for m, _ in terms])
    g = math.gcd(*(c for _, c in terms))
    if all(c < 0 for _, c in terms):
        g = -g
    if common or g != 1:
        inner = _text([(_without(m, common), c // g) for m, c in terms])
        outer = format_size(Size({common: g}))
        if len(common) == 1 and isinstance(common[0], FloorDiv) and abs(g) == 1:  # (n//4)*(...), not n//4*(...)
            outer = ("-" if g < 0 else "") + f"({format_size(Size({common: 1}))})"
        if outer == "-1":
            return f"-({inner})"
        return f"{outer}*({inner})"
    if len(terms) <= SHORT:
        return format_size(Size(dict(terms)))
    best: tuple[int, tuple] | None = None  # (terms saved a factor, the factor)
    for i, (a, _) in enumerate(terms):
        for b, _ in terms[i + 1:]:
            shared = _shared([a, b])
            if not shared:
                continue
            count = sum(_divides(shared, m) for m, _ in terms)
            score = (count - 1) * len(shared)
            if best is None or score > best[0]:
                best = (score, shared)
    if best is None:
        return format_size(Size(dict(terms)))
    factor = best[1]
    inside = [t for t in terms if _divides(factor, t[0])]
    rest = [t for t in terms if not _divides(factor, t[0])]
    first, second = _text(inside), _text(rest)
    return f"{first} - {second[1:]}" if second.startswith("-") else f"{first} + {second}"
