"""Ill-typed variants of the paper's figure specs: each is rejected with the right code, at the right place.

Every variant is derived from the real spec (copied below verbatim, so line numbers match the files in
specs/) by one small edit.  The expected code and span are the ones a person would point at; some
rendered diagnostics are pinned in full so that a change in wording shows up in review.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ncdc import Diagnostic, NcdcError, check_source
from ncdc.diagnostics import Label, render_json
from ncdc.source import Source, Span

ROOT = Path(__file__).resolve().parent.parent

# ---- the figure specs, verbatim -----------------------------------------------------------------

COMPOSITION = """\
# Paper §2.3: tensors are tensored with spaces and tupled with commas; boxes compose.
# `f` and `g` are abstract boxes: only their types are known, and implementations are injected.

box f : 4 2, 6 -> 3 3
box g : 3, 3 3 -> 1 2

# h : 3, 4 2, 6 -> 1 2 is g after f, with the 3-wire passing f by.
def h(x0: 3, x1: 4 2, x2: 6) -> 1 2:
    return g(x0, f(x1, x2))
"""

INDEXES = """\
# Paper §2.3.1, Figures 8 and 9: indexes and subtensors.

# Figure 8: the row at index 2 of a (4 3) table.
def row(table: 4 3) -> 3:
    return table[2, :]

# Figure 9: indexes on different axes commute.  Sizes as in the notebook.
size a = 5, b = 7

def entry(X: a b) -> ():
    return X[2, 3]

def entry_row_first(X: a b) -> ():
    return X[2, :][3]

def entry_column_first(X: a b) -> ():
    return X[:, 3][2]

# A subtensor keeps an axis, with the size of the slice.
def middle_rows(X: a b) -> 3 b:
    return X[1:4, :]
"""

BROADCASTING = """\
# Paper §2.3.2, Figures 10 and 11: broadcasting a box over a wire that passes it.

box G : a -> b
box H : a, d -> b

# Figure 10: G c : a c -> b c, lifting G over the wire c.
def Gc(X: a c) -> b c:
    return G[c](X)

# Figure 11: inner broadcasting; the wire c passes only the first input of H.
def Hc0(X: c a, D: d) -> c b:
    return H[c](X, D)
"""

ELEMENTWISE = """\
# Paper §2.3.2, Figure 12: elementwise operations act on a 1-wire and broadcast over everything.

# f : 1 -> 1 on a single number (a tensor with no axes).
def f(x: ()) -> ():
    return x ** 2

# The same box on a wire of a numbers: broadcasting is implied.
def fs(X: a) -> a:
    return X ** 2

# Elementwise maps and arithmetic with numbers and sizes compose freely.
def scaled_relu(X: a b) -> a b:
    return relu(X - 0.5) * 2 / sqrt(b)
"""

EINSUM = """\
# Paper §2.4.2, Figure 17: the attention scores of multi-head attention as linear algebra.
# `einsum[out](...)` names its output axes; axes missing from the output are contracted, axes in
# several inputs and in the output are diagonalised.  `X: a b` names a wire's axes locally.

# Step by step: transpose, outer product with the heads diagonalised, inner product, scale.
def scores_stepwise(Q: y k h, K: x k h) -> y x h:
    Kt = einsum[k x h](K)                               # transpose K
    P = einsum[y k1 k2 x h](Q: y k1 h, Kt: k2 x h)      # outer product, diagonalise h
    S = einsum[y x h](P: y k k x h)                     # inner product of the two k wires
    return S / sqrt(k)                                  # scale

# The same map as a single contraction.
def scores(Q: y k h, K: x k h) -> y x h:
    return einsum[y x h](Q, K) / sqrt(k)
"""

LINEAR_ALGEBRA = """\
# Paper §2.4.3, Figure 18: graphical linear algebra.  F : a -> b c is a linear map, given by its
# entries F: a b c; `eye(b)` is the unit η of shape b b.

# The map itself: contract a.
def F_apply(X: a, F: a b c) -> b c:
    return einsum[b c](X, F)

# First transpose: broadcast F over a b-wire (b F : b a -> b b c), then join the two b wires.
def F_broadcast_transpose(X: b a, F: a b c) -> c:
    Y = einsum[b1 b2 c](X: b1 a, F: a b2 c)
    return einsum[c](Y: b b c)

# Second transpose: the outer product of the unit with F, then an inner product, as a b a c matrix.
def F_linear_transpose(F: a b c) -> b a c:
    T = einsum[b0 b1 a b2 c](eye(b): b0 b1, F: a b2 c)
    return einsum[b a c](T: b B a B c)

# Applying the transposed matrix to a (b a) input.
def apply_transposed(X: b a, Ft: b a c) -> c:
    return einsum[c](X, Ft)

# The unit and the inner product cancel: dot_outer(outer_unit(X)) is X.
def outer_unit(X: b) -> b b b:
    return einsum[b0 b1 b2](X: b0, eye(b): b1 b2)

def dot_outer(T: b b b) -> b:
    return einsum[b1](T: b0 b0 b1)
"""

MLP = """\
# Paper §3.1, Figure 19: a basic image recogniser (28 x 28 pixels to 10 classes), as in the
# PyTorch tutorial the notebook copies, but returning the SoftMax of the logits, as drawn.

