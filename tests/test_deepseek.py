"""specs/deepseek.ncd against Hugging Face transformers' `DeepseekV3Attention` (multi-head latent
attention, interleaved rotary embeddings), built from a small `DeepseekV3Config` with random
weights: the same state_dict loaded strictly, equal outputs with and without padding and a batch
axis, equal gradients, and the rotary tables of `DeepseekV3RotaryEmbedding`."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ncdc

transformers = pytest.importorskip("transformers")
from transformers import DeepseekV3Config  # noqa: E402
from transformers.models.deepseek_v3.modeling_deepseek_v3 import (  # noqa: E402
    DeepseekV3Attention,
    DeepseekV3RotaryEmbedding,
)

SPEC = Path(__file__).resolve().parent.parent / "specs" / "deepseek.ncd"
SIZES = dict(hidden_size=32, num_attention_heads=4, q_lora_rank=12, kv_lora_rank=10, qk_nope_head_dim=6,
             qk_rope_head_dim=4, v_head_dim=5)
THETA = 500.0  # not the default, so that it is surely passed on


@pytest.fixture(scope="module")
def deepseek():
    return ncdc.load(SPEC)


def _config(attention_bias: bool = False) -> DeepseekV3Config:
    config = DeepseekV3Config(**SIZES, num_key_value_heads=4, max_position_embeddings=16, rope_interleave=True,
                              attention_bias=attention_bias,
                              rope_parameters={"rope_type": "default", "rope_theta": THETA})
    config._attn_implementation = "sdpa"
    return config


@pytest.fixture(scope="module", params=[False, True], ids=["no-bias", "bias"])
def models(deepseek, request):
    torch.manual_seed(0)
    config = _config(request.param)
    reference = DeepseekV3Attention(config, layer_idx=0)
    with torch.no_grad():
        for p in reference.parameters():
            p.normal_(0.0, 0.3)
    ours = deepseek.DeepseekV3SelfAttention(**SIZES, attention_bias=request.param, max_position_embeddings=16,
                                            rope_theta=THETA)
    ours.self_attn.load_state_dict(reference.state_dict(), strict=True)
    return reference.eval(), DeepseekV3RotaryEmbedding(config), ours.eval()


def test_the_state_dict_is_transformers(deepseek):
    ours = deepseek.DeepseekV3Attention(**SIZES)
    theirs = DeepseekV3Attention(_config(), layer_idx=0)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}


def test_the_rotary_tables_are_transformers(models):
    _, rotary, ours = models
    X = torch.randn(1, 9, 32)
    cos, sin = rotary(X, torch.arange(9)[None])
    ours_cos, ours_sin = ours.rotary_emb(X)
    torch.testing.assert_close(ours_cos, cos, rtol=0, atol=0)  # the batch axis of X, as the signature says
    torch.testing.assert_close(ours_sin, sin, rtol=0, atol=0)


def _masks(batch: tuple, t: int):
    """The padding mask (true: a token; the last sequence ends two tokens early) and the bool mask
    of the keys each query sees that transformers' sdpa attention takes: causal, and no padding."""
    keep = torch.ones(*batch, t, dtype=torch.bool)
    if batch:
        keep[-1, t - 2:] = False
    seen = torch.ones(t, t, dtype=torch.bool).tril() & keep[..., None, :]
    return keep, seen


@pytest.mark.parametrize("batch", [(), (3,)], ids=["no-batch", "batch"])
def test_latent_attention_equals_transformers(models, batch):
    reference, rotary, ours = models
    torch.manual_seed(1)
    t = 7
    X = torch.randn(*batch, t, 32, requires_grad=True)
    keep, seen = _masks(batch, t)
    cos, sin = rotary(X, torch.arange(t)[None])
    rows = X if batch else X[None]
    expected = reference(rows, (cos, sin), seen[:, None] if batch else seen[None, None])[0]
    expected = expected if batch else expected[0]
    actual = ours(X, keep)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-5)
    weights = torch.randn(actual.shape)
    (g_ours,) = torch.autograd.grad((actual * weights).sum(), X)
    (g_ref,) = torch.autograd.grad((expected * weights).sum(), X)
    torch.testing.assert_close(g_ours, g_ref, atol=1e-5, rtol=1e-5)
    params = dict(ours.self_attn.named_parameters())
    grads_ours = torch.autograd.grad((ours(X, keep) * weights).sum(), list(params.values()))
    grads_ref = torch.autograd.grad((reference(rows, (cos, sin), seen[:, None] if batch else seen[None, None])[0]
                                     .reshape(actual.shape) * weights).sum(), [dict(reference.named_parameters())[k]
                                                                                for k in params])
    for name, a, b in zip(params, grads_ours, grads_ref):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, msg=name)


