"""The torch back end's compile-time plans: layouts chosen so that copies fall on weights, one einsum
path per contraction of three or more operands; each checked for equal results against plain torch."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

import ncdc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import handwritten  # noqa: E402
from compare import saved_bytes  # noqa: E402


def load(text: str) -> types.ModuleType:
    module = types.ModuleType("plan")
    exec(compile(ncdc.compile_source(text, "plan.ncd"), "plan.py", "exec"), module.__dict__)
    return module


@pytest.fixture(scope="module")
def attention():
    return ncdc.load(ROOT / "specs" / "attention.ncd")


@pytest.mark.parametrize("b, s, m, h", [(2, 5, 16, 4), (1, 3, 12, 2)])
def test_generated_mha_equals_the_hand_written_one_and_saves_no_more(attention, b, s, m, h):
    torch.manual_seed(0)
    generated = attention.MultiHeadAttention(m, m // h, h)
    reference = handwritten.MultiHeadAttention(m, m // h, h)
    handwritten.load_from(reference, generated)
    e, x = torch.randn(b, s, m), torch.randn(b, s + 2, m)
    torch.testing.assert_close(generated(e, x), reference(e, x))
    # Weights counted on both sides: the generated code keeps permuted copies where the hand-written
    # one keeps the parameters themselves.
    assert saved_bytes(lambda: generated(e, x)) <= saved_bytes(lambda: reference(e, x))


def test_the_plan_permutes_weights_not_activations():
    source = ncdc.compile_file(ROOT / "specs" / "attention.ncd")
    forward = source[source.index("class MultiHeadAttention"):]
    assert ".contiguous()" not in forward
    assert forward.count("# layout: ") == 5  # Lq, Lk, Lv rows; Lo columns; Q, K and V fused without gradients
    assert "nn.functional.scaled_dot_product_attention(Q.transpose(-3, -2), K.transpose(-3, -2), V.transpose(-3, -2))" \
        in forward


@pytest.mark.parametrize("b, s, m, h", [(2, 5, 16, 4), (3, 1, 12, 2)])
def test_without_gradients_one_input_makes_q_k_and_v_in_one_matmul(attention, b, s, m, h):
    source = ncdc.compile_file(ROOT / "specs" / "attention.ncd")
    assert "if E is X and not torch.is_grad_enabled():\n            Q, K, V = nn.functional.linear(X, torch.cat((" \
        in source
    torch.manual_seed(0)
    generated = attention.MultiHeadAttention(m, m // h, h)
    reference = handwritten.MultiHeadAttention(m, m // h, h)
    handwritten.load_from(reference, generated)
    x, e = torch.randn(b, s, m), torch.randn(b, s + 1, m)
    with torch.no_grad():
        want, fused = reference(x, x), generated(x, x)  # the same tensor: one matmul
        torch.testing.assert_close(fused, want)
        torch.testing.assert_close(generated(e, x), reference(e, x))  # two inputs: three
    with torch.inference_mode():
        torch.testing.assert_close(generated(x, x), want)
    torch.testing.assert_close(generated(x, x), want)  # with gradients: three matmuls, the same result


BIASED = """
def Attend(Q: y k, K: x k, V: x k) -> y k:
    return einsum[y k](softmax[x](einsum[y x](Q, K) / sqrt(k)), V)

module M(m=12, k=3, h=4):
    Lq = Linear[m -> k h]()
    Lk = Linear[m -> k h]()
    Lv = Linear[m -> k h]()
    Lo = Linear[k h -> m]()

    def forward(E: y m, X: x m) -> y m:
        return Lo(Attend[h](Lq(E), Lk(X), Lv(X)))
"""


def test_permuted_weights_and_biases_compute_the_spec():
    torch.manual_seed(0)
    model = load(BIASED).M()
    assert sorted(model.state_dict()) == sorted(f"L{p}.{w}" for p in "qkvo" for w in ("weight", "bias"))
    e, x = torch.randn(2, 5, 12), torch.randn(2, 7, 12)

    def heads(layer, t):  # the spec's (k h) order, heads moved in front: ... h y k
        return layer(t).unflatten(-1, (3, 4)).movedim(-1, -3)

    o = F.scaled_dot_product_attention(heads(model.Lq, e), heads(model.Lk, x), heads(model.Lv, x))
    want = model.Lo(o.movedim(-3, -1).flatten(-2))
    torch.testing.assert_close(model(e, x), want)
    model(e, x).sum().backward()  # gradients reach the parameters through the permutations
    assert all(p.grad is not None for p in model.parameters())
    source = ncdc.compile_source(BIASED, "plan.ncd")
    assert "if E is X and not torch.is_grad_enabled():\n            _q, _k, _v = " in source
    with torch.no_grad():  # the biases stacked as the weights are
        want = model.Lo(F.scaled_dot_product_attention(heads(model.Lq, x), heads(model.Lk, x), heads(model.Lv, x))
                        .movedim(-3, -1).flatten(-2))
        torch.testing.assert_close(model(x, x), want)


CHAIN = """
def chain(A: a b, B: b c, C: c d, D: d e) -> a e:
    return einsum[a e](A, B, C, D)

def traced(A: a b, B: b a, C: a) -> a:
    return einsum[a](A, B, C)
"""


def test_a_contraction_of_several_operands_is_done_two_at_a_time_in_the_cheapest_order():
    source = ncdc.compile_source(CHAIN, "plan.ncd")
    assert "# einsum path: operands (1 2) then (3 4) then ((1 2) (3 4)), a*b*c + a*c*e + c*d*e multiplications" \
        in source
    module = load(CHAIN)
    a, b, c, d = torch.randn(3, 4), torch.randn(4, 5), torch.randn(5, 6), torch.randn(6, 2)
    torch.testing.assert_close(module.chain(a, b, c, d), a @ b @ c @ d)
    batch = torch.randn(2, 3, 4)  # leading batch axes ride along every step
    torch.testing.assert_close(module.chain(batch, b, c, d), batch @ b @ c @ d)
    x, y, z = torch.randn(4, 4), torch.randn(4, 4), torch.randn(4)
    torch.testing.assert_close(module.traced(x, y, z), torch.einsum("ab,ba,a->a", x, y, z))
