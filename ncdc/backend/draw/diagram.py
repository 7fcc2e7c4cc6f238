"""From the typed IR to steps and blocks: each operation of a body becomes one column's glyph.

A def's or module's body is read in order; every IR node that computes a tensor is one step (a
`Block` between its input and output tensors).  Numbers (`sqrt(k)`) are no wires: they label the
scale arrows that use them.  Calls of defs, modules, `seq` parts and repetitions are drawn
collapsed, as named boxes, or, while `depth` allows, expanded in place as named frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ... import ir
from ...sizes import Size, format_size
from . import font, glyphs
from .blocks import (CAPTION, PITCH, SEG_GAP, SMALL, Block, Lift, Runs, caption_width, draw_passing, link,
                     text_runs, through)
from .layout import Fragment, Seg, Step, layout
from .svg import Canvas, num

FRAME_PAD = 10.0
CONNECT = 22.0  # inside a frame, the curves from its edge to the body's wires


def size_text(size: Size) -> str:
    return format_size(size)


def axis_runs(axis: ir.Axis) -> Runs:
    """An axis's label; equal axes bound into one are a power, as the paper writes 28²."""
    parts = {str(p) for p in axis.parts}
    if len(axis.parts) > 1 and len(parts) == 1:
        return text_runs(parts.pop()) + [(str(len(axis.parts)), "sup")]
    return text_runs(str(axis))


def rank(t) -> int:
    return len(t.axes) if isinstance(t, ir.TensorType) else 0


def where(span) -> str:
    return f"{span.source.path}:{span.line}" if span is not None else ""


@dataclass
class Context:
    program: ir.Program
    depth: int
    sizes: dict[str, int] | None = None  # numbers for size names, shown on the wires (`--sizes`)
    spatial: frozenset[str] = field(default_factory=frozenset)  # an image's axes, drawn as one wire

    def seg(self, t, title: str, name: str | None = None) -> Seg:
        """A tensor's wires, labelled with its axes (their numbers where `sizes` gives them); its
        title keeps the type as the spec writes it."""
        axes = t.axes if isinstance(t, ir.TensorType) else ()
        names = [str(a) for a in axes]
        if self.sizes:
            axes = tuple(a.map(lambda size: with_numbers(size, self.sizes or {})) for a in axes)
        return Seg([axis_runs(a) for a in axes], title, name, names, joined_run(names, self.spatial))

    def inside(self, module: ir.Module | None, instance: dict | None, args: list | None = None) -> Context:
        """The context of a callee drawn in place: with `sizes`, its own size names get the
        numbers of this call: its generic sizes those they are instantiated with here, and a
        module's hyperparameters its arguments' (else their defaults), then its derived sizes."""
        spatial = frozenset(sym.name for sym, size in (instance or {}).items() if str(size) in self.spatial)
        if self.sizes is None:
            return replace(self, spatial=spatial)
        sizes = {sym.name: n for sym, size in (instance or {}).items() if (n := number(size, self.sizes)) is not None}
        if module is not None:
            sizes |= bound(module, [number(a, self.sizes) if isinstance(a, Size) else None for a in args or []])
        return Context(self.program, self.depth, sizes, spatial)

    def function(self, name: str) -> ir.Function | None:
        return next((f for f in self.program.functions if f.name == name), None)

    def module(self, name: str) -> ir.Module | None:
        return next((m for m in self.program.modules if m.name == name), None)


def with_numbers(size: Size, sizes: dict[str, int]) -> Size:
    """A size with the numbers of `sizes` (by name) put in."""
    numbers = {k: Size.of(v) for k, v in sizes.items()}
    return size.substitute(lambda atom: numbers.get(getattr(atom, "name", "")))


def number(size: Size, sizes: dict[str, int]) -> int | None:
    got = with_numbers(size, sizes)
    return got.constant if not got.atoms() else None


def bound(module: ir.Module, args: list[int | None] | None, given: dict[str, int] | None = None,
          constants: dict[str, int] | None = None) -> dict[str, int]:
    """A module's sizes as numbers: its hyperparameters those of an instance's `args` (by position;
    None where not a known number), else `given` (at the top), else their defaults (one that is an
    expression, `k=4 * m`, of the sizes before it and the spec's `constants`); then the sizes it
    derives from them (`k = m // h`)."""
    sizes: dict[str, int] = {}
    for n, h in enumerate(module.hparams):
        value: object
        if args is not None and n < len(args):
            value = args[n]
        elif h.default_size is not None and h.name not in (given or {}):
            value = number(h.default_size, {**(constants or {}), **sizes})  # `n_inner=4 * n_embd`
        else:
            value = (given or {}).get(h.name, h.default)
        if h.kind == "size" and isinstance(value, int) and not isinstance(value, bool):
            sizes[h.name] = value
    for member in module.members:
        if isinstance(member, ir.SizeMember) and member.name not in sizes:
            if (got := number(member.value, sizes)) is not None:
                sizes[member.name] = got
    return sizes


def joined_run(names: list[str], spatial: frozenset[str]) -> tuple[int, int] | None:
    """The first run of two or more adjacent image axes, which travel together as one wire."""
    a = 0
    while a < len(names):
        b = a
        while b < len(names) and names[b] in spatial:
            b += 1
        if b - a >= 2:
            return (a, b)
        a = b + 1
    return None


def convolves(target, program: ir.Program, seen: frozenset = frozenset()) -> bool:
    """Whether a call's target is, or holds, a convolution or pooling layer (whose generic sizes are an
    image's axes)."""
    if isinstance(target, ir.Layer):
        return glyphs.LAYERS.get(target.op, ("",))[0] in ("conv", "pool")
    if isinstance(target, ir.Seq):
        return any(convolves(p, program, seen) for p in target.parts)
    if isinstance(target, ir.Repeat):
        body = target.body or (target.instances[0] if target.instances else None)
        return body is not None and convolves(body, program, seen)
    fn = target if isinstance(target, ir.Function) else None
    if isinstance(target, ir.Instance) and target.module not in seen:
        module = next((m for m in program.modules if m.name == target.module), None)
        fn, seen = (module.forward if module else None), seen | {target.module}
    return fn is not None and any(convolves(n.target, program, seen) for n in ir.walk(fn.body)
                                  if isinstance(n, ir.Call))


def image_axes(program: ir.Program, fn: ir.Function) -> set[str]:
    """The sizes of a body that are an image's axes: those a convolution's generic sizes take
    where it is called, and the sizes of its results' axes made of them."""
    found: set[str] = set()
    for node in ir.walk(fn.body):
        if isinstance(node, ir.Call) and convolves(node.target, program):
            found |= {str(size) for size in node.instance.values()}
            image = {sym for size in node.instance.values() for sym in size.symbols()}
            found |= {str(a) for t in ir.types_of(node.type) if isinstance(t, ir.TensorType)
                      for a in t.axes if a.size.symbols() & image}
    return found


