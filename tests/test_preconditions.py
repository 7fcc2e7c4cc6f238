"""Preconditions: what the checker cannot prove about sizes, the generated code checks.

A spec that checks is a model that runs: a constant index or slice on an axis of symbolic size, a
loop index, a layer's options and its input's sides are proved, refuted (an error at check time),
decided by `--sizes`, or checked by the generated code with a ValueError naming the spec line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

import ncdc
from ncdc.ir_text import format_program
from ncdc.verify import verify

ROOT = Path(__file__).resolve().parent.parent
PATH = "pre.ncd"


def load(text: str) -> types.ModuleType:
    module = types.ModuleType("preconditions")
    exec(compile(ncdc.compile_source(text, PATH), "preconditions.py", "exec"), module.__dict__)
    return module


def error(text: str, sizes=None):
    with pytest.raises(ncdc.NcdcError) as info:
        ncdc.check_source(text, PATH, sizes)
    return info.value.diagnostics[0]


def preconditions(text: str, sizes=None) -> dict[str, list[str]]:
    program = ncdc.check_source(text, PATH, sizes)
    verify(program)
    found = {f.name: [str(p) for p in f.preconditions] for f in program.functions}
    for m in program.modules:
        found[m.name] = [str(p) for p in m.preconditions]
        found[f"{m.name}.forward"] = [str(p) for p in m.forward.preconditions]
    return {k: v for k, v in found.items() if v}


def where(d) -> tuple[int, int]:
    return d.span.line, d.span.column


SLICE = "def f(X: n m) -> 2 m:\n    return X[1:3]\n"
INDEX = "def g(X: n m) -> m:\n    return X[2]\n"
REVERSE = ("def rev(X: t m) -> m:\n"
           "    Y = X[0]\n"
           "    for s in 0..t:\n"
           "        Y = Y + X[t - s]\n"
           "    return Y\n")
UNREADABLE = "def f(X: a) -> n:\n    return X[0:n]\n"


# ---- indexes and slices on axes of symbolic size ---------------------------------------------------


def test_a_constant_slice_of_a_symbolic_axis_is_a_precondition():
    assert preconditions(SLICE) == {"f": ["needs n >= 3 (X[1:3] takes indexes 1..2 of axis n)"]}


def test_a_slice_never_returns_fewer_elements_than_its_type_says():
    f = load(SLICE).f
    with pytest.raises(ValueError) as info:
        f(torch.rand(2, 5))
    message = str(info.value)
    assert message.startswith("[pre.ncd:2] needs n >= 3") and "X[1:3]" in message and "got n = 2" in message
    assert f(torch.rand(3, 5)).shape == (2, 5)
    assert f(torch.rand(4, 3, 5)).shape == (4, 2, 5)  # batch axes


def test_a_constant_index_of_a_symbolic_axis_is_checked_not_an_index_error():
    g = load(INDEX).g
    with pytest.raises(ValueError, match=r"\[pre.ncd:2\] needs n > 2 .*got n = 2"):
        g(torch.rand(2, 5))
    X = torch.rand(3, 5)
    assert torch.equal(g(X), X[2])


def test_the_reverse_recurrence_off_by_one_is_an_error():
    d = error(REVERSE)
    assert d.code == "E0307" and where(d) == (4, 19)
    assert "t - s" in d.message and "s in 0..t" in d.message
    fixed = REVERSE.replace("0..t:", "1..t:")
    assert preconditions(fixed) == {}
    X = torch.rand(4, 3)
    assert torch.allclose(load(fixed).rev(X), X[0] + X.sum(0))


def test_a_loop_index_in_range_whenever_the_loop_runs_needs_no_check():
    text = ("def shift(X: t m) -> m:\n"
            "    Y = X[0]\n"
            "    for s in 0..t - 2:\n"
            "        Y = Y + X[s + 1]\n"
            "    return Y\n")
    assert preconditions(text) == {}
    assert load(text).shift(torch.ones(1, 2)).tolist() == [1.0, 1.0]  # no turns at t = 1


def test_a_loop_index_that_may_leave_its_axis_is_checked_on_every_turn():
    text = ("def pairs(X: t m, Y: u m) -> m:\n"
            "    Z = X[0]\n"
            "    for s in 0..t - 1:\n"
            "        Z = Z + Y[s]\n"
            "    return Z\n")
    assert preconditions(text) == {"pairs": ["needs u > s for s in 0..t - 1 (Y[s] takes index s of axis u)"]}
    pairs = load(text).pairs
    with pytest.raises(ValueError, match=r"\[pre.ncd:4\] needs u > s for s in 0..t - 1 .*got s = 2, t = 3, u = 2"):
        pairs(torch.rand(3, 2), torch.rand(2, 2))
    assert pairs(torch.rand(3, 2), torch.rand(3, 2)).shape == (2,)


def test_a_size_no_input_fixes_cannot_index():
    d = error(UNREADABLE)
    assert d.code == "E0305" and where(d) == (2, 16)
    assert "`n`" in d.message and "not known" in d.message


def test_provably_out_of_range_stays_e0307():
    d = error("def f(X: n m) -> m:\n    return X[n]\n")
    assert d.code == "E0307" and where(d) == (2, 14)


@pytest.mark.parametrize("text, code", [(SLICE, "E0317"), (INDEX, "E0317")])
def test_sizes_decide_a_precondition(text, code):
    d = error(text, {"n": 2})
    assert d.code == code and where(d) == (2, 14)
    assert "n = 2" in " ".join(d.notes)
    assert preconditions(text, {"n": 3}) == {}  # satisfied: it disappears


def test_a_bound_over_hyperparameters_is_checked_at_construction():
    text = ("module M(k, d):\n"
            "    def forward(X: n d) -> n k:\n"
            "        return X[:, 0:k]\n")
    assert preconditions(text) == {"M": ["needs d >= k (X[:, 0:k] takes indexes 0..k - 1 of axis d)"]}
    M = load(text).M
    with pytest.raises(ValueError, match=r"\[pre.ncd:3\] needs d >= k .*got d = 2, k = 3"):
        M(3, 2)
    assert M(2, 3)(torch.rand(4, 3)).shape == (4, 2)


def test_preconditions_print_in_the_ir():
    text = format_program(ncdc.check_source(SLICE, PATH))
    assert "  requires n >= 3 (X[1:3] takes indexes 1..2 of axis n)  @2:14" in text


# ---- layer options and input sizes that PyTorch rejects ----------------------------------------------


def module(part: str, forward: str = "def forward(X: c H W) -> c H W:\n        return X\n",
           hparams: str = "c=4, d=6, g=2") -> str:
    return f"module M({hparams}):\n    part = {part}\n\n    {forward}"


@pytest.mark.parametrize("part, option", [
    ("Conv2d[4 -> 6](3, groups=3)", "groups=3"),
    ("ConvTranspose2d[4 -> 6](3, groups=3)", "groups=3"),
    ("GroupNorm[4](3)", "3)"),
    ("MaxPool2d(3, padding=2)", "padding=2"),
    ("AvgPool3d(2, padding=2)", "padding=2"),
    ("ConvTranspose2d[4 -> 4](3, stride=2, output_padding=2)", "output_padding=2"),
    ("ConvTranspose2d[4 -> 4](2, padding=1)", "padding=1"),
])
def test_options_pytorch_rejects_are_errors(part, option):
    text = module(part)
    d = error(text)
    line = text.splitlines()[1]
    assert d.code == "E0313" and where(d) == (2, line.rindex(option) + 1), d.render()


def test_groups_that_may_not_divide_are_checked_at_construction():
    text = module("Conv2d[c -> d](3, groups=g, padding=1)",
                  "def forward(X: c H W) -> d H W:\n        return part(X)\n")
    found = preconditions(text)["M"]
    assert found == ["needs c % g == 0 (`part`: Conv2d's groups (g) must divide its input channels (c))",
                     "needs d % g == 0 (`part`: Conv2d's groups (g) must divide its output channels (d))"]
    M = load(text).M
    with pytest.raises(ValueError, match=r"\[pre.ncd:2\] needs d % g == 0 .*got d = 6, g = 4"):
        M(c=4, d=6, g=4)
    assert M(c=4, d=6, g=2)(torch.rand(4, 5, 5)).shape == (6, 5, 5)
    assert error(text, {"c": 4, "d": 6, "g": 4}).code == "E0317"
    assert preconditions(text, {"c": 4, "d": 6, "g": 2}) == {}


def test_a_derived_size_that_may_be_zero_is_checked_at_construction():
    """`nb = n1 // 4` is 0 for n1 < 4: every size is positive to the checker, so the constructor
    checks it (a Conv2d of no channels would fail only when called)."""
    M = ncdc.load(ROOT / "specs" / "resnet.ncd").ProjectionResidual
    with pytest.raises(ValueError, match=r"\[resnet.ncd:13\] needs nb >= 1 \(`nb = n1//4` is a size.*got nb = 0"):
        M(n0=4, n1=2, s=1)
    assert M(n0=4, n1=8, s=1)(torch.rand(4, 5, 5)).shape == (8, 5, 5)
    text = "module M(m=4):\n    k = m + 1\n\n    def forward(X: m) -> m:\n        return X\n"
    assert preconditions(text) == {}  # provably positive: no check


def test_groupnorm_groups_are_checked_at_construction():
    text = module("GroupNorm[c](g)", "def forward(X: c H W) -> c H W:\n        return part(X)\n")
    with pytest.raises(ValueError, match=r"needs c % g == 0 .*got c = 4, g = 3"):
        load(text).M(c=4, g=3)


def test_a_pooling_side_smaller_than_its_kernel_is_checked_at_each_call():
    text = ("module M():\n"
            "    pool = AvgPool3d(3)\n\n"
            "    def forward(X: 2 D H W) -> 2 (D//3) (H//3) (W//3):\n"
            "        return pool(X)\n")
    assert preconditions(text)["M.forward"][0].startswith("needs D >= 3 (`pool`: the pooling kernel")
    m = load(text).M()
    with pytest.raises(ValueError, match=r"\[pre.ncd:5\] needs D >= 3 .*got D = 2"):
        m(torch.rand(2, 2, 6, 6))
    assert m(torch.rand(2, 3, 6, 6)).shape == (2, 1, 2, 2)
    assert error(text, {"D": 2}).code == "E0317"


def test_a_side_smaller_than_the_kernel_is_an_error_when_provable():
    text = ("module M():\n"
            "    conv = Conv1d[2 -> 2](5)\n\n"
            "    def forward(X: 2 3) -> 2 3:\n"
            "        Y = conv(X)\n"
            "        return X\n")
    d = error(text)
    assert d.code == "E0313" and where(d) == (5, 13) and "needs 3 >= 5" in d.message


def test_the_rules_of_a_sequence_are_checked_where_it_is_called():
    text = ("module M():\n"
            "    body = seq(Conv2d[1 -> 1](5), MaxPool2d(2))\n\n"
            "    def forward(X: 1 H W) -> 1 ((H - 4)//2) ((W - 4)//2):\n"
            "        return body(X)\n")
    found = preconditions(text)["M.forward"]
    assert any("H >= 5" in p for p in found) and any("H - 4 >= 2" in p for p in found)
    m = load(text).M()
    with pytest.raises(ValueError, match=r"\[pre.ncd:5\] needs H - 4 >= 2"):
        m(torch.rand(1, 5, 9))
    assert m(torch.rand(1, 6, 8)).shape == (1, 1, 2)


def test_a_rule_over_a_symbolic_repetition_index_is_checked_for_each_index():
    text = ("module M(L=3):\n"
            "    norms = [GroupNorm[4](i) for i in 1..L]\n\n"
            "    def forward(X: 4 H W) -> 4 H W:\n"
            "        return norms[1](X)\n")
    with pytest.raises(ValueError, match=r"needs 4 % i == 0 for i in 1..L .*got L = 3, i = 3"):
        load(text.replace("1..L", "1..L")).M(L=3)
    assert load(text).M(L=2)(torch.rand(4, 2, 2)).shape == (4, 2, 2)


# ---- the command line ------------------------------------------------------------------------------


def ncdc_cli(*args, cwd: Path):
    return subprocess.run([sys.executable, "-m", "ncdc", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_check_lists_preconditions(tmp_path):
    (tmp_path / "s.ncd").write_text(SLICE + "\n" + INDEX, encoding="utf-8")
    result = ncdc_cli("check", "s.ncd", "--preconditions", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == ["s.ncd:2:14: def f, at each call: needs n >= 3 (X[1:3] takes indexes 1..2 of axis n)",
                     "s.ncd:5:14: def g, at each call: needs n > 2 (X[2] takes index 2 of axis n)"]
    result = ncdc_cli("check", "s.ncd", "--preconditions", "--format", "json", cwd=tmp_path)
    data = json.loads(result.stdout)
    assert data["diagnostics"] == []
    first = data["preconditions"][0]
    assert first == {"file": "s.ncd", "line": 2, "column": 14, "kind": "def", "definition": "f", "checked": "call",
                     "condition": "n >= 3", "over": [], "reason": "X[1:3] takes indexes 1..2 of axis n"}
    result = ncdc_cli("check", "s.ncd", "--preconditions", "--sizes", "n=3", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == ""
    result = ncdc_cli("check", "s.ncd", "--sizes", "n=2", cwd=tmp_path)
    assert result.returncode == 1 and "E0317" in result.stderr


def test_the_specs_compile_with_their_preconditions():
    for path in sorted((ROOT / "specs").glob("*.ncd")):
        verify(ncdc.check_file(path))


def test_an_index_into_a_symbolic_repetition_range_is_checked_at_construction():
    text = ("module Blocks(L):\n"
            "    blocks = [Linear[4 -> 4]() for i in 1..L]\n\n"
            "    def forward(X: 4) -> 4:\n"
            "        return blocks[3](X)\n")
    assert preconditions(text) == {"Blocks": ["needs L >= 3 (blocks[3] takes repetition 3 of 1..L)"]}
    Blocks = load(text).Blocks
    with pytest.raises(ValueError, match=r"\[pre.ncd:5\] needs L >= 3 .*got L = 2"):
        Blocks(2)
    assert Blocks(3)(torch.rand(4)).shape == (4,)


def test_bounds_over_bound_axes_are_proved_and_read_with_the_hyperparameters():
    assert preconditions("module M(c):\n    def forward(X: (c h)) -> c:\n        return X[0:c]\n") == {}
    text = "module M(c):\n    def forward(X: (c h)) -> ():\n        return X[h]\n"
    assert preconditions(text) == {"M.forward": ["needs c*h > h (X[h] takes index h of axis (c h))"]}
    M = load(text).M
    with pytest.raises(ValueError, match=r"needs c\*h > h .*got c = 1, h = 3"):
        M(1)(torch.rand(3))
    assert M(2)(torch.arange(6.0)).item() == 3.0
