"""Costs that a publication states, beside what `ncdc cost` says of the same model (for docs/cost.md).

    python docs/published.py        # the Markdown table that `@@published` pastes into docs/cost.md

Only figures with a source are listed.  Counters that report "FLOPs" for vision models (torchvision's
`GFLOPS`, the DeiT and ViT tables) count a multiply-add once; ncdc counts it as 2, so the comparison
is with ncdc's multiply-adds: half its contraction, convolution and attention FLOPs.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ncdc.backend.cost import attention_transfers, cost, evaluate, matmul_transfers  # noqa: E402


@dataclass(frozen=True)
class Published:
    model: str
    what: str
    value: str
    source: str


VIT_B_16 = dict(image=224, patch=16, channels=3, classes=1000, dim=768, depth=12, heads=12, hidden=3072)
VIT_SOURCE = ("torchvision `vit_b_16`, `ViT_B_16_Weights.IMAGENET1K_V1` "
              "(https://pytorch.org/vision/stable/models/generated/torchvision.models.vit_b_16.html)")


def _vit_rows() -> list[tuple[Published, str, str]]:
    d = cost(ROOT / "specs" / "vit.ncd", "ViT", sizes=VIT_B_16, batch=1).definition("ViT")
    params = evaluate(d.row.params, d.env)
    macs = sum(evaluate(d.row.flops[h], d.env) for h in ("contraction", "convolution", "attention")) // 2
    layers, dim = VIT_B_16["depth"], VIT_B_16["dim"]
    return [
        (Published("ViT-B/16, 224 x 224", "parameters", "86,567,656", VIT_SOURCE), f"{params:,}",
         (f"{86567656 - params:,} fewer = {layers} layers x 4 x {dim}: torchvision's attention projections have "
         f"biases, `specs/vit.ncd`'s do not")),
        (Published("ViT-B/16, 224 x 224", "GFLOPS (multiply-adds)", "17.56", VIT_SOURCE), f"{macs / 1e9:.2f}",
         (f"ncdc's forward FLOPs are {evaluate(d.row.flops_forward, d.env) / 1e9:.2f} G: 2 a multiply-add, "
         f"and the elementwise and normalisation work besides")),
    ]


FAN = "Abbott & Zardini, FlashAttention on a Napkin (TMLR 2025)"


def _fan_rows() -> list[tuple[Published, str, str]]:
    """The transfer model's closed forms, against what `ncdc cost --fast-memory` reports."""
    M = 65536
    q, x, d = 1024, 1024, 64
    r = cost(ROOT / "specs" / "attention.ncd", "ScaledDotProductAttention", sizes={"y": q, "x": x, "k": d},
             fast_memory=M, batch=1).json()["definitions"][0]["transfers"]["tiled"]["value"]
    a, b, c = 1024, 784, 512
    mlp = cost(ROOT / "specs" / "mlp.ncd", sizes={"hidden": c}, batch=a, fast_memory=M).json()["definitions"][0]
    first = mlp["children"][0]["transfers"]["tiled"]["value"]
    return [
        (Published(f"attention, q = x = {q}, d = {d}, M = {M}", "transfers 2qd + 4qxd²/M",
                   f"{attention_transfers(q, x, d, M):,.0f}", FAN), f"{r:,.0f}", "the bound FlashAttention meets"),
        (Published(f"matmul {a} x {b} x {c} (the MLP's first Linear), M = {M}", "transfers 2abc/√M + ac",
                   f"{matmul_transfers(a, b, c, M):,.0f}", FAN), f"{first:,.0f}",
         f"square tiles of side √M = {math.isqrt(M)}"),
    ]


def machines_table() -> str:
    """The shipped machines (ncdc/backend/cost/machines.toml), each with its source."""
    from ncdc.backend.cost import machines

    lines = ["| `--machine` | machine | peak FLOP/s by dtype | bandwidth (bytes/s) | source |", "|---|---|---|---|---|"]
    for key, m in machines().items():
        peaks = ", ".join(f"{d} {v:.4g}" for d, v in m.peak.items())
        source = f"{m.source}: \"{m.quote}\"" + (f"; derived: {m.derived}" if m.derived else "")
        lines.append(f"| `{key}` | {m.name} | {peaks} | {m.bandwidth:.4g} | {source} |")
    return "\n".join(lines)


def table(which: str = "") -> str:
    if which == "machines":
        return machines_table()
    rows = _vit_rows() + _fan_rows()
    lines = ["| model | cost | published | ncdc | note | source |", "|---|---|---|---|---|---|"]
    for p, ours, note in rows:
        lines.append(f"| {p.model} | {p.what} | {p.value} | {ours} | {note} | {p.source} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(*sys.argv[1:2]))
