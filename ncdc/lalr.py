"""A lean LALR driver over the tables Lark builds from grammar/ncd.lark: the parser of valid specs.

Lark is the grammar's one interpreter: it builds the tables (states, rules, the per-state lexers
of its contextual lexer) and it reports every syntax error.  Importing Lark and running its
general machinery (trees, then a transformer over them) costs more than checking most specs, so
specs are parsed here instead, from those tables saved in ncdc's cache, calling the
syntax-tree builder's per-rule method at each reduction with the children Lark's transformer
would give it, and the same region of text as Lark's `meta`.  Any failure (a character no
terminal matches, a token no state expects, inconsistent indentation) raises `ParseFailed`: the
caller then parses with Lark, which says what is wrong.

What the builder is given (see `Tables.parse`): positions are single integers, `position(line,
column)`, that compare as the places in the text do; a region is the position of its start and
of its end, as two arguments; a token that a rule keeps (a name, a number, a string) is the tuple
(text, start, end); the tokens that rules drop (punctuation, keywords, newlines) are never made.

The cache file holds what its tables were made from (the grammar's text, Lark's options, this
module's format) and is used only where that matches, so an edited grammar never meets old tables;
it is written atomically (concurrent runs race harmlessly), its content is deterministic, and where
it cannot be read or written the tables are built in memory.
"""

from __future__ import annotations

import marshal
import re
import zlib
from operator import itemgetter

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2.4 ms of `import ncdc`)
if TYPE_CHECKING:
    from typing import Any, Callable

FORMAT = 5  # bump when the table layout or the semantics of the driver change

LINE_SHIFT = 32  # a position is line << LINE_SHIFT | column (both 1-based): one int, ordered as the text
COLUMN_MASK = (1 << LINE_SHIFT) - 1
EMPTY_START = 1 << 62  # the start of an empty region (no token in it): after every position
EMPTY_END = -1


def position(line: int, column: int) -> int:
    """The position of 1-based `line` and `column`, as the builder is given them."""
    return line << LINE_SHIFT | column


class ParseFailed(Exception):
    """The driver met input it does not accept: Lark is to parse it and say why."""


# Kinds of rule, as the driver reduces them.
_PASS = 0  # `?rule` with one child kept as is: the child is the rule's value, nothing to build
_SINGLE = 1  # `?rule` that keeps one child among others: that child is the value, its region the rule's
_INLINE = 2  # `_rule` (EBNF repetitions among them): its children go into its parent's children
_BUILD = 3  # the builder's method of that name makes the value


