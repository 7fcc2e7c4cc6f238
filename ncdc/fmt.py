"""`ncdc fmt`: one canonical layout for .ncd specs, printed from the syntax tree, comments kept.

The layout: four spaces per block, one statement per line, spaces around binary operators (`**`
hugs a name or a number: `2**i`), `box f : a -> b`, one blank line around each `def` and `module`
and at most one elsewhere.  A line longer than LIMIT breaks its outermost brackets first, one item a
line with a trailing comma (as black does).  Comments stay where they were: a comment on a line of
its own before the statement it precedes, at that statement's indentation (or the block's above,
if it was written there); a comment after code at the end of its statement's last line, the
comments of consecutive lines aligned.

Every result is checked before it is given back: it must parse to the same syntax tree (spans
aside) and keep every comment, in order.  A construct the formatter does not know, or a field of
the tree it does not print, is a FormatError, never a silently shortened spec (`_FIELDS` names
what it prints of each node, and tests/test_fmt.py holds it to `ncdc.tree`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Union

from . import tree
from .source import Span
from .syntax import parse

LIMIT = 120
INDENT = "    "


class FormatError(Exception):
    """The formatter cannot print this spec faithfully (a bug in ncdc, never in the spec)."""


# What the printer prints of each node: every field but spans.  tests/test_fmt.py checks this against the
# dataclasses of ncdc.tree, so a node or a field added there fails loudly until the printer knows it.
_FIELDS: dict[type, tuple[str, ...]] = {
    tree.SizeName: ("name",), tree.SizeInt: ("value",), tree.SizeBinary: ("op", "left", "right"),
    tree.SizeGroup: ("items",), tree.TensorTypeNode: ("axes", "dtype"),
    tree.Name: ("name",), tree.Number: ("value",), tree.String: ("value",), tree.Bool: ("value",),
    tree.BinOp: ("op", "left", "right"), tree.Neg: ("operand",), tree.Slice: ("start", "stop"),
    tree.Bracket: ("base", "items"), tree.Relabel: ("value", "type"), tree.Option: ("name", "value"),
    tree.Call: ("func", "args", "options"),
    tree.Assign: ("targets", "value", "layout"), tree.Return: ("values",), tree.For: ("var", "start", "stop", "body"),
    tree.Condition: ("name", "op", "value"), tree.If: ("branches", "orelse"),
    tree.SizeDecl: ("name", "value"), tree.Signature: ("inputs", "outputs"), tree.BoxDecl: ("name", "signature"),
    tree.Param: ("name", "type"), tree.DefDecl: ("name", "params", "results", "body"),
    tree.HParam: ("name", "default", "kind", "choices", "pattern", "default_size"),
    tree.Constructor: ("name", "axes_in", "axes_out", "args", "options"),
    tree.Repeat: ("body", "var", "start", "stop"), tree.Member: ("name", "value"),
    tree.BufferDecl: ("name", "value"),
    tree.ModuleDecl: ("name", "hparams", "members", "methods"),
    tree.Import: ("module", "names"), tree.Program: ("items", "imports"),
}
_SPANS = ("span", "header", "kind_span", "default_span")


def format_source(text: str, path: str = "<string>") -> str:
    """The canonical layout of spec text; raises NcdcError if it does not parse, FormatError (a bug)
    if the result would not say the same."""
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text.removeprefix("\ufeff")
    newline = "\r\n" if "\r\n" in text else "\n"
    text = text.replace("\r\n", "\n")
    program = parse(text, path)
    comments = _comments(text)
    out = _Layout(text, comments).program(program)
    again = parse(out, path)
    if _shape(again) != _shape(program):
        raise FormatError(f"{path}: the formatted spec would parse differently; left unchanged (a bug in ncdc fmt)")
    if [c.text for c in _comments(out)] != [c.text for c in comments]:
        raise FormatError(f"{path}: the formatted spec would lose or reorder a comment; left unchanged "
                          "(a bug in ncdc fmt)")
    return bom + out.replace("\n", newline)


def _shape(node):
    """A node without its spans, as nested tuples: what two parses of the same spec share."""
    if isinstance(node, (list, tuple)):  # tuples: an `if`'s (condition, body) branches
        return [_shape(n) for n in node]
    if dataclasses.is_dataclass(node):
        return (type(node).__name__,) + tuple(
            _shape(getattr(node, f.name)) for f in dataclasses.fields(node) if f.name not in _SPANS)
    return node


# ---- comments ---------------------------------------------------------------------------------------


@dataclass
class _Comment:
    line: int
    column: int  # 0-based, tabs expanded
    text: str
    own_line: bool  # nothing but the comment on its line


def _comments(text: str) -> list[_Comment]:
    """Every `#...` outside a string.  Exact for this language: `#` means nothing else, and strings
    hold no escapes and end on their line."""
    found = []
    for number, line in enumerate(text.split("\n"), 1):
        in_string = False
        for i, char in enumerate(line):
            if char == '"':
                in_string = not in_string
            elif char == "#" and not in_string:
                before = line[:i]
                found.append(_Comment(number, len(before.expandtabs(8)), line[i:].rstrip(), not before.strip()))
                break
    return found


# ---- documents: text with brackets that may break ------------------------------------------------


@dataclass
class _Group:
    """Bracketed items: `open a, b close` on one line, or one item a line, each with a comma."""

    open: str
    items: list[_Doc]
    close: str


_Doc = Union[str, _Group, list]  # a list is a concatenation


def _flat(doc: _Doc) -> str:
    if isinstance(doc, str):
        return doc
    if isinstance(doc, _Group):
        return doc.open + ", ".join(_flat(item) for item in doc.items) + doc.close
    return "".join(_flat(part) for part in doc)


def _render(doc: _Doc, indent: str, column: int, after: int) -> tuple[str, int]:
    """`doc` laid out from `column`, with `after` characters to follow it on its last line; the text
    and the column where it ends."""
    if isinstance(doc, str):
        return doc, column + len(doc)
    if isinstance(doc, _Group):
        flat = _flat(doc)
        if not doc.items or column + len(flat) + after <= LIMIT:
            return flat, column + len(flat)
        inner = indent + INDENT
        lines = [doc.open]
        for item in doc.items:
            text, _ = _render(item, inner, len(inner), 1)
            lines.append(inner + text + ",")
        lines.append(indent + doc.close)
        return "\n".join(lines), len(indent) + len(doc.close)
    widths = [len(_flat(part)) for part in doc]
    texts = []
    for i, part in enumerate(doc):
        text, column = _render(part, indent, column, sum(widths[i + 1:]) + after)
        texts.append(text)
    return "".join(texts), column


# ---- the printer --------------------------------------------------------------------------------------


@dataclass
class _Line:
    """One entry of the output: a statement or header (`doc`), a comment, at a level of indentation."""

    level: int
    doc: _Doc | None = None
    comment: str | None = None
    blank: bool = False  # a blank line before it
    trailing: str | None = None  # a comment after the code
    rendered: str = ""


@dataclass
class _Entry:
    """A statement or header as the source has it: its lines, indentation and level."""

    first: int
    last: int
    indent: int  # of its first line, in the source
    level: int
    doc: _Doc
    separate: bool = False  # one blank line before it (a def or module, or what follows one)
    block_start: bool = False  # the first statement of a block: no blank line before it


class _Layout:
    def __init__(self, text: str, comments: list[_Comment]):
        self.lines = text.split("\n")
        self.comments = comments
        self.entries: list[_Entry] = []

    # ---- the output, from the entries and the comments
    def program(self, program: tree.Program) -> str:
        self._items(sorted(program.items + program.imports, key=lambda item: (item.span.line, item.span.column)))
        return self._assemble()

    def _assemble(self) -> str:
        entries = self.entries
        leading: list[list[_Comment]] = [[] for _ in entries]
        inner: list[list[_Comment]] = [[] for _ in entries]
        trailing: list[list[_Comment]] = [[] for _ in entries]
        at_end: list[_Comment] = []
        for comment in self.comments:
            if not comment.own_line:
                owner = max(i for i, e in enumerate(entries) if e.first <= comment.line)
                trailing[owner].append(comment)
                continue
            within = [i for i, e in enumerate(entries) if e.first < comment.line <= e.last]
            if within:
                inner[within[-1]].append(comment)
                continue
            following = [i for i, e in enumerate(entries) if e.first > comment.line]
            (leading[following[0]] if following else at_end).append(comment)

        out: list[_Line] = []
        previous: _Entry | None = None
        for i, entry in enumerate(entries):
            ahead = leading[i]
            deep = self._deep(ahead, previous, entry.level)
            out += [self._comment_line(c, previous.level if previous else 0) for c in ahead[:deep]]
            group: list[_Line] = [self._comment_line(c, entry.level) for c in ahead[deep:]]
            moved = sorted(inner[i] + trailing[i], key=lambda c: c.line) if inner[i] or len(trailing[i]) > 1 else []
            group += [_Line(entry.level, comment=c.text) for c in moved]
            line = _Line(entry.level, doc=entry.doc, blank=self._blank_before(entry.first))
            if not moved and trailing[i]:
                line.trailing = trailing[i][0].text
            group.append(line)
            if not out:
                group[0].blank = False
            elif entry.block_start and not deep:
                group[0].blank = False
            elif entry.separate:
                group[0].blank = True
            out += group
            previous = entry
        deep = self._deep(at_end, previous, 0)
        out += [self._comment_line(c, previous.level if previous else 0) for c in at_end[:deep]]
        out += [self._comment_line(c, 0) for c in at_end[deep:]]
        if out:
            out[0].blank = False
        return self._text(out)

    def _deep(self, comments: list[_Comment], previous: _Entry | None, level: int) -> int:
        """How many of `comments` (a prefix) belong to the deeper block that `previous` ends."""
        if previous is None or previous.level <= level:
            return 0
        count = 0
        for comment in comments:
            if comment.column < previous.indent:
                break
            count += 1
        return count

    def _comment_line(self, comment: _Comment, level: int) -> _Line:
        return _Line(level, comment=comment.text, blank=self._blank_before(comment.line))

    def _blank_before(self, number: int) -> bool:
        return number >= 2 and not self.lines[number - 2].strip()

    def _text(self, out: list[_Line]) -> str:
        for line in out:
            indent = INDENT * line.level
            if line.doc is not None:
                line.rendered = indent + _render(line.doc, indent, len(indent), 0)[0]
            else:
                line.rendered = indent + (line.comment or "")
        # Trailing comments of consecutive lines of code line up, two spaces after the longest.
        text: list[str] = []
        run: list[_Line] = []

        def close_run() -> None:
            width = max((len(line.rendered.rsplit("\n", 1)[-1]) for line in run if line.trailing), default=0)
            for line in run:
                if line.trailing:
                    last = len(line.rendered.rsplit("\n", 1)[-1])
                    line.rendered += " " * (width + 2 - last) + line.trailing
                text.append(line.rendered)
            run.clear()

        for line in out:
            if line.blank or line.doc is None:
                close_run()
            if line.blank:
                text.append("")
            if line.doc is None:
                text.append(line.rendered)
            else:
                run.append(line)
        close_run()
        return "\n".join(text) + "\n" if text else ""

    # ---- entries
    def _entry(self, first: int, last: int, level: int, doc: _Doc, **flags) -> None:
        source = self.lines[first - 1]
        indent = len(source.expandtabs(8)) - len(source.lstrip(" \t").expandtabs(8))
        self.entries.append(_Entry(first, max(first, last), indent, level, doc, **flags))

    def _items(self, items: list) -> None:
        previous = None
        for item in items:
            big = isinstance(item, (tree.DefDecl, tree.ModuleDecl))
            if isinstance(item, tree.Import):
                path = ".".join(n.name for n in item.module)
                self._entry(item.span.line, item.span.end_line, 0,
                            ["from ", path, " import ", ", ".join(n.name for n in item.names)],
                            separate=isinstance(previous, (tree.DefDecl, tree.ModuleDecl)))
                previous = item
                continue
            separate = big or isinstance(previous, (tree.DefDecl, tree.ModuleDecl))
            if isinstance(item, tree.SizeDecl):
                if isinstance(previous, tree.SizeDecl) and self._same_statement(previous, item):
                    entry = self.entries[-1]
                    entry.doc = [entry.doc, ", ", self._binding(item)]
                    entry.last = max(entry.last, item.span.end_line)
                else:
                    self._entry(item.span.line, item.span.end_line, 0, ["size ", self._binding(item)],
                                separate=separate)
            elif isinstance(item, tree.BoxDecl):
                self._entry(item.span.line, item.span.end_line, 0,
                            f"box {item.name.name} : {self._signature(item.signature)}", separate=separate)
            elif isinstance(item, tree.DefDecl):
                self._def(item, 0, separate=separate)
            elif isinstance(item, tree.ModuleDecl):
                self._module(item, separate=separate)
            else:
                raise _unknown(item)
            previous = item

    def _same_statement(self, previous: tree.SizeDecl, item: tree.SizeDecl) -> bool:
        """`size a = 5, b = 7`: the two bindings are separated by a comma alone."""
        s, e = previous.span, item.span
        between = Span(s.source, s.end_line, s.end_column, e.line, e.column).text
        between = "\n".join(line.split("#", 1)[0] for line in between.split("\n")).replace("\\", "")
        return between.strip() == ","

    def _binding(self, item: tree.SizeDecl) -> str:
        return f"{item.name.name} = {self._size(item.value)}"

    def _def(self, item: tree.DefDecl, level: int, **flags) -> None:
        params = _Group("(", [f"{p.name.name}: {self._type(p.type)}" for p in item.params], ")")
        results = ", ".join(self._type(t) for t in item.results)
        self._entry(item.header.line, item.header.end_line, level,
                    ["def ", item.name.name, params, f" -> {results}:"], **flags)
        self._body(item.body, level + 1)

    def _module(self, item: tree.ModuleDecl, separate: bool) -> None:
        hparams = _Group("(", [self._hparam(h) for h in item.hparams], ")")
        last = max([item.header.end_line] + [h.span.end_line for h in item.hparams])
        self._entry(item.header.line, last, 0, ["module ", item.name.name, hparams, ":"], separate=separate)
        members: list = sorted(item.members + item.methods, key=lambda m: (m.span.line, m.span.column))
        previous = None
        for i, member in enumerate(members):
            flags = {"block_start": i == 0,
                     "separate": i > 0 and isinstance(member, tree.DefDecl) or isinstance(previous, tree.DefDecl)}
            if isinstance(member, tree.DefDecl):
                self._def(member, 1, **flags)
            elif isinstance(member, tree.Member):
                self._entry(member.span.line, member.span.end_line, 1,
                            [member.name.name, " = ", self._component(member.value)], **flags)
            elif isinstance(member, tree.BufferDecl):
                self._entry(member.span.line, member.span.end_line, 1,
                            ["buffer ", member.name.name, " = ", self._expr(member.value)], **flags)
            else:
                raise _unknown(member)
            previous = member

    def _hparam(self, h: tree.HParam) -> str:
        """`m`, `m=512`, `m: (2 * n) = 8`, `p: float = 0.1`, `act: {"relu", "gelu"} = "relu"`."""
        if h.pattern is not None:
            kind = f": ({self._size(h.pattern)})"
        elif h.kind == "choice":
            kind = ": {" + ", ".join(f'"{c}"' for c in h.choices) + "}"
        elif h.kind != "size":
            kind = f": {h.kind}"
        else:
            kind = ""
        if h.default_size is not None:  # `n_inner=4 * n_embd`
            return f"{h.name.name}{kind}={self._size(h.default_size)}"
        if h.default is None:
            return h.name.name + kind
        default = h.default_span.text if h.default_span is not None else str(h.default)
        return f"{h.name.name}{kind} = {default}" if kind else f"{h.name.name}={default}"

    def _condition(self, c: tree.Condition) -> str:
        if c.op == "true":
            return c.name.name
        if c.op == "false":
            return f"not {c.name.name}"
        return f'{c.name.name} {c.op} "{c.value}"'

    def _if(self, stmt: tree.If, level: int, start: bool) -> None:
        for i, (condition, body) in enumerate(stmt.branches):
            first = stmt.span.line if i == 0 else condition.span.line
            self._entry(first, condition.span.end_line, level,
                        f"{'if' if i == 0 else 'elif'} {self._condition(condition)}:", block_start=start and i == 0)
            self._body(body, level + 1)
        if stmt.orelse:
            # The tree keeps no span of `else`: it is the last line before the block that starts with it.
            line = stmt.orelse[0].span.line - 1
            while line > 1 and not self.lines[line - 1].lstrip().startswith("else"):
                line -= 1
            self._entry(line, line, level, "else:")
            self._body(stmt.orelse, level + 1)

    def _body(self, body: list, level: int) -> None:
        for i, stmt in enumerate(body):
            start = i == 0
            if isinstance(stmt, tree.Assign):
                targets = ", ".join(t.name for t in stmt.targets)
                if stmt.layout is not None:
                    targets += ": " + self._type(stmt.layout)
                self._entry(stmt.span.line, stmt.span.end_line, level, [targets, " = ", self._expr(stmt.value)],
                            block_start=start)
            elif isinstance(stmt, tree.Return):
                self._entry(stmt.span.line, stmt.span.end_line, level, ["return ", self._list(stmt.values)],
                            block_start=start)
            elif isinstance(stmt, tree.For):
                header = f"for {stmt.var.name} in {self._range(stmt.start, stmt.stop)}:"
                self._entry(stmt.span.line, stmt.stop.span.end_line, level, header, block_start=start)
                self._body(stmt.body, level + 1)
            elif isinstance(stmt, tree.If):
                self._if(stmt, level, start)
            else:
                raise _unknown(stmt)

    # ---- sizes and types (the tree keeps their parentheses: printed as written)
    def _size(self, node) -> str:
        if isinstance(node, tree.SizeName):
            return node.name
        if isinstance(node, tree.SizeInt):
            return str(node.value)
        if isinstance(node, tree.SizeBinary):
            left, right = self._size(node.left), self._size(node.right)
            if node.op == "**" and isinstance(node.left, (tree.SizeName, tree.SizeInt)):
                return f"{left}**{right}"
            return f"{left} {node.op} {right}"
        if isinstance(node, tree.SizeGroup):
            return "(" + " ".join(self._size(item) for item in node.items) + ")"
        raise _unknown(node)

    def _range(self, start, stop) -> str:
        return f"{self._size(start)}..{self._size(stop)}"

    def _type(self, node: tree.TensorTypeNode) -> str:
        if not isinstance(node, tree.TensorTypeNode):
            raise _unknown(node)
        parts = ([node.dtype] if node.dtype else []) + [self._size(axis) for axis in node.axes]
        return " ".join(parts) if parts else "()"

    def _signature(self, node: tree.Signature) -> str:
        return (", ".join(self._type(t) for t in node.inputs) + " -> "
                + ", ".join(self._type(t) for t in node.outputs))

    # ---- components of modules
    def _component(self, node) -> _Doc:
        if isinstance(node, tree.Constructor):
            arrow = ""
            if node.axes_in is not None:
                arrow = "[" + self._type(node.axes_in)
                arrow += (" -> " + self._type(node.axes_out) if node.axes_out is not None else "") + "]"
            args = [self._component(a) if isinstance(a, (tree.Constructor, tree.Repeat)) else self._value(a)
                    for a in _in_order(node.args + node.options)]
            return [node.name.name + arrow, _Group("(", args, ")")]
        if isinstance(node, tree.Repeat):
            return ["[", self._component(node.body), f" for {node.var.name} in {self._range(node.start, node.stop)}]"]
        return self._size(node)

    def _value(self, node) -> _Doc:
        """An argument or option value of a constructor: a size, a literal or `name=value`."""
        if isinstance(node, tree.Option):
            return [node.name, "=", self._value(node.value)]
        if isinstance(node, (tree.Number, tree.String, tree.Bool)):
            return self._literal(node)
        return self._size(node)

    @staticmethod
    def _literal(node) -> str:
        if isinstance(node, tree.Bool):
            return "true" if node.value else "false"
        if isinstance(node, tree.String):
            return f'"{node.value}"'
        if isinstance(node.value, float):
            written = node.span.text
            return written if _is_float(written, node.value) else repr(node.value)
        return str(node.value)

    # ---- expressions: parentheses where the grammar needs them (the tree does not keep them)
    # Comparisons (level 0) do not chain: both of their sides are sums.
    _PRECEDENCE = {"<": 0, "<=": 0, ">": 0, ">=": 0, "==": 0, "!=": 0,
                   "+": 1, "-": 1, "*": 2, "/": 2, "//": 2, "**": 3}

    def _expr(self, node, least: int = 0) -> _Doc:
        doc, level = self._expr_level(node)
        return ["(", doc, ")"] if level < least else doc

    def _expr_level(self, node) -> tuple[_Doc, int]:
        if isinstance(node, tree.BinOp):
            level = self._PRECEDENCE.get(node.op)
            if level is None:
                raise _unknown(node)
            if node.op == "**":  # `unary ** power`, right-associative; `(-x) ** 2` says what `-x ** 2` means here
                left, right = self._expr(node.left, 5), self._expr(node.right, 3)
                hug = isinstance(node.left, (tree.Name, tree.Number))
                return [left, "**" if hug else " ** ", right], level
            left = self._expr(node.left, level if level else 1)
            return [left, f" {node.op} ", self._expr(node.right, level + 1)], level
        if isinstance(node, tree.Neg):
            return ["-", self._expr(node.operand, 4)], 4
        if isinstance(node, tree.Call):
            args = [self._arg(a) for a in _in_order(node.args + node.options)]
            return [self._expr(node.func, 5), _Group("(", args, ")")], 5
        if isinstance(node, tree.Bracket):
            items: list[_Doc] = [self._bracket_item(item) for item in node.items]
            return [self._expr(node.base, 5), _Group("[", items, "]")], 5
        if isinstance(node, tree.Name):
            return node.name, 6
        if isinstance(node, (tree.Number, tree.String, tree.Bool)):
            return self._literal(node), 6
        raise _unknown(node)

    def _arg(self, node) -> _Doc:
        if isinstance(node, tree.Relabel):
            return [self._expr(node.value), ": " + self._type(node.type)]
        if isinstance(node, tree.Option):
            return self._value(node)
        return self._expr(node)

    def _bracket_item(self, node) -> str:
        if isinstance(node, tree.Slice):
            start = self._size(node.start) if node.start is not None else ""
            stop = self._size(node.stop) if node.stop is not None else ""
            return f"{start}:{stop}"
        return self._type(node)

    def _list(self, docs: list) -> _Doc:
        out: list = []
        for i, node in enumerate(docs):
            out += [", "] if i else []
            out.append(self._expr(node))
        return out


def _in_order(nodes: list) -> list:
    """Arguments and options as written (the tree keeps them apart)."""
    return sorted(nodes, key=lambda n: (n.span.line, n.span.column))


def _is_float(text: str, value: float) -> bool:
    try:
        return float(text) == value
    except ValueError:
        return False


def _unknown(node) -> FormatError:
    return FormatError(f"ncdc fmt does not know `{type(node).__name__}` (ncdc.tree); teach ncdc/fmt.py to print it")
