"""A lean LALR driver over the tables Lark builds from grammar/ncd.lark: the parser of valid specs.

Lark is the grammar's one interpreter: it builds the tables (states, rules, the per-state lexers
of its contextual lexer) and it reports every syntax error.  Importing Lark and running its
general machinery (trees, then a transformer over them) costs more than checking most specs, so
specs are parsed here instead, from those tables saved as JSON in ncdc's cache, calling the
syntax-tree builder's per-rule method at each reduction, exactly as Lark's transformer would
(same children, same positions).  Any failure (a character no terminal matches, a token no state
expects, inconsistent indentation) raises `ParseFailed`: the caller then parses with Lark, which
says what is wrong.

The cache file is keyed by the grammar's text and this module's format, so an edited grammar
never meets old tables; it is written atomically (concurrent runs race harmlessly), its content is
deterministic, and where it cannot be read or written the tables are built in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any, Callable

FORMAT = 1  # bump when the table layout or the semantics of the driver change


class ParseFailed(Exception):
    """The driver met input it does not accept: Lark is to parse it and say why."""


class Token(str):
    """A token: its text, its terminal's name and where it is (1-based lines and columns, end exclusive).

    The attributes are those of Lark's tokens that the syntax-tree builder reads."""

    empty = False  # a token always takes up space (see `_Node.empty`)
    type: str
    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def value(self) -> str:
        return str(self)


class _Node:
    """A reduced rule on the value stack: its value and the region of text it covers (what Lark's
    `meta` holds, including the "container" positions it gives nodes inlined by `?rule`)."""

    __slots__ = ("value", "line", "column", "end_line", "end_column", "empty")
    line: int
    column: int
    end_line: int
    end_column: int

    def __init__(self, value: Any = None) -> None:
        self.value = value
        self.empty = True


# Kinds of rule, as the driver reduces them.
_PASS = 0  # `?rule` with one child kept as is: the child is the rule's value, nothing to build
_SINGLE = 1  # `?rule` that may keep one child: that child is the value, its region grows to the rule's
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

    rules: list = []
    rule_index: dict[int, int] = {}
    states: list[dict[str, int]] = []
    for number in range(len(table.states)):
        actions = {}
        for symbol, (action, arg) in table.states[number].items():
            if action.name == "Shift":
                actions[symbol] = arg
            else:
                if id(arg) not in rule_index:
                    rule_index[id(arg)] = len(rules)
                    rules.append(_rule_spec(arg, lark.options.maybe_placeholders))
                actions[symbol] = ~rule_index[id(arg)]
        states.append(dict(sorted(actions.items())))

    lexers: list[dict] = []
    lexer_index: dict[int, int] = {}
    state_lexers = []
    for number in range(len(table.states)):
        basic = contextual.lexers[number]
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
        "start": table.start_states["start"], "end": table.end_states["start"],
        "states": states, "rules": rules, "lexers": lexers, "state_lexers": state_lexers,
        "pattern": _pattern(root.terminals),
        "ignore": sorted(contextual.root_lexer.ignore_types),
        "newline": sorted(contextual.root_lexer.newline_types),
        "indenter": {"nl": postlex.NL_type, "indent": postlex.INDENT_type, "dedent": postlex.DEDENT_type,
                     "open": sorted(postlex.OPEN_PAREN_types), "close": sorted(postlex.CLOSE_PAREN_types),
                     "tab_len": postlex.tab_len},
    }


def _pattern(terminals) -> str:
    return "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals)


def _rule_spec(rule, maybe_placeholders: bool) -> list:
    """[origin, size, kind, method name, [[index, nones before], ...] (index < 0: ~index is inlined), nones after]
    -- the children Lark's ChildFilter keeps, with the `None`s of absent `[optional]` parts."""
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
    pending += nones[len(expansion)]
    name = rule.alias or rule.options.template_source or rule.origin.name
    if rule.options.expand1 and not rule.alias:
        if any(i < 0 for i, _ in include):
            raise ValueError(f"ncdc.lalr: `?{rule.origin.name}` inlines a `_rule`: not supported")
        plain = len(expansion) == 1 and len(include) == 1 and not pending and not include[0][1]
        kind = _PASS if plain else _SINGLE
    else:
        kind = _INLINE if name.startswith("_") else _BUILD
    return [rule.origin.name, len(expansion), kind, name, include, pending]


