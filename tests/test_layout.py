"""Soundness and hardening: layout mistakes, nested groups, einsum letters, reserved names,
constant scalar functions, size-1 broadcasting and misplaced patterns; each pinned by its case."""

from __future__ import annotations

import types

import pytest
import torch

import ncdc


def load(text: str, sizes=None) -> types.ModuleType:
    module = types.ModuleType("layout")
    exec(compile(ncdc.compile_source(text, "layout.ncd", sizes=sizes), "layout.py", "exec"), module.__dict__)
    return module


def error(text: str, sizes=None) -> ncdc.Diagnostic:
    with pytest.raises(ncdc.NcdcError) as info:
        ncdc.check_source(text, "layout.ncd", sizes)
    return info.value.diagnostics[0]


# ---- 1. axes in another order are a layout error, whatever the sizes ------------------------------

LINEAR_ON_CHANNELS_FIRST = ("module M(m, n, t):\n"
                            "    L = Linear[m -> n]()\n"
                            "    def forward(X: m t) -> t n:\n"
                            "        return L(X)\n")
LAYERNORM_ON_CHANNELS_FIRST = ("module M(m, t):\n"
                               "    N = LayerNorm[m]()\n"
                               "    def forward(X: m t) -> m t:\n"
                               "        return N(X)\n")
FORGOTTEN_TRANSPOSE = "def f(X: a b) -> b a:\n    return X\n"


@pytest.mark.parametrize("sizes", [None, {"m": 4, "t": 4}, {"m": 4, "t": 4, "n": 4}])
def test_a_learned_layer_on_axes_in_another_order_is_a_layout_error(sizes):
    d = error(LINEAR_ON_CHANNELS_FIRST, sizes)
    assert d.code == "E0318", d.render()
    assert "another order" in d.message and "`t` where `m` is expected" in d.message
    assert "`L[t](X)`" in d.help and "`rearrange[t m](X)`" in d.help
    assert "--sizes" not in (d.help or "")


@pytest.mark.parametrize("sizes", [None, {"m": 4, "t": 4}])
def test_layernorm_on_a_channels_first_wire_is_a_layout_error(sizes):
    d = error(LAYERNORM_ON_CHANNELS_FIRST, sizes)
    assert d.code == "E0318", d.render()
    assert "`N[t](X)`" in d.help


def test_the_same_layout_error_with_equal_constants():
    d = error("size m = 4\nsize t = 4\nsize n = 8\n" + LINEAR_ON_CHANNELS_FIRST.replace("M(m, n, t)", "M()"))
    assert d.code == "E0318", d.render()


@pytest.mark.parametrize("sizes", [None, {"a": 3, "b": 3}])
def test_a_forgotten_transpose_suggests_rearrange_not_sizes(sizes):
    d = error(FORGOTTEN_TRANSPOSE, sizes)
    assert d.code == "E0318", d.render()
    assert d.help == "move the axes into place: `rearrange[b a](X)`"


def test_the_suggested_fixes_check_and_compute_on_the_right_axes():
    lifted = load(LINEAR_ON_CHANNELS_FIRST.replace("-> t n", "-> n t").replace("L(X)", "L[t](X)"))
    moved = load(LINEAR_ON_CHANNELS_FIRST.replace("L(X)", "L(rearrange[t m](X))"))
    norm = load(LAYERNORM_ON_CHANNELS_FIRST.replace("N(X)", "N[t](X)"))
    torch.manual_seed(0)
    a, b = lifted.M(m=4, n=3, t=4), moved.M(m=4, n=3, t=4)
    b.load_state_dict(a.state_dict())
    X = torch.rand(2, 4, 4)
    reference = torch.nn.functional.linear(X.transpose(-1, -2), a.L.weight, a.L.bias)
    assert torch.allclose(a(X), reference.transpose(-1, -2), atol=1e-6)
    assert torch.allclose(b(X), reference, atol=1e-6)
    n = norm.M(m=4, t=4)
    expected = torch.nn.functional.layer_norm(X.transpose(-1, -2), (4,)).transpose(-1, -2)
    assert torch.allclose(n(X), expected, atol=1e-5)


def test_a_square_argument_where_a_square_is_expected_is_not_a_layout_error():
    d = error("def g(X: a a) -> a a:\n    return X\n\ndef f(X: m t) -> m t:\n    return g(X)\n")
    assert d.code == "E0302"  # not a question of order: `t` may well be `m`
    load("def f(X: m t, Y: t m) -> m t:\n    return X + rearrange[m t](Y)\n")


# ---- 2. nested groups in einsum and rearrange ------------------------------------------------------

X3 = torch.arange(24.0).reshape(2, 3, 4)


