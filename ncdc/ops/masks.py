"""Masks: comparisons giving `bool` wires, `where`, and the causal mask `tril`.

Their typing rules; how each is spelt in a back end is that back end's table.  Comparisons and
`where` line their operands up as arithmetic does (docs §7).
"""

from __future__ import annotations

from .. import ir, tree
from ..checker.numbers import check_tensor_operand
from ..diagnostics import fail
from ..ir import BOOL, FLOAT, INT, ScalarType, TensorType
from .functions import no_brackets, size_argument

COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
EQUALITIES = frozenset({"==", "!="})  # the comparisons that booleans take too


def check_compare(cx, op: str, brackets, e: tree.BinOp) -> ir.Value:
    left, right = cx.tensor(e.left, "operand"), cx.tensor(e.right, "operand")
    lt, rt = cx.solver.resolve_type(left.type), cx.solver.resolve_type(right.type)
    if isinstance(lt, ScalarType) and isinstance(rt, ScalarType):
        fail("E0320", f"`{op}` compares two numbers: a comparison needs a wire", e.span, "no wire here",
             help="compare a wire with a number (`T < 3`) or two wires (`A <= B`)")
    dtypes = [t.dtype if isinstance(t, TensorType) else None for t in (lt, rt)]
    for dtype, side in zip(dtypes, (e.left, e.right)):
        if dtype == BOOL and op not in EQUALITIES:
            fail("E0320", f"`{op}` orders numbers; booleans have no order", side.span,
                 f"this is `{cx.show(cx.tensor(side).type)}`", help="compare booleans with `==` or `!=`")
    if (BOOL in dtypes) and dtypes != [BOOL, BOOL]:
        side = e.left if dtypes[0] != BOOL else e.right
        fail("E0320", f"`{op}` compares booleans with numbers", side.span,
             "this is " + ("a number" if dtypes[dtypes.index(BOOL) ^ 1] is None
                           else f"`{cx.show(cx.tensor(side).type)}`"),
             help="compare booleans with booleans")
    if isinstance(lt, ScalarType) or isinstance(rt, ScalarType):
        tensor = rt if isinstance(lt, ScalarType) else lt
        assert isinstance(tensor, TensorType)
        check_tensor_operand(left if isinstance(lt, ScalarType) else right, cx.solver)
        return ir.Compare(TensorType(tensor.axes, BOOL), e.span, op, left, right)
    result, (left_align, right_align) = cx.align(left, right, e)
    return ir.Compare(TensorType(result.axes, BOOL), e.span, op, left, right, left_align, right_align)


def check_where(cx, name: str, brackets, e: tree.Call) -> ir.Value:
    no_brackets(name, brackets, e)
    if e.options:
        fail("E0203", f"`{name}` takes no options", e.options[0].span, "unexpected option")
    if len(e.args) != 3:
        fail("E0201", f"`{name}` takes 3 arguments, got {len(e.args)}", e.span, "in this call",
             help="`where(C, A, B)` is A where the bool wire C holds, else B")
    nodes = [cx.tensor(a) for a in e.args]
    types = [cx.solver.resolve_type(n.type) for n in nodes]
    if not isinstance(types[0], TensorType) or types[0].dtype != BOOL:
        fail("E0321", f"the condition of `{name}` must be a bool wire", e.args[0].span,
             "a number" if isinstance(types[0], ScalarType) else f"this is `{cx.show(types[0])}`",
             help="compare it first, for example `where(M > 0, A, B)`")
    branches = [t.dtype if isinstance(t, TensorType) else None for t in types[1:]]
    if BOOL in branches and branches != [BOOL, BOOL]:
        side = e.args[1] if branches[0] != BOOL else e.args[2]
        side_type = cx.tensor(side).type
        fail("E0321", f"the branches of `{name}` mix booleans and numbers", side.span,
             "a number" if isinstance(side_type, ScalarType) else f"this is `{cx.show(side_type)}`",
             help="give both branches bool elements, or both numbers")
    # The branches first: the result has their axes, and the condition lines up with them.
    order = [1, 2, 0]
    result, aligns = cx.line_up([nodes[i] for i in order], e.span, [e.args[i].span for i in order], f"`{name}`")
    aligns = [aligns[order.index(i)] for i in range(3)]
    if branches == [BOOL, BOOL]:
        dtype = BOOL
    elif all(d == INT or (d is None and _integral(n)) for d, n in zip(branches, nodes[1:])):
        dtype = INT
    else:
        dtype = FLOAT  # integers promote to floats beside a float, as in torch
    return ir.Where(TensorType(result.axes, dtype), e.span, nodes[0], nodes[1], nodes[2], tuple(aligns))


def _integral(node: ir.Value) -> bool:
    from ..checker.body import _integral as integral

    return integral(node)


def check_tril(cx, name: str, brackets, e: tree.Call) -> ir.Value:
    no_brackets(name, brackets, e)
    names = [a for a in e.args if isinstance(a, tree.Name)]
    if e.options or len(e.args) != 2 or len(names) != 2:
        fail("E0322", f"`{name}` takes two sizes: `{name}(y, x)` is the causal mask `bool y x`", e.span,
             "expected two size names", help="name the axes of the scores it masks: `tril(y, x)` for `S: y x`")
    axes = [size_argument(cx, name, arg, "the sizes of the axes it masks", "a mask") for arg in names]
    return ir.Tril(TensorType(tuple(axes), BOOL), e.span, axes[0].size, axes[1].size)