def build_tables(lark) -> dict:
    """The JSON-able tables of a Lark LALR parser made with a contextual lexer and an Indenter."""
    frontend = lark.parser
    table = frontend.parser._parse_table
    contextual = frontend.lexer.lexer
    if lark.lexer_conf.g_regex_flags or lark.lexer_conf.use_bytes or lark.lexer_conf.callbacks:
        raise ValueError("ncdc.lalr: lexer flags and callbacks are not supported")
    root = contextual.root_lexer.scanner
    order = [t.name for t in root.terminals]
    position = {name: i for i, name in enumerate(order)}
    nullable = _nullable(lark.rules)

    # Lark numbers the states in an order that follows the hashing of strings when it has just
    # compiled the grammar: they are numbered again, breadth first from the start, each state's
    # successors in the order of their symbols, so that the same grammar gives the same tables.
    start = table.start_states["start"]
    number_of = {start: 0}
    visits = [start]
    for state in visits:
        for _symbol, (action, arg) in sorted(table.states[state].items()):
            if action.name == "Shift" and arg not in number_of:
                number_of[arg] = len(visits)
                visits.append(arg)
    if len(visits) != len(table.states):
        raise ValueError("ncdc.lalr: a state that the start state does not reach")

    rules: list = []
    rule_index: dict[int, int] = {}
    states: list[dict[str, int]] = []
    kept: set[str] = set()
    for state in visits:
        actions = {}
        for symbol, (action, arg) in table.states[state].items():
            if action.name == "Shift":
                actions[symbol] = number_of[arg]
            else:
                if id(arg) not in rule_index:
                    rule_index[id(arg)] = len(rules)
                    rules.append(_rule_spec(arg, lark.options.maybe_placeholders, nullable, kept))
                actions[symbol] = ~rule_index[id(arg)]
        states.append(dict(sorted(actions.items())))

    lexers: list[dict] = []
    lexer_index: dict[int, int] = {}
    state_lexers = []
    for state in visits:
        basic = contextual.lexers[state]
        if id(basic) not in lexer_index:
            lexer_index[id(basic)] = len(lexers)
            names = [t.name for t in basic.scanner.terminals]
            indices = [position.get(name, -1) for name in names]
            in_order = -1 not in indices and indices == sorted(indices)
            unless = {}
            for name, callback in basic.callback.items():
                keywords = callback.scanner.terminals
                if any(k.pattern.flags or k.pattern.type != "str" for k in keywords):
                    raise ValueError("ncdc.lalr: only plain keywords are supported")
                unless[name] = {k.pattern.value: k.name for k in sorted(keywords, key=lambda k: k.name)}
            # Where the state's terminals are a subsequence of the root's, the root's match is the
            # state's whenever it is one of the state's terminals; elsewhere the state's pattern decides.
            lexers.append({"terminals": sorted(names), "unless": unless, "in_order": in_order,
                           "pattern": _pattern(basic.scanner.terminals)})
        state_lexers.append(lexer_index[id(basic)])
    postlex = lark.options.postlex
    return {
        "format": FORMAT,
        "start": 0, "end": number_of[table.end_states["start"]],
        "states": states, "rules": rules, "lexers": lexers, "state_lexers": state_lexers,
        "pattern": _pattern(root.terminals), "by_first": _by_first(root.terminals),
        "alternatives": [_pattern([t]) for t in root.terminals],
        "ignore": sorted(contextual.root_lexer.ignore_types),
        "newline": sorted(contextual.root_lexer.newline_types),
        "kept": sorted(kept),
        "indenter": {"nl": postlex.NL_type, "indent": postlex.INDENT_type, "dedent": postlex.DEDENT_type,
                     "open": sorted(postlex.OPEN_PAREN_types), "close": sorted(postlex.CLOSE_PAREN_types),
                     "tab_len": postlex.tab_len},
    }


def _pattern(terminals) -> str:
    return "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals)


_ASCII = frozenset(chr(code) for code in range(128))


def _by_first(terminals) -> dict[str, list[int]]:
    """Per ASCII character, where not all of them, the terminals (their places in the lexer's order)
    that may match a text starting with it: where that character is, the others cannot match, so the
    alternation of these takes the same terminal, with the same match, as the alternation of all."""
    firsts = [_first(t.pattern.to_regexp()) for t in terminals]
    table = {}
    for char in sorted(_ASCII):
        indices = [i for i, first in enumerate(firsts) if char in first]
        if len(indices) < len(firsts):
            table[char] = indices
    return table


def _sre():
    """The standard library's own reading of patterns and its opcodes: `re._parser` and
    `re._constants` from Python 3.11, `sre_parse` and `sre_constants` in 3.10 (which has no atomic
    groups or possessive repeats: those opcodes are None there, and match no opcode)."""
    try:
        from re import _constants, _parser
    except ImportError:  # Python 3.10
        import sre_constants as _constants
        import sre_parse as _parser
    return _parser, _constants


def _first(regexp: str) -> frozenset[str]:
    """The ASCII characters a match of `regexp` may start with: all of them where it may match the
    empty text or where this reading of the pattern is unsure (more than the truth is always safe)."""
    chars, nullable = _first_of(_sre()[0].parse(regexp))
    return _ASCII if nullable else frozenset(chars)


