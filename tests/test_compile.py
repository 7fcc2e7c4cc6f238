"""torch.compile of generated models: Dynamo captures each forward whole (`fullgraph=True`: no graph
break, the run-time checks included), and with `dynamic=True` one graph serves several sequence
lengths.  A backend that counts the graphs and runs them as captured stands in for Inductor, whose
code generation would only add minutes here.

specs/mixtral.ncd too: how many tokens each expert gets is data, read by one `tolist()`, which
Dynamo keeps in the graph as unbacked sizes under `fullgraph=True` (or, without it, with
`torch._dynamo.config.capture_scalar_outputs = True`; set here only inside
`torch._dynamo.config.patch`).  Hugging Face's own block does not compile with fullgraph=True.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

import ncdc
from test_mixtral import ROUTED

SPECS = Path(__file__).resolve().parent.parent / "specs"
LENGTHS = (5, 7, 9)


def _graphs(model, inputs_for) -> int:
    """How many graphs Dynamo compiles for `model` over the sequence lengths, each run checked
    against the model run eagerly."""
    graphs = []

    def backend(graph, example_inputs):
        graphs.append(graph)
        return graph.forward

    torch._dynamo.reset()
    compiled = torch.compile(model, backend=backend, fullgraph=True, dynamic=True)
    with torch.no_grad():
        for t in LENGTHS:
            args = inputs_for(t)
            torch.testing.assert_close(compiled(*args), model(*args), atol=1e-6, rtol=0)
    return len(graphs)


def test_gpt2_model_is_one_graph_for_every_length():
    model = ncdc.load(SPECS / "gpt2.ncd").GPT2Model(vocab_size=40, n_positions=16, n_embd=32, n_layer=2, n_head=4,
                                                    n_inner=64).eval()

    def inputs(t):
        mask = torch.arange(t) < t - 2  # padded at the end
        return torch.randint(0, 40, (2, t)), mask.expand(2, t)

    assert _graphs(model, inputs) == 1


def test_token_ids_are_still_checked_in_the_graph():
    model = ncdc.load(SPECS / "gpt2.ncd").GPT2Model(vocab_size=40, n_positions=16, n_embd=32, n_layer=1, n_head=4,
                                                    n_inner=64).eval()
    torch._dynamo.reset()
    compiled = torch.compile(model, backend="eager", fullgraph=True)
    with pytest.raises(RuntimeError, match=r"`wte`: token ids must be in 0\.\.39"):
        compiled(torch.full((1, 4), 40), torch.ones(1, 4, dtype=torch.bool))


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_is_one_graph_for_every_length(norm_first):
    layer = ncdc.load(SPECS / "transformer.ncd").TransformerEncoderLayer(
        d_model=16, nhead=2, dim_feedforward=32, norm_first=norm_first).eval()
    assert _graphs(layer, lambda t: (torch.randn(2, t, 16), torch.zeros(t, t),
                                  torch.zeros(2, t, dtype=torch.bool))) == 1


def _mixtral(**sizes):
    return ncdc.load(SPECS / "mixtral.ncd").MixtralSparseMoeBlock(hidden_size=16, intermediate_size=24, **sizes)


@pytest.mark.parametrize("shape", ["batch", "no-batch"])
def test_mixtral_is_one_graph_for_every_length(shape):
    """The routing's counts per expert become unbacked sizes: one graph, whatever the length and
    however the tokens spread over the experts, each run equal to the eager block; no flag needed."""
    block = _mixtral().eval()
    assert not torch._dynamo.config.capture_scalar_outputs
    assert _graphs(block, lambda t: (torch.randn(2, t, 16) if shape == "batch" else torch.randn(t, 16),)) == 1


def test_mixtral_trains_as_one_graph():
    """fullgraph through AOTAutograd (forward and backward traced): gradients equal the eager ones,
    an expert that no token chose included (k = 1 of 8 experts, 3 tokens)."""
    block = _mixtral(num_experts_per_tok=1)
    torch._dynamo.reset()
    compiled = torch.compile(block, backend="aot_eager", fullgraph=True, dynamic=True)
    for t in (3, 6):
        x = torch.randn(t, 16)
        got = torch.autograd.grad(compiled(x).square().sum(), [*block.parameters()])
        want = torch.autograd.grad(block(x).square().sum(), [*block.parameters()])
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w, atol=1e-5, rtol=0)
    assert (got[-1] == 0).all(dim=(-2, -1)).any()  # some expert saw no token: its gradient is zero


def test_mixtral_expert_indexes_are_still_checked_in_the_graph():
    namespace: dict = {}
    exec(ncdc.compile_source(ROUTED, "x.ncd"), namespace)
    model = namespace["M"]()
    torch._dynamo.reset()
    compiled = torch.compile(model, backend="eager", fullgraph=True)
    x = torch.randn(5, 3)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x, torch.tensor([[0, 3]] * 5)), model(x, torch.tensor([[0, 3]] * 5)))
    with pytest.raises(RuntimeError, match=r"route: expert indexes must be in 0\.\.3"):
        compiled(x, torch.tensor([[0, 4]] * 5))


def _count_graphs(block, x, **options) -> int:
    graphs = []

    def backend(graph, example_inputs):
        graphs.append(graph)
        return graph.forward

    torch._dynamo.reset()
    compiled = torch.compile(block, backend=backend, **options)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), block(x), atol=1e-6, rtol=0)
    return len(graphs)


def test_mixtral_without_fullgraph_is_one_graph_with_the_flag():
    """Without fullgraph, Dynamo keeps the counts' `tolist()` in the graph only under
    capture_scalar_outputs; without the flag it breaks the graph there and compiles the rest, and
    the compiled block still computes what the eager one does."""
    block, x = _mixtral().eval(), torch.randn(2, 5, 16)
    with torch._dynamo.config.patch(capture_scalar_outputs=True):
        assert _count_graphs(block, x) == 1
    assert _count_graphs(block, x) > 1


def test_a_permuted_weight_is_made_again_in_backward_under_compile_too():
    """Where the layout plan permutes a weight (the (k h) heads of attention.ncd), autograd would keep
    the permuted copy for backward; compiled, AOTAutograd's partitioner would too, unless the
    permutation is checkpointed.  No weight-shaped tensor is saved, and the gradients are eager's."""
    model = ncdc.load(SPECS / "attention.ncd").MultiHeadAttention(m=8, k=2, h=4)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    E, X = torch.randn(3, 5, 8, requires_grad=True), torch.randn(3, 6, 8, requires_grad=True)
    torch._dynamo.reset()
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    shapes = []

    def pack(tensor):
        if tensor.untyped_storage().data_ptr() not in params:
            shapes.append(tuple(tensor.shape))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = compiled(E, X)
    assert shapes and (8, 8) not in shapes, shapes
    grads = torch.autograd.grad(out.sum(), [E, X, *model.parameters()])
    want = torch.autograd.grad(model(E, X).sum(), [E, X, *model.parameters()])
    for got, expected in zip(grads, want):
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
