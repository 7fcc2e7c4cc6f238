"""The column layout: a body's steps, left to right, one column each, so that every vertical section
shows what is in memory.

Tensors are stacked top to bottom in each column.  Before a step, its inputs are gathered next to
each other where the first of them was (a tensor still needed later is copied there, with a dot),
so that no wire ever runs through a block it does not enter; the rest keep their order, so wires
cross only where the data flow makes them.  Between columns, wires move on smooth curves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import font
from .blocks import CAPTION, LABEL, PITCH, SEG_GAP, SMALL, WIRE_TOP, Block, Runs, caption_width, stack_ys
from .svg import Canvas, num

MARGIN = 8.0
CURVE = 30.0  # width of a gap's curves
SKIP = 4  # a tensor next used this many steps on or more is saved (-> C) and loaded (C ->), as the paper's C_λ
SKIP_SIZE = 15.0


@dataclass(eq=False)
class Seg:
    """A tensor as drawn: one wire per axis, each with its label; `title` its type and spec line."""

    labels: list[Runs]
    title: str
    name: str | None = None

    @property
    def count(self) -> int:
        return max(len(self.labels), 1)


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
    return max((font.width(r, LABEL) for r in seg.labels), default=0.0)


def layout(params: list[Seg], steps: list[Step], results: list[Seg], top: float = 0.0,
           left: float = 0.0) -> Fragment:
    """Lay out a body: `params` enter at the left edge, `results` leave at the right edge."""
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
    ys = stack_ys(top, [p.count for p in params])
    for inst, wire_ys in zip(state, ys):
        inst.ys = wire_ys
        inst.start = left
        inst.d = [[("M", left, v)] for v in wire_ys]
    in_ys = [list(y) for y in ys]
    x = left
    bottom = ys[-1][-1] + 10 if ys else top
    labels: list = []  # (x, y, runs, title, id)
    ends: list = []  # (x, y): wires that end unused
    dots: list = []  # (x, y, title)
    finished: list[_Inst] = []
    counter = [0]

    saved: dict[int, str] = {}  # tensors saved to memory (C_λ) until a step far on loads them
    skips: list = []  # (x, y, runs, title): the -> C and C -> markers

    def label_zone(born: list[_Inst], x: float, k: int) -> float:
        width = 0.0
        for inst in list(state):
            w = 0.0
            if inst in born:
                counter[0] += 1
                inst.label_id = f"w{counter[0]}"
                for j, y in enumerate(inst.ys):
                    runs = inst.seg.labels[j] if j < len(inst.seg.labels) else [("1", "")]
                    labels.append((x + 4, y - 4, runs, inst.seg.title, f"{inst.label_id}-{j}"))
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
    out_ys: list[list[float]] = []
    for k in range(len(steps) + 1):
        step: Step | None = steps[k] if k < len(steps) else None
        x += max(label_zone(born, x, k), 10.0)
        # The next state: drop what is never used again, copy what is used again, gather the inputs.
        keep = [i for i in state if needed_after(i.seg, k - 1) > 0]
        for inst in state:
            if inst not in keep:
                ends.append(inst)
        wanted = step.inputs if step else results
        run: list[_Inst] = []
        moved: set[int] = set()
        taken: dict[int, int] = {}  # how many uses of each seg this step takes
        for seg in wanted:
            taken[id(seg)] = taken.get(id(seg), 0) + 1
        anchor = None
        used_here: dict[int, int] = {}
        for seg in wanted:
            used_here[id(seg)] = used_here.get(id(seg), 0) + 1
            source = next((i for i in keep if i.seg is seg and id(i) not in moved), None)
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
            if anchor is None:
                anchor = keep.index(source) if source in keep else 0
            last = needed_after(seg, k) == 0 and used_here[id(seg)] == taken[id(seg)] and source in keep
            if last and id(source) not in moved:
                moved.add(id(source))
                run.append(source)
            else:
                copy = _Inst(seg)
                copy.ys = list(source.ys)
                copy.label_id = source.label_id
                copy.copy_of = source  # type: ignore[attr-defined]
                run.append(copy)
        before = [i for i in keep[: anchor or 0] if id(i) not in moved]
        after = [i for i in keep[anchor or 0:] if id(i) not in moved]
        # Where everything is in this column.
        block = step.block if step else None
        y: float = top - CAPTION  # a block's caption may use the band above the first wires
        ys_before: list[list[float]] = []
        for inst in before:  # each tensor stays where it was, unless pushed down
            y = max(y, inst.ys[0] - WIRE_TOP) if inst.ys else y
            ys_before.append(stack_ys(y, [inst.seg.count])[0])
            y += inst.seg.count * PITCH + SEG_GAP
        first = next((i for i in run if i.ys), None)
        if block is not None:
            cap = CAPTION if block.caption else 0.0
            if first is not None:
                y = max(y, first.ys[0] - WIRE_TOP - 2 - cap)
            body_top = y + cap
            body_h = block.body_height()
            ins: list[list[float]] = stack_ys(body_top + 2, [i.seg.count for i in run])
            outs = stack_ys(body_top + 2, [s.count for s in step.outputs]) if step else []
            group = (y, body_top + body_h)
            y = body_top + body_h + SEG_GAP
        else:
            ins = []
            for inst in run:
                y = max(y, inst.ys[0] - WIRE_TOP) if inst.ys else y
                ins.append(stack_ys(y, [inst.seg.count])[0])
                y += inst.seg.count * PITCH + SEG_GAP
        ys_after: list[list[float]] = []
        for inst in after:
            y = max(y, inst.ys[0] - WIRE_TOP) if inst.ys else y
            ys_after.append(stack_ys(y, [inst.seg.count])[0])
            y += inst.seg.count * PITCH + SEG_GAP
        # The curves of the gap: every wire moves to its place in this column.
        moves = list(zip(before, ys_before)) + list(zip(run, ins)) + list(zip(after, ys_after))
        changes = any(abs(a - b) > 0.05 for inst, new in moves for a, b in zip(inst.ys, new)) or \
            any(hasattr(i, "copy_of") for i in run) or ends
        x0 = x
        x1 = x + (CURVE if changes else 0.0)
        for inst in ends:
            for j, yy in enumerate(inst.ys):
                inst.d[j].append(("L", x0 + 4, yy))
            finished.append(inst)
        ends_here = [(x0 + 4, yy) for inst in ends for yy in inst.ys]
        ends.clear()
        loads = [inst for inst in run if hasattr(inst, "loaded")]
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
        bottom = max([bottom] + [v[-1] + 10 for v in ys_before + ins + ys_after if v]
                     + ([group[1] + 4] if block is not None else []))
        for yy in ends_here:
            ops.append(_end_mark(*yy))
        if step is None:
            x += 6
            for inst in run:
                for d, a in zip(inst.d, inst.ys):
                    d.append(("L", x, a))
                finished.append(inst)
            out_ys = [list(i.ys) for i in run]
            break
        # The block itself.
        bx = x
        for inst in run:
            for d, a in zip(inst.d, inst.ys):
                d.append(("L", bx, a))
            finished.append(inst)
        assert block is not None
        ops.append(_block_call(block, bx, body_top, body_top + body_h, ins, outs, cap))
        ops.append(_separators(ys_before, group, ys_after, bx, bx + block.width))
        x = bx + block.width
        assert step is not None
        made = [_Inst(s) for s in step.outputs]
        for inst, wire_ys in zip(made, outs):
            inst.ys = list(wire_ys)
            inst.start = x
            inst.d = [[("M", x, a)] for a in wire_ys]
        for inst in before + after:
            for d, a in zip(inst.d, inst.ys):
                d.append(("L", x, a))
        state = before + made + after
        born = made
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
    def draw(cv: Canvas, ox: float, oy: float, prefix: str) -> None:
        for j, d in enumerate(inst.d):
            label = f"{prefix}{inst.label_id}-{j}" if inst.label_id else ""
            cv.path(path_text(d, ox, oy), "wire", inst.seg.title, **({"data-label": label} if label else {}))
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


def _block_call(block: Block, x, body_top, body_bottom, ins, outs, cap):
    def draw(cv: Canvas, ox: float, oy: float, prefix: str) -> None:
        sx = [[v + oy for v in seg] for seg in ins]
        so = [[v + oy for v in seg] for seg in outs]
        block.draw(cv, x + ox, body_top + oy, body_bottom + oy, sx, so)
        if block.caption:
            cv.text(x + ox + block.width / 2, body_top + oy - 4, block.caption, SMALL, "middle", cls="caption")
    return draw


def _separators(above, group, below, x0, x1):
    """Dashed lines between the tensors of a column, and between them and its block."""
    spans = [(seg[0] - WIRE_TOP, seg[-1] + 6) for seg in above] + [group] + \
        [(seg[0] - WIRE_TOP, seg[-1] + 6) for seg in below]

    def draw(cv: Canvas, ox: float, oy: float, prefix: str) -> None:
        for (_, a), (b, _) in zip(spans, spans[1:]):
            y = (a + b) / 2
            cv.line(x0 + ox, y + oy, x1 + ox, y + oy, "sep")
    return draw


def block_width(width: float, caption: Runs | None) -> float:
    return max(width, caption_width(caption))