# Blocks that treat an image's axes alike, so that these may stay one wire through them.
JOINABLE = {"map", "scale", "merge", "norm", "learned", "box", "module", "frame", "repeat", "loop", "bar"}


# ---- reading a body ---------------------------------------------------------------------------------


class Body:
    """The steps of one body (a def, or a module's forward), at a depth of nesting."""

    def __init__(self, cx: Context, fn: ir.Function, module: ir.Module | None, depth: int):
        cx = replace(cx, spatial=cx.spatial | image_axes(cx.program, fn))
        self.cx, self.fn, self.module, self.depth = cx, fn, module, depth
        self.steps: list[Step] = []
        self.env: dict[ir.Local, Seg] = {}
        self.params = []
        for p in fn.params:
            seg = self.cx.seg(p.type, f"{p.name} : {p.type}  [{where(p.span)}]", p.name)
            self.env[p] = seg
            self.params.append(seg)
        self.results: list[Seg] = []
        self.statements(fn.body)
        self.unjoin()

    def unjoin(self) -> None:
        """An image's axes stay one wire only where every block they meet treats them alike."""
        for step in self.steps:
            if step.block.kind in JOINABLE:
                continue
            joins = step.block.joins
            for out, segs in ((False, step.inputs), (True, step.outputs)):
                for seg in segs:
                    if seg.joined and not (joins and joins(seg.joined, out)):
                        seg.joined = None

    def statements(self, stmts: list) -> None:
        for stmt in stmts:
            if isinstance(stmt, ir.Assign):
                value = self.value(stmt.value)
                outs = value if isinstance(value, list) else [value]
                for target, seg in zip(stmt.targets, outs):
                    if isinstance(seg, Seg):
                        seg.name = seg.name or target.name
                        seg.title = f"{target.name} : {target.type}  [{where(stmt.span)}]"
                        self.env[target] = seg
            elif isinstance(stmt, ir.Return):
                for v in stmt.values:
                    seg = self.value(v)
                    self.results.extend(seg if isinstance(seg, list) else [seg])
            elif isinstance(stmt, ir.For):
                self.loop(stmt)
            elif isinstance(stmt, ir.If):
                self.branch(stmt)

    def branch(self, stmt: ir.If) -> None:
        """Branches on hyperparameters: drawn is the one that their defaults take, as `ncdc cost`
        counts it; a later read of a wire that another branch assigns is the taken branch's wire."""
        taken = stmt.taken({hp.name: hp.default for hp in self.module.hparams} if self.module else {})
        self.statements(taken)
        chosen = {t.name: self.env[t] for t in ir.producers(taken) if t in self.env}
        for body in stmt.bodies:
            for target in ir.producers(body):
                if target.name in chosen:
                    self.env[target] = chosen[target.name]

    def loop(self, stmt: ir.For) -> None:
        """A `for` loop: its body drawn once, in the paper's big parentheses with λ's range.  It
        takes the wires its body reads and gives back those it carries to the next turn."""
        read = list(dict.fromkeys(n.local for n in ir.walk(stmt.body)
                                  if isinstance(n, ir.Read) and n.local in self.env))
        before = {local.name for local in self.env}
        last = {t.name: t for t in ir.producers(stmt.body)}  # what a name is at the end of a turn
        carried = [t for name, t in last.items() if name in before]
        sub = Body.__new__(Body)
        sub.cx, sub.fn, sub.module, sub.depth = self.cx, self.fn, self.module, self.depth
        sub.steps, sub.results = [], []
        sub.env = {local: Seg(list(self.env[local].labels), self.env[local].title, local.name) for local in read}
        sub.params = [sub.env[local] for local in read]
        sub.statements(stmt.body)
        inner = layout(sub.params, sub.steps, [sub.env[t] for t in carried])
        inputs = [self.env[local] for local in read]
        ins, outs = [x.count for x in inputs], [sub.env[t].count for t in carried]
        line = where(stmt.span)
        rng = [(f"{stmt.var.name} = {size_text(stmt.start)} … {size_text(stmt.stop)}", "")]
        times = [("× " + size_text(Size.of(1) + stmt.stop - stmt.start), "")]
        lift = Lift.plain([len(x.labels) for x in inputs], [len(sub.env[t].labels) for t in carried])
        block = repeat_block(frame_block(None, inner, ins, outs, lift, line), rng, times)
        made = [Seg(list(sub.env[t].labels), f"{t.name} : {t.type}  [{line}]", t.name) for t in carried]
        self.steps.append(Step(block, inputs, made))
        for target, seg in zip(carried, made):
            self.env[target] = seg

    def add(self, block: Block, inputs: list[Seg], node: ir.Value) -> Seg | list[Seg]:
        title = f"{node.type}  [{where(node.span)}]"
        outs = [self.cx.seg(t, title) for t in ir.types_of(node.type)]
        self.steps.append(Step(block, inputs, outs))
        return outs if isinstance(node.type, ir.TupleType) else outs[0]

    def tensor(self, v: ir.Value) -> Seg:
        seg = self.value(v)
        assert isinstance(seg, Seg)
        return seg

    def value(self, v: ir.Value):
        """The Seg of a tensor value (a list of them for a tuple), or the text of a number."""
        if isinstance(v.type, ir.ScalarType):
            return scalar_text(v)
        method = getattr(self, "v_" + type(v).__name__)
        return method(v)

    # -- one method per kind of node ---------------------------------------------------------------

    def v_Read(self, v: ir.Read):
        return self.env[v.local]

    def v_LearnedTensor(self, v: ir.LearnedTensor):
        return self.add(source_block(v.name, rank(v.type), True, where(v.span)), [], v)

    def v_Eye(self, v: ir.Eye):
        return self.add(source_block("η", 2, False, where(v.span)), [], v)

    def v_Const(self, v):  # a tensor constant does not type; numbers are handled above
        return self.add(source_block(str(v.value), rank(v.type), False, where(v.span)), [], v)

    v_SizeValue = v_HParamValue = v_Const

    def v_Neg(self, v: ir.Neg):
        x = self.tensor(v.operand)
        return self.add(scale_block([("∗−1", "")], x.count, where(v.span)), [x], v)

    v_ScalarFn = v_ScalarBinary = v_Neg

    def v_Binary(self, v: ir.Binary):
        left, right = self.value(v.left), self.value(v.right)
        if isinstance(right, str) or isinstance(left, str):
            tensor = left if isinstance(left, Seg) else right
            number = right if isinstance(left, Seg) else left
            runs = scale_runs(v.op, number, isinstance(left, Seg))
            operand = v.left if isinstance(left, Seg) else v.right
            last = self.steps[-1] if self.steps else None
            if isinstance(operand, ir.Einsum) and last is not None and last.outputs[0] is tensor:
                fused = scaled_contraction_block([[str(lb) for lb in i] for i in operand.inputs],
                                                 [str(lb) for lb in operand.output], last.block.ins, runs,
                                                 where(v.span))
                if fused is not None:  # the scale's arrow comes out of the cup, as in Fig 20
                    self.steps.pop()
                    return self.add(fused, last.inputs, v)
            return self.add(scale_block(runs, tensor.count, where(v.span)), [tensor], v)
        n_out = rank(v.type)
        aligns = [v.left_align, v.right_align]
        positions = []
        for seg, align in zip((left, right), aligns):
            n = len(seg.labels)
            positions.append(list(align.positions) if align else list(range(n_out - n, n_out)))
        return self.add(merge_block(v.op, positions, [left.count, right.count], n_out, where(v.span)),
                        [left, right], v)

    def v_Compare(self, v: ir.Compare):
        operands = [(self.value(o), a) for o, a in ((v.left, v.left_align), (v.right, v.right_align))]
        segs = [(seg, a) for seg, a in operands if isinstance(seg, Seg)]
        n_out = rank(v.type)
        positions = [list(a.positions) if a else list(range(n_out - len(seg.labels), n_out)) for seg, a in segs]
        sign = glyphs.COMPARISONS[v.op]
        number = next((seg for seg, _ in operands if isinstance(seg, str)), None)
        if number is not None:  # a wire against a number: the sign names the number
            sign = f"{sign}{number}" if isinstance(operands[1][0], str) else f"{number}{sign}"
        return self.add(merge_block(sign, positions, [seg.count for seg, _ in segs], n_out, where(v.span)),
                        [seg for seg, _ in segs], v)

    def v_Where(self, v: ir.Where):
        parts = [self.value(o) for o in (v.condition, v.left, v.right)]
        segs = [p for p in parts if isinstance(p, Seg)]
        shown = ", ".join("·" if isinstance(p, Seg) else p for p in parts)
        caption = [(f"where({shown})", "")]
        ins, outs = [seg.count for seg in segs], [rank(v.type)]
        return self.add(box_block(caption, ins, outs, "box", Lift.plain(ins, outs), where(v.span)), segs, v)

    def v_Tril(self, v: ir.Tril):
        return self.add(source_block("◺", 2, False, where(v.span)), [], v)

    def v_Arange(self, v: ir.Arange):  # the positions along an axis: a unit, as η is
        return self.add(source_block("ι", 1, False, where(v.span)), [], v)

    def v_BufferValue(self, v: ir.BufferValue):  # a constant of the module: a source, not bold
        return self.add(source_block(v.name, rank(v.type), False, where(v.span)), [], v)

    def v_TopK(self, v: ir.TopK):
        x = self.tensor(v.operand)
        outs = [rank(t) for t in ir.types_of(v.type)]
        caption = [(f"top {size_text(v.k)}", "")]
        return self.add(box_block(caption, [x.count], outs, "box", Lift.plain([x.count], outs), where(v.span)),
                        [x], v)

    def v_Route(self, v: ir.Route):
        xs = [self.tensor(a) for a in (v.index, *v.arguments)]
        ins, outs = [x.count for x in xs], [rank(v.type)]
        caption = [(f"route {v.expert}", "")]
        return self.add(box_block(caption, ins, outs, "box", Lift.plain(ins, outs), where(v.span)), xs, v)

    def v_Map(self, v: ir.Map):
        x = self.tensor(v.operand)
        return self.add(arrow_block(glyphs.MAPS[v.fn], x.count, where(v.span)), [x], v)

    def v_Normalise(self, v: ir.Normalise):
        x = self.tensor(v.operand)
        return self.add(triangle_block(glyphs.NORMALISERS[v.fn], x.count, v.dim, where(v.span)), [x], v)

    def v_Reduce(self, v: ir.Reduce):
        x = self.tensor(v.operand)
        return self.add(reduce_block(glyphs.REDUCTIONS[v.fn], x.count, list(v.dims), where(v.span)), [x], v)

    def v_Flatten(self, v: ir.Flatten):
        x = self.tensor(v.operand)
        n = len(x.labels)
        kept = n - v.count
        groups = [[i] for i in range(kept)] + [list(range(kept, n))]
        return self.add(bar_block(groups, n, rank(v.type), where(v.span)), [x], v)

    def v_Einsum(self, v: ir.Einsum):
        xs = [self.tensor(a) for a in v.operands]
        return self.add(einsum_block([[str(lb) for lb in i] for i in v.inputs], [str(lb) for lb in v.output],
                                     [x.count for x in xs], where(v.span)), xs, v)

    def v_Rearrange(self, v: ir.Rearrange):
        x = self.tensor(v.operand)
        return self.add(rearrange_block(list(v.input), list(v.output), x.count, where(v.span)), [x], v)

    def v_Concat(self, v: ir.Concat):
        xs = [self.tensor(a) for a in v.operands]
        return self.add(concat_block([x.count for x in xs], v.dim, v.rank, where(v.span)), xs, v)

    def v_Index(self, v: ir.Index):
        x = self.tensor(v.operand)
        return self.add(index_block(v, x.count), [x], v)

    def v_Attention(self, v: ir.Attention):
        xs = [self.tensor(a) for a in (v.query, v.key, v.value)]
        if v.mask is not None and not isinstance(v.mask.type, ir.ScalarType):
            xs.append(self.tensor(v.mask))
        caption = "Causal attention" if v.causal else "Attention"
        return self.add(box_block([(caption, "")], [x.count for x in xs], [rank(v.type)], "box",
                                  Lift.plain([x.count for x in xs], [rank(v.type)]), where(v.span)), xs, v)

    def v_Call(self, v: ir.Call):
        xs = [self.tensor(a) for a in v.arguments]
        outs = [len(t.axes) for t in ir.types_of(v.type)]
        lift = call_lift(v, [len(x.labels) for x in xs], outs)
        block = self.call_block(v.callee, v.target, [x.count for x in xs], outs, lift, where(v.span),
                                v.instance)
        return self.add(block, xs, v)

    # -- calls ---------------------------------------------------------------------------------------

    def call_block(self, name: str, target, ins: list[int], outs: list[int], lift: Lift, line: str,
                   instance=None) -> Block:
        expand = self.depth < self.cx.depth
        sig = getattr(target, "signature", None)
        if instance is None and sig is not None:  # a part of a seq or a repetition: its own sizes
            instance = {g: Size.of(g) for g in getattr(sig, "generics", [])}
        if isinstance(target, ir.Layer):
            return layer_block(target, ins, outs, lift, line)
        if isinstance(target, ir.Function):
            if expand:
                inner = draw_body(self.cx.inside(None, instance), target, None, self.depth + 1)
                return frame_block([(name, "")], inner, ins, outs, lift, line)
            return box_block([(name, "")], ins, outs, "box", lift, line)
        if isinstance(target, ir.Box):
            return box_block([(name, "")], ins, outs, "box", lift, line)
        if isinstance(target, ir.Instance):
            module = self.cx.module(target.module)
            caption = instance_caption(target, module)
            if expand and module is not None:
                inner = draw_body(self.cx.inside(module, instance, target.args), module.forward, module, self.depth + 1)
                return frame_block(caption, inner, ins, outs, lift, line)
            return module_block(caption, ins, outs, lift, line)
        if isinstance(target, ir.Seq):
            if expand:
                return frame_block([(name, "b"), ("  seq", "")], self.seq_fragment(target), ins, outs, lift, line)
            return box_block([(name, "b")], ins, outs, "learned", lift, line)
        if isinstance(target, ir.Repeat):
            body = target.body or (target.instances[0] if target.instances else None)
            count = Size.of(1) + target.stop - target.start
            index = target.index.name if target.index else "λ"
            rng = [(f"{index} = {size_text(target.start)} … {size_text(target.stop)}", "")]
            times = [("× " + size_text(count), "")]
            if body is not None and expand:
                inner = self.part_fragment(body, self.depth + 1)
                return repeat_block(frame_block([(name, "b")], inner, ins, outs, lift, line), rng, times)
            caption = instance_caption(body, self.cx.module(body.module)) if isinstance(body, ir.Instance) \
                else [(name, "b")]
            return repeat_block(module_block(caption, ins, outs, lift, line), rng, times)
        return box_block([(name, "")], ins, outs, "box", lift, line)

    def part_fragment(self, part: ir.Component, depth: int) -> Fragment:
        """A learned part applied alone, as a body of one step (a repetition's body)."""
        sig = part.signature
        assert sig is not None
        params = [self.cx.seg(t, f"{t}  [{where(part.span)}]") for t in sig.inputs]
        sub = Body.__new__(Body)
        sub.cx, sub.fn, sub.module, sub.depth = self.cx, self.fn, self.module, depth - 1
        sub.steps = []
        block = sub.call_block(part.name, part, [p.count for p in params], [len(t.axes) for t in sig.outputs],
                               Lift.plain([len(p.labels) for p in params], [len(t.axes) for t in sig.outputs]),
                               where(part.span))
        outs = [self.cx.seg(t, f"{t}  [{where(part.span)}]") for t in sig.outputs]
        return layout(params, [Step(block, params, outs)], outs)

    def seq_fragment(self, seq: ir.Seq) -> Fragment:
        sig = seq.signature
        assert sig is not None
        current = [self.cx.seg(t, f"{t}  [{where(seq.span)}]") for t in sig.inputs]
        params = current
        steps = []
        for part in seq.parts:
            psig = part.signature
            assert psig is not None
            outs = [self.cx.seg(t, f"{t}  [{where(part.span)}]") for t in psig.outputs]
            block = self.call_block(part.name, part, [c.count for c in current], [len(t.axes) for t in psig.outputs],
                                    Lift.plain([len(c.labels) for c in current], [len(t.axes) for t in psig.outputs]),
                                    where(part.span))
            steps.append(Step(block, current, outs))
            current = outs
        return layout(params, steps, current)


