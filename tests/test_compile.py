"""torch.compile of generated models: Dynamo captures each forward whole (`fullgraph=True`: no graph
break, the run-time checks included), and with `dynamic=True` one graph serves several sequence
lengths.  A backend that counts the graphs and runs them as captured stands in for Inductor, whose
code generation would only add minutes here.

specs/mixtral.ncd is not among them: its routing is data-dependent by design (how many tokens each
expert gets decides the shapes of the expert's inputs, and an expert no token chose is not run),
so Dynamo must break the graph there.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

import ncdc

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


def test_mixtral_compiles_with_breaks_at_its_routing():
    """The routing's token counts are data (`tolist()` of a bincount): Dynamo breaks the graph there and
    compiles the rest; the compiled block still computes what the eager one does."""
    block = ncdc.load(SPECS / "mixtral.ncd").MixtralSparseMoeBlock(hidden_size=16, intermediate_size=24).eval()
    graphs = []

    def backend(graph, example_inputs):
        graphs.append(graph)
        return graph.forward

    torch._dynamo.reset()
    compiled = torch.compile(block, backend=backend)
    x = torch.randn(2, 5, 16)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), block(x), atol=1e-6, rtol=0)
    assert len(graphs) > 1
    # fullgraph=True fails on the routing; in a process of its own, because a failed capture leaves
    # state behind that changes what later eager convolutions allocate (test_cost measures that)
    script = ("import torch, ncdc\n"
              f"block = ncdc.load({str(SPECS / 'mixtral.ncd')!r}).MixtralSparseMoeBlock(hidden_size=16, "
              "intermediate_size=24).eval()\n"
              "torch.compile(block, backend='eager', fullgraph=True)(torch.randn(2, 5, 16))\n")
    failed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert failed.returncode != 0 and "data-dependent" in failed.stderr, failed.stderr[-2000:]
