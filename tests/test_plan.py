"""The torch back end's compile-time plans: layouts chosen so that copies fall on weights, one einsum
path per contraction of three or more operands; each checked for equal results against plain torch."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F
from torch.utils._python_dispatch import TorchDispatchMode

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
    assert forward.count("# layout: ") == 4  # Lq, Lk, Lv rows; Lo columns
    # Q, K and V stay three matmuls from one input too: on this CPU the stacked weights' copy, the
    # attention on views of one result (a row stride of 3 m) and, in backward, the stack of the three
    # gradients cost more than one matmul saves (benchmarks/README.md).
    assert "torch.cat(" not in forward
    assert "nn.functional.scaled_dot_product_attention(Q.transpose(-3, -2), K.transpose(-3, -2), V.transpose(-3, -2))" \
        in forward


@pytest.mark.parametrize("b, s, m, h", [(2, 5, 16, 4), (3, 1, 12, 2)])
def test_one_input_for_q_k_and_v_with_and_without_gradients(attention, b, s, m, h):
    torch.manual_seed(0)
    generated = attention.MultiHeadAttention(m, m // h, h)
    reference = handwritten.MultiHeadAttention(m, m // h, h)
    handwritten.load_from(reference, generated)
    x, e = torch.randn(b, s, m), torch.randn(b, s + 1, m)
    with torch.no_grad():
        want = reference(x, x)
        torch.testing.assert_close(generated(x, x), want)
        torch.testing.assert_close(generated(e, x), reference(e, x))
    with torch.inference_mode():
        torch.testing.assert_close(generated(x, x), want)
    torch.testing.assert_close(generated(x, x), want)  # gradients of the weights only
    for model in (reference, generated):  # the input's gradient too
        xg = x.clone().requires_grad_()
        model(xg, xg).pow(2).sum().backward()
        model.x_grad = xg.grad
    torch.testing.assert_close(generated.x_grad, reference.x_grad)
    for name in ("Lq", "Lk", "Lv", "Lo"):
        got, ref = getattr(generated, name).weight.grad, getattr(reference, name).weight.grad
        rows = handwritten.heads_outer(m // h, h)
        torch.testing.assert_close(got[rows] if name != "Lo" else got[:, rows], ref)


BIASED = """
def Attend(Q: y k, K: x k, V: x k) -> y k:
    return einsum[y k](softmax[x](einsum[y x](Q, K) / sqrt(k)), V)

module M(m=12, k=3, h=4):
    Lq = Linear[m -> k h]()
    Lk = Linear[m -> k h]()
    Lv = Linear[m -> k h]()
    Lo = Linear[k h -> m]()

    def forward(E: y m, X: x m) -> y m:
        O = Attend[h](Lq(E), Lk(X), Lv(X))
        return Lo(O)
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
    with torch.no_grad():  # one input for Q, K and V
        want = model.Lo(F.scaled_dot_product_attention(heads(model.Lq, x), heads(model.Lk, x), heads(model.Lv, x))
                        .movedim(-3, -1).flatten(-2))
        torch.testing.assert_close(model(x, x), want)


MASKED = """
module Attend(p: float = 0.0):
    drop = Dropout(p=p)

    def forward(Q: y k, K: x k, V: x k, M: bool y x) -> y k:
        S = einsum[y x](Q, K) / sqrt(k)
        return einsum[y k](drop(softmax[x](where(M, S, -inf))), V)

module M(m=12, k=3, h=4, p: float = 0.0):
    Lq = Linear[m -> k h]()
    Lk = Linear[m -> k h]()
    Lv = Linear[m -> k h]()
    Lo = Linear[k h -> m]()
    attention = Attend(p)

    def forward(E: y m, X: x m, M: bool y x) -> y m:
        return Lo(attention[h](Lq(E), Lk(X), Lv(X), M))

def Grouped(Q: y k, K: x k, V: x k, M: bool y x) -> y k:
    return einsum[y k](softmax[x](where(M, einsum[y x](Q, K) / sqrt(k), -inf)), V)

module G(m=16, n=2, g=2, k=4):
    Lq = Linear[m -> n g k](bias=false)
    Lk = Linear[m -> n k](bias=false)
    Lv = Linear[m -> n k](bias=false)

    def forward(X: t m, M: bool t t) -> t k n g:
        return Grouped[n g](Lq(X), Lk(X), Lv(X), M)
"""


