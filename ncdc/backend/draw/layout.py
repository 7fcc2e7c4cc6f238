"""The column layout: a body's steps, left to right, one column each, so that every vertical section
shows what is in memory.

Tensors are stacked top to bottom in each column.  Before a step, its inputs are gathered next to
each other where the first of them was (a tensor still needed later is copied there, with a dot),
so that no wire ever runs through a block it does not enter; the rest keep their order, so wires
cross only where the data flow makes them.  Between columns, wires move on smooth curves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import font, order
from .blocks import CAPTION, LABEL, PITCH, SEG_GAP, SMALL, WIRE_TOP, Block, Runs, caption_width, stack_ys
from .svg import Canvas, num

MARGIN = 8.0
CURVE = 30.0  # width of a gap's curves
SKIP = 4  # a tensor next used this many steps on or more is saved (-> C) and loaded (C ->), as the paper's C_λ
SKIP_SIZE = 15.0
RELABEL = 2  # a wire that has run alongside this many columns without a label is labelled again


@dataclass(eq=False)
class Seg:
    """A tensor as drawn: one wire per axis, each with its label; `title` its type and spec line.
    Axes `joined` (a range) that travel together are one wire, as the paper draws x̄ for an image's
    axes: blocks still get one port per axis, those of a joined wire at its height."""

    labels: list[Runs]
    title: str
    name: str | None = None
    axes: list[str] = field(default_factory=list)  # the axes' sizes as the spec writes them
    joined: tuple[int, int] | None = None

    @property
    def count(self) -> int:
        """Its axes (at least one wire, for a number)."""
        return max(len(self.labels), 1)

    @property
    def wires(self) -> int:
        return self.count - (self.joined[1] - self.joined[0] - 1 if self.joined else 0)

    def wire_labels(self) -> list[Runs]:
        if not self.joined:
            return self.labels
        a, b = self.joined
        return self.labels[:a] + [joined_label(self.labels[a:b], self.axes[a:b])] + self.labels[b:]

    def per_axis(self, ys: list[float]) -> list[float]:
        """The heights of its axes, from those of its wires."""
        if not self.joined:
            return list(ys)
        a, b = self.joined
        return list(ys[:a]) + [ys[a]] * (b - a) + list(ys[a + 1:])


def joined_label(labels: list[Runs], axes: list[str]) -> Runs:
    """A joined wire's label: a power where its sizes are one number (28²), else the paper's x̄
    (ȳ where they are numbered y's: Y1 Y2)."""
    texts = {"".join(t for t, _ in runs) for runs in labels}
    if len(texts) == 1 and texts.pop().isdigit():
        return list(labels[0]) + [(str(len(labels)), "sup")]
    stems = {m.group(1).lower() if (m := re.search(r"([A-Za-z])\d", name)) else "x" for name in axes}
    return [((stems.pop() if len(stems) == 1 else "x") + "\u0304", "b")]


@dataclass
class Step:
    block: Block
    inputs: list[Seg]
    outputs: list[Seg]


@dataclass(eq=False)
class _Inst:
    """One drawn copy of a tensor: its wires from where it is made (or copied) to where it ends."""

    seg: Seg
    start: float = 0.0
    ys: list[float] = field(default_factory=list)
    d: list[list[tuple]] = field(default_factory=list)  # the path commands of each wire so far
    label_at: float | None = None  # where its labels go (x), if it gets labels
    label_id: str = ""
    labelled: int = 0  # the column where its labels were last drawn


@dataclass
class Fragment:
    """A laid-out body: drawn with `draw(cv, x, y)`; its inputs enter at `in_ys`, outputs leave at
    `out_ys` (relative to its top), at its left and right edges."""

    width: float
    height: float
    in_ys: list[list[float]]
    out_ys: list[list[float]]
    calls: list  # (x, y) -> draws, in order
    names: list[Runs] = field(default_factory=list)

    def draw(self, cv: Canvas, x: float, y: float) -> None:
        cv.fragments += 1
        prefix = f"f{cv.fragments}"
        for fn in self.calls:
            fn(cv, x, y, prefix)


def _label_width(seg: Seg) -> float:
    return max((font.width(r, LABEL) for r in seg.wire_labels()), default=0.0)


def layout(params: list[Seg], steps: list[Step], results: list[Seg], top: float = 0.0,
           left: float = 0.0) -> Fragment:
    """Lay out a body: `params` enter at the left edge, `results` leave at the right edge.  A first
    pass finds what each column holds; its order is then chosen for the fewest crossings."""
    columns = _columns(steps)
    layers: order.Layers = []
    _place(params, columns, results, top, left, record=layers)
    return _place(params, columns, results, top, left, orders=order.minimise(layers)[1:])


def _place(params: list[Seg], columns: list[list[Step]], results: list[Seg], top: float, left: float,
           orders: list[list] | None = None, record: order.Layers | None = None) -> Fragment:
    """The layout with each column in the given order (`orders`, by `_key`), else as it comes;
    `record` gets the inputs' layer, then each column's."""
    steps = [step for column in columns for step in column]
    starts = [0]
    for column in columns:
        starts.append(starts[-1] + len(column))
    uses: dict[int, list[int]] = {}
    for k, each in enumerate(steps):
        for s in each.inputs:
            uses.setdefault(id(s), []).append(k)
    for s in results:
        uses.setdefault(id(s), []).append(len(steps))

    def needed_after(seg: Seg, k: int) -> int:
        return sum(1 for u in uses.get(id(seg), []) if u > k)

    ops: list = []  # drawing calls, each (cv, ox, oy)
    state: list[_Inst] = [_Inst(p) for p in params]
    for inst in state:
        inst.label_at = left
    top += CAPTION  # room for the caption of a block on the first wires
    ys = stack_ys(top, [p.wires for p in params])
    for inst, wire_ys in zip(state, ys):
        inst.ys = wire_ys
        inst.start = left
        inst.d = [[("M", left, v)] for v in wire_ys]
    in_ys = [p.per_axis(y) for p, y in zip(params, ys)]
    x = left
    bottom = ys[-1][-1] + 10 if ys else top
    labels: list = []  # (x, y, runs, title, id)
    ends: list = []  # (x, y): wires that end unused
    dots: list = []  # (x, y, title)
    finished: list[_Inst] = []
    counter = [0]

    saved: dict[int, str] = {}  # tensors saved to memory (C_λ) until a step far on loads them
    skips: list = []  # (x, y, runs, title): the -> C and C -> markers

    def label_zone(born: list[_Inst], x: float, k: int, c: int) -> float:
        width = 0.0
        for inst in list(state):
            w = 0.0
            again = inst not in born and c - inst.labelled >= RELABEL and inst.label_id
            if inst in born or again:
                if not again:
                    counter[0] += 1
                    inst.label_id = f"w{counter[0]}"
                inst.labelled = c
                for j, y in enumerate(inst.ys):
                    wired = inst.seg.wire_labels()
                    runs = wired[j] if j < len(wired) else [("1", "")]
                    ident = f"{inst.label_id}-{j}" + (f"c{c}" if again else "")
                    labels.append((x + 4, y - 4, runs, inst.seg.title, ident))
                w = _label_width(inst.seg) + 10
            later = [u for u in uses.get(id(inst.seg), []) if u >= k]
            if later and later[0] - k >= SKIP and later[0] < len(steps) and inst.seg not in params:
                marker = [("→ " + (inst.seg.name or "C"), "")]
                end = x + max(w, 4)
                skips.append((end + 2, (inst.ys[0] + inst.ys[-1]) / 2 + 5, marker, "saved: " + inst.seg.title))
                for d, y in zip(inst.d, inst.ys):
                    d.append(("L", end, y))
                finished.append(inst)
                saved[id(inst.seg)] = inst.label_id
                state.remove(inst)
                w = max(w, 4) + font.width(marker, SKIP_SIZE) + 8
            width = max(width, w)
        return width

    born = list(state)
    last: list = list(state)  # the column before, for `record`
    if record is not None:
        record.append(_nodes(state, []))
    out_ys: list[list[float]] = []
    for c in range(len(columns) + 1):
        indexes = list(range(starts[c], starts[c + 1])) if c < len(columns) else [len(steps)]
        k = indexes[0]
        x += max(label_zone(born, x, k, c), 10.0)
        # The next state: drop what is never used again; for each step of the column, gather its
        # inputs where the first of them is (copying what is used again) into a group.
        items: list = [i for i in state if needed_after(i.seg, k - 1) > 0]
        for inst in state:
            if inst not in items:
                ends.append(inst)
        groups: list[_Group] = []
        for k in indexes:
            step = steps[k] if k < len(steps) else None
            if step is not None and step.block.swapped is not None:
                _in_place_order(step, items)
            near = (None, None) if step is None or step.inputs else _neighbours(steps, k)
            group = _gather(items, step.inputs if step else results, k, needed_after, saved, near)
            group.step, group.k = step, k
            groups.append(group)
        if orders is not None:
            rank = {key: n for n, key in enumerate(orders[c])}
            items.sort(key=lambda item: rank[_key(item)])
        if record is not None:
            record.append(_nodes(items, last))
            last = list(items)
        # Where everything is in this column: each tensor stays where it was, unless pushed down.
        y: float = top - CAPTION - 2  # a block's caption may use the band above the first wires (its body pads 2)
        moves: list = []
        spans: list = []
        for item in items:
            if isinstance(item, _Inst):
                y = max(y, item.ys[0] - WIRE_TOP) if item.ys else y
                wire_ys = stack_ys(y, [item.seg.wires])[0]
                moves.append((item, wire_ys))
                spans.append((y, wire_ys[-1] + 6))
                y += item.seg.wires * PITCH + SEG_GAP
                continue
            first = next((i for i in item.run if i.ys), None)
            block = item.step.block if item.step else None
            if block is None:  # the results, at the right edge
                for inst in item.run:
                    y = max(y, inst.ys[0] - WIRE_TOP) if inst.ys else y
                    wire_ys = stack_ys(y, [inst.seg.wires])[0]
                    moves.append((inst, wire_ys))
                    spans.append((y, wire_ys[-1] + 6))
                    y += inst.seg.wires * PITCH + SEG_GAP
                continue
            item.cap = CAPTION if block.caption else 0.0
            if first is not None:
                y = max(y, first.ys[0] - WIRE_TOP - 2 - item.cap)
            item.body_top = y + item.cap
            item.body_h = block.body_height()
            item.ins = stack_ys(item.body_top + 2, [i.seg.wires for i in item.run])
            item.outs = stack_ys(item.body_top + 2, [s.wires for s in item.step.outputs])
            moves += list(zip(item.run, item.ins))
            spans.append((y, item.body_top + item.body_h))
            y = item.body_top + item.body_h + SEG_GAP
        # The curves of the gap: every wire moves to its place in this column.
        changes = any(abs(a - b) > 0.05 for inst, new in moves for a, b in zip(inst.ys, new)) or \
            any(hasattr(i, "copy_of") for g in groups for i in g.run) or ends
        x0 = x
        x1 = x + (CURVE if changes else 0.0)
        for inst in ends:
            for j, yy in enumerate(inst.ys):
                inst.d[j].append(("L", x0 + 4, yy))
            finished.append(inst)
        ends_here = [(x0 + 4, yy) for inst in ends for yy in inst.ys]
        ends.clear()
        loads = [inst for g in groups for inst in g.run if hasattr(inst, "loaded")]
        entry = max((font.width([(inst.seg.name or "C", ""), (" →", "")], SKIP_SIZE) + 8 for inst in loads),
                    default=0.0)
        for inst, new in moves:
            if hasattr(inst, "loaded"):
                marker = [(inst.seg.name or "C", ""), (" →", "")]
                start = x1 + entry
                skips.append((start - 2, (new[0] + new[-1]) / 2 + 5, marker, "loaded: " + inst.seg.title, "end"))
                inst.d = [[("M", start, a)] for a in new]
                inst.ys = list(new)
                continue
            if hasattr(inst, "copy_of") and not inst.d:
                inst.d = [[("M", x0, a)] for a in inst.ys]
                inst.start = x0
                dots.extend((x0, a, inst.seg.title) for a in inst.ys)
            for d, a, b in zip(inst.d, inst.ys, new):
                d.append(("L", x0, a))
                if abs(a - b) > 0.05:
                    d.append(("C", (x0 + x1) / 2, a, (x0 + x1) / 2, b, x1, b))
            inst.ys = list(new)
        x = x1 + entry
        bottom = max([bottom] + [b + 4 for _, b in spans])
        for yy in ends_here:
            ops.append(_end_mark(*yy))
        if groups[0].step is None:
            x += 6
            for inst in groups[0].run:
                for d, a in zip(inst.d, inst.ys):
                    d.append(("L", x, a))
                finished.append(inst)
            out_ys = [i.seg.per_axis(i.ys) for i in groups[0].run]
            break
        # The blocks: all start at the column's left; narrower ones' outputs run on to its right.
        bx = x
        width = max(g.step.block.width for g in groups if g.step)
        ops.append(_separators(spans, bx, bx + width))
        state = []
        for item in items:
            if isinstance(item, _Inst):
                for d, a in zip(item.d, item.ys):
                    d.append(("L", bx + width, a))
                state.append(item)
                continue
            block = item.step.block
            for inst in item.run:
                for d, a in zip(inst.d, inst.ys):
                    d.append(("L", bx, a))
                finished.append(inst)
            ins = [i.seg.per_axis(ys) for i, ys in zip(item.run, item.ins)]
            outs = [s.per_axis(ys) for s, ys in zip(item.step.outputs, item.outs)]
            ops.append(_block_call(block, bx, item.body_top, item.body_top + item.body_h, ins, outs,
                                   item.cap, width, [not inst.seg.labels for inst in item.run]))
            made = [_Inst(s) for s in item.step.outputs]
            for inst, wire_ys in zip(made, item.outs):
                inst.ys = list(wire_ys)
                inst.start = bx + width
                inst.d = [[("M", bx + width, a)] for a in wire_ys]
            state += made
        born = [i for i in state if i.start == bx + width and len(i.d[0]) == 1]
        x = bx + width
    width = x
    for inst in finished:
        ops.append(_wire_call(inst))
    for lx, ly, runs, title, ident in labels:
        ops.append(_label_call(lx, ly, runs, title, ident))
    for skip in skips:
        ops.append(_skip_call(*skip))
    for dx, dy, title in dots:
        ops.append(_dot_call(dx, dy, title))
    return Fragment(width, bottom - top + CAPTION + 4, in_ys, out_ys, ops)


@dataclass(eq=False)
class _Group:
    """One step of a column: its block, and the tensors it takes, in order."""

    step: Step | None
    run: list
    k: int = 0
    cap: float = 0.0
    body_top: float = 0.0
    body_h: float = 0.0
    ins: list = field(default_factory=list)
    outs: list = field(default_factory=list)


def _columns(steps: list[Step]) -> list[list[Step]]:
    """Steps side by side: each as early as what it reads allows (a source, such as a learned
    tensor, just before its first reader), in spec order within a column."""
    maker: dict[int, int] = {}
    for k, step in enumerate(steps):
        for s in step.outputs:
            maker[id(s)] = k
    layer: dict[int, int] = {}
    for k, step in enumerate(steps):
        if step.inputs:
            layer[k] = 1 + max((layer.get(maker[id(s)], 0) for s in step.inputs if id(s) in maker), default=0)
    for k in reversed(range(len(steps))):
        if not steps[k].inputs:
            readers = [layer[j] for j in range(k + 1, len(steps)) if j in layer
                       and any(id(s) in {id(o) for o in steps[k].outputs} for s in steps[j].inputs)]
            layer[k] = min(readers, default=1) - 1
    columns: dict[int, list[Step]] = {}
    for k in sorted(range(len(steps)), key=lambda k: (layer[k], k)):
        columns.setdefault(layer[k], []).append(steps[k])
    return [columns[c] for c in sorted(columns)]


def _key(item) -> object:
    """What an item of a column is, the same in both passes of the layout."""
    return ("step", item.k) if isinstance(item, _Group) else id(item.seg)


def _nodes(items: list, last: list) -> list[order.Node]:
    """A column's items as the order's nodes, their wires coming from the column before (`last`)."""
    holders: dict[int, tuple] = {}
    for item in last:
        at = 0
        for seg in _made(item):
            holders[id(seg)] = (_key(item), at)
            at += seg.wires
    return [_node(item, holders) for item in items]


def _node(item, holders: dict) -> order.Node:
    run = [item] if isinstance(item, _Inst) else item.run
    inputs = [[None if hasattr(i, "loaded") or id(i.seg) not in holders else
               (holders[id(i.seg)][0], holders[id(i.seg)][1] + j) for j in range(i.seg.wires)] for i in run]
    step = item.step if isinstance(item, _Group) else None
    return order.Node(_key(item), inputs, sum(s.wires for s in _made(item)),
                      step is not None and step.block.swapped is not None)


def _made(item) -> list[Seg]:
    """The tensors an item of a column leaves to the next: itself, or its step's results."""
    if isinstance(item, _Inst):
        return [item.seg]
    return item.step.outputs if item.step else []


def _in_place_order(step: Step, items: list) -> None:
    """A commutative step takes its two inputs in the order they lie, top first (no crossing)."""
    def place(seg: Seg) -> int:
        return next((n for n, i in enumerate(items) if any(seg is s for s in _made(i))), len(items))
    a, b = step.inputs
    if place(b) < place(a):
        step.block = step.block.swapped()  # type: ignore[misc]
        step.inputs = [b, a]


def _neighbours(steps: list[Step], k: int) -> tuple[Seg | None, Seg | None]:
    """The inputs of the first reader of a source step's result just before and after it."""
    made = {id(s) for s in steps[k].outputs}
    reader = next((s for s in steps[k + 1:] if any(id(i) in made for i in s.inputs)), None)
    if reader is None:
        return None, None
    port = next(j for j, i in enumerate(reader.inputs) if id(i) in made)
    before = [i for i in reader.inputs[:port] if id(i) not in made]
    after = [i for i in reader.inputs[port + 1:] if id(i) not in made]
    return (before[-1] if before else None), (after[0] if after else None)


def _gather(items: list, wanted: list[Seg], k: int, needed_after, saved, near=(None, None)) -> _Group:
    """Take a step's inputs out of `items` (copies of those used again later) and put the step's
    group where the fewest wires lie between it and them; a source goes next to what its reader
    takes just before it (or after it), `near`."""
    run: list = []
    moved: set[int] = set()
    taken: dict[int, int] = {}
    for seg in wanted:
        taken[id(seg)] = taken.get(id(seg), 0) + 1
    present: list = []  # the inputs as they lie in `items`
    used_here: dict[int, int] = {}
    for seg in wanted:
        used_here[id(seg)] = used_here.get(id(seg), 0) + 1
        source = next((i for i in items if isinstance(i, _Inst) and i.seg is seg and id(i) not in moved), None)
        if source is None:
            source = next((i for i in run if i.seg is seg), None)
        if source is None and id(seg) in saved:  # loaded from memory
            loaded = _Inst(seg)
            loaded.label_id = saved[id(seg)]
            loaded.loaded = True  # type: ignore[attr-defined]
            run.append(loaded)
            continue
        if source is None:
            raise ValueError("a step reads a tensor that is not there")
        if source in items:
            present.append(source)
        last = needed_after(seg, k) == 0 and used_here[id(seg)] == taken[id(seg)] and source in items
        if last and id(source) not in moved:
            moved.add(id(source))
            run.append(source)
        else:
            copy = _Inst(seg)
            copy.ys = list(source.ys)
            copy.label_id = source.label_id
            copy.labelled = source.labelled
            copy.copy_of = source  # type: ignore[attr-defined]
            run.append(copy)
    at = _nearest(items, present, moved) if present else 0
    if not wanted:
        holders = [[n for n, i in enumerate(items) if any(seg is s for s in _made(i))] for seg in near]
        at = holders[0][0] + 1 if holders[0] else holders[1][0] if holders[1] else len(items)
    group = _Group(None, run)
    items.insert(at, group)
    items[:] = [i for i in items if not (isinstance(i, _Inst) and id(i) in moved)]
    return group


def _nearest(items: list, present: list, moved: set[int]) -> int:
    """The place among the inputs' that the fewest other wires lie between (the first, on a tie)."""
    def wires(item) -> int:
        return item.seg.wires if isinstance(item, _Inst) else sum(i.seg.wires for i in item.run)
    stay = [0 if isinstance(i, _Inst) and id(i) in moved else wires(i) for i in items]
    where = [items.index(p) for p in present]

    def cost(a: int) -> int:
        return sum(sum(stay[min(q, a) + 1:max(q, a)]) for q in where)
    return min(dict.fromkeys(where), key=cost)


def path_text(cmds, ox: float = 0.0, oy: float = 0.0) -> str:
    """Path commands [(letter, x, y, ...)] as SVG path data, moved by (ox, oy); straight runs merged."""
    out: list[tuple] = []
    for c in cmds:
        flat = out and out[-1][0] == "L" and abs(out[-1][2] - c[2]) < 0.05 and abs(prev_y(out) - c[2]) < 0.05
        if c[0] == "L" and flat:
            out[-1] = c
            continue
        out.append(c)
    text = []
    for c in out:
        pts = [num(v + (ox if i % 2 == 0 else oy)) for i, v in enumerate(c[1:])]
        text.append(c[0] + " ".join(pts))
    return "".join(text)


def prev_y(out) -> float:
    """The y where the path was before its last command."""
    return out[-2][-1] if len(out) > 1 else out[-1][-1]


def _wire_call(inst: _Inst):
    joined = inst.seg.joined[0] if inst.seg.joined else None

    def draw(cv: Canvas, ox: float, oy: float, prefix: str) -> None:
        for j, d in enumerate(inst.d):
            label = f"{prefix}{inst.label_id}-{j}" if inst.label_id else ""
            text = path_text(d, ox, oy)
            cv.path(text, "wire joined" if j == joined else "wire", inst.seg.title,
                    **({"data-label": label} if label else {}))
            if j == joined:  # a double line: a white core along the thick wire
                cv.path(text, "core")
    return draw


def _label_call(x, y, runs, title, ident):
    def draw(cv: Canvas, ox: float, oy: float, prefix: str) -> None:
        cv.text(x + ox, y + oy, runs, LABEL, cls="label", title=title, italic=True, ident=prefix + ident)
    return draw


def _skip_call(x, y, runs, title, anchor="start"):
    def draw(cv: Canvas, ox: float, oy: float, prefix: str) -> None:
        cv.text(x + ox, y + oy, runs, SKIP_SIZE, anchor, cls="skip", title=title)
    return draw


def _dot_call(x, y, title):
    def draw(cv: Canvas, ox: float, oy: float, prefix: str) -> None:
        cv.circle(x + ox, y + oy, 3.2, "dot copy", title)
    return draw


def _end_mark(x, y):
    def draw(cv: Canvas, ox: float, oy: float, prefix: str) -> None:
        cv.line(x + ox, y + oy - 4, x + ox, y + oy + 4, "end", "not used again")
    return draw


def _block_call(block: Block, x, body_top, body_bottom, ins, outs, cap, column: float, numbers=()):
    def draw(cv: Canvas, ox: float, oy: float, prefix: str) -> None:
        sx = [[v + oy for v in seg] for seg in ins]
        so = [[v + oy for v in seg] for seg in outs]
        block.draw(cv, x + ox, body_top + oy, body_bottom + oy, sx, so)
        for seg, number in zip(sx, numbers):  # a tensor of no axes: its wire ends at a dot, a factor
            if number:
                cv.path(f"M{num(x + ox)} {num(seg[0])}L{num(x + ox + 5)} {num(seg[0])}", "through")
                cv.circle(x + ox + 5, seg[0], 2.2, "dot", "a number")
        if column > block.width + 0.05:  # on to the column's right edge
            for y in (y for seg in so for y in seg):
                cv.path(f"M{num(x + ox + block.width)} {num(y)}L{num(x + ox + column)} {num(y)}", "through")
        if block.caption:
            cv.text(x + ox + block.width / 2, body_top + oy - 4, block.caption, SMALL, "middle", cls="caption")
    return draw


def _separators(spans, x0, x1):
    """Dashed lines between the tensors (and blocks) of a column."""
    def draw(cv: Canvas, ox: float, oy: float, prefix: str) -> None:
        for (_, a), (b, _) in zip(spans, spans[1:]):
            y = (a + b) / 2
            cv.line(x0 + ox, y + oy, x1 + ox, y + oy, "sep")
    return draw


def block_width(width: float, caption: Runs | None) -> float:
    return max(width, caption_width(caption))
