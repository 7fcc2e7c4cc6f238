"""specs/gpt2.ncd against Hugging Face transformers' `GPT2Block` and `GPT2Model`, built from a small
`GPT2Config` with random weights: the same state_dict (Conv1D's (in, out) weights through
`Linear(transposed=true)`), the same outputs with and without padding and a batch axis, the same
gradients, the same dropout in training (attention weights included); the model trains, and compiles to one graph that serves several sequence lengths.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ncdc

transformers = pytest.importorskip("transformers")
from transformers import GPT2Config  # noqa: E402
from transformers.models.gpt2.modeling_gpt2 import GPT2Block, GPT2Model  # noqa: E402

ROOT_SPECS = Path(__file__).resolve().parent.parent / "specs"
SPEC = ROOT_SPECS / "gpt2.ncd"
SIZES = dict(vocab_size=40, n_positions=16, n_embd=32, n_layer=2, n_head=4)
BLOCK = ("n_embd", "n_head", "n_inner", "layer_norm_epsilon", "resid_pdrop", "activation_function", "attn_pdrop")


@pytest.fixture(scope="module")
def loaded():
    return ncdc.load(SPEC)


def _config(**changes) -> GPT2Config:
    config = GPT2Config(**{**SIZES, **changes}, bos_token_id=0, eos_token_id=0)
    config._attn_implementation = "sdpa"
    return config


def _fields(config: GPT2Config, names) -> dict:
    """The hyperparameters of the generated module: the configuration's fields of the same names, as
    they are (`n_inner` None means 4 * n_embd, in the spec as in transformers)."""
    return {name: getattr(config, name) for name in names}


def _block_pair(loaded, seed: int = 0, **changes):
    config = _config(**changes)
    torch.manual_seed(seed)
    reference = GPT2Block(config)
    with torch.no_grad():
        for p in reference.parameters():
            p.normal_(0.0, 0.3)
    ours = loaded.GPT2Block(**_fields(config, BLOCK))
    ours.load_state_dict(reference.state_dict(), strict=True)
    return reference.eval(), ours.eval()


def _model_pair(loaded, seed: int = 0, **changes):
    config = _config(**changes)
    torch.manual_seed(seed)
    reference = GPT2Model(config)
    ours = loaded.GPT2Model(**_fields(config, ("vocab_size", "n_positions", "n_layer", "embd_pdrop") + BLOCK))
    ours.load_state_dict(reference.state_dict(), strict=True)
    return reference.eval(), ours.eval()


def _padded(batch: int, t: int, lengths: list[int]) -> torch.Tensor:
    """A right-padded attention mask: true at the first `lengths[b]` positions of row b."""
    return torch.arange(t).expand(batch, t) < torch.tensor(lengths)[:, None]


def _causal(mask: torch.Tensor) -> torch.Tensor:
    """The 4-d bool mask that transformers' GPT2Model hands its blocks: causal, and no padded keys."""
    t = mask.shape[-1]
    return (torch.ones(t, t, dtype=torch.bool).tril() & mask[:, None, :])[:, None]


def test_state_dicts_are_transformers_own(loaded):
    for reference, ours in (_block_pair(loaded), _model_pair(loaded)):
        assert {k: v.shape for k, v in ours.state_dict().items()} == \
               {k: v.shape for k, v in reference.state_dict().items()}
    assert ours.h[0].attn.c_attn.weight.shape == (32, 96)  # Conv1D's (in, out)


@pytest.mark.parametrize("activation", ["gelu_new", "gelu", "relu"])
def test_block_outputs_agree(loaded, activation):
    reference, ours = _block_pair(loaded, activation_function=activation)
    x = torch.randn(3, 7, 32)
    everywhere = torch.ones(3, 7, dtype=torch.bool)
    mask = _padded(3, 7, [7, 4, 1])
    with torch.no_grad():
        torch.testing.assert_close(ours(x, everywhere), reference(x), atol=1e-5, rtol=0)
        torch.testing.assert_close(ours(x, mask), reference(x, attention_mask=_causal(mask)), atol=1e-5, rtol=0)
        torch.testing.assert_close(ours(x[1], mask[1]), reference(x[1:2], attention_mask=_causal(mask[1:2]))[0],
                                   atol=1e-5, rtol=0)  # no batch axis


