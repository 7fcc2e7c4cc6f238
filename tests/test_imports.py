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


def test_specs_checked_together_parse_a_spec_they_import_once(tmp_path, monkeypatch, capsys):
    """`ncdc check` of a folder parses each spec once, also one that several import, and reports
    as if each were checked alone (an error in the imported spec at each import)."""
    import ncdc.cli
    import ncdc.syntax

    write(tmp_path, {"lib/attention.ncd": ATTENTION, "a.ncd": BLOCK, "b.ncd": BLOCK.replace("Block", "Other"),
                     "c.ncd": "from broken import F\n", "d.ncd": "from broken import F\n",
                     "broken.ncd": "def F(X: a) -> a:\n    return X +\n"})
    alone = {}
    for name in ("a", "b", "c", "d"):
        ncdc.cli.main(["check", "--format", "json", str(tmp_path / f"{name}.ncd")])
        alone[name] = capsys.readouterr().out
    monkeypatch.setenv("NCDC_CACHE_DIR", str(tmp_path / "cache"))  # no trees kept from the runs alone
    parsed: list[str] = []
    parse = ncdc.syntax.parse
    monkeypatch.setattr(ncdc.syntax, "parse",
                        lambda text, path, *a: parsed.append(Path(path).name) or parse(text, path, *a))
    assert ncdc.cli.main(["check", "--format", "json", *(str(tmp_path / f"{n}.ncd") for n in "abcd")]) == 1
    together = capsys.readouterr().out
    assert parsed.count("attention.ncd") == 1 and parsed.count("a.ncd") == 1
    assert parsed.count("broken.ncd") == 2  # it does not parse: nothing to share
    import json
    assert json.loads(together)["diagnostics"] == [d for n in "abcd" for d in json.loads(alone[n])["diagnostics"]]
