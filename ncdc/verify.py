"""Invariants of the typed IR, checked: what every back end may take for granted.

`verify(program)` raises `IRError` (an `AssertionError`) naming the first broken invariant, the
definition and the place in the spec.  It runs on what the checker builds (the tests run it on
every spec and every example of the language reference) and on a back end's rewrites of a body
(`verify_body`, e.g. after the fusion of attention).

Checked, for every def and forward:

* wires: every `Read` reads a `Local` defined before it (a parameter, a target of an earlier
  assignment, also one in an earlier or enclosing loop), with the local's type; a local is defined
  once; targets are as many as the value's outputs and have its types (structural equality);
* sizes: no solver unknown (`Var`) is left anywhere, in types, fields, instances or signatures;
  every size symbol is in scope: spec constants, the module's hyperparameters and size members,
  the def's generic sizes, loop indexes inside their loop, and sizes that first appear in the
  outputs of a call (a box's free output sizes) — allowed in that statement, and known afterwards
  when the back end can read them off the assigned wires (as `bind_sizes(..., only_new=True)`
  does); sizes the generated code computes with (`SizeValue`, indexes, slices, the unit, loop
  bounds, repetitions' positions, sizes of grouped axes that are split) must be known before;
* types: tuple types only as the whole value of an assignment of several names, or returned; a
  bound axis is the product of its parts; element types are known ones;
* each node: it has a span; its fields agree with its operands' types (ranks, dims sorted, unique
  and in range, einsum and rearrange labels, concat and index items, alignments, call layouts,
  instances keyed by the callee's generics, lifted axes, parts of the module, functions of the
  registry);
* bodies: one `return`, last, at the top level, giving the declared results;
* modules and the program: hyperparameters and members named once, size members and parts using
  sizes in scope, every definition once in `order`.
"""

from __future__ import annotations

from typing import NoReturn

import dataclasses
from collections import Counter

from . import ir, ops
from .sizes import FloorDiv, Size, Symbol, Var, product
from .source import Span

__all__ = ["IRError", "verify", "verify_function", "verify_body"]


class IRError(AssertionError):
    """An invariant of the typed IR does not hold: a bug in the checker or in a rewrite."""


def verify(program: ir.Program) -> None:
    """Check every invariant of a checked program; raise IRError on the first that fails."""
    _ProgramVerifier(program).run()


def verify_function(function: ir.Function, program: ir.Program | None = None,
                    module: ir.Module | None = None) -> None:
    """Check one def or forward (`module` is the forward's module)."""
    verify_body(function, function.body, program, module)


def verify_body(function: ir.Function, body: list, program: ir.Program | None = None,
                module: ir.Module | None = None) -> None:
    """Check `body` as the body of `function`: the function's own, or a back end's rewrite of it."""
    scope = set(_program_symbols(program)) | _module_symbols(module)
    _BodyVerifier(function, program, module, scope).run(body)


# ---- the program ----------------------------------------------------------------------------------


def _program_symbols(program) -> list[Symbol]:
    return [c.symbol for c in program.constants] if program is not None else []


def _module_symbols(module) -> set[Symbol]:
    if module is None:
        return set()
    return {hp.symbol for hp in module.hparams} | {m.symbol for m in module.members if isinstance(m, ir.SizeMember)}