def arg_text(arg) -> str:
    """A submodule's hyperparameter as the spec spells it: a size, a hyperparameter passed on, a literal."""
    if isinstance(arg, Size):
        return size_text(arg)
    if isinstance(arg, ir.HParamRef):
        return arg.name
    if isinstance(arg, bool):
        return "true" if arg else "false"
    return f'"{arg}"' if isinstance(arg, str) else repr(arg)


def scalar_text(v: ir.Value) -> str:
    if isinstance(v, ir.Const):
        return repr(v.value)
    if isinstance(v, ir.SizeValue):
        return size_text(v.size)
    if isinstance(v, ir.HParamValue):
        return v.name
    if isinstance(v, ir.ScalarFn):
        inner = scalar_text(v.operand)
        return f"√{inner}" if v.fn == "sqrt" else f"{v.fn}({inner})"
    if isinstance(v, ir.ScalarBinary):
        return f"({scalar_text(v.left)} {v.op} {scalar_text(v.right)})"
    if isinstance(v, ir.Neg):
        return f"−{scalar_text(v.operand)}"
    return "?"


def scale_runs(op: str, number: str, tensor_left: bool) -> Runs:
    """The scale arrow's label, as the paper writes it: `/ sqrt(k)` is `*k^-1/2`."""
    if op == "/" and tensor_left and number.startswith("√"):
        return [("∗" + number[1:], ""), ("−1/2", "sup")]
    if op == "/" and tensor_left:
        return [("∗" + number, ""), ("−1", "sup")]
    if op == "**" and tensor_left:
        return [("(·)", ""), (number, "sup")]
    spelt = {"*": "∗", "+": "+", "-": "−", "/": "÷"}.get(op, op)
    return [(f"{spelt}{number}" if tensor_left else f"{number}{spelt}", "")]


