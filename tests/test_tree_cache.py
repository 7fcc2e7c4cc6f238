"""Syntax trees kept between runs (`ncdc.tree_cache`): kept once a text is seen twice, read back
only for the same name, text and parser, never as anything but a tree, and exactly as parsed."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import ncdc.syntax
from ncdc import tree_cache
from ncdc.imports import Parses
from ncdc.ir_text import format_program
from ncdc.source import Source, Span

ROOT = Path(__file__).resolve().parent.parent
SPEC = "def f(X: a) -> a:\n    return relu(X)\n"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NCDC_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "trees"


@pytest.fixture
def parses(monkeypatch):
    """The names `syntax.parse` is called with from here on."""
    called: list[str] = []
    parse = ncdc.syntax.parse
    monkeypatch.setattr(ncdc.syntax, "parse", lambda text, path="<string>": called.append(path) or parse(text, path))
    return called


def _entry(cache: Path) -> tuple:
    (path,) = cache.iterdir()
    return pickle.loads(path.read_bytes())


def _spans(node) -> list[tuple]:
    """Every span of a tree with the file it names (`Span` equality leaves the file out)."""
    found, stack = [], [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Span):
            found.append((item.source.path, item.source.text, item.line, item.column, item.end_line, item.end_column))
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif hasattr(item, "__dict__") and not isinstance(item, (type, Source)):
            stack.extend(vars(item).values())
    return found


def test_a_tree_is_kept_once_its_text_is_seen_twice(cache, parses):
    first = tree_cache.parse(SPEC, "a.ncd")
    assert _entry(cache)[2:] == (SPEC, None)  # a one-off check writes the text only
    second = tree_cache.parse(SPEC, "a.ncd")
    assert _entry(cache)[2:] == (SPEC, second)
    third = tree_cache.parse(SPEC, "a.ncd")
    assert parses == ["a.ncd", "a.ncd"]  # the third is read back
    assert first == second == third and _spans(third) == _spans(first)


def test_every_spec_reads_back_as_it_parses_and_checks_the_same(cache, parses):
    specs = {spec: spec.read_text() for spec in sorted((ROOT / "specs").glob("*.ncd"))}
    fresh = {spec: ncdc.syntax.parse(text, str(spec)) for spec, text in specs.items()}
    checked = {spec: format_program(ncdc.check_source(text, str(spec))) for spec, text in specs.items()}
    for _ in range(2):
        for spec, text in specs.items():
            Parses(kept=True).parse(text, str(spec))
    assert len(list(cache.iterdir())) == len(specs)
    parses.clear()
    for spec, text in specs.items():
        kept = Parses(kept=True).parse(text, str(spec))
        assert kept == fresh[spec] and _spans(kept) == _spans(fresh[spec])
        assert format_program(ncdc.check_source(text, str(spec), shared=Parses(kept=True))) == checked[spec]
    assert parses == []


def test_only_the_same_name_and_text_are_read_back(cache, parses):
    for _ in range(2):
        tree_cache.parse(SPEC, "a.ncd")
    edited = SPEC.replace("relu", "gelu")
    assert tree_cache.parse(edited, "a.ncd") == ncdc.syntax.parse(edited, "a.ncd")
    assert _entry(cache)[2:] == (edited, None)  # one file per spec: replaced, as a new text
    parses.clear()
    tree_cache.parse(SPEC, "a.ncd")
    tree_cache.parse(SPEC, "b.ncd")  # spans name the file: another name is another tree
    assert parses == ["a.ncd", "b.ncd"]


def test_a_tree_made_by_another_parser_is_not_read(cache, parses):
    for _ in range(2):
        tree_cache.parse(SPEC, "a.ncd")
    path = next(cache.iterdir())
    parser, name, text, kept = pickle.loads(path.read_bytes())
    assert parser == tree_cache._parser_fingerprint() and kept is not None
    path.write_bytes(pickle.dumps(("an older parser", name, text, kept)))
    parses.clear()
    tree_cache.parse(SPEC, "a.ncd")
    assert parses == ["a.ncd"]


class _Call:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


@pytest.mark.parametrize("damage", ["cut", "garbage", "not a tree", "a call"])
def test_a_damaged_or_foreign_entry_is_a_miss_and_is_written_again(cache, parses, tmp_path, damage):
    for _ in range(2):
        tree_cache.parse(SPEC, "a.ncd")
    path = next(cache.iterdir())
    whole = path.read_bytes()
    witness = tmp_path / "ran"
    parser = tree_cache._parser_fingerprint()
    path.write_bytes({
        "cut": whole[: len(whole) // 2],
        "garbage": b"\x00not a pickle",
        "not a tree": pickle.dumps((parser, "a.ncd", SPEC, ["a list"])),
        # a pickle that would run a command as it is read: refused before any call
        "a call": pickle.dumps((parser, "a.ncd", SPEC, _Call(str(witness)))),
    }[damage])
    parses.clear()
    assert tree_cache.parse(SPEC, "a.ncd") == ncdc.syntax.parse(SPEC, "a.ncd")
    assert parses[0] == "a.ncd" and not witness.exists()
    assert _entry(cache)[2:] == (SPEC, None)  # written again, from the start


def test_an_unwritable_cache_still_parses(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("NCDC_CACHE_DIR", str(blocker / "cache"))  # under a file: cannot be created
    for _ in range(2):
        assert Parses(kept=True).parse(SPEC, "a.ncd") == ncdc.syntax.parse(SPEC, "a.ncd")
    assert not list(tmp_path.glob("**/*.tmp"))


def test_ncdc_check_reports_the_same_with_trees_kept(tmp_path):
    """Run three times, the third from kept trees: the same output, errors and warnings included (a
    spec that does not parse is never kept)."""
    (tmp_path / "ok.ncd").write_text(SPEC)
    (tmp_path / "warns.ncd").write_text("def f(X: y (g hd), H: hd) -> y (g hd) hd:\n"
                                        "    return einsum[y (g hd) hd](X, H)\n")
    (tmp_path / "broken.ncd").write_text("def f(X: a) -> a:\n    return X +\n")
    (tmp_path / "wrong.ncd").write_text("def f(X: a) -> b:\n    return X\n")
    env = {**os.environ, "NCDC_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-m", "ncdc", "check", str(tmp_path)], capture_output=True, text=True,
                           env=env) for _ in range(3)]
    assert all(run.returncode == 1 for run in runs)
    assert runs[0].stdout == runs[2].stdout and runs[0].stderr == runs[2].stderr
    assert all(code in runs[2].stdout + runs[2].stderr for code in ("E0003", "E0302", "W0001"))
    kept = [pickle.loads(p.read_bytes()) for p in (tmp_path / "cache" / "trees").iterdir()]
    assert sorted(Path(name).name for _, name, _, program in kept if program is not None) == \
        ["ok.ncd", "warns.ncd", "wrong.ncd"]  # all but the one that does not parse
