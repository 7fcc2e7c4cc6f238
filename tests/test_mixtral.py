"""specs/mixtral.ncd against Hugging Face transformers' `MixtralSparseMoeBlock`, built from a small
`MixtralConfig` with random weights: the same state_dict, the same outputs and gradients, the same
experts chosen (ties included), and each expert run on its own tokens only.

Also the constructs it is written with, `topk` and `route`: their errors, and what the generated
code checks at run time.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ncdc

transformers = pytest.importorskip("transformers")
from transformers import MixtralConfig  # noqa: E402
from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock  # noqa: E402

SPEC = Path(__file__).resolve().parent.parent / "specs" / "mixtral.ncd"
SIZES = dict(hidden_size=16, intermediate_size=24, num_local_experts=8, num_experts_per_tok=2)


@pytest.fixture(scope="module")
def loaded():
    return ncdc.load(SPEC)


def _pair(loaded, seed: int = 0):
    """The reference block with random weights, and the generated one with the same state_dict."""
    config = MixtralConfig(**SIZES)
    config._experts_implementation = "eager"  # the loop over experts that transformers ships as its default
    torch.manual_seed(seed)
    reference = MixtralSparseMoeBlock(config)
    with torch.no_grad():
        for p in reference.parameters():
            p.normal_(0.0, 0.3)
    ours = loaded.MixtralSparseMoeBlock(**SIZES)
    ours.load_state_dict(reference.state_dict(), strict=True)
    return reference.eval(), ours.eval()


class ExpertLog:
    """Stands in for the generated `SwiGLU` and records which expert (by the slice of the stacked
    weights it is given) sees which tokens (by their rows, which it gets as exact copies)."""

    def __init__(self, loaded, model, tokens: torch.Tensor):
        self.expert = loaded.SwiGLU
        self.weights = model.experts.gate_up_proj
        self.tokens = tokens.reshape(-1, tokens.shape[-1])
        self.calls: list[tuple[int, list[int]]] = []

    def __call__(self, x, gate_up, down):
        stride = self.weights.stride(0) * self.weights.element_size()
        expert = (gate_up.data_ptr() - self.weights.data_ptr()) // stride
        rows = [int(torch.nonzero((self.tokens == row).all(-1))[0]) for row in x]
        self.calls.append((expert, rows))
        return self.expert(x, gate_up, down)

    def pairs(self) -> set[tuple[int, int]]:
        return {(token, expert) for expert, rows in self.calls for token in rows}


def _chosen(reference, x: torch.Tensor) -> set[tuple[int, int]]:
    """(token, expert) for every expert the reference's router chooses."""
    _, _, index = reference.gate(x.reshape(-1, x.shape[-1]))
    return {(t, int(e)) for t, row in enumerate(index) for e in row}


def test_state_dict_is_the_reference_one(loaded):
    reference, ours = _pair(loaded)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in reference.state_dict().items()}
    assert list(ours.state_dict()) == list(reference.state_dict())


def test_defaults_are_the_configuration_defaults(loaded):
    config = MixtralConfig()
    with torch.device("meta"):
        block = loaded.MixtralSparseMoeBlock()
    for name in SIZES:
        assert getattr(block, name) == getattr(config, name)


@pytest.mark.parametrize("shape", [(3, 5), (7,)], ids=["batch", "no-batch"])
def test_outputs_equal_the_reference(loaded, shape):
    reference, ours = _pair(loaded)
    x = torch.randn(*shape, SIZES["hidden_size"])
    with torch.no_grad():
        expected = reference(x if len(shape) == 2 else x[None])
        got = ours(x)
    torch.testing.assert_close(got, expected.reshape(got.shape), atol=1e-5, rtol=0)


def test_gradients_equal_the_reference(loaded):
    reference, ours = _pair(loaded)
    x = torch.randn(2, 6, SIZES["hidden_size"])
    upstream = torch.randn(2, 6, SIZES["hidden_size"])
    x_ref, x_ours = x.clone().requires_grad_(), x.clone().requires_grad_()
    (reference(x_ref) * upstream).sum().backward()
    (ours(x_ours) * upstream).sum().backward()
    torch.testing.assert_close(x_ours.grad, x_ref.grad, atol=1e-5, rtol=0)
    theirs = dict(reference.named_parameters())
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, theirs[name].grad, atol=1e-5, rtol=0, msg=name)


def test_router_logits_are_the_gate_output(loaded):
    """transformers records the router logits as its gate's first output; here the gate is the
    Linear whose output they are, for a hook to read."""
    reference, ours = _pair(loaded)
    x = torch.randn(2, 5, SIZES["hidden_size"])
    seen = []
    ours.gate.register_forward_hook(lambda module, args, out: seen.append(out))
    with torch.no_grad():
        ours(x)
        logits = reference.gate(x.reshape(-1, SIZES["hidden_size"]))[0]
    torch.testing.assert_close(seen[0].reshape(logits.shape), logits, atol=1e-6, rtol=0)


