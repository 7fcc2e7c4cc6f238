"""Imports between specs: definitions of another spec, resolved beside the importing file."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ncdc
from ncdc import NcdcError

ROOT = Path(__file__).resolve().parent.parent
ATTENTION = (ROOT / "specs" / "attention.ncd").read_text(encoding="utf-8")

BLOCK = """\
from lib.attention import MultiHeadAttention

module Block(m=32):
    attn = MultiHeadAttention(m, 8, 4)

    def forward(X: t m) -> t m:
        return X + attn(X, X)
"""


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def error(path: Path):
    with pytest.raises(NcdcError) as info:
        ncdc.check_file(path)
    d = info.value.diagnostics[0]
    return d.code, Path(d.span.source.path).name, d.span.line, d.span.column, d.message


def test_an_imported_module_brings_what_it_uses(tmp_path):
    write(tmp_path, {"lib/attention.ncd": ATTENTION, "block.ncd": BLOCK})
    generated = ncdc.compile_file(tmp_path / "block.ncd")
    # One self-contained module: the def that MultiHeadAttention calls comes with it, the rest not.
    assert "def ScaledDotProductAttention(" in generated and "Stepwise" not in generated
    assert "[attention.ncd:17]" in generated and "[block.ncd:3]" in generated
    block = ncdc.load(tmp_path / "block.ncd").Block()
    attention = ncdc.load(ROOT / "specs" / "attention.ncd").MultiHeadAttention(32, 8, 4)
    attention.load_state_dict(block.attn.state_dict(), strict=True)
    X = torch.randn(2, 5, 32)
    torch.testing.assert_close(block(X), X + attention(X, X))


def test_a_definition_reached_twice_is_brought_once(tmp_path):
    shared = "def twice(X: a) -> a:\n    return X + X\n"
    write(tmp_path, {"d.ncd": shared,
                     "b.ncd": "from d import twice\ndef b(X: a) -> a:\n    return twice(X)\n",
                     "c.ncd": "from d import twice\ndef c(X: a) -> a:\n    return twice(X)\n",
                     "a.ncd": "from b import b\nfrom c import c\ndef a(X: a) -> a:\n    return b(c(X))\n"})
    assert ncdc.compile_file(tmp_path / "a.ncd").count("def twice(") == 1


@pytest.mark.parametrize("files, at", [
    ({"m.ncd": "from lib.attention import MultiHeadAtention\n", "lib/attention.ncd": ATTENTION},
     ("E0107", "m.ncd", 1, 27)),
    ({"m.ncd": "from nowhere import X\n"}, ("E0107", "m.ncd", 1, 1)),
    ({"m.ncd": "from c2 import B\ndef A(X: a) -> a:\n    return X\n",
      "c2.ncd": "from m import A\ndef B(X: a) -> a:\n    return A(X)\n"}, ("E0108", "c2.ncd", 1, 1)),
    ({"m.ncd": "from m import A\ndef A(X: a) -> a:\n    return X\n"}, ("E0108", "m.ncd", 1, 1)),
    ({"m.ncd": BLOCK.replace("module Block", "module MultiHeadAttention"), "lib/attention.ncd": ATTENTION},
     ("E0103", "m.ncd", 3, 8)),
])
def test_bad_imports_are_errors_at_the_import(tmp_path, files, at):
    write(tmp_path, files)
    assert error(tmp_path / "m.ncd")[:4] == at


def test_a_missing_name_lists_what_the_spec_defines(tmp_path):
    write(tmp_path, {"m.ncd": "from lib.attention import MultiHeadAtention\n", "lib/attention.ncd": ATTENTION})
    message = error(tmp_path / "m.ncd")[4]
    assert message == "`attention.ncd` defines no `MultiHeadAtention`"
