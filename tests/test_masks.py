"""Masks and masked attention: comparisons, `where`, `inf`, the causal mask `tril`, suffix
broadcasting, and their fusion into one call of PyTorch's attention kernel.

References are PyTorch's own: `scaled_dot_product_attention` with `attn_mask`/`is_causal`/`dropout_p`,
and `nn.MultiheadAttention` with `key_padding_mask`/`attn_mask`, its weights copied.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn.functional as F

import ncdc
from ncdc import NcdcError

SPEC = "tests/constructs/masks.ncd"
MODELS = "specs/masked_attention.ncd"
FUSED = ("MaskedAttention", "PaddedAttention", "BiasedAttention", "CausalAttention", "CausalPaddedAttention",
         "DropoutAttention")


@pytest.fixture(scope="module")
def defs():
    return ncdc.load(SPEC)


@pytest.fixture(scope="module")
def models():
    return ncdc.load(MODELS)


@pytest.fixture(scope="module")
def source():
    return ncdc.compile_file(SPEC) + ncdc.compile_file(MODELS)


def _definition(source: str, name: str) -> str:
    match = re.search(rf"^(?:def|class) {name}\b.*?(?=^(?:def|class) |\Z)", source, re.M | re.S)
    assert match, name
    return match.group(0)


@pytest.mark.parametrize("name", FUSED)
def test_masked_attention_is_one_fused_call(source, name):
    code = _definition(source, name)
    assert code.count("scaled_dot_product_attention(") == 1
    assert "softmax" not in code and "einsum" not in code
    if name != "CausalPaddedAttention":  # its mask is computed, then passed
        assert "torch.where" not in code and "tril" not in code


def test_the_fused_calls_pass_the_mask_the_kernel_wants(source):
    assert "attn_mask=M)" in _definition(source, "MaskedAttention")
    assert "attn_mask=P[..., None, :])" in _definition(source, "PaddedAttention")
    assert "attn_mask=B)" in _definition(source, "BiasedAttention")
    assert "is_causal=True)" in _definition(source, "CausalAttention")
    assert "dropout_p=self.drop.p if self.training else 0.0, is_causal=True" in _definition(source, "DropoutAttention")


def _qkv(*lead, y=5, x=7, k=8, grad=False):
    g = torch.Generator().manual_seed(0)
    return [torch.randn(*lead, n, k, generator=g, requires_grad=grad) for n in (y, x, x)]


def _grads(out, inputs):
    return torch.autograd.grad(out.square().sum(), inputs)


def test_bool_mask_equals_the_kernels_attn_mask(defs):
    q, k, v = _qkv(2, 3, grad=True)
    mask = torch.rand(2, 3, 5, 7, generator=torch.Generator().manual_seed(1)) > 0.3
    mask[..., 0] = True  # no row masked out entirely
    ours, ref = defs.MaskedAttention(q, k, v, mask), F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(ours, ref)
    for a, b in zip(_grads(ours, (q, k, v)), _grads(ref, (q, k, v))):
        torch.testing.assert_close(a, b)


def test_padding_mask_over_keys(defs):
    q, k, v = _qkv(2)
    pad = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=pad[:, None, :])
    torch.testing.assert_close(defs.PaddedAttention(q, k, v, pad), ref)
    # Masked keys take no part: their values do not matter.
    v2 = v.clone()
    v2[1, 4:] = 1e3
    torch.testing.assert_close(defs.PaddedAttention(q, k, v2, pad)[1], ref[1])


def test_additive_float_mask(defs):
    q, k, v = _qkv(3, grad=True)
    bias = torch.randn(3, 5, 7)
    ours, ref = defs.BiasedAttention(q, k, v, bias), F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    torch.testing.assert_close(ours, ref)
    for a, b in zip(_grads(ours, (q, k, v)), _grads(ref, (q, k, v))):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("y, x", [(6, 6), (4, 6), (6, 4)])
def test_causal_mask_equals_is_causal(defs, y, x):
    q, k, v = _qkv(2, y=y, x=x, grad=True)
    ours, ref = defs.CausalAttention(q, k, v), F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(ours, ref)
    for a, b in zip(_grads(ours, (q, k, v)), _grads(ref, (q, k, v))):
        torch.testing.assert_close(a, b)


def test_causal_and_padding_masks_together(defs):
    q, k, v = _qkv(2, y=6, x=6, grad=True)
    pad = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    keep = torch.ones(6, 6, dtype=torch.bool).tril() & pad[:, None, :]
    ours, ref = defs.CausalPaddedAttention(q, k, v, pad), F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    torch.testing.assert_close(ours, ref)
    for a, b in zip(_grads(ours, (q, k, v)), _grads(ref, (q, k, v))):
        torch.testing.assert_close(a, b)


def test_dropout_on_the_weights_only_in_training(defs):
    model = defs.DropoutAttention()
    q, k, v = _qkv(2, y=6, x=6)
    model.eval()
    torch.testing.assert_close(model(q, k, v), F.scaled_dot_product_attention(q, k, v, is_causal=True))
    model.train()
    torch.manual_seed(3)
    ours = model(q, k, v)
    torch.manual_seed(3)
    ref = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25, is_causal=True)
    torch.testing.assert_close(ours, ref)
    assert not torch.allclose(ours, F.scaled_dot_product_attention(q, k, v, is_causal=True))


def _mha_pair(model, m=32, h=4):
    """nn.MultiheadAttention with the generated module's weights."""
    ref = torch.nn.MultiheadAttention(m, h, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([model.Lq.weight, model.Lk.weight, model.Lv.weight]))
        ref.in_proj_bias.copy_(torch.cat([model.Lq.bias, model.Lk.bias, model.Lv.bias]))
        ref.out_proj.weight.copy_(model.Lo.weight)
        ref.out_proj.bias.copy_(model.Lo.bias)
    return ref.eval()