def test_the_attention_is_one_fused_call_with_one_rope_key(models, monkeypatch):
    """The scores are never materialised: one scaled_dot_product_attention call for all heads; the
    rotary key is computed once, from the latent, and broadcast to every head's key."""
    _, _, ours = models
    calls = []
    fused = torch.nn.functional.scaled_dot_product_attention

    def counted(q, k, v, **kwargs):
        calls.append((tuple(q.shape), tuple(k.shape), kwargs.get("attn_mask") is not None))
        return fused(q, k, v, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", counted)
    monkeypatch.setattr(torch, "softmax", lambda *a, **k: pytest.fail("attention materialised its scores"))
    ours(torch.randn(2, 5, 32), torch.ones(2, 5, dtype=torch.bool))
    assert calls == [((2, 4, 5, 10), (2, 4, 5, 10), True)]


def test_the_attention_compiles_to_one_graph(deepseek, models):
    _, _, ours = models
    X, keep = torch.randn(2, 6, 32), torch.ones(2, 6, dtype=torch.bool)
    compiled = torch.compile(ours, fullgraph=True, backend="eager")
    with torch.no_grad():
        torch.testing.assert_close(compiled(X, keep), ours(X, keep))


def test_attention_dropout_is_transformers_own_in_training(deepseek):
    """`attention_dropout` (DeepseekV3Config's field) drops attention weights inside the fused kernel
    (`dropout_p`): in training, from the same seed, the output and the gradients are transformers'
    own; another seed drops others; eval mode drops nothing."""
    config = _config()
    config.attention_dropout = 0.4
    torch.manual_seed(0)
    reference = DeepseekV3Attention(config, layer_idx=0)
    with torch.no_grad():
        for p in reference.parameters():
            p.normal_(0.0, 0.3)
    ours = deepseek.DeepseekV3SelfAttention(**SIZES, max_position_embeddings=16, rope_theta=THETA,
                                            attention_dropout=config.attention_dropout)
    ours.self_attn.load_state_dict(reference.state_dict(), strict=True)
    assert ours.self_attn.attention.drop.p == 0.4
    reference.train(), ours.train()
    X = torch.randn(3, 7, 32)
    keep, seen = _masks((3,), 7)
    cos, sin = DeepseekV3RotaryEmbedding(config)(X, torch.arange(7)[None])
    results = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        expected = reference(X, (cos, sin), seen[:, None])[0]
        torch.manual_seed(seed)
        got = ours(X, keep)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
        theirs = dict(reference.named_parameters())
        params = dict(ours.self_attn.named_parameters())
        grads = torch.autograd.grad(got.square().sum(), list(params.values()))
        expected_grads = torch.autograd.grad(expected.square().sum(), [theirs[name] for name in params])
        for name, a, b in zip(params, grads, expected_grads):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, msg=name)
        results.append(got.detach())
    assert (results[0] - results[1]).abs().max() > 1e-2  # another seed, other weights dropped
    with torch.no_grad():
        still = ours.eval()(X, keep)
        torch.testing.assert_close(still, reference.eval()(X, (cos, sin), seen[:, None])[0], atol=1e-5, rtol=1e-5)
        assert (still - results[1]).abs().max() > 1e-2


def test_defaults_are_the_configuration_defaults(deepseek):
    config = DeepseekV3Config()
    with torch.device("meta"):
        ours = deepseek.DeepseekV3SelfAttention()
    for name in ("hidden_size", "num_attention_heads", "q_lora_rank", "kv_lora_rank", "qk_nope_head_dim",
                 "qk_rope_head_dim", "v_head_dim", "attention_bias", "attention_dropout", "max_position_embeddings"):
        assert getattr(ours, name) == getattr(config, name), name
    assert ours.rope_theta == config.rope_parameters["rope_theta"]
