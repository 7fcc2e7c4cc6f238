"""Learned layers (bold boxes): each layer's options, with their defaults, and its typing rule.

A layer is one `LayerOp` here: its options are the fields of a frozen dataclass (marked with
`option`), read from the spec generically; its typing rule returns those options and the layer's
`Signature`.  A back end keys its own table by the layer's name.
"""

from __future__ import annotations

from ..nodes import MISSING, Field, field, fields, frozen, replace
from .. import tree
from ..diagnostics import fail
from ..ir import INT, Axis, Comparison, HParamRef, Signature, TensorType
from ..sizes import Size, Symbol, product
from ..checker.scope import Scope, checked_size, size_of, type_of

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2.4 ms of `import ncdc`)
if TYPE_CHECKING:
    from typing import Any, Callable

REQUIRED: Any = MISSING


def option(default: Any = REQUIRED, kind: str = "size", positional: bool = False) -> Any:
    """A spec-visible option of a layer: `kind` is "size" (at least 1), "offset" (a size that may be
    0), "padding" (an offset or `"same"`), "bool" or "number"; positional options may be given
    without their name, in declaration order."""
    return field(default=default, metadata={"option": kind, "positional": positional})


def options_of(attrs_class: type) -> list[Field]:
    return [f for f in fields(attrs_class) if "option" in f.metadata]


def non_defaults(attrs) -> list[tuple[str, Any]]:
    """The options of a layer that differ from their defaults, in declaration order."""
    return [(f.name, getattr(attrs, f.name)) for f in options_of(type(attrs))
            if f.default is REQUIRED or getattr(attrs, f.name) != f.default]


# ---- options of each layer ----------------------------------------------------------------------


@frozen
class LinearAttrs:
    inputs: TensorType
    outputs: TensorType
    bias: bool = option(True, "bool")
    # The weight stored (in, out) rather than nn.Linear's (out, in), as Hugging Face's `Conv1D`
    # stores it (GPT-2): its checkpoints load as they are.
    transposed: bool = option(False, "bool")


@frozen
class ConvAttrs:
    channels_in: Size
    channels_out: Size
    dims: int
    kernel: Size = option(positional=True)
    stride: Size = option(Size.of(1))
    padding: Size | str = option(Size.of(0), "padding")
    dilation: Size = option(Size.of(1))
    groups: Size = option(Size.of(1))
    bias: bool = option(True, "bool")


@frozen
class ConvTransposeAttrs:
    channels_in: Size
    channels_out: Size
    dims: int
    kernel: Size = option(positional=True)
    stride: Size = option(Size.of(1))
    padding: Size = option(Size.of(0), "offset")
    dilation: Size = option(Size.of(1))
    groups: Size = option(Size.of(1))
    bias: bool = option(True, "bool")
    output_padding: Size = option(Size.of(0), "offset")


@frozen
class PoolAttrs:
    dims: int
    kernel: Size = option(positional=True)
    stride: Size | None = option(None)  # the kernel's size
    padding: Size = option(Size.of(0), "offset")


@frozen
class AdaptivePoolAttrs:
    dims: int
    output: Size = option(positional=True)


@frozen
class BatchNormAttrs:
    channels: Size
    dims: int
    eps: float = option(1e-5, "number")
    momentum: float = option(0.1, "number")


@frozen
class LayerNormAttrs:
    axes: TensorType
    eps: float = option(1e-5, "number")


@frozen
class RMSNormAttrs:
    axes: TensorType
    eps: float | None = option(None, "number")  # None: the machine epsilon of the input's dtype


@frozen
class GroupNormAttrs:
    channels: Size
    groups: Size = option(positional=True)
    eps: float = option(1e-5, "number")


@frozen
class DropoutAttrs:
    p: float = option(0.5, "number", positional=True)


@frozen
class EmbeddingAttrs:
    count: Size  # the number of token ids (the vocabulary)
    dim: Size


@frozen
class ParameterAttrs:
    type: TensorType
    std: float = option(0.02, "number")


# ---- the registry entry -------------------------------------------------------------------------


@frozen
class Rule:
    """What PyTorch needs of a layer's sizes: one of `conditions` must hold.  Over its options only,
    it is checked when the layer is built (its span: the option named `option`); over the generic
    sizes of its signature too (its input's sides), at each call."""

    conditions: tuple[Comparison, ...]
    reason: str
    option: str | None = None