def call_lift(v: ir.Call, ins: list[int], outs: list[int]) -> Lift:
    """Which wires the callee acts on, and which pass across it (lifted and batch wires)."""
    sig_outs = [len(t.axes) for t in v.signature.outputs]
    own = [list(lay.own) for lay in v.layouts]
    own_out = [[v.lead + len(v.before) + j for j in range(n)] for n in sig_outs]
    passing: dict[str, tuple[list, list]] = {}
    for i, lay in enumerate(v.layouts):
        for name, pos in lay.lifted.items():
            passing.setdefault(name, ([], []))[0].append((i, pos))
        for j, pos in enumerate(lay.lead):
            passing.setdefault(f"#{j}", ([], []))[0].append((i, pos))
    for o, n in enumerate(sig_outs):
        for j in range(v.lead):
            if f"#{j}" in passing:
                passing[f"#{j}"][1].append((o, j))
        for j, name in enumerate(v.before):
            passing.setdefault(name, ([], []))[1].append((o, v.lead + j))
        for j, name in enumerate(v.after):
            passing.setdefault(name, ([], []))[1].append((o, v.lead + len(v.before) + n + j))
    return Lift(own, own_out, [(k, s, t) for k, (s, t) in passing.items() if s and t])


def instance_caption(target, module: ir.Module | None) -> Runs:
    if not isinstance(target, ir.Instance):
        return [(getattr(target, "name", "?"), "b")]
    names = [h.name for h in module.hparams] if module else []
    args = ", ".join(f"{n}={arg_text(a)}" if n else arg_text(a) for n, a in zip(names, target.args))
    return [(target.module, "b"), (f"({args})" if args else "", "")]


