"""Learned parts (bold boxes): how each built-in layer is declared and how it types when applied.

A registry: each entry reads a constructor from the spec and returns its options and its
`Signature`; adding a layer is one entry here and one lowering in the back end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .. import tree
from ..ir import Axis, TensorType
from ..sizes import Size, Symbol, product
from .body import Signature, fail
from .scope import Scope, checked_size, size_of, type_of


@dataclass
class Options:
    """A constructor's positional and keyword options, read against a declared list."""

    values: dict
    spans: dict


def read_options(ctor: tree.Constructor, scope: Scope, allowed: dict[str, object], positional: list[str]) -> Options:
    """`allowed` maps an option name to its default (`REQUIRED` if it has none)."""
    values, spans = {}, {}
    if len(ctor.args) > len(positional):
        extra = ctor.args[len(positional)]
        fail("E0201", f"`{ctor.name.name}` takes at most {len(positional)} positional option"
             f"{'s' if len(positional) != 1 else ''}", extra.span if hasattr(extra, 'span') else ctor.span,
             "unexpected", help="options: " + ", ".join(f"`{k}`" for k in allowed) if allowed else None)
    for name, arg in zip(positional, ctor.args):
        values[name], spans[name] = _option_value(arg, scope), arg.span
    for option in ctor.options:
        if option.name not in allowed:
            fail("E0203", f"`{ctor.name.name}` has no option `{option.name}`", option.span, "unknown option",
                 help="options: " + ", ".join(f"`{k}`" for k in allowed) if allowed else "it takes no options")
        if option.name in values:
            fail("E0203", f"option `{option.name}` given twice", option.span, "repeated")
        values[option.name], spans[option.name] = _option_value(option.value, scope), option.span
    for name, default in allowed.items():
        if name not in values:
            if default is REQUIRED:
                fail("E0201", f"`{ctor.name.name}` needs `{name}`", ctor.span, f"missing `{name}`")
            values[name], spans[name] = default, ctor.span
    return Options(values, spans)


REQUIRED = object()


def _option_value(node, scope: Scope):
    if isinstance(node, tree.SizeName) and node.name in ("True", "False"):
        fail("E0204", f"`{node.name}` is Python's spelling", node.span, "not a value here",
             help=f"write `{node.name.lower()}`")
    if isinstance(node, (tree.Bool, tree.String)):
        return node.value
    if isinstance(node, tree.Number):
        return node.value
    if isinstance(node, (tree.SizeInt, tree.SizeName, tree.SizeBinary, tree.SizeGroup)):
        return size_of(node, scope)
    fail("E0204", "expected a size, a number, `true`, `false` or a string", getattr(node, "span", None),
         "not an option value")


def _require(value, kind, name: str, span):
    ok = {
        "size": isinstance(value, Size),
        "bool": isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool)
                  or isinstance(value, Size) and value.constant is not None,
    }[kind]
    if not ok:
        shown = f"`{value}`" if isinstance(value, Size) else repr(value)
        fail("E0204", f"option `{name}` must be a {kind}", span, f"this is {shown}")
    return value


def _numbers(o: Options, *keys: str) -> None:
    """Options that are plain numbers (`eps`, `momentum`, `std`, `p`), as floats."""
    for key in keys:
        value = _require(o.values[key], "number", key, o.spans[key])
        o.values[key] = float(value.constant if isinstance(value, Size) else value)


def _positive(o: Options, *keys: str) -> None:
    """Sizes of a layer that must be at least 1 (kernel, stride, dilation, groups)."""
    for key in keys:
        value = o.values[key]
        if isinstance(value, Size) and value.constant is not None and value.constant < 1:
            fail("E0310", f"`{key}` must be at least 1", o.spans[key], f"this is {value.constant}")


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


def _one_axis(t: TensorType, what: str, span) -> Axis:
    if t.rank != 1:
        fail("E0202", f"{what} is one axis", span, f"`{t}` has {t.rank}",
             help="bind several axes into one with parentheses: `(k h)`")
    return t.axes[0]


