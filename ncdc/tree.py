"""The syntax tree: what the spec says, with a span on every node, before any checking."""

from __future__ import annotations

from .nodes import field, mutable
from .source import Span

# ---- sizes and types ---------------------------------------------------------------------------


@mutable
class SizeName:
    name: str
    span: Span


@mutable
class SizeInt:
    value: int
    span: Span


@mutable
class SizeBinary:
    op: str  # + - * // **
    left: SizeNode
    right: SizeNode
    span: Span


@mutable
class SizeGroup:
    """Parenthesised axes: one item is plain grouping, several bind into one axis `(k h)`."""

    items: list[SizeNode]
    span: Span


SizeNode = SizeName | SizeInt | SizeBinary | SizeGroup


@mutable
class TensorTypeNode:
    axes: list[SizeNode]
    span: Span
    dtype: str | None = None  # the element type written before the axes: `int t`, `bool y x`


# ---- expressions ----------------------------------------------------------------------------


@mutable
class Name:
    name: str
    span: Span


@mutable
class Number:
    value: int | float
    span: Span


@mutable
class String:
    value: str
    span: Span


@mutable
class Bool:
    value: bool
    span: Span


@mutable
class BinOp:
    op: str  # + - * / // ** and the comparisons < <= > >= == !=
    left: Expr
    right: Expr
    span: Span


@mutable
class Neg:
    operand: Expr
    span: Span


@mutable
class Slice:
    start: SizeNode | None
    stop: SizeNode | None
    span: Span


@mutable
class Bracket:
    """`base[items]`: axes for an operation (`softmax[x]`, `G[c]`) or indexes of a wire."""

    base: Expr
    items: list[TensorTypeNode | Slice]
    span: Span


@mutable
class Relabel:
    """`X: a b` as an argument: the wire's axes under local names (einsum, rearrange)."""

    value: Expr
    type: TensorTypeNode
    span: Span


@mutable
class Option:
    name: str
    value: Expr | SizeNode
    span: Span


@mutable
class Call:
    func: Expr
    args: list[Expr | Relabel]
    options: list[Option]
    span: Span


Expr = Name | Number | BinOp | Neg | Bracket | Call


# ---- statements -----------------------------------------------------------------------------


@mutable
class Assign:
    targets: list[Name]
    value: Expr
    span: Span
    layout: TensorTypeNode | None = None  # `O: t h k = ...`: the wire's axes in this order


@mutable
class Return:
    values: list[Expr]
    span: Span


@mutable
class For:
    var: Name
    start: SizeNode
    stop: SizeNode
    body: list[Stmt]
    span: Span


@mutable
class Condition:
    """A static condition on a hyperparameter: `norm_first`, `not norm_first`, `norm == "pre"`."""

    name: Name
    op: str  # "true", "false", "==", "!="
    value: str | None
    span: Span


@mutable
class If:
    """`if cond: ... elif cond: ... else: ...`: branches as (condition, body), then `orelse`."""

    branches: list[tuple[Condition, list[Stmt]]]
    orelse: list[Stmt]
    span: Span


Stmt = Assign | Return | For | If


# ---- declarations ---------------------------------------------------------------------------


@mutable
class SizeDecl:
    name: Name
    value: SizeNode
    span: Span


@mutable
class Signature:
    inputs: list[TensorTypeNode]
    outputs: list[TensorTypeNode]
    span: Span


@mutable
class BoxDecl:
    name: Name
    signature: Signature
    span: Span


@mutable
class Param:
    name: Name
    type: TensorTypeNode
    span: Span


@mutable
class DefDecl:
    name: Name
    params: list[Param]
    results: list[TensorTypeNode]
    body: list[Stmt]
    span: Span
    header: Span  # `def name(...) -> ...`, for the docstring and for errors about the whole def


@mutable
class HParam:
    """A hyperparameter: a size (`m=512`) or a value of a `kind` ("float", "bool", "choice", or
    whatever name was written, for the checker to reject), with its choices."""

    name: Name
    default: int | float | bool | str | None
    span: Span
    kind: str = "size"
    choices: list[str] = field(default_factory=list)
    kind_span: Span | None = None
    default_span: Span | None = None
    pattern: SizeNode | None = None  # `m: (2 * n)`: the size is this multiple of a new size
    default_size: SizeNode | None = None  # `n_inner=4 * n_embd`: a default of earlier hyperparameters


@mutable
class Constructor:
    """`Linear[m -> k h](bias=false)`, `Bottleneck(n0, n1, 2)`, `seq(a, b)`."""

    name: Name
    axes_in: TensorTypeNode | None
    axes_out: TensorTypeNode | None
    args: list[SizeNode | Constructor | Repeat]
    options: list[Option]
    span: Span


@mutable
class Repeat:
    """`[Block(...) for i in 0..N]`: fresh weights for every repetition."""

    body: Constructor
    var: Name
    start: SizeNode
    stop: SizeNode
    span: Span


@mutable
class Member:
    """`name = ...` inside a module: a derived size, a learned part or a submodule."""

    name: Name
    value: SizeNode | Constructor | Repeat
    span: Span


@mutable
class BufferDecl:
    """`buffer name = expr` inside a module: a constant wire computed when the module is built."""

    name: Name
    value: Expr
    span: Span


@mutable
class ModuleDecl:
    name: Name
    hparams: list[HParam]
    members: list[Member | BufferDecl]
    methods: list[DefDecl]
    span: Span
    header: Span


@mutable
class Import:
    """`from lib.attention import MultiHeadAttention, Attention`: definitions of another spec."""

    module: list[Name]  # the path of the spec, `lib/attention.ncd`, beside the importing one
    names: list[Name]
    span: Span


@mutable
class Program:
    items: list[SizeDecl | BoxDecl | DefDecl | ModuleDecl] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
