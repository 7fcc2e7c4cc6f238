"""Typing the body of a def or a module's forward: statements and expressions to typed IR nodes."""

from __future__ import annotations

import math
from functools import partial

from .. import ir, ops, tree
from ..diagnostics import AlreadyReported, Label, NcdcError, fail
from ..ir import SCALAR, Axis, ScalarType, Signature, TensorType, TupleType, Value
from ..sizes import Size, Symbol, Var, format_size
from ..source import Span
from ..syntax import nesting_error
from .scope import Scope, SizeBinding, check_wire_name, distinct_labels_of, size_of
from .numbers import check_constant, check_tensor_operand
from .bounds import FALSE, TRUE, Decider
from ..ops.masks import COMPARISONS
from .solver import Solver, fresh_symbols

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2.4 ms of `import ncdc`)
if TYPE_CHECKING:
    from typing import Callable


# Expressions nested deeper than Python's own parser takes brackets (200) are an error in the input
# (E0007): every stage after checking walks an expression by recursion, some with several frames a level.
MAX_NESTING = 200


class BodyChecker:
    def __init__(self, program, scope: Scope, solver: Solver, function: ir.Function, name: str,
                 known: set[Symbol] = frozenset()):  # type: ignore[assignment]
        self.program = program  # the ProgramChecker: global names and signatures
        self.scope = scope
        self.solver = solver
        self.function = function
        self.title = name  # the def, or the module whose forward this is: for messages
        self.boxes: set[str] = set()
        self.callees: set[str] = set()
        self.unbatched_wires: set[str] = set()
        self.uncertain_wires: set[str] = set()
        self.loop_ranges: dict[Symbol, tuple[int, int]] = {}
        self.fixed_ranges: dict[Symbol, tuple[int, int]] = {}  # ranges that constants alone fix
        self.loops: list[ir.LoopRange] = []  # the loops around the statement being checked
        self.pending: list[tuple] = []  # (precondition, what a refutation says, its code): undecided yet
        self.partial_wires: dict[str, Span] = {}  # wires some branches of an `if` assign, and others not
        self.decider = Decider(solver)
        self.depth = 0  # how deep the expression being checked is nested
        self.unknowns_left = False  # whether a node may hold an unknown (`Var`): only then has finalize_types work
        sources = ir.size_sources([p.type for p in function.params], list(function.generics), set(known))
        self.readable = {s.symbol for s in sources}  # generic sizes the generated code reads off inputs

    # ---- statements -------------------------------------------------------------------------

    def block(self, stmts: list, *, top: bool, inside: str = "loop") -> list:
        out: list[ir.Statement] = []
        returned = None
        for stmt in stmts:
            if returned is not None:
                fail("E0403", "statement after `return`", stmt.span, "this never runs",
                     labels=[Label(returned, "the function returns here")])
            if isinstance(stmt, tree.Assign):
                out.append(self.assign(stmt))
            elif isinstance(stmt, tree.Return):
                if not top:
                    where = "a `for` loop" if inside == "loop" else "an `if` block"
                    fail("E0404", f"`return` inside {where}", stmt.span, "not allowed here",
                         help=f"assign to a wire in the {'loop' if inside == 'loop' else 'branches'} and return it "
                              f"after the {'loop' if inside == 'loop' else '`if`'}")
                out.append(self.return_(stmt))
                returned = stmt.span
            elif isinstance(stmt, tree.If):
                out.append(self.if_(stmt))
            else:
                out.append(self.for_(stmt))
        if top and returned is None:
            end = stmts[-1].span if stmts else self.function.header
            fail("E0401", f"`{self.title}` does not return", end, "the body ends here without `return`",
                 help="end the body with `return ...` giving " + ", ".join(f"`{t}`" for t in self.function.results))
        return out

    def assign(self, stmt: tree.Assign) -> ir.Assign:
        node = self.expr(stmt.value)
        if stmt.layout is not None:
            node = self.laid_out(node, stmt.layout, stmt)
        types = ir.types_of(node.type)
        if len(types) != len(stmt.targets):
            fail("E0402", f"{len(stmt.targets)} names for {len(types)} value{'s' if len(types) != 1 else ''}",
                 stmt.span, f"the right-hand side gives {', '.join(f'`{t}`' for t in types)}")
        locals_ = []
        for target, t in zip(stmt.targets, types):
            locals_.append(self.bind_wire(target, t))
            if self.unbatched(node):
                self.unbatched_wires.add(target.name)
            else:
                self.unbatched_wires.discard(target.name)
        return ir.Assign(locals_, node, stmt.span)

    def laid_out(self, node: Value, layout: tree.TensorTypeNode, stmt: tree.Assign) -> Value:
        """`O: t h k = E`: E's axes moved into the order the layout names them (nothing when they
        already are), so that a call names its result's layout.  E0371 unless the layout names each
        axis of E once, by its size name."""
        t = self.solver.resolve_type(node.type)
        written = f"`{stmt.targets[0].name}: {layout.span.text}`"
        if not isinstance(t, TensorType):
            fail("E0371", f"{written} names a layout, but the value is not one tensor", stmt.value.span,
                 "a number" if isinstance(t, ScalarType) else f"this is `{self.show(t)}`")
        labels = [axis.label for axis in t.axes]
        names = [axis.name if isinstance(axis, tree.SizeName) else None for axis in layout.axes]
        if None in labels or len(set(labels)) != len(labels):
            fail("E0371", f"{written} cannot name the layout of `{self.show(t)}`: its axes are not each "
                 "named once", stmt.value.span, f"this is `{self.show(t)}`",
                 help="name the axes apart first, with `rearrange[...](X: a b)`")
        if None in names or sorted(names, key=str) != sorted(labels, key=str) \
                or (layout.dtype is not None and layout.dtype != t.dtype):
            fail("E0371", f"{written} is not a layout of the value: it names its axes (and element type), in any order",
                 layout.span, "the layout", labels=[Label(stmt.value.span, f"this is `{self.show(t)}`")],
                 help="reorder the axes of the value, or use `rearrange` to bind or unbind them")
        if names == labels:
            return node
        axes = tuple(t.axes[labels.index(name)] for name in names)
        return ir.Rearrange(t.with_axes(axes), stmt.span, node, tuple(labels), tuple(names),  # type: ignore[arg-type]
                            {str(label): axis.size for label, axis in zip(labels, t.axes)})

    def bind_wire(self, target: tree.Name, t) -> ir.Local:
        name = target.name
        check_wire_name(target, self.scope)
        if self.scope.lookup_component(name) is not None or name in self.program.globals \
                or self.scope.lookup_value(name) is not None:
            fail("E0105", f"`{name}` already names a box, a def or a learned part", target.span,
                 "a wire cannot reuse it")
        if isinstance(t, ScalarType):
            fail("E0204", "only tensors can be named wires", target.span, "this is a number",
                 help="use the expression where it is needed, or a size")
        local = ir.Local(name, t, target.span)
        self.scope.wires[name] = (local, t)
        return local

    def return_(self, stmt: tree.Return) -> ir.Return:
        nodes = [self.expr(v) for v in stmt.values]
        types = [t for node in nodes for t in ir.types_of(node.type)]
        results = self.function.results
        if len(types) != len(results):
            fail("E0402", f"`{self.title}` returns {len(types)} value{'s' if len(types) != 1 else ''}, "
                 f"its signature says {len(results)}", stmt.span,
                 "returns " + ", ".join(f"`{t}`" for t in types),
                 labels=[Label(self.function.header or stmt.span,
                               "the signature says `-> " + ", ".join(str(r) for r in results) + "`")])
        spans = [v.span for v in stmt.values] if len(stmt.values) == len(types) else [stmt.span] * len(types)
        for i, (t, expected, span) in enumerate(zip(types, results, spans)):
            what = "the returned value" if len(types) == 1 else f"returned value {i + 1}"
            self.expect_type(expected, t, span, what, declared=True)
        return ir.Return(nodes, stmt.span)

    def for_(self, stmt: tree.For) -> ir.For:
        start = size_of(stmt.start, self.scope)
        stop = size_of(stmt.stop, self.scope)
        var = Symbol(stmt.var.name)
        for bound, node in ((start, stmt.start), (stop, stmt.stop)):
            self.computable(bound, node.span, "a loop bound")
        lo, hi = self.solver.evaluate(start), self.solver.evaluate(stop)
        if lo is not None and hi is not None:
            if hi < lo - 1:
                fail("E0313", f"the range {lo}..{hi} runs backwards", stmt.span, "no turns",
                     help="ranges include both ends: `1..4` is 1, 2, 3, 4")
            self.loop_ranges[var] = (lo, hi)
        lo, hi = self.solver.evaluate(start, concrete=False), self.solver.evaluate(stop, concrete=False)
        if lo is not None and hi is not None:
            self.fixed_ranges[var] = (lo, hi)
        inner = self.scope.child()
        inner.sizes[stmt.var.name] = SizeBinding(Size.of(var), stmt.var.span, "loop index")
        # Whether a wire has batch axes may change from one turn to the next: assume it has, and
        # broadcast defensively where it meets a learned tensor.
        assigned = _assigned(stmt.body)
        self.unbatched_wires -= assigned
        self.uncertain_wires |= assigned
        saved = self.scope
        self.scope = inner
        before = {name: t for name, (_, t) in _all_wires(saved).items()}
        self.loops.append(ir.LoopRange(var, start, stop))
        body = self.block(stmt.body, top=False)
        self.loops.pop()
        self.scope = saved
        # A wire assigned in the loop carries its value into the next turn: its type must not change.
        for name, (local, t) in inner.wires.items():
            if name in before:
                self.expect_type(before[name], t, local.span, f"`{name}` at the end of the loop body",
                                 declared=True)
                saved.wires[name] = (local, before[name])
        return ir.For(var, start, stop, body, stmt.span)

    def if_(self, stmt: tree.If) -> ir.If:
        """Branches on hyperparameters: each is checked.  A wire assigned before keeps its type in
        every branch; a new wire is a wire after the `if` when every branch assigns it, alike."""
        saved = self.scope
        before = {name: t for name, (_, t) in _all_wires(saved).items()}
        assigned = _assigned([stmt])
        self.unbatched_wires -= assigned
        self.uncertain_wires |= assigned
        branches, scopes = [], []
        for cond, body in [*stmt.branches, (None, stmt.orelse)]:
            condition = self.condition(cond) if cond is not None else None
            inner = saved.child()
            self.scope = inner
            try:
                checked = self.block(body, top=False, inside="if")
            finally:
                self.scope = saved
            scopes.append(inner)
            branches.append((condition, checked))
        for inner in scopes:
            for name, (local, t) in inner.wires.items():
                if name in before:
                    self.expect_type(before[name], t, local.span, f"`{name}` at the end of this branch", declared=True)
                    saved.wires[name] = (local, before[name])
        for name, (local, t) in scopes[0].wires.items():
            if name in before:
                continue
            if all(name in inner.wires for inner in scopes[1:]):
                for inner in scopes[1:]:
                    other, u = inner.wires[name]
                    self.expect_type(t, u, other.span, f"`{name}` in this branch", declared=True,
                                     callee=f"the first branch gives `{self.show(t)}`")
                saved.wires[name] = (local, t)
        for inner in scopes:
            for name, (local, _) in inner.wires.items():
                if name not in saved.wires:
                    self.partial_wires.setdefault(name, local.span)
        return ir.If([(c, b) for c, b in branches[:-1]], branches[-1][1], stmt.span)  # type: ignore[misc]

    def condition(self, cond: tree.Condition) -> ir.Condition:
        """`norm_first`, `not norm_first`, `norm == "pre"`: a test of a bool or choice hyperparameter."""
        name = cond.name.name
        hp = self.scope.lookup_value(name)
        if hp is None:
            what = "a size" if self.scope.lookup_size(name) is not None else \
                "a wire" if self.scope.lookup_wire(name) is not None else None
            if what is None:
                fail("E0101", f"unknown hyperparameter `{name}`", cond.name.span, "not defined here",
                     help=did_you_mean(name, sorted(_all_values(self.scope))))
            fail("E0324", f"an `if` tests a bool or choice hyperparameter; `{name}` is {what}", cond.name.span,
                 "not known when the module is built" if what == "a wire" else "a size",
                 help="the branches are chosen when the module is built, from its hyperparameters")
        if hp.kind == "bool" and cond.op in ("==", "!="):
            fail("E0324", f"`{name}` is a bool: test it as `if {name}:` or `if not {name}:`", cond.span,
                 "compared with a string")
        if hp.kind == "choice" and cond.op in ("true", "false"):
            fail("E0324", f"`{name}` is one of {_choices(hp)}: compare it, `if {name} == \"{hp.choices[0]}\":`",
                 cond.span, "not a bool")
        if hp.kind == "float":
            fail("E0324", f"`{name}` is a number; an `if` tests a bool or choice hyperparameter", cond.name.span,
                 "a number")
        if hp.kind == "choice" and cond.value not in hp.choices:
            fail("E0324", f"`{name}` is never \"{cond.value}\"", cond.span, f"`{name}` is one of {_choices(hp)}",
                 help=did_you_mean(cond.value or "", list(hp.choices)))
        return ir.Condition(name, cond.op, cond.value)

    # ---- types --------------------------------------------------------------------------------

    def expect_type(self, expected: TensorType, actual, span: Span, what: str, declared=False,
                    callee: str | Callable[[], str] | None = None, whole: TensorType | None = None,
                    own: tuple[int, ...] | None = None, box: str | None = None) -> None:
        """Check `actual` against `expected`; `whole` is the argument `actual` was taken from (its
        axes `own`) and `box` the callee, for layout errors.  `callee` says what expects the type (a
        function making that text where it is dear: only an error needs it)."""
        if isinstance(actual, ScalarType):
            fail("E0204", f"{what} is a number, expected a tensor `{expected}`", span, "a number")
        if isinstance(actual, TupleType):
            fail("E0402", f"{what} is a tuple of {len(actual.items)} tensors, expected one `{expected}`", span,
                 "a tuple", help="unpack it first: `a, b = ...`")
        if actual.dtype != expected.dtype:
            fail("E0316", f"{what} holds {actual.dtype} elements, expected {expected.dtype}", span,
                 f"this is `{self.show(actual)}`",
                 notes=[self.expected(expected, callee)])
        if actual.rank != expected.rank:
            fail("E0202", f"{what} has {actual.rank} ax{'is' if actual.rank == 1 else 'es'}, expected "
                 f"{expected.rank}", span, f"this is `{self.show(actual)}`",
                 notes=[self.expected(expected, callee)])
        self.check_layout(expected, actual, span, what, whole, own, box, callee)
        why = f"`{span.text}`" if span.end_line == span.line else ""
        for i, (e, a) in enumerate(zip(expected.axes, actual.axes)):
            outcome = self.solver.unify(e.size, a.size, span, why)
            if outcome is not None:
                self.size_error(outcome, e, a, span, f"{what}, axis {i + 1}", expected, actual, callee)
            if not (e.parts and a.parts):
                continue  # only two bound axes can bind their parts in another order
            e_parts = [self.solver.resolve_axis(p).label or "" for p in e.parts]
            a_parts = [self.solver.resolve_axis(p).label or "" for p in a.parts]
            if e_parts and a_parts and all(e_parts + a_parts) and e_parts != a_parts \
                    and sorted(e_parts) == sorted(a_parts):
                fail("E0315", f"{what}, axis {i + 1}, binds its axes in another order: "
                     f"`{self.show(TensorType((a,)))}` where `{self.show(TensorType((e,)))}` is expected", span,
                     "same size, different layout",
                     help="rearrange it first, e.g. `rearrange[(" + " ".join(e_parts) + ")](X: ("
                          + " ".join(a_parts) + "))`")

    def check_layout(self, expected: TensorType, actual: TensorType, span: Span, what: str,
                     whole: TensorType | None, own: tuple[int, ...] | None, box: str | None,
                     callee: str | Callable[[], str] | None) -> None:
        """Axes in another order are a layout error (E0318), not a size question: where axis i is
        expected to be the named size `m`, is a differently named size `t`, and the argument has an
        axis `m` at a place where `m` is not expected.  Sizes never decide this, so neither
        constants nor `--sizes` making `t` and `m` equal turn it into an accepted spec."""
        exp = [self.solver.resolve_axis(a) for a in expected.axes]
        act = [self.solver.resolve_axis(a) for a in actual.axes]
        differ = [i for i, (e, a) in enumerate(zip(exp, act)) if _named(e) and _named(a) and e.label != a.label]
        if not differ:
            return  # every named axis is where it is expected (the common case)
        whole_axes = [self.solver.resolve_axis(a) for a in whole.axes] if whole is not None else act
        own = own if own is not None else tuple(range(len(act)))
        expected_at = {own[i]: e.label for i, e in enumerate(exp)}
        for i in differ:
            e, a = exp[i], act[i]
            misplaced = [j for j, w in enumerate(whole_axes) if w.label == e.label and expected_at.get(j) != e.label]
            if not misplaced:
                continue
            shown = " ".join(str(w) for w in whole_axes)
            notes = [self.expected(expected, callee)
                     + f", found `{self.show(actual)}`",
                     "sizes do not decide a layout: giving `" + str(a.label) + "` and `" + str(e.label)
                     + "` one value (`--sizes`, constants) would not make this right"]
            fail("E0318", f"{what} has its axes in another order: axis {own[i] + 1} is `{a.label}` where "
                 f"`{e.label}` is expected, and `{e.label}` is axis {misplaced[0] + 1}", span,
                 f"this is `{shown}`", notes, help=self.layout_help(exp, whole_axes, span, box))

    def layout_help(self, exp: list[Axis], whole: list[Axis], span: Span, box: str | None) -> str | None:
        labels = [w.label for w in whole]
        wanted = [e.label for e in exp]
        if not all(labels) or not all(wanted) or len(set(labels)) != len(labels) \
                or not set(wanted) <= set(labels):
            return None
        text = span.text if span.end_line == span.line and len(span.text) <= 40 else "..."
        extra = [l for l in labels if l not in wanted]
        order = " ".join(str(l) for l in extra + wanted)
        moves = f"`rearrange[{order}]({text})`"
        if box is None or not extra or [l for l in labels if l in wanted] != wanted:
            return f"move the axes into place: {moves}"  # lifting would not put them in order
        return (f"lift `{box}` over the axes it does not act on, `{box}[{' '.join(str(l) for l in extra)}]({text})`, "
                f"or move the axes into place: {moves}")

    def expected(self, expected, callee: str | Callable[[], str] | None) -> str:
        """`expected `a b` (what expects it)`, for notes."""
        said = callee() if callable(callee) else callee
        return f"expected `{self.show(expected)}`" + (f" ({said})" if said else "")

    def size_error(self, outcome, e: Axis, a: Axis, span: Span, where: str, expected=None, actual=None,
                   callee=None):
        exp, act = self.solver.describe(e.size), self.solver.describe(a.size)
        notes = []
        if expected is not None:
            notes.append(self.expected(expected, callee)
                         + f", found `{self.show(actual)}`")
        solved, labels = self.solver.origins_of(e.size, a.size)
        notes += solved
        if e.origin is not None:
            labels.append(Label(e.origin, f"`{format_size(e.size)}` is declared here"))
        if a.origin is not None and a.origin != span:
            labels.append(Label(a.origin, f"`{format_size(a.size)}` comes from here"))
        if outcome.reason == "mismatch":
            fail("E0301", f"size mismatch in {where}: `{act}` where `{exp}` is expected", span,
                 f"this axis is `{act}`", notes, labels=labels)
        fail("E0302", f"cannot prove that `{act}` equals `{exp}` in {where}", span,
             "these sizes may differ", notes, labels=labels,
             help="the checker proves sizes equal symbolically; give concrete sizes with "
                  "`ncdc check --sizes NAME=VALUE,...` to check them for those values")

    def show(self, t) -> str:
        return str(self.solver.resolve_type(t))

    def warn(self, diagnostic) -> None:
        self.program.warn(diagnostic)

    # ---- expressions ----------------------------------------------------------------------------

    def expr(self, e) -> Value:
        self.depth += 1
        try:
            if self.depth > MAX_NESTING:
                raise NcdcError(nesting_error(e.span.source.path, e.span))
            return self._expr(e)
        finally:
            self.depth -= 1

    def _expr(self, e) -> Value:
        if isinstance(e, tree.Name):
            return self.name(e)
        if isinstance(e, tree.Number):
            return ir.Const(SCALAR, e.span, e.value)
        if isinstance(e, tree.BinOp):
            return self.binop(e)
        if isinstance(e, tree.Neg):
            arg = self.expr(e.operand)
            return ir.Neg(arg.type, e.span, arg)
        if isinstance(e, tree.Call):
            return self.call(e)
        if isinstance(e, tree.Bracket):
            return self.index(e)
        if isinstance(e, (tree.String, tree.Bool)):
            fail("E0204", "strings and booleans are options, not values", e.span, "not a tensor or a number")
        if isinstance(e, tree.Relabel):
            fail("E0311", "axis patterns are for the arguments of einsum, rearrange and concat", e.span,
                 "a pattern here", help=f"write the wire alone, `{e.value.span.text}`")
        fail("E0204", "not an expression", getattr(e, "span", None))

    def name(self, e: tree.Name) -> Value:
        wire = self.scope.lookup_wire(e.name)
        if wire is not None:
            local, t = wire
            return ir.Read(t, e.span, local)
        size = self.scope.lookup_size(e.name)
        if size is not None:
            return ir.SizeValue(SCALAR, e.span, size.value)
        hp = self.scope.lookup_value(e.name)
        if hp is not None:
            if hp.kind != "float":
                fail("E0324", f"`{e.name}` is a {hp.kind} hyperparameter, not a number", e.span, "used as a value",
                     help=f"choose between branches with `if {e.name}{'' if hp.kind == 'bool' else ' == ...'}:`")
            return ir.HParamValue(SCALAR, e.span, e.name)
        if e.name in self.partial_wires:
            fail("E0405", f"`{e.name}` is assigned in some branches of an `if` only", e.span, "read after the `if`",
                 labels=[Label(self.partial_wires[e.name], f"`{e.name}` is assigned here")],
                 help=f"assign `{e.name}` in every branch, or add an `else:` that does")
        buffer = self.scope.lookup_buffer(e.name)
        if buffer is not None:
            return ir.BufferValue(buffer.type, e.span, e.name)
        component = self.scope.lookup_component(e.name)
        if isinstance(component, ir.Layer) and component.op == "Parameter":
            return ir.LearnedTensor(component.attrs.type, e.span, e.name)
        if e.name == "inf" and component is None:  # infinity, unless a wire or size has the name
            return ir.Const(SCALAR, e.span, math.inf)
        if component is not None or e.name in self.program.globals or ops.operation(e.name) is not None:
            fail("E0105", f"`{e.name}` is a box, not a wire", e.span, "used as a value",
                 help=f"call it: `{e.name}(...)`")
        candidates = sorted(_all_wires(self.scope))
        fail("E0101", f"unknown name `{e.name}`", e.span, "not defined here",
             notes=[f"wires here: {', '.join(f'`{c}`' for c in candidates)}"] if candidates else [],
             help=did_you_mean(e.name, candidates))

    def tensor(self, e, what: str = "argument") -> Value:
        node = self.expr(e)
        if isinstance(node.type, TupleType):
            fail("E0402", f"this {what} is a tuple of {len(node.type.items)} tensors", e.span, "a tuple",
                 help="unpack it first: `a, b = ...`")
        return node

    def binop(self, e: tree.BinOp) -> Value:
        if e.op in COMPARISONS:
            return ops.operation(e.op).check(self, e.op, None, e)  # type: ignore[union-attr]
        left, right = self.tensor(e.left, "operand"), self.tensor(e.right, "operand")
        lt, rt = left.type, right.type
        assert not isinstance(lt, TupleType) and not isinstance(rt, TupleType)  # `tensor` rejects tuples
        if e.op == "**" and not isinstance(rt, ScalarType) and not isinstance(lt, ScalarType):
            fail("E0204", "a power of a wire needs a number as its base or its exponent", e.right.span,
                 f"this is `{self.show(rt)}`", help="`X ** 2` squares each element, `2.0 ** X` raises 2 to each")
        for t, side in ((lt, e.left), (rt, e.right)):
            if t.dtype == ir.BOOL:
                fail("E0316", "arithmetic on bool elements", side.span, f"this is `{self.show(t)}`")
        if isinstance(lt, ScalarType) and isinstance(rt, ScalarType):
            node = ir.ScalarBinary(SCALAR, e.span, e.op, left, right)
            check_constant(node, self.solver)  # `2 ** 2 ** 2 ** 40` would never finish at run time
            return node
        if isinstance(lt, ScalarType) or isinstance(rt, ScalarType):
            tensor, number = (rt, left) if isinstance(lt, ScalarType) else (lt, right)
            assert isinstance(tensor, TensorType)
            check_tensor_operand(number, self.solver)  # `X * 2 ** 64`: torch raises OverflowError
            if tensor.dtype == ir.INT and (e.op == "/" or not _integral(number)):
                tensor = TensorType(tensor.axes, ir.FLOAT)  # ints promote to floats
            return ir.Binary(tensor, e.span, e.op, left, right)
        if e.op == "//":
            fail("E0204", "`//` is for sizes; tensors divide with `/`", e.span, "floor division of tensors")
        result, (left_align, right_align) = self.align(left, right, e)
        if e.op == "/" or ir.FLOAT in (lt.dtype, rt.dtype):  # integers promote to floats, as in torch
            result = TensorType(result.axes, ir.FLOAT)
        return ir.Binary(result, e.span, e.op, left, right, left_align, right_align)

    def align(self, left: Value, right: Value, e) -> tuple[TensorType, tuple]:
        """Elementwise arithmetic on two wires: axes are matched by name, or by position when equal."""
        lt, rt = self.solver.resolve_type(left.type), self.solver.resolve_type(right.type)
        return self.align_types(lt, rt, self.unbatched(left), self.unbatched(right), e.span, e.right.span,
                                f"`{e.op}`")

    def line_up(self, nodes: list[Value], span: Span, spans: list[Span], what: str):
        """The result of an elementwise operation of several operands (numbers among them), and each
        operand's alignment with it: the operands are lined up two by two, left to right."""
        result: TensorType | None = None
        aligns: list[ir.Alignment | None] = []
        for node, at in zip(nodes, spans):
            t = self.solver.resolve_type(node.type)
            if isinstance(t, ScalarType):
                check_tensor_operand(node, self.solver)  # `where(M, X, 2 ** 64)`: torch raises OverflowError
                aligns.append(None)
                continue
            if result is None:
                result = t
                aligns.append(None)
                continue
            result, (old, new) = self.align_types(result, t, False, self.unbatched(node), span, at, what)
            if old is not None:  # the new operand is larger: the earlier ones move with the result
                aligns = [a if n.type is SCALAR else ir.Alignment(
                          old.positions if a is None else tuple(old.positions[p] for p in a.positions),
                          self.unbatched(n)) for a, n in zip(aligns, nodes)]
            aligns.append(new)
        assert result is not None
        return result, aligns

    def align_types(self, lt: TensorType, rt: TensorType, l_unbatched: bool, r_unbatched: bool, span: Span,
                    right_span: Span, what: str) -> tuple[TensorType, tuple]:
        if lt.rank == rt.rank and all(a.label == b.label or a.label is None or b.label is None
                                      for a, b in zip(lt.axes, rt.axes)):
            axes = []
            for i, (a, b) in enumerate(zip(lt.axes, rt.axes)):
                if self.unit(a) != self.unit(b):  # an axis of size 1 broadcasts against any axis
                    axes.append(b if self.unit(a) else a)
                    continue
                outcome = self.solver.unify(a.size, b.size, span)
                if outcome is not None:
                    self.size_error(outcome, a, b, right_span, f"{what}, axis {i + 1}", lt, rt)
                axes.append(a)
            return lt.with_axes(axes), (None, None)
        big, small, big_first = (lt, rt, True) if lt.rank >= rt.rank else (rt, lt, False)
        labels = [a.label for a in big.axes]
        small_labels = [a.label for a in small.axes]
        lead = big.rank - small.rank
        if all(l is not None and labels.count(l) == 1 and small_labels.count(l) == 1 for l in small_labels):
            positions = [labels.index(l) for l in small_labels]
        elif None not in small_labels and small_labels == labels[lead:] and not set(small_labels) & set(labels[:lead]):
            positions = list(range(lead, big.rank))  # a trailing suffix whose names occur nowhere before it
        elif any(l is not None and (labels.count(l) > 1 or small_labels.count(l) > 1) for l in small_labels):
            repeated = next(l for l in small_labels
                            if l is not None and (labels.count(l) > 1 or small_labels.count(l) > 1))
            fail("E0323", f"cannot tell how `{self.show(small)}` lines up with `{self.show(big)}`: "
                 f"`{repeated}` names several axes", span, "ambiguous elementwise operands",
                 notes=[("an operand with fewer axes lines up by name, or with the other's trailing axes when "
                         "it has exactly those, in order, and none of their names occurs before them")],
                 help="give the axes distinct names (`einsum`, a pattern) or line them up with `rearrange`")
        else:
            fail("E0309", f"cannot line up `{self.show(small)}` with `{self.show(big)}`", span,
                 "elementwise operands", help="elementwise operands need the same axes, or named axes that "
                 "all appear once in the other operand; use einsum or rearrange to line them up")
        for axis, j in zip(small.axes, positions):
            outcome = self.solver.unify(big.axes[j].size, axis.size, span)
            if outcome is not None:
                self.size_error(outcome, big.axes[j], axis, span, what)
        entry = ir.Alignment(tuple(positions), r_unbatched if big_first else l_unbatched)
        return big, ((None, entry) if big_first else (entry, None))

    def unit(self, axis: Axis) -> bool:
        """An axis of size 1 in every instance (as written or by constants; not by `--sizes`)."""
        atom = axis.size.atom
        if atom.__class__ is Symbol and atom not in self.solver.definitions:
            return False  # a size of its own, that no definition makes 1 (the common case)
        return self.solver.expand(axis.size) == Size.of(1)

    def index(self, e: tree.Bracket) -> Value:
        """`X[2, :]`, `X[0:k]`: indexes and subtensors, on the leading axes of a wire."""
        base = self.tensor(e.base, "indexed value")
        t = self.solver.resolve_type(base.type)
        if isinstance(t, ScalarType):
            fail("E0204", "only tensors can be indexed", e.base.span, "a number")
        if len(e.items) > t.rank:
            fail("E0202", f"{len(e.items)} indexes for a wire with {t.rank} axes", e.span, f"`{self.show(t)}`")
        items: list[ir.IndexItem] = []
        axes = []
        for i, (item, axis) in enumerate(zip(e.items, t.axes)):
            where = f"axis {axis.label}" if axis.label else f"axis {i + 1} (of size {format_size(axis.size)})"
            if isinstance(item, tree.Slice):
                start = size_of(item.start, self.scope) if item.start is not None else Size.of(0)
                stop = size_of(item.stop, self.scope) if item.stop is not None else axis.size
                for bound, node in ((start, item.start), (stop, item.stop)):
                    if node is not None:
                        self.computable(bound, node.span, "a slice")
                self.check_bound(start, axis, item.span, inclusive=True)
                self.check_bound(stop, axis, item.span, inclusive=True)
                if item.start is None and item.stop is None:
                    items.append(ir.IndexAll())
                    axes.append(axis)
                else:
                    for length in self.loop_values(stop - start, concrete=False):
                        if length is not None and length < 1:
                            fail("E0307", f"the slice {start}:{stop} is empty", item.span, "no elements",
                                 help="a slice `a:b` takes the indexes a, ..., b - 1")
                    takes = f"{e.span.text} takes indexes {format_size(start)}..{format_size(stop - 1)} of {where}"
                    self.require(ir.Comparison(stop, ">", start), item.span, takes, "the slice is empty")
                    self.require(ir.Comparison(start, ">=", Size.of(0)), item.span, takes,
                                 "the slice starts before the axis")
                    self.require(ir.Comparison(axis.size, ">=", stop), item.span, takes,
                                 f"the slice ends after the axis, of size {self.solver.describe(axis.size)}")
                    items.append(ir.IndexSlice(start, stop))
                    axes.append(Axis(stop - start, item.span))
            else:
                if len(item.axes) != 1:
                    fail("E0311", "an index is one size", item.span, "several axes")
                value = size_of(item.axes[0], self.scope)
                self.computable(value, item.span, "an index")
                self.check_bound(value, axis, item.span, inclusive=False)
                takes = f"{e.span.text} takes index {format_size(value)} of {where}"
                self.require(ir.Comparison(value, ">=", Size.of(0)), item.span, takes, "the index is negative")
                self.require(ir.Comparison(axis.size, ">", value), item.span, takes,
                             f"the index is past the end of an axis of size {self.solver.describe(axis.size)}")
                items.append(ir.IndexAt(value))
        axes.extend(t.axes[len(e.items):])
        items.extend(ir.IndexAll() for _ in t.axes[len(e.items):])
        return ir.Index(t.with_axes(axes), e.span, base, tuple(items))

    def check_bound(self, value: Size, axis: Axis, span: Span, inclusive: bool) -> None:
        n = self.solver.evaluate(axis.size, concrete=False)
        for v in self.loop_values(value, concrete=False):
            if v is not None and (v < 0 or (n is not None and (v > n if inclusive else v >= n))):
                fail("E0307", f"index {v} is out of range for an axis of size {self.solver.describe(axis.size)}",
                     span, "out of range")

    def loop_values(self, value: Size, concrete: bool = True) -> list[int | None]:
        """The values an index takes: itself, or at both ends of the loops whose indexes it uses."""
        ranges = self.loop_ranges if concrete else self.fixed_ranges
        loops = [s for s in value.symbols() if s in ranges]
        if not loops:
            return [self.solver.evaluate(value, concrete)]
        ends = []
        for choice in range(2 ** len(loops)):
            env = {s: Size.of(ranges[s][(choice >> i) & 1]) for i, s in enumerate(loops)}
            ends.append(self.solver.evaluate(value.substitute(lambda a: env.get(a)), concrete))
        return ends

    # ---- preconditions --------------------------------------------------------------------------

    def computable(self, size: Size, span: Span, what: str) -> None:
        """A size the generated code computes with must be known at run time: a generic size of the
        def only in its results cannot be read off any input."""
        for symbol in sorted(size.symbols(), key=lambda s: s.uid):
            if symbol in self.function.generics and symbol not in self.readable:
                fail("E0305", f"the size `{symbol.name}` is not known when `{self.title}` runs", span,
                     f"{what} uses `{symbol.name}`",
                     notes=[(f"`{symbol.name}` appears only in the results of `{self.title}`: no input has it, "
                             "so the generated code cannot read it off a shape")],
                     help=f"give some input an axis `{symbol.name}`, or use a size the inputs fix")

    def over(self, symbols: set[Symbol]) -> tuple[ir.LoopRange, ...]:
        """The enclosing loops whose indexes `symbols` use (and the loops their ranges use)."""
        wanted = set(symbols)
        chosen = []
        for loop in reversed(self.loops):
            if loop.var in wanted:
                chosen.append(loop)
                wanted |= loop.start.symbols() | loop.stop.symbols()
        return tuple(reversed(chosen))

    def require(self, condition: ir.Comparison, span: Span, reason: str, refuted: str,
                code: str = "E0307") -> None:
        """A condition on sizes the generated code needs: proved, refuted (an error), or left as a
        precondition of the def, checked when it runs."""
        pre = ir.Precondition((condition,), span, reason, self.over(condition.symbols()))
        if self.decide(pre, refuted, code):
            self.pending.append((pre, refuted, code))

    def decide(self, pre: ir.Precondition, refuted: str, code: str = "E0307") -> bool:
        """Whether `pre` is left undecided; a refuted one is an error (`code`, or E0317 where only
        the values of `--sizes` refute it)."""
        outcome = self.decider.decide(pre, concrete=False)
        if outcome == TRUE:
            return False
        pre = pre.map(self.solver.resolve)  # as the spec's sizes, in messages
        if outcome == FALSE:
            fail(code, f"{refuted}: `{pre.span.text}` needs {pre.condition_text}"
                 + (" for " + ", ".join(map(str, pre.over)) if pre.over else ""), pre.span,
                 "never holds", notes=[pre.reason])
        outcome = self.decider.decide(pre, concrete=True)
        if outcome == TRUE:
            return False
        if outcome == FALSE:
            fail("E0317", f"for the sizes given, {refuted}: `{pre.span.text}` needs {pre.condition_text}",
                 pre.span, "does not hold for `--sizes`", notes=[pre.reason] + self.values_of(pre))
        return True

    def settle(self, fix, module: ir.Module | None, known: set[Symbol]) -> None:
        """Once the body's sizes are solved (`fix` gives their final form), what is still undecided
        becomes a precondition: of the module (checked at construction) where it uses only its
        hyperparameters and derived sizes (`known`), else of the def (checked at each call)."""
        entry = known | self.readable
        seen = {(p.conditions, p.over) for p in self.function.preconditions}
        if module is not None:
            seen |= {(p.conditions, p.over) for p in module.preconditions}
        for pre, refuted, code in self.pending:
            pre = pre.map(fix)
            if (pre.conditions, pre.over) in seen or not self.decide(pre, refuted, code):
                continue
            seen.add((pre.conditions, pre.over))
            symbols = pre.symbols()
            if module is not None and symbols <= known:
                module.preconditions.append(pre)
            elif symbols <= entry:
                self.function.preconditions.append(pre)
            else:
                late = sorted(symbols - entry, key=lambda s: s.name)[0]
                fail("E0305", f"cannot check `{pre.span.text}` when `{self.title}` is called: it needs "
                     f"{pre.condition_text}, and the size `{late.name}` is known only once computed", pre.span,
                     "not provably in range", notes=[pre.reason],
                     help="give the axis a size the inputs fix, or index with a position that is provably in range")

    def values_of(self, pre: ir.Precondition) -> list[str]:
        given = [f"{s.name} = {self.solver.concrete[s.name]}" for s in sorted(pre.symbols(), key=lambda s: s.name)
                 if s.name in self.solver.concrete]
        return [f"with {', '.join(given)}"] if given else []

    # ---- calls ----------------------------------------------------------------------------------

    def instantiate(self, sig: Signature, final: bool = False) -> dict[Symbol, Size]:
        """A fresh unknown for each generic size of the callee, for one call.  `final`: the caller
        itself says whether its node holds any of them once typed (`unknowns_left`)."""
        if sig.generics and not final:
            self.unknowns_left = True
        return {g: Size.of(Var(g.name, owner=sig.name)) for g in sig.generics}

    def call(self, e: tree.Call) -> Value:
        func, brackets = e.func, None
        if isinstance(func, tree.Bracket):
            brackets = func.items
            func = func.base
        layer = _inline_layer(func)
        if layer is not None:
            self.layer_outside_parts(layer, func.span, "made in the body")
        if not isinstance(func, tree.Name):
            fail("E0105", "only named boxes can be called", func.span, "not a name")
        name = func.name
        if self.scope.lookup_wire(name) is not None:
            fail("E0105", f"`{name}` is a wire, not a box", func.span, "called here",
                 help="call a box, a def or a learned part; wires are values")
        component = self.scope.lookup_component(name)
        if component is not None:
            return self.call_component(component, brackets, e)
        if name in self.program.failed:  # its own definition failed to check: do not pile errors on it
            raise AlreadyReported
        if name in self.program.globals:
            kind, target = self.program.globals[name]
            if kind == "module":
                fail("E0105", f"module `{name}` is called without being declared as a part", func.span,
                     "a module has weights of its own",
                     help=f"declare it in the enclosing module, `part = {name}(...)`, and call `part(...)`")
            if kind == "size":
                return self.builtin(name, brackets, e)
            signature = self.program.signature_of(name)
            if signature is None:  # its own definition failed to check: do not pile errors on it
                raise AlreadyReported
            self.callees.add(name)
            if kind == "box":
                self.boxes.add(name)
            return self.apply(signature, brackets, e)
        if ops.operation(name) is not None:
            return self.builtin(name, brackets, e)
        layer = next((known for known in ops.LAYERS if known.lower() == name.lower().replace("_", "")), None)
        if layer is not None:  # `Dropout(X)`, or `dropout(X)`, `layer_norm(X)` as torch.nn.functional spells them
            self.layer_outside_parts(layer, func.span, "not a part of this module")
        callables = [*ops.OPERATIONS, *self.program.globals, *_all_components(self.scope)]
        fail("E0101", f"unknown box `{name}`", func.span, "not defined",
             help=did_you_mean(name, callables) or "declare it with `box`, `def` or as a learned part of the module")

    def layer_outside_parts(self, layer: str, span: Span, label: str) -> None:
        """E0370: a layer (`Dropout` too: it needs to know whether the model is training) made or
        called in a body rather than declared as a part of a module."""
        in_def = self.program.globals.get(self.title, (None,))[0] != "module"
        what = "`Dropout` needs to know whether the model is training" if layer == "Dropout" \
            else f"`{layer}` has weights of its own"
        fail("E0370", f"`{layer}` is a part of a module, not a box", span, label,
             notes=[what + (": a def is a pure function and has no parts" if in_def else "")],
             help="make the def a module with the part (`drop = Dropout(p=p)`; a module without weights adds "
                  "no state_dict keys) and call that module's part lifted as the def was, `attention[h](...)`"
             if in_def else f"declare it beside the other parts, `drop = {layer}(...)`, and call `drop(...)`")

    def builtin(self, name: str, brackets, e: tree.Call) -> Value:
        op = ops.operation(name)
        if op is None:
            fail("E0101", f"unknown box `{name}`", e.func.span, "not defined")
        if name not in PATTERN_OPERATIONS:
            for arg in e.args:
                if isinstance(arg, tree.Relabel):
                    self.misplaced_pattern(arg, e)
        node = op.check(self, name, brackets, e)
        for arg, written in zip(node.args, e.args):
            if arg.type.dtype not in op.accepts:
                fail("E0316", f"`{name}` takes {' or '.join(op.accepts)} elements", getattr(written, "span", e.span),
                     f"this is `{self.show(arg.type)}`")
        return node

    def call_component(self, component: ir.Component, brackets, e: tree.Call) -> Value:
        if isinstance(component, ir.Instance):
            self.callees.add(component.module)
        if isinstance(component, ir.Repeat) and brackets is not None:
            if len(brackets) != 1 or isinstance(brackets[0], tree.Slice) or len(brackets[0].axes) != 1:
                fail("E0311", f"index one repetition: `{component.name}[i](...)`", e.func.span, "expected one index")
            index = size_of(brackets[0].axes[0], self.scope)
            self.computable(index, brackets[0].span, "an index")
            signature, position = self.program.instance_signature(component, index, brackets[0].span,
                                                                  self.loop_values)
            if component.instances is None:  # a range of symbolic ends: the index may leave it
                ends = f"{format_size(component.start)}..{format_size(component.stop)}"
                takes = f"{e.func.span.text} takes repetition {format_size(index)} of {ends}"
                self.require(ir.Comparison(index, ">=", component.start), brackets[0].span, takes,
                             f"`{component.name}` has no repetition before its first")
                self.require(ir.Comparison(component.stop, ">=", index), brackets[0].span, takes,
                             f"`{component.name}` has no repetition after its last")
            return self.apply(signature, None, e, component.name, position)
        if isinstance(component, ir.Layer) and component.op == "Parameter":
            fail("E0105", f"`{component.name}` is a learned tensor, not a box", e.func.span, "called here",
                 help=f"use it as a value: `{component.name}`")
        if component.signature is None:
            reason = getattr(component, "whole_error", None)
            fail("E0314", f"the repetitions of `{component.name}` cannot be applied one after another",
                 e.func.span, "called whole",
                 notes=[reason.message] if reason else [],
                 labels=[Label(reason.span, reason.label)] if reason and reason.span else [],
                 help=f"call one repetition at a time: `{component.name}[i](...)`")
        return self.apply(component.signature, brackets, e, component.name)

    def apply(self, sig: Signature, brackets, e: tree.Call, part: str | None = None,
              position: Size | None = None) -> Value:
        """Type a call: instantiate the callee's generic sizes, lift over the bracketed axes, unify."""
        if e.options:
            fail("E0203", f"`{sig.name}` takes no options", e.options[0].span, "unexpected option")
        if len(e.args) != len(sig.inputs):
            fail("E0201", f"`{sig.name}` takes {len(sig.inputs)} argument{'s' if len(sig.inputs) != 1 else ''}, "
                 f"got {len(e.args)}", e.span, "in this call",
                 notes=[f"`{sig.name} : {ir.signature_text(sig.inputs, sig.outputs)}`"])
        lifted = []
        if brackets is not None:
            if len(brackets) != 1 or isinstance(brackets[0], tree.Slice):
                fail("E0311", "lift a box over axes with `F[a b](...)`", e.func.span, "expected axis names")
            lifted = distinct_labels_of(brackets[0])
        instance = self.instantiate(sig, final=True)

        inputs = [t.map(lambda s: s.substitute(instance.get)) for t in sig.inputs]
        outputs = [t.map(lambda s: s.substitute(instance.get)) for t in sig.outputs]
        for arg in e.args:
            if isinstance(arg, tree.Relabel):
                self.misplaced_pattern(arg, e)
        nodes = [self.tensor(arg) for arg in e.args]  # typed once: nested calls stay linear in time
        arg_labels = [[a.label for a in getattr(self.solver.resolve_type(n.type), "axes", ())] for n in nodes]
        for label, span in lifted:
            if not any(label in labels for labels in arg_labels):
                fail("E0303", f"no argument of `{sig.name}` has an axis `{label}`", span, "nothing to lift over")
        args, layouts = [], []
        lift_sizes: dict[str, Axis] = {}
        batch: list[Axis] | None = None
        for i, (arg, node, expected) in enumerate(zip(e.args, nodes, inputs)):
            t = self.solver.resolve_type(node.type)
            if isinstance(t, ScalarType):
                fail("E0204", f"argument {i + 1} of `{sig.name}` is a number", arg.span, "expected a tensor",
                     notes=[f"expected `{self.show(expected)}`"])
            labels = [a.label for a in t.axes]
            positions = {}
            for label, span in lifted:
                count = labels.count(label)
                if count > 1:
                    fail("E0304", f"`{label}` names {count} axes of argument {i + 1}", span, "ambiguous")
                if count == 1:
                    j = labels.index(label)
                    positions[label] = j
                    if label in lift_sizes:
                        outcome = self.solver.unify(lift_sizes[label].size, t.axes[j].size, arg.span)
                        if outcome is not None:
                            self.size_error(outcome, lift_sizes[label], t.axes[j], arg.span,
                                            f"the lifted axis `{label}` of argument {i + 1}")
                    else:
                        lift_sizes[label] = t.axes[j]
            rest = [j for j in range(t.rank) if j not in positions.values()]
            own = rest[len(rest) - expected.rank:] if sig.batch and len(rest) >= expected.rank else rest
            lead = [j for j in rest if j not in own]
            own_type = t.with_axes(t.axes[j] for j in own)
            where = f"argument {i + 1} of `{sig.name}`"
            hint = None
            if len(own) > expected.rank:
                hint = self.lift_hint(sig.name, arg_labels, len(own) - expected.rank, sig.inputs[i])
            if isinstance(sig.target, ir.Layer) and sig.target.op == "Embedding" and own_type.dtype != ir.INT:
                fail("E0325", f"`{sig.name}` is an Embedding: it looks up int token ids, not {own_type.dtype} elements",
                     arg.span, f"this is `{self.show(t)}`",
                     help="declare the input as token ids, e.g. `T: int t`, or use a Linear on vectors")
            if isinstance(sig.target, ir.Layer) and sig.target.op == "Embedding" and isinstance(node, ir.Arange):
                # positions as ids: in range exactly when the axis is no longer than the table
                self.require(ir.Comparison(node.size, "<=", sig.target.attrs.count), arg.span,
                             f"the positions `{arg.span.text}` are token ids of `{sig.name}`",
                             "the positions do not fit the Embedding")
            try:
                self.expect_type(expected, own_type, arg.span, where,
                                 callee=partial("`{}` takes `{}`".format, sig.name, expected),
                                 whole=t, own=tuple(own), box=None if position is not None else part or sig.name)
            except NcdcError as error:
                if hint and error.diagnostics[0].code == "E0202":
                    error.diagnostics[0].help = hint
                raise
            if sig.batch:
                lead_axes = [t.axes[j] for j in lead]
                if batch is None or len(lead_axes) > len(batch):
                    batch = lead_axes
            args.append(node)
            layouts.append(ir.Layout(positions, tuple(own), tuple(lead), t.rank))
        for label, span in lifted:
            if label not in lift_sizes:
                fail("E0303", f"no argument of `{sig.name}` has an axis `{label}`", span, "nothing to lift over")
        # Lifted axes go back where they were in the first argument carrying them: before or after
        # the callee's own axes.
        before: list[str] = []
        after: list[str] = []
        for label, _ in lifted:
            for layout in layouts:
                if label in layout.lifted:
                    own = list(layout.own)
                    (before if own and layout.lifted[label] < own[0] else after).append(label)
                    break
        if len(outputs) > 1:
            before, after = [l for l, _ in lifted], []
        lead_axes = batch or []
        results = []
        structured: dict = {}
        for node in args:
            for axis in getattr(self.solver.resolve_type(node.type), "axes", ()):
                if axis.parts:
                    structured.setdefault(self.solver.resolve(axis.size), axis)
        for out in outputs:
            own_axes = []
            for a in out.axes:
                a = self.solver.resolve_axis(a)
                keep = structured.get(a.size) if not a.parts else None
                own_axes.append(Axis(a.size, a.origin, keep.parts) if keep is not None else a)
            axes = [lift_sizes[l] for l in before] + list(lead_axes) + own_axes + [lift_sizes[l] for l in after]
            results.append(out.with_axes(axes))
        result_type = results[0] if len(results) == 1 else TupleType(tuple(results))
        for pre in sig.requires:  # what a learned part needs of the sizes it receives
            conditions = tuple(c.map(lambda s: s.substitute(instance.get)) for c in pre.conditions)
            symbols = {s for c in conditions for s in c.symbols()}
            called = ir.Precondition(conditions, e.span, f"{pre.reason}, in `{e.span.text}`"
                                     if e.span.end_line == e.span.line else pre.reason,
                                     self.over(symbols) + pre.over)
            if self.decide(called, "the sizes do not fit the layer", "E0313"):
                self.pending.append((called, "the sizes do not fit the layer", "E0313"))
        # The instance as solved so far (what finalize_types would make of it, a part of the way):
        # solved here, the node is final already and finalize_types need not copy it.
        resolve = self.solver.resolve
        solved = {g: resolve(s) for g, s in instance.items()}
        if instance and not self.unknowns_left and _holds_unknowns(solved.values(), results):
            self.unknowns_left = True  # one solved later, or never (a size known only at run time)
        return ir.Call(result_type, e.span, sig.name, sig, tuple(args), tuple(layouts),
                       tuple(label for label, _ in lifted), tuple(before), tuple(after), len(lead_axes),
                       {label: axis.size for label, axis in lift_sizes.items()}, solved, part, position)

    def misplaced_pattern(self, arg: tree.Relabel, e: tree.Call):
        """`max[u](X: f u)`: patterns name axes for einsum, rearrange and concat only; elsewhere a
        wire's axes are referred to by the names its type gives them."""
        func = e.func.base if isinstance(e.func, tree.Bracket) else e.func
        callee = func.span.text
        renamed: dict[str, str] = {}
        t = self.solver.resolve_type(self.tensor(arg.value).type)
        written = [a.name if isinstance(a, tree.SizeName) else None for a in arg.type.axes]
        if isinstance(t, TensorType) and len(written) == t.rank:
            renamed = {w: a.label for w, a in zip(written, t.axes) if w and a.label and w != a.label}
        brackets = ""
        if isinstance(e.func, tree.Bracket):
            items = e.func.items
            if len(items) == 1 and isinstance(items[0], tree.TensorTypeNode) \
                    and all(isinstance(a, tree.SizeName) for a in items[0].axes):
                brackets = "[" + " ".join(renamed.get(a.name, a.name) for a in items[0].axes) + "]"  # type: ignore[union-attr]
            else:
                brackets = e.func.span.text[len(callee):]
        args = ", ".join((a.value if isinstance(a, tree.Relabel) else a).span.text for a in e.args)
        notes = ([f"`{self.show(t)}` is the wire's type: refer to its axes by those names"]
                 if isinstance(t, TensorType) else [])
        fail("E0311", f"`{callee}` takes no axis pattern: patterns are for einsum, rearrange and concat",
             arg.span, "a pattern here", notes,
             help=f"write the wire alone: `{callee}{brackets}({args})`")

    def lift_hint(self, name: str, label_lists: list, extra: int, declared: TensorType) -> str | None:
        """Suggest lifting over axes that every argument shares and the callee does not name (the
        usual case: heads)."""
        own = {a.label for a in declared.axes}
        common = [l for l in label_lists[0] if l and l not in own and all(l in ls for ls in label_lists)]
        if len(common) < extra:
            return None
        return f"lift `{name}` over the axes it does not act on: `{name}[{' '.join(common[-extra:])}](...)`"

    def unbatched(self, node: Value) -> bool:
        """True for values with no leading batch axes at run time: learned tensors, the unit, numbers."""
        if isinstance(node, (ir.LearnedTensor, ir.BufferValue, ir.Eye, ir.Tril, ir.Arange, ir.Const, ir.SizeValue,
                             ir.HParamValue)):
            return True
        if isinstance(node, ir.Read):
            return node.name in self.unbatched_wires
        if isinstance(node, ir.Call):
            return False
        args = node.args
        return bool(args) and all(self.unbatched(a) for a in args)