module BasicImageRecogniser(w=28, hidden=512, classes=10):
    L0 = Linear[(w w) -> hidden]()
    L1 = Linear[hidden -> hidden]()
    L2 = Linear[hidden -> classes]()

    def forward(X: w w) -> classes:
        X = flatten(X)                  # bind the two pixel wires: (w w)
        X = relu(L0(X))
        X = relu(L1(X))
        return softmax[classes](L2(X))
"""

ATTENTION = """\
# Paper §3.2, Figures 20 and 21: scaled dot-product attention and multi-head attention.

# Figure 20, step by step: transpose, inner product, scale, SoftMax over x, inner product.
def ScaledDotProductAttentionStepwise(Q: y k, K: x k, V: x k) -> y k:
    Kt = einsum[k x](K)
    S = einsum[y x](Q, Kt) / sqrt(k)
    P = softmax[x](S)
    return einsum[y k](P, V)

# Figure 20, with the linear maps broadcast together.
def ScaledDotProductAttention(Q: y k, K: x k, V: x k) -> y k:
    S = einsum[y x](Q, K) / sqrt(k)
    return einsum[y k](softmax[x](S), V)

# Figure 21: multi-head attention.  The bold learned maps are declared once; `Linear[m -> k h]`
# binds k and h into one axis of size k*h (k outer, h inner, as the notebook's `(k h)`).
module MultiHeadAttention(m=128, k=16, h=4):
    Lq = Linear[m -> k h](bias=false)
    Lk = Linear[m -> k h](bias=false)
    Lv = Linear[m -> k h](bias=false)
    Lo = Linear[k h -> m](bias=false)

    def forward(E: y m, X: x m) -> y m:
        Q = Lq(E)                                   # y k h: Lq broadcasts over y
        K = Lk(X)                                   # x k h: X is copied, used twice
        V = Lv(X)
        O = ScaledDotProductAttention[h](Q, K, V)   # the heads are diagonalised
        return Lo(O)
"""

BASES = {
    "composition.ncd": COMPOSITION,
    "indexes.ncd": INDEXES,
    "broadcasting.ncd": BROADCASTING,
    "elementwise.ncd": ELEMENTWISE,
    "einsum.ncd": EINSUM,
    "linear_algebra.ncd": LINEAR_ALGEBRA,
    "mlp.ncd": MLP,
    "attention.ncd": ATTENTION,
}


# ---- helpers ------------------------------------------------------------------------------------


def variant(base: str, old: str, new: str) -> str:
    """`base` with the one occurrence of `old` replaced (the edit must be unambiguous)."""
    assert base.count(old) == 1, f"{old!r} occurs {base.count(old)} times in the base spec"
    return base.replace(old, new)


def errors(text: str, path: str = "spec.ncd", sizes: dict[str, int] | None = None) -> list[Diagnostic]:
    with pytest.raises(NcdcError) as info:
        check_source(text, path, sizes)
    assert info.value.diagnostics, "NcdcError without diagnostics"
    return info.value.diagnostics


def only(text: str, path: str = "spec.ncd", sizes: dict[str, int] | None = None) -> Diagnostic:
    diags = errors(text, path, sizes)
    assert len(diags) == 1, "expected one diagnostic, got:\n\n" + "\n\n".join(d.render() for d in diags)
    return diags[0]


def where(d: Diagnostic) -> tuple:
    assert d.span is not None, f"{d.code} has no span"
    return d.code, d.span.line, d.span.column


# ---- the bases check ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(BASES))
def test_base_specs_check(path):
    """The verbatim copies are well typed, so each variant's only error is its edit."""
    check_source(BASES[path], path)


@pytest.mark.parametrize("path", sorted(BASES))
def test_base_specs_match_the_files(path):
    """The copies are the real specs (if a spec changes, refresh its copy and the spans below)."""
    real = (ROOT / "specs" / path).read_text(encoding="utf-8")
    if real != BASES[path]:
        pytest.skip(f"specs/{path} changed since these variants were written")


# ---- variants: one edit, one diagnostic, at the right place ---------------------------------------


@dataclass
class Case:
    id: str
    path: str
    text: str
    code: str
    line: int
    column: int
    sizes: dict = field(default_factory=dict)

    def __str__(self):
        return self.id


