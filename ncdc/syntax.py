"""Parsing: .ncd text to the syntax tree of `ncdc.tree`, with the LALR tables Lark makes of the grammar.

Valid specs are parsed by `ncdc.lalr` from those tables, without importing Lark; a spec that
does not parse is parsed again by Lark, whose exceptions never leave this module: they become
named syntax errors (E00xx).
"""

from __future__ import annotations

import math
from functools import lru_cache

from . import lalr, tree
from .diagnostics import Diagnostic, NcdcError
from .resources import data_dir
from .source import Source, Span

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2.4 ms of `import ncdc`)

if TYPE_CHECKING:
    from lark import Token  # the tokens of Lark's syntax errors

ELEMENT_TYPES = ("float", "int", "bool")  # written before a type's axes: `T: int t`


@lru_cache(maxsize=1)
def _grammar() -> str:
    return (data_dir("grammar") / "ncd.lark").read_text(encoding="utf-8")


# How Lark reads the grammar: blocks by indentation (Lark's Indenter), positions, `None` for absent `[parts]`.
_INDENTER = {"NL_type": "_NL", "OPEN_PAREN_types": ["LPAR", "LSQB"], "CLOSE_PAREN_types": ["RPAR", "RSQB"],
             "INDENT_type": "_INDENT", "DEDENT_type": "_DEDENT", "tab_len": 8}
_OPTIONS = {"parser": "lalr", "propagate_positions": True, "maybe_placeholders": True}


@lru_cache(maxsize=1)
def _tables() -> lalr.Tables:
    return lalr.load_tables(_grammar(), _parser, settings=repr((_INDENTER, _OPTIONS)))


@lru_cache(maxsize=1)
def _parser():
    """Lark's parser of the grammar: it makes the tables, and it reports syntax errors."""
    from lark import Lark
    from lark.indenter import Indenter

    indenter = type("_Indenter", (Indenter,), dict(_INDENTER))
    return Lark(_grammar(), postlex=indenter(), cache=True, **_OPTIONS)


# Token names as a person would say them, for "expected ..." messages.
_TOKEN_NAMES = {
    "NAME": "a name", "INT": "an integer", "FLOAT": "a number", "STRING": "a string",
    "_NL": "end of line", "_INDENT": "an indented block", "_DEDENT": "end of block", "$END": "end of file",
    "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "COMMA": "`,`", "COLON": "`:`",
    "EQUAL": "`=`", "PLUS": "`+`", "MINUS": "`-`", "STAR": "`*`", "SLASH": "`/`",
    "DOT": "`.`",
}


def _describe(token_type: str) -> str:
    if token_type in _TOKEN_NAMES:
        return _TOKEN_NAMES[token_type]
    pattern = _parser().get_terminal(token_type).pattern if token_type in _terminal_names() else None
    if pattern is not None and pattern.type == "str":  # keywords and operators: `->`, `//`, `def`
        return f"`{pattern.value}`"
    return token_type.lower()


@lru_cache(maxsize=1)
def _terminal_names() -> frozenset[str]:
    return frozenset(t.name for t in _parser().terminals)


def _found(token: Token) -> str:
    if token.type == "$END":
        return "end of file"
    if token.type == "_NL":
        return "end of line"
    if token.type == "_INDENT":
        return "indentation"
    if token.type == "_DEDENT":
        return "end of an indented block"
    return f"`{token.value}`"


def _token_span(source: Source, token: Token) -> Span:
    line = token.line or 1
    column = token.column or 1
    end_line = token.end_line or line
    end_column = token.end_column or column + 1
    if token.type == "_NL":  # point at the end of the line, not at the next line's indentation
        end_line, end_column = line, column + 1
    if token.type == "_INDENT":  # point at the indented line, from where its text starts
        line, column = end_line, end_column
        end_column = len(source.line(line)) + 1
    return Span(source, line, column, end_line, max(end_column, column + 1))