@pytest.mark.parametrize("text, reference", [
    ("def f(X: a b c) -> ((a b) c):\n    return einsum[((a b) c)](X)\n", X3.reshape(24)),
    ("def f(X: a b c) -> ((a b) c):\n    return rearrange[((a b) c)](X)\n", X3.reshape(24)),
    ("def f(X: a b c) -> (a (b c)):\n    return rearrange[(a (b c))](X)\n", X3.reshape(24)),
    ("def f(X: a b c) -> ((c a) b):\n    return rearrange[((c a) b)](X)\n", X3.permute(2, 0, 1).reshape(24)),
    ("def f(X: a b c) -> (c (b a)):\n    return einsum[(c (b a))](X)\n", X3.permute(2, 1, 0).reshape(24)),
    ("def f(X: a b c) -> c (b a):\n    return rearrange[c (b a)](X)\n", X3.permute(2, 1, 0).reshape(4, 6)),
    # a nested bound axis unbinds to its innermost parts, or to a part kept whole
    (("def g(X: a b c) -> ((c a) b):\n    return rearrange[((c a) b)](X)\n"
     "def f(X: a b c) -> c a b:\n    return rearrange[c a b](g(X))\n"), X3.permute(2, 0, 1)),
    (("def g(X: a b c) -> ((b a) c):\n    return rearrange[((b a) c)](X)\n"
     "def f(X: a b c) -> c (b a):\n    return rearrange[c (b a)](g(X))\n"), X3.permute(1, 0, 2).reshape(6, 4).T),
    # a nested pattern unbinds the same way
    ("def f(X: (a b c), Y: a, Z: b) -> c b a:\n    return rearrange[c b a](X: ((a b) c))\n", X3.permute(2, 1, 0)),
    ("def f(X: (a b c), Y: a, Z: b) -> c b a:\n    return rearrange[c b a](X: (a (b c)))\n", X3.permute(2, 1, 0)),
])
def test_nested_groups_compute_what_a_reshape_does(text, reference):
    f = load(text).f
    X = X3.reshape(24) if "X: (a b c)" in text else X3
    out = f(X, torch.rand(2), torch.rand(3)) if "Y: a" in text else f(X)
    assert out.shape == reference.shape and torch.equal(out, reference)


def test_nested_groups_that_do_not_fit_are_diagnostics():
    assert error("def f(X: a b) -> ((a b) c):\n    return rearrange[((a b) c)](X)\n").code == "E0306"
    assert error("def f(X: a b c) -> ((a a) c):\n    return rearrange[((a a) c)](X)\n").code == "E0306"


# ---- 3. einsum has 52 letters -----------------------------------------------------------------------

def _sum_over(count: int) -> str:
    names = " ".join(f"a{i}" for i in range(count))
    return f"def f(X: {names}) -> a0:\n    return einsum[a0](X)\n"


def test_an_einsum_over_53_axis_names_is_rejected_at_check_time():
    d = error(_sum_over(53))
    assert d.code == "E0319" and "53 axis names" in d.message and "at most 52" in d.message
    assert (d.span.line, d.span.column) == (2, 12)


def test_an_einsum_over_52_axis_names_compiles_and_runs():
    f = load(_sum_over(52)).f
    X = torch.rand(*([3] + [1] * 49 + [2, 2]))
    assert torch.allclose(f(X), X.sum(dim=tuple(range(1, 52))), atol=1e-6)


# ---- 4. names the generated __init__ uses ------------------------------------------------------------

def test_a_derived_size_named_super_does_not_hide_the_builtin():
    M = load("module M(m=4):\n    super = m * 2\n    L = Linear[m -> super]()\n"
             "    def forward(X: m) -> super:\n        return L(X)\n").M
    model = M()
    assert model.super == 8 and model(torch.rand(2, 4)).shape == (2, 8)


def test_derived_sizes_named_like_builtins_that_init_calls():
    M = load("module M(m=4):\n    range = m * 2\n    max = range + 1\n"
             "    B = [Linear[m -> m]() for i in 1..2]\n    L = Linear[m -> max]()\n"
             "    def forward(X: m) -> max:\n        return L(B(X))\n").M
    model = M(m=3)
    assert (model.range, model.max) == (6, 7) and model(torch.rand(2, 3)).shape == (2, 7)


@pytest.mark.parametrize("text", [
    "module M(super=4):\n    L = Linear[super -> super]()\n    def forward(X: super) -> super:\n        return L(X)\n",
    "module M(m=4):\n    self = m\n    L = Linear[m -> m]()\n    def forward(X: m) -> m:\n        return L(X)\n",
    "module M(self=4):\n    L = Linear[self -> self]()\n    def forward(X: self) -> self:\n        return L(X)\n",
])
def test_api_names_that_generated_code_uses_are_e0102(text):
    assert error(text).code == "E0102"


