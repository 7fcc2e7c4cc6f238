"""Typing the body of a def or a module's forward: statements and expressions to typed IR nodes."""

from __future__ import annotations

from dataclasses import dataclass

from .. import tree, builtins, ir
from ..diagnostics import Diagnostic, NcdcError
from ..ir import SCALAR, Axis, Node, ScalarType, TensorType
from ..sizes import Size, Symbol, Var, format_size, product
from ..source import Span
from .scope import Scope, SizeBinding, check_wire_name, distinct_labels_of, labels_of, size_of
from .numbers import check_constant
from .solver import Solver, fresh_symbols


@dataclass
class Signature:
    """How a callable types: its inputs and outputs over generic sizes.

    `batch` is true for learned parts, which broadcast over any leading axes as PyTorch layers do;
    defs, boxes and modules must be lifted explicitly over extra axes (`F[c](X)`), as the paper draws.
    """

    name: str
    kind: str  # "def", "box", "component"
    inputs: list[TensorType]
    outputs: list[TensorType]
    generics: list[Symbol]
    batch: bool = False
    target: object = None  # the ir.Function, ir.Box or ir.Component called


def fail(code: str, message: str, span: Span | None, label: str = "", notes=(), help: str | None = None):
    raise NcdcError(Diagnostic(code, message, span, label, list(notes), help))