def _first_of(items) -> tuple[set[str], bool]:
    """(the first characters of the sequence `items` of a parsed pattern, whether it may match empty)."""
    c = _sre()[1]
    atomic, possessive = getattr(c, "ATOMIC_GROUP", None), getattr(c, "POSSESSIVE_REPEAT", None)
    chars: set[str] = set()
    for op, arg in items:
        if op is c.LITERAL:
            chars.add(chr(arg))
            return chars, False
        if op is c.IN:
            chars |= _in_set(arg)
            return chars, False
        if op is c.SUBPATTERN or op is atomic:
            if op is c.SUBPATTERN and (arg[1] or arg[2]):  # flags (ignore case, ...): unsure
                return set(_ASCII), True
            first, nullable = _first_of(arg[-1] if op is c.SUBPATTERN else arg)
        elif op is c.BRANCH:
            first, nullable = set(), False
            for branch in arg[1]:
                more, empty = _first_of(branch)
                first |= more
                nullable = nullable or empty
        elif op is c.MAX_REPEAT or op is c.MIN_REPEAT or op is possessive:
            first, nullable = _first_of(arg[2])
            nullable = nullable or arg[0] == 0
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):  # takes no character (ignoring what it asserts: more, never less)
            continue
        else:  # any character, a back reference, ...: unsure
            return set(_ASCII), True
        chars |= first
        if not nullable:
            return chars, False
    return chars, True


def _in_set(items) -> set[str]:
    c = _sre()[1]

    categories = {c.CATEGORY_DIGIT: r"\d", c.CATEGORY_NOT_DIGIT: r"\D", c.CATEGORY_SPACE: r"\s",
                  c.CATEGORY_NOT_SPACE: r"\S", c.CATEGORY_WORD: r"\w", c.CATEGORY_NOT_WORD: r"\W"}
    chars: set[str] = set()
    for op, arg in items:
        if op is c.LITERAL:
            chars.add(chr(arg))
        elif op is c.RANGE:
            chars.update(chr(code) for code in range(arg[0], arg[1] + 1) if code < 128)
        elif op is c.CATEGORY and arg in categories:
            chars.update(char for char in _ASCII if re.fullmatch(categories[arg], char))
        else:  # NEGATE, other categories: unsure
            return set(_ASCII)
    return chars


def _nullable(rules) -> set[str]:
    """The rules (by name) that may match no token at all: their region may be empty."""
    nullable: set[str] = set()
    grown = True
    while grown:
        grown = False
        for rule in rules:
            if rule.origin.name not in nullable and all(
                    not s.is_term and s.name in nullable for s in rule.expansion):
                nullable.add(rule.origin.name)
                grown = True
    return nullable


def _rule_spec(rule, maybe_placeholders: bool, nullable: set[str], kept: set[str]) -> list:
    """[origin, size, kind, method name, [[index, nones before], ...] (index < 0: ~index is inlined), nones after,
    whether its first symbol always has a token] -- the children Lark's ChildFilter keeps, with the `None`s
    of absent `[optional]` parts.  The names of the terminals kept are added to `kept`."""
    expansion = rule.expansion
    empty = rule.options.empty_indices if maybe_placeholders else None
    if empty:
        s = "".join(str(int(b)) for b in empty)
        nones = [len(ones) for ones in s.split("0")]
    else:
        nones = [0] * (len(expansion) + 1)
    include, pending = [], 0
    for i, symbol in enumerate(expansion):
        pending += nones[i]
        if rule.options.keep_all_tokens or not (symbol.is_term and symbol.filter_out):
            inline = not symbol.is_term and symbol.name.startswith("_")
            include.append([~i if inline else i, pending])
            pending = 0
            if symbol.is_term:
                kept.add(symbol.name)
    pending += nones[len(expansion)]
    # str(): a grammar Lark has just compiled names its aliases with its Tokens (a str subclass that
    # marshal cannot write); one it read back from its own cache names them with plain strings
    name = str(rule.alias or rule.options.template_source or rule.origin.name)
    kind = _INLINE if name.startswith("_") else _BUILD
    if rule.options.expand1 and not rule.alias:
        if any(i < 0 for i, _ in include):
            raise ValueError(f"ncdc.lalr: `?{rule.origin.name}` inlines a `_rule`: not supported")
        if len(include) + sum(n for _, n in include) + pending == 1:  # one child: Lark's ExpandSingleChild
            if not include or include[0][1] or pending:
                raise ValueError(f"ncdc.lalr: `?{rule.origin.name}` may be just `None`: not supported")
            if len(expansion) == 1:
                kind = _PASS
            elif expansion[include[0][0]].is_term:
                raise ValueError(f"ncdc.lalr: `?{rule.origin.name}` keeps one token among others: not supported")
            else:
                kind = _SINGLE
        # else: a `?rule` keeps several children (or none), and builds as a plain rule does
    solid = bool(expansion) and (expansion[0].is_term or expansion[0].name not in nullable)
    return [rule.origin.name, len(expansion), kind, name, include, pending, solid]


