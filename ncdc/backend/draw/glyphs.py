"""The drawing back end's table of operations: how each operation of the registry is drawn.

Like `torch_ops` and the cost rules, it is keyed by the operation's name, and tests/test_registry.py
walks the registry and requires an entry here for every operation.  A glyph is (shape, text): the
shape is one of SHAPES, the text what it shows (the paper's `R` for ReLU, `SoftMax`, ...).
"""

from __future__ import annotations

from ...ops import layers as L

SHAPES = {
    "arrow": "a small arrow-box on the wires: an elementwise map, broadcast over every wire",
    "triangle": "a triangle on the axis it normalises (SoftMax)",
    "reduce": "the reduced wires end in the reduction's symbol",
    "cups": "wires joined: cups for contractions, dots for diagonals, crossings for transposes",
    "bar": "a thick bar joining wires: binding, unbinding, concatenation",
    "unit": "the unit η, a source of two equal wires",
    "linear": "a bold L (L+ with a bias), named by its part",
    "conv": "the ★ pictogram: stride on its edge, a kernel wire into a bold L",
    "pool": "the ★ pictogram with its kernel wire reduced (Max, 𝔼)",
    "norm": "a circle over the axes it normalises (bold: learned)",
    "dropout": "a dashed arrow-box",
    "parameter": "a bold box: a learned tensor, a source",
    "merge": "the operands' wires meet at dots under the operation's sign (`+`, `<`, ...)",
    "box": "a plain box named by the operation, its wires entering and leaving it",
}

MAPS = {"relu": "R", "gelu": "GELU", "silu": "SiLU", "sigmoid": "σ", "tanh": "tanh", "exp": "exp",
        "log": "log", "sqrt": "√", "abs": "|·|", "sin": "sin", "cos": "cos"}
NORMALISERS = {"softmax": "SoftMax", "log_softmax": "LogSoftMax"}
REDUCTIONS = {"sum": "Σ", "mean": "E", "max": "Max", "min": "Min", "prod": "Π", "logsumexp": "LSE"}
COMPARISONS = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "=", "!=": "≠"}
STRUCTURAL = {"einsum": "cups", "rearrange": "cups", "flatten": "bar", "concat": "bar", "eye": "unit",
              "tril": "unit", "arange": "unit", "where": "box", "topk": "box", "route": "box"}


def _layers() -> dict[str, tuple[str, str]]:
    table = {"Linear": ("linear", "L"), "LayerNorm": ("norm", "LayerNorm"), "RMSNorm": ("norm", "RMSNorm"),
             "GroupNorm": ("norm", "GroupNorm"), "Dropout": ("dropout", "Dropout"),
             "Parameter": ("parameter", ""), "Embedding": ("parameter", "Embedding")}
    for d in (1, 2, 3):
        table[f"Conv{d}d"] = ("conv", "★")
        table[f"ConvTranspose{d}d"] = ("conv", "★T")
        table[f"MaxPool{d}d"] = ("pool", "Max")
        table[f"AvgPool{d}d"] = ("pool", "E")
        table[f"AdaptiveAvgPool{d}d"] = ("pool", "E")
        table[f"BatchNorm{d}d"] = ("norm", "BatchNorm")
    return table


LAYERS = _layers()
TABLES = {"map": {k: ("arrow", v) for k, v in MAPS.items()},
          "normalise": {k: ("triangle", v) for k, v in NORMALISERS.items()},
          "reduce": {k: ("reduce", v) for k, v in REDUCTIONS.items()},
          "compare": {k: ("merge", v) for k, v in COMPARISONS.items()},
          "structural": {k: (v, k) for k, v in STRUCTURAL.items()}}


def glyph(op) -> tuple[str, str] | None:
    """How an operation of the registry (or a learned layer) is drawn, if this back end knows it."""
    if isinstance(op, L.LayerOp):
        return LAYERS.get(op.name)
    return TABLES.get(op.family, {}).get(op.name)


def covers(op) -> bool:
    return glyph(op) is not None