class BodyChecker:
    def __init__(self, program, scope: Scope, solver: Solver, function: ir.Function, name: str):
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

    # ---- statements -------------------------------------------------------------------------

    def block(self, stmts: list, *, top: bool) -> list:
        out = []
        returned = None
        for stmt in stmts:
            if returned is not None:
                fail("E0403", "statement after `return`", stmt.span, "this never runs",
                     notes=[f"the function returns at {returned.location}"])
            if isinstance(stmt, tree.Assign):
                out.append(self.assign(stmt))
            elif isinstance(stmt, tree.Return):
                if not top:
                    fail("E0404", "`return` inside a `for` loop", stmt.span, "not allowed here",
                         help="assign to a wire in the loop and return it after the loop")
                out.append(self.return_(stmt))
                returned = stmt.span
            else:
                out.append(self.for_(stmt))
        if top and returned is None:
            end = stmts[-1].span if stmts else self.function.header
            fail("E0401", f"`{self.title}` does not return", end, "the body ends here without `return`",
                 help="end the body with `return ...` giving " + ", ".join(f"`{t}`" for t in self.function.results))
        return out

    def assign(self, stmt: tree.Assign) -> ir.Assign:
        node = self.expr(stmt.value)
        types = list(node.type) if isinstance(node.type, tuple) else [node.type]
        if len(types) != len(stmt.targets):
            fail("E0402", f"{len(stmt.targets)} names for {len(types)} value{'s' if len(types) != 1 else ''}",
                 stmt.span, f"the right-hand side gives {', '.join(f'`{t}`' for t in types)}")
        for target, t in zip(stmt.targets, types):
            self.bind_wire(target, t)
            if self.unbatched(node):
                self.unbatched_wires.add(target.name)
            else:
                self.unbatched_wires.discard(target.name)
        return ir.Assign([t.name for t in stmt.targets], node, types, stmt.span)

    def bind_wire(self, target: tree.Name, t) -> None:
        name = target.name
        check_wire_name(target, self.scope)
        if self.scope.lookup_component(name) is not None or name in self.program.globals:
            fail("E0105", f"`{name}` already names a box, a def or a learned part", target.span,
                 "a wire cannot reuse it")
        if isinstance(t, ScalarType):
            fail("E0204", "only tensors can be named wires", target.span, "this is a number",
                 help="use the expression where it is needed, or a size")
        self.scope.wires[name] = (t, target.span)

    def return_(self, stmt: tree.Return) -> ir.Return:
        nodes = [self.expr(v) for v in stmt.values]
        types = []
        for node in nodes:
            types.extend(node.type if isinstance(node.type, tuple) else [node.type])
        results = self.function.results
        if len(types) != len(results):
            fail("E0402", f"`{self.title}` returns {len(types)} value{'s' if len(types) != 1 else ''}, "
                 f"its signature says {len(results)}", stmt.span,
                 "returns " + ", ".join(f"`{t}`" for t in types),
                 notes=[f"the signature is at {self.function.header.location}: -> "
                        + ", ".join(str(r) for r in results)])
        spans = [v.span for v in stmt.values] if len(stmt.values) == len(types) else [stmt.span] * len(types)
        for i, (t, expected, span) in enumerate(zip(types, results, spans)):
            what = "the returned value" if len(types) == 1 else f"returned value {i + 1}"
            self.expect_type(expected, t, span, what, declared=True)
        return ir.Return(nodes, stmt.span)

    def for_(self, stmt: tree.For) -> ir.For:
        start = size_of(stmt.start, self.scope)
        stop = size_of(stmt.stop, self.scope)
        var = Symbol(stmt.var.name)
        lo, hi = self.solver.evaluate(start), self.solver.evaluate(stop)
        if lo is not None and hi is not None:
            if hi < lo - 1:
                fail("E0313", f"the range {lo}..{hi} runs backwards", stmt.span, "no turns",
                     help="ranges include both ends: `1..4` is 1, 2, 3, 4")
            self.loop_ranges[var] = (lo, hi)
        inner = self.scope.child()
        inner.sizes[stmt.var.name] = SizeBinding(Size.of(var), stmt.var.span, "loop index")
        # Whether a wire has batch axes may change from one turn to the next: assume it has, and
        # broadcast defensively where it meets a learned tensor.
        assigned = _assigned(stmt.body)
        self.unbatched_wires -= assigned
        self.uncertain_wires |= assigned
        saved = self.scope
        self.scope = inner
        before = {name: t for name, (t, _) in _all_wires(saved).items()}
        body = self.block(stmt.body, top=False)
        self.scope = saved
        # A wire assigned in the loop carries its value into the next turn: its type must not change.
        for name, (t, span) in inner.wires.items():
            if name in before:
                self.expect_type(before[name], t, span, f"`{name}` at the end of the loop body",
                                 declared=True)
                saved.wires[name] = (before[name], saved.lookup_wire(name)[1])
        return ir.For(var, start, stop, body, stmt.span)

    # ---- types --------------------------------------------------------------------------------

    def expect_type(self, expected: TensorType, actual, span: Span, what: str, declared=False,
                    callee: str | None = None) -> None:
        if isinstance(actual, ScalarType):
            fail("E0204", f"{what} is a number, expected a tensor `{expected}`", span, "a number")
        if isinstance(actual, tuple):
            fail("E0402", f"{what} is a tuple of {len(actual)} tensors, expected one `{expected}`", span,
                 "a tuple", help="unpack it first: `a, b = ...`")
        if actual.rank != expected.rank:
            fail("E0202", f"{what} has {actual.rank} ax{'is' if actual.rank == 1 else 'es'}, expected "
                 f"{expected.rank}", span, f"this is `{self.show(actual)}`",
                 notes=[f"expected `{self.show(expected)}`" + (f" ({callee})" if callee else "")])
        for i, (e, a) in enumerate(zip(expected.axes, actual.axes)):
            outcome = self.solver.unify(e.size, a.size, span, f"`{span.text}`" if span.end_line == span.line else "")
            if outcome is not None:
                self.size_error(outcome, e, a, span, f"{what}, axis {i + 1}", expected, actual, callee)
            e_parts = [self.solver.resolve_axis(p).label for p in e.parts]
            a_parts = [self.solver.resolve_axis(p).label for p in a.parts]
            if e_parts and a_parts and all(e_parts + a_parts) and e_parts != a_parts \
                    and sorted(e_parts) == sorted(a_parts):
                fail("E0315", f"{what}, axis {i + 1}, binds its axes in another order: "
                     f"`{self.show(TensorType((a,)))}` where `{self.show(TensorType((e,)))}` is expected", span,
                     "same size, different layout",
                     help="rearrange it first, e.g. `rearrange[(" + " ".join(e_parts) + ")](X: ("
                          + " ".join(a_parts) + "))`")

    def size_error(self, outcome, e: Axis, a: Axis, span: Span, where: str, expected=None, actual=None,
                   callee=None):
        exp, act = self.solver.describe(e.size), self.solver.describe(a.size)
        notes = []
        if expected is not None:
            notes.append(f"expected `{self.show(expected)}`" + (f" ({callee})" if callee else "")
                         + f", found `{self.show(actual)}`")
        notes += self.solver.origin_notes(e.size, a.size)
        if e.origin is not None:
            notes.append(f"`{format_size(e.size)}` is declared at {e.origin.location}")
        if a.origin is not None and a.origin != span:
            notes.append(f"`{format_size(a.size)}` comes from {a.origin.location}")
        if outcome.reason == "mismatch":
            fail("E0301", f"size mismatch in {where}: `{act}` where `{exp}` is expected", span,
                 f"this axis is `{act}`", notes)
        fail("E0302", f"cannot prove that `{act}` equals `{exp}` in {where}", span,
             "these sizes may differ", notes,
             help="the checker proves sizes equal symbolically; give concrete sizes with "
                  "`ncdc check --sizes NAME=VALUE,...` to check them for those values")

    def show(self, t) -> str:
        return str(self.solver.resolve_type(t))

    # ---- expressions ----------------------------------------------------------------------------

    def expr(self, e) -> Node:
        if isinstance(e, tree.Name):
            return self.name(e)
        if isinstance(e, tree.Number):
            return Node("const", [], SCALAR, e.span, {"value": e.value})
        if isinstance(e, tree.BinOp):
            return self.binop(e)
        if isinstance(e, tree.Neg):
            arg = self.expr(e.operand)
            return Node("neg", [arg], arg.type, e.span)
        if isinstance(e, tree.Call):
            return self.call(e)
        if isinstance(e, tree.Bracket):
            return self.index(e)
        if isinstance(e, (tree.String, tree.Bool)):
            fail("E0204", "strings and booleans are options, not values", e.span, "not a tensor or a number")
        fail("E0204", "not an expression", getattr(e, "span", None))

    def name(self, e: tree.Name) -> Node:
        wire = self.scope.lookup_wire(e.name)
        if wire is not None:
            return Node("wire", [], wire[0], e.span, {"name": e.name})
        size = self.scope.lookup_size(e.name)
        if size is not None:
            return Node("size", [], SCALAR, e.span, {"size": size.value})
        component = self.scope.lookup_component(e.name)
        if component is not None and component.kind == "Parameter":
            return Node("parameter", [], component.attrs["type"], e.span, {"name": e.name})
        if self.scope.lookup_component(e.name) is not None or e.name in self.program.globals \
                or e.name in builtins.ALL:
            fail("E0105", f"`{e.name}` is a box, not a wire", e.span, "used as a value",
                 help=f"call it: `{e.name}(...)`")
        candidates = sorted(_all_wires(self.scope))
        fail("E0101", f"unknown name `{e.name}`", e.span, "not defined here",
             notes=[f"wires here: {', '.join(f'`{c}`' for c in candidates)}"] if candidates else [])

    def tensor(self, e, what: str = "argument") -> Node:
        node = self.expr(e)
        if isinstance(node.type, tuple):
            fail("E0402", f"this {what} is a tuple of {len(node.type)} tensors", e.span, "a tuple",
                 help="unpack it first: `a, b = ...`")
        return node

    def binop(self, e: tree.BinOp) -> Node:
        left, right = self.tensor(e.left, "operand"), self.tensor(e.right, "operand")
        lt, rt = left.type, right.type
        if e.op == "**" and not isinstance(rt, ScalarType):
            fail("E0204", "an exponent must be a number", e.right.span, f"this is `{self.show(rt)}`")
        if isinstance(lt, ScalarType) and isinstance(rt, ScalarType):
            node = Node("scalar_binary", [left, right], SCALAR, e.span, {"op": e.op})
            check_constant(node, self.solver)  # `2 ** 2 ** 2 ** 40` would never finish at run time
            return node
        if isinstance(lt, ScalarType) or isinstance(rt, ScalarType):
            return Node("binary", [left, right], rt if isinstance(lt, ScalarType) else lt, e.span,
                        {"op": e.op, "align": None})
        if e.op == "//":
            fail("E0204", "`//` is for sizes; tensors divide with `/`", e.span, "floor division of tensors")
        result, aligns = self.align(left, right, e)
        return Node("binary", [left, right], result, e.span, {"op": e.op, "align": aligns})

    def align(self, left: Node, right: Node, e) -> tuple[TensorType, list]:
        """Elementwise arithmetic on two wires: axes are matched by name, or by position when equal."""
        lt, rt = self.solver.resolve_type(left.type), self.solver.resolve_type(right.type)
        if lt.rank == rt.rank and all(a.label == b.label or a.label is None or b.label is None
                                      for a, b in zip(lt.axes, rt.axes)):
            for i, (a, b) in enumerate(zip(lt.axes, rt.axes)):
                outcome = self.solver.unify(a.size, b.size, e.span)
                if outcome is not None:
                    self.size_error(outcome, a, b, e.right.span, f"`{e.op}`, axis {i + 1}", lt, rt)
            return lt, [None, None]
        big, small, big_first = (lt, rt, True) if lt.rank >= rt.rank else (rt, lt, False)
        labels = [a.label for a in big.axes]
        positions = []
        small_labels = [a.label for a in small.axes]
        for axis in small.axes:
            if axis.label is None or labels.count(axis.label) != 1 or small_labels.count(axis.label) != 1:
                fail("E0309", f"cannot line up `{self.show(small)}` with `{self.show(big)}`", e.span,
                     "elementwise operands", help="elementwise operands need the same axes, or named axes that "
                     "all appear once in the other operand; use einsum or rearrange to line them up")
            j = labels.index(axis.label)
            outcome = self.solver.unify(big.axes[j].size, axis.size, e.span)
            if outcome is not None:
                self.size_error(outcome, big.axes[j], axis, e.span, f"`{e.op}`")
            positions.append(j)
        entry = {"positions": positions, "unbatched": self.unbatched(right if big_first else left)}
        align = [None, entry] if big_first else [entry, None]
        return big, align

    def index(self, e: tree.Bracket) -> Node:
        """`X[2, :]`, `X[0:k]`: indexes and subtensors, on the leading axes of a wire."""
        base = self.tensor(e.base, "indexed value")
        t = self.solver.resolve_type(base.type)
        if isinstance(t, ScalarType):
            fail("E0204", "only tensors can be indexed", e.base.span, "a number")
        if len(e.items) > t.rank:
            fail("E0202", f"{len(e.items)} indexes for a wire with {t.rank} axes", e.span, f"`{self.show(t)}`")
        items, axes = [], []
        for item, axis in zip(e.items, t.axes):
            if isinstance(item, tree.Slice):
                start = size_of(item.start, self.scope) if item.start is not None else Size.of(0)
                stop = size_of(item.stop, self.scope) if item.stop is not None else axis.size
                self.check_bound(start, axis, item.span, inclusive=True)
                self.check_bound(stop, axis, item.span, inclusive=True)
                if item.start is None and item.stop is None:
                    items.append(("all",))
                    axes.append(axis)
                else:
                    for length in self.loop_values(stop - start):
                        if length is not None and length < 1:
                            fail("E0307", f"the slice {start}:{stop} is empty", item.span, "no elements",
                                 help="a slice `a:b` takes the indexes a, ..., b - 1")
                    items.append(("slice", start, stop))
                    axes.append(Axis(stop - start, item.span))
            else:
                if len(item.axes) != 1:
                    fail("E0311", "an index is one size", item.span, "several axes")
                value = size_of(item.axes[0], self.scope)
                self.check_bound(value, axis, item.span, inclusive=False)
                items.append(("index", value))
        axes.extend(t.axes[len(e.items):])
        items.extend(("all",) for _ in t.axes[len(e.items):])
        return Node("index", [base], TensorType(tuple(axes)), e.span, {"items": items})

    def check_bound(self, value: Size, axis: Axis, span: Span, inclusive: bool) -> None:
        n = self.solver.evaluate(axis.size)
        for v in self.loop_values(value):
            if v is not None and (v < 0 or (n is not None and (v > n if inclusive else v >= n))):
                fail("E0307", f"index {v} is out of range for an axis of size {self.solver.describe(axis.size)}",
                     span, "out of range")

    def loop_values(self, value: Size) -> list[int | None]:
        """The values an index takes: itself, or at both ends of the loops whose indexes it uses."""
        loops = [s for s in value.symbols() if s in self.loop_ranges]
        if not loops:
            return [self.solver.evaluate(value)]
        ends = []
        for choice in range(2 ** len(loops)):
            env = {s: Size.of(self.loop_ranges[s][(choice >> i) & 1]) for i, s in enumerate(loops)}
            ends.append(self.solver.evaluate(value.substitute(lambda a: env.get(a))))
        return ends

    # ---- calls ----------------------------------------------------------------------------------

    def call(self, e: tree.Call) -> Node:
        func, brackets = e.func, None
        if isinstance(func, tree.Bracket):
            func, brackets = func.base, func.items
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
            raise NcdcError([])
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
                raise NcdcError([])
            self.callees.add(name)
            if kind == "box":
                self.boxes.add(name)
            return self.apply(signature, brackets, e)
        if name in builtins.ALL:
            return self.builtin(name, brackets, e)
        fail("E0101", f"unknown box `{name}`", func.span, "not defined",
             help="declare it with `box`, `def` or as a learned part of the module")

    def call_component(self, component: ir.Component, brackets, e: tree.Call) -> Node:
        if component.kind == "module":
            self.callees.add(component.attrs["module"])
        if component.kind == "repeat" and brackets is not None:
            if len(brackets) != 1 or isinstance(brackets[0], tree.Slice) or len(brackets[0].axes) != 1:
                fail("E0311", f"index one repetition: `{component.name}[i](...)`", e.func.span, "expected one index")
            index = size_of(brackets[0].axes[0], self.scope)
            signature, position = self.program.instance_signature(component, index, brackets[0].span,
                                                                  self.loop_values)
            node = self.apply(signature, None, e)
            node.attrs["part"], node.attrs["index"] = component.name, position
            return node
        if component.kind == "Parameter":
            fail("E0105", f"`{component.name}` is a learned tensor, not a box", e.func.span, "called here",
                 help=f"use it as a value: `{component.name}`")
        if component.attrs.get("signature") is None:
            reason = component.attrs.get("whole_error")
            fail("E0314", f"the repetitions of `{component.name}` cannot be applied one after another",
                 e.func.span, "called whole",
                 notes=[f"{reason.message}: {reason.label} ({reason.span.location})"] if reason else [],
                 help=f"call one repetition at a time: `{component.name}[i](...)`")
        node = self.apply(component.attrs["signature"], brackets, e)
        node.attrs["part"] = component.name
        return node

    def apply(self, sig: Signature, brackets, e: tree.Call) -> Node:
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
        instance = {g: Size.of(Var(g.name, owner=sig.name)) for g in sig.generics}

        inputs = [t.map(lambda s: s.substitute(instance.get)) for t in sig.inputs]
        outputs = [t.map(lambda s: s.substitute(instance.get)) for t in sig.outputs]
        for arg in e.args:
            if isinstance(arg, tree.Relabel):
                fail("E0311", "axis patterns are for einsum, rearrange and concat", arg.span, "not allowed here")
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
            own_type = TensorType(tuple(t.axes[j] for j in own))
            where = f"argument {i + 1} of `{sig.name}`"
            hint = None
            if len(own) > expected.rank:
                hint = self.lift_hint(sig.name, arg_labels, len(own) - expected.rank, sig.inputs[i])
            try:
                self.expect_type(expected, own_type, arg.span, where, callee=f"`{sig.name}` takes `{expected}`")
            except NcdcError as error:
                if hint and error.diagnostics and error.diagnostics[0].code == "E0202":
                    error.diagnostics[0].help = hint
                raise
            if sig.batch:
                lead_axes = [t.axes[j] for j in lead]
                if batch is None or len(lead_axes) > len(batch):
                    batch = lead_axes
            args.append(node)
            layouts.append({"lifted": positions, "own": own, "lead": lead, "rank": t.rank})
        for label, span in lifted:
            if label not in lift_sizes:
                fail("E0303", f"no argument of `{sig.name}` has an axis `{label}`", span, "nothing to lift over")
        # Lifted axes go back where they were in the first argument carrying them: before or after
        # the callee's own axes.
        before, after = [], []
        for label, _ in lifted:
            for layout in layouts:
                if label in layout["lifted"]:
                    own = layout["own"]
                    (before if own and layout["lifted"][label] < own[0] else after).append(label)
                    break
        if len(outputs) > 1:
            before, after = [l for l, _ in lifted], []
        lead_axes = batch or []
        results = []
        structured = {}
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
            results.append(TensorType(tuple(axes)))
        result_type = results[0] if len(results) == 1 else tuple(results)
        return Node("call", args, result_type, e.span, {
            "callee": sig.name, "callee_kind": sig.kind, "target": sig.target,
            "lifted": [l for l, _ in lifted], "before": before, "after": after,
            "layouts": layouts, "lead": len(lead_axes), "signature": sig,
            "lift_sizes": {label: axis.size for label, axis in lift_sizes.items()},
        })

    def lift_hint(self, name: str, label_lists: list, extra: int, declared: TensorType) -> str | None:
        """Suggest lifting over axes that every argument shares and the callee does not name (the
        usual case: heads)."""
        own = {a.label for a in declared.axes}
        common = [l for l in label_lists[0] if l and l not in own and all(l in ls for ls in label_lists)]
        if len(common) < extra:
            return None
        return f"lift `{name}` over the axes it does not act on: `{name}[{' '.join(common[-extra:])}](...)`"

    # ---- built-in operations --------------------------------------------------------------------

    def builtin(self, name: str, brackets, e: tree.Call) -> Node:
        if name in ("einsum", "rearrange"):
            return self.einsum_like(name, brackets, e)
        if name in ("eye", "η"):  # the paper's unit η
            return self.eye(e)
        if e.options:
            fail("E0203", f"`{name}` takes no options", e.options[0].span, "unexpected option")
        if name == "concat":
            return self.concat(brackets, e)
        if len(e.args) != 1:
            fail("E0201", f"`{name}` takes 1 argument, got {len(e.args)}", e.span, "in this call")
        arg = self.tensor(e.args[0])
        t = self.solver.resolve_type(arg.type)
        if name == "flatten":
            self.no_brackets(name, brackets, e)
            if isinstance(t, ScalarType) or t.rank == 0:
                fail("E0204", "`flatten` needs a tensor with axes", e.args[0].span, "nothing to flatten")
            size = product(t.sizes)
            return Node("flatten", [arg], TensorType((Axis(size, e.span, t.axes),)), e.span, {"count": t.rank})
        if isinstance(t, ScalarType):
            if name in builtins.SCALAR_FUNCTIONS:
                self.no_brackets(name, brackets, e)
                return Node("scalar_fn", [arg], SCALAR, e.span, {"fn": name})
            fail("E0204", f"`{name}` applies to tensors", e.args[0].span, "this is a number")
        if name in builtins.ELEMENTWISE:
            self.no_brackets(name, brackets, e)
            return Node("elementwise", [arg], t, e.span, {"fn": name})
        if name in builtins.NORMALISERS:
            if brackets is None:
                fail("E0311", f"`{name}` needs the axis it normalises: `{name}[x](...)`", e.span,
                     "which axis?", help=f"write `{name}[x](S)` to normalise over the axis `x`")
            dims = self.find_axes(t, brackets, e, name)
            if len(dims) != 1:
                fail("E0311", f"`{name}` normalises over one axis", e.func.span, f"{len(dims)} axes given",
                     help="bind them first with `rearrange`")
            return Node("normalise", [arg], t, e.span, {"fn": name, "dim": dims[0]})
        if name in builtins.REDUCTIONS:
            dims = self.find_axes(t, brackets, e, name) if brackets is not None else list(range(t.rank))
            axes = tuple(a for i, a in enumerate(t.axes) if i not in dims)
            return Node("reduce", [arg], TensorType(axes), e.span, {"fn": name, "dims": dims, "rank": t.rank})
        fail("E0101", f"unknown box `{name}`", e.func.span, "not defined")

    def no_brackets(self, name, brackets, e):
        if brackets is not None:
            fail("E0311", f"`{name}` acts on every axis and takes no axis list", e.func.span, "remove this",
                 help="to act on some axes only, bind them with `rearrange` or lift over the others")

    def find_axes(self, t: TensorType, brackets, e: tree.Call, name: str) -> list[int]:
        if len(brackets) != 1 or isinstance(brackets[0], tree.Slice):
            fail("E0311", f"expected axis names in `{name}[...]`", e.func.span, "not axis names")
        labels = [a.label for a in t.axes]
        dims = []
        for label, span in distinct_labels_of(brackets[0]):
            count = labels.count(label)
            if count == 0:
                fail("E0303", f"`{self.show(t)}` has no axis `{label}`", span, "not an axis of the argument",
                     notes=[f"the argument's axes are `{self.show(t)}`"])
            if count > 1:
                fail("E0304", f"`{label}` names {count} axes of `{self.show(t)}`", span, "ambiguous",
                     help="give the axes distinct names with `rearrange` or `einsum`")
            dims.append(labels.index(label))
        return dims

    def einsum_like(self, name: str, brackets, e: tree.Call) -> Node:
        """`einsum[y x](Q, K)` contracts the axes missing from the output; `rearrange[...]` only moves,
        binds and unbinds them.  `X: a b` names a wire's axes locally."""
        if brackets is None or len(brackets) != 1 or isinstance(brackets[0], tree.Slice):
            fail("E0311", f"`{name}` needs its output axes: `{name}[y x](...)`", e.span, "missing output axes")
        if e.options:
            fail("E0203", f"`{name}` takes no options", e.options[0].span, "unexpected option")
        if not e.args:
            fail("E0201", f"`{name}` needs at least one argument", e.span, "no arguments")
        if name == "rearrange" and len(e.args) != 1:
            fail("E0201", f"`rearrange` takes 1 argument, got {len(e.args)}", e.span, "use einsum for several")
        sizes: dict[str, Axis] = {}
        args, in_labels = [], []
        for arg in e.args:
            value = arg.value if isinstance(arg, tree.Relabel) else arg
            node = self.tensor(value)
            t = self.solver.resolve_type(node.type)
            if isinstance(t, ScalarType):
                fail("E0204", f"arguments of `{name}` are tensors", value.span, "a number")
            if isinstance(arg, tree.Relabel):
                labels = self.pattern(arg, t, sizes)
            else:
                labels = []
                for i, axis in enumerate(t.axes):
                    if axis.label is None:
                        fail("E0312", f"axis {i + 1} of this argument has no name", value.span,
                             f"`{self.show(t)}`", help=f"name its axes: `{name}[...]({value.span.text}: "
                             + " ".join(f"a{j}" for j in range(t.rank)) + ")`")
                    labels.append(axis.label)
                    self.unify_label(axis.label, axis, sizes, value.span)
                    for part in axis.parts:  # a bound axis may be unbound by naming its parts
                        if part.label is not None:
                            self.unify_label(part.label, part, sizes, value.span)
            args.append(node)
            in_labels.append(labels)
        out_labels, out_axes = [], []
        flat_in = [l for labels in in_labels for l in labels]
        for axis_node in brackets[0].axes:
            label_axis = self.output_axis(axis_node, sizes, name, e)
            out_labels.append(label_axis[0])
            out_axes.append(label_axis[1])
        # A bound axis whose parts, not itself, appear in the output is unbound.
        out_leaves = set(_leaves(out_labels))
        for labels, node in zip(in_labels, args):
            axes = self.solver.resolve_type(node.type).axes
            for i, label in enumerate(labels):
                if isinstance(label, str) and label not in out_leaves and axes[i].parts \
                        and any(p.label in out_leaves for p in axes[i].parts):
                    labels[i] = tuple(p.label for p in axes[i].parts)
        flat_in = [l for labels in in_labels for l in labels]
        seen = set()
        for label, axis_node in zip(out_labels, brackets[0].axes):
            if label in seen:
                fail("E0306", f"`{label}` appears twice in the output of `{name}`", axis_node.span, "repeated")
            seen.add(label)
        if name == "rearrange":
            leaves_in = _leaves(flat_in)
            leaves_out = _leaves(out_labels)
            if sorted(leaves_in) != sorted(leaves_out):
                missing = [l for l in leaves_in if l not in leaves_out]
                fail("E0306", "`rearrange` must keep every axis" if missing else
                     "`rearrange` cannot create axes", brackets[0].span,
                     f"missing {', '.join(f'`{m}`' for m in missing)}" if missing else "new axes",
                     help="use `sum[...]` or `einsum` to contract axes")
        return Node(name, args, TensorType(tuple(out_axes)), e.span,
                    {"inputs": in_labels, "output": out_labels,
                     "sizes": {label: axis.size for label, axis in sizes.items()}})

    def pattern(self, arg: tree.Relabel, t: TensorType, sizes: dict) -> list[str]:
        if len(arg.type.axes) != t.rank:
            fail("E0202", f"the pattern names {len(arg.type.axes)} axes, the wire has {t.rank}", arg.type.span,
                 f"the wire is `{self.show(t)}`")
        labels = []
        for axis_node, axis in zip(arg.type.axes, t.axes):
            group = axis_node.items if isinstance(axis_node, tree.SizeGroup) and len(axis_node.items) > 1 else None
            if group is None:
                (label, span), = labels_of(tree.TensorTypeNode([axis_node], axis_node.span))
                self.match_size_name(label, axis, span)
                self.unify_label(label, Axis(axis.size, axis_node.span, axis.parts), sizes, axis_node.span)
                labels.append(label)
                continue
            # Unbinding `(k h)`: every part but one must have a known size.
            parts = [labels_of(tree.TensorTypeNode([p], p.span))[0] for p in group]
            if len(axis.parts) == len(parts):  # a bound axis knows its parts: `(a b)` unbinds to them
                for (label, span), part in zip(parts, axis.parts):
                    if self.label_size(label, sizes) is None:
                        sizes[label] = Axis(part.size, span)
            known = Size.of(1)
            unknown = None
            for label, span in parts:
                size = self.label_size(label, sizes)
                if size is None:
                    if unknown is not None:
                        fail("E0305", f"cannot tell the sizes of `{unknown}` and `{label}` apart", span,
                             "two unknown parts", help="name them after sizes in scope")
                    unknown = label
                else:
                    known = known * size
            if unknown is not None:
                quotient = axis.size // known
                if not self.solver.equal(quotient * known, axis.size):
                    fail("E0305", f"`{self.solver.describe(axis.size)}` is not a multiple of "
                         f"`{self.solver.describe(known)}`", axis_node.span, "cannot unbind")
                sizes[unknown] = Axis(quotient, axis_node.span)
            else:
                outcome = self.solver.unify(known, axis.size, axis_node.span)
                if outcome is not None:
                    self.size_error(outcome, Axis(known, axis_node.span), axis, axis_node.span, "this pattern")
            for label, span in parts:
                self.unify_label(label, Axis(self.label_size(label, sizes), span), sizes, span)
            labels.append(tuple(label for label, _ in parts))
        return labels

    def match_size_name(self, label: str, axis: Axis, span: Span) -> None:
        """A pattern may rename axes freely, but a name that is a size here means that size."""
        binding = self.scope.lookup_size(label)
        if binding is None:
            return
        outcome = self.solver.unify(binding.value, axis.size, span)
        if outcome is not None:
            self.size_error(outcome, Axis(binding.value, binding.span), axis, span, f"the pattern's axis `{label}`")

    def label_size(self, label: str, sizes: dict) -> Size | None:
        if label in sizes:
            return sizes[label].size
        binding = self.scope.lookup_size(label)
        return binding.value if binding is not None else None

    def unify_label(self, label, axis: Axis, sizes: dict, span: Span) -> None:
        if label not in sizes:
            sizes[label] = axis
            return
        outcome = self.solver.unify(sizes[label].size, axis.size, span)
        if outcome is not None:
            first = sizes[label]
            exp, act = self.solver.describe(first.size), self.solver.describe(axis.size)
            notes = self.solver.origin_notes(first.size, axis.size)
            if first.origin is not None:
                notes.append(f"`{label}` is `{exp}` as given at {first.origin.location}")
            code, verb = ("E0301", "has two sizes") if outcome.reason == "mismatch" else ("E0302", "may have two sizes")
            fail(code, f"axis `{label}` {verb}: `{exp}` and `{act}`", span, f"`{label}` is `{act}` here", notes,
                 help="axes with one name are one axis; name the arguments' axes apart with a pattern "
                      "(`X: a b`) if they are different axes")

    def output_axis(self, node: tree.SizeNode, sizes: dict, name: str, e) -> tuple:
        whole = labels_of(tree.TensorTypeNode([node], node.span))[0][0] if _named(node) else None
        if whole in sizes:  # a bound axis of an argument, kept bound: `(Y1 Y2)`
            return whole, sizes[whole]
        if isinstance(node, tree.SizeGroup) and len(node.items) > 1:
            parts = [self.output_axis(p, sizes, name, e) for p in node.items]
            return tuple(p[0] for p in parts), Axis(product(a.size for _, a in parts), node.span,
                                                    tuple(a for _, a in parts))
        (label, span), = labels_of(tree.TensorTypeNode([node], node.span))
        if label not in sizes:
            fail("E0306", f"`{label}` is not an axis of the arguments of `{name}`", span, "unknown axis",
                 notes=["the arguments have " + ", ".join(f"`{l}`" for l in sizes)])
        return label, Axis(sizes[label].size, sizes[label].origin, sizes[label].parts)

    def concat(self, brackets, e: tree.Call) -> Node:
        """`concat[c](A, B)`: join wires along the axis named `c` (its size is the sum); the other
        axes must match.  Patterns name the axes where the wires do not: `concat[t](C: t m, P: t m)`."""
        if brackets is None or len(brackets) != 1 or isinstance(brackets[0], tree.Slice):
            fail("E0311", "`concat` needs the axis to join along: `concat[c](A, B)`", e.span, "which axis?")
        names = distinct_labels_of(brackets[0])
        if len(names) != 1:
            fail("E0311", "`concat` joins along one axis", brackets[0].span, f"{len(names)} axes")
        label, label_span = names[0]
        if len(e.args) < 2:
            fail("E0201", "`concat` joins at least two wires", e.span, f"{len(e.args)} given")
        nodes, types, dims = [], [], []
        for arg in e.args:
            value = arg.value if isinstance(arg, tree.Relabel) else arg
            node = self.tensor(value)
            t = self.solver.resolve_type(node.type)
            if isinstance(t, ScalarType):
                fail("E0204", "`concat` joins tensors", value.span, "a number")
            labels = self.pattern(arg, t, {}) if isinstance(arg, tree.Relabel) else [a.label for a in t.axes]
            if labels.count(label) != 1:
                code, what = ("E0303", "has no axis") if label not in labels else ("E0304", "has several axes")
                named = " ".join("(" + " ".join(l) + ")" if isinstance(l, tuple) else str(l) for l in labels)
                shown = f"`{named}`" + (f" (`{self.show(t)}`)" if isinstance(arg, tree.Relabel) else "")
                fail(code, f"{shown} {what} `{label}`", arg.span, "joined along `" + label + "`",
                     help=f"name its axes with a pattern: `concat[{label}]({value.span.text}: ...)`")
            nodes.append(node)
            types.append(t)
            dims.append(labels.index(label))
        first, dim = types[0], dims[0]
        total = first.axes[dim].size
        for arg, t, d in zip(e.args[1:], types[1:], dims[1:]):
            if t.rank != first.rank or d != dim:
                fail("E0202", "`concat` needs wires of the same rank, joined at the same position", arg.span,
                     f"this is `{self.show(t)}`", notes=[f"the first is `{self.show(first)}`"])
            for i, (a, b) in enumerate(zip(first.axes, t.axes)):
                if i == dim:
                    continue
                outcome = self.solver.unify(a.size, b.size, arg.span)
                if outcome is not None:
                    self.size_error(outcome, a, b, arg.span, f"`concat`, axis {i + 1}", first, t,
                                    callee=f"wires are joined along `{label}` only")
            total = total + t.axes[dim].size
        axes = list(first.axes)
        axes[dim] = Axis(total, e.span)
        unbatched = [self.unbatched(n) for n in nodes]
        uncertain = any(n.kind == "wire" and n.attrs["name"] in self.uncertain_wires for n in nodes)
        return Node("concat", nodes, TensorType(tuple(axes)), e.span,
                    {"dim": dim, "rank": first.rank,
                     "broadcast": uncertain or (any(unbatched) and not all(unbatched))})

    def unbatched(self, node: Node) -> bool:
        """True for values with no leading batch axes at run time: learned tensors, the unit, numbers."""
        if node.kind in ("parameter", "eye", "const", "size"):
            return True
        if node.kind == "wire":
            return node.attrs["name"] in self.unbatched_wires
        return bool(node.args) and node.kind != "call" and all(self.unbatched(a) for a in node.args)

    def eye(self, e: tree.Call) -> Node:
        if len(e.args) != 1 or not isinstance(e.args[0], tree.Name):
            fail("E0201", "`eye` takes one size: `eye(b)` is the unit of shape `b b`", e.span, "expected a size")
        binding = self.scope.lookup_size(e.args[0].name)
        if binding is None:
            fail("E0104", f"unknown size `{e.args[0].name}`", e.args[0].span, "not a size")
        axis = Axis(binding.value, e.args[0].span)
        return Node("eye", [], TensorType((axis, axis)), e.span, {"size": binding.value})


