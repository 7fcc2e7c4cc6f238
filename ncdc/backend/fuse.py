"""Recognising scaled dot-product attention, so that it lowers to PyTorch's fused kernel.

The diagram of Figure 20 (contract k, scale, SoftMax over x, contract x) is one call of
`torch.nn.functional.scaled_dot_product_attention`, which never stores the `y x` score tensor.  The
rewrite is the torch back end's alone: it works on a copy of a body and leaves the IR as it is.
"""

from __future__ import annotations

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
            node, consumed = match
            removed.update(id(s) for s in consumed)
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
    whose single-use wires it swallowed."""
    consumed: list = []
    if not isinstance(node, ir.Einsum) or len(node.operands) != 2:
        return None
    (p_labels, v_labels), out = node.inputs, node.output
    if len(p_labels) != 2 or len(v_labels) != 2 or out != (p_labels[0], v_labels[1]) or p_labels[1] != v_labels[0]:
        return None
    probabilities = _follow(node.operands[0], defined, readers, consumed)
    if not isinstance(probabilities, ir.Normalise) or probabilities.fn != "softmax" or probabilities.dim != 1:
        return None
    scores = _follow(probabilities.operand, defined, readers, consumed)
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
    assert isinstance(query.type, ir.TensorType)
    default = scale is not None and scale[0] == "/" and _is_sqrt_of(scale[1], query.type.axes[1].size)
    return ir.Attention(node.type, node.span, query, key, value, None if default else (scale or ("*", None))), consumed


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
