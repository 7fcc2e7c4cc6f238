"""The typed IR: the one contract between the checker and every back end.

Every value has a statically known type (its axes in order, each with a symbolic size, and its
element type); every node is an instance of one frozen class per kind of operation, with declared
fields, and points back into the spec.  Back ends read it and never re-infer anything.

Values have identity (`eq=False`): a back end asks who produces and who reads a wire through the
`Local` objects that assignments define and `Read` nodes refer to, never by matching names.
"""

from __future__ import annotations

from .nodes import field, fields, frozen, is_dataclass, mutable, replace
from .sizes import FloorDiv, Size, Symbol, Var, format_size
from .source import Span

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2.4 ms of `import ncdc`)
if TYPE_CHECKING:
    from typing import Any, Callable, Iterator

# Element types: every tensor holds floats unless its type says otherwise.
FLOAT, INT, BOOL = "float", "int", "bool"
DTYPES = (FLOAT, INT, BOOL)


@frozen
class Axis:
    size: Size
    origin: Span | None = field(default=None, compare=False)
    parts: tuple[Axis, ...] = ()  # the axes bound into this one: `(k h)`

    @property
    def label(self) -> str | None:
        """The name softmax[x], einsum and lifting refer to: the size's symbol, if it is one."""
        atom = self.size.atom
        if atom.__class__ is Symbol or atom.__class__ is Var:
            return atom.name
        if self.parts and all(p.label for p in self.parts):
            return "(" + " ".join(p.label for p in self.parts) + ")"  # type: ignore[misc]
        return None

    def map(self, fn: Callable[[Size], Size]) -> Axis:
        """The same axis with `fn` applied to its size and to the sizes of its parts."""
        size = fn(self.size)
        if not self.parts:
            return self if size is self.size else Axis(size, self.origin)
        parts = tuple(p.map(fn) for p in self.parts)
        if size is self.size and all(new is old for new, old in zip(parts, self.parts)):
            return self  # unchanged (the common case): no copy
        return Axis(size, self.origin, parts)

    def __str__(self) -> str:
        if self.parts:
            return "(" + " ".join(str(p) for p in self.parts) + ")"
        text = format_size(self.size)
        return text if self.size.atom is not None and not isinstance(self.size.atom, FloorDiv) \
            or self.size.constant is not None else f"({text})"


@frozen
class TensorType:
    axes: tuple[Axis, ...]
    dtype: str = FLOAT

    @property
    def rank(self) -> int:
        return len(self.axes)

    @property
    def sizes(self) -> tuple[Size, ...]:
        return tuple(a.size for a in self.axes)

    def map(self, fn: Callable[[Size], Size]) -> TensorType:
        axes = self.axes
        for i, old in enumerate(axes):
            new = old.map(fn)
            if new is not old:  # a copy from the first axis that changes
                return TensorType(axes[:i] + (new,) + tuple(a.map(fn) for a in axes[i + 1:]), self.dtype)
        return self  # unchanged (the common case): no copy

    def with_axes(self, axes) -> TensorType:
        return TensorType(tuple(axes), self.dtype)

    def __str__(self) -> str:
        axes = " ".join(str(a) for a in self.axes) if self.axes else "()"
        return axes if self.dtype == FLOAT else f"{self.dtype} {axes}" if self.axes else self.dtype


@frozen
class TupleType:
    """The type of a value with several outputs (a call of a box or def returning a tuple)."""

    items: tuple[TensorType, ...]

    def map(self, fn: Callable[[Size], Size]) -> TupleType:
        return TupleType(tuple(t.map(fn) for t in self.items))

    def __str__(self) -> str:
        return ", ".join(map(str, self.items))


class ScalarType:
    """A number computed at run time (`sqrt(k)`, `0.5`): it broadcasts over any tensor."""

    rank = 0
    axes = ()
    dtype = FLOAT

    def map(self, fn) -> ScalarType:
        return self

    def __str__(self) -> str:
        return "scalar"


