"""A JSON form of the typed IR for other tools: `ncdc check --emit ir --format json`.

The form is versioned (`"version"`, see `VERSION`) and validated by the JSON Schema in
tests/data/ncdc-ir.schema.json; docs/ir-json.md describes it.  Like
the text form (ncdc/ir_text.py) it is generic over the IR's dataclasses, so a new kind of node
needs no code here: every node is an object

    {"class": "Einsum", "id": 3, "type": {...}, "span": "specs/x.ncd:12:9", "fields": {...}}

with its class name, its type and span where it has them, and all its other fields by name in
declaration order (defaults included: a tool never has to know one).  Every JSON object has a
`class`, so a reader dispatches on it alone: besides nodes there are `TensorType`, `TupleType`,
`ScalarType` and `Axis`; `Symbol` (`{"class": "Symbol", "name": "h"}`); `Dict` (a mapping keyed by
names, `{"class": "Dict", "items": {...}}`); and references.  A value used twice is written once,
where it is first met (depth first, fields in order), then referred to as `{"class": "ValueRef",
"id": 3}`; a wire (`Local`) is written where it is defined, then `{"class": "LocalRef", "id": 2}`;
the callee of a signature is named, `{"class": "DefinitionRef", "name": "F", "kind": "Function"}`.
Sizes are strings as the spec spells them (`16*h`, `h//2`); spans are `file:line:column`.

The output is deterministic: ids count from 0 in the order they are met, dicts keep the IR's
order, and nothing holds an address or a hash.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from . import ir
from .sizes import FloorDiv, Size, Symbol, Var, format_size
from .source import Span

__all__ = ["VERSION", "program_json"]

# Bumped when a tool reading version N could misread the new form (a field renamed or its
# encoding changed); new node classes and new fields do not bump it.
VERSION = 1


def program_json(program: ir.Program) -> dict:
    """The program as a JSON-ready dict: its constants, then boxes, defs and modules in spec order."""
    encoder = _Encoder()
    definitions: list[ir.Box | ir.Function | ir.Module] = [*program.boxes, *program.functions, *program.modules]
    by_name = {d.name: d for d in definitions}
    return {
        "path": program.path,
        "constants": [encoder.node(c) for c in program.constants],
        "definitions": [encoder.node(by_name[name]) for name in program.order if name in by_name],
    }


class _Encoder:
    def __init__(self) -> None:
        self.values: dict[int, int] = {}  # id(Value) -> its number
        self.locals: dict[int, int] = {}  # id(Local) -> its number
        self.keep: list = []  # what is numbered, alive so that its id stays its own

    def node(self, node) -> dict:
        """A dataclass instance, every field written."""
        out: dict[str, Any] = {"class": type(node).__name__}
        if isinstance(node, (ir.Value, ir.Local)):
            table = self.values if isinstance(node, ir.Value) else self.locals
            table[id(node)] = out["id"] = len(table)
            self.keep.append(node)
        fields: dict[str, Any] = {}
        for f in dataclasses.fields(node):
            item = getattr(node, f.name)
            if f.name == "type":
                out["type"] = self.item(item)
            elif f.name == "span":
                out["span"] = self.item(item)
            elif f.name == "target" and isinstance(node, ir.Signature):
                fields[f.name] = self.reference(item)
            else:
                fields[f.name] = self.item(item)
        out["fields"] = fields
        return out

    def reference(self, definition) -> dict | None:
        """What a signature calls: by name (the definition itself is written where it is declared)."""
        if definition is None:
            return None
        return {"class": "DefinitionRef", "name": getattr(definition, "name", ""), "kind": type(definition).__name__}

    def item(self, item) -> Any:
        if item is None or isinstance(item, (bool, str, int)):
            return item
        if isinstance(item, float):
            return item if math.isfinite(item) else str(item)  # `inf`, `-inf`, `nan`: JSON has none
        if isinstance(item, ir.Value):
            return {"class": "ValueRef", "id": self.values[id(item)]} if id(item) in self.values else self.node(item)
        if isinstance(item, ir.Local):
            return {"class": "LocalRef", "id": self.locals[id(item)]} if id(item) in self.locals else self.node(item)
        if isinstance(item, Size):
            return format_size(item)
        if isinstance(item, FloorDiv):
            return format_size(Size.of(item))
        if isinstance(item, (Symbol, Var)):
            return {"class": "Symbol", "name": item.name}
        if isinstance(item, Span):
            return item.location
        if isinstance(item, ir.TensorType):
            return {"class": "TensorType", "axes": [self.axis(a) for a in item.axes], "dtype": item.dtype}
        if isinstance(item, ir.TupleType):
            return {"class": "TupleType", "items": [self.item(t) for t in item.items]}
        if isinstance(item, ir.ScalarType):
            return {"class": "ScalarType"}
        if isinstance(item, ir.Axis):
            return self.axis(item)
        if isinstance(item, (tuple, list)):
            return [self.item(x) for x in item]
        if isinstance(item, dict):
            return {"class": "Dict", "items": {_key(k): self.item(v) for k, v in item.items()}}
        if hasattr(item, "code") and hasattr(item, "message"):  # a diagnostic kept in the IR: why, not where
            return {"class": "Diagnostic", "code": item.code, "message": item.message}
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            return self.node(item)
        return {"class": type(item).__name__}  # never an id or an address: the output stays deterministic

    def axis(self, axis: ir.Axis) -> dict:
        return {"class": "Axis", "size": format_size(axis.size), "label": axis.label,
                "parts": [self.axis(p) for p in axis.parts]}


def _key(key) -> str:
    if isinstance(key, (Symbol, Var)):
        return key.name
    if isinstance(key, Size):
        return format_size(key)
    return str(key)
