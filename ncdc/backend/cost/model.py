"""The cost model: a walk over the typed IR that adds up parameters, FLOPs, memory and transfers.

Every cost is a symbolic size (`ncdc.sizes.Size`) in the spec's own size names.  A body is costed in
its own names once; a call substitutes the callee's hyperparameters and generic sizes, and multiplies
by the axes it is lifted or broadcast over.  Rows (`Row`) form a tree: the operations of a body, and
under a call of a module or def the rows of its body, already in the caller's names.

Memory saved for the backward pass is counted per tensor: a tensor that several operations keep (the
result of a ReLU that the next Linear also keeps) is counted once, and a view (`flatten`,
`rearrange`, an index) is the tensor it views.  Tensors that need no gradient (inputs, and what is
computed from inputs alone) make operations keep less, as autograd does.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

from ... import ir
from ..fuse import fuse_attention, grouped_attention
from ..layout import is_linear, linear_weight_order, plan_layouts, weight_permuted
from ...ir import TensorType
from ...sizes import FloorDiv, Size, Symbol, format_size, product
from . import rules
from .rules import ATTENTION, CONTRACTION, ELEMENTWISE, FLOAT, NORMALISATION, ZERO, ONE


@dataclass(frozen=True)
class Matmul:
    """An `a x b x c` matrix product done `count` times (for the transfer model)."""

    a: Size
    b: Size
    c: Size
    count: Size

    def map(self, fn: Callable[[Size], Size], mult: Size) -> Matmul:
        return Matmul(fn(self.a), fn(self.b), fn(self.c), fn(self.count) * mult)


@dataclass(frozen=True)
class AttentionShape:
    """Attention of `q` queries over `x` keys with head size `d`, done `count` times."""

    q: Size
    x: Size
    d: Size
    count: Size

    def map(self, fn: Callable[[Size], Size], mult: Size) -> AttentionShape:
        return AttentionShape(fn(self.q), fn(self.x), fn(self.d), fn(self.count) * mult)


@dataclass
class Row:
    """The cost of one operation, call, module or def, in the names of the top-level module."""

    label: str
    kind: str  # "operation", "layer", "module", "def", "box", "repeat", "total"
    line: int | None = None
    params: Size = ZERO
    flops: dict[str, Size] = field(default_factory=dict)
    # Backward FLOPs by heading: the gradients the operation computes, those of its inputs that need one
    # and of its parameters (`rules.py` explains each).
    backward: dict[str, Size] = field(default_factory=dict)
    saved: dict[str, Size] = field(default_factory=dict)  # elements kept for backward, by element type
    peak: list[tuple[Size, str]] = field(default_factory=list)  # candidates for the peak: (elements, where)
    # Elements an operation reads and writes in slow memory when run on its own (unfused): its tensor
    # operands and its result; parameters apart (`params`: read once, however often a layer is applied).
    io: Size = ZERO
    matmuls: list[Matmul] = field(default_factory=list)
    attention: list[AttentionShape] = field(default_factory=list)
    children: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def flops_forward(self) -> Size:
        return sum(self.flops.values(), ZERO)

    @property
    def flops_backward(self) -> Size:
        return sum(self.backward.values(), ZERO)

    def add_flops(self, category: str, amount: Size) -> None:
        if amount != ZERO:
            self.flops[category] = self.flops.get(category, ZERO) + amount

    def add_backward(self, category: str, amount: Size) -> None:
        if amount != ZERO:
            self.backward[category] = self.backward.get(category, ZERO) + amount

    def passes_back(self, grad: bool) -> None:
        """The backward pass of the elementwise maps and normalisations here: one pass of the same FLOPs as
        forward, when the result needs a gradient (what `FlopCounterMode` does not count)."""
        if grad:
            for c in (ELEMENTWISE, NORMALISATION):
                self.add_backward(c, self.flops.get(c, ZERO))

    def add_saved(self, dtype: str, amount: Size) -> None:
        if amount != ZERO:
            self.saved[dtype] = self.saved.get(dtype, ZERO) + amount

    def absorb(self, other: Row) -> None:
        """Add another row's FLOPs, transfers and notes (not its saved memory or peak: those are per tensor)."""
        for c, f in other.flops.items():
            self.add_flops(c, f)
        for c, f in other.backward.items():
            self.add_backward(c, f)
        self.io = self.io + other.io
        self.matmuls += other.matmuls
        self.attention += other.attention
        self.notes += [n for n in other.notes if n not in self.notes]

    def mapped(self, fn: Callable[[Size], Size], mult: Size, label: str | None = None) -> Row:
        """This row (and its children) with `fn` applied to every size and the costs times `mult`."""
        return Row(label or self.label, self.kind, self.line, fn(self.params),
                   {c: fn(f) * mult for c, f in self.flops.items()},
                   {c: fn(f) * mult for c, f in self.backward.items()},
                   {d: rules.multiplied(d, fn(s), mult) for d, s in self.saved.items()},
                   [(per_sample(fn(s), mult), w) for s, w in self.peak], fn(self.io) * mult,
                   [m.map(fn, mult) for m in self.matmuls], [a.map(fn, mult) for a in self.attention],
                   [c.mapped(fn, mult) for c in self.children], list(self.notes))


class CostError(Exception):
    pass


# ---- tensors and what keeps them ------------------------------------------------------------


@dataclasses.dataclass
class Later:
    """A repetition costed with a threaded input that needs a gradient: its row, what it keeps (its
    input and result left out), which of those are made once, and whether it keeps its input or result."""

    row: Any
    saved: dict
    unbatched: set
    kept_ends: bool


class Key:
    """One tensor (a storage) in a body: views of it share its key.  `once`: made once per call, not per
    sample -- a constant of sizes only (`tril(t, t)`, `arange(t)`, what is computed from them alone),
    which the generated code makes without batch or lifted axes."""

    __slots__ = ("size", "dtype", "grad", "what", "once")

    def __init__(self, size: Size, dtype: str, grad: bool, what: str = "", once: bool = False):
        self.size, self.dtype, self.grad, self.what, self.once = size, dtype, grad, what, once

    @property
    def held(self) -> Size:
        """Its elements in a peak, marked by element type when not a float (`WIDE`), and as made once
        per call (`ONCE`) for a constant."""
        return held(self.size, self.dtype) * ONCE if self.once else held(self.size, self.dtype)


# Mark the elements of a peak that are not floats: int64 (torch.long, 8 bytes) and bool (1 byte). The
# report counts each at its width for bytes, and sets the marks to 1 for elements.
LONG, BYTE = Symbol("int64"), Symbol("bool")
WIDE = {rules.INT64: LONG, rules.BOOL: BYTE}


def _constant(operands: list) -> bool:
    """Whether what an operation makes of these operands is a constant made once per call: none of them
    has batch axes (constants themselves, a module's weights and buffers; an operation of no operands)."""
    return all(k is None or k.once or k.what == "learned" for k in operands)


def _constants(args: list) -> frozenset[int]:
    """The positions of the arguments of a call that are constants (`Key.once`)."""
    return frozenset(i for i, a in enumerate(args) if a is not None and a.once)


def held(size: Size, dtype: str) -> Size:
    return size * WIDE[dtype] if dtype in WIDE else size


# Marks the part of a peak made once per call, not per sample (a permuted weight): multiplying a peak by the
# batch, or by the axes a call is lifted over, leaves that part as it is; the report sets it to 1.
ONCE = Symbol("once")
# Marks the part of a callee's peak that the call it is brought in by does not multiply by its lifted axes:
# grouped attention's kernel mask, which the generated code passes once for every query head.  The call
# sets it to 1 once it has brought the callee's peak in.
SHARED = Symbol("shared")


