"""Structural operations: contraction (`einsum`), moving, binding and unbinding axes (`rearrange`,
`flatten`), joining wires (`concat`) and the unit η (`eye`); their typing rules.

Patterns (`X: a (k h)`) name a wire's axes locally; a name that is a size in scope means that size.
"""

from __future__ import annotations

from .. import ir, tree
from ..diagnostics import Diagnostic, Label, NcdcError, fail
from ..ir import Axis, ScalarType, TensorType
from ..sizes import Size, product
from ..source import Span
from ..checker.scope import distinct_labels_of, labels_of, unknown_size
from .functions import _operand, no_brackets


EINSUM_LETTERS = 52  # torch.einsum's subscripts: one letter per axis, a-z and A-Z


def check_flatten(cx, name: str, brackets, e: tree.Call) -> ir.Value:
    arg, t = _operand(cx, name, e)
    no_brackets(name, brackets, e)
    if isinstance(t, ScalarType) or t.rank == 0:
        fail("E0204", "`flatten` needs a tensor with axes", e.args[0].span, "nothing to flatten")
    return ir.Flatten(t.with_axes((Axis(product(t.sizes), e.span, t.axes),)), e.span, arg, t.rank)


def check_einsum(cx, name: str, brackets, e: tree.Call) -> ir.Value:
    """`einsum[y x](Q, K)` contracts the axes missing from the output; `rearrange[...]` only moves,
    binds and unbinds them.  `X: a b` names a wire's axes locally."""
    if brackets is None or len(brackets) != 1 or isinstance(brackets[0], tree.Slice):
        fail("E0311", f"`{name}` needs its output axes: `{name}[y x](...)`", e.span, "missing output axes")
    if e.options:
        fail("E0203", f"`{name}` takes no options", e.options[0].span, "unexpected option")
    if not e.args:
        fail("E0201", f"`{name}` needs at least one argument", e.span, "no arguments")
    if name == "rearrange" and len(e.args) != 1:
        fail("E0201", f"`rearrange` takes 1 argument, got {len(e.args)}", e.span, "use einsum for several")
    sizes: dict[str, Axis] = {}
    args, in_labels = [], []
    for arg in e.args:
        value = arg.value if isinstance(arg, tree.Relabel) else arg
        node = cx.tensor(value)
        t = cx.solver.resolve_type(node.type)
        if isinstance(t, ScalarType):
            fail("E0204", f"arguments of `{name}` are tensors", value.span, "a number")
        if isinstance(arg, tree.Relabel):
            labels = pattern(cx, arg, t, sizes)
        else:
            labels = []
            for i, axis in enumerate(t.axes):
                if axis.label is None:
                    fail("E0312", f"axis {i + 1} of this argument has no name", value.span,
                         f"`{cx.show(t)}`", help=f"name its axes: `{name}[...]({value.span.text}: "
                         + " ".join(f"a{j}" for j in range(t.rank)) + ")`")
                labels.append(axis.label)
                unify_label(cx, axis.label, axis, sizes, value.span)
                for part in _parts(axis):  # a bound axis may be unbound by naming its parts, at any depth
                    if part.label is not None:
                        unify_label(cx, part.label, part, sizes, value.span)
        args.append(node)
        in_labels.append(labels)
    out_labels, out_axes = [], []
    flat_in = [l for labels in in_labels for l in labels]
    for axis_node in brackets[0].axes:
        label_axis = output_axis(cx, axis_node, sizes, name, e)
        out_labels.append(label_axis[0])
        out_axes.append(label_axis[1])
    # A bound axis whose parts, not itself, appear in the output is unbound.
    out_leaves = set(ir.leaves(out_labels))
    for labels, node in zip(in_labels, args):
        axes = cx.solver.resolve_type(node.type).axes
        for i, label in enumerate(labels):
            if isinstance(label, str) and label not in out_leaves and axes[i].parts \
                    and any(p.label in out_leaves for p in _parts(axes[i])):
                unbound = _unbound(axes[i], out_leaves)
                if all(isinstance(part, str) for part in unbound):
                    labels[i] = ir.Group(tuple(unbound))
    flat_in = [l for labels in in_labels for l in labels]
    seen = set()
    for label, axis_node in zip(out_labels, brackets[0].axes):
        if label in seen:
            fail("E0306", f"`{label}` appears twice in the output of `{name}`", axis_node.span, "repeated")
        seen.add(label)
    spelled: set[str] = set()
    for label, axis_node in zip(out_labels, brackets[0].axes):  # one index of the contraction, once
        for leaf in ir.leaves([label]):
            if leaf in spelled:
                fail("E0306", f"`{leaf}` appears twice in the output of `{name}`, inside a bound group",
                     axis_node.span, "repeated", help=f"name the two axes apart with a pattern "
                     f"(`X: ... {leaf}2`), or keep the group bound as an input gives it")
            spelled.add(leaf)
    if name == "einsum":
        warn_repeated_in_group(cx, out_labels, brackets[0].axes)
    if name == "rearrange":
        leaves_in = ir.leaves(flat_in)
        leaves_out = ir.leaves(out_labels)
        if sorted(leaves_in) != sorted(leaves_out):
            missing = [l for l in leaves_in if l not in leaves_out]
            fail("E0306", "`rearrange` must keep every axis" if missing else
                 "`rearrange` cannot create axes", brackets[0].span,
                 f"missing {', '.join(f'`{m}`' for m in missing)}" if missing else "new axes",
                 help="use `sum[...]` or `einsum` to contract axes")
    if name == "einsum":
        names = set(ir.leaves(flat_in)) | set(ir.leaves(out_labels))
        if len(names) > EINSUM_LETTERS:
            fail("E0319", f"`einsum` over {len(names)} axis names: at most {EINSUM_LETTERS} are supported", e.span,
                 f"{len(names)} distinct axes in the arguments and the output",
                 notes=["torch.einsum names each axis with one letter, a-z and A-Z"],
                 help="contract in several steps, each over fewer axes, or bind axes that move together "
                      "into one, `(a b)`, first")
    label_sizes = {label: axis.size for label, axis in sizes.items()}
    if name == "rearrange":
        result = cx.solver.resolve_type(args[0].type).with_axes(out_axes)
        return ir.Rearrange(result, e.span, args[0], tuple(in_labels[0]), tuple(out_labels), label_sizes)
    return ir.Einsum(TensorType(tuple(out_axes)), e.span, tuple(args), tuple(tuple(labels) for labels in in_labels),
                     tuple(out_labels), label_sizes)

