"""Warnings: diagnostics of severity `warning` report what is legal but almost surely a mistake.

They do not fail `ncdc check` (exit 0) unless `--deny-warnings` is given (exit 1); they print as
`warning[W0001]: ...` and appear in JSON with `"severity": "warning"`.  The checked program carries
them in `ir.Program.warnings`; when a spec also has errors they follow the errors in the NcdcError.

W0001: an einsum output that repeats a name inside a bound group, `einsum[y (g hd) hd]` with the
group `(g hd)` an axis of an input, names two axes as one silently (a GRU spec written that way
checked clean and differed from its reference).  Where the repeated name is spelt out inside the
output group it would be one index twice, which torch.einsum cannot compute: that is E0306.
"""

from __future__ import annotations

import contextlib
import io
import json

import types

import pytest
import torch

import ncdc
from ncdc import NcdcError
from ncdc.cli import main

DIAGONAL = """\
def heads(X: y (g hd), H: y hd) -> y (g hd) hd:
    return einsum[y (g hd) hd](X, H)
"""

CLEAN = """\
def heads(X: y g hd, W: hd e) -> y (g e):
    return einsum[y (g e)](X, W)
"""

BOTH = DIAGONAL + """
def broken(X: a) -> b:
    return X
"""


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, out.getvalue(), err.getvalue()


@pytest.fixture()
def spec(tmp_path):
    def write(text: str, name: str = "w.ncd") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)
    return write


def test_program_carries_the_warning():
    program = ncdc.check_source(DIAGONAL, "w.ncd")
    assert [(w.code, w.severity, w.span.line, w.span.column) for w in program.warnings] == [("W0001", "warning", 2, 28)]
    assert "`hd` appears twice in the output of `einsum`" in program.warnings[0].message
    assert [label.span.column for label in program.warnings[0].labels] == [21]
    assert ncdc.check_source(CLEAN, "c.ncd").warnings == []


@pytest.mark.parametrize("output", ["y (hd hd)", "(g hd) (hd y)", "(y hd) g hd", "y (g hd) hd"])
def test_a_name_spelt_twice_in_the_output_is_an_error(output):
    """One index twice in the output: torch.einsum cannot compute it, so the checker says so."""
    text = f"def f(X: y g hd) -> {output}:\n    return einsum[{output}](X)\n"
    with pytest.raises(NcdcError) as raised:
        ncdc.check_source(text, "o.ncd")
    assert raised.value.diagnostics[0].code == "E0306"


def test_shipped_specs_have_no_warnings():
    from pathlib import Path
    for path in sorted((Path(__file__).resolve().parent.parent / "specs").glob("*.ncd")):
        assert ncdc.check_file(path).warnings == [], path.name


BOUND_INPUT = """\
def f(X: y (g hd), H: y hd) -> y (g hd) hd:
    return einsum[y (g hd) hd](X, H)
"""


def test_warning_where_the_group_comes_whole_from_an_input():
    """`(g hd)` kept bound from X and `hd` from H: it runs (an outer product), but the two `hd` are not
    the same index, which the output's names claim; warned all the same."""
    program = ncdc.check_source(BOUND_INPUT, "b.ncd")
    assert [w.code for w in program.warnings] == ["W0001"]
    module = types.ModuleType("b")
    exec(compile(ncdc.compile_source(BOUND_INPUT, "b.ncd"), "<b>", "exec"), module.__dict__)
    X, H = torch.rand(2, 12), torch.rand(2, 4)
    torch.testing.assert_close(module.f(X, H), torch.einsum("ya,yh->yah", X, H))


def test_check_text_exit_zero_without_deny(spec):
    code, out, err = run_cli("check", spec(DIAGONAL))
    assert code == 0
    assert "warning[W0001]: `hd` appears twice in the output of `einsum`" in err
    assert "w.ncd:2:28" in err
    assert "checked 1 spec: ok, 1 warning" in err
    assert out == ""


def test_check_deny_warnings_exits_one(spec):
    code, _, err = run_cli("check", "--deny-warnings", spec(DIAGONAL))
    assert code == 1
    assert "warning[W0001]" in err and "checked 1 spec: ok, 1 warning" in err


def test_check_deny_warnings_on_clean_spec_exits_zero(spec):
    code, out, err = run_cli("check", "--deny-warnings", spec(CLEAN))
    assert (code, err) == (0, "")
    assert out == "checked 1 spec: ok\n"


@pytest.mark.parametrize("deny", [False, True])
def test_check_json(spec, deny):
    code, out, err = run_cli("check", "--format", "json", *(["--deny-warnings"] if deny else []), spec(DIAGONAL))
    assert code == (1 if deny else 0)
    assert err == ""
    (d,) = json.loads(out)["diagnostics"]
    assert (d["severity"], d["code"], d["line"], d["column"]) == ("warning", "W0001", 2, 28)
    assert d["file"].endswith("w.ncd")


def test_warnings_beside_errors(spec):
    code, out, err = run_cli("check", spec(BOTH))
    assert code == 1
    assert "error[" in err and "warning[W0001]" in err
    assert "checked 1 spec: 1 error, 1 warning" in err
    code, out, _ = run_cli("check", "--format", "json", spec(BOTH))
    severities = [d["severity"] for d in json.loads(out)["diagnostics"]]
    assert code == 1 and severities == ["error", "warning"]
    with pytest.raises(NcdcError) as raised:
        ncdc.check_source(BOTH, "b.ncd")
    assert [d.severity for d in raised.value.diagnostics] == ["error", "warning"]


def test_compile_prints_warnings_to_stderr_only(spec):
    code, out, err = run_cli("compile", spec(DIAGONAL))
    assert code == 0
    assert out.startswith("# Generated by ncdc") and "warning" not in out.split("\n", 1)[0]
    assert "warning[W0001]" in err


def test_warning_reported_once_in_a_loop():
    text = """\
def f(X: y (g hd), H: y hd) -> y (g hd) hd:
    return einsum[y (g hd) hd](X, H)

def g(X: y (g hd), H: y hd) -> y (g hd):
    for i in 1..3:
        Z = einsum[y (g hd) hd](X, H)
        X = X + sum[hd](Z)
    return X
"""
    program = ncdc.check_source(text, "r.ncd")
    assert [(w.code, w.span.line) for w in program.warnings] == [("W0001", 2), ("W0001", 6)]