def draw_body(cx: Context, fn: ir.Function, module: ir.Module | None, depth: int) -> Fragment:
    body = Body(cx, fn, module, depth)
    frag = layout(body.params, body.steps, body.results)
    frag.names = [[(p.name, "")] for p in fn.params]
    return frag


# ---- blocks -------------------------------------------------------------------------------------------


def _own_ys(ys, own):
    return [[seg[a] for a in axes if a < len(seg)] for seg, axes in zip(ys, own)]


def box_block(caption: Runs, ins: list[int], outs: list[int], cls: str, lift: Lift, line: str,
              inner: Runs | None = None, kind: str = "box", size: float = 13) -> Block:
    text = inner or caption
    width = max(font.width(text, size) + 16, 34)

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        title = f"{''.join(t for t, _ in caption)}  [{line}]"
        cv.rect(x, top, width, bottom - top, cls, title, back=False)
        cv.text(x + width / 2, (top + bottom) / 2 + size * 0.36, text, size, "middle", cls="name")
        draw_passing(cv, lift, x, x + width, in_ys, out_ys, title)
    return Block(width, ins, outs, draw, None if inner is None else caption, body=size * 1.6, kind=kind)


def module_block(caption: Runs, ins, outs, lift: Lift, line: str) -> Block:
    """A fenced module, collapsed: the paper's 3-D box with its name and hyperparameters."""
    name, args = caption[:1], caption[1:]
    width = max(font.width(name, 13), font.width(args, SMALL)) + 24
    depth = 7.0

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        title = f"{''.join(t for t, _ in caption)}  [{line}]"
        w = width - depth
        cv.path(f"M{num(x + w)} {num(top)}l{num(depth)} {num(-depth)}v{num(bottom - top)}l{num(-depth)} {num(depth)}z",
                "side", title)
        cv.path(f"M{num(x)} {num(top)}l{num(depth)} {num(-depth)}h{num(w)}l{num(-depth)} {num(depth)}z", "side", title)
        cv.rect(x, top, w, bottom - top, "module", title, back=False)
        cy = (top + bottom) / 2
        cv.text(x + w / 2, cy - 1 if args and args[0][0] else cy + 5, name, 13, "middle", cls="name")
        if args and args[0][0]:
            cv.text(x + w / 2, cy + 13, args, SMALL, "middle", cls="name")
        for seg in _own_ys(out_ys, lift.own_out):
            for y in seg:  # out of the box's side
                cv.path(f"M{num(x + w)} {num(y)}L{num(x + width)} {num(y)}", "through", title)
        draw_passing(cv, lift, x, x + width, in_ys, out_ys, title)
    return Block(width, ins, outs, draw, body=46 if len(caption) > 1 else 30, kind="module")


def repeat_block(inner: Block, rng: Runs, times: Runs) -> Block:
    """A repetition: the paper's big parentheses around the repeated block, with λ's range."""
    pad = 12.0

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        inner.draw(cv, x + pad, top + 4, bottom - 16, in_ys, out_ys)
        for x0, x1, ys in ((x, x + pad, in_ys), (x + pad + inner.width, x + width, out_ys)):
            for y in (y for seg in ys for y in seg):  # through the parentheses
                cv.path(f"M{num(x0)} {num(y)}L{num(x1)} {num(y)}", "through")
        for side, x0 in ((1, x + 4), (-1, x + inner.width + 2 * pad - 4)):
            cv.path(f"M{num(x0 + 5 * side)} {num(top - 6)}Q{num(x0 - 3 * side)} {num((top + bottom) / 2)} "
                    f"{num(x0 + 5 * side)} {num(bottom)}", "repeat", "".join(t for t, _ in rng))
        cv.text(x + 2, bottom + 10, rng, SMALL, cls="range")
        cv.text(x + inner.width + pad - 4, top - 4, times, SMALL, "end", cls="range")
    width = max(inner.width + 2 * pad, font.width(rng, SMALL) + 4, font.width(times, SMALL) + 4)
    return Block(width, inner.ins, inner.outs, draw, inner.caption, inner.body + 28, kind="repeat")


def frame_block(caption: Runs | None, inner: Fragment, ins, outs, lift: Lift, line: str) -> Block:
    """An expanded call: a named frame around the callee's own diagram; broadcast wires run along
    the frame's foot and meet at a dot where several arguments share them.  Without a caption (a
    loop's body, inside its parentheses) there is no frame."""
    lifted = len(lift.passing)
    band = lifted * PITCH + (6 if lifted else 0)
    width = max(inner.width + 2 * CONNECT, caption_width(caption))
    left = (width - inner.width) / 2

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        title = f"{''.join(t for t, _ in caption or [])}  [{line}]"
        if caption:
            cv.rect(x, top - CAPTION + 2, width, bottom - top + CAPTION - 2, "frame", title, rx=4)
        body_top = top + 4
        inner.draw(cv, x + left, body_top)
        for i, seg in enumerate(_own_ys(in_ys, lift.own)):
            for j, y in enumerate(seg):
                if i < len(inner.in_ys) and j < len(inner.in_ys[i]):
                    link(cv, x, y, x + left, body_top + inner.in_ys[i][j], title)
        for o, seg in enumerate(_own_ys(out_ys, lift.own_out)):
            for j, y in enumerate(seg):
                if o < len(inner.out_ys) and j < len(inner.out_ys[o]):
                    link(cv, x + left + inner.width, body_top + inner.out_ys[o][j], x + width, y, title)
        foot = body_top + inner.height + 6
        for n, (_name, sources, targets) in enumerate(lift.passing):
            yb = foot + PITCH * n + 4
            xa, xb = x + left * 0.8, x + width - left * 0.8
            for i, a in sources:
                link(cv, x, in_ys[i][a], xa, yb, title)
            cv.path(f"M{num(xa)} {num(yb)}L{num(xb)} {num(yb)}", "through", title)
            if len(sources) > 1:
                cv.circle(xa, yb, 3.2, "dot", title)
            for o, a in targets:
                link(cv, xb, yb, x + width, out_ys[o][a], title)
    return Block(width, ins, outs, draw, caption, inner.height + band + 8, kind="frame" if caption else "loop")


def source_block(name: str, count: int, learned: bool, line: str) -> Block:
    runs = [(name, "b" if learned else "")]
    width = font.width(runs, 13) + 16

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        cv.rect(x, top, width, bottom - top, "learned" if learned else "box", f"{name}  [{line}]", back=False)
        cv.text(x + width / 2, (top + bottom) / 2 + 5, runs, 13, "middle", cls="name")
    return Block(width, [], [count], draw, kind="learned" if learned else "box")


