"""Maps, normalisers and reductions: operations that act on every axis, one axis, or the axes named.

Their typing rules; how each is spelt in a back end is that back end's table.
"""

from __future__ import annotations

from .. import ir, tree
from ..diagnostics import NcdcError, fail
from ..checker.numbers import check_constant
from ..checker.scope import unknown_size
from ..ir import SCALAR, Axis, ScalarType, TensorType

# Elementwise maps: a small box on a wire, broadcast over every axis.
MAPS = ("relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh", "exp", "log", "sqrt", "abs", "sin", "cos")
# The maps that also apply to a number (a size expression or a literal).
ON_NUMBERS = frozenset({"sqrt", "exp", "log", "abs", "sin", "cos", "tanh"})
# Maps and reductions that are exact on integers too.
ON_INTEGERS = frozenset({"abs", "sum", "max", "min", "prod"})
# Normalising maps over one named axis (the paper's triangle).
NORMALISERS = ("softmax", "log_softmax")
# Reductions over the named axes (`sum[x](S)`; all axes without brackets).
REDUCTIONS = ("sum", "mean", "max", "min", "prod", "logsumexp")


def _operand(cx, name: str, e):
    if e.options:
        fail("E0203", f"`{name}` takes no options", e.options[0].span, "unexpected option")
    if len(e.args) != 1:
        fail("E0201", f"`{name}` takes 1 argument, got {len(e.args)}", e.span, "in this call")
    arg = cx.tensor(e.args[0])
    return arg, cx.solver.resolve_type(arg.type)


def _tensor_only(name: str, t, e) -> None:
    if isinstance(t, ScalarType):
        fail("E0204", f"`{name}` applies to tensors", e.args[0].span, "this is a number")


def no_brackets(name: str, brackets, e) -> None:
    if brackets is not None:
        fail("E0311", f"`{name}` acts on every axis and takes no axis list", e.func.span, "remove this",
             help="to act on some axes only, bind them with `rearrange` or lift over the others")


def size_argument(cx, name: str, arg: tree.Name, takes: str, what: str) -> Axis:
    """The axis a size-only constant (`tril(y, x)`, `arange(t)`) runs along: `arg` names a size the
    generated code can compute; `takes` says what `name` takes the size for, `what` what it makes."""
    binding = cx.scope.lookup_size(arg.name)
    if binding is None:
        diagnostic = unknown_size(arg.name, arg.span, cx.scope)
        if cx.scope.lookup_wire(arg.name) is not None:
            diagnostic.notes = [f"`{arg.name}` is a wire: `{name}` takes {takes}"]
        raise NcdcError(diagnostic)
    cx.computable(binding.value, arg.span, what)
    return Axis(binding.value, arg.span)


def check_map(cx, name: str, brackets, e) -> ir.Value:
    arg, t = _operand(cx, name, e)
    if isinstance(t, ScalarType) and name in ON_NUMBERS:
        no_brackets(name, brackets, e)
        node = ir.ScalarFn(SCALAR, e.span, name, arg)
        check_constant(node, cx.solver)  # `exp(1000.0)`, `log(0.0)` would raise at run time
        return node
    _tensor_only(name, t, e)
    no_brackets(name, brackets, e)
    return ir.Map(t, e.span, name, arg)


def check_normalise(cx, name: str, brackets, e) -> ir.Value:
    arg, t = _operand(cx, name, e)
    _tensor_only(name, t, e)
    if brackets is None:
        fail("E0311", f"`{name}` needs the axis it normalises: `{name}[x](...)`", e.span,
             "which axis?", help=f"write `{name}[x](S)` to normalise over the axis `x`")
    dims = find_axes(cx, t, brackets, e, name)
    if len(dims) != 1:
        fail("E0311", f"`{name}` normalises over one axis", e.func.span, f"{len(dims)} axes given",
             help="bind them first with `rearrange`")
    return ir.Normalise(t, e.span, name, arg, dims[0])


def check_reduce(cx, name: str, brackets, e) -> ir.Value:
    arg, t = _operand(cx, name, e)
    _tensor_only(name, t, e)
    dims = find_axes(cx, t, brackets, e, name) if brackets is not None else list(range(t.rank))
    axes = tuple(a for i, a in enumerate(t.axes) if i not in dims)
    return ir.Reduce(t.with_axes(axes), e.span, name, arg, tuple(dims), t.rank)


def find_axes(cx, t: TensorType, brackets, e, name: str) -> list[int]:
    """The positions of the axes named in `name[...]`, each naming exactly one axis of `t`."""
    from ..checker.scope import distinct_labels_of
    from .. import tree

    if len(brackets) != 1 or isinstance(brackets[0], tree.Slice):
        fail("E0311", f"expected axis names in `{name}[...]`", e.func.span, "not axis names")
    labels = [a.label for a in t.axes]
    dims = []
    for label, span in distinct_labels_of(brackets[0]):
        count = labels.count(label)
        if count == 0:
            fail("E0303", f"`{cx.show(t)}` has no axis `{label}`", span, "not an axis of the argument",
                 notes=[f"the argument's axes are `{cx.show(t)}`"])
        if count > 1:
            fail("E0304", f"`{label}` names {count} axes of `{cx.show(t)}`", span, "ambiguous",
                 help="give the axes distinct names with `rearrange` or `einsum`")
        dims.append(labels.index(label))
    return dims