def _at_end(source: Source, token: Token) -> bool:
    """End of input, or only the newlines and dedents the indenter adds after the last text."""
    if token.type == "$END":
        return True
    if token.type not in ("_NL", "_DEDENT") or token.line is None:
        return False
    lines = source.lines
    if token.line > len(lines):
        return True
    rest = "\n".join([lines[token.line - 1][(token.column or 1) - 1:]] + lines[token.line:])
    return not rest.strip()


def _end_span(source: Source) -> Span:
    lines = source.lines or [""]
    return Span(source, len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2)


def _syntax_error(source: Source, error) -> Diagnostic:
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    if isinstance(error, UnexpectedCharacters):
        span = Span(source, error.line, error.column, error.line, error.column + 1)
        char = source.line(error.line)[error.column - 1 : error.column] or "?"
        help = "names are letters, digits and `_`; comments start with `#`"
        if char == "." and source.line(error.line).lstrip().startswith("module"):
            help = "a hyperparameter that is a number says so: `p: float = 0.1`"
        return Diagnostic("E0001", f"unexpected character `{char}`", span, "not part of the language", help=help)
    if isinstance(error, UnexpectedToken) and not _at_end(source, error.token):
        expected = sorted({_describe(t) for t in error.expected})
        span = _token_span(source, error.token)
        named = _named_error(error)
        if named is not None:
            diag = Diagnostic("E0002", named, span, f"found {_found(error.token)}, expected {_one_of(expected)}")
        else:
            diag = Diagnostic("E0002", f"unexpected {_found(error.token)}", span, "expected " + _one_of(expected))
        if error.token.type == "_INDENT":
            diag.help = "indent only the body of a `def`, a `module` or a `for`"
        return diag
    span = _end_span(source)
    expected = sorted({_describe(t) for t in getattr(error, "expected", ()) or ()})
    return Diagnostic("E0003", "unexpected end of file", span,
                      "expected " + _one_of(expected) if expected else "")


# Common mistakes, named by example: Lark matches the parser state of an error against these.
_NAMED_ERRORS = {
    "a signature needs `->` between its inputs and its outputs": [
        "box f : 4 2\n", "box f : a, b\n", "box f : a b c\n"],
    "a `def` needs its result type: `def f(X: a) -> b:`": [
        "def f(x: a):\n    return x\n", "def f():\n    return x\n"],
    "a line that opens a block ends with `:`": [
        "def f(x: a) -> a\n    return x\n", "module M(a)\n    def forward(x: a) -> a:\n        return x\n"],
    "a parameter needs its type: `X: a b`": [
        "def f(x) -> a:\n    return x\n", "def f(x, y: a) -> a:\n    return x\n"],
    "an axis list goes in brackets before the arguments: `softmax[x](S)`": [
        "def f(x: a) -> a:\n    return softmax(x)[a]\n"],
}


def _named_error(error) -> str | None:
    try:
        return error.match_examples(_parser().parse, _NAMED_ERRORS, use_accepts=True)
    except Exception:  # a failed match only loses the name, never the error itself
        return None


def _one_of(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    if len(items) <= 6:
        return "one of " + ", ".join(items)
    return "one of " + ", ".join(items[:6]) + ", ..."


def parse(text: str, path: str = "<string>") -> tree.Program:
    """Parse .ncd text; raises NcdcError with a syntax diagnostic on malformed input."""
    text = text.removeprefix("\ufeff")  # a byte-order mark is not part of the spec
    source = Source(path, text)
    if not text.endswith("\n"):
        text += "\n"
    try:
        return _tables().parse(text, _ToTree(source))
    except lalr.ParseFailed:
        pass
    except NcdcError:  # the builder's (a number too large, ...): unless the spec does not even parse
        _syntax_check(source, text)
        raise
    except RecursionError:
        raise NcdcError(nesting_error(path)) from None
    _syntax_check(source, text)
    raise AssertionError("ncdc.lalr refused a spec that Lark parses")  # a bug in ncdc.lalr, never the spec's


def _syntax_check(source: Source, text: str) -> None:
    """Parse with Lark, and raise NcdcError with the syntax diagnostic if the text does not parse."""
    from lark.exceptions import UnexpectedInput
    from lark.indenter import DedentError

    try:
        _parser().parse(text)
    except UnexpectedInput as error:
        raise NcdcError(_syntax_error(source, error)) from None
    except DedentError:
        line = _dedent_line(source)
        span = Span(source, line, 1, line, len(source.line(line)) + 1)
        raise NcdcError(Diagnostic("E0004", "inconsistent indentation", span,
                                   "this line lines up with no enclosing block",
                                   help="indent it like the lines of the block it belongs to")) from None


def nesting_error(path: str, span: Span | None = None) -> Diagnostic:
    """E0007: a spec nested too deeply for the compiler's recursion (a mistake, or a generator's)."""
    return Diagnostic("E0007", f"{path} nests expressions too deeply", span,
                      "nested too deeply here" if span is not None else "", file=path,
                      help="split the expression over several statements")


def _dedent_line(source: Source) -> int:
    """The first line whose indentation matches none of the open blocks (Lark does not say which)."""
    stack = [0]
    for number, line in enumerate(source.lines, 1):
        stripped = line.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line.expandtabs(8)) - len(stripped.expandtabs(8))
        if indent > stack[-1]:
            stack.append(indent)
        while indent < stack[-1]:
            stack.pop()
        if indent != stack[-1]:
            return number
    return 1