def test_padded_mha_equals_multihead_attention_with_key_padding_mask(defs):
    torch.manual_seed(0)
    model = defs.PaddedMHA().eval()
    ref = _mha_pair(model)
    E, X = torch.randn(2, 5, 32), torch.randn(2, 7, 32)
    valid = torch.tensor([[True] * 7, [True] * 3 + [False] * 4])
    expected, _ = ref(E, X, X, key_padding_mask=~valid, need_weights=False)
    torch.testing.assert_close(model(E, X, valid), expected)
    E.requires_grad_(True)
    a = torch.autograd.grad(model(E, X, valid).sum(), E)[0]
    b = torch.autograd.grad(ref(E, X, X, key_padding_mask=~valid, need_weights=False)[0].sum(), E)[0]
    torch.testing.assert_close(a, b)


def test_masked_mha_equals_multihead_attention_with_attn_mask(defs):
    torch.manual_seed(1)
    model = defs.MaskedMHA().eval()
    ref = _mha_pair(model)
    E, X = torch.randn(3, 5, 32), torch.randn(3, 6, 32)
    allowed = torch.rand(3, 5, 6) > 0.4
    allowed[..., 0] = True
    # torch's bool attn_mask marks what may NOT be attended, one mask per batch and head.
    expected, _ = ref(E, X, X, attn_mask=(~allowed).repeat_interleave(4, dim=0), need_weights=False)
    torch.testing.assert_close(model(E, X, allowed), expected)


def test_causal_self_attention_equals_multihead_attention_with_a_causal_mask(models):
    torch.manual_seed(2)
    model = models.CausalSelfAttention(m=32, k=8, h=4).eval()
    ref = _mha_pair(model)
    X = torch.randn(2, 6, 32)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(6)
    expected, _ = ref(X, X, X, attn_mask=causal, is_causal=True, need_weights=False)
    torch.testing.assert_close(model(X), expected)
    # without a batch axis too
    torch.testing.assert_close(model(X[0]), expected[0])


def test_grouped_query_attention_is_one_kernel_call(source):
    code = _definition(source, "GroupedQueryAttention")
    assert code.count("scaled_dot_product_attention(") == 1 and "enable_gqa=True" in code
    assert "_insert_axis" not in code and "softmax" not in code


def _repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    """Llama's repeat_kv: (b, n_kv, s, d) -> (b, n_kv * n_rep, s, d), each key-value head n_rep times."""
    b, n_kv, s, d = x.shape
    return x[:, :, None].expand(b, n_kv, n_rep, s, d).reshape(b, n_kv * n_rep, s, d)