# ---- the tables: from the cache, or made by Lark and saved there ---------------------------------


def _key(grammar: str, settings: str) -> str:
    """What the tables are made from: the file holds it whole, and is read only where it matches."""
    return f"{FORMAT}\n{settings}\n{grammar}"


def cache_file(grammar: str, settings: str = "") -> str:
    """The cache's file for the tables of `grammar` made with `settings` (Lark's options, in words)."""
    from .cache_files import folder

    # A checksum, not a secure hash, which would import hashlib (a tenth of `import ncdc`): a file
    # that another grammar's tables share is never read as this grammar's (`load_tables`).
    key = f"{zlib.crc32(_key(grammar, settings).encode('utf-8')):08x}"
    return str(folder("parser") / f"ncd-{key}.marshal")


def load_tables(grammar: str, make_lark: Callable[[], Any], settings: str = "") -> Tables:
    """The tables of `grammar`, from the cache if it has them, else built with `make_lark()` (and cached)."""
    path = cache_file(grammar, settings)
    key = _key(grammar, settings)
    try:
        with open(path, "rb") as file:
            found, fields = marshal.loads(file.read())  # (`marshal.load` reads a file object in small pieces)
        if found == key:
            return Tables(fields)
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        pass  # absent, unreadable, damaged, or another grammar's: build them again
    # The driver's form of the tables, as marshal writes it (read several times faster than JSON, and
    # with no module to import); its version 2 has no references between objects, so that the same
    # tables are always the same bytes.
    from . import cache_files

    blob = marshal.dumps((key, driver_tables(build_tables(make_lark()))), 2)
    cache_files.write(path, blob)  # where it cannot be written, the tables still work, from memory
    return Tables(marshal.loads(blob)[1])


# What a terminal asks of the lexer beyond being passed to the parser (`Tables.special`).
_IGNORED, _IGNORED_LINES, _LINES, _NEWLINE, _OPEN, _CLOSE = 1, 2, 3, 4, 5, 6


def driver_tables(data: dict) -> dict:
    """The tables in the form the driver reads (`Tables`' fields), from `build_tables`' data: terminals
    and rules as small integers, the actions and gotos as lists indexed by state, then by terminal or
    rule number."""
    raw_rules = data["rules"]
    indenter = data["indenter"]
    origins = sorted({r[0] for r in raw_rules})
    nonterminal = {name: i for i, name in enumerate(origins)}
    names = set(re.compile(data["pattern"]).groupindex) | {"$END", indenter["indent"], indenter["dedent"]}
    for lexer in data["lexers"]:
        names.update(lexer["terminals"])
        for words in lexer["unless"].values():
            names.update(words.values())
    for row in data["states"]:
        names.update(symbol for symbol in row if symbol not in nonterminal)
    terminal_names = sorted(names)
    terminal = {name: i for i, name in enumerate(terminal_names)}

    error = ~len(raw_rules)
    actions, gotos = [], []
    for row in data["states"]:
        shifts = [error] * len(terminal)
        goes = [-1] * len(nonterminal)
        for symbol, action in row.items():
            if symbol in nonterminal:
                goes[nonterminal[symbol]] = action
            else:
                shifts[terminal[symbol]] = action
        actions.append(shifts)
        gotos.append(goes)

    special = [0] * len(terminal)
    for name in data["newline"]:
        special[terminal[name]] = _LINES
    for name in data["ignore"]:
        special[terminal[name]] = _IGNORED_LINES if special[terminal[name]] else _IGNORED
    special[terminal[indenter["nl"]]] = _NEWLINE
    for name in indenter["open"]:
        special[terminal[name]] = _OPEN
    for name in indenter["close"]:
        special[terminal[name]] = _CLOSE

    lexers = []
    for lexer in data["lexers"]:
        unless = {terminal[name]: {word: terminal[kind] for word, kind in words.items()}
                  for name, words in lexer["unless"].items()}
        lexers.append((frozenset(terminal[name] for name in lexer["terminals"]) if lexer["in_order"] else None,
                       unless or None))
    return {
        "format": data["format"], "start": data["start"], "end": data["end"],
        "method_names": sorted({r[3] for r in raw_rules if r[2] == _BUILD}),
        "lexers": data["lexers"], "indenter": indenter, "terminal_names": terminal_names, "terminal": terminal,
        "error": error, "actions": actions, "gotos": gotos,
        "rules": [(r[1], nonterminal[r[0]], r[2], r[3], r[4], r[5], r[6]) for r in raw_rules],
        "special": special, "kept": [name in data["kept"] for name in terminal_names],
        "pattern": data["pattern"], "by_first": data["by_first"], "alternatives": data["alternatives"],
        "state_lexers": [(lexers[i][0], i, lexers[i][1]) for i in data["state_lexers"]],
    }


