"""The order of the tensors and blocks in each column, chosen to keep wire crossings to the fewest.

The layout is a layered graph: layer 0 is a body's inputs (in their order), then one layer per
column (its blocks and the tensors passing it), the last being its results.  A node has ports:
the wires entering it from the left (grouped by input) and the number leaving it to the right.
Two wires cross in a gap when their order swaps across it, so a gap's crossings are the inversions
of its wires' (left rank, right rank) pairs.

Minimising crossings is NP-hard in general, but a body's columns hold few nodes: the classic
heuristic (sweeps left to right and back, sorting each layer by the barycenter of its neighbours,
then moves of single nodes while they help) gives a first bound, and where the orders to try are
few enough, a branch-and-bound search over them all finds the least.  The first and last layers
are fixed.  Only strict improvements are taken, so the result is deterministic and never worse
than the order given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import permutations

SWEEPS = 6
SEARCH = 300_000  # the most orders (the product of the layers' factorials) searched exhaustively


@dataclass
class Node:
    key: object
    inputs: list[list[tuple[object, int] | None]]  # per input, per wire: (node of the last layer, port), or free
    outs: int
    commutative: bool = False  # two inputs that it takes in the order they lie


Layers = list[list[Node]]


def _out_ranks(layer: list[Node]) -> dict:
    ranks, n = {}, 0
    for node in layer:
        ranks[node.key] = n
        n += node.outs
    return ranks


def _edges(left: list[Node], right: list[Node]) -> list[tuple[int, int, object, object]]:
    """The wires of a gap, as (rank on the left, rank on the right, left node's key, right node's)."""
    base = _out_ranks(left)
    index = {node.key: i for i, node in enumerate(left)}
    edges, t = [], 0
    for node in right:
        inputs = node.inputs
        if node.commutative and len(inputs) == 2:
            def place(wires):
                return min((index[w[0]] for w in wires if w is not None), default=len(left))
            if place(inputs[1]) < place(inputs[0]):
                inputs = [inputs[1], inputs[0]]
        for wires in inputs:
            for w in wires:
                if w is not None:
                    edges.append((base[w[0]] + w[1], t, w[0], node.key))
                t += 1
    return edges


def gap_crossings(left: list[Node], right: list[Node]) -> int:
    lefts = [e[0] for e in _edges(left, right)]  # in right order
    return sum(1 for i, a in enumerate(lefts) for b in lefts[i + 1:] if a > b)


def crossings(layers: Layers) -> int:
    return sum(gap_crossings(a, b) for a, b in zip(layers, layers[1:]))


def _barycenter_sort(layers: Layers, k: int, from_left: bool) -> None:
    layer = layers[k]
    weight: dict = {}
    if from_left:
        for s, _, _, key in _edges(layers[k - 1], layer):
            weight.setdefault(key, []).append(s)
    else:
        for _, t, key, _ in _edges(layer, layers[k + 1]):
            weight.setdefault(key, []).append(t)
    bary, last = [], -1.0
    for i, node in enumerate(layer):
        got = weight.get(node.key)
        last = sum(got) / len(got) if got else last  # a node without neighbours there stays after the one before it
        bary.append((last, i))
    layer[:] = [layer[i] for _, i in sorted(bary)]



def _local(layers: Layers, k: int) -> int:
    return gap_crossings(layers[k - 1], layers[k]) + (gap_crossings(layers[k], layers[k + 1])
                                                      if k + 1 < len(layers) else 0)


def _refine(layers: Layers) -> None:
    """Move single nodes of a layer to the place where they cross least, while that helps."""
    for _ in range(4):
        better = False
        for k in range(1, len(layers) - 1):
            layer = layers[k]
            for node in list(layer):
                now = _local(layers, k)
                i = layer.index(node)
                layer.pop(i)
                best, at = now, i
                for j in range(len(layer) + 1):
                    if j == i:
                        continue
                    layer.insert(j, node)
                    got = _local(layers, k)
                    layer.pop(j)
                    if got < best:
                        best, at = got, j
                layer.insert(at, node)
                better = better or best < now
        if not better:
            return


def minimise(layers: Layers) -> list[list[object]]:
    """Orders (keys, per layer) with the fewest crossings found; `layers` is left in that order."""
    best = crossings(layers)
    kept = [list(layer) for layer in layers]
    free = range(1, len(layers) - 1)
    for _ in range(SWEEPS if best else 0):
        for k in free:
            _barycenter_sort(layers, k, True)
        for k in reversed(free):
            _barycenter_sort(layers, k, False)
        got = crossings(layers)
        if got < best:
            best, kept = got, [list(layer) for layer in layers]
        if not best:
            break
    layers[:] = kept
    if best:
        _refine(layers)
    if crossings(layers) and math.prod(math.factorial(len(layer)) for layer in layers[1:-1]) <= SEARCH:
        _search(layers)
    return [[node.key for node in layer] for layer in layers]


def _search(layers: Layers) -> None:
    """Every order of every free layer, left to right, cut off where the crossings so far already
    reach the best: `layers` gets the first order with the fewest."""
    best, chosen = crossings(layers), [list(layer) for layer in layers]
    now = [list(layer) for layer in layers]
    last = len(layers) - 1

    def visit(k: int, so_far: int) -> None:
        nonlocal best, chosen
        if k == last:
            total = so_far + gap_crossings(now[k - 1], now[k])
            if total < best:
                best, chosen = total, [list(layer) for layer in now]
            return
        for each in permutations(layers[k]):
            now[k] = list(each)
            cost = so_far + gap_crossings(now[k - 1], now[k])
            if cost < best:
                visit(k + 1, cost)
    visit(1, 0)
    layers[:] = chosen