def warn_repeated_in_group(cx, out_labels: list, axis_nodes) -> None:
    """W0001: an output name repeated inside a bound group (`(g hd) hd`): either a diagonal or two
    different axes under one name, silently."""
    first: dict[str, tuple[ir.Label, Span]] = {}
    for label, axis_node in zip(out_labels, axis_nodes):
        for leaf in _node_leaves(axis_node):
            if leaf not in first:
                first[leaf] = (label, axis_node.span)
                continue
            before, span = first[leaf]
            cx.warn(Diagnostic(
                "W0001", f"`{leaf}` appears twice in the output of `einsum`, in `{before}` and in `{label}`",
                axis_node.span, "repeated here",
                notes=[f"one name is one index: the two `{leaf}` axes are a diagonal, or two axes named as one"],
                help=f"name the axes apart with a pattern (`X: ... {leaf}2`)",
                labels=[Label(span, f"`{leaf}` first here")]))
            break


def _node_leaves(node) -> list[str]:
    if isinstance(node, tree.SizeGroup) and len(node.items) > 1:
        return [leaf for item in node.items for leaf in _node_leaves(item)]
    if not _named(node):
        return []
    return [labels_of(tree.TensorTypeNode([node], node.span))[0][0]]


def pattern(cx, arg: tree.Relabel, t: TensorType, sizes: dict) -> list[ir.Label]:
    if len(arg.type.axes) != t.rank:
        fail("E0202", f"the pattern names {len(arg.type.axes)} axes, the wire has {t.rank}", arg.type.span,
             f"the wire is `{cx.show(t)}`")
    labels: list[ir.Label] = []
    for axis_node, axis in zip(arg.type.axes, t.axes):
        group = _flat_group(axis_node) if isinstance(axis_node, tree.SizeGroup) and len(axis_node.items) > 1 \
            else None  # `((k h) w)` unbinds to `k h w`: nesting does not change the order of elements
        if group is None:
            (label, span), = labels_of(tree.TensorTypeNode([axis_node], axis_node.span))
            match_size_name(cx, label, axis, span)
            unify_label(cx, label, Axis(axis.size, axis_node.span, axis.parts), sizes, axis_node.span)
            labels.append(label)
            continue
        # Unbinding `(k h)`: every part but one must have a known size.
        parts = [labels_of(tree.TensorTypeNode([p], p.span))[0] for p in group]
        known_parts = _leaf_axes(axis)
        if len(known_parts) == len(parts):  # a bound axis knows its parts: `(a b)` unbinds to them
            for (label, span), part in zip(parts, known_parts):
                if label_size(cx, label, sizes) is None:
                    sizes[label] = Axis(part.size, span)
        known = Size.of(1)
        unknown = None
        for label, span in parts:
            size = label_size(cx, label, sizes)
            if size is None:
                if unknown is not None:
                    fail("E0305", f"cannot tell the sizes of `{unknown}` and `{label}` apart", span,
                         "two unknown parts", help="name them after sizes in scope")
                unknown = label
            else:
                known = known * size
        if unknown is not None:
            quotient = axis.size // known
            if not cx.solver.equal(quotient * known, axis.size):
                fail("E0305", f"`{cx.solver.describe(axis.size)}` is not a multiple of "
                     f"`{cx.solver.describe(known)}`", axis_node.span, "cannot unbind")
            sizes[unknown] = Axis(quotient, axis_node.span)
        else:
            outcome = cx.solver.unify(known, axis.size, axis_node.span)
            if outcome is not None:
                cx.size_error(outcome, Axis(known, axis_node.span), axis, axis_node.span, "this pattern")
        for label, span in parts:
            unify_label(cx, label, Axis(label_size(cx, label, sizes), span), sizes, span)  # type: ignore[arg-type]
        labels.append(ir.Group(tuple(label for label, _ in parts)))
    return labels

