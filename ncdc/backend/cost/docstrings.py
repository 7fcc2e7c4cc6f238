"""The cost formulas that `ncdc compile --cost-docstrings` writes into each module's and def's docstring."""

from __future__ import annotations

from ... import ir
from .model import CostError
from .report import elements, saved_elements
from .rules import CATEGORIES

WIDTH = 106  # a docstring line, after its 4 spaces of indentation


def _terms(text: str) -> list[str]:
    """A formula cut before each ` + ` and ` - ` outside parentheses."""
    pieces, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and text.startswith((" + ", " - "), i) and i > start:
            pieces.append(text[start:i])
            start = i
    return pieces + [text[start:]]


def _wrapped(label: str, text: str) -> list[str]:
    """`label: formula`, broken between the terms of a long sum."""
    lines, line = [], f"{label}: "
    for piece in _terms(text):
        if len(line) + len(piece) > WIDTH and len(line) > len(label) + 2:
            lines.append(line.rstrip())
            line = "      " + piece.lstrip(" ")
        else:
            line += piece
    return lines + [line]


def cost_lines(program: ir.Program) -> dict[str, list[str]]:
    """By module or def name, its costs as formulas in the spec's names (B: the leading batch size)."""
    from . import batch_symbol, cost

    found = {f.name: f for f in program.functions} | {m.name: m for m in program.modules}
    out: dict[str, list[str]] = {}
    for name in program.order:
        if name not in found:
            continue
        try:
            d = cost(program, name).definition(name)
        except CostError as error:
            out[name] = [f"Costs: not known ({error})."]
            continue
        row, text = d.row, d.text
        batch = batch_symbol(found[name]).name
        lines = [f"Costs (ncdc cost; {batch} the leading batch size, a multiply-add 2 FLOPs):"]
        lines += [f"  where {n} = {formula}" for n, formula in d.formulas.definitions()]
        if isinstance(found[name], ir.Module):
            lines += _wrapped("  parameters", text(row.params))
        lines += _wrapped("  forward FLOPs", text(row.flops_forward))
        lines += [line for c in CATEGORIES if c in row.flops for line in _wrapped(f"    {c}", text(row.flops[c]))]
        lines += _wrapped("  backward FLOPs", text(row.flops_backward))
        if len(row.peak) == 1:  # (a maximum of several candidates is too long to read here)
            lines += _wrapped("  memory peak (elements)", text(elements(row.peak[0][0])))
        lines += _wrapped("  saved for backward (elements)", text(saved_elements(row)))
        out[name] = lines
    return out
