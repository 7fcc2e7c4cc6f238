"""Syntax trees kept between runs, as `__pycache__` keeps compiled modules: `ncdc check specs/` run
again (a pre-commit hook, an editor's check on save, a CI runner that keeps its cache) reads each
unchanged spec's tree back instead of parsing it, which was a third of the time of checking `specs/`.

Each spec path has one file, `<cache>/trees/<checksum of its absolute path>.pickle`.  A spec's tree
is written there the second time it is parsed with the same text: the first time, only that text is
noted, so that a one-off check (a fresh CI runner) writes a few bytes per spec, not a tree, which
takes as long to write as parsing does.  A tree is read back only where everything it was made from
matches: the name the spec goes by (its spans name it), its text, and the parser (the grammar and
the source of the modules that build trees).  It is read by an unpickler that makes nothing but
syntax-tree nodes and spans, so a damaged or foreign file is a miss, never an object of any other
class or a call.  Files are written atomically; where the cache cannot be read or written, specs
are parsed as if there were none.  Only trees of specs that parse are kept: errors are always found
afresh.
"""

from __future__ import annotations

import os
import sys
import zlib
from functools import lru_cache

from . import cache_files, lalr, nodes, source, tree

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from pathlib import Path

_FORMAT = 2  # bump when what an entry holds changes
_ALLOWED = {tree.__name__: vars(tree), source.__name__: vars(source)}  # the only classes an entry may make


def parse(text: str, name: str) -> tree.Program:
    """`syntax.parse(text, name)`, or the tree kept of exactly this text by this name."""
    from . import syntax

    parser = _parser_fingerprint()
    if parser is None:
        return syntax.parse(text, name)
    path = _entry(name)
    kept = _read(path)
    seen = kept[:3] == (parser, name, text)
    if seen and kept[3] is not None:
        return kept[3]
    program = syntax.parse(text, name)
    _write(path, (parser, name, text, program if seen else None))  # the tree once the text is seen again
    return program


def _read(path: str) -> tuple:
    """The entry (parser, name, text, tree or None) in `path`, or () where there is none."""
    try:
        with open(path, "rb") as file:
            entry = _unpickler()(file).load()
    except Exception:  # absent, unreadable, damaged, refused: as if there were none
        return ()
    if isinstance(entry, tuple) and len(entry) == 4 and (entry[3] is None or isinstance(entry[3], tree.Program)):
        return entry
    return ()


def _write(path: str, entry: tuple) -> None:
    import pickle

    try:
        blob = pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
    except (RecursionError, pickle.PicklingError):  # a tree too deep to pickle: parsed every time
        return
    cache_files.write(path, blob)


def folder() -> Path:
    return cache_files.folder("trees")


def _entry(name: str) -> str:
    # A checksum, not a secure hash (hashlib's import would cost more than it saves): paths that
    # share a file take turns in it, and the name and text kept there tell them apart.
    return str(folder() / f"{zlib.crc32(os.path.abspath(name).encode('utf-8', 'surrogatepass')):08x}.pickle")


@lru_cache(maxsize=1)
def _parser_fingerprint() -> str | None:
    """What a tree depends on besides its text: a checksum of the grammar and of the source of the
    modules that make trees (so an edited checkout never meets old trees), and Python's version.
    None where any of them cannot be read: then nothing is cached."""
    from . import syntax

    checksum = zlib.crc32(syntax._grammar().encode("utf-8"))
    try:
        for module in (lalr, nodes, source, syntax, tree):
            with open(module.__file__ or "", "rb") as file:
                checksum = zlib.crc32(file.read(), checksum)
    except OSError:
        return None
    return f"{_FORMAT} {checksum:08x} {sys.version}"


@lru_cache(maxsize=1)
def _unpickler() -> type:
    """pickle's unpickler, made to refuse every class but the tree's (imported here: only where an
    entry is read)."""
    import pickle

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str):
            found = _ALLOWED.get(module, {}).get(name)
            if not (isinstance(found, type) and found.__module__ == module):
                raise pickle.UnpicklingError(f"not a syntax-tree class: {module}.{name}")
            return found
    return Unpickler