def _spatial(count: int, span) -> tuple[list[Symbol], list[Axis]]:
    names = ["H", "W"] if count == 2 else ["L"] if count == 1 else ["D", "H", "W"]
    symbols = [Symbol(n) for n in names]
    return symbols, [Axis(Size.of(s), span) for s in symbols]


def _conv_out(size: Size, o: dict) -> Size:
    if o["padding"] == "same":
        return size
    return (size + 2 * o["padding"] - o["dilation"] * (o["kernel"] - 1) - 1) // o["stride"] + 1


def _conv_transpose_out(size: Size, o: dict) -> Size:
    return (size - 1) * o["stride"] - 2 * o["padding"] + o["dilation"] * (o["kernel"] - 1) + o["output_padding"] + 1


# ---- the registry -------------------------------------------------------------------------------


def linear(ctor, scope, name):
    axes_in, axes_out = _axes(ctor, scope, arrow=True)
    for t, node in ((axes_in, ctor.axes_in), (axes_out, ctor.axes_out)):
        if t.rank == 0:
            fail("E0202", "a Linear maps at least one axis to at least one axis", node.span, "no axes")
        checked_size(product(t.sizes), node.span, scope)  # nn.Linear's features
    o = read_options(ctor, scope, {"bias": True}, [])
    _require(o.values["bias"], "bool", "bias", o.spans["bias"])
    attrs = {"in": axes_in, "out": axes_out, "bias": o.values["bias"]}
    return attrs, Signature(name, "component", [axes_in], [axes_out], [], batch=True)


def conv(dims: int, transpose: bool):
    def build(ctor, scope, name):
        axes_in, axes_out = _axes(ctor, scope, arrow=True)
        c_in = _one_axis(axes_in, "the input of a convolution (its channels)", ctor.axes_in.span)
        c_out = _one_axis(axes_out, "the output of a convolution (its channels)", ctor.axes_out.span)
        allowed = {"kernel": REQUIRED, "stride": Size.of(1), "padding": Size.of(0), "dilation": Size.of(1),
                   "groups": Size.of(1), "bias": True}
        if transpose:
            allowed["output_padding"] = Size.of(0)
        o = read_options(ctor, scope, allowed, ["kernel"])
        for key in allowed:
            if key == "bias":
                _require(o.values[key], "bool", key, o.spans[key])
            elif not (key == "padding" and o.values[key] == "same" and not transpose):
                _require(o.values[key], "size", key, o.spans[key])
        _positive(o, "kernel", "stride", "dilation", "groups")
        if o.values["padding"] == "same" and o.values["stride"] != Size.of(1):
            fail("E0313", "`padding=\"same\"` needs stride 1", o.spans["padding"], "with a stride",
                 help="give the padding as a number, e.g. `padding=(k - 1) // 2`")
        symbols, spatial = _spatial(dims, ctor.span)
        shape = _conv_transpose_out if transpose else _conv_out
        out = [Axis(shape(a.size, o.values), ctor.span) for a in spatial]
        attrs = {"in": c_in.size, "out": c_out.size, **o.values, "dims": dims, "transpose": transpose}
        return attrs, Signature(name, "component", [TensorType((c_in, *spatial))],
                                [TensorType((c_out, *out))], symbols, batch=True)
    return build


def pool(dims: int, mode: str):
    def build(ctor, scope, name):
        if ctor.axes_in is not None:
            fail("E0311", f"`{ctor.name.name}` acts on the spatial axes and takes no axis list",
                 ctor.axes_in.span, "remove this")
        if mode == "adaptive":
            o = read_options(ctor, scope, {"output": REQUIRED}, ["output"])
            _require(o.values["output"], "size", "output", o.spans["output"])
            _positive(o, "output")
        else:
            o = read_options(ctor, scope, {"kernel": REQUIRED, "stride": None, "padding": Size.of(0)}, ["kernel"])
            if o.values["stride"] is None:
                o.values["stride"] = o.values["kernel"]
            for key in ("kernel", "stride", "padding"):
                _require(o.values[key], "size", key, o.spans[key])
            _positive(o, "kernel", "stride")
            o.values["dilation"] = Size.of(1)
        symbols, spatial = _spatial(dims, ctor.span)
        if mode == "adaptive":
            out = [Axis(o.values["output"], ctor.span) for _ in spatial]
        else:
            out = [Axis(_conv_out(a.size, o.values), ctor.span) for a in spatial]
        attrs = {**o.values, "dims": dims, "mode": mode}
        return attrs, Signature(name, "component", [TensorType(tuple(spatial))], [TensorType(tuple(out))],
                                symbols, batch=True)
    return build