# ---- the tables: from the cache, or made by Lark and saved there ---------------------------------


def cache_file(grammar: str, settings: str = "") -> str:
    """The cache's file for the tables of `grammar` made with `settings` (Lark's options, in words)."""
    from .generated import cache_dir

    key = hashlib.sha256(f"{FORMAT}\n{settings}\n{grammar}".encode("utf-8")).hexdigest()[:20]
    return str(cache_dir().parent / "parser" / f"ncd-{key}.json")


def load_tables(grammar: str, make_lark: Callable[[], Any], settings: str = "") -> Tables:
    """The tables of `grammar`, from the cache if it has them, else built with `make_lark()` (and cached)."""
    path = cache_file(grammar, settings)
    try:
        with open(path, encoding="utf-8") as file:
            return Tables(json.load(file))
    except (OSError, ValueError, KeyError, TypeError, IndexError, re.error):
        pass  # absent, unreadable, or damaged: build them again
    data = build_tables(make_lark())
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)  # atomic: a concurrent run reads the old file or the new, never half
    except OSError:  # a read-only cache: the tables still work, from memory
        try:
            os.remove(temporary)
        except OSError:
            pass
    return Tables(json.loads(text))


class Tables:
    def __init__(self, data: dict) -> None:
        if data["format"] != FORMAT:
            raise ValueError("tables of another format")
        self.start, self.end = data["start"], data["end"]
        self.states = data["states"]
        self.rules = [tuple(r) for r in data["rules"]]
        self.lexers = data["lexers"]
        self.state_lexers = data["state_lexers"]
        self.pattern = re.compile(data["pattern"])
        self.ignore = frozenset(data["ignore"])
        self.newline = frozenset(data["newline"])
        self.indenter = data["indenter"]
        self._terminals = [frozenset(lexer["terminals"]) for lexer in self.lexers]
        self._in_order = [lexer["in_order"] for lexer in self.lexers]
        self._own: dict[int, re.Pattern] = {}  # the states' own patterns, compiled when first needed
        self.method_names = sorted({r[3] for r in self.rules if r[2] == _BUILD})

    def _own_pattern(self, lexer: int) -> re.Pattern:
        pattern = self._own.get(lexer)
        if pattern is None:
            pattern = self._own[lexer] = re.compile(self.lexers[lexer]["pattern"])
        return pattern

    def parse(self, text: str, builder) -> Any:
        """The builder's value for `text`, as Lark with `builder` as its transformer would give it.
        Raises ParseFailed where Lark would raise (and what the builder raises)."""
        rules = [(r[0], r[1], r[2], getattr(builder, r[3]) if r[2] == _BUILD else None, r[4], r[5],
                  r[4][0][0] if len(r[4]) == 1 else None) for r in self.rules]
        states = self.states
        unlesses = [lexer["unless"] for lexer in self.lexers]
        state_lexers = self.state_lexers
        terminals, in_order = self._terminals, self._in_order
        match = self.pattern.match
        ignore, newline = self.ignore, self.newline
        nl_type, indent_type, dedent_type = (self.indenter[k] for k in ("nl", "indent", "dedent"))
        opens, closes = frozenset(self.indenter["open"]), frozenset(self.indenter["close"])
        tab_len = self.indenter["tab_len"]
        new_token = Token.__new__
        Node = _Node

        stack = [self.start]  # states
        values: list = []
        paren, indents = 0, [0]
        pos, size, line, line_start = 0, len(text), 1, 0
        last = None

        def reduce(rule) -> None:
            origin, length, kind, method, include, after, only = rule
            if length:
                children = values[-length:]
                del values[-length:]
                del stack[-length:]
            else:
                children = []
            first = last = None
            for child in children:
                if not child.empty:
                    first = child
                    break
            for child in reversed(children):
                if not child.empty:
                    last = child
                    break
            if only is not None and only >= 0 and not after and not include[0][1]:
                child = children[only]
                kept = [child.value if child.__class__ is Node else child]
            else:
                kept = []
                for index, nones in include:
                    if nones:
                        kept += [None] * nones
                    if index < 0:  # reuse a left-recursive repetition's list: appending stays linear
                        if kept:
                            kept += children[~index].value
                        else:
                            kept = children[~index].value
                    else:
                        child = children[index]
                        kept.append(child.value if child.__class__ is Node else child)
                if after:
                    kept += [None] * after
            if kind == _SINGLE and len(kept) == 1:
                if kept[0] is None:
                    node = Node()
                else:
                    node = children[only]  # Lark's ExpandSingleChild: the child itself, a token as it is,
                    if node.__class__ is Node:  # a node in the rule's larger region
                        if first is not None:
                            node.line, node.column, node.empty = first.line, first.column, False
                        if last is not None:
                            node.end_line, node.end_column = last.end_line, last.end_column
            else:
                node = Node()
                if first is not None:
                    node.line, node.column, node.empty = first.line, first.column, False
                if last is not None:
                    node.end_line, node.end_column = last.end_line, last.end_column
                node.value = kept if kind != _BUILD else method(node, kept)
            values.append(node)
            stack.append(states[stack[-1]][origin])

        def borrow(kind: str, value: str, token: Token) -> Token:
            new = new_token(Token, value)
            new.type, new.line, new.column = kind, token.line, token.column
            new.end_line, new.end_column = token.end_line, token.end_column
            return new

        while True:
            if pos < size:  # the lexer: the next token, as Lark's contextual lexer makes it
                lexer = state_lexers[stack[-1]]
                found = match(text, pos) if in_order[lexer] else None
                if found is None or found.lastgroup not in terminals[lexer]:
                    found = self._own_pattern(lexer).match(text, pos)
                    if found is None:
                        raise ParseFailed("no terminal matches here")
                end = found.end()
                if end == pos:
                    raise ParseFailed("an empty match")
                kind = found.lastgroup or ""  # every alternative is a named group
                if kind in ignore:  # spaces, comments: only the lines they end count
                    if kind in newline:
                        value = found.group()
                        count = value.count("\n")
                        if count:
                            line += count
                            line_start = pos + value.rindex("\n") + 1
                    pos = end
                    continue
                value = found.group()
                column = pos - line_start + 1
                start_line = line
                if kind in newline:
                    count = value.count("\n")
                    if count:
                        line += count
                        line_start = pos + value.rindex("\n") + 1
                pos = end
                unless = unlesses[lexer].get(kind)
                if unless is not None:
                    kind = unless.get(value, kind)
                token = last = new_token(Token, value)
                token.type, token.line, token.column = kind, start_line, column
                token.end_line, token.end_column = line, end - line_start + 1
                if kind == nl_type:  # the Indenter: blocks by indentation, except inside brackets
                    if paren > 0:
                        continue
                    indent_str = value.rsplit("\n", 1)[1]
                    indent = indent_str.count(" ") + indent_str.count("\t") * tab_len
                    batch = [token]
                    if indent > indents[-1]:
                        indents.append(indent)
                        batch.append(borrow(indent_type, indent_str, token))
                    else:
                        while indent < indents[-1]:
                            indents.pop()
                            batch.append(borrow(dedent_type, indent_str, token))
                        if indent != indents[-1]:
                            raise ParseFailed("inconsistent indentation")
                elif kind in opens:
                    paren += 1
                    batch = [token]
                elif kind in closes:
                    paren -= 1
                    if paren < 0:
                        raise ParseFailed("unbalanced brackets")
                    batch = [token]
                else:
                    batch = [token]
            else:  # the end: close the open blocks, then reduce until the start rule is accepted
                batch = []
                while len(indents) > 1:
                    indents.pop()
                    batch.append(borrow(dedent_type, "", last) if last is not None else _bare(dedent_type))
                batch.append(_bare("$END"))
            for token in batch:  # the parser: shift the token, after the reductions it completes
                kind = token.type
                while True:
                    action = states[stack[-1]].get(kind)
                    if action is None:
                        raise ParseFailed(kind)
                    if action >= 0:
                        if kind == "$END":
                            raise ParseFailed(kind)
                        stack.append(action)
                        values.append(token)
                        break
                    rule = rules[~action]
                    if rule[2] == _PASS:
                        stack[-1] = states[stack[-2]][rule[0]]
                    else:
                        reduce(rule)
                    if kind == "$END" and stack[-1] == self.end:
                        result = values[-1]
                        return result.value if result.__class__ is Node else result


def _bare(kind: str) -> Token:
    token = Token.__new__(Token, "")
    token.type, token.line, token.column, token.end_line, token.end_column = kind, 1, 1, 1, 1
    return token