class _Ops(TorchDispatchMode):
    """The operations a call runs, with the number of elements of what each makes."""

    def __init__(self):
        super().__init__()
        self.ops: list[tuple[str, int]] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        first = out[0] if isinstance(out, (tuple, list)) else out
        self.ops.append((func.__name__, first.numel() if isinstance(first, torch.Tensor) else 0))
        return out


def _copies_and_kernels(call, activations: set[int]) -> tuple[set[str], list]:
    """The attention kernels a call (forward and backward) runs, and its copies of activations: those
    whose elements number as one of `activations` (the weights' copies have other sizes)."""
    with _Ops() as mode:
        call().sum().backward()
    kernels = {name for name, _ in mode.ops if "attention" in name or "softmax" in name}
    copies = [(name, n) for name, n in mode.ops
              if name.split(".")[0] in ("clone", "copy_", "contiguous") and n in activations]
    return kernels, copies


@pytest.mark.parametrize("batch", [(), (2,)])
def test_masked_attention_with_dropout_is_one_kernel_call_on_planned_heads(batch):
    """A submodule whose forward is masked attention with dropout becomes the kernel's call in the
    caller: the Linears' weights permuted so that Q, K and V need no copy, a mask shared by the heads
    passed so that the fused kernel (not the math path, which stores the scores) takes it."""
    source = ncdc.compile_source(MASKED, "plan.ncd")
    forward = source[source.index("class M("):source.index("def Grouped(")]
    assert ".contiguous()" not in forward and "self.attention(" not in forward
    assert forward.count("# layout: ") == 4
    assert "dropout_p=self.attention.drop.p if self.attention.training else 0.0" in forward
    torch.manual_seed(0)
    model = load(MASKED).M()
    e, x = torch.randn(*batch, 5, 12), torch.randn(*batch, 7, 12)
    mask = torch.rand(5, 7) < 0.7
    mask[:, 0] = True

    def heads(layer, t):  # the spec's (k h) order, heads moved in front: ... h y k
        return layer(t).unflatten(-1, (3, 4)).movedim(-1, -3)

    o = F.scaled_dot_product_attention(heads(model.Lq, e), heads(model.Lk, x), heads(model.Lv, x), attn_mask=mask)
    torch.testing.assert_close(model(e, x, mask), model.Lo(o.movedim(-3, -1).flatten(-2)))
    if batch:  # the CPU's fused kernel takes queries of four axes (three take the math path)
        kernels, copies = _copies_and_kernels(lambda: model(e, x, mask), {e.numel(), x.numel()})
        assert kernels == {"_scaled_dot_product_flash_attention_for_cpu.default",
                           "_scaled_dot_product_flash_attention_for_cpu_backward.default"} and not copies
    model.train()
    model.attention.drop.p = 0.5
    torch.manual_seed(1)
    assert not torch.allclose(model(e, x, mask), model(e, x, mask))  # the submodule's dropout, in training


@pytest.mark.parametrize("batch", [(), (3,)])
def test_grouped_attention_with_a_shared_mask_copies_nothing_and_keeps_the_fused_kernel(batch):
    source = ncdc.compile_source(MASKED, "plan.ncd")
    forward = source[source.index("class G("):]
    assert ".contiguous()" not in forward and "enable_gqa=True" in forward
    torch.manual_seed(0)
    model = load(MASKED).G()
    x = torch.randn(*batch, 6, 16)
    mask = torch.ones(6, 6, dtype=torch.bool).tril()
    q = model.Lq(x).unflatten(-1, (4, 4)).transpose(-3, -2)  # heads (n g)
    k, v = (layer(x).unflatten(-1, (2, 4)).transpose(-3, -2).repeat_interleave(2, dim=-3)
            for layer in (model.Lk, model.Lv))
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # ... (n g) t k
    got = model(x, mask)  # ... t k n g
    torch.testing.assert_close(got, want.unflatten(-3, (2, 2)).permute(*range(len(batch)), -2, -1, -4, -3))
    if batch:
        kernels, copies = _copies_and_kernels(lambda: model(x, mask), {x.numel(), x.numel() // 2})
        assert kernels == {"_scaled_dot_product_flash_attention_for_cpu.default",
                           "_scaled_dot_product_flash_attention_for_cpu_backward.default"} and not copies


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
