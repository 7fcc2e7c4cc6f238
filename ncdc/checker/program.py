"""Checking a whole spec: declarations first (every signature), then bodies, then modules' parts."""

from __future__ import annotations

from .. import ir, ops, tree
from ..diagnostics import AlreadyReported, Diagnostic, Label, NcdcError, fail
from ..ir import Axis, Signature, TensorType
from ..names import python_name, reserved_reason
from ..nodes import replace
from ..ops.layers import LAYERS, REQUIRED, option_spans, read_values
from ..sizes import FloorDiv, Size, Symbol, Var, format_size
from ..source import Span
from .body import BodyChecker, did_you_mean, finalize_types
from .bounds import FALSE, TRUE, Decider, decide_comparison
from .scope import MAX_SIZE, Scope, SizeBinding, check_wire_name, size_of, type_of
from .solver import Solver

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2.4 ms of `import ncdc`)
if TYPE_CHECKING:
    from typing import Any, Iterator


MAX_UNROLLED = 256  # repetitions over a longer fixed range are checked once, for a symbolic index


class ProgramChecker:
    def __init__(self, path: str, concrete: dict[str, int] | None = None):
        self.path = path
        self.concrete = concrete or {}
        self.diagnostics: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []  # do not fail the check; reported beside the errors
        self.scope = Scope()
        self.globals: dict[str, tuple[str, Any]] = {}
        self.folded: dict[str, str] = {}  # python_name(n) -> the first global n that folds to it
        self.claimed: dict[str, Span] = {}  # where each global name is defined: for "first defined here"
        self.signatures: dict[str, Signature | None] = {}
        self.definitions: dict[Symbol, Size] = {}  # named sizes: constants and modules' derived sizes
        self.callees: dict[str, set[str]] = {}
        self.direct_boxes: dict[str, set[str]] = {}
        self.pattern_defaults: dict[Symbol, int | None] = {}  # size hyperparameters' defaults, for patterns
        self.constants: list[ir.SizeMember] = []
        self.boxes: list[ir.Box] = []
        self.functions: list[ir.Function] = []
        self.modules: list[ir.Module] = []
        self.order: list[str] = []
        self.failed: set[str] = set()
        self.module: ir.Module | None = None  # the module whose parts are being built
        self.repeat_loops: list[ir.LoopRange] = []  # the repetitions over a symbolic range around a part

    # ---- driver ---------------------------------------------------------------------------------

    def check(self, program: tree.Program) -> ir.Program:
        headers = []
        for item in program.items:
            before = len(self.diagnostics)
            self.guard(lambda: headers.append((item, self.declare(item))))
            if len(self.diagnostics) > before and not isinstance(item, tree.SizeDecl):
                self.failed.add(item.name.name)  # uses of it elsewhere are not errors of their own
        for item, target in headers:
            if isinstance(item, tree.DefDecl):
                self.guard(lambda: self.check_def(item, target), item.name.name)
            elif isinstance(item, tree.ModuleDecl):
                self.guard(lambda: self.check_module(item, target), item.name.name)
        if not self.diagnostics:
            self.check_recursion(program)
        self.collect_boxes()
        if self.diagnostics:
            raise NcdcError(self.diagnostics + self.warnings)
        return ir.Program(self.path, self.constants, self.boxes, self.functions, self.modules, self.order,
                          self.warnings)

    def warn(self, diagnostic: Diagnostic) -> None:
        """Record a warning once (a repetition's body or a loop may be checked several times)."""
        diagnostic.severity = "warning"
        key = (diagnostic.code, diagnostic.span)
        if all((w.code, w.span) != key for w in self.warnings):
            self.warnings.append(diagnostic)

    def guard(self, step, name: str | None = None) -> None:
        try:
            step()
        except (NcdcError, AlreadyReported) as error:
            if isinstance(error, NcdcError):
                self.diagnostics.extend(error.diagnostics)
            if name is not None:
                self.signatures[name] = None

    def signature_of(self, name: str) -> Signature | None:
        return None if name in self.failed else self.signatures.get(name)

    def solver(self) -> Solver:
        return Solver(self.definitions, self.concrete)

    # ---- pass 1: declarations ---------------------------------------------------------------------

    def claim(self, name: tree.Name, kind: str, target) -> None:
        reason = reserved_reason(name.name, shadows_builtin=True)
        if reason:
            fail("E0102", f"`{name.name}` cannot be used as a name: {reason}", name.span, "reserved",
                 help="choose another name")
        folded = python_name(name.name)
        if folded in self.folded and name.name not in self.globals:
            other = self.folded[folded]
            fail("E0103", f"`{name.name}` and `{other}` are the same name in Python", name.span,
                 "Python folds these names (NFKC)", help="choose names that differ in more than their form")
        if name.name in self.globals or ops.is_builtin(name.name):
            previous = self.globals.get(name.name)
            notes, labels = [], []
            if name.name in self.claimed:
                labels.append(Label(self.claimed[name.name], f"`{name.name}` is first defined here"))
            elif previous is None:
                notes.append(f"`{name.name}` is a built-in operation")
            fail("E0103", f"`{name.name}` is defined twice", name.span, "defined again here", notes, labels=labels)
        self.globals[name.name] = (kind, target)
        self.folded.setdefault(folded, name.name)
        self.claimed[name.name] = name.span

    def declare(self, item):
        if isinstance(item, tree.SizeDecl):
            return self.declare_size(item)
        if isinstance(item, tree.BoxDecl):
            return self.declare_box(item)
        if isinstance(item, tree.DefDecl):
            return self.declare_def(item, self.scope)
        return self.declare_module(item)

    def declare_size(self, item: tree.SizeDecl):
        value = size_of(item.value, self.scope)
        number = self.solver().evaluate(value)
        if number is None or number <= 0:
            fail("E0313", f"`size {item.name.name}` must be a positive integer", item.value.span,
                 f"this is `{value}`")
        symbol = Symbol(item.name.name)
        member = ir.SizeMember(item.name.name, symbol, Size.of(number), item.span)
        self.claim(item.name, "size", member)
        self.definitions[symbol] = Size.of(number)
        self.scope.sizes[item.name.name] = SizeBinding(Size.of(symbol), item.name.span, "constant", number)
        self.constants.append(member)

    def declare_box(self, item: tree.BoxDecl):
        scope = self.scope.child()
        generics: list[Symbol] = []
        inputs = [type_of(t, scope, generics) for t in item.signature.inputs]
        outputs = [type_of(t, scope, generics) for t in item.signature.outputs]
        box = ir.Box(item.name.name, inputs, outputs, generics, item.span)
        self.claim(item.name, "box", box)
        self.boxes.append(box)
        self.order.append(box.name)
        self.signatures[box.name] = Signature(box.name, "box", inputs, outputs, generics, target=box)
        return box

    def declare_def(self, item: tree.DefDecl, parent: Scope, claim: bool = True):
        scope = parent.child()
        generics: list[Symbol] = []
        params: list[ir.Param] = []
        for p in item.params:
            if any(q.name == p.name.name for q in params):
                fail("E0103", f"parameter `{p.name.name}` is declared twice", p.name.span, "repeated")
            params.append(ir.Param(p.name.name, type_of(p.type, scope, generics), p.span))
        results = [type_of(t, scope, generics) for t in item.results]
        for p in item.params:
            check_wire_name(p.name, scope)
        self.check_readable(params, generics)
        function = ir.Function(item.name.name, params, results, generics, [], item.span, item.header)
        if claim:
            self.claim(item.name, "def", function)
            self.order.append(function.name)
            self.signatures[function.name] = Signature(function.name, "def", [p.type for p in params], results,
                                                       generics, target=function)
        return function, scope

    def check_readable(self, params: list[ir.Param], generics: list[Symbol]) -> None:
        """Every generic size of the inputs must be readable off their shapes at run time."""
        first_seen: dict[Symbol, Span] = {}
        generic = set(generics)
        mentioned: set[Symbol] = set()
        for p in params:
            for axis in p.type.axes:
                symbols = _axis_symbols(axis)
                mentioned |= symbols
                for symbol in sorted(symbols & generic, key=lambda s: s.uid):
                    first_seen.setdefault(symbol, axis.origin or p.span)
        used = list(first_seen)
        known = mentioned - generic
        read = {s.symbol for s in ir.size_sources([p.type for p in params], used, known)}
        for symbol in used:
            if symbol not in read:
                fail("E0305", f"the size `{symbol.name}` cannot be read off the inputs", first_seen[symbol],
                     f"`{symbol.name}` only appears inside an expression or a bound axis here",
                     help=f"give some input an axis that is `{symbol.name}` or a multiple of it, "
                          f"e.g. `X: {symbol.name} ...` or `(16 * {symbol.name})`")

    def default_size(self, hp: tree.HParam, item: tree.ModuleDecl, before: list[ir.HParam],
                     scope: Scope) -> tuple[Size, int | None]:
        """`n_inner=4 * n_embd`: the default as a size of the size hyperparameters before it (and the
        spec's constants), and its value from their defaults (None where one has none)."""
        assert hp.default_size is not None
        names = [h.name.name for h in item.hparams]
        later = set(names[names.index(hp.name.name):])
        for name in _size_names(hp.default_size):
            if name.name in later:
                itself = name.name == hp.name.name
                what = "itself" if itself else f"`{name.name}`, a later hyperparameter"
                fail("E0385", f"the default of `{hp.name.name}` refers to {what}", name.span,
                     "a default of itself" if itself else "not declared before it",
                     help="a default may use only the size hyperparameters before it" +
                          ("" if itself else f"; move `{name.name}` before `{hp.name.name}`"))
            if name.name in scope.values:
                fail("E0385", f"the default of `{hp.name.name}` refers to `{name.name}`, which is not a size",
                     name.span, f"a {scope.values[name.name].kind} hyperparameter")
        value = size_of(hp.default_size, scope)
        env: dict = {c.symbol: c.value.constant for c in self.constants if c.value.constant is not None}
        env.update({h.symbol: h.default for h in before if h.kind == "size" and isinstance(h.default, int)})
        try:
            default = value.evaluate(env)
        except ZeroDivisionError:
            fail("E0313", f"the default of `{hp.name.name}` divides by zero", hp.default_size.span,
                 "with the defaults before it")
        return value, default

    def declare_module(self, item: tree.ModuleDecl):
        scope = self.scope.child()
        hparams: list[ir.HParam] = []
        patterns: list[ir.SizeMember] = []
        defaulted: list[ir.Precondition] = []  # sizes whose default expression may not be positive
        for hp in item.hparams:
            reason = reserved_reason(hp.name.name, module_attribute=True, shadows_builtin=True)
            if reason:
                fail("E0102", f"`{hp.name.name}` cannot be a hyperparameter: {reason}", hp.name.span, "reserved")
            if python_name(hp.name.name) in {python_name(n) for n in [*scope.sizes, *scope.values]}:
                fail("E0103", f"hyperparameter `{hp.name.name}` is declared twice", hp.name.span, "repeated",
                     notes=["Python folds names (NFKC): names that differ only in form are the same"])
            if hp.kind != "size":
                scope.values[hp.name.name] = value_hparam(hp)
                hparams.append(scope.values[hp.name.name])
                continue
            assert not isinstance(hp.default, (float, str))  # the grammar gives a size an integer default
            default, default_size = hp.default, None
            if hp.default_size is not None:
                default_size, default = self.default_size(hp, item, hparams, scope)
            if default is not None and default > MAX_SIZE:
                fail("E0313", f"the default of `{hp.name.name}` is too large", hp.span, "more than 2**62")
            if default is not None and default < 1:
                fail("E0313", f"the default of `{hp.name.name}` must be a positive size", hp.span, "out of range",
                     notes=[f"`{format_size(default_size)}` is {default} with the defaults before it"]
                     if default_size is not None else [])
            symbol = Symbol(hp.name.name)
            self.pattern_defaults[symbol] = default
            scope.sizes[hp.name.name] = SizeBinding(Size.of(symbol), hp.name.span, "hyperparameter")
            hparams.append(ir.HParam(hp.name.name, symbol, default, hp.span, default_size=default_size))
            at_least_one = ir.Comparison(default_size, ">=", Size.of(1)) if default_size is not None else None
            if at_least_one is not None and decide_comparison(at_least_one) is not True:
                # `k=n - 4` is no size for n <= 4: the constructor checks the value it takes
                defaulted.append(ir.Precondition((ir.Comparison(Size.of(symbol), ">=", Size.of(1)),), hp.span,
                                                 f"`{hp.name.name}` is a size, at least 1"))
            if hp.pattern is not None:
                patterns.append(self.pattern(hp, symbol, scope))
                hparams[-1].multiple = _factor(patterns[-1])
        seen_default = False
        for declared in hparams:
            has_default = declared.default is not None or declared.default_size is not None
            if not has_default and seen_default:
                fail("E0201", f"hyperparameter `{declared.name}` needs a default: the ones before it have one",
                     declared.span, "no default",
                     help=f"give it one, `{declared.name}=...`, or move it before the others")
            seen_default |= has_default
        members: list = patterns[:]  # the sizes patterns name (`n` of `m: (2 * n)`), derived first
        derived: list[ir.Precondition] = []  # derived sizes the checker cannot prove positive
        scope.later = {m.name.name: m.name.span for m in item.members
                       if isinstance(m, tree.Member) and isinstance(m.value, tree.SizeNode)}
        for member in item.members:
            self.check_member_name(member.name, scope, members)
            if isinstance(member, tree.BufferDecl):
                members.append(member)  # typed in pass 2, with the parts before it
            elif isinstance(member.value, tree.SizeNode):
                scope.later.pop(member.name.name, None)
                value = size_of(member.value, scope)
                symbol = Symbol(member.name.name)
                self.definitions[symbol] = value
                scope.sizes[member.name.name] = SizeBinding(Size.of(symbol), member.name.span, "derived size")
                members.append(ir.SizeMember(member.name.name, symbol, value, member.span))
                at_least_one = ir.Comparison(Size.of(symbol), ">=", Size.of(1))
                if decide_comparison(ir.Comparison(value, ">=", Size.of(1))) is not True:
                    # the checker takes every size to be positive: `n1 // 4` is 0 for n1 < 4
                    reason = f"`{member.name.name} = {format_size(value)}` is a size, at least 1"
                    derived.append(ir.Precondition((at_least_one,), member.span, reason))
            else:
                members.append(member)  # learned parts are built in pass 2, once every module is declared
        forwards = [m for m in item.methods if m.name.name == "forward"]
        others = [m for m in item.methods if m.name.name != "forward"]
        if others:
            fail("E0501", "a module defines only `forward`", others[0].name.span, "another method",
                 help="define helpers as top-level `def`s")
        if len(forwards) != 1:
            span = forwards[1].name.span if forwards else item.header
            fail("E0501", f"module `{item.name.name}` needs exactly one `def forward`", span,
                 "missing `forward`" if not forwards else "a second `forward`")
        forward, fscope = self.declare_def(forwards[0], scope, claim=False)
        module = ir.Module(item.name.name, hparams, members, forward, item.span, item.header)
        for half in patterns:  # checked when the module is built, whatever the solver can prove
            factor = _factor(half)
            whole = next(iter(s for s in half.value.symbols() if s not in Size.of(factor).symbols()))
            module.preconditions.append(ir.Precondition(
                (ir.Comparison(Size.of(whole), "%", Size.of(factor)),), half.span,
                f"`{whole.name}: ({factor} * {half.name})` is a multiple of {factor}"))
        module.preconditions[:0] = defaulted
        module.preconditions.extend(derived)
        self.claim(item.name, "module", module)
        self.order.append(module.name)
        self.modules.append(module)
        return module, scope, fscope

    def pattern(self, hp: tree.HParam, symbol: Symbol, scope: Scope) -> ir.SizeMember:
        """`m: (2 * n)`: `n` is a new size, `m // 2`, and `m` is known to be `2 * n` wherever sizes are
        compared; the constructor checks that `m` is a multiple of 2."""
        node = hp.pattern
        while isinstance(node, tree.SizeGroup) and len(node.items) == 1:
            node = node.items[0]
        operands = [node.left, node.right] if isinstance(node, tree.SizeBinary) and node.op == "*" else []
        names = [o for o in operands if isinstance(o, tree.SizeName)]
        numbers = [o for o in operands if isinstance(o, tree.SizeInt)]
        known = [o for o in names if scope.lookup_size(o.name) is not None]
        factor: int | Symbol | None = None
        if len(names) == 1 and len(numbers) == 1 and numbers[0].value >= 2:
            name, factor, shown = names[0], numbers[0].value, str(numbers[0].value)
        elif len(names) == 2 and len(known) == 1:  # `h: (n * g)`: a multiple of the size n, declared before
            name = names[1] if known[0] is names[0] else names[0]
            factor_binding = scope.lookup_size(known[0].name)
            atom = factor_binding.value.atom if factor_binding is not None else None
            factor, shown = (atom if isinstance(atom, Symbol) else None), known[0].name
        if factor is None:
            fail("E0327", "a size hyperparameter's pattern is a multiple of a new size, such as `(2 * n)` or "
                 "`(k * n)` with a size `k` declared before", hp.pattern.span if hp.pattern is not None else hp.span,
                 "not a multiple of one new name")
        if scope.lookup_size(name.name) is not None or name.name in scope.values:
            fail("E0327", f"the pattern names a new size; `{name.name}` is already one", name.span, "not new")
        by = factor if isinstance(factor, int) else self.default_of(factor)
        if hp.default is not None and isinstance(hp.default, int) and by and hp.default % by:
            fail("E0327", f"the default of `{hp.name.name}` must be a multiple of {by}", hp.span,
                 f"{hp.default} is not", help=f"`{hp.name.name}: ({shown} * {name.name})` says it is")
        half = Symbol(name.name)
        self.definitions[symbol] = Size.of(factor) * Size.of(half)
        scope.sizes[name.name] = SizeBinding(Size.of(half), name.span, "derived size")
        return ir.SizeMember(name.name, half, Size.of(symbol) // Size.of(factor), hp.span)

    def default_of(self, symbol: Symbol) -> int | None:
        """The default of the size hyperparameter `symbol` of the module being declared, if it has one."""
        return self.pattern_defaults.get(symbol)

    def check_member_name(self, name: tree.Name, scope: Scope, members) -> None:
        reason = reserved_reason(name.name, module_attribute=True)
        if reason:
            fail("E0102", f"`{name.name}` cannot name a part of a module: {reason}", name.span, "reserved",
                 help="choose another name")
        declared = (tree.Member, tree.BufferDecl)
        taken = [m.name.name if isinstance(m, declared) else m.name for m in members] + list(scope.sizes) \
            + list(scope.values)
        if python_name(name.name) in {python_name(n) for n in taken}:
            fail("E0103", f"`{name.name}` is declared twice in this module", name.span, "repeated")

    # ---- pass 2: bodies -----------------------------------------------------------------------

    def check_def(self, item: tree.DefDecl, target) -> None:
        function, scope = target
        self.check_body(function, item, scope)
        self.functions.append(function)

    def check_body(self, function: ir.Function, item: tree.DefDecl, scope: Scope,
                   module: ir.Module | None = None) -> None:
        """Type a def's body, or a module's forward (of `module`, named in messages too)."""
        owner = module.name if module is not None else None
        body_scope = scope.child()
        for p in function.params:
            body_scope.wires[p.name] = (p, p.type)
        solver = self.solver()
        known = {c.symbol for c in self.constants}  # sizes known before the body runs
        if module is not None:
            known |= {hp.symbol for hp in module.hparams}
            known |= {m.symbol for m in module.members if isinstance(m, ir.SizeMember)}
        checker = BodyChecker(self, body_scope, solver, function, owner or function.name, known)
        function.body = checker.block(item.body, top=True)
        fix = finalize_types(function, solver, walk=checker.unknowns_left)
        checker.settle(fix, module, known)
        self.callees[owner or function.name] = checker.callees
        self.direct_boxes[owner or function.name] = checker.boxes

    def check_module(self, item: tree.ModuleDecl, target) -> None:
        module, scope, fscope = target
        self.module = module
        members: list = []
        callees: set[str] = set()  # what the buffers' computations call, and their boxes
        boxes: set[str] = set()
        # Each part and buffer sees the derived sizes above it only (`__init__` builds them in order).
        below = {m.name: scope.sizes.pop(m.name) for m in module.members if isinstance(m, ir.SizeMember)}
        scope.later = {name: binding.span for name, binding in below.items() if binding.span is not None}
        for member in module.members:
            if isinstance(member, ir.SizeMember):
                scope.sizes[member.name] = below[member.name]
                scope.later.pop(member.name, None)
            if isinstance(member, tree.BufferDecl):
                buffer, checker = self.buffer(member, scope, module)
                scope.buffers[buffer.name] = buffer
                members.append(buffer)
                callees |= checker.callees
                boxes |= checker.boxes
            elif isinstance(member, tree.Member):
                component = self.component(member.value, scope, member.name.name)
                component.span = member.span
                scope.components[member.name.name] = component
                members.append(component)
            else:
                members.append(member)
        module.members = members
        scope.later = {}
        declared = next(m for m in item.methods if m.name.name == "forward")
        self.check_body(module.forward, declared, fscope, module)
        self.callees[module.name] |= _module_callees(module) | callees
        self.direct_boxes[module.name] |= boxes

    def buffer(self, member: tree.BufferDecl, scope: Scope, module: ir.Module) -> tuple[ir.Buffer, BodyChecker]:
        """`buffer pe = ...`: typed as the body of a def without inputs, which sees the module's sizes,
        hyperparameters and the buffers before it; what it cannot prove is checked at construction."""
        name = member.name.name
        function = ir.Function(f"{module.name}.{name}", [], [], [])
        known = {c.symbol for c in self.constants} | {hp.symbol for hp in module.hparams}
        known |= {m.symbol for m in module.members if isinstance(m, ir.SizeMember)}
        solver = self.solver()
        checker = BodyChecker(self, scope.child(), solver, function, module.name, known)
        value = checker.tensor(member.value, "buffer")
        if not isinstance(value.type, TensorType):
            fail("E0351", f"buffer `{name}` is a number, not a wire", member.value.span, "a number",
                 help="a buffer holds a tensor: build it from index wires, `arange(t)`; use numbers where they are")
        learned = next((v for v in ir.walk([ir.Return([value], member.span)])
                        if isinstance(v, ir.LearnedTensor) or getattr(v, "part", None) is not None
                        or isinstance(v, ir.Route)), None)
        if learned is not None:
            fail("E0351", f"buffer `{name}` reads a learned part", learned.span, "learned here",
                 notes=["a buffer is a constant computed once when the module is built, before any training"],
                 help="compute it from sizes, hyperparameters, index wires and defs; use learned parts in `forward`")
        function.body = [ir.Return([value], member.span)]
        fix = finalize_types(function, solver)
        checker.settle(fix, module, known)
        result = function.body[0].values[0]
        return ir.Buffer(name, result, member.span), checker

    # ---- learned parts ------------------------------------------------------------------------

    def component(self, node, scope: Scope, name: str) -> ir.Component:
        if isinstance(node, tree.Repeat):
            return self.repeat(node, scope, name)
        if not isinstance(node, tree.Constructor):
            fail("E0204", "expected a learned part, a submodule or a size", node.span, "not a part")
        kind = node.name.name
        if kind in LAYERS:
            attrs, signature = LAYERS[kind].check(node, scope, name)
            layer = ir.Layer(name, node.span, signature, kind, attrs)
            if signature is not None:
                signature.target = layer
            self.layer_rules(layer, node)
            return layer
        if kind == "seq":
            return self.seq(node, scope, name)
        if kind in self.failed:
            raise AlreadyReported
        if kind in self.globals and self.globals[kind][0] == "module":
            return self.instance(node, scope, name)
        if kind in self.globals:
            fail("E0105", f"`{kind}` is a {self.globals[kind][0]}, not a module or a layer", node.name.span,
                 "not a learned part", help="call defs and boxes inside `forward`")
        known = ", ".join(sorted(LAYERS))
        modules = [n for n, (k, _) in self.globals.items() if k == "module"]
        fail("E0101", f"unknown layer or module `{kind}`", node.name.span, "not defined",
             notes=[f"built-in layers: {known}"], help=did_you_mean(kind, [*LAYERS, *modules]))

    def layer_rules(self, layer: ir.Layer, node: tree.Constructor) -> None:
        """A layer's rules (ops.layers): those over its options are decided now or checked when the
        module is built; those over its input sizes go with its signature, for each call."""
        op = LAYERS[layer.op]
        generics = set(layer.signature.generics) if layer.signature is not None else set()
        spans = option_spans(node, op.attrs)
        for rule in op.requires(layer.attrs, layer.signature):
            reason = f"`{layer.name}`: {rule.reason}"
            symbols = {s for c in rule.conditions for s in c.symbols()}
            if symbols & generics:
                assert layer.signature is not None
                over = tuple(r for r in self.repeat_loops if r.var in symbols)
                layer.signature.requires.append(ir.Precondition(rule.conditions, node.span, reason, over))
                continue
            span = spans.get(rule.option, node.span) if rule.option else node.span
            over = tuple(r for r in self.repeat_loops if r.var in symbols)
            self.construction_rule(ir.Precondition(rule.conditions, span, reason, over))

    def construction_rule(self, pre: ir.Precondition) -> None:
        decider = Decider(self.solver())
        outcome = decider.decide(pre, concrete=False)
        if outcome == TRUE:
            return
        if outcome == FALSE:
            fail("E0313", f"{pre.reason}: needs {pre.condition_text}", pre.span, "PyTorch rejects this")
        outcome = decider.decide(pre, concrete=True)
        if outcome == TRUE:
            return
        if outcome == FALSE:
            given = [f"{s.name} = {self.concrete[s.name]}" for s in sorted(pre.symbols(), key=lambda s: s.name)
                     if s.name in self.concrete]
            fail("E0317", f"for the sizes given, {pre.reason}: needs {pre.condition_text}", pre.span,
                 "does not hold for `--sizes`", notes=[f"with {', '.join(given)}"] if given else [])
        if self.module is not None and all((p.conditions, p.over) != (pre.conditions, pre.over)
                                           for p in self.module.preconditions):
            self.module.preconditions.append(pre)

    def instance(self, node: tree.Constructor, scope: Scope, name: str) -> ir.Component:
        module: ir.Module = self.globals[node.name.name][1]
        if node.axes_in is not None:
            fail("E0311", f"module `{module.name}` takes hyperparameters, not axes", node.axes_in.span,
                 "remove this")
        fields = {hp.name: ((Size.of(hp.default) if hp.kind == "size" else hp.default)  # type: ignore[arg-type]
                            if hp.default is not None else REQUIRED, "any", True) for hp in module.hparams}
        for hp in module.hparams:
            if hp.default_size is not None:  # computed below, from the sizes this instance gives before it
                fields[hp.name] = (None, "any", True)
        values, spans = read_values(node, scope, fields)
        mapping: dict[Symbol, Size] = {}
        args: list = []
        for hp in module.hparams:
            value = values.get(hp.name, fields[hp.name][0])
            if hp.default_size is not None and hp.name not in values:
                value = hp.default_size.substitute(lambda a: mapping.get(a) if isinstance(a, Symbol) else None)
            if hp.kind != "size":
                args.append(value_argument(hp, value, spans.get(hp.name, node.span), module.name))
                continue
            if not isinstance(value, Size):
                fail("E0204", f"hyperparameter `{hp.name}` is a size", spans[hp.name], f"this is {_shown(value)}")
            if hp.multiple is not None:
                factor = Size.of(hp.multiple).substitute(mapping.get)  # a size before it: as this instance has it
                self.construction_rule(ir.Precondition(
                    (ir.Comparison(value, "%", factor),), spans.get(hp.name, node.span),
                    f"`{module.name}`'s `{hp.name}` is a multiple of {hp.multiple}"))
            mapping[hp.symbol] = value
            args.append(value)
        derived = {m.symbol: m.value for m in module.members if isinstance(m, ir.SizeMember)}

        def subst(size: Size) -> Size:
            for _ in range(16):
                if not (size.symbols() & derived.keys()):
                    break
                size = size.substitute(lambda a: derived.get(a) if isinstance(a, Symbol) else None)
            return size.substitute(lambda a: mapping.get(a) if isinstance(a, Symbol) else None)

        def subst_type(t: TensorType) -> TensorType:
            return t.map(subst)

        forward = module.forward
        signature = Signature(name, "component", [subst_type(p.type) for p in forward.params],
                              [subst_type(r) for r in forward.results], list(forward.generics))
        component = ir.Instance(name, node.span, signature, module.name, args)
        signature.target = component
        return component

    def seq(self, node: tree.Constructor, scope: Scope, name: str) -> ir.Component:
        """`seq(a, b, c)`: parts applied one after another (nn.Sequential)."""
        if node.axes_in is not None or node.options:
            fail("E0311", "`seq` takes only parts", node.span, "unexpected axes or options")
        if not node.args:
            fail("E0201", "`seq` needs at least one part", node.span, "empty")
        parts = [self.component(arg, scope, f"{name}[{i}]") for i, arg in enumerate(node.args)]
        for part, arg in zip(parts, node.args):
            _plain_call(part, arg.span)
        signature = self.compose(parts, [arg.span for arg in node.args], name)
        component = ir.Seq(name, node.span, signature, parts)
        signature.target = component
        return component

    def compose(self, parts: list[ir.Component], spans, name: str) -> Signature:
        """The signature of parts applied in turn, over fresh generic sizes of the first part."""
        first = parts[0].signature
        if first is None or len(first.inputs) != 1 or len(first.outputs) != 1:
            fail("E0201", "parts of a sequence take one tensor and give one", spans[0], "not a one-wire part")
        generics = [Symbol(g.name) for g in first.generics]
        mapping = {g: Size.of(s) for g, s in zip(first.generics, generics)}
        start = first.inputs[0].map(lambda s: s.substitute(mapping.get))
        extra: list[Var] = []
        while True:
            try:
                return self.chain(parts, spans, name, start, generics, extra)
            except _MoreAxes as more:  # parts that broadcast pass leading axes on to a later part
                extra = [Var(f"{name}_{len(extra) + i}") for i in range(more.count)] + extra
                start = start.with_axes(tuple(Axis(Size.of(v), spans[0]) for v in extra[:more.count]) + start.axes)

    def chain(self, parts, spans, name, start, generics, extra) -> Signature:
        current = start
        solver = self.solver()
        requires: list[ir.Precondition] = []  # each part's, over the sizes it receives
        for index, (part, span) in enumerate(zip(parts, spans)):
            sig = part.signature
            if sig is None or len(sig.inputs) != 1 or len(sig.outputs) != 1:
                fail("E0201", "parts of a sequence take one tensor and give one", span, "not a one-wire part")
            inst = {g: Size.of(Var(g.name)) for g in sig.generics}
            expected = sig.inputs[0].map(lambda s: s.substitute(inst.get))
            lead = current.axes[: current.rank - expected.rank] if sig.batch and current.rank > expected.rank else ()
            own = current.with_axes(current.axes[len(lead):])
            if own.dtype != expected.dtype:
                fail("E0316", f"this part takes {expected.dtype} elements, the part before it gives {own.dtype}",
                     span, "in this sequence")
            if own.rank < expected.rank and all(p.signature.batch for p in parts[:index]) and index:
                raise _MoreAxes(expected.rank - own.rank)
            if own.rank != expected.rank:
                fail("E0202", f"this part takes `{expected}` but receives `{current}`", span, "in this sequence")
            for e, a in zip(expected.axes, own.axes):
                outcome = solver.unify(e.size, a.size, span)
                if outcome is not None:
                    verb = "takes" if outcome.reason == "mismatch" else "may not take"
                    code = "E0301" if outcome.reason == "mismatch" else "E0302"
                    fail(code, f"this part {verb} what the part before it gives", span,
                         f"takes `{solver.resolve_type(expected)}`, receives `{solver.resolve_type(current)}`")
            out = sig.outputs[0]
            requires += [pre.map(lambda s: s.substitute(inst.get)) for pre in sig.requires]  # noqa: B023
            current = out.with_axes(tuple(lead) + out.map(lambda s: solver.resolve(s.substitute(inst.get))).axes)
        if any(a.size.vars() - set(extra) for a in current.axes):
            fail("E0305", "the sizes this sequence gives cannot be worked out", spans[-1], "unsolved sizes")
        batch = all(p.signature.batch for p in parts)  # broadcasting parts compose to one
        # The leading axes a later part fixed (its channels) are those sizes; others stay generic.
        free = {v: Symbol(v.name) for v in extra if v not in solver.bindings}
        fix = lambda t: t.map(lambda s: solver.resolve(s).substitute(  # noqa: E731
            lambda x: Size.of(free[x]) if x in free else None))
        fix_size = lambda s: solver.resolve(s).substitute(  # noqa: E731
            lambda x: Size.of(free[x]) if x in free else None)
        return Signature(name, "component", [fix(start)], [fix(current)], list(free.values()) + generics, batch=batch,
                         requires=_distinct([pre.map(fix_size) for pre in requires]))

    def repeat(self, node: tree.Repeat, scope: Scope, name: str) -> ir.Component:
        """`[Block(...) for i in a..b]` (both ends included): a fresh part per index, with sizes that
        may depend on the index.  Called whole, the parts apply in turn; `name[i]` calls one."""
        start, stop = size_of(node.start, scope), size_of(node.stop, scope)
        solver = self.solver()
        lo, hi = solver.evaluate(start), solver.evaluate(stop)
        instances = None
        if lo is not None and hi is not None and hi - lo + 1 > MAX_UNROLLED:
            lo = hi = None  # too many to check one by one: checked once, for any index
        if lo is not None and hi is not None:
            if hi < lo:
                verb = "runs backwards" if hi < lo - 1 else "is empty"
                fail("E0313", f"the range {lo}..{hi} {verb}", node.span, "no repetitions",
                     help="ranges include both ends: `1..4` is 1, 2, 3, 4")
            instances = []
            for value in range(lo, hi + 1):
                inner = scope.child()
                inner.sizes[node.var.name] = SizeBinding(Size.of(value), node.var.span, "repetition index")
                instances.append(self.component(node.body, inner, f"{name}[{value}]"))
        index = Symbol(node.var.name)
        inner = scope.child()
        inner.sizes[node.var.name] = SizeBinding(Size.of(index), node.var.span, "repetition index")
        # Called whole, the repetitions apply in turn; one that cannot be chained is only indexed.
        whole_error = None
        if instances:
            body = instances[0]
        else:
            self.repeat_loops.append(ir.LoopRange(index, start, stop))
            try:
                body = self.component(node.body, inner, f"{name}[{node.var.name}]")
            finally:
                self.repeat_loops.pop()
        try:
            _plain_call(body, node.body.span)
            if body.signature is not None and len(body.signature.inputs) > 1:
                signature = self.threaded(body, instances, node, index)
            elif instances:
                signature = self.compose(instances, [node.body.span] * len(instances), name)
            else:
                signature = self.invariant(body, node, index)
        except NcdcError as error:  # not AlreadyReported: nothing new to say, the repetition fails with it
            if not instances:
                raise
            signature, whole_error = None, error.diagnostics[0]
        component = ir.Repeat(name, node.span, signature, body, index, start, stop, instances, whole_error)
        if signature is not None:
            signature.target = component
        return component

    def invariant(self, body: ir.Component, node: tree.Repeat, index: Symbol) -> Signature:
        """The signature of parts applied in turn whatever their number: each must give what it takes."""
        sig = body.signature
        if sig is None or len(sig.inputs) != 1 or len(sig.outputs) != 1:
            fail("E0201", "a repetition applies parts that take one tensor and give one", node.body.span,
                 "not a one-wire part")
        solver = self.solver()
        inst = {g: Size.of(Var(g.name)) for g in sig.generics}
        t_in = sig.inputs[0].map(lambda s: s.substitute(inst.get)).axes
        t_out = sig.outputs[0].map(lambda s: s.substitute(inst.get)).axes
        same = len(t_in) == len(t_out) and all(solver.unify(a.size, b.size) is None for a, b in zip(t_in, t_out))
        if not same or any(index in a.size.symbols() for a in sig.inputs[0].axes):
            fail("E0314", "each repetition must give what the next one takes", node.body.span,
                 f"takes `{sig.inputs[0]}`, gives `{sig.outputs[0]}`",
                 help="with a range of fixed numbers each repetition may differ; otherwise call the "
                      "parts one by one in `forward`")
        return Signature(sig.name, "component", sig.inputs, sig.outputs, sig.generics, batch=sig.batch,
                         requires=sig.requires)

    def threaded(self, body: ir.Component, instances: list[ir.Component] | None, node: tree.Repeat,
                 index: Symbol) -> Signature:
        """Repetitions of a part with several inputs: the first input is threaded through them (each
        gives what the next takes first); the others (masks, rotary tables) reach each unchanged."""
        sig = body.signature
        assert sig is not None
        shown = ir.signature_text(sig.inputs, sig.outputs)
        if len(sig.outputs) != 1:
            fail("E0326", "a repeated part with several inputs gives one wire, which the next repetition takes first",
                 node.body.span, f"this is `{shown}`")
        solver = self.solver()
        inst = {g: Size.of(Var(g.name)) for g in sig.generics}
        t_in = sig.inputs[0].map(lambda s: s.substitute(inst.get))
        t_out = sig.outputs[0].map(lambda s: s.substitute(inst.get))
        same = t_in.rank == t_out.rank and t_in.dtype == t_out.dtype and \
            all(solver.unify(a.size, b.size) is None for a, b in zip(t_in.axes, t_out.axes))
        if not same:
            fail("E0326", "a repeated part with several inputs must give what it takes first", node.body.span,
                 f"this is `{shown}`", help="the first input is the wire threaded through the repetitions; "
                 "the others are given to each unchanged")
        varying = any(index in a.size.symbols() for t in sig.inputs for a in t.axes)
        if varying or instances and not all(i.signature is not None and i.signature.same_types(sig)
                                            for i in instances):
            fail("E0314", "the repetitions of a part with several inputs must all have the same type",
                 node.body.span, "its type depends on the index")
        requires = sig.requires if not instances else _distinct(
            [pre for i in instances if i.signature is not None for pre in i.signature.requires])
        return Signature(sig.name, "component", sig.inputs, sig.outputs, sig.generics, batch=sig.batch,
                         requires=requires)

    def instance_signature(self, component: ir.Repeat, index: Size, span,
                           loop_values=lambda size: []) -> tuple[Signature, Size]:
        """The signature of one repetition, `blocks[i]`, and its position in the list."""
        instances = component.instances
        solver = self.solver()
        value, lo = solver.evaluate(index), solver.evaluate(component.start)
        if instances is not None and lo is not None:
            for end in loop_values(index):  # an index running over a loop: both ends must be in range
                if end is not None and not lo <= end < lo + len(instances):
                    fail("E0307", f"`{component.name}` has repetitions {lo}..{lo + len(instances) - 1}, "
                         f"not {end}", span, "out of range")
        if instances is not None and value is not None and lo is not None:
            if not lo <= value < lo + len(instances):
                fail("E0307", f"`{component.name}` has repetitions {lo}..{lo + len(instances) - 1}, "
                     f"not {value}", span, "out of range")
            return instances[value - lo].signature, Size.of(value - lo)  # type: ignore[return-value]
        if instances is not None and not all(i.signature.same_types(instances[0].signature)  # type: ignore[union-attr, arg-type]
                                             for i in instances):
            fail("E0314", f"the repetitions of `{component.name}` differ, so the index must be a fixed number",
                 span, "not a fixed number")
        body = instances[0] if instances else component.body
        signature = body.signature if body is not None else None
        if instances is not None and signature is not None:  # any one of them: what each needs
            signature = replace(signature, requires=_distinct(
                [pre for i in instances if i.signature is not None for pre in i.signature.requires]))
        return signature, index - component.start  # type: ignore[return-value]

    # ---- abstract boxes needed, transitively ----------------------------------------------------

    def check_recursion(self, program: tree.Program) -> None:
        """A def or module that reaches itself through its calls or parts would never finish."""
        spans = {item.name.name: item.name.span for item in program.items if not isinstance(item, tree.SizeDecl)}
        state: dict[str, int] = {}

        def visit(root: str) -> None:
            # Depth first, callees in name order, with an explicit stack: a chain of thousands of
            # modules must not reach Python's recursion limit.
            if state.get(root) == 2 or root not in self.callees:
                return
            path, on_path = [root], {root: 0}
            stack = [iter(sorted(self.callees[root]))]
            while stack:
                name = next(stack[-1], None)
                if name is None:
                    stack.pop()
                    state[path.pop()] = 2
                    continue
                if state.get(name) == 2 or name not in self.callees:
                    continue
                if name in on_path:
                    cycle = path[on_path[name]:] + [name]
                    state.update({n: 2 for n in cycle})  # report each cycle once
                    fail("E0106", f"`{name}` is defined in terms of itself", spans.get(name), "recursive",
                         notes=["through " + " -> ".join(f"`{c}`" for c in cycle)],
                         help="a diagram is finite: unroll the repetition or use `[Part(...) for i in a..b]`")
                on_path[name] = len(path)
                path.append(name)
                stack.append(iter(sorted(self.callees[name])))
            on_path.clear()

        for name in [n for n in self.order if n in self.callees]:
            self.guard(lambda: visit(name))

    def collect_boxes(self) -> None:
        """The boxes each def and module needs, through everything it calls: one walk, callees first."""
        needed: dict[str, set[str]] = {}
        for root in self.callees.keys() | self.direct_boxes.keys():
            if root in needed:
                continue
            needed[root] = set(self.direct_boxes.get(root, ()))  # provisional while on the stack (cycles)
            stack = [(root, iter(self.callees.get(root, ())))]
            while stack:
                name, callees = stack[-1]
                callee = next(callees, None)
                if callee is None:
                    stack.pop()
                    for c in self.callees.get(name, ()):
                        needed[name] |= needed[c]
                    continue
                if callee not in needed:
                    needed[callee] = set(self.direct_boxes.get(callee, ()))
                    stack.append((callee, iter(self.callees.get(callee, ()))))
        position = {b.name: i for i, b in enumerate(self.boxes)}
        targets: list[ir.Function | ir.Module] = [*self.functions, *self.modules]
        for target in targets:
            target.boxes = sorted((b for b in needed.get(target.name, ()) if b in position), key=position.__getitem__)


# ---- hyperparameters that are not sizes -------------------------------------------------------------


VALUE_KINDS = ("float", "bool", "choice")


def value_hparam(hp: tree.HParam) -> ir.HParam:
    """`p: float = 0.1`, `norm_first: bool = false`, `activation: {"relu", "gelu"} = "relu"`."""
    name = hp.name.name
    if hp.kind not in VALUE_KINDS:
        help = f"a size is written `{name}=...`, with no kind" if hp.kind == "int" else None
        fail("E0324", f"a hyperparameter is a size, a `float`, a `bool` or a choice `{{\"a\", \"b\"}}`, "
             f"not `{hp.kind}`", hp.kind_span, "unknown kind", help=help)
    choices = tuple(hp.choices)
    if len(set(choices)) != len(choices):
        fail("E0324", f"the choices of `{name}` repeat a value", hp.kind_span, "repeated choice")
    default = hp.default
    if default is not None:
        ok = {"float": isinstance(default, (int, float)) and not isinstance(default, bool),
              "bool": isinstance(default, bool), "choice": default in choices}[hp.kind]
        if not ok:
            expected = {"float": "a number such as `0.1`", "bool": "`true` or `false`",
                        "choice": "one of " + ", ".join(f'"{c}"' for c in choices)}[hp.kind]
            fail("E0324", f"the default of `{name}` must be {expected}", hp.default_span, f"this is {_shown(default)}")
        if hp.kind == "float":
            default = float(default)
    return ir.HParam(name, Symbol(name), default, hp.span, hp.kind, choices)


def value_argument(hp: ir.HParam, value, span, module: str):
    """A submodule's hyperparameter that is not a size: a literal, or one of the caller's of its kind."""
    if isinstance(value, ir.HParamRef):
        if value.kind != hp.kind or hp.kind == "choice" and value.choices != hp.choices:
            fail("E0324", f"`{module}`'s `{hp.name}` is {_kind_text(hp)}; `{value.name}` is {_kind_text(value)}",
                 span, "another kind")
        return value
    ok = {"float": isinstance(value, (int, float)) and not isinstance(value, bool)
                   or isinstance(value, Size) and value.constant is not None,
          "bool": isinstance(value, bool), "choice": value in hp.choices}[hp.kind]
    if not ok:
        fail("E0324", f"`{module}`'s `{hp.name}` is {_kind_text(hp)}", span, f"this is {_shown(value)}")
    if hp.kind == "float":
        return float(value.constant if isinstance(value, Size) else value)  # type: ignore[arg-type]
    return value


def _factor(member: ir.SizeMember) -> int | Symbol:
    """The factor of the size a pattern names: `m // 2` gives 2, `h // n` the size n."""
    atom = member.value.atom
    assert isinstance(atom, FloorDiv)
    if atom.den.constant is not None:
        return atom.den.constant
    assert isinstance(atom.den.atom, Symbol)
    return atom.den.atom


def _kind_text(hp) -> str:
    if hp.kind == "choice":
        return "one of " + ", ".join(f'"{c}"' for c in hp.choices)
    return {"float": "a number", "bool": "a bool"}[hp.kind]


def _shown(value) -> str:
    if isinstance(value, Size):
        return f"the size `{value}`"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, str):
        return f'"{value}"'
    return f"`{value}`"