@frozen
class LayerOp:
    """`check(ctor, scope, name)` reads a constructor and returns (attrs, signature or None);
    `requires(attrs, signature)` gives its `Rule`s.  `fixed_rank` layers take (N, channels,
    *spatial) only: extra batch axes are folded into N."""

    name: str
    attrs: type
    check: Callable
    fixed_rank: bool = False
    requires: Callable[[Any, Signature | None], list[Rule]] = lambda attrs, signature: []


def read_options(ctor: tree.Constructor, scope: Scope, attrs_class: type, **given: Any) -> tuple[Any, dict]:
    """The options written in a constructor, checked against the layer's option fields: the layer's
    attrs, and the span of each option given."""
    fields = {f.name: (f.default, f.metadata["option"], f.metadata["positional"]) for f in options_of(attrs_class)}
    values, spans = read_values(ctor, scope, fields)
    for name, value in values.items():
        if fields[name][1] == "size" and value.constant is not None and value.constant < 1:
            fail("E0310", f"`{name}` must be at least 1", spans[name], f"this is {value.constant}")
    return attrs_class(**given, **values), spans


def option_spans(ctor: tree.Constructor, attrs_class: type) -> dict[str, Any]:
    """Where each option given in a constructor is written."""
    positional = [f.name for f in options_of(attrs_class) if f.metadata["positional"]]
    spans = {name: arg.span for name, arg in zip(positional, ctor.args)}
    spans.update({opt.name: opt.span for opt in ctor.options})
    return spans


def read_values(ctor: tree.Constructor, scope: Scope, fields: dict[str, tuple[Any, str, bool]]) -> tuple[dict, dict]:
    """Options by name: `fields` maps each to (default or REQUIRED, kind, positional); kind "any"
    takes any value.  Options not given are left out."""
    positional = [name for name, (_, _, pos) in fields.items() if pos]
    values: dict[str, Any] = {}
    spans: dict[str, Any] = {}
    if len(ctor.args) > len(positional):
        extra = ctor.args[len(positional)]
        fail("E0201", f"`{ctor.name.name}` takes at most {len(positional)} positional option"
             f"{'s' if len(positional) != 1 else ''}", getattr(extra, "span", ctor.span),
             "unexpected", help="options: " + ", ".join(f"`{k}`" for k in fields) if fields else None)
    for name, arg in zip(positional, ctor.args):
        values[name], spans[name] = _option_value(arg, scope), arg.span
    for opt in ctor.options:
        if opt.name not in fields:
            fail("E0203", f"`{ctor.name.name}` has no option `{opt.name}`", opt.span, "unknown option",
                 help="options: " + ", ".join(f"`{k}`" for k in fields) if fields else "it takes no options")
        if opt.name in values:
            fail("E0203", f"option `{opt.name}` given twice", opt.span, "repeated")
        values[opt.name], spans[opt.name] = _option_value(opt.value, scope), opt.span
    for name, (default, kind, _) in fields.items():
        if name not in values:
            if default is REQUIRED:
                fail("E0201", f"`{ctor.name.name}` needs `{name}`", ctor.span, f"missing `{name}`")
        elif kind != "any":
            values[name] = _require(values[name], kind, name, spans[name])
    return values, spans


def _option_value(node, scope: Scope):
    if isinstance(node, tree.SizeName) and node.name in ("True", "False"):
        fail("E0204", f"`{node.name}` is Python's spelling", node.span, "not a value here",
             help=f"write `{node.name.lower()}`")
    if isinstance(node, (tree.Bool, tree.String, tree.Number)):
        return node.value
    if isinstance(node, tree.SizeName) and scope.lookup_value(node.name) is not None:
        hp = scope.lookup_value(node.name)
        return HParamRef(hp.name, hp.kind, hp.choices)
    if isinstance(node, tree.SizeNode):
        return size_of(node, scope)
    fail("E0204", "expected a size, a number, `true`, `false` or a string", getattr(node, "span", None),
         "not an option value")