def per_sample(size: Size, mult: Size) -> Size:
    """A peak times `mult`, but for its part made once per call."""
    once = Size({m: c for m, c in size.terms if ONCE in m or SHARED in m})
    return (size - once) * mult + once if once != ZERO else size * mult


@dataclass
class Event:
    """An operation of a statement: the tensors it reads, those it makes, and for a call the callee's peak."""

    operands: list[Key]
    keys: list[Key]
    inner: list[tuple[Size, str]]
    scratch: Size = ZERO
    # A repetition: the callee's peak is also reached with the threaded argument no longer its input
    # (times `again`: 0 or 1).
    again: Size | None = None


@dataclass
class BodyResult:
    """A body costed in its own names: `saved` holds every tensor kept for backward (the body's inputs
    among them, by position), `outputs` which tensor each result is (an input's position, or a key)."""

    row: Row
    saved: dict[Any, tuple[str, Size]]
    outputs: list[Any]
    out_grads: list[bool]
    unbatched: frozenset = frozenset()  # the saved tensors made once, not per sample (made from constants)
    # The results that are an input itself without gradients (by position: result -> input), as an
    # eval-mode Dropout of an input is.
    same: dict[int, int] = field(default_factory=dict)
    # The inputs kept as the attention kernel reads them, `.contiguous()` (by position: the elements read,
    # in the callee's names): a caller passing a part of a larger tensor, or one broadcast, has a copy kept.
    contiguous: dict[int, Size] = field(default_factory=dict)


def _dtype_of(t) -> str:
    return FLOAT if getattr(t, "dtype", ir.FLOAT) == ir.FLOAT else rules.INT64 if t.dtype == ir.INT else rules.BOOL


def _elements(t) -> Size:
    if isinstance(t, TensorType):
        return product(t.sizes)
    if isinstance(t, ir.TupleType):
        return sum((product(i.sizes) for i in t.items), ZERO)
    return ZERO


def _line(node) -> int | None:
    span = getattr(node, "span", None)
    return span.line if span is not None else None


def prune(candidates: list[tuple[Size, str]], limit: int = 64) -> list[tuple[Size, str]]:
    """Candidates for a maximum, without those another provably exceeds (or equals)."""
    kept: list[tuple[Size, str]] = []
    for size, where in candidates:
        if any(_at_least(k, size) for k, _ in kept):
            continue
        kept = [(k, w) for k, w in kept if not _at_least(size, k)]
        kept.append((size, where))
    return kept[-limit:]


def _at_least(a: Size, b: Size) -> bool:
    """a >= b for every positive value of the symbols: a - b has no negative coefficient."""
    return all(c >= 0 for _, c in (a - b).terms)


# ---- the walk --------------------------------------------------------------------------------


class Model:
    def __init__(self, program: ir.Program):
        self.program = program
        self.functions = {f.name: f for f in program.functions}
        self.modules = {m.name: m for m in program.modules}
        self._bodies: dict[tuple, BodyResult] = {}
        self._params: dict[str, Size] = {}

    # ---- parameters of learned parts
    def module_params(self, module: ir.Module) -> Size:
        if module.name not in self._params:
            self._params[module.name] = sum((self.component_params(c, module) for c in module.components()), ZERO)
        return self._params[module.name]

    def component_params(self, c: ir.Component, module: ir.Module) -> Size:
        if isinstance(c, ir.Layer):
            return derived(module)(rules.LAYER_RULES[c.op](c.attrs, None, None).params) if c.op == "Parameter" \
                else derived(module)(_layer_params(c))
        if isinstance(c, ir.Instance):
            target = self.modules[c.module]
            return derived(module)(instance_map(target, c.args)(self.module_params(target)))
        if isinstance(c, ir.Seq):
            return sum((self.component_params(p, module) for p in c.parts), ZERO)
        assert isinstance(c, ir.Repeat)
        if c.instances is not None:
            return sum((self.component_params(p, module) for p in c.instances), ZERO)
        assert c.body is not None and c.index is not None
        body = self.component_params(c.body, module)
        return _repeat_sum(body, c.index, c.start, c.stop)

    # ---- bodies
    def body(self, f: ir.Function, grads: tuple[bool, ...], module: ir.Module | None,
             learned: frozenset[int] = frozenset(), lead: int = 1, values: dict | None = None,
             shared: bool = False, constants: frozenset[int] = frozenset()) -> BodyResult:
        """A body costed once per gradient pattern; the inputs at `learned` are weights (a routed
        expert's slice of stacked parameters), kept neither for backward nor in its memory; its values
        carry `lead` axes before those of their types when the generated code runs it (the batch, the
        axes a call is lifted over), which decide PyTorch's attention kernel; `values`: the module's
        hyperparameters that are not sizes (a Dropout's probability, a choice), as its caller passes them
        (by default, their defaults); `shared`: its attention's mask is passed once for all the axes it is
        lifted over (grouped attention); the inputs at `constants` are constants of sizes only (without
        batch axes)."""
        if values is None:
            values = {hp.name: hp.default for hp in module.hparams if hp.kind != "size"} if module is not None else {}
        key = (id(f), grads, learned, lead, tuple(sorted(values.items())), shared, constants)
        if key not in self._bodies:
            self._bodies[key] = Body(self, f, grads, module, learned, lead, values, shared, constants).run()
        return self._bodies[key]


def _layer_params(c: ir.Layer) -> Size:
    return rules.LAYER_RULES[c.op](c.attrs, _DUMMY, _DUMMY).params


_DUMMY = TensorType(())


def derived(module: ir.Module | None) -> Callable[[Size], Size]:
    """Sizes with the module's derived sizes (`nb = n1 // 4`) written out in its hyperparameters."""
    if module is None:
        return lambda s: s
    values = {m.symbol: m.value for m in module.members if isinstance(m, ir.SizeMember)}
    if not values:
        return lambda s: s

    def fn(size: Size) -> Size:
        for _ in range(16):
            if not size.symbols() & values.keys():
                break
            size = size.substitute(lambda a: values.get(a) if isinstance(a, Symbol) else None)
        return size
    return fn


def instance_map(target: ir.Module, args: list[Size], generics: dict | None = None) -> Callable[[Size], Size]:
    """Sizes of a module's body in its caller's names: hyperparameters become the arguments."""
    mapping: dict = {hp.symbol: a for hp, a in zip(target.hparams, args)}
    mapping.update(generics or {})
    inner = derived(target)
    return lambda s: inner(s).substitute(lambda a: mapping.get(a) if isinstance(a, Symbol) else None)


def _repeat_sum(body: Size, index: Symbol, start: Size, stop: Size) -> Size:
    """The sum of `body` over index = start..stop."""
    count = stop - start + 1
    if index not in body.symbols():
        return body * count
    lo, hi = start.constant, stop.constant
    if lo is None or hi is None:
        raise CostError(f"a cost depends on the index `{index.name}` of a repetition of unknown length")
    total = ZERO
    for i in range(lo, hi + 1):
        total = total + body.substitute(lambda a, i=i: Size.of(i) if a is index else None)
    return total


def match_generics(sig: ir.Signature, own: list[TensorType]) -> dict:
    """The generic sizes of a callee, read off the types of what it is applied to."""
    found: dict = {}
    for source in ir.size_sources(sig.inputs, list(sig.generics), set()):
        size = own[source.wire].axes[source.axis].size
        if source.divisor is not None:
            size = size // source.divisor.substitute(lambda a: found.get(a))
        found[source.symbol] = size
    return found