SCALAR = ScalarType()
Type = TensorType | TupleType | ScalarType


def types_of(t: Type) -> list:
    """The values a type stands for: the items of a tuple, else the type itself."""
    return list(t.items) if isinstance(t, TupleType) else [t]


def signature_text(inputs, outputs) -> str:
    return ", ".join(map(str, inputs)) + " -> " + ", ".join(map(str, outputs))


@mutable
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
    target: Any = None  # the Function, Box or Component called
    # What a learned part needs of its input sizes (over `generics`), checked at each call: its
    # layer's rules (a side at least the kernel), its parts' in turn.
    requires: list[Precondition] = field(default_factory=list)

    def same_types(self, other: Signature) -> bool:
        return self.inputs == other.inputs and self.outputs == other.outputs


# ---- preconditions -------------------------------------------------------------------------------


COMPARISONS = ("<=", "<", ">=", ">", "%")


@frozen
class Comparison:
    """`left op right` over sizes; `%` reads "left is a multiple of right" (`left % right == 0`)."""

    left: Size
    op: str
    right: Size

    def map(self, fn: Callable[[Size], Size]) -> Comparison:
        return Comparison(fn(self.left), self.op, fn(self.right))

    def symbols(self) -> set[Symbol]:
        return self.left.symbols() | self.right.symbols()

    def holds(self, left: int, right: int) -> bool:
        if self.op == "%":
            return right != 0 and left % right == 0
        return {"<=": left <= right, "<": left < right, ">=": left >= right, ">": left > right}[self.op]

    def __str__(self) -> str:
        if self.op == "%":
            return f"{_operand_text(self.left)} % {_operand_text(self.right)} == 0"
        return f"{format_size(self.left)} {self.op} {format_size(self.right)}"


def _operand_text(size: Size) -> str:
    text = format_size(size)
    return text if size.atom is not None or size.constant is not None else f"({text})"


@frozen
class LoopRange:
    """`var in start..stop` (both ends included): a precondition inside a loop holds for each turn."""

    var: Symbol
    start: Size
    stop: Size

    def __str__(self) -> str:
        return f"{self.var.name} in {format_size(self.start)}..{format_size(self.stop)}"


@frozen
class Precondition:
    """What the checker could not prove about sizes, checked by the generated code: one of
    `conditions` must hold (usually there is one), for every value of the indexes in `over`.

    On a Function it is checked at each call, once the input sizes are read; on a Module, at
    construction (it uses hyperparameters and derived sizes only).  `reason` says what needs it."""

    conditions: tuple[Comparison, ...]
    span: Span
    reason: str
    over: tuple[LoopRange, ...] = ()

    def map(self, fn: Callable[[Size], Size]) -> Precondition:
        return Precondition(tuple(c.map(fn) for c in self.conditions), self.span, self.reason,
                            tuple(LoopRange(r.var, fn(r.start), fn(r.stop)) for r in self.over))

    def symbols(self) -> set[Symbol]:
        found: set[Symbol] = set()
        for c in self.conditions:
            found |= c.symbols()
        for r in self.over:
            found |= r.start.symbols() | r.stop.symbols()
        return found - {r.var for r in self.over}

    @property
    def condition_text(self) -> str:
        return " or ".join(str(c) for c in self.conditions)

    def __str__(self) -> str:
        text = f"needs {self.condition_text}"
        if self.over:
            text += " for " + ", ".join(str(r) for r in self.over)
        return f"{text} ({self.reason})"


# ---- values -----------------------------------------------------------------------------------


@mutable(eq=False)
class Local:
    """A named wire, as one assignment (or a parameter) defines it: what `Read`s refer to.  Its type
    is final once the checker has solved the body's sizes."""

    name: str
    type: TensorType
    span: Span


