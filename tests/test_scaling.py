"""Checking and compiling scale linearly with the spec, and long chains do not recurse per link.

Nothing here is timed (the machine is shared): linearity is shown by counting work, the Python
function calls a check or a compile makes, for a spec and for one four times its size.
benchmarks/bench_compiler.py (`scaling`) times the same generated specs at 1,000 and 10,000 units.
"""

from __future__ import annotations

import cProfile
import inspect
import pstats
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import ncdc
from ncdc.checker.program import ProgramChecker
from ncdc.source import Source

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from scaling_specs import FAMILIES  # noqa: E402


def _calls(fn, text: str) -> dict:
    """How often each Python function is called while `fn` checks or compiles `text`."""
    profile = cProfile.Profile()
    profile.enable()
    fn(text, "x.ncd")
    profile.disable()
    return {f"{path}:{line}({name})": calls for (path, line, name), (_, calls, *_) in
            pstats.Stats(profile).stats.items()}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_generated_specs_check_and_compile(family):
    text = FAMILIES[family](30)
    ncdc.check_source(text, f"{family}.ncd")
    compile(ncdc.compile_source(text, f"{family}.ncd"), f"{family}.py", "exec")


@pytest.mark.parametrize("family", list(FAMILIES))
def test_work_grows_linearly(family):
    """Four times the spec: at most about four times the calls in all, and of every function (a
    step that is quadratic, such as rebuilding a map of every name for each declaration, gives ~16)."""
    small, large = FAMILIES[family](50), FAMILIES[family](200)
    for fn in (ncdc.check_source, ncdc.compile_source):
        fn(small, "x.ncd")  # the parser and the templates are made once, before counting
        few, many = _calls(fn, small), _calls(fn, large)
        ratio = sum(many.values()) / sum(few.values())
        assert ratio < 4.3, f"{family}: {fn.__name__} makes {ratio:.2f} times the calls for 4 times the spec"
        worse = {f: (few.get(f, 0), n) for f, n in many.items() if n > 4.6 * few.get(f, 0) + 100}
        assert not worse, f"{family}: {fn.__name__} calls these superlinearly often: {worse}"


def test_lines_are_split_once_per_source(monkeypatch):
    splits = []
    fget = Source.lines.fget

    def counting(self):
        if "_lines" not in self.__dict__:
            splits.append(self.path)
        return fget(self)

    monkeypatch.setattr(Source, "lines", property(counting))
    ncdc.compile_source(FAMILIES["lifted"](200), "lifted.ncd")
    assert splits.count("lifted.ncd") <= 1


def _with_shallow_stack(depth: int):
    """Run with a recursion limit `depth` frames above the current one."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + depth)
    return limit


@pytest.mark.parametrize("family", ["modules", "defs"])
def test_chains_do_not_recurse_per_link(family):
    """A chain of 600 modules (or defs, each calling the one before) checks and compiles within a
    stack of 200 frames: nothing in the checker or the back end recurses once per link."""
    text = FAMILIES[family](600, backwards=True)  # the walks in declaration order go deepest
    limit = _with_shallow_stack(200)
    try:
        ncdc.check_source(text, "chain.ncd")
        source = ncdc.compile_source(text, "chain.ncd")
    finally:
        sys.setrecursionlimit(limit)
    assert source.count("\nclass " if family == "modules" else "\ndef f") == 600


def test_a_chain_of_10000_needs_no_deep_stack():
    """The whole-program walks (recursion check, boxes needed) over a chain of 10,000 modules, under
    the default recursion limit: cheap, as only those walks run."""
    n = 10_000
    checker = ProgramChecker("chain.ncd")
    checker.order = [f"M{i}" for i in range(n)]
    checker.callees = {f"M{i}": ({f"M{i - 1}"} if i else set()) for i in range(n)}
    checker.direct_boxes = {"M0": {"b"}}
    checker.boxes = [SimpleNamespace(name="b")]
    checker.modules = [SimpleNamespace(name=name, boxes=None) for name in checker.order]
    checker.check_recursion(SimpleNamespace(items=[]))
    checker.collect_boxes()
    assert not checker.diagnostics
    assert all(m.boxes == ["b"] for m in checker.modules)

    checker.callees["M0"] = {f"M{n - 1}"}  # close the chain into a cycle: reported once, no crash
    checker.check_recursion(SimpleNamespace(items=[]))
    assert [d.code for d in checker.diagnostics] == ["E0106"]