def _distinct(preconditions: list[ir.Precondition]) -> list[ir.Precondition]:
    seen: set = set()
    out = []
    for pre in preconditions:
        if (pre.conditions, pre.over) not in seen:
            seen.add((pre.conditions, pre.over))
            out.append(pre)
    return out


def _plain_call(part: ir.Component, span) -> None:
    """Parts applied in turn (in `seq`, or a repetition called whole) are called as they are, so a
    Linear among them maps one axis to one axis (no binding of several axes around it)."""
    if isinstance(part, ir.Layer) and part.op == "Linear" \
            and (part.attrs.inputs.rank != 1 or part.attrs.outputs.rank != 1):
        fail("E0202", "parts applied in turn need a Linear from one axis to one axis", span, "several axes",
             help="bind the axes into one, `Linear[(k h) -> m]`, or call the Linear in `forward`")


class _MoreAxes(Exception):
    """A later part of a sequence needs axes that the first part passes through."""

    def __init__(self, count: int):
        self.count = count


def _axis_symbols(axis: Axis) -> set[Symbol]:
    found = axis.size.symbols()  # a set of its own, made for this call
    for part in axis.parts:
        found |= _axis_symbols(part)
    return found


def _module_callees(module: ir.Module) -> set[str]:
    found: set[str] = set()
    for c in module.components():
        _add_callees(c, found)
    return found


def _add_callees(component: ir.Component | None, found: set[str]) -> None:
    """The modules a part instantiates, into `found` (a function, not a closure calling itself: no
    reference cycle for the collector)."""
    if isinstance(component, ir.Instance):
        found.add(component.module)
    elif isinstance(component, ir.Seq):
        for part in component.parts:
            _add_callees(part, found)
    elif isinstance(component, ir.Repeat):
        _add_callees(component.body, found)


def _size_names(node: tree.SizeNode) -> Iterator[tree.SizeName]:
    """The names a size expression reads, in the order written."""
    if isinstance(node, tree.SizeName):
        yield node
    elif isinstance(node, tree.SizeBinary):
        yield from _size_names(node.left)
        yield from _size_names(node.right)
    elif isinstance(node, tree.SizeGroup):
        for part in node.items:
            yield from _size_names(part)