@frozen(eq=False)
class Value:
    """An expression node: its type and where it is in the spec.  Subclasses add their fields."""

    type: Type
    span: Span

    @property
    def args(self) -> tuple[Value, ...]:
        """The values this one is computed from, in order."""
        out: list[Value] = []
        for f in _fields(type(self)):
            item = getattr(self, f)
            if isinstance(item, Value):
                out.append(item)
            elif isinstance(item, tuple) and item:  # most fields are neither: names, numbers, spans
                _collect_values(item, out)
        return tuple(out)


@frozen(eq=False)
class Read(Value):
    """A wire read by name: the value its `local` holds here."""

    local: Local

    @property
    def name(self) -> str:
        return self.local.name


@frozen(eq=False)
class LearnedTensor(Value):
    """A learned tensor of the module (`Parameter[...]`), used as a value."""

    name: str


@frozen(eq=False)
class BufferValue(Value):
    """A constant buffer of the module (`buffer pe = ...`), computed when it is built, used as a value."""

    name: str


@frozen(eq=False)
class Const(Value):
    value: float | int


@frozen
class HParamRef:
    """A hyperparameter of the enclosing module that is not a size (`p`, `norm_first`), where a
    layer option or a submodule's hyperparameter takes it: known when the module is built."""

    name: str
    kind: str  # "float", "bool", "choice"
    choices: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.name


@frozen(eq=False)
class HParamValue(Value):
    """A number hyperparameter used as a number in `forward` (`x * scale`)."""

    name: str


@frozen(eq=False)
class SizeValue(Value):
    """A size used as a number (`sqrt(k)`, `x / n`)."""

    size: Size


@frozen(eq=False)
class Neg(Value):
    operand: Value


@frozen
class Alignment:
    """How an operand of elementwise arithmetic lines up with the result: its axes sit at these
    positions of the result; `unbatched` operands (learned tensors) have no leading batch axes."""

    positions: tuple[int, ...]
    unbatched: bool


@frozen(eq=False)
class Binary(Value):
    """Elementwise arithmetic of tensors (and numbers, which broadcast)."""

    op: str
    left: Value
    right: Value
    left_align: Alignment | None = None
    right_align: Alignment | None = None


@frozen(eq=False)
class Compare(Value):
    """An elementwise comparison (`<`, `<=`, `>`, `>=`, `==`, `!=`) of tensors and numbers, lined up
    as arithmetic is: a `bool` wire."""

    op: str
    left: Value
    right: Value
    left_align: Alignment | None = None
    right_align: Alignment | None = None


@frozen(eq=False)
class Where(Value):
    """`where(C, A, B)`: A where the `bool` wire C holds, else B, elementwise.  `aligns` line up
    each of the three with the result (None: it has the result's axes, or it is a number)."""

    condition: Value
    left: Value
    right: Value
    aligns: tuple[Alignment | None, ...] = (None, None, None)


@frozen(eq=False)
class ScalarBinary(Value):
    """Arithmetic of two numbers."""

    op: str
    left: Value
    right: Value


@frozen(eq=False)
class ScalarFn(Value):
    """A function of the registry applied to a number (`sqrt(k)`)."""

    fn: str
    operand: Value


@frozen(eq=False)
class Map(Value):
    """An elementwise map of the registry (`relu`), broadcast over every axis."""

    fn: str
    operand: Value


@frozen(eq=False)
class Normalise(Value):
    """A normalising map over one axis (`softmax[x]`), the paper's triangle."""

    fn: str
    operand: Value
    dim: int


@frozen(eq=False)
class Reduce(Value):
    """A reduction over the axes at `dims` of its operand of `rank` axes (`sum[x]`)."""

    fn: str
    operand: Value
    dims: tuple[int, ...]
    rank: int


@frozen(eq=False)
class Flatten(Value):
    """All `count` axes of the operand bound into one."""

    operand: Value
    count: int


@frozen
class Group:
    """A bound group of axis names in an einsum or rearrange pattern: `(k h)`."""

    labels: tuple[str, ...]

    def __str__(self) -> str:
        return "(" + " ".join(self.labels) + ")"


Label = str | Group


def leaves(labels) -> list[str]:
    """The axis names of a list of labels, with groups spelled out."""
    out: list[str] = []
    for label in labels:
        out.extend(label.labels if isinstance(label, Group) else [label])
    return out


