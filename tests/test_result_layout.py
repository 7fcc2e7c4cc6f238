"""A call that names its result's layout: `O: t h k = F[h](...)` (docs §6.1), against the same
permutation written with `rearrange`, and what the checker says of a layout that does not fit."""

from __future__ import annotations

import pytest
import torch

import ncdc
from ncdc import NcdcError, check_source
from ncdc.fmt import format_source

SPEC = """\
def gate(Q: y k, K: x k) -> y k:
    return Q * softmax[k](sum[x](K))

module Named(m=12, h=3, k=4):
    Lq = Linear[m -> h k]()

    def forward(X: t m) -> t h k:
        Q = Lq(X)
        O: t h k = gate[h](Q, Q)
        return O

module Rearranged(m=12, h=3, k=4):
    Lq = Linear[m -> h k]()

    def forward(X: t m) -> t h k:
        Q = Lq(X)
        return rearrange[t h k](gate[h](Q, Q))

module Kept(m=12, h=3, k=4):
    Lq = Linear[m -> h k]()

    def forward(X: t m) -> t k h:
        Q = Lq(X)
        O: t k h = gate[h](Q, Q)
        return O
"""


@pytest.fixture(scope="module")
def layouts():
    namespace: dict = {}
    exec(compile(ncdc.compile_source(SPEC, "layouts.ncd"), "layouts.py", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("batch", [(), (2,)], ids=["no-batch", "batch"])
def test_a_named_layout_is_the_permutation_rearrange_writes(layouts, batch):
    torch.manual_seed(0)
    named, rearranged, kept = layouts["Named"](), layouts["Rearranged"](), layouts["Kept"]()
    rearranged.load_state_dict(named.state_dict())
    kept.load_state_dict(named.state_dict())
    X = torch.randn(*batch, 5, 12)
    out = named(X)
    assert out.shape == (*batch, 5, 3, 4)
    torch.testing.assert_close(out, rearranged(X), rtol=0, atol=0)
    torch.testing.assert_close(out, kept(X).transpose(-2, -1), rtol=0, atol=0)


def test_a_layout_the_value_has_already_adds_no_code():
    code = ncdc.compile_source(SPEC, "layouts.ncd")
    kept = code[code.index("class Kept"):]
    assert "O = gate(Q.transpose(-3, -2), Q.transpose(-3, -2)).transpose(-3, -2).transpose(-2, -1)  # t k h" in kept


def test_fmt_keeps_the_layout():
    assert format_source(SPEC, "layouts.ncd") == SPEC
    assert "O: t h k = gate[h](Q, Q)" in format_source(SPEC.replace("O: t h k =", "O:t  h k="), "layouts.ncd")


@pytest.mark.parametrize("layout, words", [
    ("t h", "is not a layout of the value"),          # an axis left out
    ("t h k2", "is not a layout of the value"),       # an axis the value does not have
    ("t h h", "is not a layout of the value"),        # one named twice
    ("t (h k)", "is not a layout of the value"),      # binding is rearrange's
    ("bool t h k", "is not a layout of the value"),   # another element type
])
def test_a_layout_that_does_not_fit_is_e0371(layout, words):
    with pytest.raises(NcdcError) as info:
        check_source(SPEC.replace("O: t h k =", f"O: {layout} ="), "layouts.ncd")
    d = info.value.diagnostics[0]
    assert (d.code, d.span.line, d.span.column) == ("E0371", 9, 12), d.render()
    assert words in d.message


def test_a_layout_of_a_value_with_unnamed_axes_is_e0371():
    text = "def f(X: 2 n) -> n 2:\n    Y: n 2 = X * 2\n    return Y\n"
    with pytest.raises(NcdcError) as info:
        check_source(text, "unnamed.ncd")
    d = info.value.diagnostics[0]
    assert (d.code, d.span.line) == ("E0371", 2), d.render()