def batchnorm(dims: int):
    def build(ctor, scope, name):
        axes_in, _ = _axes(ctor, scope, arrow=False)
        n = _one_axis(axes_in, "the axis BatchNorm normalises (its channels)", ctor.axes_in.span)
        o = read_options(ctor, scope, {"eps": 1e-5, "momentum": 0.1}, [])
        _numbers(o, "eps", "momentum")
        symbols, spatial = _spatial(dims, ctor.span) if dims else ([], [])
        t = TensorType((n, *spatial))
        return {"n": n.size, "dims": dims, **o.values}, Signature(name, "component", [t], [t], symbols, batch=True)
    return build


def layernorm(ctor, scope, name):
    axes_in, _ = _axes(ctor, scope, arrow=False)
    o = read_options(ctor, scope, {"eps": 1e-5}, [])
    _numbers(o, "eps")
    return {"axes": axes_in, **o.values}, Signature(name, "component", [axes_in], [axes_in], [], batch=True)


def groupnorm(ctor, scope, name):
    axes_in, _ = _axes(ctor, scope, arrow=False)
    n = _one_axis(axes_in, "the axis GroupNorm normalises (its channels)", ctor.axes_in.span)
    o = read_options(ctor, scope, {"groups": REQUIRED, "eps": 1e-5}, ["groups"])
    _require(o.values["groups"], "size", "groups", o.spans["groups"])
    _positive(o, "groups")
    _numbers(o, "eps")
    symbols, spatial = _spatial(2, ctor.span)
    t = TensorType((n, *spatial))
    return {"n": n.size, **o.values}, Signature(name, "component", [t], [t], symbols, batch=True)


def dropout(ctor, scope, name):
    if ctor.axes_in is not None:
        fail("E0311", "`Dropout` acts on every axis and takes no axis list", ctor.axes_in.span, "remove this")
    o = read_options(ctor, scope, {"p": 0.5}, ["p"])
    _numbers(o, "p")
    if not 0.0 <= o.values["p"] <= 1.0:
        fail("E0204", "`p` is a probability such as `0.1`", o.spans["p"], "not between 0 and 1")
    empty = TensorType(())
    return {"p": o.values["p"]}, Signature(name, "component", [empty], [empty], [], batch=True)


def parameter(ctor, scope, name):
    axes_in, _ = _axes(ctor, scope, arrow=False)
    o = read_options(ctor, scope, {"std": 0.02}, [])
    _numbers(o, "std")
    return {"type": axes_in, **o.values}, None


BUILDERS: dict[str, Callable] = {
    "Linear": linear,
    "Conv1d": conv(1, False), "Conv2d": conv(2, False), "Conv3d": conv(3, False),
    "ConvTranspose1d": conv(1, True), "ConvTranspose2d": conv(2, True), "ConvTranspose3d": conv(3, True),
    "MaxPool1d": pool(1, "max"), "MaxPool2d": pool(2, "max"), "MaxPool3d": pool(3, "max"),
    "AvgPool1d": pool(1, "avg"), "AvgPool2d": pool(2, "avg"), "AvgPool3d": pool(3, "avg"),
    "AdaptiveAvgPool1d": pool(1, "adaptive"), "AdaptiveAvgPool2d": pool(2, "adaptive"),
    "AdaptiveAvgPool3d": pool(3, "adaptive"),
    "BatchNorm1d": batchnorm(0), "BatchNorm2d": batchnorm(2), "BatchNorm3d": batchnorm(3),
    "LayerNorm": layernorm,
    "GroupNorm": groupnorm,
    "Dropout": dropout,
    "Parameter": parameter,
}