def _straight(cv, x, width, in_ys, out_ys, title, skip=()):
    for i, seg in enumerate(in_ys):
        for j, y in enumerate(seg):
            if (i, j) not in skip:
                cv.path(f"M{num(x)} {num(y)}L{num(x + width)} {num(out_ys[i][j])}", "through", title)


def arrow_block(text: str, count: int, line: str) -> Block:
    """An elementwise map: the paper's ➤R➤ over the wires, which pass straight on."""
    runs = [("➤", ""), (text, ""), ("➤", "")]
    width = font.width(runs, 13) + 10

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        title = f"{text}  [{line}]"
        _straight(cv, x, width, in_ys, out_ys, title)
        cv.text(x + width / 2, top - 3, runs, 13, "middle", cls="map", title=title)
    return Block(width, [count], [count], draw, [("", "")], kind="map")


def scale_block(runs: Runs, count: int, line: str) -> Block:
    """A scale: an arrow labelled with its factor (`*k^-1/2`) over the wires."""
    width = max(font.width(runs, 13) + 12, 36)

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        title = f"{''.join(t for t, _ in runs)}  [{line}]"
        _straight(cv, x, width, in_ys, out_ys, title)
        y = top + 2
        cv.path(f"M{num(x + 3)} {num(y)}L{num(x + width - 8)} {num(y)}", "arrow", title)
        cv.path(f"M{num(x + width - 2)} {num(y)}l-7 -3.5v7z", "head", title)
        cv.text(x + width / 2, top - 4, runs, 13, "middle", cls="scale-label", italic=True)
    return Block(width, [count], [count], draw, [("", "")], body=8, kind="scale")


def triangle_block(name: str, count: int, dim: int, line: str) -> Block:
    width = max(font.width([(name, "")], SMALL) + 8, 40)

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        title = f"{name} over wire {dim + 1}  [{line}]"
        _straight(cv, x, width, in_ys, out_ys, title)
        y = in_ys[0][dim]
        cx = x + width / 2
        cv.path(f"M{num(cx - 9)} {num(y)}L{num(cx + 9)} {num(y - 10)}L{num(cx + 9)} {num(y + 10)}z", "tri", title)
    return Block(width, [count], [count], draw, [(name, "")], kind="softmax")


def reduce_block(symbol: str, count: int, dims: list[int], line: str) -> Block:
    width = 44.0

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        title = f"{symbol} over wires {', '.join(str(d + 1) for d in dims)}  [{line}]"
        kept = [j for j in range(len(in_ys[0])) if j not in dims]
        for o, j in enumerate(kept):
            link(cv, x, in_ys[0][j], x + width, out_ys[0][o] if out_ys and out_ys[0] else in_ys[0][j], title)
        for j in dims:
            y = in_ys[0][j]
            cv.path(f"M{num(x)} {num(y)}L{num(x + 16)} {num(y)}", "through", title)
            cv.text(x + 18, y + 5, [(symbol, "")], 13, cls="reduce", title=title)
        if not kept and out_ys:  # a number: a wire of size 1 leaves the reduction
            y = out_ys[0][0]
            cv.path(f"M{num(x + width - 6)} {num(y)}L{num(x + width)} {num(y)}", "through", title)
    return Block(width, [count], [max(count - len(dims), 0)], draw, kind="reduce")


def bar_block(groups: list[list[int]], rank: int, out_rank: int, line: str, bars=None) -> Block:
    """Binding (`flatten`): the wires of each group of several meet at a thick bar."""
    width = 34.0

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        title = f"bind  [{line}]"
        xm = x + width / 2
        for o, group in enumerate(groups):
            yo = out_ys[0][o]
            if len(group) == 1:
                link(cv, x, in_ys[0][group[0]], x + width, yo, title)
                continue
            ys = [in_ys[0][j] for j in group] + [yo]
            for j in group:
                link(cv, x, in_ys[0][j], xm - 2, in_ys[0][j], title)
            cv.path(f"M{num(xm + 2)} {num(yo)}L{num(x + width)} {num(yo)}", "through", title)
            cv.rect(xm - 2.5, min(ys) - 6, 5, max(ys) - min(ys) + 12, "bar", title, back=False)
    return Block(width, [rank], [out_rank], draw, kind="bar")


def rearrange_block(inputs: list, outputs: list, count: int, line: str) -> Block:
    """A transpose is wires crossing; binding and unbinding meet at a bar."""
    ins = [str(lb) for lb in inputs]
    outs = [str(lb) for lb in outputs]
    width = 40.0

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        title = f"rearrange {' '.join(ins)} -> {' '.join(outs)}  [{line}]"
        xm = x + width / 2
        changed_in = [j for j, lb in enumerate(ins) if lb not in outs]
        changed_out = [o for o, lb in enumerate(outs) if lb not in ins]
        for j, lb in enumerate(ins):
            if lb in outs:
                link(cv, x, in_ys[0][j], x + width, out_ys[0][outs.index(lb)], title)
        if changed_in or changed_out:
            ys = [in_ys[0][j] for j in changed_in] + [out_ys[0][o] for o in changed_out]
            for j in changed_in:
                link(cv, x, in_ys[0][j], xm - 2, in_ys[0][j], title)
            for o in changed_out:
                cv.path(f"M{num(xm + 2)} {num(out_ys[0][o])}L{num(x + width)} {num(out_ys[0][o])}", "through", title)
            cv.rect(xm - 2.5, min(ys) - 6, 5, max(ys) - min(ys) + 12, "bar", title, back=False)

    def joins(run: tuple[int, int], out: bool) -> bool:  # axes that all meet at the bar
        mine, other = (outs, ins) if out else (ins, outs)
        return not any(lb in other for lb in mine[run[0]:run[1]])
    return Block(width, [count], [len(outs)], draw, kind="rearrange", joins=joins)


