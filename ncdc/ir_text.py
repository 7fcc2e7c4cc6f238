"""A text form of the typed IR: `ncdc check --emit ir`, and the golden files in tests/golden/ir/.

The form is SSA-like: in each body every value is one line, numbered in order with its operands
before it, with its type and where it is in the spec:

    %2 = einsum[inputs=[[y, k], [x, k]], output=[y, x], sizes={y=y, k=k, x=x}](%0, %1) : y x  @12:9
    S = %4  @12:5

A node prints generically from its dataclass fields (after `type` and `span`): fields holding
values are its operands, `(%0, %1)`; the others are its attributes, `[name=value, ...]`, in
declaration order, leaving out empty collections and fields at their default.  A new kind of node
prints without new code here.  A wire (`Local`) prints by name where it is assigned; a name
assigned again in the same body gets a suffix, `h.1`, so that every read names one definition.

The text is deterministic (no ids, no hashes, no absolute paths beyond the spec's own path) and
needs neither torch nor jinja.
"""

from __future__ import annotations

import dataclasses
import re

from . import ir
from .sizes import FloorDiv, Size, Symbol, Var, format_size
from .source import Span

__all__ = ["format_program", "format_function", "format_body", "format_value"]


def format_program(program: ir.Program) -> str:
    """The whole program: constants, boxes, defs and modules in spec order."""
    lines = [f"program {program.path}"]
    for constant in program.constants:
        lines.append(f"size {constant.name} = {_size(constant.value)}{_at(constant.span)}")
    definitions: list[ir.Box | ir.Function | ir.Module] = [*program.boxes, *program.functions, *program.modules]
    by_name = {d.name: d for d in definitions}
    modules = {m.name: m for m in program.modules}
    for name in program.order:
        item = by_name.get(name)
        if item is None:
            continue
        lines.append("")
        if isinstance(item, ir.Box):
            lines.append(f"box {item.name}{_generics(item.generics)}: "
                         f"{ir.signature_text(item.inputs, item.outputs)}{_at(item.span)}")
        elif isinstance(item, ir.Function):
            lines += format_function(item)
        else:
            lines += _module(item, modules)
    return "\n".join(lines) + "\n"


def format_function(function: ir.Function, keyword: str = "def", indent: str = "",
                    body: list | None = None) -> list[str]:
    """A def (or a forward): its header, then its body (`body` replaces the function's own, e.g.
    a back end's rewrite of it)."""
    params = ", ".join(f"{p.name}: {p.type}" for p in function.params)
    results = ", ".join(str(t) for t in function.results)
    name = "" if keyword == "forward" else f" {function.name}"
    head = f"{indent}{keyword}{name}{_generics(function.generics)}({params}) -> {results}"
    if function.boxes:
        head += f"  boxes=[{', '.join(function.boxes)}]"
    head += _at(function.span)
    return [head] + _preconditions(function.preconditions, indent + "  ") \
        + format_body(function.body if body is None else body, function.params, indent + "  ")


def _preconditions(preconditions, indent: str) -> list[str]:
    """`requires n >= 3 (why)  @2:14`: what the generated code checks (at each call of a def, at
    construction of a module)."""
    return [f"{indent}requires {str(pre).removeprefix('needs ')}{_at(pre.span)}" for pre in preconditions]


def format_body(stmts: list, params: tuple | list = (), indent: str = "  ") -> list[str]:
    return _BodyPrinter(params).block(stmts, indent)


def format_value(node: ir.Value) -> str:
    """One expression on its own, as the lines its values print to (reads name their wires)."""
    printer = _BodyPrinter([])
    lines: list[str] = []
    printer.value(node, "", lines)
    return "\n".join(lines)


# ---- bodies -------------------------------------------------------------------------------------