class Body:
    """One def or forward, costed in its own names."""

    def __init__(self, model: Model, f: ir.Function, grads: tuple[bool, ...], module: ir.Module | None,
                 learned: frozenset[int] = frozenset(), lead: int = 1, values: dict | None = None,
                 shared: bool = False, constants: frozenset[int] = frozenset()):
        self.model, self.f, self.module = model, f, module
        self.lead, self.shared, self.constants = lead, shared, constants
        self.values = values or {}
        self.grads = grads
        self.learned = learned
        self.derived = derived(module)
        self.row = Row(f.name, "def" if module is None else "module", _line(f.header))
        self.locals: dict[ir.Local, Key] = {}
        self.saved: dict[Any, tuple[str, Size]] = {}
        self.unbatched: set = set()  # the idents in `saved` of tensors made once, not per sample
        self.inputs: dict[Key, int] = {}
        self.counter = itertools.count()
        # memory: per statement, the keys read, the keys bound to names, and in the order they happen
        # the operations that make tensors (`Event`s)
        self.reads: list[set[Key]] = []
        self.events: list[list[Event]] = []
        self.bound: list[set[Key]] = []
        self.operands: list[Key] = []  # what the operation being costed reads (set by `op_row`)
        self.names: dict[str, Key] = {}  # what each name holds now
        self.holders: dict[Key, set[str]] = {}
        self.released: dict[Key, int] = {}  # the statement at which no name holds a tensor any more
        # The results that are, without gradients, another tensor itself (an eval-mode Dropout returns its
        # input): one tensor in the peak, two in what training keeps.
        self.alias: dict[Key, Key] = {}
        self.contiguous: dict[int, Size] = {}  # see `BodyResult`
        self.stmt = 0

    def size(self, s: Size) -> Size:
        return self.derived(s)

    def bind(self, name: str, key: Key | None) -> None:
        """A name now holds `key`: the tensor it held before is released at this statement, unless
        another name still holds it (as the generated code's locals do)."""
        old = self.names.get(name)
        if old is not None:
            self.holders[old].discard(name)
            if not self.holders[old]:
                self.released[old] = self.stmt
        if key is not None:
            self.names[name] = key
            self.holders.setdefault(key, set()).add(name)
            self.released.pop(key, None)
        else:
            self.names.pop(name, None)

    def new(self, t, grad: bool, what: str = "") -> Key:
        """The result of the operation being costed (which reads `self.operands`)."""
        key = Key(self.size(_elements(t)), _dtype_of(t) if not isinstance(t, ir.TupleType) else FLOAT, grad, what,
                  once=_constant(self.operands))
        self.made(self.operands, [key])
        self.operands = []
        return key

    def made(self, operands: list, keys: list[Key], inner: list[tuple[Size, str]] | None = None,
             scratch: Size = ZERO) -> None:
        """An operation of this statement read `operands` and made `keys` (and `scratch` elements held only
        while it runs); a call, with its own peak."""
        self.events[self.stmt].append(Event([k for k in operands if k is not None], keys, inner or [], scratch))

    def same(self, key: Key) -> Key:
        """The tensor a result is without gradients (itself, or what an eval-mode Dropout returned)."""
        while key in self.alias:
            key = self.alias[key]
        return key

    def keep_contiguous(self, key: Key | None, elements: Size, row: Row) -> None:
        """Keep what the attention kernel keeps of an operand that the generated code passes `.contiguous()`
        and that has `elements`: the tensor itself when it is all of its storage (a permutation of it is a
        copy of the same size), else a copy of the part it is (a slice of a wider tensor: `QKV[:, 2]`, or
        one broadcast)."""
        if key is None or key.what == "learned":
            return
        if key.size != elements:
            self.keep(Key(elements, key.dtype, True, "contiguous", key.once), row)
            return
        if key in self.inputs:  # the caller's argument may be such a part
            self.contiguous[self.inputs[key]] = elements
        self.keep(key, row)

    def keep(self, key: Key | None, row: Row) -> None:
        """The backward pass keeps this tensor (once, however many operations keep it)."""
        if key is None or key.what == "learned":
            return
        ident: Any = self.inputs.get(key, key)
        if isinstance(ident, int):
            ident = ("in", ident)
        if ident in self.saved:
            return
        self.saved[ident] = (key.dtype, key.size)
        if key.once:
            self.unbatched.add(ident)
        row.add_saved(key.dtype, key.size)

    def run(self) -> BodyResult:
        for i, p in enumerate(self.f.params):
            key = Key(self.size(_elements(p.type)), _dtype_of(p.type), self.grads[i],
                      "learned" if i in self.learned else "input", i in self.constants)
            self.inputs[key] = i
            self.locals[p] = key
            self.bind(p.name, key)
        outputs: list[Key] = []
        body = fuse_attention(self.f.body)
        self.plan = plan_layouts(body, self.model.modules)  # the back end's: the Linear weights it permutes
        for stmt in body:
            self.reads.append(set())
            self.events.append([])
            self.bound.append(set())
            outputs = self.statement(stmt, ONE) or outputs
            self.stmt += 1
        self.memory(outputs)
        result_outputs: list[Any] = [("in", self.inputs[k]) if k in self.inputs else k for k in outputs]
        for r in self.row.children:
            self.row.absorb(r)
            for d, n in r.saved.items():
                self.row.add_saved(d, n)
        same = {i: self.inputs[self.same(k)] for i, k in enumerate(outputs)
                if k is not None and k not in self.inputs and self.same(k) in self.inputs}
        return BodyResult(self.row, self.saved, result_outputs, [k.grad for k in outputs], frozenset(self.unbatched),
                          same, self.contiguous)

    def statement(self, stmt, mult: Size) -> list[Key] | None:
        if isinstance(stmt, ir.Assign):
            key = self.value(stmt.value)
            values = key if isinstance(key, tuple) else (key,) if len(stmt.targets) == 1 else ()
            for target, k in zip(stmt.targets, values):
                if k is not None:
                    self.locals[target] = k
                    self.bound[self.stmt].add(k)
                self.bind(target.name, k)
            return None
        if isinstance(stmt, ir.Return):
            keys: list = []
            for v in stmt.values:
                k = self.value(v)
                keys.extend(k if isinstance(k, tuple) else [k])
            return keys
        if isinstance(stmt, ir.If):
            # Branches on hyperparameters: the cost is that of the branch their defaults take.
            taken = self.taken(stmt)
            for inner in taken:
                self.statement(inner, mult)
            # Later reads may name another branch's definition of a wire: it is the taken one's.
            chosen = {t.name: self.locals[t] for t in ir.producers(taken) if t in self.locals}
            for body in stmt.bodies:
                for target in ir.producers(body):
                    if target.name in chosen:
                        self.locals[target] = chosen[target.name]
            return None
        assert isinstance(stmt, ir.For)
        # A loop: its body costed once and multiplied out by the number of turns.
        before = len(self.row.children)
        for inner in stmt.body:
            self.statement(inner, mult)
        rows = self.row.children[before:]
        del self.row.children[before:]
        loop = Row(f"for {stmt.var.name} in {stmt.start}..{stmt.stop}", "repeat", _line(stmt))
        for r in rows:
            loop.children.append(r.mapped(lambda s: _repeat_sum(s, stmt.var, stmt.start, stmt.stop), ONE))
        for c in loop.children:
            loop.absorb(c)
            for d, s in c.saved.items():
                loop.add_saved(d, s)
        self.row.children.append(loop)
        return None

    def taken(self, stmt: ir.If) -> list:
        """The body of the branch the module's default hyperparameters take."""
        if self.module is None:
            return stmt.taken({})
        return stmt.taken({hp.name: self.values.get(hp.name) if hp.kind != "size" else hp.default
                           for hp in self.module.hparams})

    def value_of(self, item):
        """A number, bool or choice of an attribute or argument: a hyperparameter's as this body has it
        (None where it has none)."""
        return self.values.get(item.name) if isinstance(item, ir.HParamRef) else item

    def dropout_p(self, name: str) -> float | None:
        """The probability of the module's Dropout part `name` (None where unknown)."""
        layer = next((c for c in self.module.components() if c.name == name), None) if self.module else None
        p = self.value_of(layer.attrs.p) if isinstance(layer, ir.Layer) else None
        return p if isinstance(p, (int, float)) else None

    # ---- values: each returns its tensor's key (a tuple of keys for several outputs; None for numbers)
    def value(self, node: ir.Value):
        method = getattr(self, "v_" + type(node).__name__)
        return method(node)

    def op_row(self, label: str, node: ir.Value, reads=()) -> Row:
        """The row of one operation that reads the tensors `reads` and writes a result of `node`'s type."""
        row = Row(label, "operation", _line(node))
        row.io = sum({id(k): k.size for k in reads if k is not None}.values(), ZERO) + self.size(_elements(node.type))
        self.operands = list(reads)
        self.row.children.append(row)
        return row

    def v_Read(self, node: ir.Read):
        key = self.locals.get(node.local)
        if key is not None:
            self.reads[self.stmt].add(key)
        return key

    def v_LearnedTensor(self, node: ir.LearnedTensor):
        return Key(self.size(_elements(node.type)), FLOAT, True, "learned")

    def v_Const(self, node):
        return None

    v_SizeValue = v_HParamValue = v_Const

    def v_ScalarBinary(self, node: ir.ScalarBinary):
        self.value(node.left)
        self.value(node.right)
        return None

    def v_ScalarFn(self, node: ir.ScalarFn):
        self.value(node.operand)
        return None

    def v_Neg(self, node: ir.Neg):
        x = self.value(node.operand)
        if node.type is ir.SCALAR:  # `-inf`, `-k`: a number
            return None
        row = self.op_row("neg", node, [x])
        row.add_flops(ELEMENTWISE, self.size(_elements(node.type)))
        row.passes_back(bool(x and x.grad))
        return self.new(node.type, bool(x and x.grad))

    def v_Binary(self, node: ir.Binary):
        a, b = self.value(node.left), self.value(node.right)
        row = self.op_row(node.op, node, [a, b])
        row.add_flops(ELEMENTWISE, self.size(_elements(node.type)))
        ga, gb = bool(a and a.grad), bool(b and b.grad)
        row.passes_back(ga or gb)
        if node.op == "*":  # each factor is kept for the other's gradient
            if ga:
                self.keep(b, row)
            if gb:
                self.keep(a, row)
        elif node.op == "/":
            if ga or gb:
                self.keep(b, row)
            if gb:
                self.keep(a, row)
        elif node.op == "**":
            if ga or gb:
                self.keep(a, row)
            if gb:
                self.keep(b, row)
        result = self.new(node.type, ga or gb)
        if node.op == "**" and gb:
            self.keep(result, row)
        return result

    def v_Compare(self, node: ir.Compare):
        operands = [self.value(node.left), self.value(node.right)]
        row = self.op_row(node.op, node, operands)
        row.add_flops(ELEMENTWISE, rules.COMPARISONS[node.op].flops * self.size(_elements(node.type)))
        return self.new(node.type, False)  # booleans carry no gradient

    def v_Where(self, node: ir.Where):
        c, a, b = (self.value(v) for v in node.args)
        row = self.op_row("where", node, [c, a, b])
        row.add_flops(ELEMENTWISE, self.size(_elements(node.type)))
        grad = bool(a and a.grad) or bool(b and b.grad)
        row.passes_back(grad)
        if grad:  # the backward pass routes each gradient by the condition
            self.keep(c, row)
        return self.new(node.type, grad)

    def v_Tril(self, node: ir.Tril):
        return self.new(node.type, False)

    def _element(self, rule: rules.ElementRule, label: str, node, x: Key | None, category: str, per):
        row = self.op_row(label, node, [x])
        row.add_flops(category, rule.flops * per)
        row.passes_back(bool(x and x.grad))
        result = self.new(node.type, bool(x and x.grad))
        if x is not None and x.grad:
            for what in rule.saves:
                self.keep(x if what == "input" else result, row)
        return result

    def v_Map(self, node: ir.Map):
        x = self.value(node.operand)
        return self._element(rules.MAPS[node.fn], node.fn, node, x, ELEMENTWISE, self.size(_elements(node.type)))

    def v_Normalise(self, node: ir.Normalise):
        x = self.value(node.operand)
        axis = node.type.axes[node.dim]  # type: ignore[union-attr]
        return self._element(rules.NORMALISERS[node.fn], f"{node.fn}[{axis}]", node, x, NORMALISATION,
                             self.size(_elements(node.type)))

    def v_Reduce(self, node: ir.Reduce):
        x = self.value(node.operand)
        assert x is not None
        t = node.operand.type
        names = " ".join(str(t.axes[d]) for d in node.dims)  # type: ignore[union-attr]
        return self._element(rules.REDUCTIONS[node.fn], f"{node.fn}[{names}]", node, x, ELEMENTWISE, x.size)

    def _view(self, node, x: Key | None):
        return x  # a view is the tensor it views

    def v_Flatten(self, node: ir.Flatten):
        return self._view(node, self.value(node.operand))

    def v_Rearrange(self, node: ir.Rearrange):
        return self._view(node, self.value(node.operand))

    def v_Index(self, node: ir.Index):
        return self._view(node, self.value(node.operand))

    def v_Concat(self, node: ir.Concat):
        keys = [self.value(v) for v in node.operands]
        self.op_row(f"concat[{node.type.axes[node.dim]}]", node, keys)  # type: ignore[union-attr]
        return self.new(node.type, any(k is not None and k.grad for k in keys))

    def v_Arange(self, node: ir.Arange):
        return self.new(node.type, False)

    def v_BufferValue(self, node: ir.BufferValue):  # held by the module as its weights are: never saved
        return Key(self.size(_elements(node.type)), _dtype_of(node.type), False, "learned")

    def v_Eye(self, node: ir.Eye):
        return self.new(node.type, False)

    def v_Einsum(self, node: ir.Einsum):
        keys = [self.value(v) for v in node.operands]
        out = ir.leaves(node.output)
        label = "einsum[" + " ".join(str(o) for o in node.output) + "]"
        row = self.op_row(label, node, keys)
        sizes = {k: self.size(v) for k, v in node.sizes.items()}
        groups = [ir.leaves(labels) for labels in node.inputs]
        grad = any(k is not None and k.grad for k in keys)
        if len(groups) == 1:  # a transpose, a diagonal or a sum over axes
            if set(groups[0]) - set(out):
                row.add_flops(ELEMENTWISE, product(sizes[l] for l in set(groups[0])))
                row.passes_back(grad)
            else:
                row.io = ZERO  # a view
            return self.new(node.type, grad) if set(groups[0]) - set(out) else keys[0]
        # Contracted left to right, as torch.einsum does; an axis only one operand has is summed first.
        acc, acc_key = list(dict.fromkeys(groups[0])), keys[0]
        for i in range(1, len(groups)):
            later = set(out).union(*[set(g) for g in groups[i + 1:]])
            right = list(dict.fromkeys(groups[i]))
            for side in (acc, right):
                other = right if side is acc else acc
                alone = [l for l in side if l not in later and l not in other]
                if alone:
                    row.add_flops(ELEMENTWISE, product(sizes[l] for l in side))
                    side[:] = [l for l in side if l not in alone]
            every = list(dict.fromkeys(acc + right))
            row.add_flops(CONTRACTION, 2 * product(sizes[l] for l in every))
            right_key = keys[i]
            a_grad, b_grad = bool(acc_key and acc_key.grad), bool(right_key and right_key.grad)
            # the gradient of each operand that needs one: a product of the same sizes
            row.add_backward(CONTRACTION, (int(a_grad) + int(b_grad)) * 2 * product(sizes[l] for l in every))
            batch = [l for l in every if l in acc and l in right and l in later]
            summed = [l for l in every if l in acc and l in right and l not in later]
            a_only = [l for l in acc if l not in right]
            c_only = [l for l in right if l not in acc]
            row.matmuls.append(Matmul(product(sizes[l] for l in a_only), product(sizes[l] for l in summed),
                                      product(sizes[l] for l in c_only), product(sizes[l] for l in batch)))
            operands = [acc_key, right_key]
            if b_grad:
                self.keep(acc_key, row)
            if a_grad:
                self.keep(right_key, row)
            acc = [l for l in every if l in later]
            if i < len(groups) - 1:
                acc_key = Key(product(sizes[l] for l in acc), FLOAT, a_grad or b_grad, "temporary")
                self.made(operands, [acc_key])
        self.operands = operands
        row.passes_back(grad)  # the sums over axes of one operand
        return self.new(node.type, grad)

    def v_Attention(self, node: ir.Attention):
        q, k, v = self.value(node.query), self.value(node.key), self.value(node.value)
        qt, kt, vt = (a.type for a in (node.query, node.key, node.value))
        y, d = (self.size(s) for s in qt.sizes)  # type: ignore[union-attr]
        x, dv = (self.size(s) for s in vt.sizes)  # type: ignore[union-attr]
        mask = self.value(node.mask) if node.mask is not None else None
        row = self.op_row("attention", node, [q, k, v])
        row.add_flops(ATTENTION, 2 * y * x * d + 2 * y * x * dv)
        row.add_flops(NORMALISATION, rules.NORMALISERS["softmax"].flops * y * x)
        if node.scale != ("*", None):
            row.add_flops(ELEMENTWISE, y * x)
        if node.mask is not None:
            row.add_flops(ELEMENTWISE, y * x)
        row.attention.append(AttentionShape(y, x, d, ONE))
        grad = any(t is not None and t.grad for t in (q, k, v))
        gq, gk, gv = (bool(t and t.grad) for t in (q, k, v))
        # The scores' gradient (from the probabilities') when the queries or keys need one; then each
        # operand's that needs one: products of the same sizes as forward's.
        row.add_backward(ATTENTION, 2 * y * x * d * (int(gq) + int(gk)) + 2 * y * x * dv * (int(gq or gk) + int(gv)))
        row.passes_back(grad)
        if grad:  # PyTorch's attention keeps the scaled queries and keys, the probabilities and the values
            for n in (y * d, x * d, y * x):
                scratch = Key(n, FLOAT, True, "attention")
                self.keep(scratch, row)
            self.keep_contiguous(v, x * dv, row)
            if node.dropout is not None and self.dropout_p(node.dropout) != 0:
                # the dropped probabilities (for the values' gradient) and the mask
                for _ in range(2):
                    self.keep(Key(y * x, FLOAT, True, "attention"), row)
        result = Key(self.size(_elements(node.type)), FLOAT, grad, "result")
        operands = self.operands + ([mask] if mask is not None else [])
        self.operands = []
        # Held while PyTorch's kernel runs, besides its operands and result: the kernel's mask as the
        # generated code makes it (`tril & M` for a causal and a bool mask, a bool of the scores' shape)
        # and, for a bool mask, its float form (PyTorch turns it into 0 and -inf of its shape).
        per = (Size.of(ONCE) if mask is not None and mask.once else ONE) * (Size.of(SHARED) if self.shared else ONE)
        kernel_mask = ZERO
        if node.mask is not None and node.causal:
            kernel_mask = (held(y * x, rules.BOOL) + y * x) * per
        elif node.mask is not None and node.mask.type.dtype == ir.BOOL:  # type: ignore[union-attr]
            kernel_mask = self.size(_elements(node.mask.type)) * per
        # PyTorch's fused kernel takes a mask of 2 or 4 axes: a constant (no batch axis) is passed with its
        # own two, any other mask with every leading axis (the torch back end's `_head_mask`)
        mask_rank = 2 if mask is not None and mask.once else 2 + self.lead
        if self.lead == 2 and d == dv and (mask is None or mask_rank in (2, 4)):
            # The fused kernel (4 axes, one head size) also returns the log-sum-exp of each query's scores,
            # dropped at once.
            self.made(operands, [result], scratch=kernel_mask + y)
            return result
        # PyTorch's math path (queries without a heads axis, or another head size for the values): the
        # scaled queries, held throughout; the scaled keys while the scores are made; the scores (masked:
        # a new tensor), the probabilities; then the result.  With `is_causal` it makes its own float mask.
        if node.causal and node.mask is None:
            kernel_mask = y * x * ONCE
        self.made([], [], scratch=kernel_mask + y * d + x * d + y * x)
        self.made([], [], scratch=kernel_mask + y * d + 2 * y * x)
        self.made(operands, [result], scratch=kernel_mask + y * d + y * x)
        return result

    def v_TopK(self, node: ir.TopK):
        x = self.value(node.operand)
        axis = node.operand.type.axes[node.dim]  # type: ignore[union-attr]
        row = self.op_row(f"topk[{axis}]", node, [x])
        row.add_flops(ELEMENTWISE, self.size(_elements(node.operand.type)))
        values, positions = ir.types_of(node.type)
        grad = bool(x and x.grad)
        row.passes_back(grad)
        result = (Key(self.size(_elements(values)), FLOAT, grad, "result"),
                  Key(self.size(_elements(positions)), _dtype_of(positions), False, "result"))
        self.made(self.operands, list(result))
        self.operands = []
        if grad:  # the gradient of the values is scattered back to their positions
            self.keep(result[1], row)
        return result

    def v_Route(self, node: ir.Route):
        """The expert's def costed once per token and slot: `mult` calls of one token each, as `_route`
        runs them: each token argument's rows gathered in the experts' order (by two int64 indexes of
        the slots: their order, and their tokens), the experts run, their results concatenated and
        gathered back into token order (by a third index, the order's inverse)."""
        self.value(node.index)
        args = [self.value(a) for a in node.arguments]
        mult = product(self.size(s) for s in node.index.type.sizes)  # type: ignore[union-attr]
        fn = self._sub(lambda s: s.substitute(lambda a: node.instance.get(a) if isinstance(a, Symbol) else None))
        weights = frozenset(i for i, kind in enumerate(node.kinds) if kind == "expert")
        result = self.model.body(node.signature.target, tuple(bool(a and a.grad) for a in args), None, weights)
        params = node.signature.target.params
        rows = [a if i in weights else Key(fn(_elements(p.type)) * mult, FLOAT, bool(a and a.grad), "route")
                for i, (p, a) in enumerate(zip(params, args))]
        gathered = sum((rows[i].held for i in range(len(rows)) if i not in weights), ZERO)
        out = self._apply(result, fn, mult, rows, [node.type], f"route[{format_size(node.experts)}] {node.expert}",
                          "def", node)
        # Held while it runs, besides its arguments: the indexes and the gathered rows throughout, then the
        # experts' results, their concatenation and the result.  The experts' peak is counted as if one
        # expert took every slot (the most it can be: it depends on the routing).
        experts = self.events[self.stmt].pop()
        indexes = held(2 * mult, rules.INT64)
        self.made([], experts.keys, [(indexes + gathered, node.expert)]
                  + [(indexes + p, w) for p, w in experts.inner]
                  + [(indexes + held(mult, rules.INT64) + gathered + 3 * out.held, node.expert)])
        row = self.row.children[-1]
        tokens, back = (Key(mult, rules.INT64, False, "route") for _ in range(2))
        if any(rows[i].grad for i in range(len(rows)) if i not in weights):  # a gather keeps its index
            self.keep(tokens, row)
        if out.grad:
            self.keep(back, row)
        return out

    # ---- calls
    def v_Call(self, node: ir.Call):
        args = [self.value(a) for a in node.arguments]
        mult = product(self.size(s) for s in node.lift_sizes.values()) if node.lifted else ONE
        out_types = ir.types_of(node.type)
        first = out_types[0]
        if node.lead:
            start = len(node.before)
            mult = mult * product(self.size(a.size) for a in first.axes[start:start + node.lead])
        own = [TensorType(tuple(a.type.axes[i] for i in layout.own), a.type.dtype)  # type: ignore[union-attr]
               for a, layout in zip(node.arguments, node.layouts)]
        kind = node.callee_kind
        grouped = grouped_attention(node) if kind == "def" else None
        # The leading axes the callee's values carry: this body's, the lifted ones (grouped attention
        # flattens them into one heads axis) and the call's own.
        lead = self.lead + (0 if not node.lifted else 1 if grouped is not None else len(node.lift_sizes)) + node.lead
        if kind == "box":
            row = self.op_row(f"box {node.callee}", node, args)
            row.notes.append(f"`{node.callee}` is an abstract box: its cost is not known")
            outs = [self.new(t, any(a is not None and a.grad for a in args)) for t in out_types]
            return tuple(outs) if len(outs) > 1 else outs[0]
        if kind == "def":
            target: ir.Function = node.target
            fn = self._sub(lambda s: s.substitute(lambda a: node.instance.get(a) if isinstance(a, Symbol) else None))
            result = self.model.body(target, tuple(bool(a and a.grad) for a in args), None, lead=lead,
                                     shared=grouped is not None, constants=_constants(args))
            label = node.callee + (f"[{' '.join(node.lifted)}]" if node.lifted else "")
            kept = None
            if grouped is not None:
                # One kernel call: its backward repeats the values for every query head, and keeps the repeats.
                value = grouped[1][2]
                kept = {value: Key(self.size(_elements(own[value])) * mult, FLOAT, True, "attention")}
            out = self._apply(result, fn, mult, args, out_types, label, "def", node, kept=kept)
            self._as_passed(target, fn, mult, args, _substituting({SHARED: ONE}))
            return out
        return self.component(node.target, node, args, own, mult, out_types, node.callee, lead - self.lead)

    def _as_passed(self, target: ir.Function, fn, mult: Size, args: list,
                   also: Callable[[Size], Size] = lambda s: s) -> None:
        """The callee's peak (the last event's) counts its inputs as their types say, lifted and per sample;
        the generated code passes them as they are: an argument without a lifted axis is broadcast
        without copying (`_insert_axis`), grouped attention reads its keys and values once, not once per
        query head, and a constant (a mask of sizes only) has no batch axes."""
        call, row = self.events[self.stmt][-1], self.row.children[-1]
        lifted = sum((held(fn(_elements(p.type)), _dtype_of(p.type))
                      * (Size.of(ONCE) if a is not None and a.once else mult)  # a constant is one inside too
                      for p, a in zip(target.params, args)), ZERO)
        real = sum((a.held for a in args if a is not None), ZERO)
        call.inner = [(also(p) - lifted + real, w) for p, w in call.inner]
        row.peak = [(also(p) - lifted + real, w) for p, w in row.peak]

    def _sub(self, fn: Callable[[Size], Size]) -> Callable[[Size], Size]:
        return lambda s: self.size(fn(s))

    def _apply(self, result: BodyResult, fn, mult: Size, args: list, out_types, label: str, kind: str, node,
               params: Size = ZERO, kept: dict | None = None) -> Any:
        """Bring a callee's costs into this body: its names mapped, multiplied out, its tensors renamed;
        `kept` replaces inputs that the callee keeps by what the generated code keeps instead."""
        row = result.row.mapped(fn, mult, label)
        row.kind, row.line, row.params = kind, _line(node), params
        row.saved = {}
        token = object()
        renamed: dict[Any, Key] = {}

        def rename(ident):
            if isinstance(ident, tuple) and ident and ident[0] == "in":
                return args[ident[1]]
            if ident not in renamed:
                dtype, size = result.saved.get(ident, (FLOAT, ZERO))
                renamed[ident] = Key(rules.multiplied(dtype, fn(size), mult), dtype, True, "callee")
            return renamed[ident]

        for ident, (dtype, size) in result.saved.items():
            key = rename(ident)
            if isinstance(ident, tuple) and ident and ident[0] == "in":
                if kept and ident[1] in kept:
                    self.keep(kept[ident[1]], row)
                elif ident[1] in result.contiguous:
                    self.keep_contiguous(key, fn(result.contiguous[ident[1]]) * mult, row)
                else:
                    self.keep(key, row)
            else:
                once = ident in result.unbatched
                if once:
                    self.unbatched.add((token, ident))
                self.saved[(token, ident)] = (dtype, rules.multiplied(dtype, fn(size), ONE if once else mult))
                row.add_saved(dtype, rules.multiplied(dtype, fn(size), ONE if once else mult))
        outs = []
        for ident, t, g in zip(result.outputs, out_types, result.out_grads):
            if isinstance(ident, tuple) and ident and ident[0] == "in":
                outs.append(args[ident[1]])
                continue
            key = Key(self.size(_elements(t)), _dtype_of(t), g, "result")
            if (token, ident) in self.saved:  # the callee keeps its result: the same tensor here
                self.saved[key] = self.saved.pop((token, ident))
            outs.append(key)
        self.row.children.append(row)
        for i, position in result.same.items():
            if args[position] is not None:
                self.alias[outs[i]] = args[position]
        self.made(args, [k for k in outs if k not in args and k not in self.alias], row.peak)
        return tuple(outs) if len(outs) > 1 else outs[0]

    def component(self, c: ir.Component, node, args: list, own: list[TensorType], mult: Size, out_types,
                  label: str, lead: int = 0):
        """A part applied to `args` (`lead`: the leading axes they carry beyond this body's)."""
        if isinstance(c, ir.Layer):
            sig = c.signature
            assert sig is not None
            inst = node.instance if node is not None else match_generics(sig, own)
            sub = lambda s: s.substitute(lambda a: inst.get(a) if isinstance(a, Symbol) else None)  # noqa: E731
            t_in = own[0].map(lambda s: self.size(s))
            t_out = sig.outputs[0].map(lambda s: self.size(sub(s)))
            attrs = c.attrs  # its numbers as this body has them (a Dropout's probability)
            if dataclasses.is_dataclass(attrs) and not isinstance(attrs, type):
                attrs = dataclasses.replace(attrs, **{f.name: self.value_of(getattr(attrs, f.name))
                                                      for f in dataclasses.fields(attrs)
                                                      if isinstance(getattr(attrs, f.name), ir.HParamRef)})
            cost = rules.LAYER_RULES[c.op](attrs, t_in, t_out)
            row = Row(f"{label}: {c.op}", "layer", _line(node) if node is not None else _line(c))
            row.params = self.size(cost.params)
            row.io = (self.size(_elements(t_in)) + self.size(_elements(t_out))) * mult
            for cat, f in cost.flops.items():
                row.add_flops(cat, self.size(f) * mult)
            x_grad = bool(args and args[0] is not None and args[0].grad)
            for cat, f in cost.backward(x_grad).items():
                row.add_backward(cat, self.size(f) * mult)
            if cost.matmul is not None:
                n_in, n_out = cost.matmul
                row.matmuls.append(Matmul(mult, self.size(n_in), self.size(n_out), ONE))
            x = args[0] if args else None
            grad = row.params != ZERO or bool(x and x.grad)
            once = x is not None and _constant([x])  # a layer applied to a constant (`wpe(arange(t))`)
            result = Key(self.size(_elements(t_out)) * mult, _dtype_of(t_out), grad, "result", once)
            # A weight the layout plan permutes: a copy made at each call, held while it runs (backward
            # makes it again rather than keep it: `_linear_permuted`).
            copy = ZERO
            if node is not None and cost.matmul is not None and is_linear(node) and weight_permuted(self.plan, node):
                n_in, n_out = cost.matmul
                copy = self.size(n_in * n_out)
                rows = linear_weight_order(self.plan, node)[1]
                if c.attrs.bias and rows != sorted(rows):  # its bias permuted too (not kept for backward)
                    copy = copy + self.size(n_out)
            if not cost.needs_grad_input or (x is not None and x.grad):
                for what, extra in cost.saves:
                    if what == "input":
                        self.keep(x, row)
                    elif what == "result":
                        self.keep(result, row)
                    else:
                        assert extra is not None
                        dtype, n = extra
                        scratch = Key(rules.multiplied(dtype, self.size(n), mult), dtype, True, "extra", once)
                        self.keep(scratch, row)
            self.row.children.append(row)
            if cost.returns_input and x is not None:
                self.alias[result] = x
                return result
            self.made([x], [result], scratch=copy * ONCE + self.size(cost.scratch) * mult)
            return result
        if isinstance(c, ir.Instance):
            target = self.model.modules[c.module]
            sig = c.signature
            assert sig is not None
            inst = node.instance if node is not None else match_generics(sig, own)
            fn = self._sub(instance_map(target, c.args, inst))
            values = {hp.name: self.value_of(a) for hp, a in zip(target.hparams, c.args) if hp.kind != "size"}
            called = self.model.body(target.forward, tuple(bool(a and a.grad) for a in args), target,
                                     lead=self.lead + lead, values=values, constants=_constants(args))
            params = self.size(instance_map(target, c.args)(self.model.module_params(target)))
            out = self._apply(called, fn, mult, args, out_types, f"{label}: {c.module}", "module", node, params)
            if self.events[self.stmt] and self.events[self.stmt][-1].inner:
                self._as_passed(target.forward, fn, mult, args)
            return out
        if isinstance(c, ir.Seq):
            return self.chain(c.parts, node, args, own, mult, label, [f"{label}[{i}]" for i in range(len(c.parts))],
                              lead)
        assert isinstance(c, ir.Repeat)
        position = node.position if node is not None else None
        if position is not None:  # one repetition: `blocks[i]`
            if c.instances is not None and position.constant is not None:
                part = c.instances[position.constant]
            else:
                assert c.body is not None and c.index is not None
                part = _at_index(c.body, c.index, c.start + position)
            return self.component(part, None, args, own, mult, out_types, f"{label}[{position}]", lead)
        if c.instances is not None:
            lo = c.start.constant or 0
            return self.chain(c.instances, node, args, own, mult, label,
                              [f"{label}[{lo + i}]" for i in range(len(c.instances))], lead)
        return self.repeat(c, args, own, mult, label, node, lead)

    def chain(self, parts, node, args, own, mult, label, labels, lead: int = 0):
        """Parts applied in turn, each to what the one before gives."""
        group = Row(label, "module", _line(node) if node is not None else None)
        outer = self.row
        self.row = group
        x, t = args[0], own[0]
        first_event = len(self.events[self.stmt])
        steps = []
        try:
            for part, name in zip(parts, labels):
                sig = part.signature
                axes = t.axes[: t.rank - sig.inputs[0].rank] if sig.batch else ()
                part_own = t.with_axes(t.axes[len(axes):])
                part_mult = mult * product(a.size for a in axes)
                inst = match_generics(sig, [part_own, *own[1:]])
                out = sig.outputs[0].map(_substituting(inst))
                out_type = out.with_axes(tuple(axes) + out.axes)
                x_in, before = x, len(self.events[self.stmt])
                # the other arguments (a mask) reach every part unchanged, as `_in_turn` passes them
                x = self.component(part, None, [x, *args[1:]], [part_own, *own[1:]], part_mult, [out_type], name,
                                   lead + len(axes))
                scratch = sum((e.scratch for e in self.events[self.stmt][before:]), ZERO)
                steps.append((x_in, x, list(group.children[-1].peak) if group.children else [], name, scratch))
                t = out_type
        finally:
            self.row = outer
        # Held while the chain runs: its input (the caller holds it), and one part's input and output (or
        # that part's own peak).
        del self.events[self.stmt][first_event:]
        candidates: list[tuple[Size, str]] = []
        for i, (x_in, x_out, peak, name, scratch) in enumerate(steps):
            base = args[0].held if i and args[0] is not None else ZERO
            made = x_out.held if self.same(x_out) is not self.same(x_in) else ZERO
            candidates += [(base + p, w) for p, w in peak] if peak else [(base + x_in.held + made + scratch, name)]
        self.made(list(args), [x], prune(candidates))
        for r in group.children:
            group.absorb(r)
            group.params = group.params + r.params
            for d, s in r.saved.items():
                group.add_saved(d, s)
        group.peak = prune(candidates)
        outer.children.append(group)
        return x

    def repeat(self, c: ir.Repeat, args, own, mult, label, node, lead: int = 0):
        """`count` repetitions of one body, in turn: costed once and multiplied out."""
        assert c.body is not None and c.index is not None
        count = self.size(c.stop - c.start + 1)
        group = Row(f"{label} x {count}", "repeat", _line(node) if node is not None else None)
        outer, saved_before = self.row, dict(self.saved)
        self.row = group
        events = self.events[self.stmt]
        first_event = len(events)
        try:
            x = self.component(c.body, None, args, own, mult, [own[0]], f"{label}[{c.index.name}]", lead)
        finally:
            self.row = outer
        # From the second repetition on, the parts no longer hold the first one's input (`_in_turn` lets
        # it go), but the caller may: a name there still holds it.
        if count.constant != 1 and len(events) == first_event + 1:
            e = events.pop()
            inner = e.inner or [(sum((k.held for k in [*e.operands, *e.keys]), e.scratch), label)]
            again = ONE if count.constant is not None else ONE - ONE // count
            events.append(dataclasses.replace(e, inner=inner, again=again))
        # What one repetition keeps, apart from its input and its result, is kept by each of them; the
        # tensors between repetitions once each.  From the second repetition on, the threaded input may
        # need a gradient where the first's did not: those keep what such a repetition keeps (a weight
        # the layout plan permutes, say).
        new = {k: v for k, v in self.saved.items() if k not in saved_before}
        boundary = self.size(_elements(own[0])) * mult
        kept_ends = (x in new) or (args[0] in new)
        # The other arguments (an encoder's memory, a mask) are the same tensors in every repetition.
        same = {("in", self.inputs[a]) if a in self.inputs else a for a in args[1:] if a is not None}
        later = None
        if count.constant != 1 and args[0] is not None and not args[0].grad and x is not None and x.grad:
            later = self._with_grad_input(c.body, args, own, mult, label, lead)
            kept_ends = kept_ends or later.kept_ends
        extras: dict[tuple[str, bool], Size] = {}  # by element type and whether made once (not per sample)
        for k, (dtype, n) in (new if later is None else later.saved).items():
            if k is not x and k is not args[0] and k not in same:
                kind = (dtype, k in self.unbatched or (later is not None and k in later.unbatched))
                extras[kind] = extras.get(kind, ZERO) + (count - 1) * n
        if kept_ends:
            extras[FLOAT, False] = extras.get((FLOAT, False), ZERO) + (count - 1) * boundary
        for (dtype, once), n in extras.items():
            if n != ZERO:
                ident = object()
                self.saved[ident] = (dtype, n)
                if once:
                    self.unbatched.add(ident)
        body = group.children[0]
        if c.index in {a for v in body.flops.values() for a in v.symbols()}:
            body.notes.append(f"the cost of `{label}` depends on its index: the first repetition is counted")
        row = body.mapped(lambda s: s, count, f"{label} x {count}")
        row.kind = "repeat"
        if later is not None:
            # From the second repetition on, the threaded input needs a gradient: the products compute it.
            row.backward = {}
            for cat in {**body.backward, **later.row.backward}:
                row.add_backward(cat, body.backward.get(cat, ZERO) + (count - 1) * later.row.backward.get(cat, ZERO))
        row.matmuls = [dataclasses.replace(m, count=m.count * count) for m in body.matmuls]
        row.attention = [dataclasses.replace(a, count=a.count * count) for a in body.attention]
        row.params = body.params * count
        row.saved = dict(body.saved)
        for (dtype, _), n in extras.items():
            row.add_saved(dtype, n)
        row.peak = body.peak
        outer.children.append(row)
        return x

    def _with_grad_input(self, part: ir.Component, args, own, mult, label, lead: int = 0) -> Later:
        """A repetition of the body were its threaded input to need a gradient, costed aside (what it
        keeps and holds is not this body's): its row, and what it keeps apart from its input and result."""
        saved, unbatched, events, outer = dict(self.saved), set(self.unbatched), len(self.events[self.stmt]), self.row
        self.row = Row(label, "repeat")
        try:
            x = args[0]
            x = Key(x.size, x.dtype, True, x.what)
            out = self.component(part, None, [x, *args[1:]], own, mult, [own[0]], label, lead)
            new = {k: v for k, v in self.saved.items() if k not in saved}
            kept = {k: v for k, v in new.items() if k is not x and k is not out}
            return Later(self.row.children[0], kept, self.unbatched - unbatched, len(kept) != len(new))
        finally:
            self.row, self.saved, self.unbatched = outer, saved, unbatched
            del self.events[self.stmt][events:]

    # ---- memory held: the vertical sections of the body
    def memory(self, outputs: list[Key]) -> None:
        """The peak: at each operation, the wires held at its statement, the temporaries of the statement
        not yet consumed, and what the operation makes (or, for a call, the callee's own peak).  A wire is
        held from the statement that names it until its name is bound again (or the body returns), as
        the generated code's locals hold it; the body's inputs throughout, as its caller holds them."""
        end = len(self.reads)
        same = self.same  # a result that is another tensor without gradients is held as that tensor
        last: dict[Key, int] = {}

        def until(k: Key, i: int) -> None:
            last[same(k)] = max(last.get(same(k), -1), i)

        for k in self.holders:
            until(k, self.released.get(k, end))
        for k in self.inputs:
            until(k, end)
        for i, keys in enumerate(self.reads):
            for k in keys:
                until(k, i)
        outputs = [same(k) for k in outputs if k is not None]
        for k in outputs:
            until(k, end)
        defined: list[Key] = [k for k in self.inputs if k.what != "learned"]
        candidates: list[tuple[Size, str]] = []
        for i in range(end):
            wires = [k for k in defined if last.get(k, -1) >= i]
            holding = sum((k.held for k in wires), ZERO)
            where = f"{self.f.name}, statement {i + 1}"
            candidates.append((holding, where))
            pending: list[Key] = []  # made in this statement and not yet consumed
            events = [dataclasses.replace(e, operands=[same(a) for a in e.operands],
                                          keys=[k for k in e.keys if same(k) is k]) for e in self.events[i]]
            for e in events:
                now = holding + sum((k.held for k in pending), ZERO)
                if e.inner:  # the callee's peak counts its arguments, one passed twice twice
                    around = now - sum((a.held for a in e.operands if a in wires or a in pending), ZERO)
                    candidates += [(around + p, w) for p, w in e.inner]
                    if e.again is not None:
                        # only the threaded wire (the first): the other arguments reach every repetition
                        named = sum((a.held for a in e.operands[:1] if a in wires and a not in pending), ZERO)
                        candidates += [(around + p + e.again * named, w) for p, w in e.inner]
                else:
                    candidates.append((now + sum((k.held for k in e.keys), e.scratch), where))
                pending = [k for k in pending if k not in e.operands] + [k for k in e.keys if k not in wires]
            made = [k for e in events for k in e.keys]
            bound = {same(k) for k in self.bound[i]}
            defined += [k for k in made if k in bound or k in outputs]
        self.row.peak = prune(candidates)


