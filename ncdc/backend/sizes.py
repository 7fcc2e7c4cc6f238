"""Sizes as Python expressions in generated code."""

from __future__ import annotations

from typing import Callable

from ..sizes import FloorDiv, Size, Symbol, Var, _reading_order

# Precedence of the Python expression produced, for parenthesising (higher binds tighter).
ATOM, POWER, UNARY, MUL, ADD = 100, 90, 80, 70, 60


def size_code(size: Size, name_of: Callable[[Symbol], str]) -> tuple[str, int]:
    """`size` as Python over the names `name_of` gives each symbol, with its precedence."""
    if not size.terms:
        return "0", ATOM
    terms = []
    ordered = _reading_order(size.terms)
    for mono, coeff in ordered:
        factors = []
        i = 0
        while i < len(mono):
            atom = mono[i]
            n = 1
            while i + n < len(mono) and mono[i + n] == atom:
                n += 1
            i += n
            code, prec = _atom_code(atom, name_of)
            if n > 1:
                code, prec = f"{wrap(code, prec, POWER + 1)} ** {n}", POWER
            factors.append((code, prec))
        magnitude = abs(coeff)
        parts = ([(str(magnitude), ATOM)] if magnitude != 1 or not factors else []) + factors
        if len(parts) == 1:
            code, prec = parts[0]
        else:
            # A floor division inside a product keeps its parentheses: `b * (a // 2)`.
            code, prec = " * ".join(wrap(c, p, MUL + 1) for c, p in parts), MUL
        terms.append((coeff < 0, code, prec))
    negative, code, prec = terms[0]
    if negative:
        code, prec = f"-{wrap(code, prec, UNARY)}", UNARY
    if len(terms) == 1:
        return code, prec
    out = wrap(code, prec, ADD)
    for negative, code, prec in terms[1:]:
        out += f" {'-' if negative else '+'} {wrap(code, prec, ADD + 1)}"
    return out, ADD


def _atom_code(atom, name_of) -> tuple[str, int]:
    if isinstance(atom, (Symbol, Var)):
        return name_of(atom), ATOM
    assert isinstance(atom, FloorDiv)
    num, num_prec = size_code(atom.num, name_of)
    den, den_prec = size_code(atom.den, name_of)
    return f"{wrap(num, num_prec, MUL)} // {wrap(den, den_prec, MUL + 1)}", MUL


def wrap(code: str, prec: int, needed: int) -> str:
    return code if prec >= needed else f"({code})"
