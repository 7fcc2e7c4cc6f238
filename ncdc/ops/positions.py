"""Index wires: `arange(t)`, the positions along an axis.

A constant that takes only a size, as `eye` and `tril` do: an `int t` wire holding 0, 1, ..., t - 1.
It is the input of a position embedding (`Embedding[n -> m](arange(t))`), and in arithmetic beside a
float (`arange(t) * 1.0`, `arange(t) / m`) it promotes to floats, as integers do (docs §2.4).
"""

from __future__ import annotations

from .. import ir, tree
from ..diagnostics import fail
from ..ir import INT, TensorType
from .functions import no_brackets, size_argument


def check_arange(cx, name: str, brackets, e: tree.Call) -> ir.Value:
    no_brackets(name, brackets, e)
    if e.options or len(e.args) != 1 or not isinstance(e.args[0], tree.Name):
        fail("E0350", f"`{name}` takes one size: `{name}(t)` is the `int t` wire 0, 1, ..., t - 1", e.span,
             "expected one size name", help="name the axis it runs along: `arange(t)` for the positions of `X: t m`")
    axis = size_argument(cx, name, e.args[0], "the size of the axis it runs along", "an index wire")
    return ir.Arange(TensorType((axis,), INT), e.span, axis.size)
