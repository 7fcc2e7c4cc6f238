"""`ncdc fmt`: one layout, idempotent, and the same spec afterwards (same tree, same IR, same comments)."""

from __future__ import annotations

import dataclasses
import inspect
import os
import re
from pathlib import Path

import pytest

import ncdc
from ncdc import fmt, tree
from ncdc.cli import main
from ncdc.fmt import FormatError, format_source
from ncdc.ir_text import format_program

ROOT = Path(__file__).resolve().parent.parent


def _blocks(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    return {f"{path.name}:{text.count(chr(10), 0, m.start()) + 1}": m.group(1)
            for m in re.finditer(r"^```ncd\n(.*?)^```$", text, re.M | re.S)}


# Every spec the project ships or documents, and every construct file (a new construct gets one).
SPECS = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
         for p in sorted([*ROOT.glob("specs/*.ncd"), *ROOT.glob("tests/constructs/*.ncd")])}
SPECS |= _blocks(ROOT / "docs" / "language.md") | _blocks(ROOT / "README.md")


def _ir(text: str, name: str = "spec.ncd") -> str:
    """The typed IR without places in the spec (formatting moves lines, never meaning); checked as the
    spec `name` (of the repository), whose imports are read beside it."""
    return re.sub(r"@\d+:\d+", "@", format_program(ncdc.check_source(text, str(ROOT / name))))


def test_the_printer_knows_every_node_and_field_of_the_tree():
    nodes = {cls for _, cls in inspect.getmembers(tree, inspect.isclass)
             if dataclasses.is_dataclass(cls) and cls.__module__ == tree.__name__}
    assert nodes == set(fmt._FIELDS), "ncdc/fmt.py must print every node of ncdc.tree (see _FIELDS)"
    for cls in nodes:
        fields = tuple(f.name for f in dataclasses.fields(cls) if f.name not in fmt._SPANS)
        missing = set(fields) ^ set(fmt._FIELDS[cls])
        assert fields == fmt._FIELDS[cls], f"ncdc/fmt.py does not print {cls.__name__}.{missing}"


@pytest.mark.parametrize("name", SPECS)
def test_formatting_is_idempotent_and_keeps_the_ir(name):
    text = SPECS[name]
    once = format_source(text, name)
    assert format_source(once, name) == once
    assert _ir(once, name) == _ir(text, name)
    assert all(len(line) <= fmt.LIMIT or "->" in line or "#" in line for line in once.splitlines())


def test_the_layout():
    messy = (
        "# a spec\n\n\n"
        "size  a=5,b = 7   # two sizes\n"
        "box G:a , d->b\n"
        "def f(X:a b,Y :b)->a:   # header\n"
        "\n"
        "    # leading\n"
        "    Z=einsum[a](X,Y)\n"
        "    W = ( Z+1 )*2 - ( Z - ( 1 - Z ) )  # arithmetic\n"
        "    V = -(W ** 2) + (-W) ** 2 + W**-1\n"
        "    return softmax[a](V) # done\n"
        "    # end of f\n"
        "module M( c = 4 ,d=2):\n"
        "    n = c*2**d\n"
        "    blocks = [ Linear[c->c](bias=false) for i in 1..d ]\n"
        "    def forward(X: c) -> c:\n"
        "        return blocks(X[0:c])\n"
    )
    assert format_source(messy) == (
        "# a spec\n\n"
        "size a = 5, b = 7  # two sizes\n"
        "box G : a, d -> b\n\n"
        "def f(X: a b, Y: b) -> a:  # header\n"
        "    # leading\n"
        "    Z = einsum[a](X, Y)\n"
        "    W = (Z + 1) * 2 - (Z - (1 - Z))  # arithmetic\n"
        "    V = -(W**2) + (-W) ** 2 + W**-1\n"
        "    return softmax[a](V)             # done\n"
        "    # end of f\n\n"
        "module M(c=4, d=2):\n"
        "    n = c * 2**d\n"
        "    blocks = [Linear[c -> c](bias=false) for i in 1..d]\n\n"
        "    def forward(X: c) -> c:\n"
        "        return blocks(X[0:c])\n"
    )


