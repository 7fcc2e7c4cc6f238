"""specs/rotary.ncd against Hugging Face transformers' own rotary embeddings: the tables of
`LlamaRotaryEmbedding`, `apply_rotary_pos_emb` (the half-split form) and DeepSeek-V3's
`apply_rotary_pos_emb_interleave`, all on random inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ncdc

transformers = pytest.importorskip("transformers")
from transformers import LlamaConfig  # noqa: E402
from transformers.models.deepseek_v3.modeling_deepseek_v3 import apply_rotary_pos_emb_interleave  # noqa: E402
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb  # noqa: E402

SPEC = Path(__file__).resolve().parent.parent / "specs" / "rotary.ncd"


@pytest.fixture(scope="module")
def rotary():
    return ncdc.load(SPEC)


def _tables(rotary, t: int, head_dim: int = 16, theta: float = 500.0):
    config = LlamaConfig(hidden_size=64, num_attention_heads=4, head_dim=head_dim, max_position_embeddings=32,
                         rope_parameters={"rope_type": "default", "rope_theta": theta})
    x = torch.randn(2, t, 64)
    reference = LlamaRotaryEmbedding(config)(x, torch.arange(t)[None].expand(2, t))
    ours = rotary.RotaryEmbedding(head_dim=head_dim, max_position_embeddings=32, rope_theta=theta)(x)
    return reference, ours


def test_the_tables_are_transformers_ones(rotary):
    (ref_cos, ref_sin), (cos, sin) = _tables(rotary, t=11)
    assert cos.shape == (2, 11, 16)  # with the batch axis of the input, as a view of the tables
    torch.testing.assert_close(cos, ref_cos, rtol=0, atol=0)
    torch.testing.assert_close(sin, ref_sin, rtol=0, atol=0)


@pytest.mark.parametrize("form", ["half", "interleaved"])
def test_rotations_are_transformers_ones(rotary, form):
    (cos, sin), _ = _tables(rotary, t=5)
    q, k = torch.randn(2, 3, 5, 16, requires_grad=True), torch.randn(2, 1, 5, 16)  # (batch, heads, t, head_dim)
    apply = apply_rotary_pos_emb if form == "half" else apply_rotary_pos_emb_interleave
    reference, _ = apply(q, k, cos, sin)
    ours = (rotary.apply_rotary if form == "half" else rotary.apply_rotary_interleaved)(q, cos[:, None], sin[:, None])
    torch.testing.assert_close(ours, reference, rtol=0, atol=1e-6)
    grads = [torch.autograd.grad(y.square().sum(), q)[0] for y in (ours, reference)]
    torch.testing.assert_close(*grads, rtol=1e-5, atol=1e-5)


def test_a_sequence_longer_than_the_tables_is_a_clear_error(rotary):
    with pytest.raises(ValueError, match=r"needs max_position_embeddings >= t"):
        rotary.RotaryEmbedding(head_dim=8, max_position_embeddings=4)(torch.randn(5, 3))