def _llama_attention(model, X, keep, heads, kv, d):
    """Llama's eager attention (repeat_kv, then softmax of the masked scores), with the generated
    module's weights; `keep` (bool, broadcast to the scores) says which keys each query sees."""
    b, t = X.shape[0], X.shape[1]
    q = (X @ model.Lq.weight.T).view(b, t, heads, d).transpose(1, 2)
    k = _repeat_kv((X @ model.Lk.weight.T).view(b, t, kv, d).transpose(1, 2), heads // kv)
    v = _repeat_kv((X @ model.Lv.weight.T).view(b, t, kv, d).transpose(1, 2), heads // kv)
    scores = (q @ k.transpose(2, 3) / math.sqrt(d)).masked_fill(~keep, -math.inf)
    out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, heads * d)
    return out @ model.Lo.weight.T


def test_grouped_query_attention_equals_the_llama_formula(models):
    torch.manual_seed(4)
    model = models.GroupedQueryAttention(m=32, k=4, n=2, g=4)
    X = torch.randn(2, 6, 32, requires_grad=True)
    expected = _llama_attention(model, X, torch.ones(6, 6, dtype=torch.bool).tril(), heads=8, kv=2, d=4)
    ours = model(X)
    torch.testing.assert_close(ours, expected)
    a = torch.autograd.grad(ours.square().sum(), [X, model.Lk.weight])
    e = torch.autograd.grad(expected.square().sum(), [X, model.Lk.weight])
    for x, y in zip(a, e):
        torch.testing.assert_close(x, y)
    torch.testing.assert_close(model(X[0]), expected[0])  # without a batch axis


def test_grouped_query_attention_with_a_padding_mask(defs, source):
    assert "enable_gqa=True" in _definition(source, "PaddedGQA")
    torch.manual_seed(5)
    model = defs.PaddedGQA()
    X = torch.randn(2, 6, 32)
    valid = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])
    expected = _llama_attention(model, X, valid[:, None, None, :], heads=8, kv=2, d=4)
    torch.testing.assert_close(model(X, valid), expected)


def test_comparisons_and_where_line_up_as_arithmetic(defs):
    X, T = torch.randn(3, 4), torch.randn(4)
    assert torch.equal(defs.below(X, T), X < T)
    assert defs.below(X, T).dtype == torch.bool
    assert torch.equal(defs.nonzero(torch.tensor([0, 2, 0])), torch.tensor([False, True, False]))
    torch.testing.assert_close(defs.clamp_low(X), X.clamp(min=0))
    S, P = torch.randn(2, 3, 4), torch.tensor([True, False, True, True])
    assert torch.equal(defs.keep_valid(S, P), S.masked_fill(~P, -math.inf))


def test_a_trailing_suffix_broadcasts(defs):
    S, M = torch.randn(2, 4, 5, 5), torch.randn(2, 5, 5)
    torch.testing.assert_close(defs.add_mask(S, M), S + M[:, None])  # batch axes line up with batch axes


def test_masks_must_be_bool_at_run_time(defs):
    q, k, v = _qkv()
    with pytest.raises(TypeError, match="P: expected bool elements"):
        defs.PaddedAttention(q, k, v, torch.ones(7))


ILL_TYPED = [
    ("E0320", "def f(M: bool t) -> bool t:\n    return M < M\n"),
    ("E0320", "def f(M: bool t) -> bool t:\n    return M == 1\n"),
    ("E0320", "def f(X: t) -> bool t:\n    return t < 2\n"),
    ("E0321", "def f(X: t) -> t:\n    return where(X, X, 0.0)\n"),
    ("E0321", "def f(M: bool t, X: t) -> t:\n    return where(M, M, X)\n"),
    ("E0322", "def f(X: y x) -> y x:\n    return where(tril(y), X, -inf)\n"),
    ("E0322", "def f(X: y x) -> y x:\n    return where(tril(y, 2 * x), X, -inf)\n"),
    ("E0323", "def f(S: t t, b: t) -> t t:\n    return S + b\n"),
    ("E0323", "def f(S: t h t, M: h t) -> t h t:\n    return S + M\n"),
    ("E0316", "def f(M: bool t) -> bool t:\n    return M + M\n"),
]


@pytest.mark.parametrize("code, text", ILL_TYPED)
def test_ill_typed_masks_are_rejected_with_their_codes(code, text):
    with pytest.raises(NcdcError) as error:
        ncdc.check_source(text, "bad.ncd")
    assert [d.code for d in error.value.diagnostics] == [code], error.value.diagnostics[0].render()


def test_inf_is_a_name_a_wire_may_still_take():
    """`inf` is infinity unless a wire or a size of that name is in scope."""
    source = ncdc.compile_source("def f(inf: t) -> t:\n    return inf * 2\n")
    assert "math.inf" not in source


def test_the_ir_keeps_the_einsums_and_the_mask():
    program = ncdc.check_file(SPEC)
    from ncdc import ir

    body = {f.name: f for f in program.functions}["CausalAttention"].body
    kinds = {type(n).__name__ for n in ir.walk(body)}
    assert {"Einsum", "Normalise", "Where", "Tril"} <= kinds and "Attention" not in kinds