def match_size_name(cx, label: str, axis: Axis, span: Span) -> None:
    """A pattern may rename axes freely, but a name that is a size here means that size."""
    binding = cx.scope.lookup_size(label)
    if binding is None:
        return
    outcome = cx.solver.unify(binding.value, axis.size, span)
    if outcome is not None:
        cx.size_error(outcome, Axis(binding.value, binding.span), axis, span, f"the pattern's axis `{label}`")

def label_size(cx, label: str, sizes: dict) -> Size | None:
    if label in sizes:
        return sizes[label].size
    binding = cx.scope.lookup_size(label)
    return binding.value if binding is not None else None

def unify_label(cx, label, axis: Axis, sizes: dict, span: Span) -> None:
    if label not in sizes:
        sizes[label] = axis
        return
    outcome = cx.solver.unify(sizes[label].size, axis.size, span)
    if outcome is not None:
        first = sizes[label]
        exp, act = cx.solver.describe(first.size), cx.solver.describe(axis.size)
        notes, labels = cx.solver.origins_of(first.size, axis.size)
        if first.origin is not None:
            labels.append(Label(first.origin, f"`{label}` is `{exp}` here"))
        code, verb = ("E0301", "has two sizes") if outcome.reason == "mismatch" else ("E0302", "may have two sizes")
        fail(code, f"axis `{label}` {verb}: `{exp}` and `{act}`", span, f"`{label}` is `{act}` here", notes,
             labels=labels,
             help="axes with one name are one axis; name the arguments' axes apart with a pattern "
                  "(`X: a b`) if they are different axes")

def output_axis(cx, node: tree.SizeNode, sizes: dict, name: str, e) -> tuple:
    while isinstance(node, tree.SizeGroup) and len(node.items) == 1 and isinstance(node.items[0], tree.SizeGroup):
        node = node.items[0]  # `((a b))` is `(a b)`
    whole = labels_of(tree.TensorTypeNode([node], node.span))[0][0] if _named(node) else None
    if whole in sizes:  # a bound axis of an argument, kept bound: `(Y1 Y2)`
        return whole, sizes[whole]
    if isinstance(node, tree.SizeGroup) and len(node.items) > 1:
        parts = [output_axis(cx, p, sizes, name, e) for p in node.items]
        return ir.Group(tuple(ir.leaves(p[0] for p in parts))), Axis(product(a.size for _, a in parts), node.span,
                                                tuple(a for _, a in parts))
    (label, span), = labels_of(tree.TensorTypeNode([node], node.span))
    if label not in sizes:
        fail("E0306", f"`{label}` is not an axis of the arguments of `{name}`", span, "unknown axis",
             notes=["the arguments have " + ", ".join(f"`{l}`" for l in sizes)])
    return label, Axis(sizes[label].size, sizes[label].origin, sizes[label].parts)

