"""Bugs found in review, each pinned by the smallest spec that showed it."""

from __future__ import annotations

import subprocess
import sys
import time
import types

import pytest
import torch

import ncdc
from ncdc.sizes import Size, Symbol


def load(text: str) -> types.ModuleType:
    module = types.ModuleType("regression")
    exec(compile(ncdc.compile_source(text, "regression.ncd"), "regression.py", "exec"), module.__dict__)
    return module


def code_of(text: str, sizes=None) -> str:
    with pytest.raises(ncdc.NcdcError) as info:
        ncdc.check_source(text, "regression.ncd", sizes)
    return info.value.diagnostics[0].code


def attention(Q, K, V, scale):
    return torch.softmax(Q @ K.transpose(-1, -2) * scale, dim=-1) @ V


def test_attention_is_not_fused_past_a_change_of_its_inputs():
    module = load("def att(Q: y k, K: x k, V: x v) -> y v:\n"
                  "    S = einsum[y x](Q, K) / sqrt(k)\n"
                  "    Q = Q * 2\n"
                  "    return einsum[y v](softmax[x](S), V)\n")
    Q, K, V = torch.rand(3, 4), torch.rand(5, 4), torch.rand(5, 2)
    assert torch.allclose(module.att(Q, K, V), attention(Q, K, V, 0.5), atol=1e-6)


def test_attention_in_a_loop_keeps_the_wires_the_loop_carries():
    module = load("def looped(Q: y k, K: x k, V: x v) -> y v, y x:\n"
                  "    S = einsum[y x](Q, K)\n"
                  "    O = einsum[y v](softmax[x](S), V)\n"
                  "    for i in 1..1:\n"
                  "        S = einsum[y x](Q, K) * 2\n"
                  "        O = einsum[y v](softmax[x](S), V)\n"
                  "    return O, S\n")
    Q, K, V = torch.rand(3, 4), torch.rand(5, 4), torch.rand(5, 2)
    O, S = module.looped(Q, K, V)
    assert torch.allclose(S, 2 * Q @ K.T, atol=1e-6)
    assert torch.allclose(O, attention(Q, K, V, 2.0), atol=1e-6)


def test_a_wire_that_becomes_batched_in_a_loop_is_broadcast_as_batched():
    module = load("module M(m=3):\n"
                  "    bias = Parameter[m](std=1.0)\n\n"
                  "    def forward(Z: y m) -> m:\n"
                  "        Y = bias\n"
                  "        for i in 1..2:\n"
                  "            Y = sum[y](Z + Y)\n"
                  "        return Y\n")
    model = module.M()
    Z = torch.rand(3, 3, 3)  # a batch as long as y: a wrong alignment would not raise
    expected = model.bias
    for _ in range(2):
        expected = (Z + expected[..., None, :]).sum(-2)
    assert torch.allclose(model(Z), expected, atol=1e-5)


@pytest.mark.parametrize("text", [
    "def f(X: a b c, Y: c c) -> a b c:\n    return X + Y\n",
    "def f(S: y x z) -> y z:\n    return prod[x x](S)\n",
    "def act(X: a) -> a:\n    return relu(X)\n\ndef f(X: c a) -> c c a:\n    return act[c c](X)\n",
], ids=["elementwise", "reduction", "lifting"])
def test_an_axis_named_twice_is_rejected(text):
    assert code_of(text) in ("E0306", "E0309", "E0323")  # E0323: elementwise operands, ambiguously lined up


def test_a_repetition_indexed_in_a_loop_must_not_vary():
    text = ("module M(c=4):\n    L = [Linear[c -> i]() for i in 1..3]\n\n    def forward(X: c) -> 1:\n"
            "        Y = L[1](X)\n        for j in 1..3:\n            Y = L[j](X)\n        return Y\n")
    assert code_of(text) == "E0314"


