"""Hand-written reference implementations of the companion notebook, sections 2.3 - 3.2.

Source: the companion notebook of "Neural Circuit Diagrams: Robust Diagrams for the
Communication, Implementation, and Analysis of Deep Learning Architectures" (V. Abbott,
TMLR 2024, arXiv 2402.05424), stored at ``/work/shared/seed/000_c57bf1a5b6734bba.txt``.
Figure numbers below are the notebook's headings.  The code follows the notebook as closely
as possible (same names where they are legal Python, same einsum strings, same module order),
with the notebook's bugs fixed (see ``/work/shared/design/paper-notes.md`` section 4):

* Fig 10 (broadcasting): the notebook's ``Gc`` indexes the global ``jc`` instead of its loop
  variable (its check passes only by accident); here ``Gc`` uses its own loop variable.
* Fig 11 (inner broadcasting): the docstrings said ``-> c d`` and ``-> * c``; the types are
  ``c0 H : c a, d -> c b`` and ``*0 H : * a, d -> * b``.
* Fig 19 (MLP): the notebook returns ``nn.Softmax(x)`` (a Softmax *module*); here ``forward``
  returns ``torch.softmax(logits, -1)``.
* Fig 20: the notebook defines both SDPA versions under one name (the second shadows the
  first); here they are ``ScaledDotProductAttention_stepwise`` and ``ScaledDotProductAttention``.

The notebook's sizes are kept as module constants (as plain ints instead of the notebook's
one-element lists): ``a, b, c, d = 3, 2, 4, 3`` for Figs 10-12 and ``FIG18_SIZES = (3, 4, 5)``
for Fig 18 (the notebook re-binds ``a, b, c`` to 3, 4, 5 in that cell; the Fig 18 helpers here
read their sizes from their arguments instead of from globals).

This file is test-support code and imports nothing from ``ncdc``.
"""

from __future__ import annotations

import math

import einops
import torch
import torch.nn as nn

T = torch.Tensor

# ---------------------------------------------------------------------------------------------
# 2.3 Tensors: h : 3, 4 2, 6 -> 1 2 built from f : 4 2, 6 -> 3 3 and g : 3, 3 3 -> 1 2.
# Assertions and random outputs stand for generic functions, as in the notebook.
# ---------------------------------------------------------------------------------------------


def f(x0: T, x1: T) -> T:
    """f: 4 2, 6 -> 3 3"""
    assert x0.size() == torch.Size([4, 2])
    assert x1.size() == torch.Size([6])
    return torch.rand([3, 3])


def g(x0: T, x1: T) -> T:
    """g: 3, 3 3 -> 1 2"""
    assert x0.size() == torch.Size([3])
    assert x1.size() == torch.Size([3, 3])
    return torch.rand([1, 2])


def h(x0: T, x1: T, x2: T) -> T:
    """h: 3, 4 2, 6 -> 1 2"""
    assert x0.size() == torch.Size([3])
    assert x1.size() == torch.Size([4, 2])
    assert x2.size() == torch.Size([6])
    return g(x0, f(x1, x2))


def h_with(x0: T, x1: T, x2: T, f, g) -> T:
    """h: 3, 4 2, 6 -> 1 2, composed from the given ``f`` and ``g`` (e.g. deterministic ones).

    Same wiring as :func:`h`: ``g(x0, f(x1, x2))``.  The input-shape assertions of ``h`` are kept.
    """
    assert x0.size() == torch.Size([3])
    assert x1.size() == torch.Size([4, 2])
    assert x2.size() == torch.Size([6])
    return g(x0, f(x1, x2))


# ---------------------------------------------------------------------------------------------
# 2.3.2 Broadcasting.  Sizes as in the notebook (there: a, b, c, d = [3], [2], [4], [3]).
# ---------------------------------------------------------------------------------------------

a, b, c, d = 3, 2, 4, 3


# Figure 10: Broadcasting
def G(Xa: T) -> T:
    """G: a -> b"""
    # Builtin ``sum`` over the a axis, as in the notebook (it also works under vmap).
    return sum(Xa**2) + torch.ones(b)


def Gc(Xac: T) -> T:
    """G c : a c -> b c  (broadcasting bootstrapped with a loop; jc bug fixed)"""
    Ybc = torch.zeros(b, c)
    for jc in range(c):
        Ybc[:, jc] = G(Xac[:, jc])
    return Ybc


# G * : a * -> b *
Gs = torch.vmap(G, -1, -1)


# Figure 11: Inner Broadcasting
def H(Xa: T, Xd: T) -> T:
    """H: a, d -> b"""
    return torch.sum(torch.sqrt(Xa**2)) + torch.sum(torch.sqrt(Xd**2)) + torch.ones(b)


