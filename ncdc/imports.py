"""Imports between specs: `from attention import MultiHeadAttention` reads `attention.ncd` beside the
importing spec and brings in the named definitions with everything of that file they use.

The imported definitions become items of the importing program, checked and compiled with it: the
generated module stays one self-contained Python file.  Their spans point into their own file, so
diagnostics and the generated comments name it.
"""

from __future__ import annotations

from pathlib import Path

from . import tree, tree_cache
from .nodes import fields, is_dataclass
from .diagnostics import Diagnostic, NcdcError
from .source import Span

MAX_DEPTH = 64  # imports nested deeper than this are surely a runaway chain


def resolve(program: tree.Program, path: str, shared: Parses | None = None) -> tree.Program:
    """`program` with the items its imports bring in placed before its own (each item once); the
    imported specs parsed by `shared` where given."""
    if not program.imports:
        return program
    return tree.Program(_Resolver(shared).imported(program, Path(path), [Path(path).resolve()]) + program.items)


def parse_once(text: str, name: str, shared: Parses | None) -> tree.Program:
    """`parse(text, name)`, or, with `shared`, its parse of the same text by the same name."""
    if shared is not None:
        return shared.parse(text, name)
    from .syntax import parse

    return parse(text, name)


class Parses:
    """The parses of specs checked together (`ncdc check specs/`): a spec that several import is
    parsed once (checking leaves trees as they are).  Where `kept`, each spec's tree is also read
    from and kept in ncdc's cache between runs (`tree_cache`)."""

    def __init__(self, kept: bool = False):
        self.kept = kept
        self._trees: dict[str, tuple[str, tree.Program]] = {}

    def parse(self, text: str, name: str) -> tree.Program:
        hit = self._trees.get(name)
        if hit is not None and hit[0] == text:
            return hit[1]
        if self.kept:
            program = tree_cache.parse(text, name)
        else:
            from .syntax import parse

            program = parse(text, name)
        self._trees[name] = (text, program)
        return program


class _Resolver:
    def __init__(self, shared: Parses | None):
        self.parsed: dict[Path, tree.Program] = {}  # each file parsed once: a diamond brings one copy
        self.shared = shared

    def imported(self, program: tree.Program, path: Path, stack: list[Path]) -> list:
        """The items `program`'s imports bring in; `stack` holds the files importing it, itself last."""
        out: list = []
        for imp in program.imports:
            target = path.parent.joinpath(*[n.name for n in imp.module]).with_suffix(".ncd")
            key = target.resolve()
            if key in stack:
                chain = " -> ".join(f"`{p.name}`" for p in [*stack[stack.index(key):], key])
                raise NcdcError(Diagnostic("E0108", f"a cycle of imports: {chain}", imp.span, "imports a spec that "
                                           "imports this one", help="move what they share into a spec of its own"))
            if len(stack) > MAX_DEPTH:
                raise NcdcError(Diagnostic("E0108", "imports nested too deeply", imp.span, "a runaway chain"))
            other = self.parse(target, imp)
            items = self.imported(other, target, [*stack, key]) + other.items
            out += _wanted(items, imp, target)
        seen: set[int] = set()
        return [i for i in out if not (id(i) in seen or seen.add(id(i)))]  # type: ignore[func-returns-value]

    def parse(self, target: Path, imp: tree.Import) -> tree.Program:
        key = target.resolve()
        if key not in self.parsed:
            from .api import read_spec

            try:
                text = read_spec(target)
            except OSError:
                raise NcdcError(Diagnostic("E0107", f"no spec `{target.name}` to import", imp.span,
                                           f"looked for {target}", help="imports name a spec beside the importing "
                                           "one, without `.ncd`: `from attention import MultiHeadAttention`")) from None
            self.parsed[key] = parse_once(text, str(target), self.shared)
        return self.parsed[key]


def _wanted(items: list, imp: tree.Import, target: Path) -> list:
    """The items the import names, with the items of that file they use, in file order."""
    by_name: dict[str, object] = {}
    for item in items:
        by_name.setdefault(item.name.name, item)
    wanted: set[int] = set()
    pending = []
    for name in imp.names:
        item = by_name.get(name.name)
        if item is None:
            near = sorted(n for n in by_name if n.lower() == name.name.lower())
            raise NcdcError(Diagnostic("E0107", f"`{target.name}` defines no `{name.name}`", name.span,
                                       "not defined there", notes=["it defines " + ", ".join(
                                           f"`{n}`" for n in by_name)] if by_name else [],
                                       help=f"did you mean `{near[0]}`?" if near else None))
        pending.append(item)
    while pending:
        item = pending.pop()
        if id(item) in wanted:
            continue
        wanted.add(id(item))
        pending += [by_name[n] for n in _names_used(item) if n in by_name]
    return [i for i in items if id(i) in wanted]


def _names_used(node) -> set[str]:
    """Every name a syntax tree node refers to (wires and sizes too: only top-level names matter)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (tree.Name, tree.SizeName)):
            found.add(item.name)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif is_dataclass(item) and not isinstance(item, (type, Span)):
            stack.extend(getattr(item, f.name) for f in fields(item))
    return found


__all__ = ["resolve"]