def _substituting(values: dict) -> Callable[[Size], Size]:
    return lambda s: s.substitute(lambda a: values.get(a) if isinstance(a, Symbol) else None)


def _at_index(c: ir.Component, index: Symbol, value: Size) -> ir.Component:
    """A repetition's body at one index: its sizes with the index written out."""
    def fix(item):
        if isinstance(item, Size):
            return item.substitute(lambda a: value if a is index else None)
        if isinstance(item, (ir.Axis, TensorType)):
            return item.map(fix)
        if isinstance(item, list):
            return [fix(x) for x in item]
        if dataclasses.is_dataclass(item) and not isinstance(item, type) and not isinstance(item, ir.Signature):
            return dataclasses.replace(item, **{f.name: fix(getattr(item, f.name)) for f in dataclasses.fields(item)
                                                if f.name not in ("span", "signature") and f.init})
        return item
    fixed = fix(c)
    if c.signature is not None:
        sig = c.signature
        fixed.signature = ir.Signature(sig.name, sig.kind, [t.map(fix) for t in sig.inputs],
                                       [t.map(fix) for t in sig.outputs], sig.generics, sig.batch, fixed)
    return fixed


__all__ = ["Model", "Row", "Matmul", "AttentionShape", "CostError", "prune", "FloorDiv", "NORMALISATION",
           "CONTRACTION", "field"]
