"""Recognising scaled dot-product attention, so that it lowers to PyTorch's fused kernel.

The diagram of Figure 20 (contract k, scale, SoftMax over x, contract x) is one call of
`torch.nn.functional.scaled_dot_product_attention`, which never stores the `y x` score tensor.  The
rewrite is the torch back end's alone: it works on a copy of a body and leaves the IR as it is.
"""

from __future__ import annotations

from dataclasses import replace

from .. import ir
from ..ir import Node


def fuse_attention(body: list) -> list:
    """The statements of `body`, with each attention pattern replaced by one `attention` node."""
    uses = _uses(body)
    defined = {stmt.targets[0]: stmt for stmt in body if isinstance(stmt, ir.Assign) and len(stmt.targets) == 1}
    plans: dict[int, object] = {}
    removed: set[int] = set()
    position = {id(stmt): i for i, stmt in enumerate(body)}
    for i, stmt in enumerate(body):
        if isinstance(stmt, ir.For):
            continue
        values = [stmt.value] if isinstance(stmt, ir.Assign) else stmt.values
        fused, spans, changed = [], [], False
        for value in values:
            match = _match(value, defined, uses)
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


def _match(node: Node, defined: dict, uses: dict):
    """`einsum[y v](softmax[x](einsum[y x](Q, K) / c), V)` -> attention(Q, K, V), with the statements
    whose single-use wires it swallowed."""
    consumed = []
    if node.kind != "einsum" or len(node.args) != 2:
        return None
    (p_labels, v_labels), out = node.attrs["inputs"], node.attrs["output"]
    if len(p_labels) != 2 or len(v_labels) != 2 or out != [p_labels[0], v_labels[1]] or p_labels[1] != v_labels[0]:
        return None
    probabilities = _follow(node.args[0], defined, uses, consumed)
    if probabilities.kind != "normalise" or probabilities.attrs["fn"] != "softmax" or probabilities.attrs["dim"] != 1:
        return None
    scores = _follow(probabilities.args[0], defined, uses, consumed)
    scale = None
    if scores.kind == "binary" and scores.attrs["op"] in ("/", "*") and scores.args[1].type is ir.SCALAR:
        scale = (scores.attrs["op"], scores.args[1])
        scores = _follow(scores.args[0], defined, uses, consumed)
    if scores.kind != "einsum" or len(scores.args) != 2:
        return None
    (q_labels, k_labels), s_out = scores.attrs["inputs"], scores.attrs["output"]
    if len(q_labels) != 2 or len(k_labels) != 2 or q_labels[1] != k_labels[1] or s_out != [q_labels[0], k_labels[0]]:
        return None
    if s_out != p_labels or any(isinstance(l, tuple) for l in q_labels + k_labels + v_labels):
        return None
    query, key, value = scores.args[0], scores.args[1], node.args[1]
    default = scale is not None and scale[0] == "/" and _is_sqrt_of(scale[1], query.type.axes[1].size)
    attrs = {"scale": None if default else (scale or ("*", None))}
    return Node("attention", [query, key, value], node.type, node.span, attrs), consumed


def _follow(node: Node, defined: dict, uses: dict, consumed: list) -> Node:
    """Look through a wire assigned once and used only here."""
    if node.kind == "wire" and uses.get(node.attrs["name"]) == 1 and node.attrs["name"] in defined:
        stmt = defined[node.attrs["name"]]
        consumed.append(stmt)
        return stmt.value
    return node


def _is_sqrt_of(node: Node, size) -> bool:
    return (node.kind == "scalar_fn" and node.attrs["fn"] == "sqrt" and node.args[0].kind == "size"
            and node.args[0].attrs["size"] == size)


def _uses(body: list) -> dict:
    """How often each wire name is read, anywhere in the body; assigned more than once counts twice."""
    counts: dict[str, int] = {}

    def visit(node: Node) -> None:
        if node.kind == "wire":
            counts[node.attrs["name"]] = counts.get(node.attrs["name"], 0) + 1
        for arg in node.args:
            visit(arg)

    def block(stmts) -> None:
        for stmt in stmts:
            if isinstance(stmt, ir.Assign):
                visit(stmt.value)
                for t in stmt.targets:  # a reassigned wire is never fused away
                    counts[t] = counts.get(t, 0) + (1 if t in assigned else 0)
                    assigned.add(t)
            elif isinstance(stmt, ir.Return):
                for v in stmt.values:
                    visit(v)
            else:
                block(stmt.body)

    assigned: set[str] = set()
    block(body)
    return counts
