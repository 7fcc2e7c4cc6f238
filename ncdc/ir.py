"""The typed IR: the one contract between the checker and every back end.

Every wire has a statically known type (its axes in order, each with a symbolic size); every node
says what it does (`kind` plus attributes) and where it came from in the spec.  Back ends read it
and never re-infer anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .sizes import FloorDiv, Size, Symbol, Var, format_size
from .source import Span


@dataclass(frozen=True)
class Axis:
    size: Size
    origin: Span | None = field(default=None, compare=False)
    parts: tuple[Axis, ...] = ()  # the axes bound into this one: `(k h)`

    @property
    def label(self) -> str | None:
        """The name softmax[x], einsum and lifting refer to: the size's symbol, if it is one."""
        atom = self.size.atom
        if isinstance(atom, (Symbol, Var)):
            return atom.name
        if self.parts and all(p.label for p in self.parts):
            return "(" + " ".join(p.label for p in self.parts) + ")"
        return None

    def map(self, fn) -> Axis:
        """The same axis with `fn` applied to its size and to the sizes of its parts."""
        return Axis(fn(self.size), self.origin, tuple(p.map(fn) for p in self.parts))

    def __str__(self):
        if self.parts:
            return "(" + " ".join(str(p) for p in self.parts) + ")"
        text = format_size(self.size)
        return text if self.size.atom is not None and not isinstance(self.size.atom, FloorDiv) \
            or self.size.constant is not None else f"({text})"


@dataclass(frozen=True)
class TensorType:
    axes: tuple[Axis, ...]

    @property
    def rank(self) -> int:
        return len(self.axes)

    @property
    def sizes(self) -> tuple[Size, ...]:
        return tuple(a.size for a in self.axes)

    def map(self, fn) -> TensorType:
        return TensorType(tuple(a.map(fn) for a in self.axes))

    def __str__(self):
        return " ".join(str(a) for a in self.axes) if self.axes else "()"


class ScalarType:
    """A number computed at run time (`sqrt(k)`, `0.5`): it broadcasts over any tensor."""

    rank = 0
    axes = ()

    def __str__(self):
        return "scalar"


SCALAR = ScalarType()
Type = TensorType | ScalarType


def signature_text(inputs, outputs) -> str:
    return ", ".join(map(str, inputs)) + " -> " + ", ".join(map(str, outputs))


# ---- expressions ----------------------------------------------------------------------------


@dataclass
class Node:
    """One operation: `kind` selects the typing rule's result and the back end's lowering."""

    kind: str
    args: list[Node]
    type: Type
    span: Span
    attrs: dict[str, Any] = field(default_factory=dict)


# ---- statements and definitions -------------------------------------------------------------


@dataclass
class Assign:
    targets: list[str]
    value: Node
    types: list[Type]
    span: Span


@dataclass
class Return:
    values: list[Node]
    span: Span


@dataclass
class For:
    var: Symbol
    start: Size
    stop: Size
    body: list
    span: Span


@dataclass
class Param:
    name: str
    type: TensorType
    span: Span


@dataclass
class Box:
    """An abstract box: only its type is known; an implementation is injected at run time."""

    name: str
    inputs: list[TensorType]
    outputs: list[TensorType]
    generics: list[Symbol]
    span: Span


@dataclass
class Function:
    name: str
    params: list[Param]
    results: list[TensorType]
    generics: list[Symbol]
    body: list = field(default_factory=list)
    span: Span | None = None
    header: Span | None = None
    boxes: list[str] = field(default_factory=list)  # abstract boxes it needs, itself or through calls

    @property
    def inputs(self) -> list[TensorType]:
        return [p.type for p in self.params]

    @property
    def outputs(self) -> list[TensorType]:
        return self.results


@dataclass
class HParam:
    name: str
    symbol: Symbol
    default: int | None
    span: Span


@dataclass
class Component:
    """A learned part or a submodule instance declared in a module (bold in the diagram)."""

    name: str
    kind: str  # "Linear", "Conv2d", ..., "module", "seq", "repeat"
    attrs: dict[str, Any]
    span: Span


@dataclass
class SizeMember:
    name: str
    symbol: Symbol
    value: Size
    span: Span


@dataclass
class Module:
    name: str
    hparams: list[HParam]
    members: list[SizeMember | Component]
    forward: Function
    span: Span
    header: Span
    boxes: list[str] = field(default_factory=list)

    def components(self) -> list[Component]:
        return [m for m in self.members if isinstance(m, Component)]


@dataclass
class Program:
    path: str
    constants: list[SizeMember]
    boxes: list[Box]
    functions: list[Function]
    modules: list[Module]
    order: list[str]  # definitions in spec order, for deterministic output


@dataclass(frozen=True)
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
    progress = True
    while pending and progress:
        progress = False
        for w, t in enumerate(types):
            for i, axis in enumerate(t.axes):
                candidates = [(axis.size, None)]
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
