"""ncdc.lalr, the parser of valid specs, against Lark itself: the same syntax trees (spans included)
for every shipped spec, construct and documentation example and for mutations of them, the same
inputs refused; its cached tables; and that checking valid specs imports neither Lark nor the back end."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from lark import Token, Transformer
from lark.exceptions import UnexpectedInput
from lark.indenter import DedentError
from test_mutation_fuzz import CORPUS, mutate

from ncdc import lalr, syntax
from ncdc.diagnostics import NcdcError
from ncdc.source import Source

ROOT = Path(__file__).resolve().parent.parent
MUTATIONS = 300


class _LarkReference(Transformer):
    """The syntax tree made the old way: Lark's parse tree, then the builder's methods over it,
    given Lark's positions (`meta`, and each token's) as `ncdc.lalr` gives its own."""

    def __init__(self, source: Source):
        super().__init__()
        self.builder = syntax._ToTree(source)

    def __default__(self, data, children, meta):
        if meta.empty:
            start, end = lalr.EMPTY_START, lalr.EMPTY_END
        else:
            start, end = lalr.position(meta.line, meta.column), lalr.position(meta.end_line, meta.end_column)
        children = [(str(c), lalr.position(c.line, c.column), lalr.position(c.end_line, c.end_column))
                    if isinstance(c, Token) else c for c in children]
        return getattr(self.builder, data)(start, end, children)


def _prepared(text: str) -> str:
    text = text.removeprefix("\ufeff")
    return text if text.endswith("\n") else text + "\n"


def _both(text: str):
    """(ncdc.lalr's tree or the exception it raised, Lark's tree or the exception it raised)."""
    text = _prepared(text)
    source = Source("t.ncd", text)
    try:
        ours = syntax._tables().parse(text, syntax._ToTree(source))
    except Exception as error:  # compared below: ParseFailed where Lark refuses the text
        ours = error
    try:
        theirs = _LarkReference(source).transform(syntax._parser().parse(text))
    except (UnexpectedInput, DedentError) as error:
        theirs = error
    except Exception as error:  # the builder's own errors (E0006, ...), raised inside Lark's VisitError
        theirs = getattr(error, "orig_exc", error)
    return ours, theirs


def _inputs() -> list[str]:
    r = random.Random(20261201)
    return CORPUS + [mutate(r.choice(CORPUS), r) for _ in range(MUTATIONS)]


def test_the_same_trees_and_the_same_refusals_as_lark():
    parsed = refused = 0
    for text in _inputs():
        ours, theirs = _both(text)
        if isinstance(theirs, (UnexpectedInput, DedentError)):
            # refused, or stopped earlier by the builder (`syntax.parse` then asks Lark for the syntax error)
            assert isinstance(ours, (lalr.ParseFailed, NcdcError)), (text, ours)
            refused += 1
        elif isinstance(theirs, Exception):
            assert type(ours) is type(theirs) and str(ours) == str(theirs), text
        else:
            assert ours == theirs, text  # dataclass equality: every node, every span's lines and columns
            parsed += 1
    assert parsed >= len(CORPUS) and refused > MUTATIONS // 4  # both kinds are exercised


def test_the_lexer_by_first_character_matches_as_the_whole_pattern():
    """Where a text starts with a character, ncdc.lalr tries only the terminals that may start with it."""
    tables = syntax._tables()
    r = random.Random(20261202)
    alphabet = "ab_1 9.e+-*/<>=!:,()[]{}\"#\t\n\\\r\f\u00e9\u0394$?"
    texts = _inputs()[:150] + ["".join(r.choice(alphabet) for _ in range(60)) for _ in range(300)]
    compared = 0
    for text in texts:
        for pos in range(len(text)):
            whole = tables.pattern.match(text, pos)
            match, kinds = tables._root_lexer(text[pos])
            part = match(text, pos)
            assert (whole and (whole.lastgroup, whole.end())) == (part and (part.lastgroup, part.end())), (text, pos)
            if part is not None:
                assert tables.terminal_names[kinds[part.lastindex]] == part.lastgroup
            compared += 1
    assert compared > 10_000 and len(tables._root_by_terminals) > 5


def test_every_rule_that_builds_has_a_method():
    for name in syntax._tables().method_names:
        assert callable(getattr(syntax._ToTree, name, None)), f"grammar rule `{name}` has no builder method"


def test_tables_are_deterministic_and_keyed_by_the_grammar(tmp_path):
    grammar = syntax._grammar()
    first = json.dumps(lalr.build_tables(syntax._parser()), sort_keys=True)
    assert first == json.dumps(lalr.build_tables(syntax._parser()), sort_keys=True)
    written = []
    # The same bytes in the cache whatever the order of sets and dictionaries, and whether Lark has
    # just compiled the grammar (seeds 1 and 2: a temporary folder of their own, without Lark's cache,
    # as on a fresh machine) or read it back from its cache (seed 3, in seed 1's folder).
    for seed, temp in (("1", "1"), ("2", "2"), ("3", "1")):
        (tmp_path / f"tmp{temp}").mkdir(exist_ok=True)
        env = {**os.environ, "NCDC_CACHE_DIR": str(tmp_path / seed), "PYTHONHASHSEED": seed,
               "TMPDIR": str(tmp_path / f"tmp{temp}")}
        subprocess.run([sys.executable, "-c", "import ncdc; ncdc.check_file('specs/mlp.ncd')"], cwd=ROOT, env=env,
                       check=True)
        written.append([p.read_bytes() for p in (tmp_path / seed / "parser").iterdir()])
    assert any((tmp_path / "tmp1").iterdir()), "Lark kept no cache of its own: seed 3 did not read one"
    assert len(written[0]) == 1 and written[0] == written[1] == written[2]
    assert lalr.cache_file(grammar) != lalr.cache_file(grammar + "\n// an edit\n")
    assert lalr.cache_file(grammar, "tab_len 8") != lalr.cache_file(grammar, "tab_len 4")


def test_the_tables_are_the_same_through_python_3_10s_reading_of_patterns(monkeypatch):
    # Python 3.10 reads patterns with `sre_parse` (it has no `re._parser`), whose opcodes lack the
    # atomic groups and possessive repeats of 3.11: read through those modules, without those
    # opcodes, the tables are the same.  (3.11's sre_* modules are the same parser under old names.)
    import types
    import warnings

    ours = lalr.build_tables(syntax._parser())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # importing sre_parse on 3.11 and later
        import sre_constants
        import sre_parse
    opcodes = types.SimpleNamespace(**{name: value for name, value in vars(sre_constants).items()
                                       if name not in ("ATOMIC_GROUP", "POSSESSIVE_REPEAT")})
    monkeypatch.setattr(lalr, "_sre", lambda: (sre_parse, opcodes))
    assert lalr.build_tables(syntax._parser()) == ours


def test_a_damaged_or_unwritable_cache_still_parses(tmp_path, monkeypatch):
    grammar = syntax._grammar()
    monkeypatch.setenv("NCDC_CACHE_DIR", str(tmp_path / "cache"))
    settings = "test"
    path = lalr.cache_file(grammar, settings)
    text = "def f(X: a) -> a:\n    return relu(X)\n"
    expected = syntax.parse(text)

    def parse():
        tables = lalr.load_tables(grammar, syntax._parser, settings)
        return tables.parse(text, syntax._ToTree(Source("<string>", text)))

    assert parse() == expected
    whole = open(path, "rb").read()
    with open(path, "wb") as file:
        file.write(whole[:len(whole) // 2])  # cut short, as by a full disk
    assert parse() == expected
    assert open(path, "rb").read() == whole  # written again, whole
    edited = grammar + "\n// an edit\n"
    lalr.load_tables(edited, syntax._parser, settings)
    os.replace(lalr.cache_file(edited, settings), path)  # as where the names' checksums collide
    assert parse() == expected
    assert open(path, "rb").read() == whole  # not read: made again
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("NCDC_CACHE_DIR", str(blocker / "cache"))  # under a file: cannot be created
    assert parse() == expected


_PROBE = """
import sys, ncdc.cli
try:
    ncdc.cli.main(["check", "specs/"])
except SystemExit as stop:
    assert not stop.code, stop.code
print(sorted(m for m in ("lark", "torch", "jinja2", "einops", "ncdc.backend") if m in sys.modules))
"""


@pytest.mark.parametrize("warm", [False, True])
def test_checking_valid_specs_imports_neither_lark_nor_the_back_end(tmp_path, warm):
    env = {**os.environ, "NCDC_CACHE_DIR": str(tmp_path)}
    run = lambda: subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,  # noqa: E731
                                 cwd=ROOT, env=env)
    first = run()  # a cold cache: Lark builds the tables
    assert first.returncode == 0, first.stderr
    result = run() if warm else first
    assert result.returncode == 0, result.stderr
    imported = json.loads(result.stdout.strip().splitlines()[-1].replace("'", '"'))
    assert imported == ([] if warm else ["lark"])