class _BodyPrinter:
    def __init__(self, params):
        self.numbers: dict[int, int] = {}  # id(value) -> its number
        self.keep: list = []  # the numbered values, alive so that their ids stay theirs
        self.local_names: dict[int, str] = {}  # id(Local) -> its name here
        self.seen_names: dict[str, int] = {}
        for p in params:
            self.define(p)

    def define(self, local: ir.Local) -> str:
        if id(local) not in self.local_names:
            count = self.seen_names.get(local.name, 0)
            self.seen_names[local.name] = count + 1
            self.local_names[id(local)] = local.name if count == 0 else f"{local.name}.{count}"
        return self.local_names[id(local)]

    def local(self, local: ir.Local) -> str:
        # A read of a wire defined nowhere before (broken IR) still prints, marked.
        return self.local_names.get(id(local), f"{local.name}?")

    def block(self, stmts: list, indent: str) -> list[str]:
        lines: list[str] = []
        for stmt in stmts:
            if isinstance(stmt, ir.Assign):
                ref = self.value(stmt.value, indent, lines)
                names = ", ".join(self.define(t) for t in stmt.targets)
                lines.append(f"{indent}{names} = {ref}{_at(stmt.span)}")
            elif isinstance(stmt, ir.Return):
                refs = [self.value(v, indent, lines) for v in stmt.values]
                lines.append(f"{indent}return {', '.join(refs)}{_at(stmt.span)}")
            elif isinstance(stmt, ir.For):
                lines.append(f"{indent}for {stmt.var.name} in {_size(stmt.start)}..{_size(stmt.stop)}:"
                             f"{_at(stmt.span)}")
                lines += self.block(stmt.body, indent + "  ")
            elif isinstance(stmt, ir.If):
                for i, (condition, body) in enumerate(stmt.branches):
                    lines.append(f"{indent}{'if' if i == 0 else 'elif'} {condition}:{_at(stmt.span) if i == 0 else ''}")
                    lines += self.block(body, indent + "  ")
                if stmt.orelse:
                    lines.append(f"{indent}else:")
                    lines += self.block(stmt.orelse, indent + "  ")
            else:
                lines.append(f"{indent}<{type(stmt).__name__}>")
        return lines

    def value(self, node: ir.Value, indent: str, lines: list[str]) -> str:
        """Print `node` after its operands; returns its reference, `%n`."""
        if id(node) in self.numbers:  # a value used twice is one value
            return f"%{self.numbers[id(node)]}"
        for arg in node.args:
            self.value(arg, indent, lines)
        wires, operands, attrs = [], [], []
        for f in dataclasses.fields(node):
            if f.name in ("type", "span"):
                continue
            item = getattr(node, f.name)
            if isinstance(item, ir.Local):  # the wire a node reads: `read Q`
                wires.append(self.local(item))
            elif _is_operand(item):
                operands.append(self.item(item))
            elif not _omitted(f, item):
                attrs.append(f"{f.name}={self.item(item)}")
        number = len(self.numbers)
        self.numbers[id(node)] = number
        self.keep.append(node)
        text = " ".join([_kind(type(node)), *wires])
        if attrs:
            text += f"[{', '.join(attrs)}]"
        if operands or not wires:
            text += f"({', '.join(operands)})"
        lines.append(f"{indent}%{number} = {text} : {_type(node.type)}{_at(node.span)}")
        return f"%{number}"

    def item(self, item) -> str:
        if isinstance(item, ir.Value):
            return f"%{self.numbers[id(item)]}" if id(item) in self.numbers else "%?"
        if isinstance(item, ir.Local):
            return self.local(item)
        if isinstance(item, tuple) and _is_operand(item):
            return ", ".join(self.item(x) for x in item)
        return _text(item, self.item)


def _is_operand(item) -> bool:
    """A field that holds values (an operand, or a tuple of them): printed as `(%0, %1)`."""
    if isinstance(item, ir.Value):
        return True
    return isinstance(item, tuple) and bool(item) and all(isinstance(x, ir.Value) for x in item)


def _omitted(f: dataclasses.Field, item) -> bool:
    if isinstance(item, (tuple, list, dict)) and not item:
        return True
    if f.default is not dataclasses.MISSING and item is f.default:
        return True
    return f.default is not dataclasses.MISSING and not isinstance(item, Size) and item == f.default


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _kind(cls: type) -> str:
    """`Einsum` -> `einsum`, `ScalarBinary` -> `scalar_binary`."""
    return _CAMEL.sub("_", cls.__name__).lower()


# ---- attributes ---------------------------------------------------------------------------------


def _text(item, inner=None) -> str:
    """An attribute: sizes and types as the spec spells them, collections in brackets, small
    dataclasses as `kind(field=value, ...)`."""
    inner = inner or _text
    if item is None:
        return "none"
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (int, float, str)):
        return repr(item) if isinstance(item, float) else str(item)
    if isinstance(item, Size):
        return _size(item)
    if isinstance(item, (Symbol, Var, ir.HParamRef)):
        return item.name
    if isinstance(item, FloorDiv):
        return _size(Size.of(item))
    if isinstance(item, (ir.TensorType, ir.TupleType, ir.ScalarType, ir.Axis)):
        return f"`{_type(item)}`"  # `k h`: two axes, as one attribute
    if isinstance(item, ir.Group):
        return str(item)
    if isinstance(item, ir.IndexAll):
        return ":"
    if isinstance(item, ir.IndexAt):
        return _size(item.position)
    if isinstance(item, ir.IndexSlice):
        return f"{_size(item.start)}:{_size(item.stop)}"
    if isinstance(item, ir.Signature):
        return _signature(item)
    if isinstance(item, ir.Local):
        return item.name
    if isinstance(item, Span):
        return f"{item.line}:{item.column}"
    if isinstance(item, (tuple, list)):
        return "[" + ", ".join(inner(x) for x in item) + "]"
    if isinstance(item, dict):
        return "{" + ", ".join(f"{_text(k)}={inner(v)}" for k, v in item.items()) + "}"
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        fields = [f"{f.name}={inner(getattr(item, f.name))}" for f in dataclasses.fields(item)
                  if not _omitted(f, getattr(item, f.name))]
        return f"{_kind(type(item))}({', '.join(fields)})"
    return f"<{type(item).__name__}>"  # never an id or an address: the text stays deterministic