def check_concat(cx, name: str, brackets, e: tree.Call) -> ir.Value:
    """`concat[c](A, B)`: join wires along the axis named `c` (its size is the sum); the other
    axes must match.  Patterns name the axes where the wires do not: `concat[t](C: t m, P: t m)`."""
    if e.options:
        fail("E0203", f"`{name}` takes no options", e.options[0].span, "unexpected option")
    if brackets is None or len(brackets) != 1 or isinstance(brackets[0], tree.Slice):
        fail("E0311", "`concat` needs the axis to join along: `concat[c](A, B)`", e.span, "which axis?")
    names = distinct_labels_of(brackets[0])
    if len(names) != 1:
        fail("E0311", "`concat` joins along one axis", brackets[0].span, f"{len(names)} axes")
    label, label_span = names[0]
    if len(e.args) < 2:
        fail("E0201", "`concat` joins at least two wires", e.span, f"{len(e.args)} given")
    nodes, types, dims = [], [], []
    for arg in e.args:
        value = arg.value if isinstance(arg, tree.Relabel) else arg
        node = cx.tensor(value)
        t = cx.solver.resolve_type(node.type)
        if isinstance(t, ScalarType):
            fail("E0204", "`concat` joins tensors", value.span, "a number")
        labels = pattern(cx, arg, t, {}) if isinstance(arg, tree.Relabel) else [a.label for a in t.axes]
        if labels.count(label) != 1:
            code, what = ("E0303", "has no axis") if label not in labels else ("E0304", "has several axes")
            named = " ".join(str(label) for label in labels)
            shown = f"`{named}`" + (f" (`{cx.show(t)}`)" if isinstance(arg, tree.Relabel) else "")
            fail(code, f"{shown} {what} `{label}`", arg.span, "joined along `" + label + "`",
                 help=f"name its axes with a pattern: `concat[{label}]({value.span.text}: ...)`")
        nodes.append(node)
        types.append(t)
        dims.append(labels.index(label))
    first, dim = types[0], dims[0]
    total = first.axes[dim].size
    for arg, t, d in zip(e.args[1:], types[1:], dims[1:]):
        if t.rank != first.rank or d != dim:
            fail("E0202", "`concat` needs wires of the same rank, joined at the same position", arg.span,
                 f"this is `{cx.show(t)}`", notes=[f"the first is `{cx.show(first)}`"])
        if t.dtype != first.dtype:
            fail("E0316", f"`concat` joins wires of one element type: {t.dtype} and {first.dtype}", arg.span,
                 f"this is `{cx.show(t)}`", notes=[f"the first is `{cx.show(first)}`"])
        for i, (a, b) in enumerate(zip(first.axes, t.axes)):
            if i == dim:
                continue
            outcome = cx.solver.unify(a.size, b.size, arg.span)
            if outcome is not None:
                cx.size_error(outcome, a, b, arg.span, f"`concat`, axis {i + 1}", first, t,
                                callee=f"wires are joined along `{label}` only")
        total = total + t.axes[dim].size
    axes = list(first.axes)
    axes[dim] = Axis(total, e.span)
    unbatched = [cx.unbatched(n) for n in nodes]
    uncertain = any(isinstance(n, ir.Read) and n.name in cx.uncertain_wires for n in nodes)
    return ir.Concat(first.with_axes(axes), e.span, tuple(nodes), dim, first.rank,
                     uncertain or (any(unbatched) and not all(unbatched)))


def check_eye(cx, name: str, brackets, e: tree.Call) -> ir.Value:
    if len(e.args) != 1 or not isinstance(e.args[0], tree.Name):
        fail("E0201", "`eye` takes one size: `eye(b)` is the unit of shape `b b`", e.span, "expected a size")
    binding = cx.scope.lookup_size(e.args[0].name)
    if binding is None:
        raise NcdcError(unknown_size(e.args[0].name, e.args[0].span, cx.scope))
    axis = Axis(binding.value, e.args[0].span)
    return ir.Eye(TensorType((axis, axis)), e.span, binding.value)


def _named(node) -> bool:
    if isinstance(node, tree.SizeName):
        return True
    return isinstance(node, tree.SizeGroup) and all(_named(i) for i in node.items)


def _parts(axis: Axis) -> list[Axis]:
    """The axes bound into `axis`, and theirs: `((a b) c)` has `(a b)`, `a`, `b` and `c`."""
    out = []
    for part in axis.parts:
        out.append(part)
        out.extend(_parts(part))
    return out


def _unbound(axis: Axis, wanted: set) -> list[str]:
    """The names a bound axis unbinds to: its parts, each unbound further unless it is `wanted`
    whole or none of its own parts is wanted."""
    out: list[str] = []
    for part in axis.parts:
        if part.label in wanted or not part.parts or not any(p.label in wanted for p in _parts(part)):
            out.append(part.label)  # type: ignore[arg-type]
        else:
            out.extend(_unbound(part, wanted))
    return out


def _flat_group(node: tree.SizeGroup) -> list:
    """The items of a bound group in a pattern, nested groups spelled out."""
    out: list = []
    for item in node.items:
        while isinstance(item, tree.SizeGroup) and len(item.items) == 1 and isinstance(item.items[0], tree.SizeGroup):
            item = item.items[0]
        out.extend(_flat_group(item) if isinstance(item, tree.SizeGroup) and len(item.items) > 1 else [item])
    return out


def _leaf_axes(axis: Axis) -> list[Axis]:
    """The innermost axes bound into `axis`, in order."""
    return [leaf for part in axis.parts for leaf in (_leaf_axes(part) if part.parts else [part])]