def einsum_block(inputs: list[list[str]], output: list[str], counts: list[int], line: str) -> Block:
    """Cups for contracted wires, dots for wires kept from several operands, crossings for
    transposes: the paper's graphical linear algebra."""
    labels = list(dict.fromkeys(lb for i in inputs for lb in i))
    contracted = [lb for lb in labels if lb not in output]
    width = 40.0 + 10 * len(contracted)

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        title = f"einsum {', '.join(' '.join(i) for i in inputs)} -> {' '.join(output)}  [{line}]"
        xm = x + width / 2
        if not output:  # everything contracted: a number leaves
            cv.path(f"M{num(xm)} {num(out_ys[0][0])}L{num(x + width)} {num(out_ys[0][0])}", "through", title)
        bound = set()
        for o, lb in enumerate(output):  # bound or unbound here: the wires meet at a bar
            if lb in labels:
                continue
            parts = set(_leaves(lb))
            ports = [in_ys[i][j] for i, axes in enumerate(inputs) for j, a in enumerate(axes)
                     if parts & set(_leaves(a))]
            bound |= {a for axes in inputs for a in axes if parts & set(_leaves(a))}
            yo = out_ys[0][o]
            for y in ports:
                link(cv, x, y, xm - 2, y, title)
            cv.path(f"M{num(xm + 2)} {num(yo)}L{num(x + width)} {num(yo)}", "through", title)
            span = ports + [yo]
            cv.rect(xm - 2.5, min(span) - 6, 5, max(span) - min(span) + 12, "bar", title, back=False)
        for lb in labels:
            ports = [in_ys[i][j] for i, axes in enumerate(inputs) for j, a in enumerate(axes) if a == lb]
            if lb in bound:
                continue
            if lb in output:
                yo = out_ys[0][output.index(lb)]
                if len(ports) == 1:
                    link(cv, x, ports[0], x + width, yo, title)
                else:
                    for y in ports:
                        link(cv, x, y, xm, yo, title)
                    cv.path(f"M{num(xm)} {num(yo)}L{num(x + width)} {num(yo)}", "through", title)
                    cv.circle(xm, yo, 3.2, "dot", f"diagonal {lb}  [{line}]")
                continue
            if len(ports) == 1:
                y = ports[0]
                cv.path(f"M{num(x)} {num(y)}L{num(xm)} {num(y)}", "through", title)
                cv.text(xm + 2, y + 5, [("Σ", "")], 12, cls="reduce", title=f"sum over {lb}")
                continue
            ports.sort()
            y0, y1 = ports[0], ports[-1]
            r = (y1 - y0) / 2
            xa = x + 6
            cv.path(f"M{num(x)} {num(y0)}L{num(xa)} {num(y0)}A{num(r)} {num(r)} 0 0 1 {num(xa)} {num(y1)}"
                    f"L{num(x)} {num(y1)}", "cup", f"contract {lb}  [{line}]")
            for y in ports[1:-1]:
                cv.path(f"M{num(x)} {num(y)}L{num(xa + r)} {num(y)}", "through", title)
                cv.circle(xa + r, y, 3.2, "dot", f"diagonal {lb}  [{line}]")
    return Block(width, counts, [len(output)], draw, kind="einsum")


def scaled_contraction_block(inputs: list[list[str]], output: list[str], counts: list[int], runs: Runs,
                             line: str) -> Block | None:
    """Fig 20's `Q K^T / sqrt(k)`: two operands contracted on one axis, then scaled.  The second's
    wires cross so that the contracted ones lie next to each other, a cup joins them, and the scale's
    arrow comes out of the cup; the kept wires pass beneath it.  None where the contraction is not
    that simple (the einsum and the scale are then drawn apart)."""
    if len(inputs) != 2:
        return None
    contracted = [lb for lb in inputs[0] if lb in inputs[1] and lb not in output]
    kept = [lb for i in inputs for lb in i if lb not in contracted]
    if len(contracted) != 1 or sorted(kept) != sorted(output) or len(set(kept)) != len(kept) \
            or any(i.count(contracted[0]) != 1 for i in inputs):
        return None
    c = contracted[0]
    radius = (PITCH + SEG_GAP) / 2  # the two contracted wires are the last of one operand, first of the next
    arrow = font.width(runs, 13) + 14
    cross, rise = 24.0, 26.0
    width = cross + radius + arrow + rise

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        title = (f"einsum {', '.join(' '.join(i) for i in inputs)} -> {' '.join(output)}, "
                 f"{''.join(t for t, _ in runs)}  [{line}]")
        a, b = inputs
        order = ([(0, j) for j, lb in enumerate(a) if lb != c] + [(0, a.index(c)), (1, b.index(c))]
                 + [(1, j) for j, lb in enumerate(b) if lb != c])
        slots = sorted(y for ys in in_ys for y in ys)
        at = {port: slots[n] for n, port in enumerate(order)}
        x1 = x + cross
        for (i, j), y in at.items():  # the second operand's wires cross into place
            link(cv, x, in_ys[i][j], x1, y, title)
        ya, yb = at[0, a.index(c)], at[1, b.index(c)]
        r = (yb - ya) / 2
        cv.path(f"M{num(x1)} {num(ya)}A{num(r)} {num(r)} 0 0 1 {num(x1)} {num(yb)}", "cup",
                f"contract {c}  [{line}]")
        xt, ym = x1 + r, (ya + yb) / 2
        xe = xt + arrow
        cv.path(f"M{num(xt)} {num(ym)}L{num(xe - 6)} {num(ym)}", "arrow", title)
        cv.path(f"M{num(xe)} {num(ym)}l-7 -3.5v7z", "head", title)
        cv.text((xt + xe) / 2, ym - 5, runs, 13, "middle", cls="scale-label", italic=True)
        for (i, j), y in at.items():
            lb = inputs[i][j]
            if lb != c:
                cv.path(f"M{num(x1)} {num(y)}L{num(xe + 2)} {num(y)}", "through", title)
                link(cv, xe + 2, y, x + width, out_ys[0][output.index(lb)], title)
    return Block(width, counts, [len(output)], draw, kind="einsum")


def _leaves(label: str) -> list[str]:
    return label.strip("()").split()


def concat_block(counts: list[int], dim: int, rank: int, line: str) -> Block:
    """Concatenation: the joined wires meet at a bar; the others are shared, at dots."""
    width = 40.0

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        title = f"concatenate on wire {dim + 1}  [{line}]"
        xm = x + width / 2
        for a in range(rank):
            ys = [seg[a] for seg in in_ys]
            yo = out_ys[0][a]
            if a == dim:
                for y in ys:
                    link(cv, x, y, xm - 2, y, title)
                cv.path(f"M{num(xm + 2)} {num(yo)}L{num(x + width)} {num(yo)}", "through", title)
                span = ys + [yo]
                cv.rect(xm - 2.5, min(span) - 6, 5, max(span) - min(span) + 12, "bar", title, back=False)
            else:
                through(cv, x, x + width, ys, yo, title)
    return Block(width, counts, [rank], draw, kind="concat")