def Hc0(Xca: T, Xd: T) -> T:
    """c0 H : c a, d -> c b  (inner broadcasting bootstrapped with a loop)"""
    Ycb = torch.zeros(c, b)
    for ic in range(c):
        Ycb[ic, :] = H(Xca[ic, :], Xd)
    return Ycb


# *0 H : * a, d -> * b
Hs0 = torch.vmap(H, (0, None), 0)


# Figure 12: Elementwise operations (the notebook calls these f / fs; renamed so that they do
# not shadow the Section 2.3 ``f``).
def f_elementwise(x: T) -> T:
    """f : 1 -> 1"""
    return x**2


# f * : * -> *
fs_elementwise = torch.vmap(f_elementwise)


# ---------------------------------------------------------------------------------------------
# 2.4.2 Figure 17: Multi-head attention scores with einsum.  Q: y k h, K: x k h -> y x h.
# ---------------------------------------------------------------------------------------------


def attention_scores_stepwise(Q: T, K: T) -> T:
    """y k h, x k h -> y x h : transpose, outer product + diagonalise, inner product, scale."""
    k = Q.size()[1]
    # Transpose K,
    K = einops.einsum(K, "x k h -> k x h")
    # Outer product and diagonalize (h is shared, so it is diagonalised),
    X = einops.einsum(Q, K, "y k1 h, k2 x h -> y k1 k2 x h")
    # Inner product (the repeated k contracts the diagonal),
    X = einops.einsum(X, "y k k x h -> y x h")
    # Scale,
    X = X / math.sqrt(k)
    return X


def attention_scores(Q: T, K: T) -> T:
    """y k h, x k h -> y x h : the same in one einsum."""
    k = Q.size()[1]
    X = einops.einsum(Q, K, "y k h, x k h -> y x h")
    X = X / math.sqrt(k)
    return X


# ---------------------------------------------------------------------------------------------
# 2.4.3 Figure 18: Graphical linear algebra.  The notebook uses a, b, c = 3, 4, 5 here.
# F_matrix : a b c, read as the linear map F : a -> b c.
# ---------------------------------------------------------------------------------------------

FIG18_SIZES = (3, 4, 5)  # (a, b, c) in the notebook's Fig 18 cell

es = einops.einsum


def F_broadcast_transpose(Xba: T, F_matrix: T) -> T:
    """(b F) (.b c) : b a -> c  -- transpose F by broadcasting, then take the b-diagonal sum."""

    def F_func(Xa: T) -> T:
        """F: a -> b c"""
        return es(Xa, F_matrix, "a, a b c -> b c")

    # * F : * a -> * b c
    F_broadcast = torch.vmap(F_func, 0, 0)
    Xbbc = F_broadcast(Xba)
    return es(Xbbc, "b b c -> c")


def F_linear_transpose(F_matrix: T) -> T:
    """a b c -> b a c : transpose F by linearity (outer product with Id(b), then inner product).

    The result is the matrix of the map ``b a -> c``; apply it with
    ``es(Xba, F_linear_transpose(F_matrix), 'b a, b a c -> c')``.
    """
    nb = F_matrix.size()[1]
    F_outerproduct = es(torch.eye(nb), F_matrix, "b0 b1, a b2 c -> b0 b1 a b2 c")
    return es(F_outerproduct, "b B a B c -> b a c")


def outer_unit(Xb: T) -> T:
    """b -> b b b : outer product with the unit (identity matrix)."""
    nb = Xb.size()[0]
    return es(Xb, torch.eye(nb), "b0, b1 b2 -> b0 b1 b2")


def dot_outer(Xbbb: T) -> T:
    """b b b -> b : inner product over the first two axes."""
    return es(Xbbb, "b0 b0 b1 -> b1")


# ---------------------------------------------------------------------------------------------
# 3.1 Figure 19: Basic multi-layer perceptron (softmax bug fixed).
# ---------------------------------------------------------------------------------------------


class BasicImageRecogniser(nn.Module):
    """28 28 -> 10 : flatten, L+ 784->512, ReLU, L+ 512->512, ReLU, L+ 512->10, SoftMax.

    Parameters (in order): linear_relu_stack.0.{weight,bias}, .2.{weight,bias}, .4.{weight,bias}.
    """

    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10),
        )

    def forward(self, x: T) -> T:
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        # Fixed: the notebook returned nn.Softmax(x), a module, instead of applying it.
        return torch.softmax(logits, -1)


