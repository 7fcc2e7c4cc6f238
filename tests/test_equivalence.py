"""Numerical equivalence of the generated code with references that ncdc did not write.

References: the companion notebook's code with its bugs fixed (`tests/reference/notebook.py`,
imported as `notebook`), `torch.nn.MultiheadAttention`, `torch.nn.functional.
scaled_dot_product_attention`, `torch.vmap`, and plain indexing and arithmetic.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
import torch
from torch import nn

import ncdc
import notebook  # tests/reference/notebook.py, put on sys.path by conftest.py

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
ATOL = 1e-6

BATCHES = [(), (3,), (2, 3)]
BATCH_IDS = ["no-batch", "batch", "two-batch-axes"]


def close(actual, expected, atol=ATOL, rtol=1e-5):
    torch.testing.assert_close(actual, expected, atol=atol, rtol=rtol)


def per_item(fn, *inputs, batch: tuple):
    """`fn` applied to each item of the leading `batch` axes of `inputs`, stacked back: the
    reference result for a function called with batch axes."""
    if not batch:
        return fn(*inputs)
    flat = [x.reshape(-1, *x.shape[len(batch):]) for x in inputs]
    out = torch.stack([fn(*items) for items in zip(*flat)])
    return out.reshape(*batch, *out.shape[1:])


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def load():
    cache = {}

    def get(stem: str, stubs: bool = False):
        if (stem, stubs) not in cache:
            cache[stem, stubs] = ncdc.load(SPECS / f"{stem}.ncd", stubs=stubs)
        return cache[stem, stubs]

    return get


# ---- Figures 20 and 21: attention --------------------------------------------------------------


@pytest.fixture(scope="module")
def attention(load):
    return load("attention")


def mha_pair(attention, m=128, k=16, h=4):
    """The notebook's MultiHeadAttention and the generated one, holding the same weights."""
    ref = notebook.MultiHeadAttention(m, k, h)
    gen = attention.MultiHeadAttention(m=m, k=k, h=h)
    assert sorted(gen.state_dict()) == sorted(ref.state_dict()) == ["Lk.weight", "Lo.weight", "Lq.weight",
                                                                     "Lv.weight"]
    gen.load_state_dict(ref.state_dict())
    return gen, ref


def test_mha_parameters_match_notebook(attention):
    gen = attention.MultiHeadAttention()  # the spec's defaults are the notebook's m=128, k=16, h=4
    ref = notebook.MultiHeadAttention(128, 16, 4)
    assert [(n, p.shape) for n, p in gen.named_parameters()] == [(n, p.shape) for n, p in ref.named_parameters()]


@pytest.mark.parametrize("batch", BATCHES, ids=BATCH_IDS)
def test_mha_matches_notebook(attention, batch):
    y, x, m = 20, 22, 128
    gen, ref = mha_pair(attention, m, 16, 4)
    E, X = torch.rand(*batch, y, m), torch.rand(*batch, x, m)
    with torch.no_grad():
        out = gen(E, X)
        expected = ref(E, X)
    assert out.shape == (*batch, y, m)
    close(out, expected)


def test_mha_batch_axes_broadcast_like_the_notebook(attention):
    """One batch axis on E only: the notebook's einsums broadcast it; so must the generated code."""
    gen, ref = mha_pair(attention, 32, 4, 2)
    E, X = torch.rand(3, 5, 32), torch.rand(7, 32)
    with torch.no_grad():
        close(gen(E, X), per_item(lambda e: ref(e, X), E, batch=(3,)))