def merge_block(op: str, positions: list[list[int]], counts: list[int], rank: int, line: str) -> Block:
    """Addition (and the other arithmetic of tensors): the operands' wires meet at dots, under
    the operation's sign."""
    sign = {"+": "+", "-": "−", "*": "×", "/": "÷", "**": "^"}.get(op, op)
    width = 36.0

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        title = f"{op}  [{line}]"
        for a in range(rank):
            ys = [in_ys[i][p.index(a)] for i, p in enumerate(positions) if a in p]
            through(cv, x, x + width, ys, out_ys[0][a], title)
        cv.text(x + width / 2, top - 3, [(sign, "")], 15, "middle", cls="plus", title=title)

    def swapped() -> Block:
        return merge_block(op, positions[::-1], counts[::-1], rank, line)
    return Block(width, counts, [rank], draw, [("", "")], kind="merge",
                 swapped=swapped if op in ("+", "*") and len(counts) == 2 else None)


def index_block(v: ir.Index, count: int) -> Block:
    items = []
    for item in v.items:
        if isinstance(item, ir.IndexAt):
            items.append(size_text(item.position))
        elif isinstance(item, ir.IndexSlice):
            items.append(f"{size_text(item.start)}:{size_text(item.stop)}")
        else:
            items.append(":")
    runs = [("[" + ", ".join(items) + "]", "")]
    width = font.width(runs, 12) + 12

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        cv.rect(x, top, width, bottom - top, "pointer", f"index {runs[0][0]}  [{where(v.span)}]", back=False)
        cv.text(x + width / 2, (top + bottom) / 2 + 4, runs, 12, "middle", cls="name")
    return Block(width, [count], [rank(v.type)], draw, kind="index")


def layer_block(layer: ir.Layer, ins, outs, lift: Lift, line: str) -> Block:
    shape, text = glyphs.LAYERS[layer.op]
    attrs = layer.attrs
    title = f"{layer.name} = {layer.op}  [{line}]"
    if shape == "linear":  # the paper's L^Q: a part named L-something is written by its superscript
        named = len(layer.name) > 1 and layer.name[0] == "L"
        inner = [("L", "b")] + ([(layer.name[1:], "sup")] if named else []) + ([("+", "sub")] if attrs.bias else [])
        block = box_block([(layer.name, "")], ins, outs, "learned", lift, line, inner, kind="learned", size=20)
        if named:
            block.caption = None
        return block
    plain = (None, Size.of(1), getattr(attrs, "kernel", None))  # a stride that keeps the size, or the kernel's
    strided = getattr(attrs, "stride", None) not in plain
    if shape in ("conv", "pool") and (layer.op.startswith("ConvTranspose") or strided):
        return pictogram_block(layer, shape, text, ins, outs, lift, line)
    if shape in ("conv", "pool"):
        inner = [("★", "")]
        if layer.op.startswith("ConvTranspose"):
            inner.append(("T", "sup"))
        kernel = getattr(attrs, "kernel", None) or getattr(attrs, "output", None)
        if kernel is not None:
            inner.append((" " + size_text(kernel), ""))
        stride = getattr(attrs, "stride", None)
        if stride is not None and stride != Size.of(1) and stride != kernel:
            inner.append(("/" + size_text(stride), "sub"))
        if shape == "pool":
            inner.append((" " + text, ""))
        return box_block([(layer.name, "")], ins, outs, "learned" if shape == "conv" else "box", lift, line,
                         inner, kind="learned" if shape == "conv" else "box")
    if shape == "norm":
        width = max(font.width([(layer.name, "")], SMALL) + 8, 36)

        def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
            _straight(cv, x, width, in_ys, out_ys, title)
            ys = [y for seg in in_ys for y in seg]
            cy = (min(ys) + max(ys)) / 2
            cv.circle(x + width / 2, cy, min(12.0, 6 + (max(ys) - min(ys)) / 2), "norm", title)
        return Block(width, ins, outs, draw, [(layer.name, "")], kind="norm")
    if shape == "dropout":
        runs = [("➤", ""), (f"Dropout {attrs.p}", ""), ("➤", "")]
        width = font.width(runs, SMALL) + 8

        def draw_d(cv: Canvas, x, top, bottom, in_ys, out_ys):
            _straight(cv, x, width, in_ys, out_ys, title)
            cv.text(x + width / 2, top - 3, runs, SMALL, "middle", cls="map", title=title)
        return Block(width, ins, outs, draw_d, [("", "")], kind="map")
    return box_block([(layer.name, "b")], ins, outs, "learned", lift, line, kind="learned")


def pictogram_block(layer: ir.Layer, shape: str, text: str, ins, outs, lift: Lift, line: str) -> Block:
    """The paper's ★ pictogram: a trapezoid that maps the image to its strided size, its stride on
    the slanted edge, and a kernel wire (k²) into a bold L+ (or a reduction, for pooling)."""
    attrs = layer.attrs
    transposed = layer.op.startswith("ConvTranspose")
    dims = getattr(attrs, "dims", 2)
    kernel = size_text(attrs.kernel)
    kernel_runs = [(kernel, "")] + ([(str(dims), "sup")] if dims > 1 else [])
    stride = size_text(attrs.stride if attrs.stride is not None else attrs.kernel)
    tail = [("L", "b")] + ([("+", "sub")] if getattr(attrs, "bias", False) else []) if shape == "conv" else [(text, "")]
    tail_w = font.width(tail, 18 if shape == "conv" else 12)
    width = 46 + max(font.width(kernel_runs, SMALL), 14) + tail_w + 10
    title = f"{layer.name} = {layer.op}  [{line}]"

    def draw(cv: Canvas, x, top, bottom, in_ys, out_ys):
        cv.rect(x, top, width, bottom - top, "learned" if shape == "conv" else "box", title, back=False)
        a, b = x + 6, x + 40
        tall, short = (top + 4, bottom - 4), (top + 10, bottom - 16)
        left, right = (short, tall) if transposed else (tall, short)
        cv.path(f"M{num(a)} {num(left[0])}L{num(b)} {num(right[0])}L{num(b)} {num(right[1])}L{num(a)} {num(left[1])}z",
                "conv", title)
        cv.text((a + b) / 2, top + 22, [("★", "")] + ([("T", "sup")] if transposed else []), 13, "middle", cls="name")
        cv.text((a + b) / 2 + 6, (top + bottom) / 2 + 12, [(stride, "")], SMALL, "middle", cls="name")
        yk = bottom - 10
        xk = b + 4 + max(font.width(kernel_runs, SMALL), 14)
        for dy in (-1.5, 1.5):
            cv.path(f"M{num(b)} {num(yk + dy)}L{num(xk + 2)} {num(yk + dy)}", "through", title)
        cv.text(b + 3, yk - 4, kernel_runs, SMALL, cls="name")
        cv.text(xk + 4 + tail_w / 2, yk + 6, tail, 18 if shape == "conv" else 12, "middle", cls="name")
        draw_passing(cv, lift, x, x + width, in_ys, out_ys, title)
    return Block(width, ins, outs, draw, [(layer.name, "")], body=58, kind="learned")