def _require(value, kind: str, name: str, span):
    if kind == "padding" and value == "same":
        return value
    if isinstance(value, HParamRef):  # a hyperparameter of its kind: its value is known when the module is built
        if (kind, value.kind) not in (("bool", "bool"), ("number", "float")):
            fail("E0324", f"option `{name}` must be a {'size' if kind in ('offset', 'padding') else kind}", span,
                 f"`{value.name}` is a {value.kind} hyperparameter")
        return value
    ok = {
        "size": isinstance(value, Size), "offset": isinstance(value, Size), "padding": isinstance(value, Size),
        "bool": isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool)
                  or isinstance(value, Size) and value.constant is not None,
    }[kind]
    if not ok:
        shown = f"`{value}`" if isinstance(value, Size) else repr(value)
        fail("E0204", f"option `{name}` must be a {'size' if kind in ('offset', 'padding') else kind}", span,
             f"this is {shown}")
    if kind == "number":  # plain numbers (`eps`, `momentum`, `std`, `p`) are floats
        return float(value.constant if isinstance(value, Size) else value)  # type: ignore[arg-type]  # checked above
    return value


def _axes(ctor: tree.Constructor, scope: Scope, arrow: bool) -> tuple[TensorType, TensorType | None]:
    name = ctor.name.name
    if ctor.axes_in is None:
        example = f"{name}[m -> n](...)" if arrow else f"{name}[n](...)"
        fail("E0311", f"`{name}` needs the axes it acts on: `{example}`", ctor.name.span, "missing axes")
    if arrow and ctor.axes_out is None:
        fail("E0311", f"`{name}` maps axes to axes: `{name}[m -> n](...)`", ctor.axes_in.span, "missing `-> ...`")
    if not arrow and ctor.axes_out is not None:
        fail("E0311", f"`{name}` keeps its axes: write `{name}[n](...)`", ctor.axes_out.span, "no `->` here")
    return type_of(ctor.axes_in, scope), (type_of(ctor.axes_out, scope) if ctor.axes_out is not None else None)


def _no_axes(ctor: tree.Constructor, what: str) -> None:
    if ctor.axes_in is not None:
        fail("E0311", f"`{ctor.name.name}` acts on {what} and takes no axis list", ctor.axes_in.span, "remove this")


def _one_axis(t: TensorType, what: str, span) -> Axis:
    if t.rank != 1:
        fail("E0202", f"{what} is one axis", span, f"`{t}` has {t.rank}",
             help="bind several axes into one with parentheses: `(k h)`")
    return t.axes[0]


def _spatial(count: int, span) -> tuple[list[Symbol], list[Axis]]:
    names = ["H", "W"] if count == 2 else ["L"] if count == 1 else ["D", "H", "W"]
    symbols = [Symbol(n) for n in names]
    return symbols, [Axis(Size.of(s), span) for s in symbols]


def _conv_out(size: Size, padding, dilation: Size, kernel: Size, stride: Size) -> Size:
    if padding == "same":
        return size
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _layer_signature(name: str, inputs: TensorType, outputs: TensorType, generics=()) -> Signature:
    return Signature(name, "component", [inputs], [outputs], list(generics), batch=True)


# ---- typing rules -------------------------------------------------------------------------------


def linear(ctor, scope, name):
    axes_in, axes_out = _axes(ctor, scope, arrow=True)
    for t, node in ((axes_in, ctor.axes_in), (axes_out, ctor.axes_out)):
        if t.rank == 0:
            fail("E0202", "a Linear maps at least one axis to at least one axis", node.span, "no axes")
        checked_size(product(t.sizes), node.span, scope)  # nn.Linear's features
    attrs, _ = read_options(ctor, scope, LinearAttrs, inputs=axes_in, outputs=axes_out)
    return attrs, _layer_signature(name, axes_in, axes_out)


def conv(dims: int, transpose: bool):
    def check(ctor, scope, name):
        axes_in, axes_out = _axes(ctor, scope, arrow=True)
        c_in = _one_axis(axes_in, "the input of a convolution (its channels)", ctor.axes_in.span)
        c_out = _one_axis(axes_out, "the output of a convolution (its channels)", ctor.axes_out.span)
        attrs_class = ConvTransposeAttrs if transpose else ConvAttrs
        a, spans = read_options(ctor, scope, attrs_class, channels_in=c_in.size, channels_out=c_out.size, dims=dims)
        if a.padding == "same" and a.stride != Size.of(1):
            fail("E0313", "`padding=\"same\"` needs stride 1", spans["padding"], "with a stride",
                 help="give the padding as a number, e.g. `padding=(k - 1) // 2`")
        symbols, spatial = _spatial(dims, ctor.span)
        if transpose:
            out = [(s.size - 1) * a.stride - 2 * a.padding + a.dilation * (a.kernel - 1) + a.output_padding + 1
                   for s in spatial]
        else:
            out = [_conv_out(s.size, a.padding, a.dilation, a.kernel, a.stride) for s in spatial]
        return a, _layer_signature(name, TensorType((c_in, *spatial)),
                                   TensorType((c_out, *(Axis(s, ctor.span) for s in out))), symbols)
    return check