@frozen(eq=False)
class Einsum(Value):
    """A contraction: each operand's axes named by `inputs`, the result's by `output`; `sizes` is the
    size of every name."""

    operands: tuple[Value, ...]
    inputs: tuple[tuple[Label, ...], ...]
    output: tuple[Label, ...]
    sizes: dict[str, Size]


@frozen(eq=False)
class Rearrange(Value):
    """A permutation, binding and unbinding of the axes of one operand."""

    operand: Value
    input: tuple[Label, ...]
    output: tuple[Label, ...]
    sizes: dict[str, Size]


@frozen(eq=False)
class Concat(Value):
    """Operands joined along the axis at `dim` (of `rank` axes); `broadcast` when some have no batch
    axes (learned tensors) and the others may."""

    operands: tuple[Value, ...]
    dim: int
    rank: int
    broadcast: bool


@frozen(eq=False)
class Eye(Value):
    """The unit η: the identity matrix of a size."""

    size: Size


@frozen(eq=False)
class Tril(Value):
    """The causal mask `tril(y, x)`: a `bool y x` wire, true where the position along x is at most
    the position along y (the lower triangle, diagonal included, from the top-left corner)."""

    rows: Size
    cols: Size


@frozen(eq=False)
class Arange(Value):
    """The index wire `arange(t)`: an `int t` wire holding the positions 0, 1, ..., t - 1."""

    size: Size


@frozen
class IndexAll:
    """`:`, an axis kept whole."""


@frozen
class IndexAt:
    """`i`, one position: the axis goes."""

    position: Size


@frozen
class IndexSlice:
    """`a:b`, the positions a, ..., b - 1."""

    start: Size
    stop: Size


IndexItem = IndexAll | IndexAt | IndexSlice


@frozen(eq=False)
class Index(Value):
    """Indexes and subtensors, on the leading axes (after any batch) of a wire."""

    operand: Value
    items: tuple[IndexItem, ...]


@frozen
class NewAxis:
    """An axis a lifted call inserts into an argument that lacks it (inner broadcasting)."""

    label: str


@frozen
class Layout:
    """Where an argument's axes go in a call: `lifted` names the positions of lifted axes, `own` the
    axes the callee acts on, `lead` extra leading (batch) axes; the argument has `rank` axes."""

    lifted: dict[str, int]
    own: tuple[int, ...]
    lead: tuple[int, ...]
    rank: int


@frozen(eq=False)
class Call(Value):
    """A call of a def, an abstract box or a learned part, lifted over the axes `lifted`.

    `instance` holds the sizes the callee's generic sizes were instantiated with here.  Lifted axes
    sit `before` or `after` the callee's own axes in the result, after `lead` batch axes.
    """

    callee: str
    signature: Signature
    arguments: tuple[Value, ...]
    layouts: tuple[Layout, ...]
    lifted: tuple[str, ...]
    before: tuple[str, ...]
    after: tuple[str, ...]
    lead: int
    lift_sizes: dict[str, Size]
    instance: dict[Symbol, Size]
    part: str | None = None  # the learned part called, by its name in the module
    position: Size | None = None  # which repetition of a part: `blocks[i]`

    @property
    def callee_kind(self) -> str:
        return self.signature.kind

    @property
    def target(self):
        return self.signature.target


@frozen(eq=False)
class Attention(Value):
    """Scaled dot-product attention (a back-end rewrite of the pattern of Figure 20): `scale` is
    None for the default 1/sqrt(k), else (op, factor) with factor None for no scaling.  `mask` is a
    `bool` mask (true: attend) or a float mask added to the scores, lined up with the `y x` scores
    by `mask_align`; `causal` is the mask `tril(y, x)`; `dropout` names the module's `Dropout` part
    applied to the attention weights."""

    query: Value
    key: Value
    value: Value
    scale: tuple[str, Value | None] | None
    mask: Value | None = None
    mask_align: Alignment | None = None
    causal: bool = False
    dropout: str | None = None