class Tables:
    """The tables as the driver reads them (`driver_tables`), and the driver."""

    def __init__(self, fields: dict) -> None:
        """From `driver_tables`' fields (as the cache holds them)."""
        if fields["format"] != FORMAT:
            raise ValueError("tables of another format")
        self.start: int = fields["start"]
        self.end: int = fields["end"]
        self.method_names: list[str] = fields["method_names"]
        self.lexers: list[dict] = fields["lexers"]
        self.indenter: dict = fields["indenter"]
        self.terminal_names: list[str] = fields["terminal_names"]
        self.terminal: dict[str, int] = fields["terminal"]
        self.error: int = fields["error"]
        # actions[state][terminal]: a shift (the next state, >= 0), a reduction (~rule), or an error
        self.actions: list[list[int]] = fields["actions"]
        self.gotos: list[list[int]] = fields["gotos"]
        # rules: (size, origin, kind, method name, include, nones after, first symbol has a token)
        self.rules: list[tuple] = fields["rules"]
        self.special: list[int] = fields["special"]
        self.kept: list[bool] = fields["kept"]
        # per first character: the root's pattern of the terminals that may start with it, made when first met
        self._pattern, self._by_first = fields["pattern"], fields["by_first"]
        self._alternatives: list[str] = fields["alternatives"]
        self.root_by_first: dict[str, tuple[Callable, list[int]]] = {}
        self._root_by_terminals: dict[tuple[int, ...], tuple[Callable, list[int]]] = {}
        # per state: (its terminals where the root's pattern serves it, else None; its lexer; its keywords)
        self.state_lexers: list[tuple] = fields["state_lexers"]
        self._own: dict[int, tuple[Callable, list[int]]] = {}  # the states' own patterns, compiled when needed
        self._chains: dict[int, int] = {}  # the steps of `_passes`, worked out when first needed
        self._made: dict[type, list] = {}  # `_reducers`, per class of builder

    @property
    def pattern(self) -> re.Pattern:
        """The root lexer's pattern: the alternation of every terminal, in its order."""
        return re.compile(self._pattern)

    def _kinds(self, pattern: re.Pattern) -> list[int]:
        """The terminal of each group of `pattern` (a match's `lastindex`: its outermost group that matched)."""
        kinds = [-1] * (pattern.groups + 1)
        for name, index in pattern.groupindex.items():
            kinds[index] = self.terminal[name]
        return kinds

    def _root_lexer(self, char: str) -> tuple[Callable, list[int]]:
        """The root's pattern for a place where `char` is: the alternation of the terminals that
        may start with it (`_by_first`), or of all (where none may, or `char` is not ASCII)."""
        indices = tuple(self._by_first.get(char, ()))
        lexer = self._root_by_terminals.get(indices)  # the letters share one, the digits another, ...
        if lexer is None:
            pattern = re.compile("|".join(self._alternatives[i] for i in indices) if indices else self._pattern)
            lexer = self._root_by_terminals[indices] = (pattern.match, self._kinds(pattern))
        self.root_by_first[char] = lexer
        return lexer

    def _own_lexer(self, lexer: int) -> tuple[Callable, list[int]]:
        own = self._own.get(lexer)
        if own is None:
            pattern = re.compile(self.lexers[lexer]["pattern"])
            own = self._own[lexer] = (pattern.match, self._kinds(pattern))
        return own

    def _reducers(self, builder: type) -> list:
        """Per rule: (size, origin, the chains of `_passes` for `?rule: child` else None, the builder's
        method (a function of the builder's class) or None, how to pick the children kept (None: all
        of them), first symbol has a token).  Made once per class of builder."""
        reducers = self._made.get(builder)
        if reducers is None:
            reducers = []
            for size, origin, kind, name, include, after, solid in self.rules:
                if kind == _SINGLE:  # the child itself is the value
                    pick: Callable[[list], Any] | None = itemgetter(include[0][0])
                else:
                    pick = _picker(include, after, size, kind == _INLINE)
                method = getattr(builder, name) if kind == _BUILD else None
                reducers.append((size, origin, self._chains if kind == _PASS else None, method, pick, solid))
            self._made[builder] = reducers
        return reducers

    def _passes(self, below: int, state: int, kind: int) -> int:
        """The state after the reductions of `?rule: child` (a chain of them: `expr` to `sum` to ... to
        `atom`) that the lookahead terminal `kind` makes in `state`, above state `below` on the stack:
        they change the state on top only, so the chain is one step, worked out once per tables."""
        top = state
        while True:
            action = self.actions[top][kind]
            if action >= 0 or action == self.error:
                break
            _, origin, rule_kind, *_ = self.rules[~action]
            if rule_kind != _PASS:
                break
            top = self.gotos[below][origin]
            if top == self.end and kind == self.terminal["$END"]:
                break
        self._chains[(below * len(self.actions) + state) * len(self.terminal) + kind] = top
        return top

    def parse(self, text: str, builder) -> Any:
        """The builder's value for `text`, as Lark with `builder` as its transformer would give it:
        the method of each rule that builds is called as `builder.method(start, end, children)`, its region
        and the children Lark would give it (see the module's description).
        Raises ParseFailed where Lark would raise (and what the builder raises)."""
        rules = self._reducers(type(builder))
        actions, gotos = self.actions, self.gotos
        state_lexers, special, kept = self.state_lexers, self.special, self.kept
        own_lexer = self._own_lexer
        by_first, root_lexer = self.root_by_first, self._root_lexer
        terminal = self.terminal
        indent_kind, dedent_kind = terminal[self.indenter["indent"]], terminal[self.indenter["dedent"]]
        end_kind, final = terminal["$END"], self.end
        tab_len = self.indenter["tab_len"]
        error = self.error
        empty = EMPTY_START
        state_count, terminal_count = len(actions), len(terminal)

        state = self.start
        states = [state]  # the parser's stack of states, and beside it per symbol its value and its start
        values: list = []
        starts: list[int] = []
        push_state, push_value, push_start = states.append, values.append, starts.append
        paren, indents = 0, [0]
        pos, size, line = 0, len(text), 1
        base = position(1, 1)  # the position of the current line's first character, less its offset
        last_end = base  # the end of the last token shifted: where the region of a reduction ends
        s = e = base  # the last token's region, which the dedents at the end borrow
        batch: list[int] = []  # the tokens to shift after this one, last first (indentation, the end)

        while True:
            if pos < size:  # the lexer: the next token, as Lark's contextual lexer makes it
                accepts, lexer, unless = state_lexers[state]
                if accepts is not None:
                    char = text[pos]
                    root = by_first.get(char) or root_lexer(char)
                    found = root[0](text, pos)
                else:
                    found = None
                if found is not None:
                    kind = root[1][found.lastindex]  # every alternative is a group
                if found is None or kind not in accepts:
                    own_match, own_kinds = own_lexer(lexer)
                    found = own_match(text, pos)
                    if found is None:
                        raise ParseFailed("no terminal matches here")
                    kind = own_kinds[found.lastindex]
                end = found.end()
                if end == pos:
                    raise ParseFailed("an empty match")
                how = special[kind]
                if how:
                    if how <= _IGNORED_LINES:  # spaces, comments: only the lines they end count
                        if how == _IGNORED_LINES:
                            count = text.count("\n", pos, end)
                            if count:
                                line += count
                                base = position(line, 1) - text.rindex("\n", pos, end) - 1
                        pos = end
                        continue
                    s = base + pos
                    line_start = pos
                    if how <= _NEWLINE:
                        count = text.count("\n", pos, end)
                        if count:
                            line += count
                            line_start = text.rindex("\n", pos, end) + 1
                            base = position(line, 1) - line_start
                    e = base + end
                    if how == _NEWLINE:  # the Indenter: blocks by indentation, except inside brackets
                        if paren > 0:
                            pos = end
                            continue
                        indent_str = text[line_start:end]
                        indent = indent_str.count(" ") + indent_str.count("\t") * tab_len
                        if indent > indents[-1]:
                            indents.append(indent)
                            batch.append(indent_kind)
                        else:
                            while indent < indents[-1]:
                                indents.pop()
                                batch.append(dedent_kind)
                            if indent != indents[-1]:
                                raise ParseFailed("inconsistent indentation")
                    elif how == _OPEN:
                        paren += 1
                    elif how == _CLOSE:
                        paren -= 1
                        if paren < 0:
                            raise ParseFailed("unbalanced brackets")
                else:
                    s, e = base + pos, base + end
                if unless is not None and kind in unless:
                    kind = unless[kind].get(text[pos:end], kind)
                value = (text[pos:end], s, e) if kept[kind] else None
                pos = end
            else:  # the end: close the open blocks, then reduce until the start rule is accepted
                batch.append(end_kind)
                while len(indents) > 1:
                    indents.pop()
                    batch.append(dedent_kind)
                kind = batch.pop()
                value = None
            while True:  # the parser: shift the token, after the reductions it completes
                action = actions[state][kind]
                if action >= 0:
                    if kind == end_kind:
                        raise ParseFailed("$END")
                    state = action
                    push_state(state)
                    push_value(value)
                    push_start(s)
                    last_end = e
                    if not batch:
                        break
                    kind, value = batch.pop(), None  # the indentation's tokens, at the newline's place
                    continue
                if action == error:
                    raise ParseFailed("unexpected token")
                length, origin, passes, method, pick, solid = rules[~action]
                if passes is not None:  # `?rule: child`, and those it completes in turn: the child's value and region
                    below = states[-2]
                    top = passes.get((below * state_count + state) * terminal_count + kind, -1)
                    state = top if top >= 0 else self._passes(below, state, kind)
                    states[-1] = state
                elif length == 1:  # the child's region is the rule's
                    children = [values[-1]]
                    if pick is not None:
                        children = pick(children)
                    if method is not None:
                        start = starts[-1]
                        children = method(builder, start, last_end if start != empty else EMPTY_END, children)
                    values[-1] = children
                    state = gotos[states[-2]][origin]
                    states[-1] = state
                else:
                    if length:
                        start = starts[-length] if solid else min(starts[-length:])
                        children = values[-length:]
                        del values[-length:], starts[-length:], states[-length:]
                    else:
                        start, children = empty, []
                    if pick is not None:
                        children = pick(children)
                    push_value(children if method is None else
                               method(builder, start, last_end if start != empty else EMPTY_END, children))
                    push_start(start)
                    state = gotos[states[-1]][origin]
                    push_state(state)
                if state == final and kind == end_kind:
                    return values[-1]


