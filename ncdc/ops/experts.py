"""Sparse mixtures of experts: choosing experts (`topk`) and routing tokens through only the experts
chosen for them (`route`); their typing rules.

`topk[E](P, k=K)` keeps the K largest entries along the axis `E` and says where they were;
`route[E](F, I, X, W, ...)` applies the def `F` to each token of `X` once per slot of the `int`
wire `I`, with the slice of every stacked weight `W` (a learned tensor with an axis `E`) that the
slot selects.  Only the shapes are proved here; how many tokens each expert gets is known only
when the model runs.
"""

from __future__ import annotations

from .. import ir, tree
from ..diagnostics import AlreadyReported, fail
from ..ir import Axis, Comparison, ScalarType, TensorType, TupleType
from ..sizes import Size
from ..checker.scope import distinct_labels_of, size_of
from .functions import find_axes


def check_topk(cx, name: str, brackets, e: tree.Call) -> ir.Value:
    """`topk[E](P, k=K)`: the values and the positions (`int`) of the K largest entries along `E`,
    largest first; the axis `E` becomes an axis of K."""
    if len(e.args) != 1:
        fail("E0201", f"`topk` takes 1 argument, got {len(e.args)}", e.span, "in this call")
    if brackets is None:
        fail("E0311", "`topk` needs the axis it chooses along: `topk[E](P, k=2)`", e.span, "which axis?")
    k_option = None
    for opt in e.options:
        if opt.name != "k":
            fail("E0203", f"`topk` has no option `{opt.name}`", opt.span, "unknown option", help="options: `k`")
        if k_option is not None:
            fail("E0203", "option `k` given twice", opt.span, "repeated")
        k_option = opt
    if k_option is None:
        fail("E0201", "`topk` needs `k`, how many entries it keeps: `topk[E](P, k=2)`", e.span, "missing `k`")
    if not isinstance(k_option.value, tree.SizeNode):
        fail("E0204", "`k` is a size", k_option.span, "not a size")
    node = cx.tensor(e.args[0])
    t = cx.solver.resolve_type(node.type)
    if isinstance(t, ScalarType):
        fail("E0204", "`topk` applies to tensors", e.args[0].span, "this is a number")
    dims = find_axes(cx, t, brackets, e, name)
    if len(dims) != 1:
        fail("E0311", "`topk` chooses along one axis", e.func.span, f"{len(dims)} axes given",
             help="bind them first with `rearrange`")
    dim = dims[0]
    k = size_of(k_option.value, cx.scope)
    cx.computable(k, k_option.span, "`k`")
    axis = t.axes[dim]
    keeps = f"`{e.span.text}` keeps {k} of the {cx.solver.describe(axis.size)} entries along `{axis.label}`"
    cx.require(Comparison(k, ">=", Size.of(1)), k_option.span, keeps, "`topk` keeps no entry", code="E0341")
    cx.require(Comparison(axis.size, ">=", k), k_option.span, keeps,
               "`topk` keeps more entries than its axis holds", code="E0341")
    axes = list(t.axes)
    axes[dim] = Axis(k, k_option.span)
    values = t.with_axes(axes)
    return ir.TopK(TupleType((values, TensorType(values.axes, ir.INT))), e.span, node, dim, k)


