"""Generated model vs hand-written model: the same function (checked), then timed side by side.

`compare_models` checks that the two give the same outputs on the same inputs, then times, in the
same interleaved rounds, one training step of each (forward, `out.sum()`, backward, zero the
gradients) and one forward under `torch.inference_mode`, and counts the bytes each saves for
backward.  With `--compile` both candidates are `torch.compile`d first (compiled vs compiled).
"""

from __future__ import annotations

from typing import Callable

from harness import Config, Row, format_time, interleave


def saved_bytes(forward: Callable[[], object], model=None) -> int:
    """Bytes autograd keeps for backward during `forward()`, counting each storage once (views of one
    tensor, and tensors saved by several operations, share a storage), the parameters and buffers of
    `model` left out (they exist anyway; a copy made of one, a permuted weight, counts)."""
    import torch

    storages: dict[int, int] = {}
    state = set() if model is None else \
        {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in state:
            storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = forward()
    del out
    return sum(storages.values())


def check_same(label: str, reference, generated, inputs: tuple, atol: float) -> None:
    import torch

    with torch.no_grad():
        want, got = reference(*inputs), generated(*inputs)
    if got.shape != want.shape or not torch.allclose(got, want, rtol=1e-4, atol=atol):
        diff = (got - want).abs().max().item() if got.shape == want.shape else f"shapes {tuple(got.shape)}"
        raise AssertionError(f"{label}: generated and hand-written disagree: max |diff| {diff}")


def compare_models(cfg: Config, label: str, reference, generated, inputs: tuple, *, rounds: int, warmup: int,
                   atol: float = 1e-4, note: str = "", ref_label: str = "hand-written") -> list[Row]:
    """Rows: the generated model's time ratios against `reference` (training step, forward only) and
    its saved-for-backward bytes against the reference's; both models already hold the same weights."""
    import torch

    check_same(label, reference, generated, inputs, atol)
    ref_call, gen_call = reference, generated
    if cfg.compile:
        # Compiled afresh for each case: dynamo keeps its graphs per code object, so the cases before
        # would make it compile for dynamic sizes, and from the ninth graph on run eager code.
        torch._dynamo.reset()
        ref_call, gen_call = torch.compile(reference), torch.compile(generated)

    def step(model, call):
        def run():
            call(*inputs).sum().backward()
            model.zero_grad(set_to_none=True)
        return run

    def forward(call):
        def run():
            with torch.inference_mode():
                call(*inputs)
        return run

    s = interleave({"ref": step(reference, ref_call), "gen": step(generated, gen_call),
                    "ref_fwd": forward(ref_call), "gen_fwd": forward(gen_call)},
                   rounds, warmup=max(warmup, 1) if cfg.compile else warmup)
    ref_bytes = saved_bytes(lambda: ref_call(*inputs), reference)
    gen_bytes = saved_bytes(lambda: gen_call(*inputs), generated)
    saved = Row(f"{label} saved for backward", value=f"{gen_bytes / 2**20:.2f} MiB", ratio=gen_bytes / ref_bytes,
                ref=f"{ref_bytes / 2**20:.2f} MiB", target="<= 1.00", ok=gen_bytes <= ref_bytes)
    return [
        s.row("gen", "ref", label=f"{label} fwd+bwd", ref_label=ref_label, target=1.0,
              note=f"{ref_label} {format_time(s.median('ref'))}{'; ' + note if note else ''}"),
        s.row("gen_fwd", "ref_fwd", label=f"{label} fwd", ref_label=ref_label, target=1.0,
              note=f"{ref_label} {format_time(s.median('ref_fwd'))}"),
        saved,
    ]