PATTERN_OPERATIONS = frozenset({"einsum", "rearrange", "concat"})  # the operations that take `X: a b`


def _named(axis: Axis) -> bool:
    """An axis that is one named size (not an unknown, an expression or a bound axis)."""
    return isinstance(axis.size.atom, Symbol) and not axis.parts


def _all_wires(scope: Scope | None) -> dict:
    out: dict = {}
    chain = []
    while scope is not None:
        chain.append(scope)
        scope = scope.parent
    for s in reversed(chain):
        out.update(s.wires)
    return out


def _all_components(scope: Scope | None) -> list[str]:
    names: list[str] = []
    while scope is not None:
        names += scope.components
        scope = scope.parent
    return names


def did_you_mean(name: str, candidates) -> str | None:
    """`did you mean ...?` for the name closest to a misspelt one, if one is close."""
    import difflib  # only for an error: checking a valid spec does without it

    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.75)
    return f"did you mean `{close[0]}`?" if close else None


def _assigned(stmts) -> set[str]:
    """The wires a block assigns, loops within it included."""
    names: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, tree.Assign):
            names.update(t.name for t in stmt.targets)
        elif isinstance(stmt, tree.For):
            names |= _assigned(stmt.body)
        elif isinstance(stmt, tree.If):
            for _, body in stmt.branches:
                names |= _assigned(body)
            names |= _assigned(stmt.orelse)
    return names


