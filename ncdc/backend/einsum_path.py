"""The order in which a contraction of three or more operands is done, two at a time, chosen at
compile time: the order whose multiplications (the product of the sizes of every axis a pairwise
step touches, summed over the steps) are fewest.

Sizes are symbolic; orders are compared with every size symbol at `NOMINAL` (a typical axis), so
that `a b c` beats `a b c d` whatever the symbols turn out to be, and the cost is reported as the
polynomial.  At most `EXHAUSTIVE` operands are searched exhaustively; beyond, each step takes the
cheapest pair (greedy).
"""

from __future__ import annotations

from itertools import combinations

from ..sizes import Size, product

NOMINAL = 32
EXHAUSTIVE = 6


def _value(size: Size) -> int:
    value = size.substitute(lambda atom: Size.of(NOMINAL)).constant
    return NOMINAL if value is None else value


def _kept(labels: list, others: list[list], output: list) -> list:
    """The labels a pairwise step keeps: those still wanted later (by another operand or the output)."""
    wanted = set(output).union(*others) if others else set(output)
    kept: list = []
    for label in labels:
        if label in wanted and label not in kept:
            kept.append(label)
    return kept


def choose(inputs: list[list], output: list, sizes: dict) -> tuple[list[tuple[int, int]], Size]:
    """The pairwise steps (indexes into the current operand list; the result goes last) and their cost."""

    def step_cost(a: list, b: list) -> Size:
        return product([sizes[label] for label in dict.fromkeys(a + b)])

    def search(operands: list[list], greedy: bool) -> tuple[int, list[tuple[int, int]], Size]:
        if len(operands) == 1:
            return 0, [], Size.of(0)
        best: tuple[int, list[tuple[int, int]], Size] | None = None
        pairs = list(combinations(range(len(operands)), 2))
        if greedy:
            pairs = [min(pairs, key=lambda p: _value(step_cost(operands[p[0]], operands[p[1]])))]
        for i, j in pairs:
            rest = [o for n, o in enumerate(operands) if n not in (i, j)]
            joined = output if not rest else _kept(operands[i] + operands[j], rest, output)
            cost = step_cost(operands[i], operands[j])
            value, steps, total = search(rest + [joined], greedy)
            value += _value(cost)
            if best is None or value < best[0]:
                best = (value, [(i, j)] + steps, cost + total)
        assert best is not None
        return best

    _, steps, cost = search([list(labels) for labels in inputs], len(inputs) > EXHAUSTIVE)
    return steps, cost


def kept(labels: list, others: list[list], output: list) -> list:
    return output if not others else _kept(labels, others, output)
