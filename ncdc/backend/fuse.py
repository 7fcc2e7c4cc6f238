"""Recognising scaled dot-product attention, so that it lowers to PyTorch's fused kernel.

The diagram of Figure 20 (contract k, scale, SoftMax over x, contract x) is one call of
`torch.nn.functional.scaled_dot_product_attention`, which never stores the `y x` score tensor; so
are its masked forms (a `bool` mask through `where(M, S, -inf)`, a float mask added to the scaled
scores, the causal mask `tril(y, x)`) and dropout on the attention weights.  The rewrite is the
torch back end's alone: it works on a copy of a body and leaves the IR as it is.
"""

from __future__ import annotations

import math
from dataclasses import replace

from .. import ir
from ..ir import Value


def fuse_attention(body: list) -> list:
    """The statements of `body`, with each attention pattern replaced by one `Attention` node."""
    readers = ir.readers(body)
    defined = ir.producers([stmt for stmt in body if isinstance(stmt, ir.Assign) and len(stmt.targets) == 1])
    plans: dict[int, object] = {}
    removed: set[int] = set()
    position = {id(stmt): i for i, stmt in enumerate(body)}
    for i, stmt in enumerate(body):
        if isinstance(stmt, (ir.For, ir.If)):
            continue
        values = [stmt.value] if isinstance(stmt, ir.Assign) else stmt.values
        fused, spans, changed = [], [], False
        for value in values:
            match = _match(value, defined, readers)
            # The swallowed statements must be the ones just before: nothing may change their
            # inputs between them and the fused call.
            if match is None or sorted(position[id(s)] for s in match[1]) != list(range(i - len(match[1]), i)):
                fused.append(value)
                continue
            node, consumed, free = match
            removed.update(id(s) for s in consumed + free)
            spans += [s.span for s in consumed]
            fused.append(node)
            changed = True
        if changed:
            span = min(spans + [stmt.span], key=lambda s: (s.line, s.column)).to(stmt.span)
            plans[id(stmt)] = (replace(stmt, value=fused[0], span=span) if isinstance(stmt, ir.Assign)
                               else replace(stmt, values=fused, span=span))
    # Loop bodies are left as written: their wires may carry values from one turn to the next.
    return [plans.get(id(stmt), stmt) for stmt in body if id(stmt) not in removed]


def _match(node: Value, defined: dict, readers: dict):
    """`einsum[y v](softmax[x](einsum[y x](Q, K) / c), V)` -> attention(Q, K, V), with the statements
    whose single-use wires it swallowed (which must come just before it) and those of input-free
    wires (the causal mask), which may be anywhere before it.  The scaled scores may be masked,
    `where(M, S, -inf)` or `S + B`, and the weights go through a `Dropout` part."""
    consumed: list = []
    free: list = []
    if not isinstance(node, ir.Einsum) or len(node.operands) != 2:
        return None
    (p_labels, v_labels), out = node.inputs, node.output
    if len(p_labels) != 2 or len(v_labels) != 2 or out != (p_labels[0], v_labels[1]) or p_labels[1] != v_labels[0]:
        return None
    probabilities = _follow(node.operands[0], defined, readers, consumed)
    dropout = None
    if _is_dropout(probabilities):
        assert isinstance(probabilities, ir.Call)
        dropout = probabilities.part
        probabilities = _follow(probabilities.arguments[0], defined, readers, consumed)
    if not isinstance(probabilities, ir.Normalise) or probabilities.fn != "softmax" or probabilities.dim != 1:
        return None
    scores = _follow(probabilities.operand, defined, readers, consumed)
    masks: list[tuple] = []  # outermost first: a causal and a padding mask may both apply, one `where` each
    while len(masks) < 2 and (mask := _mask(scores, defined, readers)) is not None:
        masks.append(mask)
        scores = _follow(mask[0], defined, readers, consumed)
    scale = None
    if isinstance(scores, ir.Binary) and scores.op in ("/", "*") and scores.right.type is ir.SCALAR:
        scale = (scores.op, scores.right)
        scores = _follow(scores.left, defined, readers, consumed)
    if not isinstance(scores, ir.Einsum) or len(scores.operands) != 2:
        return None
    (q_labels, k_labels), s_out = scores.inputs, scores.output
    if len(q_labels) != 2 or len(k_labels) != 2 or q_labels[1] != k_labels[1] or s_out != (q_labels[0], k_labels[0]):
        return None
    if s_out != p_labels or any(isinstance(label, ir.Group) for label in q_labels + k_labels + v_labels):
        return None
    query, key, value = scores.operands[0], scores.operands[1], node.operands[1]
    assert isinstance(query.type, ir.TensorType) and isinstance(scores.type, ir.TensorType)
    default = scale is not None and scale[0] == "/" and _is_sqrt_of(scale[1], query.type.axes[1].size)
    attn_mask, align, causal = None, None, False
    for _, condition, condition_align in masks:
        triangle = _peek(condition, defined, readers)
        if condition_align is None and isinstance(triangle, ir.Tril) and not causal \
                and (triangle.rows, triangle.cols) == scores.type.sizes:
            if triangle is not condition:  # a wire read only here: its statement goes too
                assert isinstance(condition, ir.Read)
                free.append(defined[condition.local])
            causal = True  # the kernel's own causal mask, from the top-left corner
        elif attn_mask is None and (len(masks) == 1 or condition.type.dtype == ir.BOOL):
            attn_mask, align = _follow(condition, defined, readers, consumed), condition_align  # computed just before
        else:
            return None  # two masks, neither of them causal: left as written
    return ir.Attention(node.type, node.span, query, key, value, None if default else (scale or ("*", None)),
                        attn_mask, align, causal, dropout), consumed, free


