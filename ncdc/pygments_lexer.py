"""A Pygments lexer for .ncd specs (registered as `ncd`), so that documentation tools highlight them.

tests/test_editors.py holds its keywords to the grammar's (grammar/ncd.lark) and checks that it
classifies every character of every shipped spec and documentation example.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Whitespace

KEYWORDS = ("size", "box", "buffer", "def", "module", "return", "for", "in", "if", "elif", "else", "not", "from",
            "import")
CONSTANTS = ("true", "false")
ELEMENT_TYPES = ("float", "int", "bool")  # written before a type's axes: `T: int t`


class NcdLexer(RegexLexer):
    name = "NCD"
    aliases = ["ncd"]
    filenames = ["*.ncd"]
    mimetypes = ["text/x-ncd"]

    tokens = {
        "root": [
            (r"[ \t\f]+", Whitespace),
            (r"\\\r?\n", Whitespace),
            (r"\r?\n", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r"\b(def|module|box)(\s+)((?!\d)\w+)", bygroups(Keyword, Whitespace, Name.Function)),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (words(ELEMENT_TYPES, suffix=r"\b"), Keyword.Type),
            (r'"[^"\\\n]*"', String),
            (r"\d+\.\d+([eE][+-]?\d+)?|\d+[eE][+-]?\d+", Number.Float),
            (r"\d+", Number.Integer),
            (r"->|\.\.|\*\*|//|[<>=!]=|[-+*/=<>]", Operator),
            (r"[()\[\]{},:.]", Punctuation),  # braces: a choice hyperparameter; a dot: an import path
            (r"(?!\d)\w+", Name),
        ],
    }


__all__ = ["NcdLexer"]