def _all_wires(scope: Scope) -> dict:
    out = {}
    chain = []
    while scope is not None:
        chain.append(scope)
        scope = scope.parent
    for s in reversed(chain):
        out.update(s.wires)
    return out


def _assigned(stmts) -> set[str]:
    """The wires a block assigns, loops within it included."""
    names = set()
    for stmt in stmts:
        if isinstance(stmt, tree.Assign):
            names.update(t.name for t in stmt.targets)
        elif isinstance(stmt, tree.For):
            names |= _assigned(stmt.body)
    return names


def _named(node) -> bool:
    if isinstance(node, tree.SizeName):
        return True
    return isinstance(node, tree.SizeGroup) and all(_named(i) for i in node.items)


def _leaves(labels) -> list[str]:
    out = []
    for label in labels:
        out.extend(label if isinstance(label, tuple) else [label])
    return out


def finalize_types(function: ir.Function, solver: Solver) -> None:
    """Replace solved unknowns everywhere in a checked body; leftovers become run-time sizes."""
    memo: dict[Var, Symbol] = {}

    def fix_type(t):
        if isinstance(t, tuple):
            return tuple(fix_type(x) for x in t)
        if isinstance(t, ScalarType):
            return t
        return t.map(lambda s: fresh_symbols(solver.resolve(s), memo))

    def fix_node(node: Node) -> None:
        node.type = fix_type(node.type)
        for arg in node.args:
            fix_node(arg)
        if "size" in node.attrs and node.kind in ("size", "eye"):
            node.attrs["size"] = fresh_symbols(solver.resolve(node.attrs["size"]), memo)
        if node.kind in ("einsum", "rearrange"):
            node.attrs["sizes"] = {k: fresh_symbols(solver.resolve(v), memo) for k, v in node.attrs["sizes"].items()}
        if "lift_sizes" in node.attrs:
            node.attrs["lift_sizes"] = {k: fresh_symbols(solver.resolve(v), memo)
                                        for k, v in node.attrs["lift_sizes"].items()}
        if node.kind == "index":
            node.attrs["items"] = [(item[0], *(fresh_symbols(solver.resolve(s), memo) for s in item[1:]))
                                   for item in node.attrs["items"]]

    def fix_block(stmts) -> None:
        for stmt in stmts:
            if isinstance(stmt, ir.Assign):
                fix_node(stmt.value)
                stmt.types = [fix_type(t) for t in stmt.types]
            elif isinstance(stmt, ir.Return):
                for v in stmt.values:
                    fix_node(v)
            else:
                fix_block(stmt.body)

    fix_block(function.body)