def pool(dims: int, adaptive: bool):
    def check(ctor, scope, name):
        _no_axes(ctor, "the spatial axes")
        symbols, spatial = _spatial(dims, ctor.span)
        if adaptive:
            a, _ = read_options(ctor, scope, AdaptivePoolAttrs, dims=dims)
            out = [a.output for _ in spatial]
        else:
            a, _ = read_options(ctor, scope, PoolAttrs, dims=dims)
            if a.stride is None:
                a = replace(a, stride=a.kernel)
            out = [_conv_out(s.size, a.padding, Size.of(1), a.kernel, a.stride) for s in spatial]
        return a, _layer_signature(name, TensorType(tuple(spatial)),
                                   TensorType(tuple(Axis(s, ctor.span) for s in out)), symbols)
    return check


def batchnorm(dims: int):
    def check(ctor, scope, name):
        axes_in, _ = _axes(ctor, scope, arrow=False)
        n = _one_axis(axes_in, "the axis BatchNorm normalises (its channels)", ctor.axes_in.span)
        a, _ = read_options(ctor, scope, BatchNormAttrs, channels=n.size, dims=dims)
        symbols, spatial = _spatial(dims, ctor.span) if dims else ([], [])
        t = TensorType((n, *spatial))
        return a, _layer_signature(name, t, t, symbols)
    return check


def norm_over(attrs_class: type):
    """A normalisation over the trailing axes it names (LayerNorm, RMSNorm)."""
    def check(ctor, scope, name):
        axes_in, _ = _axes(ctor, scope, arrow=False)
        a, _ = read_options(ctor, scope, attrs_class, axes=axes_in)
        return a, _layer_signature(name, axes_in, axes_in)
    return check


def groupnorm(ctor, scope, name):
    axes_in, _ = _axes(ctor, scope, arrow=False)
    n = _one_axis(axes_in, "the axis GroupNorm normalises (its channels)", ctor.axes_in.span)
    a, _ = read_options(ctor, scope, GroupNormAttrs, channels=n.size)
    symbols, spatial = _spatial(2, ctor.span)
    t = TensorType((n, *spatial))
    return a, _layer_signature(name, t, t, symbols)


def dropout(ctor, scope, name):
    _no_axes(ctor, "every axis")
    a, spans = read_options(ctor, scope, DropoutAttrs)
    if isinstance(a.p, HParamRef):  # checked when the module is built
        bound = (0.0, 1.0, "Dropout's p is a probability")
        hp = scope.lookup_value(a.p.name)
        if bound not in hp.bounds:
            hp.bounds.append(bound)
    elif not 0.0 <= a.p <= 1.0:
        fail("E0204", "`p` is a probability such as `0.1`", spans["p"], "not between 0 and 1")
    empty = TensorType(())
    return a, _layer_signature(name, empty, empty)


def embedding(ctor, scope, name):
    """`Embedding[V -> m]()`: an int token id (each element of an int wire) to a learned vector of m."""
    axes_in, axes_out = _axes(ctor, scope, arrow=True)
    count = _one_axis(axes_in, "the input of an Embedding (its number of token ids)", ctor.axes_in.span)
    dim = _one_axis(axes_out, "the output of an Embedding (its vector)", ctor.axes_out.span)
    a, _ = read_options(ctor, scope, EmbeddingAttrs, count=count.size, dim=dim.size)
    return a, _layer_signature(name, TensorType((), INT), TensorType((dim,)))


def parameter(ctor, scope, name):
    axes_in, _ = _axes(ctor, scope, arrow=False)
    a, _ = read_options(ctor, scope, ParameterAttrs, type=axes_in)
    return a, None


# ---- what PyTorch needs of the sizes ------------------------------------------------------------


def _sides(signature: Signature | None) -> list[Size]:
    return [Size.of(g) for g in signature.generics] if signature is not None else []