def _picker(include: list, after: int, size: int, as_list: bool) -> Callable[[list], Any] | None:
    """The children Lark keeps from the rule's `size` symbols (None: all, as they are), as a list where
    `as_list` (an inlined rule's, which its parents extend), else any sequence."""
    if after or any(nones for _, nones in include):
        return _general(include, after)
    indices = [index for index, _ in include]
    if indices == list(range(size)):
        return None
    if all(index >= 0 for index in indices):
        if not indices:
            return lambda children: []
        if len(indices) == 1:
            only = indices[0]
            return lambda children: [children[only]]
        getter = itemgetter(*indices)
        if as_list:
            return lambda children: list(getter(children))
        return getter
    if indices[0] == -1 and len(indices) == 2 and indices[1] >= 0:  # `_rule: _rule "," item`, extended in place
        last = indices[1]

        def extend(children: list) -> list:
            kept = children[0]
            kept.append(children[last])
            return kept
        return extend
    return _general(include, after)


def _general(include: list, after: int) -> Callable[[list], list]:
    def pick(children: list) -> list:
        kept: list = []
        for index, nones in include:
            if nones:
                kept += [None] * nones
            if index < 0:  # reuse a left-recursive repetition's list: appending stays linear
                if kept:
                    kept += children[~index]
                else:
                    kept = children[~index]
            else:
                kept.append(children[index])
        if after:
            kept += [None] * after
        return kept
    return pick

