"""specs/llama.ncd against Hugging Face transformers' `LlamaDecoderLayer` and `LlamaModel`, built from
a small `LlamaConfig` (grouped-query attention: 4 query heads on 2 key-value heads) with random
weights: the same state_dict, equal outputs with and without padding and a batch axis, equal
gradients, one graph under torch.compile, and training that lowers the loss."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ncdc

transformers = pytest.importorskip("transformers")
from transformers import LlamaConfig  # noqa: E402
from transformers.models.llama.modeling_llama import (  # noqa: E402
    LlamaDecoderLayer,
    LlamaModel,
    LlamaRotaryEmbedding,
)

SPEC = Path(__file__).resolve().parent.parent / "specs" / "llama.ncd"
SIZES = dict(vocab_size=50, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, head_dim=8, max_position_embeddings=16, rms_norm_eps=1e-6)
THETA = 500.0  # not the default, so that it is surely passed on
LAYER = ("hidden_size", "intermediate_size", "num_key_value_heads", "num_attention_heads", "head_dim", "rms_norm_eps")


@pytest.fixture(scope="module")
def llama():
    return ncdc.load(SPEC)


def _config() -> LlamaConfig:
    config = LlamaConfig(**SIZES, rope_parameters={"rope_type": "default", "rope_theta": THETA})
    config._attn_implementation = "sdpa"
    return config


def _randomised(module):
    torch.manual_seed(0)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, 0.3)
    return module.eval()


@pytest.fixture(scope="module")
def models(llama):
    reference = _randomised(LlamaModel(_config()))
    ours = llama.LlamaModel(**SIZES, rope_theta=THETA).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    return reference, ours


def _ids(batch: int = 2, t: int = 7):
    ids = torch.randint(0, SIZES["vocab_size"], (batch, t), generator=torch.Generator().manual_seed(1))
    padding = torch.ones(batch, t, dtype=torch.long)
    padding[-1, t - 2:] = 0  # the last sequence is shorter: right padding
    return ids, padding


def test_state_dicts_are_transformers_ones(llama, models):
    reference, ours = models
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in reference.state_dict().items()}
    layer = llama.LlamaDecoderLayer(**{k: SIZES[k] for k in LAYER})
    theirs = LlamaDecoderLayer(_config(), layer_idx=0)
    assert {k: v.shape for k, v in layer.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}


def test_defaults_are_the_configuration_defaults(llama):
    config = LlamaConfig()
    with torch.device("meta"):
        model = llama.LlamaModel()
    for name in (*SIZES, "num_hidden_layers"):
        assert getattr(model, name) == getattr(config, name), name
    assert model.rope_theta == config.rope_parameters["rope_theta"]


@pytest.mark.parametrize("padded", [False, True], ids=["no-padding", "padding"])
def test_model_outputs_equal_transformers(models, padded):
    reference, ours = models
    ids, padding = _ids()
    if not padded:
        padding = torch.ones_like(padding)
    with torch.no_grad():
        expected = reference(ids, attention_mask=padding if padded else None).last_hidden_state
        got = ours(ids, padding.bool())
        single = ours(ids[0], padding[0].bool())  # no batch axis
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    torch.testing.assert_close(single, expected[0], atol=1e-5, rtol=0)


def test_layer_outputs_and_gradients_equal_transformers(llama):
    config = _config()
    reference = _randomised(LlamaDecoderLayer(config, layer_idx=0))
    ours = llama.LlamaDecoderLayer(**{k: SIZES[k] for k in LAYER}).eval()
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 6, SIZES["hidden_size"])
    cos, sin = LlamaRotaryEmbedding(config)(x, torch.arange(6)[None])
    mask = torch.ones(6, 6, dtype=torch.bool).tril() & torch.tensor([[True] * 6, [True] * 4 + [False] * 2])[:, None]
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    expected = reference(x_ref, attention_mask=mask[:, None], position_embeddings=(cos, sin))
    got = ours(x_ours, cos[0], sin[0], mask)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
    upstream = torch.randn_like(x)
    (expected * upstream).sum().backward()
    (got * upstream).sum().backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad, atol=1e-5, rtol=0)
    theirs = dict(reference.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, theirs[name].grad, atol=1e-5, rtol=0, msg=name)


def test_attention_is_one_fused_grouped_call():
    code = ncdc.compile_file(SPEC)
    attention = code[code.index("class LlamaAttention"):code.index("class LlamaDecoderLayer")]
    assert attention.count("scaled_dot_product_attention(") == 1 and "enable_gqa=True" in attention
    assert "MaskedAttention(" not in attention and "_insert_axis(K" not in attention  # no repeated keys


def test_the_model_compiles_to_one_graph(llama, models, monkeypatch):
    _, ours = models
    ids, padding = _ids()
    # The token-id check reads the ids' values (a graph break); the checks run in eager mode above.
    monkeypatch.setattr(llama, "CHECK_SHAPES", False)
    compiled = torch.compile(ours, fullgraph=True, backend="eager")
    with torch.no_grad():
        torch.testing.assert_close(compiled(ids, padding.bool()), ours(ids, padding.bool()))


def test_grouped_heads_must_divide():
    module = ncdc.load(SPEC)
    with pytest.raises(ValueError, match=r"needs num_attention_heads % num_key_value_heads == 0"):
        module.LlamaAttention(hidden_size=16, num_key_value_heads=3, num_attention_heads=4, head_dim=4)


def test_a_few_steps_lower_the_loss(llama):
    torch.manual_seed(0)
    model = llama.LlamaModel(**{**SIZES, "num_hidden_layers": 1})
    head = torch.nn.Linear(SIZES["hidden_size"], SIZES["vocab_size"])
    ids, padding = _ids(batch=4, t=8)
    optimiser = torch.optim.Adam([*model.parameters(), *head.parameters()], lr=3e-3)
    losses = []
    for _ in range(15):  # predict each next token
        optimiser.zero_grad()
        logits = head(model(ids, torch.ones_like(padding, dtype=torch.bool)))[:, :-1]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, SIZES["vocab_size"]), ids[:, 1:].reshape(-1))
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


GROUPED = ("module A(n=2, h: (n * g) = {default}):\n    q = Linear[4 -> n g](bias=false)\n\n"
           "    def forward(X: t 4) -> t n g:\n        return q(X)\n")


@pytest.mark.parametrize("text, code", [
    (GROUPED.format(default=5), "E0327"),  # the default is no multiple of n's
    (GROUPED.format(default=4) + "\nmodule B(m=4):\n    a = A(3, 4)\n\n    def forward(X: t 4) -> t 3 1:\n"
     "        return a(X)\n", "E0313"),  # built with sizes that do not divide
    ("module A(h: (n * g) = 4):\n    def forward(X: t h) -> t h:\n        return X\n", "E0327"),  # two new names
])
def test_a_pattern_over_a_size_is_checked(text, code):
    with pytest.raises(ncdc.NcdcError) as error:
        ncdc.check_source(text, "x.ncd")
    assert error.value.diagnostics[0].code == code, error.value.diagnostics[0]
