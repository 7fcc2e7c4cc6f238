"""Scopes: what a name means where it is used (a size, a wire, a learned part or a definition)."""

from __future__ import annotations

from .. import tree
from ..diagnostics import Diagnostic, Label, NcdcError
from ..ir import FLOAT, Axis, TensorType
from ..nodes import field, mutable
from ..sizes import FloorDiv, Size, Symbol
from ..source import Span


@mutable
class SizeBinding:
    value: Size
    span: Span | None
    what: str  # "hyperparameter", "generic size", "constant", "derived size", "loop index", "repetition index"
    number: int | None = None  # the value of a constant


@mutable
class Scope:
    parent: Scope | None = None
    sizes: dict[str, SizeBinding] = field(default_factory=dict)
    wires: dict[str, tuple] = field(default_factory=dict)  # name -> (type, span)
    components: dict = field(default_factory=dict)  # name -> ir.Component
    values: dict = field(default_factory=dict)  # name -> ir.HParam: hyperparameters that are not sizes
    buffers: dict = field(default_factory=dict)  # name -> ir.Buffer: a module's constant wires
    # A module's derived sizes declared below what is being checked (name -> span): each is usable
    # only after its declaration, since `__init__` computes them and builds the parts in that order.
    later: dict[str, Span] = field(default_factory=dict)

    def child(self) -> Scope:
        return Scope(parent=self)

    def lookup_later(self, name: str) -> Span | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.later:
                return scope.later[name]
            scope = scope.parent
        return None

    def lookup_size(self, name: str) -> SizeBinding | None:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.sizes:
                return scope.sizes[name]
            scope = scope.parent
        return None

    def lookup_value(self, name: str):
        """The hyperparameter that is not a size (`p: float`, `norm_first: bool`) called `name`."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.parent
        return None

    def lookup_wire(self, name: str):
        scope: Scope | None = self
        while scope is not None:
            if name in scope.wires:
                return scope.wires[name]
            scope = scope.parent
        return None

    def lookup_buffer(self, name: str):
        scope: Scope | None = self
        while scope is not None:
            if name in scope.buffers:
                return scope.buffers[name]
            scope = scope.parent
        return None

    def lookup_component(self, name: str):
        scope: Scope | None = self
        while scope is not None:
            if name in scope.components:
                return scope.components[name]
            scope = scope.parent
        return None


MAX_SIZE = 2 ** 62  # larger sizes are surely mistakes, and would not fit a tensor's shape
MAX_EXPONENT = 62  # 2**62 is the largest size
MAX_TERMS = 256  # a size is a polynomial; one with more terms than this is a runaway expansion


def size_of(node: tree.SizeNode, scope: Scope, new_generics: list[Symbol] | None = None) -> Size:
    """Evaluate a size expression; unknown names become generic sizes where `new_generics` is given."""
    if node.__class__ is tree.SizeName:  # the common case: a name bound to a symbol of its own
        binding = scope.lookup_size(node.name)
        if binding is None:  # a new generic size, one symbol that no number fixes (or an unknown name)
            return _size_of(node, scope, new_generics)
        atom = binding.value.atom
        if binding.number is None and atom.__class__ is Symbol and atom.name == node.name:
            return binding.value  # what checked_size finds of it: one symbol, that no number fixes
        return checked_size(binding.value, node.span, scope)
    return checked_size(_size_of(node, scope, new_generics), node.span, scope)


def checked_size(size: Size, span: Span | None, scope: Scope) -> Size:
    """`size` if it keeps within the limits: coefficients, and its value where constants fix it, of at
    most 2**62, and at most MAX_TERMS terms."""
    if any(abs(c) > MAX_SIZE for _, c in size.terms):
        raise NcdcError(Diagnostic("E0310", "this size is too large", span, "more than 2**62"))
    if len(size.terms) > MAX_TERMS:
        raise NcdcError(Diagnostic("E0310", "this size is too large", span, f"a polynomial of {len(size.terms)} terms",
                                   help=f"a size expands to at most {MAX_TERMS} terms; name parts of it as sizes"))
    value = constant_value(size, scope)
    if value is not None and abs(value) > MAX_SIZE:
        raise NcdcError(Diagnostic("E0310", "this size is too large", span, "more than 2**62"))
    return size


def constant_value(size: Size, scope: Scope) -> int | None:
    """The value of a size that numbers and spec-wide constants fix, else None."""
    env = {}
    for atom in size.atoms():
        if isinstance(atom, Symbol):
            binding = scope.lookup_size(atom.name)
            if binding is None or binding.number is None or binding.value.atom is not atom:
                return None
            env[atom] = binding.number
        elif not isinstance(atom, FloorDiv):
            return None  # an unknown
    try:
        return size.evaluate(env)
    except ZeroDivisionError:
        return None


def _checked_product(sizes, span: Span | None, scope: Scope) -> Size:
    result = Size.of(1)
    for size in sizes:
        result = checked_size(result * size, span, scope)
    return result


def _power(base: Size, exponent: int, span: Span | None, scope: Scope) -> Size:
    """`base ** exponent` by repeated squaring, within the limits at every step."""
    result, square = Size.of(1), base
    while exponent:
        if exponent & 1:
            result = checked_size(result * square, span, scope)
        exponent >>= 1
        if exponent:
            square = checked_size(square * square, span, scope)
    return result


def _size_of(node: tree.SizeNode, scope: Scope, new_generics: list[Symbol] | None = None) -> Size:
    if isinstance(node, tree.SizeInt):
        if node.value > MAX_SIZE:
            raise NcdcError(Diagnostic("E0310", "this size is too large", node.span, "more than 2**62"))
        return Size.of(node.value)
    if isinstance(node, tree.SizeName):
        binding = scope.lookup_size(node.name)
        if binding is not None:
            return binding.value
        if new_generics is not None and scope.lookup_wire(node.name) is None:
            symbol = Symbol(node.name)
            new_generics.append(symbol)
            scope.sizes[node.name] = SizeBinding(Size.of(symbol), node.span, "generic size")
            return Size.of(symbol)
        raise NcdcError(unknown_size(node.name, node.span, scope))
    if isinstance(node, tree.SizeGroup):
        return _checked_product((size_of(item, scope, new_generics) for item in node.items), node.span, scope)
    left = size_of(node.left, scope, new_generics)
    right = size_of(node.right, scope, new_generics)
    if node.op == "**" and right.constant is not None and right.constant > MAX_EXPONENT:  # even for 0 and 1
        raise NcdcError(Diagnostic("E0310", "this size is too large", node.span, f"an exponent of {right.constant}",
                                   help=f"an exponent in a size is at most {MAX_EXPONENT}"))
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    if node.op == "**":
        if right.constant is None or right.constant < 0:
            raise NcdcError(Diagnostic("E0310", "an exponent in a size must be a non-negative integer",
                                       node.right.span, f"this is `{right}`"))
        return _power(left, right.constant, node.span, scope)
    if right.constant is not None and right.constant <= 0:
        raise NcdcError(Diagnostic("E0310", "a size can only be divided by a positive number",
                                   node.right.span, f"this is {right}"))
    return left // right


def axis_of(node: tree.SizeNode, scope: Scope, new_generics: list[Symbol] | None = None) -> Axis:
    if isinstance(node, tree.SizeGroup) and len(node.items) > 1:
        parts = tuple(axis_of(item, scope, new_generics) for item in node.items)
        return Axis(_checked_product((p.size for p in parts), node.span, scope), node.span, parts)
    if isinstance(node, tree.SizeGroup):
        return axis_of(node.items[0], scope, new_generics)
    size = size_of(node, scope, new_generics)
    if size.constant is not None and size.constant < 1:
        raise NcdcError(Diagnostic("E0310", "the size of an axis must be positive", node.span,
                                   f"this is {size.constant}"))
    return Axis(size, node.span)


def type_of(node: tree.TensorTypeNode, scope: Scope, new_generics: list[Symbol] | None = None) -> TensorType:
    return TensorType(tuple(axis_of(a, scope, new_generics) for a in node.axes), node.dtype or FLOAT)


def labels_of(node: tree.TensorTypeNode) -> list[tuple[str, Span]]:
    """Axis names written in brackets or patterns (`softmax[x]`, `einsum[y x]`, `X: a (k h)`)."""
    if node.dtype is not None:
        raise NcdcError(Diagnostic("E0316", f"an axis list has no element type: `{node.dtype}` is not an axis",
                                   node.span, "axis names only", help="element types are declared with "
                                   "the wires, e.g. `def f(T: int t)`"))
    out = []
    for axis in node.axes:
        label = _label(axis)
        if label is None:
            raise NcdcError(Diagnostic("E0311", "expected an axis name here", axis.span,
                                       "not a name",
                                       help="axes are referred to by their names, e.g. `softmax[x](S)`"))
        out.append((label, axis.span))
    return out


def distinct_labels_of(node: tree.TensorTypeNode) -> list[tuple[str, Span]]:
    """Axis names that each pick one axis: softmax, reductions, lifting, concat."""
    out = labels_of(node)
    seen = set()
    for label, span in out:
        if label in seen:
            raise NcdcError(Diagnostic("E0306", f"`{label}` is named twice", span, "repeated"))
        seen.add(label)
    return out


def _label(axis: tree.SizeNode) -> str | None:
    if isinstance(axis, tree.SizeName):
        return axis.name
    if isinstance(axis, tree.SizeGroup) and len(axis.items) > 1:
        parts = [_label(a) or "" for a in axis.items]
        return "(" + " ".join(parts) + ")" if all(parts) else None
    if isinstance(axis, tree.SizeGroup):
        return _label(axis.items[0])
    return None


def check_wire_name(name: tree.Name, scope: Scope) -> None:
    """A wire (a parameter or an assigned name) may not take the name of a size in scope."""
    binding = scope.lookup_size(name.name)
    if binding is not None:
        suggestion = name.name.upper() if name.name.upper() != name.name else name.name + "_"
        raise NcdcError(Diagnostic(
            "E0105", f"`{name.name}` is already a size", name.span, "a wire cannot share a size's name",
            [f"`{name.name}` is a {binding.what}"],
            help=f"rename the wire, for example `{suggestion}`",
            labels=[Label(binding.span, f"`{name.name}` is declared here")] if binding.span else []))


def unknown_size(name: str, span: Span, scope: Scope) -> Diagnostic:
    diag = Diagnostic("E0104", f"unknown size `{name}`", span, "not a size in this scope")
    below = scope.lookup_later(name)
    if below is not None:
        diag.message = f"derived size `{name}` is used before its declaration"
        diag.label = "not declared yet here"
        diag.notes.append("a derived size is usable in the parts and sizes after it: `__init__` computes "
                          "them and builds the parts in the order written")
        diag.labels.append(Label(below, f"`{name}` is declared here, below"))
        diag.help = f"move `{name} = ...` above its first use"
    elif scope.lookup_wire(name) is not None:
        diag.notes.append(f"`{name}` is a wire here, not a size")
    else:
        diag.help = ("name sizes in the signature (`def f(X: a b) -> ...`), as module hyperparameters, "
                     "or with `size " + name + " = ...`")
    return diag
