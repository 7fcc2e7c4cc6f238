"""`ncdc.Tracker` reports the parts inside repetitions, also when their count is a hyperparameter."""

from __future__ import annotations

import io
import re
from pathlib import Path

import torch

import ncdc

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def test_tracker_on_vit_reports_parts_of_a_hyperparameter_repetition():
    """`layers = [EncoderLayer(...) for i in 1..depth]`: the body stands for every index, and each
    built layer (`layers.0`, `layers.1`) and its parts get a line."""
    model = ncdc.load(SPECS / "vit.ncd").ViT().eval()
    out = io.StringIO()
    with ncdc.Tracker(model, SPECS / "vit.ncd", out=out), torch.no_grad():
        model(torch.rand(2, 3, 32, 32))
    lines = out.getvalue().splitlines()
    names = [line.split(" ", 1)[0] for line in lines]
    for i in range(2):  # depth=2
        for part in ("", ".norm1", ".attn", ".attn.Lq", ".attn.Lo", ".norm2", ".up", ".down"):
            assert names.count(f"layers.{i}{part}") == 1, f"layers.{i}{part}"
    assert "layers.0 (EncoderLayer): 2 65 64 -> 2 65 64    spec: t dim -> t dim" in lines
    assert "layers.1.up (Linear): 2 65 64 -> 2 65 128    spec: dim -> hidden" in lines
    assert "layers.0.attn.Lq (Linear): 2 65 64 -> 2 65 64    spec: m -> k h" in lines
    assert names[0] == "embed" and names[-1] == "head"
    # embed; 2 x (layer, norm1, attn, Lq, Lk, Lv, Lo, norm2, up, down); norm; head
    assert len(lines) == 1 + 2 * 10 + 2
    for line in lines:
        assert re.fullmatch(r"[\w.]+ \(\w+\): [\d ,]+ -> [\d ,]+    spec: .+ -> .+", line), line


def test_tracker_repetition_over_hyperparameter_with_more_instances(tmp_path):
    """A count given when the model is built: every instance is reported, nested repetitions too."""
    spec = tmp_path / "tower.ncd"
    spec.write_text(
        "module Block(c):\n"
        "    inner = [Linear[c -> c]() for j in 1..2]\n"
        "    norm = LayerNorm[c]()\n\n"
        "    def forward(X: t c) -> t c:\n"
        "        return norm(inner(X))\n\n"
        "module Tower(c=4, N=3):\n"
        "    blocks = [Block(c) for i in 1..N]\n\n"
        "    def forward(X: t c) -> t c:\n"
        "        return blocks(X)\n", encoding="utf-8")
    model = ncdc.load(spec).Tower(N=4).eval()
    out = io.StringIO()
    with ncdc.Tracker(model, spec, out=out), torch.no_grad():
        model(torch.rand(5, 4))
    names = [line.split(" ", 1)[0] for line in out.getvalue().splitlines()]
    for i in range(4):
        assert names.count(f"blocks.{i}") == 1
        assert names.count(f"blocks.{i}.norm") == 1
        assert names.count(f"blocks.{i}.inner.0") == 1 and names.count(f"blocks.{i}.inner.1") == 1
