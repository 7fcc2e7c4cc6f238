"""Hand-written plain-torch references for the benchmarks: what a careful engineer writes by hand.

Multi-head attention packs the heads outer, `(h k)`, so that the projections come out ready for
`scaled_dot_product_attention`: Linear -> view -> transpose -> SDPA -> transpose -> reshape ->
Linear, with no other copy.  The specs pack them `(k h)` (the notebook's order), so the weights of
a generated model are copied in with their head rows (and `Lo`'s columns) reordered: both then
compute the same function, which the benchmarks check before timing.

The parts carry the spec's names (`Lq`, ..., `norm1`, `up`, ...), so that `load_from` can copy a
generated model's state_dict entry by entry.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def heads_outer(k: int, h: int) -> Tensor:
    """Index of each `(h k)` position in the `(k h)` order."""
    return torch.arange(k * h).view(k, h).t().reshape(-1)


class MultiHeadAttention(nn.Module):
    """y m, x m -> y m; heads packed (h k)."""

    def __init__(self, m: int, k: int, h: int) -> None:
        super().__init__()
        self.k, self.h = k, h
        self.Lq = nn.Linear(m, h * k, bias=False)
        self.Lk = nn.Linear(m, h * k, bias=False)
        self.Lv = nn.Linear(m, h * k, bias=False)
        self.Lo = nn.Linear(h * k, m, bias=False)

    def forward(self, e: Tensor, x: Tensor) -> Tensor:
        b, y, _ = e.shape
        s = x.shape[1]
        q = self.Lq(e).view(b, y, self.h, self.k).transpose(1, 2)
        k = self.Lk(x).view(b, s, self.h, self.k).transpose(1, 2)
        v = self.Lv(x).view(b, s, self.h, self.k).transpose(1, 2)
        o = F.scaled_dot_product_attention(q, k, v)
        return self.Lo(o.transpose(1, 2).reshape(b, y, self.h * self.k))


class EncoderLayer(nn.Module):
    """t dim -> t dim: pre-norm attention and MLP, each in a residual."""

    def __init__(self, dim: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, dim // heads, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.up = nn.Linear(dim, hidden)
        self.down = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        z = self.norm1(x)
        x = x + self.attn(z, z)
        return x + self.down(F.gelu(self.up(self.norm2(x))))


class ViT(nn.Module):
    """channels image image -> classes, with the defaults of specs/vit.ncd."""

    def __init__(self, image: int = 32, patch: int = 4, channels: int = 3, classes: int = 10, dim: int = 64,
                 depth: int = 2, heads: int = 4, hidden: int = 128) -> None:
        super().__init__()
        n = (image // patch) ** 2
        self.cls = nn.Parameter(torch.randn(1, dim) * 0.02)
        self.pos = nn.Parameter(torch.randn(n + 1, dim) * 0.02)
        self.embed = nn.Conv2d(channels, dim, patch, stride=patch)
        self.layers = nn.ModuleList(EncoderLayer(dim, heads, hidden) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, img: Tensor) -> Tensor:
        p = self.embed(img).flatten(2).transpose(1, 2)  # N n dim
        x = torch.cat((self.cls.expand(p.shape[0], 1, -1), p), 1) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm(x)[:, 0])


def load_from(reference: nn.Module, generated: nn.Module) -> None:
    """Copy a generated model's parameters into `reference`, reordering the attention heads of every
    MultiHeadAttention from the spec's (k h) to (h k)."""
    state = dict(generated.state_dict())
    for name, module in reference.named_modules():
        if isinstance(module, MultiHeadAttention):
            perm = heads_outer(module.k, module.h)
            prefix = f"{name}." if name else ""
            for part in ("Lq", "Lk", "Lv"):
                state[f"{prefix}{part}.weight"] = state[f"{prefix}{part}.weight"][perm]
            state[f"{prefix}Lo.weight"] = state[f"{prefix}Lo.weight"][:, perm]
    reference.load_state_dict(state)