# ---- 5. scalar functions of constants --------------------------------------------------------------

@pytest.mark.parametrize("expression, code, message", [
    ("exp(1000.0)", "E0006", "too large"),
    ("2 ** exp(800.0)", "E0006", "too large"),
    ("log(0.0)", "E0009", "`log` of a number that is not positive, `0.0`"),
    ("log(0.0 - 2.0)", "E0009", "`log` of a number that is not positive, `-2.0`"),
    ("sqrt(0.0 - 1.0)", "E0009", "`sqrt` of a negative number, `-1.0`"),
    ("(1.0 / (2 - 2))", "E0009", "division by zero"),
    ("(1 // 0)", "E0009", "division by zero"),
    ("0.0 ** -1.0", "E0009", "zero to a negative power"),
    ("(-8.0) ** 0.5", "E0009", "`(-8.0) ** 0.5` is not a real number"),
])
def test_constants_that_python_math_cannot_compute_are_errors_at_their_span(expression, code, message):
    text = f"def f(X: k) -> k:\n    return X * {expression}\n"
    d = error(text)
    assert d.code == code and message in d.message, d.render()
    assert d.span.line == 2 and d.span.column >= 16


def test_defined_constants_still_compute():
    f = load("def f(X: k) -> k:\n    return X * exp(-1000.0) + X * sqrt(abs(0.0 - 4.0)) / log(exp(2.0))\n").f
    assert torch.allclose(f(torch.ones(3)), torch.ones(3))


# ---- 6. size-1 axes broadcast in elementwise arithmetic --------------------------------------------

SQUEEZE_EXCITATION = ("module SE(c=8, r=2):\n"
                      "    pool = AdaptiveAvgPool2d(1)\n"
                      "    squeeze = Conv2d[c -> r](1)\n"
                      "    expand = Conv2d[r -> c](1)\n"
                      "    def forward(X: c H W) -> c H W:\n"
                      "        G = sigmoid(expand(relu(squeeze(pool(X)))))\n"
                      "        return X * G\n")


@pytest.mark.parametrize("product", ["X * G", "G * X"])
def test_squeeze_and_excitation_gates_with_a_c_1_1_wire(product):
    torch.manual_seed(0)
    model = load(SQUEEZE_EXCITATION.replace("X * G", product)).SE(c=8, r=2)
    X = torch.rand(3, 8, 5, 7)
    pooled = X.mean(dim=(-2, -1), keepdim=True)
    gate = torch.sigmoid(model.expand(torch.relu(model.squeeze(pooled))))
    assert gate.shape == (3, 8, 1, 1)
    assert torch.allclose(model(X), X * gate, atol=1e-6)


def test_a_learned_c_1_1_tensor_broadcasts_too():
    model = load("module M(c=3):\n    scale = Parameter[c 1 1](std=1.0)\n"
                 "    def forward(X: c H W) -> c H W:\n        return X + scale\n").M()
    X = torch.rand(2, 3, 4, 5)
    assert torch.allclose(model(X), X + model.scale, atol=1e-6)


def test_only_size_1_broadcasts():
    assert error("def f(X: c H W, G: c 2 1) -> c H W:\n    return X * G\n").code == "E0302"
    assert error("def f(X: c 3 W, G: c 2 1) -> c 3 W:\n    return X * G\n").code == "E0301"


# ---- 7. patterns outside einsum, rearrange and concat ------------------------------------------------

@pytest.mark.parametrize("text, help_", [
    ("def f(X: f u) -> f:\n    return max[u](X: f u)\n", "`max[u](X)`"),
    ("def f(X: a b) -> a:\n    return max[u](X: f u)\n", "`max[b](X)`"),  # the pattern's `u` is the wire's `b`
    ("def f(X: f u) -> f u:\n    return relu(X: f u)\n", "`relu(X)`"),
    ("def g(X: f u) -> f u:\n    return X\n\ndef f(X: f u) -> f u:\n    return g(X: f u)\n", "`g(X)`"),
])
def test_a_pattern_where_none_is_taken_says_so(text, help_):
    d = error(text)
    assert d.code == "E0311" and "takes no axis pattern" in d.message and "einsum, rearrange and concat" in d.message
    assert help_ in d.help
    assert d.message != "not an expression"


def test_the_lift_is_suggested_only_where_it_puts_the_axes_in_order():
    d = error("module M(m, n, k, t):\n    L = Linear[m n -> k]()\n"
              "    def forward(X: n t m) -> t k:\n        return L(X)\n")
    assert d.code == "E0318" and d.help == "move the axes into place: `rearrange[t m n](X)`", d.render()
