"""Multi-head attention, forward + backward: ncdc's generated module vs torch and the notebook."""

from __future__ import annotations

import sys

from harness import ROOT, Config, Row, benchmark, interleave

SIZES = (8, 256, 256, 32, 8)  # (B, S, m, k, h): batch, sequence length (y = x = S), width, head width, heads
QUICK = (2, 16, 32, 8, 4)  # smoke mode: that it runs, not its numbers


@benchmark("mha", "Multi-head attention forward+backward, B={} S={} m={} k={} h={}, float32, CPU".format(*SIZES))
def bench_mha(cfg: Config) -> list[Row]:
    import torch
    from torch import nn

    import ncdc

    sys.path.insert(0, str(ROOT / "tests" / "reference"))
    import notebook

    torch.manual_seed(0)
    B, S, M, K, H = QUICK if cfg.quick else SIZES  # k * h == m, as torch requires
    generated = ncdc.load(ROOT / "specs" / "attention.ncd").MultiHeadAttention(M, K, H)
    reference = notebook.MultiHeadAttention(M, K, H)
    torch_mha = nn.MultiheadAttention(M, H, bias=False, batch_first=True)

    # The same weights everywhere, so that all three compute the same function (checked below).
    # torch packs heads as (h k), the spec and the notebook as (k h).
    reference.load_state_dict(generated.state_dict())
    perm = torch.arange(K * H).view(K, H).t().reshape(-1)  # (h k) position -> (k h) index
    with torch.no_grad():
        torch_mha.in_proj_weight.copy_(
            torch.cat([generated.Lq.weight[perm], generated.Lk.weight[perm], generated.Lv.weight[perm]], 0))
        torch_mha.out_proj.weight.copy_(generated.Lo.weight[:, perm])

    x = torch.randn(B, S, M)
    with torch.no_grad():
        want = torch_mha(x, x, x, need_weights=False)[0]
        for name, got in (("generated", generated(x, x)), ("notebook", reference(x, x))):
            if not torch.allclose(got, want, rtol=1e-4, atol=1e-4):
                raise AssertionError(f"{name} MHA disagrees with torch: max |diff| {(got - want).abs().max():.3g}")

    def step(model, call):
        def run():
            call().sum().backward()
            model.zero_grad(set_to_none=True)

        return run

    candidates = {
        "torch": step(torch_mha, lambda: torch_mha(x, x, x, need_weights=False)[0]),
        "torch_weights": step(torch_mha, lambda: torch_mha(x, x, x)[0]),
        "notebook": step(reference, lambda: reference(x, x)),
        "generated": step(generated, lambda: generated(x, x)),
    }
    s = interleave(candidates, cfg.reps(60, 2), warmup=cfg.reps(5, 0))
    return [
        s.row("torch", "torch", label="torch.nn.MultiheadAttention, need_weights=False"),
        s.row("torch_weights", "torch", label="torch.nn.MultiheadAttention, need_weights=True (default)"),
        s.row("notebook", "torch", label="notebook einops MHA", note="(issue: ~1.9 vs torch)"),
        s.row("generated", "torch", label="ncdc generated MHA", target=1.0),
        s.row("generated", "notebook", label="ncdc generated MHA / notebook"),
    ]


# (B, S, m, h): the model width m = k h; from large batches of short sequences to one long one.
HAND_SIZES = ((8, 256, 256, 8), (4, 512, 512, 16), (32, 64, 128, 4), (1, 1024, 256, 4), (64, 16, 64, 4))
QUICK_SIZES = ((2, 16, 32, 4), (8, 8, 16, 2))  # smoke mode: that it runs, not its numbers


@benchmark("mha_hand", "Multi-head attention, generated vs hand-written (h k) plain torch (benchmarks/handwritten.py),"
           " at (B, S, m, h) = " + ", ".join(map(str, HAND_SIZES)) + ", float32, CPU")
def bench_mha_hand(cfg: Config) -> list[Row]:
    import torch

    import handwritten
    import ncdc
    from compare import compare_models

    spec = ncdc.load(ROOT / "specs" / "attention.ncd")
    outer = _heads_outer_spec()
    rows: list[Row] = []
    for b, s, m, h in cfg.pick(QUICK_SIZES if cfg.quick else HAND_SIZES):
        torch.manual_seed(0)
        generated = spec.MultiHeadAttention(m, m // h, h)
        reference = handwritten.MultiHeadAttention(m, m // h, h)
        handwritten.load_from(reference, generated)
        x = torch.randn(b, s, m)
        rows += compare_models(cfg, f"MHA B={b} S={s} m={m} h={h}", reference, generated, (x, x),
                               rounds=cfg.reps(25, 2), warmup=cfg.reps(3, 0))
        packed = outer.MultiHeadAttention(m, m // h, h)
        packed.load_state_dict(reference.state_dict())  # the hand-written model's weights, as they are
        rows += compare_models(cfg, f"MHA B={b} S={s} m={m} h={h}, spec packed (h k)", reference, packed, (x, x),
                               rounds=cfg.reps(25, 2), warmup=cfg.reps(3, 0))
    return rows


def _heads_outer_spec():
    """specs/attention.ncd with its heads packed `(h k)`, as the hand-written model packs them: its
    generated code permutes no weight.  Beside the spec's own `(k h)` rows, it tells the cost of
    that layout apart from the rest of the generated code."""
    import tempfile
    from pathlib import Path

    import ncdc

    text = (ROOT / "specs" / "attention.ncd").read_text()
    for old, new in (("Linear[m -> k h]", "Linear[m -> h k]"), ("Linear[k h -> m]", "Linear[h k -> m]"),
                     ("return Lo(O)", "return Lo(rearrange[y h k](O))")):
        assert old in text, f"specs/attention.ncd no longer declares `{old}`"
        text = text.replace(old, new)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "attention_heads_outer.ncd"
        path.write_text(text)
        return ncdc.load(path)
