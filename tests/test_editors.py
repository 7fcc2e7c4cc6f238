"""Editor support: the Pygments lexer and the TextMate grammar (VS Code) classify every character of
every shipped spec and documentation example, and know every keyword of the grammar."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pygments.token import Error

from ncdc.pygments_lexer import CONSTANTS, ELEMENT_TYPES, KEYWORDS, NcdLexer
from ncdc.syntax import ELEMENT_TYPES as SYNTAX_ELEMENT_TYPES
from ncdc.syntax import _parser

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = json.loads((VSCODE / "syntaxes" / "ncd.tmLanguage.json").read_text(encoding="utf-8"))


def _examples() -> dict[str, str]:
    found = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8")
             for p in sorted([*ROOT.glob("specs/*.ncd"), *ROOT.glob("tests/constructs/*.ncd")])}
    for doc in (ROOT / "docs" / "language.md", ROOT / "README.md"):
        text = doc.read_text(encoding="utf-8")
        found |= {f"{doc.name}:{text.count(chr(10), 0, m.start()) + 1}": m.group(1)
                  for m in re.finditer(r"^```ncd\n(.*?)^```$", text, re.M | re.S)}
    return found


EXAMPLES = _examples()


def _grammar_words() -> set[str]:
    """The grammar's keywords (its literal words, `def`, `true`...) and the element types."""
    words = {t.pattern.value for t in _parser().terminals
             if t.pattern.type == "str" and t.pattern.value.isidentifier()}
    return words | set(SYNTAX_ELEMENT_TYPES)


def test_the_lexer_knows_every_keyword_of_the_grammar():
    assert _grammar_words() == set(KEYWORDS) | set(CONSTANTS) | set(ELEMENT_TYPES)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_lexer_classifies_every_character(name):
    tokens = list(NcdLexer().get_tokens(EXAMPLES[name]))
    assert not [value for kind, value in tokens if kind in Error]
    assert "".join(value for _, value in tokens) == EXAMPLES[name] + ("" if EXAMPLES[name].endswith("\n") else "\n")


def test_pygments_finds_the_lexer_by_name_and_file_name():
    from pygments.lexers import find_lexer_class_for_filename, get_lexer_by_name

    assert isinstance(get_lexer_by_name("ncd"), NcdLexer)
    assert find_lexer_class_for_filename("unet.ncd") is NcdLexer


def _patterns(rule: dict) -> list[tuple[str, str]]:
    """(scope, regex) for a rule of the TextMate grammar, following includes."""
    if "include" in rule:
        return _patterns(GRAMMAR["repository"][rule["include"].lstrip("#")])
    if "patterns" in rule:
        return [p for r in rule["patterns"] for p in _patterns(r)]
    return [(rule.get("name", "captured"), rule["match"])]


TOP = [(scope, re.compile(regex)) for rule in GRAMMAR["patterns"] for scope, regex in _patterns(rule)]


def _textmate_tokens(line: str) -> list[tuple[str, str]]:
    """Tokenise a line as a TextMate engine does: the earliest match, the first rule among equals;
    what no rule matches must be white space."""
    tokens, at = [], 0
    while at < len(line):
        best = None
        for scope, regex in TOP:
            match = regex.search(line, at)
            if match and match.end() > match.start() and (best is None or match.start() < best[1].start()):
                best = (scope, match)
        if best is None:
            assert not line[at:].strip(), f"unclassified: {line[at:]!r}"
            break
        scope, match = best
        assert not line[at:match.start()].strip(), f"unclassified: {line[at:match.start()]!r}"
        tokens.append((scope, match.group()))
        at = match.end()
    return tokens


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_textmate_grammar_classifies_every_character(name):
    for line in EXAMPLES[name].splitlines():
        _textmate_tokens(line)


def test_the_textmate_grammar_knows_every_keyword_of_the_grammar():
    for word in _grammar_words():
        [(scope, text)] = _textmate_tokens(word)
        assert text == word and scope.split(".")[0] in ("keyword", "constant", "storage"), (word, scope)
    assert _textmate_tokens("def f") == [("captured", "def f")]  # the declaration rule: keyword and name


def test_the_vscode_extension_points_at_its_files():
    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    [language] = manifest["contributes"]["languages"]
    [grammar] = manifest["contributes"]["grammars"]
    assert language["extensions"] == [".ncd"] and grammar["scopeName"] == GRAMMAR["scopeName"]
    json.loads((VSCODE / language["configuration"]).read_text(encoding="utf-8"))
    assert (VSCODE / grammar["path"]).resolve() == (VSCODE / "syntaxes" / "ncd.tmLanguage.json").resolve()