def _mask(node: Value, defined: dict, readers: dict):
    """(the scores, the mask, its alignment with the scores) of masked scores, `where(M, S, -inf)` or
    `S + B` with B a float wire; else None.  The scores must have the result's axes."""
    if isinstance(node, ir.Where) and _is_minus_inf(node.right) and node.aligns[1] is None \
            and node.left.type is not ir.SCALAR:
        return node.left, node.condition, node.aligns[0]
    if isinstance(node, ir.Binary) and node.op == "+":
        sides = ((node.left, node.right, node.right_align, node.left_align),
                 (node.right, node.left, node.left_align, node.right_align))
        for scores, bias, align, own in sides:
            if own is None and isinstance(bias.type, ir.TensorType) and scores.type is not ir.SCALAR \
                    and bias.type.dtype == ir.FLOAT and _is_scores(_peek(scores, defined, readers), defined, readers):
                return scores, bias, align
    return None


def _is_scores(node: Value, defined: dict, readers: dict) -> bool:
    """Whether a value looks like the (scaled) scores: an einsum, or one divided or multiplied."""
    if isinstance(node, ir.Binary) and node.op in ("/", "*") and node.right.type is ir.SCALAR:
        node = _peek(node.left, defined, readers)
    return isinstance(node, ir.Einsum)


def _is_dropout(node: Value) -> bool:
    """A call of a module's `Dropout` part on the whole wire (not lifted)."""
    if not isinstance(node, ir.Call) or node.callee_kind != "component" or node.lifted:
        return False
    return isinstance(node.target, ir.Layer) and node.target.op == "Dropout"


def _is_minus_inf(node: Value) -> bool:
    if isinstance(node, ir.Neg):
        return isinstance(node.operand, ir.Const) and node.operand.value == math.inf
    return isinstance(node, ir.Const) and node.value == -math.inf


def _peek(node: Value, defined: dict, readers: dict) -> Value:
    """What `_follow` would look through, without swallowing it."""
    return _follow(node, defined, readers, [])


def _follow(node: Value, defined: dict, readers: dict, consumed: list) -> Value:
    """Look through a wire assigned once and read only here."""
    if isinstance(node, ir.Read) and len(readers.get(node.local, ())) == 1 and node.local in defined:
        stmt = defined[node.local]
        consumed.append(stmt)
        return stmt.value
    return node


def _is_sqrt_of(node: Value, size) -> bool:
    return (isinstance(node, ir.ScalarFn) and node.fn == "sqrt" and isinstance(node.operand, ir.SizeValue)
            and node.operand.size == size)


def grouped_attention(call: ir.Call):
    """Grouped-query attention through inner broadcasting: a lifted call of a def whose body is one
    fused attention of its inputs, where the keys and values lack the last lifted axes that the
    queries have (`attention[h g](Q: y h g k, K: x h k, V: x h k)`), and a mask, if any, has none of
    the lifted axes.  Returns (the attention, the positions of the query, key, value and mask among
    the call's arguments, the lifted axes in the order they are arranged, how many of them the keys
    have), for one kernel call with `enable_gqa=True`; else None."""
    if call.callee_kind != "def" or not call.lifted:
        return None
    body = fuse_attention(call.target.body)
    if len(body) != 1 or not isinstance(body[0], ir.Return) or len(body[0].values) != 1:
        return None
    node = body[0].values[0]
    if not isinstance(node, ir.Attention) or node.dropout is not None:
        return None
    if node.scale is not None and node.scale[1] is not None and not isinstance(node.scale[1], ir.Const):
        return None  # a scale in the callee's sizes
    params = call.target.params
    values = (node.query, node.key, node.value) + ((node.mask,) if node.mask is not None else ())
    roles = [next((i for i, p in enumerate(params) if isinstance(v, ir.Read) and v.local is p), None)
             for v in values]
    if None in roles or len(set(roles)) != len(params) or len(params) != len(values):
        return None
    order = list(call.before) + list(call.after)
    q, k, v = (call.layouts[i] for i in roles[:3])  # type: ignore[index]
    kept = [label for label in order if label in k.lifted]
    if set(q.lifted) != set(order) or set(k.lifted) != set(v.lifted) or kept != order[:len(kept)] \
            or len(kept) == len(order):
        return None
    if node.mask is not None and call.layouts[roles[3]].lifted:  # type: ignore[index]
        return None  # a mask with its own heads
    return node, roles, order, len(kept)