# ---------------------------------------------------------------------------------------------
# 3.2 Figure 20: Scaled dot-product attention.  Batch axes are captured by '...'.
# ---------------------------------------------------------------------------------------------


def ScaledDotProductAttention_stepwise(q: T, k: T, v: T) -> T:
    """y k, x k, x k -> y k  (step by step)"""
    klength = k.size()[-1]
    # Transpose
    k = einops.einsum(k, "... x k -> ... k x")
    # Matrix Multiply / Inner Product
    x = einops.einsum(q, k, "... y k, ... k x -> ... y x")
    # Scale
    x = x / math.sqrt(klength)
    # SoftMax
    x = torch.nn.Softmax(-1)(x)
    # Matrix Multiply / Inner Product
    x = einops.einsum(x, v, "... y x, ... x k -> ... y k")
    return x


def ScaledDotProductAttention(q: T, k: T, v: T) -> T:
    """y k, x k, x k -> y k  (linear functions broadcast simultaneously)"""
    klength = k.size()[-1]
    # Inner Product and Scale
    x = einops.einsum(q, k, "... y k, ... x k -> ... y x")
    # Scale and SoftMax
    x = torch.nn.Softmax(-1)(x / math.sqrt(klength))
    # Final Inner Product
    x = einops.einsum(x, v, "... y x, ... x k -> ... y k")
    return x


# ---------------------------------------------------------------------------------------------
# 3.2 Figure 21: Multi-head attention.
# ---------------------------------------------------------------------------------------------


def MultiHeadDotProductAttention(q: T, k: T, v: T) -> T:
    """y k h, x k h, x k h -> y k h  (SoftMax over x, which is axis -2 of the y x h scores)"""
    klength = k.size()[-2]
    x = einops.einsum(q, k, "... y k h, ... x k h -> ... y x h")
    x = torch.nn.Softmax(-2)(x / math.sqrt(klength))
    x = einops.einsum(x, v, "... y x h, ... x k h -> ... y k h")
    return x


class MultiHeadAttention(nn.Module):
    """y m, x m -> y m.  Bias-free Lq, Lk, Lv : m -> (k h) and Lo : (k h) -> m.

    The bound axis is split as ``(k h)``: k outer, h inner (torch.nn.MultiheadAttention uses
    ``(h k)``).  Parameters (in order): Lq.weight, Lk.weight, Lv.weight, Lo.weight.
    """

    def __init__(self, m, k, h):
        super().__init__()
        self.m, self.k, self.h = m, k, h
        self.Lq = nn.Linear(m, k * h, False)
        self.Lk = nn.Linear(m, k * h, False)
        self.Lv = nn.Linear(m, k * h, False)
        self.Lo = nn.Linear(k * h, m, False)

    # Endogenous data (Eym) and external / injected data (Xxm)
    def forward(self, Eym: T, Xxm: T) -> T:
        """y m, x m -> y m"""
        unbind = lambda x: einops.rearrange(x, "... (k h) -> ... k h", h=self.h)  # noqa: E731
        q = unbind(self.Lq(Eym))
        k = unbind(self.Lk(Xxm))
        v = unbind(self.Lv(Xxm))
        o = MultiHeadDotProductAttention(q, k, v)
        o = einops.rearrange(o, "... k h -> ... (k h)", h=self.h)
        return self.Lo(o)


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