def test_model_outputs_agree(loaded):
    reference, ours = _model_pair(loaded)
    ids = torch.randint(0, 40, (2, 9))
    mask = _padded(2, 9, [9, 5])
    with torch.no_grad():
        expected = reference(ids).last_hidden_state
        torch.testing.assert_close(ours(ids, torch.ones_like(mask)), expected, atol=1e-5, rtol=0)
        expected = reference(ids, attention_mask=mask.long()).last_hidden_state
        got = ours(ids, mask)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
        torch.testing.assert_close(ours(ids[1], mask[1]), got[1], atol=1e-5, rtol=0)


def test_gradients_agree(loaded):
    reference, ours = _model_pair(loaded, seed=1)
    ids = torch.randint(0, 40, (2, 6))
    mask = _padded(2, 6, [6, 3])
    (reference(ids, attention_mask=mask.long()).last_hidden_state ** 2).sum().backward()
    (ours(ids, mask) ** 2).sum().backward()
    theirs = dict(reference.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, theirs[name].grad, atol=1e-4, rtol=1e-4, msg=name)


def test_n_inner_none_is_four_n_embd(loaded):
    config = _config()
    assert config.n_inner is None
    reference, ours = _block_pair(loaded)
    assert ours.n_inner == ours.mlp.n_inner == 4 * 32
    assert ours.mlp.c_fc.weight.shape == reference.mlp.c_fc.weight.shape == (32, 128)
    assert loaded.GPT2MLP(n_embd=8).n_inner == 32  # nothing passed: the default too
    assert loaded.GPT2MLP(n_embd=8, n_inner=None).c_proj.weight.shape == (32, 8)


def test_n_inner_given_is_transformers_own(loaded):
    reference, ours = _block_pair(loaded, n_inner=48)
    assert ours.n_inner == ours.mlp.n_inner == 48
    _, model = _model_pair(loaded, n_inner=48)
    assert model.h[1].mlp.c_fc.weight.shape == (32, 48)
    x = torch.randn(2, 5, 32)
    mask = _padded(2, 5, [5, 2])
    with torch.no_grad():
        torch.testing.assert_close(ours(x, mask), reference(x, attention_mask=_causal(mask)), atol=1e-5, rtol=0)


def test_defaults_are_the_configuration_defaults(loaded):
    config = GPT2Config()
    with torch.device("meta"):
        model = loaded.GPT2Model()
    for name in ("vocab_size", "n_positions", "n_layer", "embd_pdrop") + BLOCK:
        if name != "n_inner":
            assert getattr(model, name) == getattr(config, name), name
    assert config.n_inner is None and model.n_inner == 4 * config.n_embd  # the configuration's None


def test_attention_dropout_is_transformers_own_in_training(loaded):
    """`attn_pdrop` drops attention weights inside the fused kernel (`dropout_p`): in training, from
    the same seed, the outputs and gradients are transformers' own; the only dropout here is the
    attention's, and it changes the result from one seed to the next; eval mode drops nothing."""
    reference, ours = _model_pair(loaded, attn_pdrop=0.5, resid_pdrop=0.0, embd_pdrop=0.0)
    assert ours.h[0].attn.attention.attn_dropout.p == 0.5
    reference.train(), ours.train()
    ids = torch.randint(0, 40, (2, 7))
    mask = _padded(2, 7, [7, 4])
    for seed in (0, 1):
        torch.manual_seed(seed)
        expected = reference(ids, attention_mask=mask.long()).last_hidden_state
        torch.manual_seed(seed)
        got = ours(ids, mask)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
        (expected ** 2).sum().backward()
        (got ** 2).sum().backward()
        theirs = dict(reference.named_parameters())
        for name, p in ours.named_parameters():
            torch.testing.assert_close(p.grad, theirs[name].grad, atol=1e-4, rtol=1e-4, msg=name)
        reference.zero_grad(), ours.zero_grad()
    torch.manual_seed(2)
    assert (ours(ids, mask) - got).abs().max() > 1e-2  # another seed, other weights dropped
    with torch.no_grad():
        still = ours.eval()(ids, mask)
        torch.testing.assert_close(still, reference.eval()(ids, attention_mask=mask.long()).last_hidden_state,
                                   atol=1e-5, rtol=0)
        assert (still - got).abs().max() > 1e-2