def conv_requires(attrs, signature) -> list[Rule]:
    """Groups divide both channel counts; each padded side holds the dilated kernel (the output is
    at least 1); a transposed convolution's output padding is below its stride or its dilation."""
    kind = "ConvTranspose" if isinstance(attrs, ConvTransposeAttrs) else "Conv"
    name = f"{kind}{attrs.dims}d"
    g = attrs.groups
    rules = [Rule((Comparison(attrs.channels_in, "%", g),),
                  f"{name}'s groups ({g}) must divide its input channels ({attrs.channels_in})", "groups"),
             Rule((Comparison(attrs.channels_out, "%", g),),
                  f"{name}'s groups ({g}) must divide its output channels ({attrs.channels_out})", "groups")]
    reach = attrs.dilation * (attrs.kernel - 1)  # the kernel's extent, minus one
    if isinstance(attrs, ConvTransposeAttrs):
        op = attrs.output_padding
        rules.append(Rule((Comparison(op, "<", attrs.stride), Comparison(op, "<", attrs.dilation)),
                          f"{name}'s output_padding must be smaller than its stride or its dilation",
                          "output_padding"))
        # Its output side, (side - 1)*stride - 2*padding + reach + output_padding + 1, grows with the
        # input's: at least 1 for every side when it is for a side of 1.
        rules.append(Rule((Comparison(reach + op, ">=", 2 * attrs.padding),),
                          f"{name}'s padding must leave an output side of at least 1", "padding"))
    elif attrs.padding != "same":
        for side in _sides(signature):
            rules.append(Rule((Comparison(side + 2 * attrs.padding, ">=", reach + 1),),
                              f"{name}'s kernel must fit in each padded side of its input"))
    return rules


def pool_requires(attrs, signature) -> list[Rule]:
    """Padding at most half the kernel (PyTorch's rule); each padded side holds the kernel."""
    rules = [Rule((Comparison(2 * attrs.padding, "<=", attrs.kernel),),
                  f"a pooling's padding ({attrs.padding}) must be at most half its kernel ({attrs.kernel})",
                  "padding")]
    for side in _sides(signature):
        rules.append(Rule((Comparison(side + 2 * attrs.padding, ">=", attrs.kernel),),
                          "the pooling kernel must fit in each padded side of its input"))
    return rules


def groupnorm_requires(attrs, signature) -> list[Rule]:
    return [Rule((Comparison(attrs.channels, "%", attrs.groups),),
                 f"GroupNorm's groups ({attrs.groups}) must divide its channels ({attrs.channels})", "groups")]


def _layers() -> dict[str, LayerOp]:
    ops = [LayerOp("Linear", LinearAttrs, linear)]
    for d in (1, 2, 3):
        ops += [LayerOp(f"Conv{d}d", ConvAttrs, conv(d, False), fixed_rank=True, requires=conv_requires),
                LayerOp(f"ConvTranspose{d}d", ConvTransposeAttrs, conv(d, True), fixed_rank=True,
                        requires=conv_requires)]
    for kind in ("Max", "Avg"):
        ops += [LayerOp(f"{kind}Pool{d}d", PoolAttrs, pool(d, False), fixed_rank=True, requires=pool_requires)
                for d in (1, 2, 3)]
    ops += [LayerOp(f"AdaptiveAvgPool{d}d", AdaptivePoolAttrs, pool(d, True), fixed_rank=True) for d in (1, 2, 3)]
    ops += [LayerOp("BatchNorm1d", BatchNormAttrs, batchnorm(0), fixed_rank=True),
            LayerOp("BatchNorm2d", BatchNormAttrs, batchnorm(2), fixed_rank=True),
            LayerOp("BatchNorm3d", BatchNormAttrs, batchnorm(3), fixed_rank=True),
            LayerOp("LayerNorm", LayerNormAttrs, norm_over(LayerNormAttrs)),
            LayerOp("RMSNorm", RMSNormAttrs, norm_over(RMSNormAttrs)),
            LayerOp("GroupNorm", GroupNormAttrs, groupnorm, fixed_rank=True, requires=groupnorm_requires),
            LayerOp("Dropout", DropoutAttrs, dropout),
            LayerOp("Embedding", EmbeddingAttrs, embedding),
            LayerOp("Parameter", ParameterAttrs, parameter)]
    return {op.name: op for op in ops}


LAYERS: dict[str, LayerOp] = _layers()