@pytest.mark.parametrize("tie", ["three experts", "all experts"])
def test_ties_are_broken_as_the_reference_breaks_them(loaded, monkeypatch, tie):
    """Router rows made equal give exactly equal probabilities; both choose the same experts."""
    reference, ours = _pair(loaded)
    with torch.no_grad():
        weight = reference.gate.weight
        if tie == "all experts":
            weight.zero_()
        else:
            weight[[1, 3, 6]] = weight[1] + 10.0  # experts 1, 3 and 6 lead, tied, for positive tokens
        ours.gate.weight.copy_(weight)
    x = torch.randn(9, SIZES["hidden_size"]).abs()
    with torch.no_grad():
        probabilities = torch.softmax(reference.gate(x)[0], dim=-1)
    assert (probabilities[:, 3] == probabilities[:, 6]).all()  # exact ties, where the choice is made
    log = ExpertLog(loaded, ours, x)
    monkeypatch.setattr(loaded, "SwiGLU", log)
    with torch.no_grad():
        got = ours(x)
        expected = reference(x[None])[0]
    assert log.pairs() == _chosen(reference, x)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_each_expert_sees_only_its_tokens(loaded, monkeypatch):
    reference, ours = _pair(loaded)
    x = torch.randn(2, 10, SIZES["hidden_size"])
    log = ExpertLog(loaded, ours, x)
    monkeypatch.setattr(loaded, "SwiGLU", log)
    with torch.no_grad():
        ours(x)
    experts = [e for e, _ in log.calls]
    assert len(experts) == len(set(experts)), "an expert ran twice"
    chosen = _chosen(reference, x)
    for expert, rows in log.calls:
        assert rows == sorted(t for t, e in chosen if e == expert)  # its tokens, each once, and no other
    assert sum(len(rows) for _, rows in log.calls) == 20 * SIZES["num_experts_per_tok"]
    assert set(experts) == {e for _, e in chosen}  # an expert no token chose does not run


def test_a_few_steps_lower_the_loss(loaded):
    torch.manual_seed(0)
    model = loaded.MixtralSparseMoeBlock(**SIZES)
    x = torch.randn(64, SIZES["hidden_size"])
    target = torch.tanh(x @ torch.randn(SIZES["hidden_size"], SIZES["hidden_size"]))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(20):
        optimiser.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), target)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]
    assert all(p.grad is not None for p in model.parameters())


# ---- the constructs -------------------------------------------------------------------------------

EXPERT = """
def Scale(X: m, w: m) -> m:
    return X * w
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(ncdc.NcdcError) as error:
        ncdc.check_source(text, "x.ncd")
    return [d.code for d in error.value.diagnostics]


@pytest.mark.parametrize("body, code", [
    ("W, I = topk[E](P, k=5)\n    return W", "E0341"),  # more than the axis holds
    ("W, I = topk[E](P)\n    return W", "E0201"),  # no k
    ("W, I = topk[E](P, n=2)\n    return W", "E0203"),
    ("W, I = topk[t E](P, k=2)\n    return W", "E0311"),
])
def test_topk_errors(body, code):
    assert _errors(f"size E = 4\n\ndef f(P: t E) -> t 5:\n    {body}\n") == [code]


@pytest.mark.parametrize("call, code", [
    ("route[E](Nope, I, X, V)", "E0101"),  # an unknown def
    ("route[E](relu, I, X, V)", "E0340"),  # not a def
    ("route[E](Scale, P, X, V)", "E0340"),  # a float index
    ("route[E](Scale, I, X, P)", "E0340"),  # a wire with the experts' axis, not stacked weights
    ("route[E](Scale, I, V, V)", "E0340"),  # no tokens
    ("route[E](Scale, I, X)", "E0201"),
    ("route[t](Scale, I, X, V)", "E0340"),
])
def test_route_errors(call, code):
    text = EXPERT + f"""
size E = 4

module M(m=3):
    V = Parameter[E m]()

    def forward(X: t m, P: t E) -> t 2 m:
        W, I = topk[E](P, k=2)
        return {call}
"""
    assert _errors(text) == [code]


# Each token's slots scale it by the chosen expert's row of V (also tests/test_compile.py).
ROUTED = EXPERT + """
module M(m=3, E=4):
    V = Parameter[E m]()

    def forward(X: t m, I: int t k) -> t k m:
        return route[E](Scale, I, X, V)
"""


def test_route_rejects_indexes_out_of_range_at_run_time():
    namespace: dict = {}
    exec(ncdc.compile_source(ROUTED, "x.ncd"), namespace)
    model = namespace["M"]()
    x = torch.randn(5, 3)
    out = model(x, torch.tensor([[0, 3]] * 5))
    torch.testing.assert_close(out[:, 1], x * model.V[3])
    with pytest.raises(ValueError, match=r"expert indexes must be in 0\.\.3"):
        model(x, torch.tensor([[0, 4]] * 5))
    with pytest.raises(ValueError, match=r"expert indexes must be in 0\.\.3"):
        model(x, torch.tensor([[-1, 0]] * 5))
    assert model(x[:0], torch.zeros(0, 2, dtype=torch.long)).shape == (0, 2, 3)


def test_compiles_around_the_routing(loaded):
    """`torch.compile` without fullgraph: the routing's loop over the experts chosen breaks the
    graph (as transformers' own loop does), the rest compiles, and the results are the eager ones."""
    _, ours = _pair(loaded)
    x = torch.randn(2, 5, SIZES["hidden_size"])
    torch._dynamo.reset()
    compiled = torch.compile(ours, backend="eager")
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), ours(x), atol=1e-6, rtol=0)