def test_a_repetition_inside_seq_is_applied_by_it():
    module = load("module M(c=4):\n"
                  "    body = seq(BatchNorm2d[c](), [Conv2d[c -> c](3, padding=1) for i in 1..2])\n\n"
                  "    def forward(X: c H W) -> c H W:\n        return body(X)\n")
    model = module.M().eval()
    X = torch.rand(2, 4, 5, 5)
    assert torch.allclose(model(X), model.body[1][1](model.body[1][0](model.body[0](X))))


def test_parts_applied_in_turn_take_a_linear_of_one_axis():
    text = ("module M(a=2, b=3):\n    blocks = [Linear[a b -> a b]() for i in 1..2]\n\n"
            "    def forward(X: a b) -> a b:\n        return blocks(X)\n")
    assert code_of(text) == "E0314"


@pytest.mark.parametrize("layer", ["Linear[m -> ()]()", "Linear[() -> m]()"])
def test_a_linear_maps_at_least_one_axis(layer):
    assert code_of(f"module S(m=3):\n    L = {layer}\n\n    def forward(X: y m) -> y m:\n        return X\n") \
        == "E0202"


@pytest.mark.parametrize("option", ["LayerNorm[m](eps=m)", "BatchNorm1d[m](momentum=\"fast\")",
                                    "BatchNorm1d[m](eps=true)", "Dropout(1.5)"])
def test_number_options_are_numbers(option):
    assert code_of(f"module N(m=3):\n    p = {option}\n\n    def forward(X: m) -> m:\n        return X\n") \
        == "E0204"


def test_a_learned_tensor_with_std_one():
    module = load("module P(m=3):\n    w = Parameter[m](std=1)\n\n    def forward(X: m) -> m:\n"
                  "        return X + w\n")
    assert module.P().w.shape == (3,)


@pytest.mark.parametrize("layer", ["Conv2d[c -> c](3, stride=0)", "MaxPool2d(0)", "Conv2d[c -> c](0)"])
def test_layer_sizes_must_be_positive(layer):
    text = f"module C(c=3):\n    part = {layer}\n\n    def forward(X: c H W) -> c H W:\n        return X\n"
    assert code_of(text) == "E0310"


def test_a_divisor_that_is_zero_for_the_given_sizes_is_no_crash():
    text = "def f(X: a, Y: b, Z: c) -> (a // (b - c)):\n    return X\n"
    assert code_of(text, {"b": 2, "c": 2}) in ("E0301", "E0302")


@pytest.mark.parametrize("text, code", [
    ("def f(X: 5) -> 2:\n    return X[3:1]\n", "E0307"),
    ("def f(X: (1 - 3)) -> 2:\n    return X\n", "E0310"),
    ("module M(a=0):\n    L = Linear[a -> a]()\n\n    def forward(X: a) -> a:\n        return L(X)\n", "E0313"),
], ids=["empty-slice", "negative-axis", "zero-default"])
def test_sizes_are_positive(text, code):
    assert code_of(text) == code


def test_nested_lifting_checks_in_linear_time():
    text = "def F(A: a, B: a) -> a:\n    return A + B\n\ndef g(X: c d a) -> c d a:\n    return " \
           + "F[c d](" * 12 + "X" + ", X)" * 12 + "\n"
    start = time.perf_counter()
    ncdc.check_source(text, "nested.ncd")
    assert time.perf_counter() - start < 5  # exponential re-typing took 39 s here


def test_sizes_that_print_alike_still_have_one_normal_form():
    n1, n2 = Symbol("n"), Symbol("n")
    a, b = Size.of(n1) // 2, Size.of(n2) // 2
    assert a + b == b + a and hash(a + b) == hash(b + a)