CASES = [
    # composition: h : 3, 4 2, 6 -> 1 2
    Case("composition-f-args-swapped", "composition.ncd",
         variant(COMPOSITION, "f(x1, x2)", "f(x2, x1)"), "E0202", 9, 20),
    Case("composition-g-args-swapped", "composition.ncd",
         variant(COMPOSITION, "g(x0, f(x1, x2))", "g(f(x1, x2), x0)"), "E0202", 9, 14),
    Case("composition-x1-wrong-size", "composition.ncd",
         variant(COMPOSITION, "x1: 4 2", "x1: 4 3"), "E0301", 9, 20),
    Case("composition-f-arity", "composition.ncd",
         variant(COMPOSITION, "f(x1, x2)", "f(x1)"), "E0201", 9, 18),
    Case("composition-return-transposed", "composition.ncd",
         variant(COMPOSITION, ") -> 1 2:", ") -> 2 1:"), "E0301", 9, 12),
    Case("composition-unknown-box", "composition.ncd",
         variant(COMPOSITION, "g(x0, f(", "k(x0, f("), "E0101", 9, 12),
    Case("composition-duplicate-box", "composition.ncd",
         variant(COMPOSITION, "# h : 3, 4 2, 6 -> 1 2 is g after f, with the 3-wire passing f by.",
                 "box g : 3, 3 3 -> 1 2"), "E0103", 7, 5),
    # indexes
    Case("indexes-row-out-of-range", "indexes.ncd",
         variant(INDEXES, "table[2, :]", "table[4, :]"), "E0307", 5, 18),
    Case("indexes-entry-out-of-range", "indexes.ncd",
         variant(INDEXES, "X[2, 3]", "X[2, 7]"), "E0307", 11, 17),
    Case("indexes-slice-out-of-range", "indexes.ncd",
         variant(INDEXES, "X[1:4, :]", "X[1:6, :]"), "E0307", 21, 14),
    Case("indexes-too-many-indexes", "indexes.ncd",
         variant(INDEXES, "table[2, :]", "table[2, :, 1]"), "E0202", 5, 12),
    Case("indexes-slice-wrong-size", "indexes.ncd",
         variant(INDEXES, "X[1:4, :]", "X[1:5, :]"), "E0301", 21, 12),
    Case("indexes-unknown-size", "indexes.ncd",
         variant(INDEXES, "size a = 5, b = 7", "size a = 5, b = c"), "E0104", 8, 17),
    # broadcasting
    Case("broadcasting-lift-over-missing-axis", "broadcasting.ncd",
         variant(BROADCASTING, "G[c](X)", "G[c d](X)"), "E0303", 8, 16),
    Case("broadcasting-lift-over-wrong-axis", "broadcasting.ncd",
         variant(BROADCASTING, "G[c](X)", "G[d](X)"), "E0303", 8, 14),
    Case("broadcasting-no-lift", "broadcasting.ncd",
         variant(BROADCASTING, "G[c](X)", "G(X)"), "E0202", 8, 14),
    Case("broadcasting-H-arity", "broadcasting.ncd",
         variant(BROADCASTING, "H[c](X, D)", "H[c](X)"), "E0201", 12, 12),
    Case("broadcasting-result-order", "broadcasting.ncd",
         variant(BROADCASTING, "D: d) -> c b:", "D: d) -> b c:"), "E0318", 12, 12),
    # elementwise
    Case("elementwise-tensor-exponent", "elementwise.ncd",
         variant(ELEMENTWISE, "X ** 2", "X ** X"), "E0204", 9, 17),
    Case("elementwise-relu-axis-list", "elementwise.ncd",
         variant(ELEMENTWISE, "relu(X - 0.5)", "relu[a](X - 0.5)"), "E0311", 13, 12),
    Case("elementwise-unknown-name", "elementwise.ncd",
         variant(ELEMENTWISE, "sqrt(b)", "sqrt(c)"), "E0101", 13, 37),
    Case("elementwise-return-wrong-rank", "elementwise.ncd",
         variant(ELEMENTWISE, "def fs(X: a) -> a:", "def fs(X: a) -> a b:"), "E0202", 9, 12),
    Case("elementwise-no-return", "elementwise.ncd",
         variant(ELEMENTWISE, "return X ** 2", "Y = X ** 2"), "E0401", 9, 5),
    Case("elementwise-number-returned", "elementwise.ncd",
         variant(ELEMENTWISE, "return X ** 2", "return 2"), "E0204", 9, 12),
    # einsum
    Case("einsum-label-two-sizes", "einsum.ncd",
         variant(EINSUM, "einsum[y x h](Q, K)", "einsum[y x h](Q, K: x h k)"), "E0301", 14, 34,
         {"k": 16, "h": 4}),
    Case("einsum-label-maybe-two-sizes", "einsum.ncd",
         variant(EINSUM, "einsum[y x h](Q, K)", "einsum[y x h](Q, K: x h k)"), "E0302", 14, 34),
    Case("einsum-unknown-output-axis", "einsum.ncd",
         variant(EINSUM, "einsum[y x h](Q, K)", "einsum[y x z](Q, K)"), "E0306", 14, 23),
    Case("einsum-repeated-output-axis", "einsum.ncd",
         variant(EINSUM, "einsum[y x h](Q, K)", "einsum[y x x](Q, K)"), "E0306", 14, 23),
    Case("einsum-pattern-rank", "einsum.ncd",
         variant(EINSUM, "(Q: y k1 h, Kt: k2 x h)", "(Q: y k1, Kt: k2 x h)"), "E0202", 8, 32),
    Case("einsum-result-order", "einsum.ncd",
         variant(EINSUM, "einsum[y x h](Q, K)", "einsum[x y h](Q, K)"), "E0318", 14, 12),
    Case("einsum-wire-named-like-size", "einsum.ncd",
         variant(EINSUM, "    Kt = einsum[k x h](K)", "    k = einsum[k x h](K)"), "E0105", 7, 5),
    # linear algebra
    Case("linear-algebra-label-maybe-two-sizes", "linear_algebra.ncd",
         variant(LINEAR_ALGEBRA, "einsum[b c](X, F)", "einsum[b c](X, F: b a c)"), "E0302", 6, 30),  # the pattern names `b` the axis of size `a`
    Case("linear-algebra-label-two-sizes", "linear_algebra.ncd",
         variant(LINEAR_ALGEBRA, "einsum[b c](X, F)", "einsum[b c](X, F: b a c)"), "E0301", 6, 30,
         {"a": 2, "b": 3}),
    Case("linear-algebra-eye-unknown-size", "linear_algebra.ncd",
         variant(LINEAR_ALGEBRA, "eye(b): b1 b2", "eye(z): b1 b2"), "E0104", 24, 40),
    Case("linear-algebra-pattern-rank", "linear_algebra.ncd",
         variant(LINEAR_ALGEBRA, "T: b0 b0 b1", "T: b0 b1"), "E0202", 27, 26),
    Case("linear-algebra-einsum-no-output", "linear_algebra.ncd",
         variant(LINEAR_ALGEBRA, "einsum[c](X, Ft)", "einsum(X, Ft)"), "E0311", 20, 12),
    # mlp
    Case("mlp-softmax-missing-axis", "mlp.ncd",
         variant(MLP, "softmax[classes]", "softmax[hidden]"), "E0303", 13, 24),
    Case("mlp-reserved-part-name", "mlp.ncd",
         variant(MLP, "L2 = Linear", "training = Linear").replace("(L2(X))", "(training(X))"), "E0102", 7, 5),
    Case("mlp-duplicate-part", "mlp.ncd",
         variant(MLP, "L2 = Linear", "L1 = Linear").replace("(L2(X))", "(L1(X))"), "E0103", 7, 5),
    Case("mlp-wire-named-like-size", "mlp.ncd",
         variant(MLP, "X = relu(L0(X))", "hidden = relu(L0(X))"), "E0105", 11, 9),
    Case("mlp-linear-wrong-input", "mlp.ncd",
         variant(MLP, "X = relu(L1(X))", "X = relu(L2(X))"), "E0302", 13, 36),
    Case("mlp-linear-wrong-input-concrete", "mlp.ncd",
         variant(MLP, "X = relu(L1(X))", "X = relu(L2(X))"), "E0301", 13, 36, {"hidden": 512, "classes": 10}),
    Case("mlp-no-flatten", "mlp.ncd",
         variant(MLP, "X = flatten(X) ", "X = relu(X)    "), "E0301", 11, 21, {"w": 28}),
    Case("mlp-no-return", "mlp.ncd",
         variant(MLP, "return softmax[classes](L2(X))", "Y = softmax[classes](L2(X))"), "E0401", 13, 9),
    Case("mlp-unknown-layer", "mlp.ncd",
         variant(MLP, "L1 = Linear[hidden -> hidden]()", "L1 = Linaer[hidden -> hidden]()"), "E0101", 6, 10),
    # attention
    Case("attention-sdpa-not-lifted", "attention.ncd",
         variant(ATTENTION, "ScaledDotProductAttention[h](Q, K, V)", "ScaledDotProductAttention(Q, K, V)"),
         "E0202", 27, 39),
    Case("attention-softmax-missing-axis", "attention.ncd",
         variant(ATTENTION, "softmax[x](S), V", "softmax[z](S), V"), "E0303", 13, 32),
    Case("attention-softmax-two-axes", "attention.ncd",
         variant(ATTENTION, "P = softmax[x](S)", "P = softmax[y x](S)"), "E0311", 7, 9),
    Case("attention-linear-wrong-axis", "attention.ncd",
         variant(ATTENTION, "X: x m) -> y m", "X: x k) -> y m"), "E0302", 25, 16),
    Case("attention-linear-wrong-axis-concrete", "attention.ncd",
         variant(ATTENTION, "X: x m) -> y m", "X: x k) -> y m"), "E0301", 25, 16, {"m": 128, "k": 16}),
    Case("attention-duplicate-def", "attention.ncd",
         variant(ATTENTION, "def ScaledDotProductAttentionStepwise(", "def ScaledDotProductAttention("),
         "E0103", 11, 5),
    Case("attention-def-named-class", "attention.ncd",
         variant(ATTENTION, "def ScaledDotProductAttentionStepwise(", "def class("), "E0102", 4, 5),
    Case("attention-def-named-torch", "attention.ncd",
         variant(ATTENTION, "def ScaledDotProductAttentionStepwise(", "def torch("), "E0102", 4, 5),
    Case("attention-def-named-builtin", "attention.ncd",
         variant(ATTENTION, "def ScaledDotProductAttentionStepwise(", "def softmax("), "E0103", 4, 5),
    Case("attention-wire-named-like-hyperparameter", "attention.ncd",
         variant(ATTENTION, "        V = Lv(X)\n", "        k = Lv(X)\n"), "E0105", 26, 9),
    Case("attention-module-called-directly", "attention.ncd",
         variant(ATTENTION, "def ScaledDotProductAttention(Q: y k, K: x k, V: x k) -> y k:\n"
                            "    S = einsum[y x](Q, K) / sqrt(k)",
                 "def ScaledDotProductAttention(Q: y k, K: x k, V: x k) -> y k:\n"
                 "    S = MultiHeadAttention(Q, K) / sqrt(k)"), "E0105", 12, 9),
    Case("attention-for-with-return", "attention.ncd",
         variant(ATTENTION, "    P = softmax[x](S)\n", "    for i in 0..2:\n        return S\n"), "E0404", 8, 9),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_variant_is_rejected_at_the_right_place(case: Case):
    d = only(case.text, case.path, case.sizes or None)
    assert where(d) == (case.code, case.line, case.column), d.render()
    assert d.span.source.path == case.path
    assert d.render().startswith(f"error[{case.code}]: ")


def test_lifting_hint_names_the_heads_axis():
    case = next(c for c in CASES if c.id == "attention-sdpa-not-lifted")
    d = only(case.text, case.path)
    assert d.help is not None and "ScaledDotProductAttention[h](...)" in d.help


def test_broadcasting_hint_names_the_passing_wire():
    case = next(c for c in CASES if c.id == "broadcasting-no-lift")
    d = only(case.text, case.path)
    assert d.help is not None and "G[c](...)" in d.help


def test_size_mismatch_says_where_both_sizes_come_from():
    case = next(c for c in CASES if c.id == "mlp-linear-wrong-input-concrete")
    d = only(case.text, case.path, case.sizes)
    # L2 = Linear[hidden -> classes]: both sizes are on that line
    assert [(label.span.location, label.text) for label in d.labels] == [
        ("mlp.ncd:7:17", "`hidden` is declared here"), ("mlp.ncd:7:27", "`classes` comes from here")], d.labels
    assert "hidden" in d.message and "classes" in d.message


def test_unproven_size_suggests_concrete_sizes():
    case = next(c for c in CASES if c.id == "mlp-linear-wrong-input")
    d = only(case.text, case.path)
    assert d.help is not None and "--sizes" in d.help


def test_concrete_sizes_that_agree_are_accepted():
    """`--sizes` only decides what cannot be proved: equal values make the unproven case pass."""
    text = variant(MLP, "X = relu(L1(X))", "X = relu(L2(X))")
    check_source(text, "mlp.ncd", {"hidden": 10, "classes": 10})


def test_duplicate_definition_points_at_the_first_one():
    case = next(c for c in CASES if c.id == "attention-duplicate-def")
    d = only(case.text, case.path)
    assert [(label.span.location, label.text) for label in d.labels] == [
        ("attention.ncd:4:5", "`ScaledDotProductAttention` is first defined here")], d.labels
    assert d.notes == []


def test_reserved_part_name_gives_the_reason():
    case = next(c for c in CASES if c.id == "mlp-reserved-part-name")
    d = only(case.text, case.path)
    assert "nn.Module" in d.message


# ---- syntax errors ------------------------------------------------------------------------------

SYNTAX_CASES = [
    Case("E0001-dollar", "composition.ncd", variant(COMPOSITION, "f(x1, x2))", "f(x1, x2)) $"), "E0001", 9, 29),
    Case("E0001-caret", "elementwise.ncd", variant(ELEMENTWISE, "x ** 2", "x ^ 2"), "E0001", 5, 14),
    Case("E0002-missing-colon", "indexes.ncd", variant(INDEXES, "def row(table: 4 3) -> 3:", "def row(table: 4 3) -> 3"),
         "E0002", 4, 25),
    Case("E0002-missing-arrow", "indexes.ncd", variant(INDEXES, "def row(table: 4 3) -> 3:", "def row(table: 4 3) 3:"),
         "E0002", 4, 21),
    Case("E0002-extra-bracket", "indexes.ncd", variant(INDEXES, "table[2, :]", "table[2, :]]"), "E0002", 5, 23),
    Case("E0002-box-without-arrow", "broadcasting.ncd", variant(BROADCASTING, "box G : a -> b", "box G : a b"),
         "E0002", 3, 12),
    Case("E0003-eof-after-header", "indexes.ncd", "def row(table: 4 3) -> 3:", "E0003", 1, 26),
    Case("E0003-eof-after-header-newline", "indexes.ncd", "def row(table: 4 3) -> 3:\n", "E0003", 1, 26),
    Case("E0003-eof-in-params", "indexes.ncd", "def row(", "E0003", 1, 9),
    Case("E0004-dedent-to-nowhere", "mlp.ncd",
         variant(MLP, "        X = relu(L1(X))", "      X = relu(L1(X))"), "E0004", 12, 1),
    Case("E0004-dedent-after-deeper-body", "indexes.ncd",
         "def row(table: 4 3) -> 3:\n        T = table\n    return T[2, :]\n", "E0004", 3, 1),
]


@pytest.mark.parametrize("case", SYNTAX_CASES, ids=str)
def test_syntax_error(case: Case):
    d = only(case.text, case.path)
    assert where(d) == (case.code, case.line, case.column), d.render()


def test_unexpected_indentation_points_at_the_indented_line():
    """An indented top-level line: the error is on that line, where its text starts."""
    text = variant(BROADCASTING, "box H : a, d -> b", "    box H : a, d -> b")
    d = only(text, "broadcasting.ncd")
    assert where(d) == ("E0002", 4, 5), d.render()
    assert "unexpected a " not in d.message, d.message  # "unexpected a change of indentation"
    assert d.help is not None and "indent" in d.help


def test_unclosed_bracket_at_end_of_file_is_unexpected_end_of_file():
    text = "def row(table: 4 3) -> 3:\n    return table[2, :\n"
    d = only(text, "indexes.ncd")
    assert where(d) == ("E0003", 2, 22), d.render()
    assert "`]`" in d.label


@pytest.mark.parametrize("text, expected", [
    ("def f(X: a) -> a:\n    for i in 0 3:\n        X = X\n    return X\n", "`..`"),
    ("def f(X: a) -> a:\n    return X[2, :]]\n", None),
], ids=["range", "operators"])
def test_expected_tokens_are_named_as_written(text, expected):
    """`..`, `//` and `**` are not `->` (where `->` cannot follow, it must not be suggested)."""
    d = only(text)
    assert d.code == "E0002"
    if expected is not None:
        assert expected in d.label, d.label
    assert "`->`" not in d.label, d.label


# ---- several errors at once ---------------------------------------------------------------------

SEVERAL = """\
box f : 4 2, 6 -> 3 3

def a1(x: 4 2, y: 6) -> 3 3:
    return f(y, x)

def a2(x: 4 2) -> 3:
    return x[0, :, 0]

def a3(x: 4 2) -> 4:
    return zz

def a4(x: 4 2) -> 4 2:
    y = x

def a5(X: 4 2) -> 4 2, 4 2:
    return X

module M(m=4):
    L = Linear[m -> m]()
    def forward(X: y m) -> y m:
        return L(X, X)
"""

SEVERAL_EXPECTED = [("E0202", 4, 14), ("E0202", 7, 12), ("E0101", 10, 12), ("E0401", 13, 5), ("E0402", 16, 5),
                    ("E0201", 21, 16)]


def test_every_def_is_checked():
    diags = errors(SEVERAL, "several.ncd")
    assert [where(d) for d in diags] == SEVERAL_EXPECTED


def test_an_error_in_a_callee_is_reported_once():
    """A call to a def whose own body is wrong must not pile a second diagnostic on it."""
    text = variant(ATTENTION, "S = einsum[y x](Q, K) / sqrt(k)", "S = einsum[y x](Q, K) / sqrt(z)")
    diags = errors(text, "attention.ncd")
    assert [where(d) for d in diags] == [("E0101", 12, 34)]


def test_errors_in_declarations_and_bodies_together():
    text = "def class(X: a) -> a:\n    return X\n\ndef g(X: a) -> a:\n    return Y\n"
    assert [where(d) for d in errors(text)] == [("E0102", 1, 5), ("E0101", 5, 12)]


def test_statement_spans_end_on_their_own_line():
    """A diagnostic on a statement covers the statement, not the newline and the next line's indent."""
    for text in [variant(ELEMENTWISE, "return X ** 2", "Y = X ** 2"), SEVERAL,
                 "def f(X: a) -> a:\n    return X\n    Y = X\n"]:
        for d in errors(text):
            assert d.span.end_line == d.span.line, (d.code, d.span)


# ---- pinned renderings --------------------------------------------------------------------------

PINNED = {
    "size-mismatch": (
        variant(COMPOSITION, "x1: 4 2", "x1: 4 3"), "composition.ncd", None,
        """\
error[E0301]: size mismatch in argument 1 of `f`, axis 2: `3` where `2` is expected
 --> composition.ncd:9:20
  |
9 |     return g(x0, f(x1, x2))
  |                    ^^ this axis is `3`
  |
 --> composition.ncd:4:11
  |
4 | box f : 4 2, 6 -> 3 3
  |           - `2` is declared here
  |
 --> composition.ncd:8:20
  |
8 | def h(x0: 3, x1: 4 3, x2: 6) -> 1 2:
  |                    - `3` comes from here
  = note: expected `4 2` (`f` takes `4 2`), found `4 3`"""),
    "sdpa-lifting-hint": (
        variant(ATTENTION, "ScaledDotProductAttention[h](Q, K, V)", "ScaledDotProductAttention(Q, K, V)"),
        "attention.ncd", None,
        """\
error[E0202]: argument 1 of `ScaledDotProductAttention` has 3 axes, expected 2
  --> attention.ncd:27:39
   |
27 |         O = ScaledDotProductAttention(Q, K, V)   # the heads are diagonalised
   |                                       ^ this is `y k h`
   = note: expected `y k` (`ScaledDotProductAttention` takes `y k`)
   = help: lift `ScaledDotProductAttention` over the axes it does not act on: `ScaledDotProductAttention[h](...)`"""),
    "syntax-unexpected-character": (
        variant(COMPOSITION, "f(x1, x2))", "f(x1, x2)) $"), "composition.ncd", None,
        """\
error[E0001]: unexpected character `$`
 --> composition.ncd:9:29
  |
9 |     return g(x0, f(x1, x2)) $
  |                             ^ not part of the language
  = help: names are letters, digits and `_`; comments start with `#`"""),
    "syntax-expected-range": (
        "def f(X: a) -> a:\n    for i in 0 3:\n        X = X\n    return X\n", "loop.ncd", None,
        """\
error[E0002]: unexpected `3`
 --> loop.ncd:2:16
  |
2 |     for i in 0 3:
  |                ^ expected `..`"""),
    "unknown-name": (
        variant(ELEMENTWISE, "sqrt(b)", "sqrt(c)"), "elementwise.ncd", None,
        """\
error[E0101]: unknown name `c`
  --> elementwise.ncd:13:37
   |
13 |     return relu(X - 0.5) * 2 / sqrt(c)
   |                                     ^ not defined here
   = note: wires here: `X`"""),
    "einsum-label-conflict": (
        variant(EINSUM, "einsum[y x h](Q, K)", "einsum[p q r](Q: p d r, K: q r d)"), "einsum.ncd", {"k": 16, "h": 4},
        """\
error[E0301]: axis `r` has two sizes: `h (= 4)` and `k (= 16)`
  --> einsum.ncd:14:41
   |
14 |     return einsum[p q r](Q: p d r, K: q r d) / sqrt(k)
   |                                 -       ^ `r` is `k (= 16)` here
   |                                 |
   |                                 `r` is `h (= 4)` here
   = help: axes with one name are one axis; name the arguments' axes apart with a pattern (`X: a b`) if they are different axes"""),
    "missing-return": (
        variant(ELEMENTWISE, "return X ** 2", "Y = X ** 2"), "elementwise.ncd", None,
        """\
error[E0401]: `fs` does not return
 --> elementwise.ncd:9:5
  |
9 |     Y = X ** 2
  |     ^^^^^^^^^^ the body ends here without `return`
  = help: end the body with `return ...` giving `a`"""),
    "index-out-of-range": (
        variant(INDEXES, "X[2, 3]", "X[2, 7]"), "indexes.ncd", None,
        """\
error[E0307]: index 7 is out of range for an axis of size b (= 7)
  --> indexes.ncd:11:17
   |
11 |     return X[2, 7]
   |                 ^ out of range"""),
    "duplicate-definition": (
        variant(ATTENTION, "def ScaledDotProductAttentionStepwise(", "def ScaledDotProductAttention("),
        "attention.ncd", None,
        """\
error[E0103]: `ScaledDotProductAttention` is defined twice
  --> attention.ncd:11:5
   |
11 | def ScaledDotProductAttention(Q: y k, K: x k, V: x k) -> y k:
   |     ^^^^^^^^^^^^^^^^^^^^^^^^^ defined again here
   |
  --> attention.ncd:4:5
   |
4  | def ScaledDotProductAttention(Q: y k, K: x k, V: x k) -> y k:
   |     ------------------------- `ScaledDotProductAttention` is first defined here"""),
    "statement-after-return": (
        "def f(X: a) -> a:\n    return X\n    Y = X\n", "return.ncd", None,
        """\
error[E0403]: statement after `return`
 --> return.ncd:3:5
  |
3 |     Y = X
  |     ^^^^^ this never runs
  |
 --> return.ncd:2:5
  |
2 |     return X
  |     -------- the function returns here"""),
    "wire-named-like-a-size": (
        "size a = 3\ndef f(a: a) -> a:\n    return a\n", "size.ncd", None,
        """\
error[E0105]: `a` is already a size
 --> size.ncd:2:7
  |
2 | def f(a: a) -> a:
  |       ^ a wire cannot share a size's name
  |
 --> size.ncd:1:6
  |
1 | size a = 3
  |      - `a` is declared here
  = note: `a` is a constant
  = help: rename the wire, for example `A`"""),
    "unexpected-end-of-file": (
        "def row(table: 4 3) -> 3:", "indexes.ncd", None,
        """\
error[E0003]: unexpected end of file
 --> indexes.ncd:1:26
  |
1 | def row(table: 4 3) -> 3:
  |                          ^ expected an indented block"""),
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_rendered_text_is_pinned(name):
    text, path, sizes, expected = PINNED[name]
    d = only(text, path, sizes)
    assert d.render() == expected


def test_error_collects_every_rendering():
    with pytest.raises(NcdcError) as info:
        check_source(SEVERAL, "several.ncd")
    assert str(info.value) == "\n\n".join(d.render() for d in info.value.diagnostics)


# ---- secondary labels ---------------------------------------------------------------------------

LABELLED_SOURCE = Source("labels.ncd", "size k = 64\n\ndef f(X: n k) -> n k:\n    return g(X) + h(X)\n")


def labelled() -> Diagnostic:
    """One label on another line, one on the primary span's line."""
    return Diagnostic("E0301", "size mismatch", Span(LABELLED_SOURCE, 4, 19, 4, 20), "this axis is `32`",
                      ["expected `n 64`, found `n 32`"], "make them agree",
                      labels=[Label(Span(LABELLED_SOURCE, 1, 6, 1, 7), "fixed to 64 here"),
                              Label(Span(LABELLED_SOURCE, 4, 12, 4, 13), "this one is `64`")])


def test_labels_render_on_their_own_snippet_and_on_the_primary_line():
    assert labelled().render() == """\
error[E0301]: size mismatch
 --> labels.ncd:4:19
  |
4 |     return g(X) + h(X)
  |            -      ^ this axis is `32`
  |            |
  |            this one is `64`
  |
 --> labels.ncd:1:6
  |
1 | size k = 64
  |      - fixed to 64 here
  = note: expected `n 64`, found `n 32`
  = help: make them agree"""


def test_labels_in_json():
    report = json.loads(render_json([labelled()]))
    (d,) = report["diagnostics"]
    assert d["labels"] == [
        {"file": "labels.ncd", "line": 1, "column": 6, "end_line": 1, "end_column": 7, "text": "fixed to 64 here"},
        {"file": "labels.ncd", "line": 4, "column": 12, "end_line": 4, "end_column": 13, "text": "this one is `64`"},
    ]
    assert (d["line"], d["column"], d["label"], d["notes"]) == (4, 19, "this axis is `32`",
                                                                ["expected `n 64`, found `n 32`"])


def test_label_right_of_the_primary_span_takes_the_text_beside_it():
    """The rightmost text goes beside the underline; the others hang below their spans.  The gutter
    is as wide as the widest line number of all snippets."""
    source = Source("wide.ncd", "a\n" * 9 + "    return g(X) + h(X)\n")
    d = Diagnostic("E0301", "size mismatch", Span(source, 10, 12, 10, 13), "here",
                   labels=[Label(Span(source, 10, 19, 10, 20), "and here"), Label(Span(source, 2, 1, 2, 2), "")])
    assert d.render() == """\
error[E0301]: size mismatch
  --> wide.ncd:10:12
   |
10 |     return g(X) + h(X)
   |            ^      - and here
   |            |
   |            here
   |
  --> wide.ncd:2:1
   |
2  | a
   | -"""


# ---- JSON and text agree ------------------------------------------------------------------------


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ncdc", *args], cwd=cwd, capture_output=True, text=True,
                          encoding="utf-8", timeout=120)


def test_json_and_text_report_the_same_diagnostics(tmp_path):
    (tmp_path / "several.ncd").write_text(SEVERAL, encoding="utf-8")
    (tmp_path / "attention.ncd").write_text(
        variant(ATTENTION, "ScaledDotProductAttention[h](Q, K, V)", "ScaledDotProductAttention(Q, K, V)"),
        encoding="utf-8")
    text = _cli("check", "several.ncd", "attention.ncd", cwd=tmp_path)
    as_json = _cli("check", "--format", "json", "several.ncd", "attention.ncd", cwd=tmp_path)
    assert text.returncode == as_json.returncode == 1
    assert "Traceback" not in text.stderr + as_json.stderr

    # Each diagnostic's first `-->` is its primary span; the others are the lines of its labels.
    blocks = re.split(r"^(?=error\[)", text.stderr.split("\nchecked ")[0], flags=re.M)[1:]
    codes = [re.match(r"error\[(E\d{4})\]", block).group(1) for block in blocks]
    places = [[(f, int(l), int(c)) for f, l, c in re.findall(r"^ *--> (.+):(\d+):(\d+)$", block, re.M)]
              for block in blocks]
    from_text = [(code, *place[0]) for code, place in zip(codes, places)]
    assert len(codes) == len(places) == 7

    report = json.loads(as_json.stdout)
    from_json = [(d["code"], d["file"], d["line"], d["column"]) for d in report["diagnostics"]]
    assert from_json == from_text
    for d, place in zip(report["diagnostics"], places):
        label_lines = {}  # the first label on each line other than the primary one
        for label in d["labels"]:
            if (label["file"], label["line"]) != (d["file"], d["line"]):
                label_lines.setdefault((label["file"], label["line"]), (label["file"], label["line"], label["column"]))
        assert list(label_lines.values()) == place[1:]
    assert from_json[:6] == [(c, "several.ncd", l, col) for c, l, col in SEVERAL_EXPECTED]
    assert from_json[6] == ("E0202", "attention.ncd", 27, 39)
    for d in report["diagnostics"]:
        assert d["severity"] == "error"
        assert d["end_line"] >= d["line"]
        assert isinstance(d["notes"], list)
        assert isinstance(d["labels"], list)


# ---- errors already reported --------------------------------------------------------------------


def test_an_error_always_carries_a_diagnostic():
    """An error that adds nothing, because its cause is reported already, is AlreadyReported."""
    with pytest.raises(ValueError, match="AlreadyReported"):
        NcdcError([])


def test_a_repetition_of_a_failed_module_adds_no_error():
    text = ("module Block(c):\n    L = Linear[c -> c]()\n    def forward(X: c) -> c:\n        return Y\n\n"
            "module Net(n=4):\n    blocks = [Block(n) for i in 1..3]\n    def forward(X: n) -> n:\n"
            "        return blocks(X)\n")
    assert [where(d) for d in errors(text)] == [("E0101", 4, 16)]


def test_check_file_reports_a_non_utf8_spec(tmp_path):
    from ncdc import check_file

    (tmp_path / "x.ncd").write_bytes(b"def f(X: a) -> a:\n    return X \xe9\n")
    with pytest.raises(NcdcError) as info:
        check_file(tmp_path / "x.ncd")
    (d,) = info.value.diagnostics
    assert (d.code, d.file, d.notes) == ("E0005", str(tmp_path / "x.ncd"), ["byte 31 cannot be decoded"])