class _ProgramVerifier:
    def __init__(self, program: ir.Program):
        self.program = program

    def fail(self, message: str, span: Span | None = None) -> NoReturn:
        raise IRError(f"{_where(span, self.program.path)}: {message}")

    def run(self) -> None:
        p = self.program
        definitions: list[ir.Box | ir.Function | ir.Module] = [*p.boxes, *p.functions, *p.modules]
        names = [d.name for d in definitions]
        twice = [n for n, c in Counter(names).items() if c > 1]
        if twice:
            self.fail(f"`{twice[0]}` is defined twice")
        if sorted(p.order) != sorted(names):
            self.fail(f"`order` {p.order} does not list the definitions {sorted(names)} once each")
        scope: set[Symbol] = set()
        for c in p.constants:
            _span_ok(c.span, f"constant `{c.name}`", self.fail)
            _no_vars(c.value, f"constant `{c.name}`", c.span, self.fail)
            if c.value.constant is None or c.value.constant <= 0:
                self.fail(f"constant `{c.name}` is `{c.value}`, not a positive number", c.span)
            scope.add(c.symbol)
        for box in p.boxes:
            _span_ok(box.span, f"box `{box.name}`", self.fail)
            allowed = scope | set(box.generics)
            for t in [*box.inputs, *box.outputs]:
                _check_type(t, f"box `{box.name}`", box.span, allowed, self.fail)
        for function in p.functions:
            verify_function(function, p)
        for module in p.modules:
            self.module(module, scope)
            verify_function(module.forward, p, module)

    def module(self, module: ir.Module, constants: set[Symbol]) -> None:
        what = f"module `{module.name}`"
        _span_ok(module.span, what, self.fail)
        scope = set(constants)
        seen: set[str] = set()
        for hp in module.hparams:
            if hp.name in seen:
                self.fail(f"{what}: hyperparameter `{hp.name}` is declared twice", hp.span)
            seen.add(hp.name)
            if hp.kind == "size" and hp.default is not None and (not isinstance(hp.default, int) or hp.default <= 0):
                self.fail(f"{what}: the default of `{hp.name}` is {hp.default!r}", hp.span)
            if hp.default_size is not None and not hp.default_size.symbols() <= scope:
                self.fail(f"{what}: the default of `{hp.name}` uses sizes not declared before it", hp.span)
            scope.add(hp.symbol)
        if module.forward.name != "forward":
            self.fail(f"{what}: its forward is called `{module.forward.name}`", module.span)
        for member in module.members:
            name = getattr(member, "name", None)
            if name in seen:
                self.fail(f"{what}: `{name}` is declared twice", getattr(member, "span", None))
            seen.add(str(name))
            if isinstance(member, ir.SizeMember):
                _no_vars(member.value, f"{what}, size `{member.name}`", member.span, self.fail)
                _symbols_in(member.value.symbols(), scope, f"{what}, size `{member.name}`", member.span, self.fail)
                scope.add(member.symbol)
            elif isinstance(member, ir.Component):
                self.component(member, scope, what)
            elif isinstance(member, ir.Buffer):
                self.buffer(member, module, scope, what)
            else:
                self.fail(f"{what}: member `{name}` is a {type(member).__name__}, not a size or a part")
        for pre in module.preconditions:
            _check_precondition(pre, scope, what, self.fail)

    def component(self, part: ir.Component, scope: set[Symbol], what: str) -> None:
        where = f"{what}, part `{part.name}`"
        _span_ok(part.span, where, self.fail)
        indexes = set()

        def collect(c):
            if isinstance(c, ir.Repeat):
                if c.index is not None:
                    indexes.add(c.index)
                for inner in [c.body, *(c.instances or [])]:
                    if inner is not None:
                        collect(inner)
            elif isinstance(c, ir.Seq):
                for inner in c.parts:
                    collect(inner)

        collect(part)
        _no_vars_deep(part, where, part.span, self.fail, skip=("span", "whole_error", "target"))
        _symbols_in(ir.component_symbols(part), scope | indexes, where, part.span, self.fail)
        if isinstance(part, ir.Layer):
            if ops.LAYERS.get(part.op) is None:
                self.fail(f"{where}: `{part.op}` is not a layer of the registry", part.span)
            if not isinstance(part.attrs, ops.LAYERS[part.op].attrs):
                self.fail(f"{where}: its options are a {type(part.attrs).__name__}, not a "
                          f"{ops.LAYERS[part.op].attrs.__name__}", part.span)
        if isinstance(part, ir.Instance):
            target = next((m for m in self.program.modules if m.name == part.module), None)
            if target is None:
                self.fail(f"{where}: no module `{part.module}`", part.span)
            elif len(part.args) != len(target.hparams):
                self.fail(f"{where}: {len(part.args)} hyperparameters for the {len(target.hparams)} of "
                          f"`{part.module}`", part.span)
        if part.signature is not None:
            sig = part.signature
            allowed = scope | indexes | set(sig.generics)
            for t in [*sig.inputs, *sig.outputs]:
                _check_type(t, f"{where}, its signature", part.span, allowed, self.fail)


    def buffer(self, b: ir.Buffer, module: ir.Module, scope: set[Symbol], what: str) -> None:
        """A buffer is a wire computed when the module is built: from the sizes, hyperparameters and
        buffers before it, never from learned parts."""
        where = f"{what}, buffer `{b.name}`"
        _span_ok(b.span, where, self.fail)
        if not isinstance(b.value.type, ir.TensorType):
            self.fail(f"{where} has type `{b.value.type}`, not a wire", b.span)
        _check_type(b.value.type, where, b.span, scope, self.fail)
        before = ir.Module(module.name, module.hparams, module.members[:module.members.index(b)],
                           module.forward, module.span, module.header)
        verifier = _BodyVerifier(ir.Function(b.name, [], [], [], span=b.span), self.program, before, scope)
        verifier.parts = {}  # no learned part is built yet, nor read
        verifier.value(b.value)


# ---- bodies --------------------------------------------------------------------------------------