def test_run_reports_a_bad_spec_and_runs_the_others(tmp_path):
    (tmp_path / "bad.ncd").write_bytes(b"def f(X: a) -> a:\n    return X \xff\n")
    (tmp_path / "good.ncd").write_text("def f(X: a) -> a:\n    return X\n")
    result = subprocess.run([sys.executable, "-m", "ncdc", "run", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "E0005" in result.stderr
    assert "good.ncd" in result.stdout


@pytest.mark.parametrize("source, suggestion", [
    ("def f(X: a b) -> a b:\n    return sofmax[b](X)\n", "did you mean `softmax`?"),
    ("module M(m=4):\n    L = Liner[m -> m]()\n\n    def forward(X: m) -> m:\n        return L(X)\n",
     "did you mean `Linear`?"),
    ("def f(Query: a) -> a:\n    return Quary\n", "did you mean `Query`?"),
])
def test_misspelt_names_get_a_suggestion(source, suggestion):
    with pytest.raises(ncdc.NcdcError) as info:
        ncdc.check_source(source, "typo.ncd")
    assert info.value.diagnostics[0].code == "E0101"
    assert info.value.diagnostics[0].help == suggestion


# Found by running the mutation fuzzer's inputs that check through `ncdc run`.
@pytest.mark.parametrize("members, fixed", [
    # a part: its constructor would read `b` before `__init__` made it (KeyError in `ncdc compile`)
    (["L = Linear[n -> b]()", "b = n // 4"], ["b = n // 4", "L = Linear[n -> b]()"]),
    (["buffer pe = arange(b)", "b = n // 4"], ["b = n // 4", "buffer pe = arange(b)"]),  # a buffer: the same
    (["a = b * 2", "b = n // 4"], ["b = n // 4", "a = b * 2"]),  # a derived size
])
def test_a_derived_size_is_used_only_below_its_declaration(members, fixed):
    def spec(lines):
        body = "".join(f"    {line}\n" for line in lines)
        return f"module M(n=64):\n{body}\n    def forward(X: t n) -> t n:\n        return X\n"

    with pytest.raises(ncdc.NcdcError) as info:
        ncdc.check_source(spec(members), "order.ncd")
    [diagnostic] = info.value.diagnostics
    assert diagnostic.code == "E0104" and diagnostic.message == "derived size `b` is used before its declaration"
    assert (diagnostic.span.line, diagnostic.labels[0].span.line) == (2, 3)
    assert diagnostic.help == "move `b = ...` above its first use"
    assert load(spec(fixed)).M()(torch.rand(3, 64)).shape == (3, 64)  # as the help says, it builds and runs


def test_ncdc_run_finds_names_as_python_folds_them(tmp_path):
    # `ﬁ` folds to `fi` and `h𝔼` to `hE` (NFKC) in the generated module: looked up as written,
    # `ncdc run` found no `ﬁne` and passed an unknown keyword.
    (tmp_path / "folded.ncd").write_text("module ﬁne(m=8, h𝔼=2):\n    L = Linear[m -> h𝔼]()\n\n"
                                         "    def forward(X: t m) -> t h𝔼:\n        return L(X)\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "ncdc", "run", str(tmp_path)], capture_output=True,
                            text=True, encoding="utf-8")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 built" in result.stdout and "0 failed" in result.stdout


@pytest.mark.parametrize("expression", ["X * 18446744073709551616", "X + (2 ** 63)", "X * (t * 3 + 2 ** 64) / 4",
                                        "-9223372036854775809 - X", "where(X > 2 ** 64, X, 0.0)",
                                        "where(X > 0.0, X, 2 ** 64)"])
def test_an_integer_beside_a_wire_fits_in_64_bits(expression):
    # Torch takes a Python integer beside a tensor as an int64: beyond it, OverflowError at run time.
    text = f"def f(X: t) -> t:\n    return {expression}\n"
    assert code_of(text) == "E0006"


@pytest.mark.parametrize("bound", [9223372036854775807, -9223372036854775808])
def test_integers_at_the_64_bit_bounds_run_beside_a_wire(bound):
    module = load(f"def f(X: t) -> t:\n    return X * {bound}\n")
    assert module.f(torch.ones(2, dtype=torch.float64)).tolist() == [float(bound)] * 2