def test_comments_inside_a_statement_move_above_it_and_none_is_lost():
    text = ("def f(X: a) -> a:\n"
            "    return relu(  # the first\n"
            "        X,        # the second\n"
            "        # the third\n"
            "    )\n")
    assert format_source(text) == ("def f(X: a) -> a:\n"
                                   "    # the first\n"
                                   "    # the second\n"
                                   "    # the third\n"
                                   "    return relu(X)\n")


def test_long_lines_break_their_outermost_brackets_first():
    parts = ", ".join("Linear[c -> c](bias=false)" for _ in range(5))
    text = f"module M(c):\n    net = seq({parts})\n\n    def forward(X: c) -> c:\n        return net(X)\n"
    out = format_source(text)
    assert "    net = seq(\n" + "        Linear[c -> c](bias=false),\n" * 5 + "    )\n" in out


def test_a_node_the_printer_does_not_know_is_an_error_not_lost_text(monkeypatch):
    @dataclasses.dataclass
    class Unknown:
        span: object

    program = ncdc.syntax.parse("def f(X: a) -> a:\n    return X\n")
    program.items[0].body[0].values[0] = Unknown(program.items[0].body[0].span)
    monkeypatch.setattr(fmt, "parse", lambda text, path: program)
    with pytest.raises(FormatError, match="does not know `Unknown`"):
        format_source("")


def test_a_result_that_would_change_the_spec_is_refused(tmp_path, monkeypatch, capsys):
    spec = tmp_path / "a.ncd"
    spec.write_text("def f(X: a) -> a:\n    return  X * 2.5\n", encoding="utf-8")
    monkeypatch.setattr(fmt._Layout, "_literal", staticmethod(lambda node: "3.5"))
    assert main(["fmt", str(spec)]) == 1
    assert "would parse differently" in capsys.readouterr().err
    assert spec.read_text(encoding="utf-8") == "def f(X: a) -> a:\n    return  X * 2.5\n"


def test_check_diff_and_writing(tmp_path, capsys):
    good = tmp_path / "good.ncd"
    good.write_text("def f(X: a) -> a:\n    return X\n", encoding="utf-8")
    messy = tmp_path / "messy.ncd"
    messy.write_bytes(b"def f(X: a) -> a:\r\n    return  X   # kept\r\n")
    os.chmod(messy, 0o640)
    link = tmp_path / "link.ncd"
    link.symlink_to(messy.name)

    assert main(["fmt", "--check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"would reformat {messy}" in err and "good.ncd" not in err.replace("1 unchanged", "")
    assert main(["fmt", "--diff", str(messy)]) == 0
    assert "-    return  X   # kept\r\n+    return X  # kept\r\n" in capsys.readouterr().out
    assert messy.read_bytes() == b"def f(X: a) -> a:\r\n    return  X   # kept\r\n"

    assert main(["fmt", str(link)]) == 0  # through the link: the file it leads to, the link kept
    assert link.is_symlink() and messy.read_bytes() == b"def f(X: a) -> a:\r\n    return X  # kept\r\n"
    assert messy.stat().st_mode & 0o777 == 0o640
    assert main(["fmt", "--check", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.ncd", "link.ncd", "messy.ncd"]


def test_a_spec_with_errors_is_reported_and_left_alone(tmp_path, capsys):
    bad = tmp_path / "bad.ncd"
    bad.write_text("def f(X: a) -> a\n    return  X\n", encoding="utf-8")
    assert main(["fmt", str(bad)]) == 1
    assert "bad.ncd:1:" in capsys.readouterr().err
    assert bad.read_text(encoding="utf-8") == "def f(X: a) -> a\n    return  X\n"


def test_standard_input_to_standard_output(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"box f:a->b\n")))
    assert main(["fmt", "-"]) == 0
    out = capsys.readouterr()
    assert out.out == "box f : a -> b\n" and out.err == ""


def test_the_shipped_specs_are_in_the_canonical_layout(capsys):
    """`ncdc fmt --check specs/`, as CI would run it: nothing to reformat."""
    assert main(["fmt", "--check", str(ROOT / "specs")]) == 0, capsys.readouterr().err