def test_training_lowers_the_loss(loaded):
    torch.manual_seed(0)
    model = loaded.GPT2Model(**{**SIZES, "n_inner": 64, "embd_pdrop": 0.0, "resid_pdrop": 0.0, "attn_pdrop": 0.0})
    ids = torch.randint(0, 40, (4, 8))
    mask = torch.ones(4, 8, dtype=torch.bool)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss() -> torch.Tensor:  # next-token prediction through the tied embedding, as GPT2LMHeadModel
        logits = model(ids, mask) @ model.wte.weight.T
        return torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), ids[:, 1:].flatten())

    first = loss().item()
    for _ in range(5):
        optimiser.zero_grad()
        loss().backward()
        optimiser.step()
    assert loss().item() < 0.8 * first


def test_positions_beyond_n_positions_are_a_clear_error(loaded):
    model = loaded.GPT2Model(**{**SIZES, "n_inner": 64})
    with pytest.raises(ValueError, match=r"needs t <= n_positions .* got n_positions = 16, t = 17"):
        model(torch.zeros(1, 17, dtype=torch.long), torch.ones(1, 17, dtype=torch.bool))


def test_causal_and_padding_masks_are_one_kernel_call():
    code = ncdc.compile_file(SPEC)
    assert code.count("scaled_dot_product_attention(") == 1
    assert "attn_mask=torch.ones(y, x, dtype=torch.bool, device=Q.device).tril() & P[..., None, :]" in code
    assert "dropout_p=self.attn_dropout.p if self.training else 0.0)" in code  # attn_pdrop, in the kernel


def test_a_transposed_linear_is_the_linear_of_its_weight_transposed():
    """`Linear(transposed=true)` stores (in, out) and computes what nn.Linear does with the weight's
    transpose, also where the layout plan permutes the weight's rows (`k h` heads into attention)
    and its columns, and without a bias."""
    attention = (ROOT_SPECS / "attention.ncd").read_text(encoding="utf-8")
    transposed = attention.replace("(bias=false)", "(bias=false, transposed=true)")
    assert transposed.count("transposed=true") == 4
    plain: dict = {}
    ours: dict = {}
    exec(ncdc.compile_source(attention, "attention.ncd"), plain)
    code = ncdc.compile_source(transposed, "attention.ncd")
    exec(code, ours)
    assert "lambda _w: _w.t().unflatten(0, (self.k, self.h))" in code  # the plan's permutation, of the transpose
    reference, model = plain["MultiHeadAttention"](), ours["MultiHeadAttention"]()
    assert [p.shape for p in model.parameters()] == [p.shape[::-1] for p in reference.parameters()]
    model.load_state_dict({k: v.T for k, v in reference.state_dict().items()}, strict=True)
    e, x = torch.randn(2, 5, 128), torch.randn(2, 7, 128)
    with torch.no_grad():
        torch.testing.assert_close(model(e, x), reference(e, x), atol=1e-6, rtol=0)
    for m in (model, reference):  # gradients through the permuted transposes (one input: Q, K and V in one matmul)
        xg = x.clone().requires_grad_()
        m(xg, xg).pow(2).sum().backward()
        m.x_grad = xg.grad
    torch.testing.assert_close(model.x_grad, reference.x_grad, atol=1e-5, rtol=1e-4)
    for (name, got), want in zip(model.named_parameters(), reference.parameters()):
        torch.testing.assert_close(got.grad, want.grad.T, atol=1e-5, rtol=1e-4, msg=name)