if __name__ == "__main__":
    import itertools

    # 2.3: h composes f and g.
    assert h(torch.rand([3]), torch.rand([4, 2]), torch.rand([6])).size() == torch.Size([1, 2])
    fd = lambda x0, x1: x0.sum() * torch.ones(3, 3) + x1.sum()  # noqa: E731
    gd = lambda x0, x1: (x0.sum() + x1.sum()) * torch.ones(1, 2)  # noqa: E731
    xs = (torch.rand([3]), torch.rand([4, 2]), torch.rand([6]))
    assert torch.allclose(h_with(*xs, fd, gd), gd(xs[0], fd(xs[1], xs[2])))

    # Fig 8 / 9: indexes and subtensors.
    table = torch.arange(0, 12).view(4, 3)
    assert table[2, :].tolist() == [6, 7, 8]
    Xab = torch.rand([5, 7])
    for ia, jb in itertools.product(range(5), range(7)):
        assert Xab[ia, jb] == Xab[ia, :][jb]
        assert Xab[ia, jb] == Xab[:, jb][ia]

    # Fig 10.  (The notebook's Gc only passed because the global jc matched the check's loop.)
    Xac = torch.rand(a, c)
    for jc in range(c):
        assert torch.allclose(G(Xac[:, jc]), Gc(Xac)[:, jc])
        assert torch.allclose(G(Xac[:, jc]), Gs(Xac)[:, jc])
    assert torch.allclose(Gc(Xac), Gs(Xac))
    assert Gs(Xac).size() == torch.Size([b, c])

    # Fig 11.
    Xca = torch.rand(c, a)
    Xd = torch.rand(d)
    for ic in range(c):
        assert torch.allclose(Hc0(Xca, Xd)[ic, :], H(Xca[ic, :], Xd))
        assert torch.allclose(Hs0(Xca, Xd)[ic, :], H(Xca[ic, :], Xd))
    assert Hs0(Xca, Xd).size() == torch.Size([c, b])

    # Fig 12.
    Xa = torch.rand(a)
    for i in range(a):
        assert torch.allclose(f_elementwise(Xa[i]), fs_elementwise(Xa)[i])
        assert torch.allclose(f_elementwise(Xa[i]), f_elementwise(Xa)[i])

    # Fig 17.
    x_, y_, k_, h_ = 5, 3, 4, 2
    Q = torch.rand([y_, k_, h_])
    K = torch.rand([x_, k_, h_])
    S1, S2 = attention_scores_stepwise(Q, K), attention_scores(Q, K)
    assert S1.size() == torch.Size([y_, x_, h_])
    assert torch.allclose(S1, S2, atol=1e-6)

    # Fig 18.
    fa, fb, fc = FIG18_SIZES
    F_matrix = torch.rand(fa, fb, fc)
    Xba = torch.rand(fb, fa)
    assert torch.allclose(
        F_broadcast_transpose(Xba, F_matrix),
        es(Xba, F_linear_transpose(F_matrix), "b a, b a c -> c"),
    )
    Xb = torch.rand(fb)
    assert torch.allclose(Xb, dot_outer(outer_unit(Xb)))

    # Fig 19.
    mlp = BasicImageRecogniser()
    out = mlp(torch.rand([1, 28, 28]))
    assert out.size() == torch.Size([1, 10])
    assert torch.allclose(out.sum(-1), torch.ones(1))

    # Fig 20: the two versions agree, with batch axes.
    q, kk, v = torch.rand(2, 7, 6), torch.rand(2, 9, 6), torch.rand(2, 9, 6)
    o1 = ScaledDotProductAttention_stepwise(q, kk, v)
    o2 = ScaledDotProductAttention(q, kk, v)
    assert o1.size() == torch.Size([2, 7, 6])
    assert torch.allclose(o1, o2, atol=1e-6)
    assert torch.allclose(o2, torch.nn.functional.scaled_dot_product_attention(q, kk, v), atol=1e-6)

    # Fig 21: the notebook's check, y=20, x=22, m=128, k=16, h=4.
    y, x, m, kh, heads = 20, 22, 128, 16, 4
    Eym = torch.rand(y, m)
    Xxm = torch.rand(x, m)
    mha = MultiHeadAttention(m, kh, heads)
    assert list(mha.forward(Eym, Xxm).size()) == [y, m]
    assert list(mha(torch.rand(3, y, m), torch.rand(3, x, m)).size()) == [3, y, m]

    # The (k h) layout vs torch.nn.MultiheadAttention's (h k): same function once the rows of
    # Lq/Lk/Lv (and the columns of Lo) are permuted from (k h) order to (h k) order.  torch needs
    # k * h == m, so this uses m = 64, k = 16, h = 4.
    m2 = kh * heads
    mha2 = MultiHeadAttention(m2, kh, heads)
    perm = torch.arange(m2).view(kh, heads).t().reshape(-1)  # (h k) position -> (k h) index
    tmha = nn.MultiheadAttention(m2, heads, bias=False, batch_first=True)
    E2, X2 = torch.rand(2, y, m2), torch.rand(2, x, m2)
    with torch.no_grad():
        tmha.in_proj_weight.copy_(
            torch.cat([mha2.Lq.weight[perm], mha2.Lk.weight[perm], mha2.Lv.weight[perm]], 0)
        )
        tmha.out_proj.weight.copy_(mha2.Lo.weight[:, perm])
        ref, _ = tmha(E2, X2, X2, need_weights=False)
        assert torch.allclose(mha2(E2, X2), ref, atol=1e-5)

    print("BasicImageRecogniser() parameters:", _count(mlp))
    print("  ", [(n, tuple(p.shape)) for n, p in mlp.named_parameters()])
    print(f"MultiHeadAttention({m}, {kh}, {heads}) parameters:", _count(mha))
    print("  ", [(n, tuple(p.shape)) for n, p in mha.named_parameters()])
    print("notebook.py: all checks passed")
