"""Symbolic sizes (ncdc/sizes.py): substitution agrees with evaluation."""

from __future__ import annotations

import random

from ncdc.sizes import Size, Symbol, Var

ATOMS = [Symbol(n) for n in "abcd"] + [Var("v"), Var("w")]


def _size(rng: random.Random, depth: int = 0) -> Size:
    size = Size.of(rng.randint(-3, 3))
    for _ in range(rng.randint(1, 4)):
        term = Size.of(rng.choice([1, 2, -1, 3]))
        for _ in range(rng.randint(0, 3)):
            term = term * rng.choice(ATOMS)
        size = size + term
    if depth == 0 and rng.random() < 0.3:
        size = size + _size(rng, 1) // rng.choice([2, 3, ATOMS[0]])
    return size


def test_substitute_then_evaluate_is_evaluate_of_the_substituted_values():
    rng = random.Random(6)
    for _ in range(2000):
        size = _size(rng)
        mapping: dict = {}
        for atom in ATOMS:
            choice = rng.random()
            if choice < 0.3:
                mapping[atom] = Size.of(rng.choice(ATOMS))
            elif choice < 0.5:
                mapping[atom] = Size.of(atom) + rng.randint(-2, 2)
            elif choice < 0.6:
                mapping[atom] = _size(rng, 1)
            elif choice < 0.7:
                mapping[atom] = Size.of(rng.randint(1, 5))
        replaced = size.substitute(mapping.get)
        for _ in range(3):
            values = {atom: rng.randint(1, 9) for atom in ATOMS}
            through = {atom: mapping[atom].evaluate(values) if atom in mapping else values[atom] for atom in ATOMS}
            if any(v is None or v < 1 for v in through.values()):
                continue  # sizes are positive: a mapping to 0 or less is no substitution of sizes
            assert replaced.evaluate(values) == size.evaluate(through), (size, mapping, values)
