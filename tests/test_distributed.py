"""The generated GPT-2 model trains under DistributedDataParallel: two processes on loopback (gloo),
each with half of the global batch, end with equal weights, and with the weights of one process
that trains on the whole batch.  CI runs it as any other test (marked `distributed` to select it).
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import ncdc

SPEC = Path(__file__).resolve().parent.parent / "specs" / "gpt2.ncd"
SIZES = dict(vocab_size=24, n_positions=8, n_embd=16, n_layer=2, n_head=2, n_inner=32, embd_pdrop=0.0,
             resid_pdrop=0.0, attn_pdrop=0.0)
STEPS, WORLD, BATCH, T = 3, 2, 4, 6

pytestmark = [pytest.mark.distributed,
              pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()), reason="no gloo")]


def _batch() -> torch.Tensor:
    return torch.randint(0, SIZES["vocab_size"], (BATCH, T), generator=torch.Generator().manual_seed(1))


def _train(model, ids: torch.Tensor) -> None:
    """A few SGD steps of next-token prediction through the tied embedding, the loss a mean over
    the batch (so that DDP's mean of the replicas' gradients is the gradient of the whole batch)."""
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    wte = model.module.wte if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model.wte
    mask = torch.ones(ids.shape, dtype=torch.bool)
    for _ in range(STEPS):
        optimiser.zero_grad()
        logits = model(ids, mask) @ wte.weight.T
        torch.nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), ids[:, 1:].flatten()).backward()
        optimiser.step()


def _model():
    torch.manual_seed(0)
    return ncdc.load(SPEC).GPT2Model(**SIZES)


def _replica(rank: int, port: int, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        torch.set_num_threads(1)
        model = torch.nn.parallel.DistributedDataParallel(_model())
        _train(model, _batch().chunk(WORLD)[rank])
        torch.save(model.module.state_dict(), f"{out}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_replicas_agree_with_one_process(tmp_path):
    mp.spawn(_replica, args=(_free_port(), str(tmp_path)), nprocs=WORLD, join=True)
    replicas = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]
    single = _model()
    start = {k: v.clone() for k, v in single.state_dict().items()}
    _train(single, _batch())
    for name, weight in single.state_dict().items():
        assert torch.equal(replicas[0][name], replicas[1][name]), name
        torch.testing.assert_close(replicas[0][name], weight, atol=1e-5, rtol=1e-5, msg=name)
    assert any(not torch.equal(start[k], v) for k, v in replicas[0].items())  # it did train