@frozen(eq=False)
class TopK(Value):
    """The `k` largest entries along the axis at `dim` of the operand, largest first: a tuple of
    their values and their positions (an `int` wire), in which that axis has become one of `k`."""

    operand: Value
    dim: int
    k: Size


@frozen(eq=False)
class Route(Value):
    """A sparse mixture of experts: the def `expert` applied to each token once per slot of `index`
    (its last axis; the axes before it are the tokens), with the expert that slot selects, and only
    with it.  `arguments` are the def's inputs: a "token" argument has the index's token axes before
    the def's, and gives each call its rows; an "expert" argument holds every expert's weights
    along the axis at `dims` (counted from its end) and gives each call that expert's slice.  The
    result has the index's axes, then the def's result."""

    expert: str
    signature: Signature
    index: Value
    arguments: tuple[Value, ...]
    kinds: tuple[str, ...]
    dims: tuple[int, ...]
    experts: Size
    instance: dict[Symbol, Size]


# ---- statements and definitions -------------------------------------------------------------


@mutable
class Assign:
    targets: list[Local]
    value: Value
    span: Span

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.targets]

    @property
    def types(self) -> list[TensorType]:
        return [t.type for t in self.targets]


@mutable
class Return:
    values: list[Value]
    span: Span


@mutable
class For:
    var: Symbol
    start: Size
    stop: Size
    body: list
    span: Span


@frozen
class Condition:
    """A static condition on a hyperparameter (`norm_first`, `activation == "gelu"`): `op` is
    "true", "false", "==" or "!=", `value` the choice compared with."""

    name: str
    op: str
    value: str | None = None

    def holds(self, value) -> bool:
        return {"true": value is True, "false": value is False, "==": value == self.value,
                "!=": value != self.value}[self.op]

    def __str__(self) -> str:
        if self.op == "true":
            return self.name
        if self.op == "false":
            return f"not {self.name}"
        return f'{self.name} {self.op} "{self.value}"'


@mutable
class If:
    """Branches decided by hyperparameters, each (condition, body); `orelse` when none holds.
    Every branch is checked; the built module runs one."""

    branches: list[tuple[Condition, list]]
    orelse: list
    span: Span

    @property
    def bodies(self) -> list[list]:
        return [body for _, body in self.branches] + [self.orelse]

    def taken(self, defaults: dict) -> list:
        """The body of the branch that the hyperparameters' `defaults` take (the first branch whose
        hyperparameter has no default)."""
        for condition, body in self.branches:
            if defaults.get(condition.name) is None or condition.holds(defaults[condition.name]):
                return body
        return self.orelse


Statement = Assign | Return | For | If


@mutable(eq=False)
class Param(Local):
    """An input of a def or a forward: the first definition of its wire."""


@mutable
class Box:
    """An abstract box: only its type is known; an implementation is injected at run time."""

    name: str
    inputs: list[TensorType]
    outputs: list[TensorType]
    generics: list[Symbol]
    span: Span


@mutable
class Function:
    name: str
    params: list[Param]
    results: list[TensorType]
    generics: list[Symbol]
    body: list = field(default_factory=list)
    span: Span | None = None
    header: Span | None = None
    boxes: list[str] = field(default_factory=list)  # abstract boxes it needs, itself or through calls
    preconditions: list[Precondition] = field(default_factory=list)  # checked at each call

    @property
    def inputs(self) -> list[TensorType]:
        return [p.type for p in self.params]

    @property
    def outputs(self) -> list[TensorType]:
        return self.results