class _BodyVerifier:
    def __init__(self, function: ir.Function, program, module, scope: set[Symbol]):
        self.f = function
        self.program = program
        self.module = module
        self.path = program.path if program is not None else "<ir>"
        self.known = set(scope) | set(function.generics)  # sizes known at this point of the body
        self.defined: set[int] = set()  # ids of the locals defined so far
        self.keep: list = []  # the locals defined, alive so that their ids stay theirs
        self.introduced: set[Symbol] = set()  # sizes first given by calls in this statement
        self.parts = {c.name: c for c in module.components()} if module is not None else {}
        self.buffers = {b.name: b for b in module.buffers()} if module is not None else {}
        self.what = f"`{module.name}`.forward" if module is not None else f"def `{function.name}`"

    def fail(self, message: str, span: Span | None = None) -> NoReturn:
        raise IRError(f"{_where(span, self.path)}: in {self.what}: {message}")

    def run(self, body: list) -> None:
        f = self.f
        _span_ok(f.span, self.what, self.fail)
        if len(set(f.generics)) != len(f.generics):
            self.fail("a generic size is listed twice", f.span)
        for p in f.params:
            if not isinstance(p, ir.Param):
                self.fail(f"parameter `{p.name}` is a {type(p).__name__}, not a Param", p.span)
            _span_ok(p.span, f"parameter `{p.name}`", self.fail)
            _check_type(p.type, f"parameter `{p.name}`", p.span, self.known, self.fail, tensor=True)
            self.define(p, p.span)
        for t in f.results:
            _check_type(t, "the declared result", f.span, self.known, self.fail, tensor=True)
        for pre in f.preconditions:
            _check_precondition(pre, self.known, self.what, self.fail)
        if not body or not isinstance(body[-1], ir.Return):
            self.fail("the body does not end with `return`", f.span)
        self.block(body, top=True)

    def define(self, local: ir.Local, span) -> None:
        if id(local) in self.defined:
            self.fail(f"the wire `{local.name}` is defined twice (one Local object, two definitions)", span)
        self.defined.add(id(local))
        self.keep.append(local)

    def block(self, stmts: list, top: bool) -> None:
        for i, stmt in enumerate(stmts):
            span = getattr(stmt, "span", None)
            _span_ok(span, f"a {type(stmt).__name__} statement", self.fail)
            self.introduced = set()
            if isinstance(stmt, ir.Assign):
                self.assign(stmt)
            elif isinstance(stmt, ir.Return):
                if not top or i != len(stmts) - 1:
                    self.fail("`return` is not the last statement of the body", span)
                self.return_(stmt)
            elif isinstance(stmt, ir.For):
                self.for_(stmt)
            elif isinstance(stmt, ir.If):
                self.if_(stmt)
            else:
                self.fail(f"a {type(stmt).__name__} is not a statement", span)

    def assign(self, stmt: ir.Assign) -> None:
        self.value(stmt.value, whole=len(stmt.targets) > 1)
        types = ir.types_of(stmt.value.type)
        if len(types) != len(stmt.targets):
            self.fail(f"{len(stmt.targets)} targets ({', '.join(stmt.names)}) for a value of "
                      f"{len(types)} output{'s' if len(types) != 1 else ''}", stmt.span)
        for target, t in zip(stmt.targets, types):
            if not isinstance(target, ir.Local) or isinstance(target, ir.Param):
                self.fail(f"target `{getattr(target, 'name', target)}` is not a fresh Local", stmt.span)
            if not _same_type(target.type, t):
                self.fail(f"target `{target.name}` has type `{target.type}`, its value gives `{t}`", stmt.span)
            _span_ok(target.span, f"target `{target.name}`", self.fail)
            self.define(target, stmt.span)
        # Sizes a call gave first are known from here on when the assigned wires show them.
        bound = [t.type for t in stmt.targets if isinstance(t.type, ir.TensorType)]
        wanted = sorted({a.size.atom for t in bound for a in t.axes
                         if isinstance(a.size.atom, Symbol) and a.size.atom not in self.known}, key=lambda s: s.uid)
        self.known |= {s.symbol for s in ir.size_sources(bound, wanted, self.known)}
        self.introduced = set()

    def return_(self, stmt: ir.Return) -> None:
        for v in stmt.values:
            self.value(v, whole=True)
        types = [t for v in stmt.values for t in ir.types_of(v.type)]
        if len(types) != len(self.f.results):
            self.fail(f"returns {len(types)} values, the signature says {len(self.f.results)}", stmt.span)
        for i, (t, expected) in enumerate(zip(types, self.f.results)):
            if not _same_sizes(self.patterned(t), self.patterned(expected)):
                self.fail(f"returned value {i + 1} is `{t}`, the signature says `{expected}`", stmt.span)

    def patterned(self, t):
        """`t` with each size hyperparameter given by a pattern (`m: (2 * n)`) spelt as its multiple."""
        if self.module is None or not isinstance(t, ir.TensorType):
            return t
        halves = {m.value: m.symbol for m in self.module.members if isinstance(m, ir.SizeMember)}
        mapping = {hp.symbol: Size.of(hp.multiple) * Size.of(halves[Size.of(hp.symbol) // Size.of(hp.multiple)])
                   for hp in self.module.hparams if hp.multiple is not None}
        return t.map(lambda s: s.substitute(mapping.get)) if mapping else t

    def if_(self, stmt: ir.If) -> None:
        values = {hp.name: hp for hp in self.module.hparams if hp.kind != "size"} if self.module is not None else {}
        for condition, _ in stmt.branches:
            hp = values.get(condition.name)
            if hp is None or (hp.kind == "bool") != (condition.op in ("true", "false")) \
                    or hp.kind == "choice" and condition.value not in hp.choices:
                self.fail(f"the condition `{condition}` does not test a bool or choice hyperparameter", stmt.span)
        for body in stmt.bodies:
            self.block(body, top=False)

    def for_(self, stmt: ir.For) -> None:
        for size in (stmt.start, stmt.stop):
            _no_vars(size, "a loop bound", stmt.span, self.fail)
            self.computed(size, "a loop bound", stmt.span)
        if stmt.var in self.known:
            self.fail(f"the loop index `{stmt.var.name}` is already a size here", stmt.span)
        self.known.add(stmt.var)
        self.block(stmt.body, top=False)
        self.known.discard(stmt.var)

    # ---- values

    def computed(self, size: Size, what: str, span) -> None:
        """A size the generated code computes with: it must be known before this statement."""
        _symbols_in(size.symbols(), self.known, what, span, self.fail)

    def value(self, node, whole: bool = False) -> None:
        if not isinstance(node, ir.Value):
            self.fail(f"{type(node).__name__} is not a value")
        _span_ok(node.span, f"a {type(node).__name__} node", self.fail)
        for arg in node.args:
            self.value(arg)
        if isinstance(node, (ir.Call, ir.Route)):  # sizes only a callee's outputs fix appear here first
            for size in node.instance.values():
                self.introduced |= size.symbols() - self.known
        t = node.type
        if isinstance(t, ir.TupleType):
            if not whole:
                self.fail(f"a {type(node).__name__} of several outputs (`{t}`) is used as one value", node.span)
            if not isinstance(node, (ir.Call, ir.TopK)) or len(t.items) < 2:
                self.fail(f"a tuple type `{t}` on a {type(node).__name__}", node.span)
            for item in t.items:
                _check_type(item, f"a {type(node).__name__} node", node.span, self.known | self.introduced,
                            self.fail, tensor=True)
        else:
            _check_type(t, f"a {type(node).__name__} node", node.span, self.known | self.introduced, self.fail)
        for f in dataclasses.fields(node):
            if f.name not in ("type", "span"):
                _no_vars_deep(getattr(node, f.name), f"a {type(node).__name__} node", node.span, self.fail)
        check = getattr(self, "node_" + type(node).__name__, None)
        if check is not None:
            check(node)

    def fail_at(self, node, message: str) -> NoReturn:
        self.fail(f"{_kind(node)}: {message}", node.span)

    def rank_of(self, node) -> int:
        t = node.type
        if isinstance(t, ir.TupleType):
            self.fail_at(node, "a tuple where a tensor is expected")
        return t.rank

    def node_Read(self, node: ir.Read) -> None:
        if not isinstance(node.local, ir.Local):
            self.fail_at(node, f"reads a {type(node.local).__name__}, not a Local")
        if id(node.local) not in self.defined:
            self.fail_at(node, f"reads `{node.local.name}`, which is not defined before it")
        if not _same_type(node.type, node.local.type):
            self.fail_at(node, f"has type `{node.type}`, the wire `{node.local.name}` holds `{node.local.type}`")

    def node_LearnedTensor(self, node: ir.LearnedTensor) -> None:
        part = self.parts.get(node.name)
        if self.module is not None and not (isinstance(part, ir.Layer) and part.op == "Parameter"):
            self.fail_at(node, f"`{node.name}` is not a learned tensor of the module")
        if part is not None and not _same_sizes(node.type, part.attrs.type):
            self.fail_at(node, f"has type `{node.type}`, the learned tensor is `{part.attrs.type}`")

    def node_Const(self, node: ir.Const) -> None:
        self.scalar(node)
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            self.fail_at(node, f"the constant is {node.value!r}, not a number")

    def node_SizeValue(self, node: ir.SizeValue) -> None:
        self.scalar(node)
        self.computed(node.size, "a size used as a number", node.span)

    def scalar(self, node, *operands) -> None:
        if node.type is not ir.SCALAR:
            self.fail_at(node, f"has type `{node.type}`, not a number")
        for x in operands:
            if x.type is not ir.SCALAR:
                self.fail_at(node, f"an operand has type `{x.type}`, not a number")

    def node_Neg(self, node: ir.Neg) -> None:
        if node.type is ir.SCALAR and node.operand.type is ir.SCALAR:  # `-inf`, `-k`
            return
        if not _same_sizes(node.type, node.operand.type):
            self.fail_at(node, f"has type `{node.type}`, its operand `{node.operand.type}`")

    def node_ScalarBinary(self, node: ir.ScalarBinary) -> None:
        self.op(node, node.op)
        self.scalar(node, node.left, node.right)

    def node_ScalarFn(self, node: ir.ScalarFn) -> None:
        self.scalar(node, node.operand)
        op = ops.operation(node.fn)
        if op is None or op.on_numbers is not ir.ScalarFn:
            self.fail_at(node, f"`{node.fn}` is not a function of numbers in the registry")

    def op(self, node, op: str) -> None:
        if op not in ("+", "-", "*", "/", "//", "**"):
            self.fail_at(node, f"unknown operator `{op}`")

    def node_Binary(self, node: ir.Binary) -> None:
        self.op(node, node.op)
        if not isinstance(node.type, ir.TensorType):
            self.fail_at(node, f"has type `{node.type}`: arithmetic of numbers is a ScalarBinary")
        self.aligned(node, (("left", node.left, node.left_align), ("right", node.right, node.right_align)))
        if node.left_align is not None and node.right_align is not None:
            self.fail_at(node, "both operands have alignments")
        if node.op == "**" and ir.SCALAR not in (node.left.type, node.right.type):
            self.fail_at(node, "neither the base nor the exponent is a number")

    def node_Compare(self, node: ir.Compare) -> None:
        op = ops.operation(node.op)
        if op is None or op.node is not ir.Compare:
            self.fail_at(node, f"`{node.op}` is not a comparison of the registry")
        if not isinstance(node.type, ir.TensorType) or node.type.dtype != ir.BOOL:
            self.fail_at(node, f"has type `{node.type}`, not a bool wire")
        if node.left.type is ir.SCALAR and node.right.type is ir.SCALAR:
            self.fail_at(node, "compares two numbers")
        self.aligned(node, (("left", node.left, node.left_align), ("right", node.right, node.right_align)))

    def node_Where(self, node: ir.Where) -> None:
        if not isinstance(node.type, ir.TensorType) or len(node.aligns) != 3:
            self.fail_at(node, f"has type `{node.type}` and {len(node.aligns)} alignments")
        if node.condition.type is ir.SCALAR or node.condition.type.dtype != ir.BOOL:
            self.fail_at(node, f"the condition has type `{node.condition.type}`, not a bool wire")
        self.aligned(node, tuple(zip(("condition", "left", "right"), node.args, node.aligns)))

    def node_Tril(self, node: ir.Tril) -> None:
        self.computed(node.rows, "the size of a mask", node.span)
        self.computed(node.cols, "the size of a mask", node.span)
        if node.type.sizes != (node.rows, node.cols) or node.type.dtype != ir.BOOL:
            self.fail_at(node, f"has type `{node.type}`, not `bool {node.rows} {node.cols}`")

    def aligned(self, node, operands) -> None:
        """Each operand of an elementwise operation sits in the result as its alignment says."""
        rank = node.type.rank
        for side, operand, align in operands:
            r = self.rank_of(operand)
            if operand.type is ir.SCALAR:
                if align is not None:
                    self.fail_at(node, f"the {side} operand is a number but has an alignment")
                continue
            if align is None:
                if r != rank:
                    self.fail_at(node, f"the {side} operand has {r} axes, the result {rank}, and no alignment")
                continue
            positions = align.positions
            if len(positions) != r or len(set(positions)) != r or not all(0 <= p < rank for p in positions):
                self.fail_at(node, f"the {side} alignment {list(positions)} does not place the {r} axes of "
                                   f"its operand in a result of {rank}")
            for p, axis in zip(positions, operand.type.axes):
                if node.type.axes[p].size != axis.size:
                    self.fail_at(node, f"the {side} operand's axis `{axis}` sits at result axis "
                                       f"`{node.type.axes[p]}`")

    def registered(self, node, family: str) -> None:
        op = ops.operation(node.fn)
        if op is None or op.node is not type(node):
            self.fail_at(node, f"`{node.fn}` is not a {family} of the registry")

    def node_Map(self, node: ir.Map) -> None:
        self.registered(node, "map")
        if node.operand.type is ir.SCALAR or node.type.rank != self.rank_of(node.operand) \
                or node.type.sizes != node.operand.type.sizes:
            self.fail_at(node, f"has type `{node.type}`, its operand `{node.operand.type}`")

    def node_Normalise(self, node: ir.Normalise) -> None:
        self.registered(node, "normalising map")
        rank = self.rank_of(node.operand)
        if not 0 <= node.dim < rank:
            self.fail_at(node, f"dim {node.dim} is not an axis of an operand of {rank}")
        if not _same_sizes(node.type, node.operand.type):
            self.fail_at(node, f"has type `{node.type}`, its operand `{node.operand.type}`")

    def node_Reduce(self, node: ir.Reduce) -> None:
        self.registered(node, "reduction")
        rank = self.rank_of(node.operand)
        if node.rank != rank:
            self.fail_at(node, f"rank {node.rank}, its operand has {rank} axes")
        dims = list(node.dims)
        if dims != sorted(set(dims)) or not all(0 <= d < rank for d in dims):
            self.fail_at(node, f"dims {dims} are not sorted, unique axes of {rank}")
        kept = tuple(a.size for i, a in enumerate(node.operand.type.axes) if i not in dims)
        if node.type.sizes != kept:
            self.fail_at(node, f"has type `{node.type}`, reducing `{node.operand.type}` over {dims}")

    def node_Flatten(self, node: ir.Flatten) -> None:
        rank = self.rank_of(node.operand)
        if node.count != rank:
            self.fail_at(node, f"flattens {node.count} axes of an operand of {rank}")
        if node.type.rank != 1 or node.type.sizes[0] != product(node.operand.type.sizes):
            self.fail_at(node, f"has type `{node.type}`, flattening `{node.operand.type}`")

    def labels(self, node, labels, operand_type, sizes: dict, what: str) -> None:
        if len(labels) != operand_type.rank:
            self.fail_at(node, f"{what} names {len(labels)} axes of an operand of {operand_type.rank}")
        for label, axis in zip(labels, operand_type.axes):
            names = label.labels if isinstance(label, ir.Group) else (label,)
            missing = [n for n in names if n not in sizes]
            if missing:
                self.fail_at(node, f"`{missing[0]}` has no size")
            if product(sizes[n] for n in names) != axis.size:
                self.fail_at(node, f"{what}: `{label}` is `{product(sizes[n] for n in names)}`, the axis `{axis}`")
            if isinstance(label, ir.Group):  # the generated code splits the axis: the sizes must be known
                for n in names:
                    self.computed(sizes[n], f"the size of `{n}` in a split axis", node.span)

    def output(self, node, output, sizes: dict, inputs) -> None:
        leaves = ir.leaves(output)
        known = set(ir.leaves([l for labels in inputs for l in labels]))
        if len(set(leaves)) != len(leaves):
            self.fail_at(node, f"the output {_labels(output)} names an axis twice")
        extra = [l for l in leaves if l not in known]
        if extra:
            self.fail_at(node, f"the output names `{extra[0]}`, which no input has")
        if node.type.rank != len(output):
            self.fail_at(node, f"has {node.type.rank} axes, its output {_labels(output)} {len(output)}")
        self.labels(node, output, node.type, sizes, "the output")

    def node_Einsum(self, node: ir.Einsum) -> None:
        if not node.operands or len(node.inputs) != len(node.operands):
            self.fail_at(node, f"{len(node.inputs)} label lists for {len(node.operands)} operands")
        for i, (labels, operand) in enumerate(zip(node.inputs, node.operands)):
            self.rank_of(operand)
            self.labels(node, labels, operand.type, node.sizes, f"input {i + 1}")
        self.output(node, node.output, node.sizes, node.inputs)

    def node_Rearrange(self, node: ir.Rearrange) -> None:
        self.rank_of(node.operand)
        self.labels(node, node.input, node.operand.type, node.sizes, "the input")
        if sorted(ir.leaves(node.input)) != sorted(ir.leaves(node.output)):
            self.fail_at(node, f"{_labels(node.input)} -> {_labels(node.output)} does not keep every axis once")
        self.output(node, node.output, node.sizes, [node.input])

    def node_Concat(self, node: ir.Concat) -> None:
        if not node.operands:
            self.fail_at(node, "no operands")
        if node.type.rank != node.rank or not 0 <= node.dim < node.rank:
            self.fail_at(node, f"dim {node.dim} of rank {node.rank}, the result has {node.type.rank} axes")
        for operand in node.operands:
            if self.rank_of(operand) != node.rank:
                self.fail_at(node, f"an operand has {operand.type.rank} axes, not {node.rank}")
            for i, (a, b) in enumerate(zip(operand.type.axes, node.type.axes)):
                if i != node.dim and a.size != b.size:
                    self.fail_at(node, f"an operand's axis {i + 1} is `{a}`, the result's `{b}`")
        total = sum((o.type.axes[node.dim].size for o in node.operands), Size.of(0))
        if total != node.type.axes[node.dim].size:
            self.fail_at(node, f"the joined axis is `{node.type.axes[node.dim]}`, the operands add up to `{total}`")

    def node_Arange(self, node: ir.Arange) -> None:
        self.computed(node.size, "the size of an index wire", node.span)
        if node.type.sizes != (node.size,) or node.type.dtype != ir.INT:
            self.fail_at(node, f"has type `{node.type}`, not `int {node.size}`")

    def node_BufferValue(self, node: ir.BufferValue) -> None:
        buffer = self.buffers.get(node.name)
        if buffer is None:
            self.fail_at(node, f"`{node.name}` is not a buffer of the module (before this point)")
        if not _same_sizes(node.type, buffer.type):
            self.fail_at(node, f"has type `{node.type}`, the buffer is `{buffer.type}`")

    def node_Eye(self, node: ir.Eye) -> None:
        self.computed(node.size, "the size of the unit", node.span)
        if node.type.sizes != (node.size, node.size):
            self.fail_at(node, f"has type `{node.type}`, not `{node.size} {node.size}`")

    def node_Index(self, node: ir.Index) -> None:
        rank = self.rank_of(node.operand)
        if len(node.items) != rank:
            self.fail_at(node, f"{len(node.items)} index items for an operand of {rank} axes")
        axes = []
        for item, axis in zip(node.items, node.operand.type.axes):
            if isinstance(item, ir.IndexAll):
                axes.append(axis.size)
            elif isinstance(item, ir.IndexAt):
                self.computed(item.position, "an index", node.span)
            elif isinstance(item, ir.IndexSlice):
                self.computed(item.start, "a slice", node.span)
                self.computed(item.stop, "a slice", node.span)
                axes.append(item.stop - item.start)
            else:
                self.fail_at(node, f"a {type(item).__name__} is not an index item")
        if node.type.sizes != tuple(axes):
            self.fail_at(node, f"has type `{node.type}`, indexing `{node.operand.type}`")

    def node_Call(self, node: ir.Call) -> None:
        sig = node.signature
        if not isinstance(sig, ir.Signature) or sig.kind not in ("def", "box", "component"):
            self.fail_at(node, f"the callee `{node.callee}` has no signature of a def, box or component")
        n = len(node.arguments)
        if not n == len(node.layouts) == len(sig.inputs):
            self.fail_at(node, f"{n} arguments, {len(node.layouts)} layouts, "
                               f"{len(sig.inputs)} inputs of `{node.callee}`")
        if set(node.instance) != set(sig.generics) or len(node.instance) != len(sig.generics):
            self.fail_at(node, f"instantiates {sorted(s.name for s in node.instance)}, `{node.callee}` has "
                               f"generic sizes {[s.name for s in sig.generics]}")
        if set(node.lifted) != set(node.lift_sizes) or len(set(node.lifted)) != len(node.lifted):
            self.fail_at(node, f"lifted over {list(node.lifted)} with sizes for {sorted(node.lift_sizes)}")
        if sorted(node.before + node.after) != sorted(node.lifted):
            self.fail_at(node, f"lifted axes {list(node.lifted)} go before {list(node.before)} and after "
                               f"{list(node.after)}")
        for i, (arg, layout, expected) in enumerate(zip(node.arguments, node.layouts, sig.inputs)):
            rank = self.rank_of(arg)
            positions = [*layout.lifted.values(), *layout.own, *layout.lead]
            if layout.rank != rank or sorted(positions) != list(range(rank)):
                self.fail_at(node, f"the layout of argument {i + 1} ({layout}) does not cover its {rank} axes")
            if len(layout.own) != expected.rank:
                self.fail_at(node, f"argument {i + 1} gives {len(layout.own)} axes, `{node.callee}` takes "
                                   f"`{expected}`")
            if not set(layout.lifted) <= set(node.lifted):
                self.fail_at(node, f"argument {i + 1} is lifted over {sorted(layout.lifted)}, the call over "
                                   f"{list(node.lifted)}")
            if layout.lead and not sig.batch:
                self.fail_at(node, f"argument {i + 1} has batch axes, `{node.callee}` does not broadcast")
        outputs = ir.types_of(node.type)
        if len(outputs) != len(sig.outputs):
            self.fail_at(node, f"{len(outputs)} outputs, `{node.callee}` gives {len(sig.outputs)}")
        for out, declared in zip(outputs, sig.outputs):
            if out.rank != len(node.lifted) + node.lead + declared.rank:
                self.fail_at(node, f"an output of {out.rank} axes: {len(node.lifted)} lifted, {node.lead} "
                                   f"leading and `{declared}`")
        if node.position is not None:
            self.computed(node.position, "the position of a repetition", node.span)
        if node.part is not None:
            if self.module is not None and node.part not in self.parts:
                self.fail_at(node, f"calls `{node.part}`, which is not a part of the module")
            if sig.kind != "component":
                self.fail_at(node, f"calls the part `{node.part}` through a {sig.kind} signature")
        elif self.program is not None:
            if sig.kind == "component":
                self.fail_at(node, "calls a component, but names no part")
            targets = self.program.functions if sig.kind == "def" else self.program.boxes
            if not any(t.name == node.callee for t in targets) and not \
                    (sig.kind == "def" and node.callee == self.f.name):
                self.fail_at(node, f"calls `{node.callee}`, which is no {sig.kind} of the program")

    def node_Attention(self, node: ir.Attention) -> None:
        for role in ("query", "key", "value"):
            if self.rank_of(getattr(node, role)) < 2:
                self.fail_at(node, f"the {role} has fewer than 2 axes")
        if node.scale is not None:
            op, factor = node.scale
            if op not in ("*", "/") or (factor is not None and factor.type is not ir.SCALAR):
                self.fail_at(node, f"the scale ({op}, {factor}) is not an operator and a number")


# ---- helpers -------------------------------------------------------------------------------------


def _where(span, path) -> str:
    return f"{path}:{span.line}:{span.column}" if isinstance(span, Span) else path


def _kind(node) -> str:
    return type(node).__name__


def _labels(labels) -> str:
    return "[" + " ".join(str(l) for l in labels) + "]"


def _check_precondition(pre, scope: set, what: str, fail) -> None:
    """A precondition: comparisons the back end can write, over sizes known where it is checked
    (and the indexes of its own loops), no unknowns."""
    if not isinstance(pre, ir.Precondition) or not pre.conditions:
        fail(f"{what}: a precondition is a {type(pre).__name__} with no conditions")
    _span_ok(pre.span, f"{what}, a precondition", fail)
    where = f"{what}, the precondition `{pre.condition_text}`"
    indexes: set[Symbol] = set()
    for loop in pre.over:
        for size in (loop.start, loop.stop):
            _no_vars(size, where, pre.span, fail)
            _symbols_in(size.symbols(), scope | indexes, where, pre.span, fail)
        indexes.add(loop.var)
    for c in pre.conditions:
        if not isinstance(c, ir.Comparison) or c.op not in ir.COMPARISONS:
            fail(f"{where}: `{getattr(c, 'op', c)}` is not a comparison", pre.span)
        for size in (c.left, c.right):
            _no_vars(size, where, pre.span, fail)
            _symbols_in(size.symbols(), scope | indexes, where, pre.span, fail)


def _span_ok(span, what: str, fail) -> None:
    if not isinstance(span, Span):
        fail(f"{what} has no span")
    if span.line < 1 or span.column < 1 or (span.end_line, span.end_column) < (span.line, span.column):
        fail(f"{what} has the span {span.line}:{span.column}-{span.end_line}:{span.end_column}")


def _same_type(a, b) -> bool:
    """Structural equality of types: the same sizes, bound parts and element types."""
    return type(a) is type(b) and a == b


def _same_sizes(a, b) -> bool:
    return isinstance(a, ir.TensorType) and isinstance(b, ir.TensorType) and a.sizes == b.sizes \
        and a.dtype == b.dtype


def _symbols_in(symbols, scope: set, what: str, span, fail) -> None:
    loose = sorted((s for s in symbols if s not in scope), key=lambda s: s.uid)
    if loose:
        fail(f"{what}: the size `{loose[0].name}` is not in scope here")


def _no_vars(size: Size, what: str, span, fail) -> None:
    found = size.vars()
    if found:
        fail(f"{what}: the solver's unknown `{next(iter(found)).name}` is left in `{size}`")


def _check_type(t, what: str, span, scope: set, fail, tensor: bool = False) -> None:
    if isinstance(t, ir.ScalarType) and not tensor:
        return
    if not isinstance(t, ir.TensorType):
        fail(f"{what}: the type `{t}` is a {type(t).__name__}, not a tensor type")
    if t.dtype not in ir.DTYPES:
        fail(f"{what}: unknown element type `{t.dtype}`")

    def axis(a) -> None:
        if not isinstance(a, ir.Axis) or not isinstance(a.size, Size):
            fail(f"{what}: `{t}` holds a {type(a).__name__}, not an axis")
        _no_vars(a.size, what, span, fail)
        _symbols_in(a.size.symbols(), scope, f"{what} of type `{t}`", span, fail)
        if a.parts:
            if product(p.size for p in a.parts) != a.size:
                fail(f"{what}: the bound axis `{a}` is `{a.size}`, not the product of its parts")
            for p in a.parts:
                axis(p)

    for a in t.axes:
        axis(a)


def _no_vars_deep(item, what: str, span, fail, skip=(), depth: int = 0) -> None:
    """No `Var` in any field: sizes, types, dicts and tuples of them, small dataclasses, signatures."""
    if depth > 50:
        return
    if isinstance(item, Var):
        fail(f"{what}: the solver's unknown `{item.name}` is left in it")
    if isinstance(item, Size):
        _no_vars(item, what, span, fail)
    elif isinstance(item, FloorDiv):
        _no_vars(Size.of(item), what, span, fail)
    elif isinstance(item, (ir.TensorType, ir.TupleType, ir.Axis)):
        for size in _sizes_of(item):
            _no_vars(size, what, span, fail)
    elif isinstance(item, dict):
        for k, v in item.items():
            _no_vars_deep(k, what, span, fail, (), depth + 1)
            _no_vars_deep(v, what, span, fail, (), depth + 1)
    elif isinstance(item, (tuple, list)):
        for x in item:
            _no_vars_deep(x, what, span, fail, (), depth + 1)
    elif isinstance(item, (ir.Value, ir.Local, Span)):
        return  # values are checked on their own; wires where they are defined
    elif dataclasses.is_dataclass(item) and not isinstance(item, type):
        for f in dataclasses.fields(item):
            if f.name not in skip and f.name not in ("target", "whole_error"):
                _no_vars_deep(getattr(item, f.name), what, span, fail, (), depth + 1)


def _sizes_of(item: ir.TensorType | ir.TupleType | ir.Axis) -> list[Size]:
    """Every size in a type or an axis, the sizes of bound parts included."""
    found: list[Size] = []
    item.map(lambda s: found.append(s) or s)  # type: ignore[func-returns-value]
    return found
