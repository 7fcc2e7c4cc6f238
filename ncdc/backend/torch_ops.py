"""The PyTorch back end's table of operations: how each operation of the registry is spelt in torch.

Maps, normalisers and reductions are spelt by name; each learned layer has one constructor, which
writes the options that differ from their defaults (the defaults are the registry's).
"""

from __future__ import annotations

import json
from typing import Callable

from ..ir import HParamRef
from ..names import python_name
from ..ops import layers as L
from ..sizes import Size, product

# Elementwise maps: name -> torch function (or a call with `{}` for the argument), and the function
# for a number where it has one.
MAPS = {
    "relu": "torch.relu",
    "gelu": "nn.functional.gelu",
    "gelu_tanh": 'nn.functional.gelu({}, approximate="tanh")',  # GPT-2's "gelu_new"
    "silu": "nn.functional.silu",
    "sigmoid": "torch.sigmoid",
    "tanh": "torch.tanh",
    "exp": "torch.exp",
    "log": "torch.log",
    "sqrt": "torch.sqrt",
    "abs": "torch.abs",
    "sin": "torch.sin",
    "cos": "torch.cos",
}
ON_NUMBERS = {
    "sqrt": "math.sqrt",
    "exp": "math.exp",
    "log": "math.log",
    "abs": "abs",
    "sin": "math.sin",
    "cos": "math.cos",
    "tanh": "math.tanh",
}
NORMALISERS = {"softmax": "torch.softmax", "log_softmax": "torch.log_softmax"}
# Comparisons are Python's operators on tensors.
COMPARISONS = {op: op for op in ("<", "<=", ">", ">=", "==", "!=")}
REDUCTIONS = {"sum": "sum", "mean": "mean", "max": "amax", "min": "amin", "prod": "prod", "logsumexp": "logsumexp"}


# ---- learned layers: constructors ----------------------------------------------------------------
# Each takes the layer's attrs and `size`, which spells a size in the constructor's scope.


def value_code(value, size: Callable[[Size], str]) -> str:
    """An option's or hyperparameter's value in Python: a size, a number, a bool, a string, or the
    enclosing module's hyperparameter of that name (a local of `__init__`)."""
    if isinstance(value, HParamRef):
        return python_name(value.name)
    if isinstance(value, Size):
        return size(value)
    if isinstance(value, str):
        return string_code(value)
    return repr(value)


def string_code(text: str) -> str:
    """A Python string literal of `text` (which the grammar keeps free of quotes and backslashes)."""
    return json.dumps(text, ensure_ascii=False)


def _options(attrs, size: Callable[[Size], str], order=None) -> list[str]:
    """`key=value` for every option that differs from its default (sizes and numbers alike)."""
    changed = dict(L.non_defaults(attrs))
    out = []
    for key in order or list(changed):
        if key not in changed:
            continue
        out.append(f"{key}={value_code(changed[key], size)}")
    return out


def linear(a: L.LinearAttrs, size) -> str:
    args = [size(product(a.inputs.sizes)), size(product(a.outputs.sizes))]
    args += [option for option in _options(a, size) if not option.startswith("transposed=")]
    return f"{'_TransposedLinear' if a.transposed else 'nn.Linear'}({', '.join(args)})"


def conv(name: str):
    order = ("stride", "padding", "output_padding", "groups", "dilation", "bias")

    def construct(a, size) -> str:
        options = [size(a.channels_in), size(a.channels_out), size(a.kernel)]
        return f"nn.{name}({', '.join(options + _options(a, size, order))})"
    return construct


def pool(name: str):
    def construct(a: L.PoolAttrs, size) -> str:
        options = [size(a.kernel)]
        if a.stride != a.kernel:
            options.append(f"stride={size(a.stride)}")
        if a.padding != Size.of(0):
            options.append(f"padding={size(a.padding)}")
        return f"nn.{name}({', '.join(options)})"
    return construct


def adaptive_pool(name: str):
    return lambda a, size: f"nn.{name}({size(a.output)})"


def batchnorm(name: str):
    return lambda a, size: f"nn.{name}({', '.join([size(a.channels)] + _options(a, size))})"


def _shape(t, size) -> str:
    sizes = [size(s) for s in t.sizes]
    return sizes[0] if len(sizes) == 1 else f"({', '.join(sizes)})"


def layernorm(a: L.LayerNormAttrs, size) -> str:
    return f"nn.LayerNorm({', '.join([_shape(a.axes, size)] + _options(a, size))})"


def rmsnorm(a: L.RMSNormAttrs, size) -> str:
    return f"nn.RMSNorm({', '.join([_shape(a.axes, size)] + _options(a, size))})"


def groupnorm(a: L.GroupNormAttrs, size) -> str:
    return f"nn.GroupNorm({', '.join([size(a.groups), size(a.channels)] + _options(a, size, ('eps',)))})"


def dropout(a: L.DropoutAttrs, size) -> str:
    return f"nn.Dropout({value_code(a.p, size)})"


def embedding(a: L.EmbeddingAttrs, size) -> str:
    return f"nn.Embedding({size(a.count)}, {size(a.dim)})"


def parameter(a: L.ParameterAttrs, size) -> str:
    shape = ", ".join(size(s) for s in a.type.sizes)
    scale = "" if a.std == 1.0 else f" * {a.std!r}"
    return f"nn.Parameter(torch.randn({shape}){scale})"


def _constructors() -> dict[str, Callable]:
    table: dict[str, Callable] = {"Linear": linear, "LayerNorm": layernorm, "RMSNorm": rmsnorm, "GroupNorm": groupnorm,
                                  "Dropout": dropout, "Embedding": embedding, "Parameter": parameter}
    for d in (1, 2, 3):
        table |= {f"Conv{d}d": conv(f"Conv{d}d"), f"ConvTranspose{d}d": conv(f"ConvTranspose{d}d"),
                  f"MaxPool{d}d": pool(f"MaxPool{d}d"), f"AvgPool{d}d": pool(f"AvgPool{d}d"),
                  f"AdaptiveAvgPool{d}d": adaptive_pool(f"AdaptiveAvgPool{d}d"),
                  f"BatchNorm{d}d": batchnorm(f"BatchNorm{d}d")}
    return table


CONSTRUCTORS = _constructors()


def lowers(op) -> bool:
    """Whether this back end has a spelling for an operation of the registry (for the registry test)."""
    from .torch import LOWERINGS

    if isinstance(op, L.LayerOp):
        return op.name in CONSTRUCTORS
    table = {"map": MAPS, "normalise": NORMALISERS, "reduce": REDUCTIONS, "compare": COMPARISONS}.get(op.family)
    if table is not None:
        return op.name in table and (op.on_numbers is None or op.name in ON_NUMBERS) \
            and op.node in LOWERINGS and (op.on_numbers is None or op.on_numbers in LOWERINGS)
    return op.node in LOWERINGS
