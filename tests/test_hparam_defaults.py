"""Size hyperparameters whose default is a size expression of earlier ones (`k=4 * m`, issue 8):
checked (E0385 for a later name, itself, a value hyperparameter), built with None meaning the
default, passed down to submodules as the expression of the caller's sizes, and read the same way by
`ncdc run`, cost, draw, export, fmt and the IR text."""

from __future__ import annotations

import types

import pytest
import torch

import ncdc
from ncdc import export
from ncdc.backend.cost import cost
from ncdc.backend.draw import draw
from ncdc.fmt import format_source
from ncdc.ir_text import format_program
from ncdc.verify import verify

PATH = "defaults.ncd"

SPEC = """\
size d = 2
module FF(m=8, k=4 * m, j=k // 2 + d):
    up = Linear[m -> k]()
    mid = Linear[k -> j]()

    def forward(X: t m) -> t j:
        return mid(relu(up(X)))

module Outer(c=6):
    ff = FF(c)

    def forward(X: t c) -> t (2 * c + d):
        return ff(X)
"""


def load(text: str) -> types.ModuleType:
    module = types.ModuleType("defaults")
    exec(compile(ncdc.compile_source(text, PATH), "defaults.py", "exec"), module.__dict__)
    return module


def error(text: str):
    with pytest.raises(ncdc.NcdcError) as info:
        ncdc.check_source(text, PATH)
    return info.value.diagnostics[0]


def module(hparams: str) -> str:
    return f"module M({hparams}):\n    def forward(X: t n) -> t n:\n        return X\n"


def test_none_or_nothing_takes_the_default_of_the_sizes_given():
    spec = load(SPEC)
    assert (spec.FF().k, spec.FF().j) == (32, 18)
    ff = spec.FF(m=3, k=None)
    assert (ff.k, ff.j) == (12, 8) and ff.up.weight.shape == (12, 3)
    assert spec.FF(m=3, k=5, j=None).j == 4  # a value passed is used, by the defaults after it too
    assert spec.FF(3, 5, 7).mid.weight.shape == (7, 5)
    assert spec.FF(**{"m": 3, "k": None, "j": None}).j == 8  # a configuration's fields, None included
    outer = spec.Outer()
    assert (outer.ff.k, outer.ff.j) == (24, 14)  # FF(c) is FF(c, 4 * c, 2 * c + 2)
    assert outer(torch.randn(5, 6)).shape == (5, 14)


def test_the_checker_reads_an_instance_default_as_the_callers_sizes():
    bad = SPEC.replace("t (2 * c + d)", "t (2 * c)")
    assert error(bad).code in ("E0301", "E0302")


def test_a_default_that_may_not_be_positive_is_checked_when_built():
    spec = load(module("n=8, k=n - 4"))
    assert spec.M().k == 4
    with pytest.raises(ValueError, match="k >= 1"):
        spec.M(n=3)
    with pytest.raises(ValueError, match="k >= 1"):
        spec.M(n=8, k=0)


@pytest.mark.parametrize("hparams, code, message", [
    ("n=8, k=4 * j, j=2", "E0385", "refers to `j`, a later hyperparameter"),
    ("n=8, k=4 * k", "E0385", "refers to itself"),
    ("p: float = 0.5, n=8, k=4 * p", "E0385", "`p`, which is not a size"),
    ("n=8, k=4 * q", "E0104", "unknown size `q`"),
    ("n=8, k=n - 8", "E0313", "must be a positive size"),
    ("n=8, k=2 ** 62 * n", "E0313", "too large"),
])
def test_bad_defaults_are_errors_with_codes(hparams, code, message):
    d = error(module(hparams))
    assert d.code == code and message in d.message


def test_a_default_expression_counts_as_a_default():
    assert error(module("n=8, k=4 * n, j")).code == "E0201"
    program = ncdc.check_source(module("n, k=4 * n"), PATH)
    assert program.modules[0].hparams[1].default is None  # no value: `n` has no default
    assert load(module("n, k=4 * n")).M(2).k == 8


def test_run_cost_draw_and_export_compute_it_from_the_sizes_they_take():
    program = ncdc.check_source(SPEC, PATH)
    verify(program)
    assert cost(program, "FF").definitions[0].env | {"m": 8, "k": 32, "j": 18} == \
        cost(program, "FF").definitions[0].env
    env = cost(program, "FF", sizes={"m": 3}).definitions[0].env
    assert (env["k"], env["j"]) == (12, 8)
    assert cost(program, "FF", sizes={"m": 3, "k": 6}).definitions[0].env["j"] == 5
    svg = draw(program, "FF", sizes={"m": 3})
    assert "FF(m=8, k=4*m, j=d + k//2)" in svg and ">12<" in svg and ">8<" in svg
    assert export.example_sizes(program, "FF", {"m": 3}, batch=0)[0][1] == 3
    assert export.signature(program, "FF", {"m": 3}).fixed[program.modules[0].hparams[2].symbol] == 8


def test_fmt_and_the_ir_text_keep_the_expression():
    text = "module M(n=8, k=4*n,  j = (n+1) * 2):\n    def forward(X: t n) -> t n:\n        return X\n"
    formatted = format_source(text)
    assert formatted.startswith("module M(n=8, k=4 * n, j=(n + 1) * 2):")
    assert format_source(formatted) == formatted
    ir_text = format_program(ncdc.check_source(formatted, PATH))
    assert "module M(n=8, k=4*n (=32), j=2*n + 2 (=18))" in ir_text


def test_ncdc_run_builds_with_the_default_of_the_value_it_fills_in(tmp_path, capsys):
    from ncdc.runner import run_specs

    spec = tmp_path / "r.ncd"
    spec.write_text("module M(n, k=4 * n):\n    l = Linear[n -> k]()\n\n    def forward(X: t n) -> t k:\n"
                    "        return l(X)\n", encoding="utf-8")
    assert run_specs([spec]) == 0
    out = capsys.readouterr().out
    assert "M(n=8, k=32)" in out and "(2, 16, 8) -> (2, 16, 32)" in out