_LINE, _COLUMN = lalr.LINE_SHIFT, lalr.COLUMN_MASK


class _ToTree:
    """The syntax tree's builder: one method per grammar rule (or alias), called by `ncdc.lalr` with
    the rule's region of text (the positions of its start and its end) and its children, a kept
    token as (text, start, end): the children Lark's transformer would give it."""

    def __init__(self, source: Source):
        self.source = source

    def _span(self, start: int, end: int) -> Span:
        return Span(self.source, start >> _LINE, start & _COLUMN, end >> _LINE, end & _COLUMN)

    def _tok(self, token: tuple[str, int, int]) -> Span:
        _, start, end = token
        return Span(self.source, start >> _LINE, start & _COLUMN, end >> _LINE, end & _COLUMN)

    def _name(self, token: tuple[str, int, int]) -> tree.Name:
        text, start, end = token
        return tree.Name(text, Span(self.source, start >> _LINE, start & _COLUMN, end >> _LINE, end & _COLUMN))

    # ---- sizes and types
    def size_name(self, start, end, children):
        return tree.SizeName(children[0][0],
                             Span(self.source, start >> _LINE, start & _COLUMN, end >> _LINE, end & _COLUMN))

    def size_int(self, start, end, children):
        text = children[0][0]
        if len(text) > 30:
            raise NcdcError(Diagnostic("E0006", "this number is too large", self._span(start, end), "out of range"))
        return tree.SizeInt(int(text), self._span(start, end))

    @staticmethod
    def _size_binary(op):
        def build(self, start, end, children):
            return tree.SizeBinary(op, children[0], children[1], self._span(start, end))
        return build

    size_add, size_sub = _size_binary("+"), _size_binary("-")
    size_mul, size_floordiv, size_pow = _size_binary("*"), _size_binary("//"), _size_binary("**")

    def size_paren(self, start, end, children):
        return tree.SizeGroup(list(children), self._span(start, end))

    def tensor_type(self, start, end, children):
        axes = list(children)
        dtype = None
        if isinstance(axes[0], tree.SizeName) and axes[0].name in ELEMENT_TYPES:
            dtype = axes.pop(0).name
        for axis in axes:
            if isinstance(axis, tree.SizeName) and axis.name in ELEMENT_TYPES:
                raise NcdcError(Diagnostic("E0008", f"`{axis.name}` is an element type, not an axis", axis.span,
                                           "not first", help=f"the element type comes before the axes: "
                                           f"`X: {axis.name} t`"))
        return tree.TensorTypeNode(axes, self._span(start, end), dtype)

    def scalar_type(self, start, end, children):
        return tree.TensorTypeNode([], self._span(start, end))

    def tuple_type(self, start, end, children):
        return list(children)

    # ---- expressions
    def name(self, start, end, children):  # the token's region is the rule's
        return tree.Name(children[0][0],
                         Span(self.source, start >> _LINE, start & _COLUMN, end >> _LINE, end & _COLUMN))

    def _number(self, start, end, text: str, value):
        if len(text) > 30 or (isinstance(value, float) and not math.isfinite(value)):
            raise NcdcError(Diagnostic("E0006", "this number is too large", self._span(start, end), "out of range"))
        return tree.Number(value, self._span(start, end))

    def int_lit(self, start, end, children):
        text = children[0][0]
        return self._number(start, end, text, int(text) if len(text) <= 30 else 0)

    def float_lit(self, start, end, children):
        text = children[0][0]
        return self._number(start, end, text, float(text))

    def string_lit(self, start, end, children):
        return tree.String(children[0][0][1:-1], self._span(start, end))

    def true_lit(self, start, end, children):
        return tree.Bool(True, self._span(start, end))

    def false_lit(self, start, end, children):
        return tree.Bool(False, self._span(start, end))

    @staticmethod
    def _binop(op):
        def build(self, start, end, children):
            return tree.BinOp(op, children[0], children[1], self._span(start, end))
        return build

    add, sub, mul, div = _binop("+"), _binop("-"), _binop("*"), _binop("/")
    floordiv, pow = _binop("//"), _binop("**")
    lt, le, gt, ge, eq, ne = _binop("<"), _binop("<="), _binop(">"), _binop(">="), _binop("=="), _binop("!=")

    def neg(self, start, end, children):
        return tree.Neg(children[0], self._span(start, end))

    def slice(self, start, end, children):
        return tree.Slice(children[0], children[1], self._span(start, end))

    def bracket_items(self, start, end, children):
        return [c for c in children if c is not None]

    def bracket(self, start, end, children):
        return tree.Bracket(children[0], children[1], self._span(start, end))

    def relabel(self, start, end, children):
        return tree.Relabel(children[0], children[1], self._span(start, end))

    def option(self, start, end, children):
        return tree.Option(children[0][0], children[1], self._span(start, end))

    def args(self, start, end, children):
        return [c for c in children if c is not None]

    def call(self, start, end, children):
        func, args = children[0], children[1] or []
        return tree.Call(func, [a for a in args if not isinstance(a, tree.Option)],
                        [a for a in args if isinstance(a, tree.Option)], self._span(start, end))

    # ---- statements
    def _until(self, start, last) -> Span:
        """A statement's span ends with its last part, not with the newline after it."""
        span = last.span
        return Span(self.source, start >> _LINE, start & _COLUMN, span.end_line, span.end_column)

    def assign(self, start, end, children):
        *targets, value = children
        return tree.Assign([self._name(t) for t in targets], value, self._until(start, value))

    def typed_assign(self, start, end, children):
        target, layout, value = children
        return tree.Assign([self._name(target)], value, self._until(start, value), layout)

    def return_stmt(self, start, end, children):
        return tree.Return(list(children), self._until(start, children[-1]))

    def for_stmt(self, start, end, children):
        var, low, high, body = children
        return tree.For(self._name(var), low, high, body, self._span(start, end))

    def suite(self, start, end, children):
        return list(children)

    # ---- declarations
    def size_binding(self, start, end, children):
        return tree.SizeDecl(self._name(children[0]), children[1], self._span(start, end))

    def size_decl(self, start, end, children):
        return list(children)

    def signature(self, start, end, children):
        return tree.Signature(children[0], children[1], self._span(start, end))

    def box_decl(self, start, end, children):
        return tree.BoxDecl(self._name(children[0]), children[1], self._until(start, children[1]))

    def param(self, start, end, children):
        return tree.Param(self._name(children[0]), children[1], self._span(start, end))

    def params(self, start, end, children):
        return [c for c in children if c is not None]

    def def_decl(self, start, end, children):
        name, params, results, body = children
        last = results[-1].span if results else self._tok(name)
        header = Span(self.source, start >> _LINE, start & _COLUMN, last.end_line, last.end_column)
        return tree.DefDecl(self._name(name), params or [], results, body, self._span(start, end), header)

    def hparam(self, start, end, children):
        default = children[1]  # a size expression (its numbers are checked for size by size_int)
        if isinstance(default, tree.SizeInt):
            return tree.HParam(self._name(children[0]), default.value, self._span(start, end))
        # `n_inner=4 * n_embd`: a default computed from the hyperparameters before it
        return tree.HParam(self._name(children[0]), None, self._span(start, end), default_size=default,
                           default_span=default.span if default is not None else None)

    def value_hparam(self, start, end, children):
        name, (kind, choices, kind_span), default = children
        return tree.HParam(self._name(name), default.value if default is not None else None, self._span(start, end),
                           kind, choices, kind_span, default.span if default is not None else None)

    def pattern_hparam(self, start, end, children):
        name, pattern, default = children
        if default is not None and len(default[0]) > 30:
            raise NcdcError(Diagnostic("E0006", "this number is too large", self._tok(default), "out of range"))
        return tree.HParam(self._name(name), int(default[0]) if default is not None else None, self._span(start, end),
                           pattern=pattern, kind_span=pattern.span)

    def named_kind(self, start, end, children):
        return children[0][0], [], self._span(start, end)

    def choice_kind(self, start, end, children):
        return "choice", [c[0][1:-1] for c in children if c is not None], self._span(start, end)

    def cond_true(self, start, end, children):
        return tree.Condition(self._name(children[0]), "true", None, self._span(start, end))

    def cond_false(self, start, end, children):
        return tree.Condition(self._name(children[0]), "false", None, self._span(start, end))

    def cond_eq(self, start, end, children):
        return tree.Condition(self._name(children[0]), "==", children[1][0][1:-1], self._span(start, end))

    def cond_ne(self, start, end, children):
        return tree.Condition(self._name(children[0]), "!=", children[1][0][1:-1], self._span(start, end))

    def elif_clause(self, start, end, children):
        return children[0], children[1]

    def if_stmt(self, start, end, children):
        condition, body, *rest = children
        orelse = rest.pop() if rest and not isinstance(rest[-1], tuple) else None
        branches = [(condition, body), *rest]
        last = (orelse or branches[-1][1])[-1]
        return tree.If(branches, orelse or [], self._until(start, last))

    def hparams(self, start, end, children):
        return [c for c in children if c is not None]

    def arrow_type(self, start, end, children):
        return children

    def ctor_args(self, start, end, children):
        return [c for c in children if c is not None]

    def constructor(self, start, end, children):
        name, arrow, args = children
        axes_in, axes_out = arrow if arrow is not None else (None, None)
        args = args or []
        return tree.Constructor(self._name(name), axes_in, axes_out,
                               [a for a in args if not isinstance(a, tree.Option)],
                               [a for a in args if isinstance(a, tree.Option)], self._span(start, end))

    def repeat(self, start, end, children):
        body, var, low, high = children
        return tree.Repeat(body, self._name(var), low, high, self._span(start, end))

    def component_decl(self, start, end, children):
        return tree.Member(self._name(children[0]), children[1], self._until(start, children[1]))

    def buffer_decl(self, start, end, children):
        return tree.BufferDecl(self._name(children[0]), children[1], self._until(start, children[1]))

    def module_decl(self, start, end, children):
        name, hparams, *members = children
        name_end = name[2]
        header = Span(self.source, start >> _LINE, start & _COLUMN, name_end >> _LINE, name_end & _COLUMN)
        return tree.ModuleDecl(self._name(name), hparams or [],
                              [m for m in members if isinstance(m, (tree.Member, tree.BufferDecl))],
                              [m for m in members if isinstance(m, tree.DefDecl)], self._span(start, end), header)

    def import_path(self, start, end, children):
        return [self._name(c) for c in children]

    def import_decl(self, start, end, children):
        path, *tokens = children
        names = [self._name(n) for n in tokens if n is not None]
        return tree.Import(path, names, self._until(start, names[-1]))

    def start(self, start, end, children):
        items, imports = [], []
        for child in children:
            if isinstance(child, list):
                items.extend(child)
            elif isinstance(child, tree.Import):
                imports.append(child)
            elif child is not None and not isinstance(child, tuple):  # a token
                items.append(child)
        return tree.Program(items, imports)