@mutable
class HParam:
    """A hyperparameter: a size (`kind` "size", its symbol used in sizes), or a number ("float"), a
    boolean ("bool") or one of `choices` ("choice"), known when the module is built."""

    name: str
    symbol: Symbol
    default: int | float | bool | str | None
    span: Span
    kind: str = "size"
    choices: tuple[str, ...] = ()
    # What the module's parts need of a number hyperparameter: (low, high, reason) bounds, inclusive.
    bounds: list[tuple[float, float, str]] = field(default_factory=list)
    multiple: int | Symbol | None = None  # `m: (2 * n)`: a multiple of 2; `h: (n * g)`: of the size n
    # `n_inner=4 * n_embd`: the default, a size of the hyperparameters before it; `default` is then its
    # value from their defaults (None where one of them has none)
    default_size: Size | None = None


def hparam_sizes(hparams: list[HParam], given: dict[str, int],
                 fixed: dict[Symbol, int] | None = None) -> dict[str, int]:
    """The size hyperparameters' values: those `given` by name, else their defaults, a default that is a
    size of earlier hyperparameters (`n_inner=4 * n_embd`) computed from their values (and the spec's
    constants, `fixed`).  Those with no value are left out."""
    env: dict = dict(fixed or {})
    values: dict[str, int] = {}
    for hp in hparams:
        if hp.kind != "size":
            continue
        value: object = given.get(hp.name)
        if value is None:
            value = hp.default_size.evaluate(env) if hp.default_size is not None else hp.default
        if isinstance(value, int) and not isinstance(value, bool):
            values[hp.name] = env[hp.symbol] = value
    return values


# ---- learned parts (bold boxes) ----------------------------------------------------------------


@mutable
class Component:
    """A learned part or a submodule instance declared in a module (bold in the diagram).
    `signature` is None for parts that are not called (learned tensors) or cannot be called whole."""

    name: str
    span: Span
    signature: Signature | None


@mutable
class Layer(Component):
    """A built-in learned layer of the operation registry (`Linear`, `Conv2d`, ...), with its typed
    options."""

    op: str = ""
    attrs: Any = None


@mutable
class Instance(Component):
    """A submodule: an instance of a module of the spec with these hyperparameters."""

    module: str = ""
    args: list[Size] = field(default_factory=list)


@mutable
class Seq(Component):
    """Parts applied one after another."""

    parts: list[Component] = field(default_factory=list)


@mutable
class Repeat(Component):
    """`[Block(...) for i in start..stop]`: `instances` are the parts of a range of fixed numbers,
    one per index; otherwise `body` stands for every index.  `whole_error` says why the parts cannot
    be applied in turn, when they cannot."""

    body: Component | None = None
    index: Symbol | None = None
    start: Size = field(default_factory=lambda: Size.of(0))
    stop: Size = field(default_factory=lambda: Size.of(0))
    instances: list[Component] | None = None
    whole_error: Any = None


@mutable
class SizeMember:
    name: str
    symbol: Symbol
    value: Size
    span: Span


@mutable
class Buffer:
    """`buffer pe = ...` in a module: a constant wire computed from sizes and hyperparameters when the
    module is built, held as a buffer that is not saved (it is no state) and moves with the module."""

    name: str
    value: Value
    span: Span

    @property
    def type(self) -> TensorType:
        assert isinstance(self.value.type, TensorType)
        return self.value.type


@mutable
class Module:
    name: str
    hparams: list[HParam]
    members: list
    forward: Function
    span: Span
    header: Span
    boxes: list[str] = field(default_factory=list)
    preconditions: list[Precondition] = field(default_factory=list)  # checked at construction

    def components(self) -> list[Component]:
        return [m for m in self.members if isinstance(m, Component)]

    def buffers(self) -> list[Buffer]:
        return [m for m in self.members if isinstance(m, Buffer)]


@mutable
class Program:
    path: str
    constants: list[SizeMember]
    boxes: list[Box]
    functions: list[Function]
    modules: list[Module]
    order: list[str]  # definitions in spec order, for deterministic output
    warnings: list = field(default_factory=list)  # Diagnostics of severity "warning": they do not fail a check


# ---- generic walks over the fields of nodes ---------------------------------------------------


_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(cls: type) -> tuple[str, ...]:
    """The fields of a node class after `type` and `span`, in declaration order."""
    if cls not in _FIELDS:
        _FIELDS[cls] = tuple(f.name for f in fields(cls) if f.name not in ("type", "span"))
    return _FIELDS[cls]