def _all_values(scope: Scope | None) -> dict:
    found: dict = {}
    while scope is not None:
        found = {**scope.values, **found}
        scope = scope.parent
    return found


def _holds_unknowns(sizes, types: list[TensorType]) -> bool:
    """Whether any of the sizes, or of the sizes of the types' axes and their parts, holds a `Var`."""
    for size in sizes:
        for atom in size.atoms():
            if atom.__class__ is Var:
                return True
    for t in types:
        for axis in t.axes:
            if _holds_unknowns([axis.size], [TensorType(axis.parts)] if axis.parts else []):
                return True
    return False


def _choices(hp: ir.HParam) -> str:
    return ", ".join(f'"{c}"' for c in hp.choices)


def finalize_types(function: ir.Function, solver: Solver, walk: bool = True):
    """Replace solved unknowns everywhere in a checked body; leftovers become run-time sizes.
    Returns the replacement, for sizes kept elsewhere (preconditions).  `walk` False: no node of the
    body holds an unknown (`BodyChecker.unknowns_left`: a call's node is made with its unknowns as
    solved so far, and signatures hold none, as the verifier checks), so there is nothing to replace."""
    final = _Final(solver)
    if walk:
        final.block(function.body)
    return final.size


class _Final:
    """`finalize_types`'s walk (bound methods, not nested closures: a closure that calls itself is a
    reference cycle, garbage only the collector frees, for every body)."""

    def __init__(self, solver: Solver) -> None:
        self.solver = solver
        self.memo: dict[Var, Symbol] = {}
        self.done: dict[Size, tuple[Size, Size]] = {}  # size -> (that size, its final form): sizes repeat

    def size(self, s: Size) -> Size:
        found = self.done.get(s)
        if found is None:
            found = self.done[s] = (s, fresh_symbols(self.solver.resolve(s), self.memo))
        return s if found[1] is found[0] else found[1]  # unchanged stays the very object

    def node(self, node: Value) -> Value:
        return ir.map_node(node, self.size, self.node)

    def block(self, stmts) -> None:
        for stmt in stmts:
            if isinstance(stmt, ir.Assign):
                stmt.value = self.node(stmt.value)
                for target in stmt.targets:
                    target.type = target.type.map(self.size)
            elif isinstance(stmt, ir.Return):
                stmt.values = [self.node(v) for v in stmt.values]
            elif isinstance(stmt, ir.If):
                for body in stmt.bodies:
                    self.block(body)
            else:
                self.block(stmt.body)


def _integral(node: Value) -> bool:
    """Whether a number is an integer wherever it is computed: sizes, integer literals, and their
    sums and products."""
    if isinstance(node, ir.SizeValue):
        return True
    if isinstance(node, ir.Const):
        return isinstance(node.value, int)
    if isinstance(node, ir.Neg):
        return _integral(node.operand)
    if isinstance(node, ir.ScalarBinary):
        return node.op in ("+", "-", "*", "//") and _integral(node.left) and _integral(node.right)
    return False


def _inline_layer(func) -> str | None:
    """The layer of a callee made in place, `Dropout(0.1)(X)` or `Linear[m -> n]()(X)`; else None."""
    if isinstance(func, tree.Call):
        made = func.func.base if isinstance(func.func, tree.Bracket) else func.func
        if isinstance(made, tree.Name) and made.name in ops.LAYERS:
            return made.name
    return None