@pytest.mark.parametrize("batch", [(), (2,)], ids=["no-batch", "batch"])
def test_mha_matches_torch_multihead_attention(attention, batch):
    """Same function as torch.nn.MultiheadAttention once the (k h) rows are permuted to (h k)."""
    y, x, k, h = 20, 22, 16, 4
    m = k * h  # torch needs embed_dim == k * h
    gen = attention.MultiHeadAttention(m=m, k=k, h=h)
    tmha = nn.MultiheadAttention(m, h, bias=False, batch_first=True)
    perm = torch.arange(m).view(k, h).t().reshape(-1)  # position in (h k) -> index in (k h)
    with torch.no_grad():
        tmha.in_proj_weight.copy_(torch.cat([gen.Lq.weight[perm], gen.Lk.weight[perm], gen.Lv.weight[perm]], 0))
        tmha.out_proj.weight.copy_(gen.Lo.weight[:, perm])
        E, X = torch.rand(*batch, y, m), torch.rand(*batch, x, m)
        expected, _ = tmha(E, X, X, need_weights=False)
        close(gen(E, X), expected, atol=1e-5)


def test_mha_gradients_match_notebook(attention):
    gen, ref = mha_pair(attention, 32, 4, 2)
    E, X = torch.rand(2, 5, 32), torch.rand(2, 7, 32)
    weights = torch.rand(2, 5, 32)
    grads = []
    for model in (gen, ref):
        e, xx = E.clone().requires_grad_(), X.clone().requires_grad_()
        (model(e, xx) * weights).sum().backward()
        grads.append({"E": e.grad, "X": xx.grad} | {n: p.grad for n, p in model.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        assert grads[0][name] is not None, f"no gradient for {name}"
        assert grads[0][name].abs().sum() > 0, f"zero gradient for {name}"
        close(grads[0][name], grads[1][name], atol=1e-5)


SDPA_NAMES = ["ScaledDotProductAttention", "ScaledDotProductAttentionStepwise"]


@pytest.mark.parametrize("name", SDPA_NAMES)
@pytest.mark.parametrize("batch", BATCHES, ids=BATCH_IDS)
def test_sdpa_matches_references(attention, name, batch):
    y, x, k = 7, 9, 6
    q, kk, v = torch.rand(*batch, y, k), torch.rand(*batch, x, k), torch.rand(*batch, x, k)
    out = getattr(attention, name)(q, kk, v)
    assert out.shape == (*batch, y, k)
    close(out, notebook.ScaledDotProductAttention(q, kk, v))
    close(out, notebook.ScaledDotProductAttention_stepwise(q, kk, v))
    close(out, torch.nn.functional.scaled_dot_product_attention(q, kk, v))


def test_sdpa_versions_agree(attention):
    q, kk, v = torch.randn(2, 7, 6), torch.randn(2, 9, 6), torch.randn(2, 9, 6)
    close(attention.ScaledDotProductAttention(q, kk, v), attention.ScaledDotProductAttentionStepwise(q, kk, v))


# ---- Figure 19: the MLP ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mlp_pair(load):
    torch.manual_seed(0)
    ref = notebook.BasicImageRecogniser()
    gen = load("mlp").BasicImageRecogniser()
    return gen, ref


def test_mlp_parameters_match_notebook_in_order(mlp_pair):
    gen, ref = mlp_pair
    gen_params, ref_params = list(gen.named_parameters()), list(ref.named_parameters())
    assert len(gen_params) == len(ref_params) == 6
    for (gname, gp), (rname, rp) in zip(gen_params, ref_params):
        assert gp.shape == rp.shape, f"{gname} {tuple(gp.shape)} vs {rname} {tuple(rp.shape)}"
        assert gname.rsplit(".", 1)[-1] == rname.rsplit(".", 1)[-1]  # weight, bias, weight, ...
    assert sum(p.numel() for p in gen.parameters()) == sum(p.numel() for p in ref.parameters()) == 669_706


@pytest.mark.parametrize("batch", [1, 5])
def test_mlp_matches_notebook(mlp_pair, batch):
    gen, ref = mlp_pair
    gen.load_state_dict(dict(zip(gen.state_dict(), ref.state_dict().values())))
    X = torch.rand(batch, 28, 28)
    with torch.no_grad():
        out = gen(X)
        expected = ref(X)
    assert out.shape == (batch, 10)
    close(out, expected)
    assert (out >= 0).all()
    close(out.sum(-1), torch.ones(batch))


def test_mlp_without_batch_axis(mlp_pair):
    gen, ref = mlp_pair
    gen.load_state_dict(dict(zip(gen.state_dict(), ref.state_dict().values())))
    X = torch.rand(28, 28)
    with torch.no_grad():
        out = gen(X)
        close(out, ref(X[None])[0])
    assert out.shape == (10,)
    close(out.sum(), torch.tensor(1.0))


# ---- Figures 10 and 11: broadcasting -------------------------------------------------------------


@pytest.fixture(scope="module")
def broadcasting(load):
    return load("broadcasting")


def test_Gc_matches_vmap_and_loop(broadcasting):
    a, b, c = notebook.a, notebook.b, notebook.c
    X = torch.rand(a, c)
    out = broadcasting.Gc(X, G=notebook.G)
    assert out.shape == (b, c)
    close(out, torch.vmap(notebook.G, -1, -1)(X))
    close(out, notebook.Gc(X))
    for jc in range(c):
        close(out[:, jc], notebook.G(X[:, jc]))


def test_Gc_with_batch_axis(broadcasting):
    a, b, c = notebook.a, notebook.b, notebook.c
    X = torch.rand(5, a, c)
    out = broadcasting.Gc(X, G=notebook.G)
    assert out.shape == (5, b, c)
    close(out, per_item(notebook.Gc, X, batch=(5,)))
    close(out, torch.vmap(torch.vmap(notebook.G, -1, -1))(X))


def test_Hc0_matches_vmap_and_loop(broadcasting):
    a, b, c, d = notebook.a, notebook.b, notebook.c, notebook.d
    X, D = torch.rand(c, a), torch.rand(d)
    out = broadcasting.Hc0(X, D, H=notebook.H)
    assert out.shape == (c, b)
    close(out, torch.vmap(notebook.H, (0, None), 0)(X, D))
    close(out, notebook.Hs0(X, D))
    close(out, notebook.Hc0(X, D))


def test_Hc0_with_batch_axes(broadcasting):
    a, b, c, d = notebook.a, notebook.b, notebook.c, notebook.d
    X, D = torch.rand(5, c, a), torch.rand(5, d)
    out = broadcasting.Hc0(X, D, H=notebook.H)
    assert out.shape == (5, c, b)
    close(out, per_item(notebook.Hc0, X, D, batch=(5,)))
    # A batch axis on X only: D is shared by every item.
    D1 = torch.rand(d)
    out = broadcasting.Hc0(X, D1, H=notebook.H)
    close(out, per_item(lambda x: notebook.Hc0(x, D1), X, batch=(5,)))
    # A batch axis on D only: X is shared.
    X1 = torch.rand(c, a)
    out = broadcasting.Hc0(X1, D, H=notebook.H)
    assert out.shape == (5, c, b)
    close(out, per_item(lambda dd: notebook.Hc0(X1, dd), D, batch=(5,)))


def test_box_sees_only_its_own_axes(broadcasting):
    """The injected box is called on one `a` wire at a time, however many axes are lifted."""
    seen = []

    def G(x):
        seen.append(x.shape)
        return x[..., :2] * 2

    X = torch.rand(2, 3, 4)  # batch, a, c
    out = broadcasting.Gc(X, G=G)
    assert out.shape == (2, 2, 4)
    close(out, 2 * X[:, :2, :])
    assert seen and all(shape == (3,) for shape in seen)


def test_lifted_box_output_rank_is_checked(broadcasting):
    """G : a -> b returns one `b` wire per call; a G returning a matrix is an error, not an extra axis."""
    with pytest.raises(ValueError, match="box `G`"):
        broadcasting.Gc(torch.rand(3, 4), G=lambda x: torch.rand(2, 2))
    with pytest.raises(ValueError, match="box `H`"):
        broadcasting.Hc0(torch.rand(4, 3), torch.rand(3), H=lambda x, d: torch.rand(5, 2))


# ---- Figures 8 and 9: indexes -------------------------------------------------------------------


@pytest.fixture(scope="module")
def indexes(load):
    return load("indexes")


def test_row(indexes):
    table = torch.arange(0, 12).view(4, 3).float()
    assert indexes.row(table).tolist() == [6, 7, 8]
    tables = torch.rand(2, 4, 3)
    close(indexes.row(tables), tables[:, 2, :])


def test_entry_functions_agree_with_indexing(indexes):
    X = torch.rand(5, 7)
    for fn in (indexes.entry, indexes.entry_row_first, indexes.entry_column_first):
        out = fn(X)
        assert out.shape == ()
        assert out == X[2, 3] == X[2, :][3] == X[:, 3][2]
    # The notebook's loop over every index pair: move entry (ia, jb) to (2, 3) and read it there.
    for ia, jb in itertools.product(range(5), range(7)):
        Y = X.roll(shifts=(2 - ia, 3 - jb), dims=(0, 1))
        assert indexes.entry(Y) == indexes.entry_row_first(Y) == indexes.entry_column_first(Y) == X[ia, jb]
        assert X[ia, jb] == X[ia, :][jb] == X[:, jb][ia]


@pytest.mark.parametrize("batch", [(3,), (2, 3)], ids=["batch", "two-batch-axes"])
def test_indexes_with_batch_axes(indexes, batch):
    X = torch.rand(*batch, 5, 7)
    for fn in (indexes.entry, indexes.entry_row_first, indexes.entry_column_first):
        close(fn(X), X[..., 2, 3], atol=0, rtol=0)
    close(indexes.middle_rows(X), X[..., 1:4, :], atol=0, rtol=0)
    assert indexes.middle_rows(X).shape == (*batch, 3, 7)


def test_sizes_are_the_notebooks(indexes):
    assert (indexes.a, indexes.b) == (5, 7)
    with pytest.raises(ValueError):
        indexes.entry(torch.rand(7, 5))


# ---- Figure 12: elementwise operations ------------------------------------------------------------


@pytest.fixture(scope="module")
def elementwise(load):
    return load("elementwise")


def test_f_on_a_number(elementwise):
    x = torch.rand(())
    close(elementwise.f(x), x**2)
    close(elementwise.f(x), notebook.f_elementwise(x))


def test_fs_broadcasts_f(elementwise):
    X = torch.rand(notebook.a)
    out = elementwise.fs(X)
    close(out, X**2)
    close(out, notebook.fs_elementwise(X))
    close(out, torch.vmap(elementwise.f)(X))
    for i in range(notebook.a):
        close(elementwise.f(X[i]), out[i])
    Xb = torch.rand(4, 6)
    close(elementwise.fs(Xb), Xb**2)


def test_scaled_relu(elementwise):
    X = torch.rand(2, 3, 5)
    close(elementwise.scaled_relu(X), torch.relu(X - 0.5) * 2 / math.sqrt(5))


# ---- Figure 17: attention scores ------------------------------------------------------------------


@pytest.fixture(scope="module")
def einsum(load):
    return load("einsum")


def test_scores_match_notebook(einsum):
    y, x, k, h = 3, 5, 4, 2  # the notebook's sizes
    Q, K = torch.rand(y, k, h), torch.rand(x, k, h)
    stepwise, single = einsum.scores_stepwise(Q, K), einsum.scores(Q, K)
    assert stepwise.shape == single.shape == (y, x, h)
    close(stepwise, notebook.attention_scores_stepwise(Q, K))
    close(single, notebook.attention_scores(Q, K))
    close(stepwise, single)


@pytest.mark.parametrize("batch", [(4,), (2, 3)], ids=["batch", "two-batch-axes"])
def test_scores_with_batch_axes(einsum, batch):
    Q, K = torch.rand(*batch, 3, 4, 2), torch.rand(*batch, 5, 4, 2)
    close(einsum.scores_stepwise(Q, K), per_item(notebook.attention_scores_stepwise, Q, K, batch=batch))
    close(einsum.scores(Q, K), per_item(notebook.attention_scores, Q, K, batch=batch))


# ---- Figure 18: graphical linear algebra ------------------------------------------------------------


@pytest.fixture(scope="module")
def linalg(load):
    return load("linear_algebra")


def test_transposes_agree(linalg):
    a, b, c = notebook.FIG18_SIZES
    F, X = torch.rand(a, b, c), torch.rand(b, a)
    broadcast = linalg.F_broadcast_transpose(X, F)
    Ft = linalg.F_linear_transpose(F)
    assert Ft.shape == (b, a, c)
    close(Ft, notebook.F_linear_transpose(F))
    linear = linalg.apply_transposed(X, Ft)
    assert broadcast.shape == linear.shape == (c,)
    close(broadcast, linear)
    close(broadcast, notebook.F_broadcast_transpose(X, F))
    close(linear, notebook.es(X, notebook.F_linear_transpose(F), "b a, b a c -> c"))


def test_F_apply(linalg):
    a, b, c = notebook.FIG18_SIZES
    F, x = torch.rand(a, b, c), torch.rand(a)
    close(linalg.F_apply(x, F), torch.einsum("a,abc->bc", x, F))


def test_unit_and_inner_product_cancel(linalg):
    b = notebook.FIG18_SIZES[1]
    X = torch.rand(b)
    T = linalg.outer_unit(X)
    assert T.shape == (b, b, b)
    close(T, notebook.outer_unit(X))
    close(linalg.dot_outer(T), X)
    R = torch.rand(b, b, b)
    close(linalg.dot_outer(R), notebook.dot_outer(R))


@pytest.mark.parametrize("batch", [(2,), (2, 3)], ids=["batch", "two-batch-axes"])
def test_linear_algebra_with_batch_axes(linalg, batch):
    a, b, c = notebook.FIG18_SIZES
    F, X = torch.rand(*batch, a, b, c), torch.rand(*batch, b, a)
    close(linalg.F_broadcast_transpose(X, F), per_item(notebook.F_broadcast_transpose, X, F, batch=batch))
    close(linalg.F_linear_transpose(F), per_item(notebook.F_linear_transpose, F, batch=batch))
    close(linalg.apply_transposed(X, linalg.F_linear_transpose(F)), linalg.F_broadcast_transpose(X, F))
    Xb = torch.rand(*batch, b)
    close(linalg.outer_unit(Xb), per_item(notebook.outer_unit, Xb, batch=batch))
    close(linalg.dot_outer(linalg.outer_unit(Xb)), Xb)


# ---- §2.3: composition with injected boxes --------------------------------------------------------


def composition_inputs(batch=()):
    return torch.rand(*batch, 3), torch.rand(*batch, 4, 2), torch.rand(*batch, 6)


def spy(fn, calls: list):
    def wrapped(*args):
        calls.append(tuple(tuple(a.shape) for a in args))
        return fn(*args)
    return wrapped


def test_h_with_the_notebooks_boxes(load):
    composition = load("composition")
    calls_f, calls_g = [], []
    out = composition.h(*composition_inputs(), f=spy(notebook.f, calls_f), g=spy(notebook.g, calls_g))
    assert out.shape == (1, 2)
    # The notebook's f and g ran, and with them their own shape assertions.
    assert calls_f == [((4, 2), (6,))]
    assert calls_g == [((3,), (3, 3))]


def test_h_with_batch_axes(load):
    composition = load("composition")
    out = composition.h(*composition_inputs((5,)), f=notebook.f, g=notebook.g)
    assert out.shape == (5, 1, 2)


def test_h_composes_g_after_f(load):
    """With deterministic boxes, h is exactly g(x0, f(x1, x2)), as the notebook's h_with."""
    composition = load("composition")
    fd = lambda x0, x1: x0.sum() * torch.ones(3, 3) + x1.sum()  # noqa: E731
    gd = lambda x0, x1: (x0.sum() + x1.sum()) * torch.ones(1, 2)  # noqa: E731
    xs = composition_inputs()
    close(composition.h(*xs, f=fd, g=gd), notebook.h_with(*xs, fd, gd))
    xb = composition_inputs((4,))
    close(composition.h(*xb, f=fd, g=gd), per_item(lambda *x: notebook.h_with(*x, fd, gd), *xb, batch=(4,)))


def test_h_rejects_a_wrongly_shaped_input(load):
    composition = load("composition")
    x0, x1, x2 = composition_inputs()
    with pytest.raises(ValueError, match="x1"):
        composition.h(x0, x1.t(), x2, f=notebook.f, g=notebook.g)  # 2 4 instead of 4 2
    with pytest.raises(ValueError, match="x2"):
        composition.h(x0, x1, torch.rand(5), f=notebook.f, g=notebook.g)


def test_check_shapes_off_skips_the_check(load, monkeypatch):
    composition = load("composition")
    monkeypatch.setattr(composition, "CHECK_SHAPES", False)
    x0, x1, x2 = composition_inputs()
    # No ValueError from the generated checks: the wrong input reaches the notebook's f, whose
    # own assertion fails.
    with pytest.raises(AssertionError):
        composition.h(x0, x1.t(), x2, f=notebook.f, g=notebook.g)
    # With boxes that accept anything, h runs.
    out = composition.h(x0, x1.t(), x2, f=lambda a, b: torch.zeros(3, 3), g=lambda a, b: torch.zeros(1, 2))
    assert out.shape == (1, 2)


def test_box_output_is_checked(load):
    composition = load("composition")
    with pytest.raises(ValueError, match="box `f`"):
        composition.h(*composition_inputs(), f=lambda a, b: torch.rand(3, 4), g=notebook.g)
    with pytest.raises(ValueError, match="box `g`"):
        composition.h(*composition_inputs(), f=notebook.f, g=lambda a, b: torch.rand(2, 1))


def test_box_output_with_extra_axes_is_rejected(load):
    """A box's output must have exactly its declared type (after the lifted axes): extra leading
    axes are not batch axes, and must not leak into h's result (whose type is `1 2`)."""
    composition = load("composition")
    with pytest.raises(ValueError, match="box `f`"):
        composition.h(*composition_inputs(), f=lambda a, b: torch.rand(2, 3, 3), g=notebook.g)
    with pytest.raises(ValueError, match="box `g`"):
        composition.h(*composition_inputs(), f=notebook.f, g=lambda a, b: torch.rand(7, 1, 2))
    with pytest.raises(ValueError, match="box `g`"):  # the same, with h called on a batch
        composition.h(*composition_inputs((5,)), f=notebook.f, g=lambda a, b: torch.rand(7, 1, 2))


def test_boxes_must_be_injected_without_stubs(load):
    composition = load("composition")
    with pytest.raises(TypeError):
        composition.h(*composition_inputs())


def test_stubs_stand_in_for_the_boxes(load):
    composition = load("composition", stubs=True)
    assert composition.h(*composition_inputs()).shape == (1, 2)
    assert composition.h(*composition_inputs((2, 3))).shape == (2, 3, 1, 2)
    # Injected boxes still win over the stubs.
    fd = lambda x0, x1: torch.ones(3, 3)  # noqa: E731
    gd = lambda x0, x1: x0.sum() + x1.sum() * torch.ones(1, 2)  # noqa: E731
    xs = composition_inputs()
    close(composition.h(*xs, f=fd, g=gd), gd(xs[0], fd(xs[1], xs[2])))


def test_rmsnorm_equals_the_published_formula():
    """RMSNorm (Zhang and Sennrich, 2019): x / sqrt(mean(x**2) + eps) * weight, over the trailing axes."""
    spec = "module Norm(m=6):\n    rms = RMSNorm[m](eps=1e-6)\n\n    def forward(X: t m) -> t m:\n        return rms(X)\n"
    namespace: dict = {}
    exec(ncdc.compile_source(spec, "rms.ncd"), namespace)
    model = namespace["Norm"]()
    torch.manual_seed(0)
    with torch.no_grad():
        model.rms.weight.copy_(torch.randn(6))
    x = torch.randn(3, 5, 6)
    expected = x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * model.rms.weight
    torch.testing.assert_close(model(x), expected)
    assert isinstance(model.rms, torch.nn.RMSNorm) and model.rms.eps == 1e-6