def _collect_values(item, out: list) -> None:
    if isinstance(item, Value):
        out.append(item)
    elif isinstance(item, tuple):
        for x in item:
            _collect_values(x, out)


def map_node(node: Value, size: Callable[[Size], Size], child: Callable[[Value], Value]) -> Value:
    """The node with `size` applied to every size in its type and fields, and `child` to every
    value it is computed from.  Signatures and learned parts are the callee's, and stay."""
    changes = {}
    kinds = _KINDS
    for name in _FIELDS.get(node.__class__) or _fields(node.__class__):
        old = getattr(node, name)
        if kinds.get(old.__class__) is _KEEP:  # most fields (names, spans, a callee's signature): no call
            continue
        new = _convert(old, size, child)
        if new is not old:
            changes[name] = new
    new_type = node.type.map(size)
    if new_type is node.type and not changes:
        return node  # nothing to replace (the common case): the node itself, not a copy
    return replace(node, type=new_type, **changes)


def _convert(item, size: Callable[[Size], Size], child: Callable[[Value], Value]):
    """`map_node` on one field (a module-level function, not a closure: no reference cycle per node)."""
    kind = _KINDS.get(item.__class__)
    if kind is None:  # first met: decided by exact class, so that a subclass is looked at on its own
        kind = _KINDS[item.__class__] = next((k for k, classes in _KIND_OF if issubclass(item.__class__, classes)),
                                             _KEEP)
    if kind is _KEEP:  # most fields: names, numbers, spans, a callee's signature, layouts
        return item
    if kind is _VALUE:
        return child(item)
    if kind is _SIZE:
        return size(item)
    if kind is _TYPE:
        return item.map(size)
    if kind is _INDEX:
        return type(item)(*(size(getattr(item, f.name)) for f in fields(item)))
    if kind is _TUPLE:
        new = [_convert(x, size, child) for x in item]
        for a, b in zip(new, item):
            if a is not b:
                return tuple(new)
        return item
    new_dict = {k: _convert(v, size, child) for k, v in item.items()}
    for k, v in item.items():
        if new_dict[k] is not v:
            return new_dict
    return item


_KEEP, _VALUE, _SIZE, _TYPE, _INDEX, _TUPLE, _DICT = "keep", "value", "size", "type", "index", "tuple", "dict"
_KIND_OF = ((_VALUE, Value), (_SIZE, Size), (_TYPE, (Axis, TensorType, TupleType)), (_INDEX, (IndexAt, IndexSlice)),
            (_TUPLE, tuple), (_DICT, dict))
_KINDS: dict[type, str] = {}  # for each class met in a field: what `_convert` does with its values


def walk(stmts: list) -> Iterator[Value]:
    """Every value in a body, loop bodies included, each before the values it is computed from."""
    stack: list[Value] = []
    for stmt in stmts:
        if isinstance(stmt, For):
            yield from walk(stmt.body)
            continue
        if isinstance(stmt, If):
            for body in stmt.bodies:
                yield from walk(body)
            continue
        stack.extend(reversed([stmt.value] if isinstance(stmt, Assign) else stmt.values))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.args))


def readers(stmts: list) -> dict[Local, list[Read]]:
    """Who reads each wire: the `Read` nodes of every local, anywhere in the body."""
    found: dict[Local, list[Read]] = {}
    for node in walk(stmts):
        if isinstance(node, Read):
            found.setdefault(node.local, []).append(node)
    return found


def producers(stmts: list) -> dict[Local, Assign]:
    """Who produces each wire: the assignment that defines each local (loop bodies included)."""
    found: dict[Local, Assign] = {}
    for stmt in stmts:
        if isinstance(stmt, Assign):
            for target in stmt.targets:
                found[target] = stmt
        elif isinstance(stmt, For):
            found.update(producers(stmt.body))
        elif isinstance(stmt, If):
            for body in stmt.bodies:
                found.update(producers(body))
    return found