def _size(size: Size) -> str:
    return format_size(size)


def _type(t) -> str:
    return str(t)


def _generics(symbols) -> str:
    return f"[{', '.join(s.name for s in symbols)}]" if symbols else ""


def _signature(sig: ir.Signature) -> str:
    batch = " batch" if sig.batch else ""
    return f"{sig.kind}{batch}{_generics(sig.generics)}({ir.signature_text(sig.inputs, sig.outputs)})"


def _at(span: Span | None) -> str:
    return f"  @{span.line}:{span.column}" if span is not None else "  @?"


# ---- modules ------------------------------------------------------------------------------------


def _hparam(hp: ir.HParam) -> str:
    kind = "" if hp.kind == "size" else ": " + (hp.kind if hp.kind != "choice" else
                                                 "{" + ", ".join(f'"{c}"' for c in hp.choices) + "}")
    default = "" if hp.default is None else ("=" if hp.kind == "size" else " = ") + \
        (f'"{hp.default}"' if isinstance(hp.default, str) else _text(hp.default))
    if hp.default_size is not None:  # `n_inner=4*n_embd (=3072)`: the expression, and its value from the defaults
        default = f"={format_size(hp.default_size)}" + (f" (={hp.default})" if hp.default is not None else "")
    return hp.name + kind + default


def _module(module: ir.Module, modules: dict) -> list[str]:
    hparams = ", ".join(_hparam(hp) for hp in module.hparams)
    head = f"module {module.name}({hparams})"
    if module.boxes:
        head += f"  boxes=[{', '.join(module.boxes)}]"
    lines = [head + _at(module.span)]
    for member in module.members:
        if isinstance(member, ir.SizeMember):
            lines.append(f"  size {member.name} = {_size(member.value)}{_at(member.span)}")
        elif isinstance(member, ir.Component):
            lines += _component(member, modules, "  ", "part ")
        elif isinstance(member, ir.Buffer):
            lines.append(f"  buffer {member.name} : {member.type}{_at(member.span)}")
            lines += format_body([ir.Return([member.value], member.span)], (), "    ")
        else:
            lines.append(f"  <{type(member).__name__}>")
    lines += _preconditions(module.preconditions, "  ")
    lines += format_function(module.forward, "forward", "  ")
    return lines


_COMPONENT_SKIP = ("name", "span", "signature")


def _component(part: ir.Component, modules: dict, indent: str, prefix: str) -> list[str]:
    """A learned part: `part NAME = kind[attributes] : signature`, with the parts it holds below it."""
    attrs, children = [], []
    if isinstance(part, ir.Layer):
        kind = f"layer {part.op}"
        if part.attrs is not None:  # every option, defaults included: they are what is built
            attrs = [f"{f.name}={_text(getattr(part.attrs, f.name))}" for f in dataclasses.fields(part.attrs)]
    elif isinstance(part, ir.Instance):
        kind = f"instance {part.module}"
        target = modules.get(part.module)
        names = [hp.name for hp in target.hparams] if target is not None else []
        attrs = [f"{names[i] if i < len(names) else i}={_text(a)}" for i, a in enumerate(part.args)]
    else:
        kind = _kind(type(part))
        for f in dataclasses.fields(part):
            if f.name in _COMPONENT_SKIP or f.name in ("op", "attrs"):
                continue
            item = getattr(part, f.name)
            if isinstance(item, ir.Component):
                children.append((f.name, [item]))
            elif isinstance(item, list) and item and all(isinstance(x, ir.Component) for x in item):
                children.append((f.name, item))
            elif hasattr(item, "message") and hasattr(item, "code"):  # a diagnostic: why, not where
                attrs.append(f"{f.name}={item.code}: {item.message}")
            elif not _omitted(f, item):
                attrs.append(f"{f.name}={_text(item)}")
    sig = f" : {_signature(part.signature)}" if part.signature is not None else ""
    text = f"{indent}{prefix}{part.name} = {kind}" + (f"[{', '.join(attrs)}]" if attrs else "")
    lines = [text + sig + _at(part.span)]
    for label, items in children:
        lines.append(f"{indent}  {label}:")
        for item in items:
            lines += _component(item, modules, indent + "    ", "")
    return lines