def check_route(cx, name: str, brackets, e: tree.Call) -> ir.Value:
    """`route[E](F, I, X, W, ...)`: the def `F` applied to each token of `X` through only the
    experts (positions along `E`) that its row of `I` selects; the result is `I`'s axes, then F's."""
    if e.options:
        fail("E0203", "`route` takes no options", e.options[0].span, "unexpected option")
    if brackets is None or len(brackets) != 1 or isinstance(brackets[0], tree.Slice):
        fail("E0311", "`route` needs the experts' axis: `route[E](F, I, X, W)`", e.span, "which axis?")
    labels = distinct_labels_of(brackets[0])
    if len(labels) != 1:
        fail("E0311", "`route` routes over one axis of experts", brackets[0].span, f"{len(labels)} axes given")
    label, label_span = labels[0]
    binding = cx.scope.lookup_size(label)
    if binding is None:
        fail("E0104", f"unknown size `{label}`", label_span, "the number of experts must be a size in scope")
    if len(e.args) < 3:
        fail("E0201", f"`route` takes the expert, the indices and the expert's inputs, got {len(e.args)} arguments",
             e.span, "in this call", help="write `route[E](F, I, X, W, ...)`")
    from ..checker.body import did_you_mean  # the checker imports the registry, and so this module
    from . import operation

    fn = e.args[0]
    kind = cx.program.globals.get(fn.name, (None,))[0] if isinstance(fn, tree.Name) else None
    if isinstance(fn, tree.Name) and kind is None and operation(fn.name) is None \
            and cx.scope.lookup_wire(fn.name) is None and cx.scope.lookup_component(fn.name) is None:
        defs = [name for name, (k, _) in cx.program.globals.items() if k == "def"]
        fail("E0101", f"unknown def `{fn.name}`", fn.span, "not defined", help=did_you_mean(fn.name, defs))
    if not isinstance(fn, tree.Name) or kind != "def":
        fail("E0340", "the first argument of `route` is the def each expert applies", fn.span,
             "not a def", help="define the expert as a def taking one token and the weights of one expert")
    if fn.name in cx.program.failed:
        raise AlreadyReported
    sig = cx.program.signature_of(fn.name)
    if sig is None:
        raise AlreadyReported
    cx.callees.add(fn.name)
    if len(sig.outputs) != 1:
        fail("E0340", f"an expert gives one wire; `{fn.name}` gives {len(sig.outputs)}", fn.span, "several results")
    if len(e.args) - 2 != len(sig.inputs):
        fail("E0201", f"`{fn.name}` takes {len(sig.inputs)} arguments, `route` gives it {len(e.args) - 2}",
             e.span, "in this call", notes=[f"`{fn.name} : {ir.signature_text(sig.inputs, sig.outputs)}`"])
    index = cx.tensor(e.args[1])
    it = cx.solver.resolve_type(index.type)
    if isinstance(it, ScalarType) or it.dtype != ir.INT or it.rank == 0:
        fail("E0340", "the second argument of `route` is the `int` wire of the chosen experts", e.args[1].span,
             f"this is `{it}`" if not isinstance(it, ScalarType) else "a number",
             help=f"choose them with `topk`: `W, I = topk[{label}](P, k=2)`")
    tokens = it.axes[:-1]  # the last axis holds the slots: the experts chosen for each token
    instance = cx.instantiate(sig)
    inputs = [t.map(lambda s: s.substitute(instance.get)) for t in sig.inputs]
    args, kinds, dims = [], [], []
    for i, (arg, expected) in enumerate(zip(e.args[2:], inputs)):
        where = f"argument {i + 3} of `route`"
        callee = f"`{fn.name}` takes `{expected}`"
        node = cx.tensor(arg)
        t = cx.solver.resolve_type(node.type)
        if isinstance(t, ScalarType):
            fail("E0204", f"{where} is a number", arg.span, "expected a tensor")
        arg_labels = [a.label for a in t.axes]
        if label in arg_labels:  # every expert's weights, stacked along the axis of experts
            if arg_labels.count(label) > 1:
                fail("E0304", f"`{label}` names {arg_labels.count(label)} axes of {where}", arg.span, "ambiguous")
            d = arg_labels.index(label)
            outcome = cx.solver.unify(binding.value, t.axes[d].size, arg.span)
            if outcome is not None:
                cx.size_error(outcome, Axis(binding.value, binding.span), t.axes[d], arg.span, f"{where}, axis {d + 1}")
            if not cx.unbatched(node):
                fail("E0340", f"{where} has the experts' axis `{label}`, but may have batch axes", arg.span,
                     "the weights of every expert", notes=["only learned tensors (`Parameter`) hold stacked weights"])
            cx.expect_type(expected, t.with_axes(a for j, a in enumerate(t.axes) if j != d), arg.span, where,
                           callee=callee)
            args.append(node)
            kinds.append("expert")
            dims.append(d - t.rank)
            continue
        if t.rank != len(tokens) + expected.rank:
            shown = " ".join(str(a) for a in tokens)
            note = (f"expected `{shown} {expected}` (one row per token), or the axis `{label}` and "
                    f"`{expected}` (the weights of every expert)")
            fail("E0340", f"{where} has neither the experts' axis `{label}` nor the index's token axes "
                 f"`{shown}` before the axes `{fn.name}` takes", arg.span, f"this is `{cx.show(t)}`", notes=[note])
        cx.expect_type(TensorType(tokens, t.dtype), t.with_axes(t.axes[:len(tokens)]), arg.span,
                       f"{where} (its tokens)", callee=f"the index `{cx.show(it)}` has one row per token")
        cx.expect_type(expected, t.with_axes(t.axes[len(tokens):]), arg.span, where, callee=callee)
        args.append(node)
        kinds.append("token")
        dims.append(0)
    if "token" not in kinds:
        fail("E0340", "no argument of `route` holds the tokens", e.span, "only weights",
             help=f"give the tokens with the index's token axes before the axes `{fn.name}` takes")
    out = sig.outputs[0].map(lambda s: s.substitute(instance.get))
    result = TensorType(tuple(it.axes) + tuple(cx.solver.resolve_axis(a) for a in out.axes), out.dtype)
    return ir.Route(result, e.span, fn.name, sig, index, tuple(args), tuple(kinds), tuple(dims), binding.value,
                    instance)