def component_symbols(component: Component) -> set[Symbol]:
    """Every size symbol a learned part's construction uses (its options, sizes and parts)."""
    found: set[Symbol] = set()

    def visit(item) -> None:
        if isinstance(item, Size):
            found.update(item.symbols())
        elif isinstance(item, (Axis, TensorType)):
            item.map(lambda s: visit(s) or s)  # type: ignore[func-returns-value]
        elif isinstance(item, (list, tuple)):
            for x in item:
                visit(x)
        elif is_dataclass(item) and not isinstance(item, type):  # a part, or a layer's options
            for f in fields(item):
                if f.name not in _NOT_BUILT:
                    visit(getattr(item, f.name))

    visit(component)
    return found


_NOT_BUILT = ("name", "span", "signature", "whole_error")


def construction(component: Component) -> tuple:
    """What building a learned part depends on (its kind, options, sizes and parts, not its name):
    parts with equal constructions are built alike."""
    def key(item):
        if isinstance(item, Component):
            return (type(item).__name__, *(key(getattr(item, f.name)) for f in fields(item)
                                           if f.name not in _NOT_BUILT))
        if isinstance(item, list):
            return tuple(key(x) for x in item)
        return item
    return key(component)


# ---- reading sizes off shapes -------------------------------------------------------------------


@frozen
class SizeSource:
    """Where a generic size is read at run time: `wire.shape[axis] // divisor`."""

    symbol: Symbol
    wire: int
    axis: int
    divisor: Size | None = None


def size_sources(types: list[TensorType], wanted: list[Symbol], known: set[Symbol]) -> list[SizeSource]:
    """How to read each wanted size off the shapes of wires of the given types: from an axis that is
    the size itself, a multiple of it (`16*h`), or a bound axis whose other parts are known."""
    known = set(known)
    pending = [s for s in wanted if s not in known]
    sources: list[SizeSource] = []
    if all(not a.parts and a.size.atom.__class__ is Symbol for t in types for a in t.axes):
        # Every axis one symbol (the common case): each pending one is read at its first axis, which
        # is what the general search below finds in its first sweep (and nothing in another).
        for w, t in enumerate(types):
            for i, axis in enumerate(t.axes):
                symbol = axis.size.atom
                if symbol in pending:
                    sources.append(SizeSource(symbol, w, i))
                    pending.remove(symbol)
        return sources
    progress = True
    while pending and progress:
        progress = False
        for w, t in enumerate(types):
            for i, axis in enumerate(t.axes):
                candidates: list[tuple[Size, list[Size] | None]] = [(axis.size, None)]
                if axis.parts:
                    candidates += [(p.size, [q.size for q in axis.parts if q is not p]) for p in axis.parts]
                for size, others in candidates:
                    found = _readable(size, others, pending, known)
                    if found is not None:
                        symbol, divisor = found
                        sources.append(SizeSource(symbol, w, i, divisor))
                        known.add(symbol)
                        pending.remove(symbol)
                        progress = True
    return sources


def _readable(size: Size, others, pending, known):
    """`size` is `c * s * (known sizes)` for one pending symbol `s` (times the known `others`):
    return (s, divisor)."""
    if not others:  # the common case, an axis that is the pending size itself: its own divisor-free reading
        atom = size.atom
        if atom.__class__ is Symbol and atom in pending:
            return atom, None
    if len(size.terms) != 1:
        return None
    mono, coeff = size.terms[0]
    unknown = [a for a in mono if a not in known]
    if len(unknown) != 1 or not isinstance(unknown[0], Symbol) or unknown[0] not in pending or coeff <= 0:
        return None
    divisor = Size.of(coeff)
    for a in mono:
        if a is not unknown[0]:
            divisor = divisor * Size.of(a)
    for other in others or []:
        if not other.symbols() <= known:
            return None
        divisor = divisor * other
    return unknown[0], (None if divisor == Size.of(1) else divisor)
