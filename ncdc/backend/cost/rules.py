"""The cost back end's table of operations: one cost rule per operation of the registry.

Like the PyTorch back end's `torch_ops`, this table is keyed by the operation's name, and a test
(tests/test_registry.py) walks the registry and requires an entry for every operation.

FLOPs count a multiply-add as 2.  Each rule gives the forward FLOPs by heading (`CATEGORIES`), the
parameters of a learned layer, and what autograd keeps for the backward pass (the operation's
input, its result, or extra tensors such as a norm's statistics), as PyTorch's own derivative
formulas do.  Sizes are symbolic (`ncdc.sizes.Size`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ...ir import TensorType
from ...ops import layers as L
from ...sizes import Size, product

CONTRACTION, CONVOLUTION, ATTENTION, ELEMENTWISE, NORMALISATION = (
    "contraction", "convolution", "attention", "elementwise", "normalisation")
CATEGORIES = (CONTRACTION, CONVOLUTION, ATTENTION, ELEMENTWISE, NORMALISATION)
# Backward FLOPs are those of the gradients an operation computes: a product (matmul, einsum,
# convolution, attention) computes the gradient of each operand that needs one -- a product of the same
# sizes as forward's, so `dA = dC Bᵀ` costs what `C = A B` did and a weight always has one, an input only
# when it needs one (not the first layer's).  Elementwise maps and normalisations, which no FLOP counter
# counts, take one pass of their forward FLOPs when their result needs a gradient.

FLOAT, INT64, BOOL = "float", "int64", "bool"  # element types of saved tensors (float: the chosen dtype)
# Floats kept once per call whatever the batch (BatchNorm's per-channel statistics).
PER_CALL = "float per call"


def multiplied(dtype: str, size: Size, mult: Size) -> Size:
    """Saved elements of a part applied `mult` times at once (over batch or lifted axes)."""
    return size if dtype == PER_CALL else size * mult

ONE = Size.of(1)
ZERO = Size.of(0)

# ---- maps, normalisers, reductions ----------------------------------------------------------
# FLOPs per element, and what the backward pass keeps: the input ("input") or the result ("result").


@dataclass(frozen=True)
class ElementRule:
    flops: int  # per element (of the input for reductions)
    saves: tuple[str, ...]  # "input", "result"
    category: str = ELEMENTWISE


MAPS = {
    "relu": ElementRule(1, ("result",)), "sigmoid": ElementRule(1, ("result",)),
    "tanh": ElementRule(1, ("result",)), "exp": ElementRule(1, ("result",)), "sqrt": ElementRule(1, ("result",)),
    "gelu": ElementRule(1, ("input",)), "gelu_tanh": ElementRule(1, ("input",)),
    "silu": ElementRule(1, ("input",)), "log": ElementRule(1, ("input",)),
    "abs": ElementRule(1, ("input",)), "sin": ElementRule(1, ("input",)), "cos": ElementRule(1, ("input",)),
}
# softmax: max, subtract, exp, sum, divide.
NORMALISERS = {"softmax": ElementRule(5, ("result",), NORMALISATION),
               "log_softmax": ElementRule(5, ("result",), NORMALISATION)}
REDUCTIONS = {"sum": ElementRule(1, ()), "mean": ElementRule(1, ()),
              "max": ElementRule(1, ("input", "result")), "min": ElementRule(1, ("input", "result")),
              "prod": ElementRule(1, ("input", "result")), "logsumexp": ElementRule(3, ("input", "result"))}
# Comparisons: one per element of the result; a bool result keeps nothing for the backward pass.
COMPARISONS = {op: ElementRule(1, ()) for op in ("<", "<=", ">", ">=", "==", "!=")}
# The structural operations: einsum has its own rule (in the model); the others move data only.
STRUCTURAL = {"einsum": "contraction of the sizes of every distinct axis, x2",
              "rearrange": "a view: no FLOPs", "flatten": "a view: no FLOPs",
              "concat": "a copy: no FLOPs", "eye": "a constant: no FLOPs",
              "where": "a selection: 1 per element; keeps the condition for the backward pass",
              "tril": "a constant: no FLOPs", "arange": "a constant: no FLOPs",
              "topk": "one comparison per entry; the backward pass keeps the int64 positions",
              "route": "the expert's def once per token and slot (the top-k compute, however the tokens "
                       "are spread over the experts); gathering rows and scattering results: no FLOPs"}
TABLES: dict[str, dict] = {"map": MAPS, "normalise": NORMALISERS, "reduce": REDUCTIONS, "compare": COMPARISONS,
                           "structural": STRUCTURAL}

# ---- learned layers ---------------------------------------------------------------------------


@dataclass
class LayerCost:
    """A layer applied once to one sample of its own axes: `t_in -> t_out`."""

    params: Size
    flops: dict[str, Size] = field(default_factory=dict)
    # What the backward pass keeps: ("input" | "result", None) or ("extra", (dtype, elements)).
    saves: list[tuple[str, tuple[str, Size] | None]] = field(default_factory=list)
    matmul: tuple[Size, Size] | None = None  # (in, out) features, for the transfer model
    needs_grad_input: bool = False  # saves only when its input requires grad (no parameters)
    # Without gradients (eval mode) it returns its input itself (Dropout): no new tensor in the peak, while
    # training's saved tensors are those of the operation it does then.
    returns_input: bool = False
    # Elements PyTorch holds while it runs without gradients, besides its input and result, per application
    # (a norm's statistics, returned with the result and dropped).
    scratch: Size = ZERO

    def backward(self, input_grad: bool) -> dict[str, Size]:
        """Backward FLOPs by heading: a product's weight gradient, and its input's when that needs one; the
        elementwise and normalisation headings once, when anything needs a gradient."""
        learned = self.params != ZERO
        times = {c: int(learned) + int(input_grad) if c in (CONTRACTION, CONVOLUTION) else int(learned or input_grad)
                 for c in self.flops}
        return {c: n * self.flops[c] for c, n in times.items() if n}


NORM_FLOPS = 8  # per element: mean 1, centred squares 3, normalise 2, affine 2
RMS_FLOPS = 4  # squares 2, normalise 1, weight 1


def _elements(t: TensorType) -> Size:
    return product(t.sizes)


def linear(a: L.LinearAttrs, t_in: TensorType, t_out: TensorType) -> LayerCost:
    n_in, n_out = product(a.inputs.sizes), product(a.outputs.sizes)
    flops = {CONTRACTION: 2 * n_in * n_out}
    if a.bias:
        flops[ELEMENTWISE] = n_out
    return LayerCost(n_in * n_out + (n_out if a.bias else ZERO), flops, [("input", None)], matmul=(n_in, n_out))


def _kernel(a) -> Size:
    return a.kernel ** a.dims


def conv(a: L.ConvAttrs, t_in: TensorType, t_out: TensorType) -> LayerCost:
    weights = a.channels_out * (a.channels_in // a.groups) * _kernel(a)
    spatial = product(t_out.sizes[1:])
    flops = {CONVOLUTION: 2 * weights * spatial}
    if a.bias:
        flops[ELEMENTWISE] = _elements(t_out)
    return LayerCost(weights + (a.channels_out if a.bias else ZERO), flops, [("input", None)])


def conv_transpose(a: L.ConvTransposeAttrs, t_in: TensorType, t_out: TensorType) -> LayerCost:
    weights = a.channels_in * (a.channels_out // a.groups) * _kernel(a)
    spatial = product(t_in.sizes[1:])  # every input position scatters through the kernel
    flops = {CONVOLUTION: 2 * weights * spatial}
    if a.bias:
        flops[ELEMENTWISE] = _elements(t_out)
    return LayerCost(weights + (a.channels_out if a.bias else ZERO), flops, [("input", None)])


def max_pool(a: L.PoolAttrs, t_in: TensorType, t_out: TensorType) -> LayerCost:
    out = _elements(t_out)
    return LayerCost(ZERO, {ELEMENTWISE: out * a.kernel ** a.dims},
                     [("input", None), ("extra", (INT64, out))], needs_grad_input=True)  # the argmax indices


def avg_pool(a: L.PoolAttrs, t_in: TensorType, t_out: TensorType) -> LayerCost:
    return LayerCost(ZERO, {ELEMENTWISE: _elements(t_out) * a.kernel ** a.dims}, [("input", None)],
                     needs_grad_input=True)


def adaptive_pool(a: L.AdaptivePoolAttrs, t_in: TensorType, t_out: TensorType) -> LayerCost:
    # An output of one is a mean in PyTorch, which keeps nothing for the backward pass.
    saves: list = [] if a.output == ONE else [("input", None)]
    return LayerCost(ZERO, {ELEMENTWISE: _elements(t_in)}, saves, needs_grad_input=True)


def batchnorm(a: L.BatchNormAttrs, t_in: TensorType, t_out: TensorType) -> LayerCost:
    # The batch statistics (mean and inverse deviation per channel) are kept besides the input.
    return LayerCost(2 * a.channels, {NORMALISATION: NORM_FLOPS * _elements(t_in)},
                     [("input", None), ("extra", (PER_CALL, 2 * a.channels))])


def layernorm(a: L.LayerNormAttrs, t_in: TensorType, t_out: TensorType) -> LayerCost:
    # mean and 1/deviation per row: kept for backward; without gradients returned with the result, dropped
    return LayerCost(2 * _elements(a.axes), {NORMALISATION: NORM_FLOPS * _elements(t_in)},
                     [("input", None), ("extra", (FLOAT, Size.of(2)))], scratch=Size.of(2))


def rmsnorm(a: L.RMSNormAttrs, t_in: TensorType, t_out: TensorType) -> LayerCost:
    # PyTorch computes it in steps: while it scales by the weight, the normalised input and 1/rms per row
    return LayerCost(_elements(a.axes), {NORMALISATION: RMS_FLOPS * _elements(t_in)},
                     [("input", None), ("extra", (FLOAT, ONE))], scratch=_elements(a.axes) + ONE)


def groupnorm(a: L.GroupNormAttrs, t_in: TensorType, t_out: TensorType) -> LayerCost:
    # mean and 1/deviation per group, as LayerNorm's per row
    return LayerCost(2 * a.channels, {NORMALISATION: NORM_FLOPS * _elements(t_in)},
                     [("input", None), ("extra", (FLOAT, 2 * a.groups))], scratch=2 * a.groups)


def dropout(a: L.DropoutAttrs, t_in: TensorType, t_out: TensorType) -> LayerCost:
    # Training keeps the mask, scaled, in the input's dtype: PyTorch multiplies by it on the CPU (CUDA's
    # fused kernel keeps a bool mask instead).  With p = 0 it returns its input in training too.
    saves: list = [] if a.p == 0 else [("extra", (FLOAT, ONE))]
    return LayerCost(ZERO, {ELEMENTWISE: ONE}, saves, needs_grad_input=True, returns_input=True)


def embedding(a: L.EmbeddingAttrs, t_in: TensorType, t_out: TensorType) -> LayerCost:
    # A lookup: no FLOPs; the backward pass scatters into the rows of the ids, which it keeps.
    return LayerCost(a.count * a.dim, {}, [("extra", (INT64, ONE))])


def parameter(a: L.ParameterAttrs, t_in, t_out) -> LayerCost:
    return LayerCost(_elements(a.type))


def _layer_rules() -> dict[str, Callable[..., LayerCost]]:
    table: dict[str, Callable[..., LayerCost]] = {
        "Linear": linear, "LayerNorm": layernorm, "RMSNorm": rmsnorm, "GroupNorm": groupnorm,
        "Dropout": dropout, "Embedding": embedding, "Parameter": parameter}
    for d in (1, 2, 3):
        table |= {f"Conv{d}d": conv, f"ConvTranspose{d}d": conv_transpose, f"MaxPool{d}d": max_pool,
                  f"AvgPool{d}d": avg_pool, f"AdaptiveAvgPool{d}d": adaptive_pool, f"BatchNorm{d}d": batchnorm}
    return table


LAYER_RULES = _layer_rules()


def covers(op) -> bool:
    """Whether this back end has a cost rule for an operation of the registry (for the registry test)."""
    if isinstance(op, L.LayerOp):
        return op.name in LAYER_RULES
    table = TABLES.get(op.family)
    return table is not None and op.name in table
