"""Generated specs that grow in one direction, for checking that ncdc scales linearly with spec size.

Each family is a function ``spec(n) -> str`` giving a spec of about `n` units of that kind:

    statements  one def with `n` statements, each using the one before
    defs        `n` defs, each calling the previous one
    modules     `n` modules, each with a part that is an instance of the previous one
    lifted      one def `g`, then a def with `n` statements each calling `g` lifted over an axis
    sizes       `n` size constants, each referring to an earlier one

Used by benchmarks/bench_compiler.py (the `scaling` benchmark) and tests/test_scaling.py.  Every
generated spec checks and compiles cleanly.
"""

from __future__ import annotations

from typing import Callable


def statements(n: int) -> str:
    lines = ["def f(X0: a b) -> a b:"]
    for i in range(1, n + 1):
        lines.append(f"    X{i} = relu(X{i - 1})" if i % 2 else f"    X{i} = X{i - 1} * 2 + X{i - 2}")
    lines.append(f"    return X{n}")
    return "\n".join(lines) + "\n"


def defs(n: int, backwards: bool = False) -> str:
    """`backwards`: each def is declared before the one it calls (a name may be used before its
    declaration), so that a walk over the calls in declaration order goes the whole chain deep."""
    out = ["def f0(X: a b) -> a b:\n    return relu(X)\n"]
    for i in range(1, n):
        out.append(f"def f{i}(X: a b) -> a b:\n    return f{i - 1}(X) + X\n")
    return "\n".join(out[::-1] if backwards else out)


def modules(n: int, backwards: bool = False) -> str:
    out = ["module M0(m=8):\n    L = Linear[m -> m]()\n\n    def forward(X: m) -> m:\n        return relu(L(X))\n"]
    for i in range(1, n):
        out.append(f"module M{i}(m=8):\n    inner = M{i - 1}(m)\n\n"
                   f"    def forward(X: m) -> m:\n        return inner(X) + X\n")
    return "\n".join(out[::-1] if backwards else out)


def lifted(n: int) -> str:
    lines = ["def g(X: a) -> a:", "    return relu(X) * 2", "", "def f(Y0: c a) -> c a:"]
    for i in range(1, n + 1):
        lines.append(f"    Y{i} = g[c](Y{i - 1})")
    lines.append(f"    return Y{n}")
    return "\n".join(lines) + "\n"


def sizes(n: int) -> str:
    lines = ["size s0 = 4"]
    for i in range(1, n):
        lines.append(f"size s{i} = s{i - 1} + {i % 7 + 1}" if i % 3 else f"size s{i} = {i % 5 + 1}")
    lines += ["", f"def f(X: s{n - 1}) -> s{n - 1}:", "    return relu(X)"]
    return "\n".join(lines) + "\n"


FAMILIES: dict[str, Callable[[int], str]] = {
    "statements": statements,
    "defs": defs,
    "modules": modules,
    "lifted": lifted,
    "sizes": sizes,
}


if __name__ == "__main__":  # python benchmarks/scaling_specs.py FAMILY N > spec.ncd
    import sys

    sys.stdout.write(FAMILIES[sys.argv[1]](int(sys.argv[2])))
