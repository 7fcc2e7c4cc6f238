"""No input breaks the compiler, nothing in a spec breaks out of the generated code, and the
size algebra that everything rests on is sound.

(a) fuzzing: random text, mutated specs and random token soups give diagnostics, never tracebacks;
    what passes the checker compiles to valid Python.
(b) injection: spec names and paths that look like Python cannot change what the generated module does.
(c) determinism: the same spec gives the same bytes in any interpreter.
(d) properties of `ncdc.sizes` (normal forms), the back end's size code and the unifier.
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import ncdc
from ncdc import NcdcError, check_source, compile_source
from ncdc.backend.sizes import size_code
from ncdc.checker.solver import Solver
from ncdc.sizes import Size, Symbol, Var, format_size

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SPEC_TEXTS = {p.name: p.read_text(encoding="utf-8") for p in sorted(SPECS.glob("*.ncd"))}
SMALL_SPECS = {name: text for name, text in SPEC_TEXTS.items() if len(text) < 2500}

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.data_too_large])

CODE = re.compile(r"E\d{4}$")


def load_source(source: str, name: str = "generated") -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    return module


def assert_handled(text: str, path: str = "fuzz.ncd") -> None:
    """`text` is either rejected with well-formed diagnostics, or compiles to valid Python."""
    try:
        check_source(text, path)
    except NcdcError as error:
        assert error.diagnostics, "an NcdcError must carry diagnostics"
        for d in error.diagnostics:
            assert CODE.match(d.code), d.code
            assert d.message
            d.render()
            json.dumps(d.to_json())
            if d.span is not None:
                assert 1 <= d.span.line and 1 <= d.span.column, d.span
                assert (d.span.end_line, d.span.end_column) >= (d.span.line, d.span.column), d.span
        return
    for stubs in (False, True):
        source = compile_source(text, path, stubs=stubs)
        compile(source, "generated.py", "exec")


# ---- (a) fuzzing ------------------------------------------------------------------------------------

TOKENS = [
    "size", "box", "def", "module", "return", "for", "in", "true", "false", "->", "..", ":", ",", "=",
    "(", ")", "[", "]", "+", "-", "*", "/", "//", "**", "()", "\n", "\n    ", "\n        ", "\n  ", "\t",
    "# note", "\\\n", "a", "b", "k h", "X", "Y", "f", "g", "forward", "einsum", "rearrange", "softmax", "sum",
    "relu", "sqrt", "flatten", "concat", "eye", "Linear", "Conv2d", "LayerNorm", "Dropout", "seq", "training",
    "lambda", "class", "torch", "self", "0", "1", "2", "16", "0.5", "1e999", '"same"', "λ", "ﬁ", "①", "_x",
]

printable = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)


@st.composite
def mutated_specs(draw):
    text = draw(st.sampled_from(sorted(SPEC_TEXTS.values())))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "delete-line", "duplicate-line",
                                   "swap-lines", "insert-token", "replace-token", "indent", "dedent"]))
        lines = text.split("\n")
        i = draw(st.integers(0, max(0, len(text) - 1)))
        j = draw(st.integers(0, max(0, len(lines) - 1)))
        k = draw(st.integers(0, max(0, len(lines) - 1)))
        if op == "delete":
            text = text[:i] + text[i + 1:]
        elif op == "duplicate":
            text = text[:i + 1] + text[i:]
        elif op == "swap" and i + 1 < len(text):
            text = text[:i] + text[i + 1] + text[i] + text[i + 2:]
        elif op == "insert":
            text = text[:i] + draw(st.characters(blacklist_categories=("Cs",))) + text[i:]
        elif op == "delete-line":
            del lines[j]
            text = "\n".join(lines)
        elif op == "duplicate-line":
            lines.insert(j, lines[j])
            text = "\n".join(lines)
        elif op == "swap-lines":
            lines[j], lines[k] = lines[k], lines[j]
            text = "\n".join(lines)
        elif op == "insert-token":
            text = text[:i] + draw(st.sampled_from(TOKENS)) + text[i:]
        elif op == "replace-token":
            words = re.split(r"(\W)", text)
            w = draw(st.integers(0, max(0, len(words) - 1)))
            if words:
                words[w] = draw(st.sampled_from(TOKENS))
            text = "".join(words)
        elif op == "indent":
            lines[j] = "    " + lines[j]
            text = "\n".join(lines)
        elif op == "dedent":
            lines[j] = lines[j][2:]
            text = "\n".join(lines)
    return text


token_soup = st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join)


@FUZZ
@given(printable)
def test_random_text_never_crashes(text):
    assert_handled(text)


@FUZZ
@given(mutated_specs())
def test_mutated_specs_never_crash(text):
    assert_handled(text)


@FUZZ
@given(token_soup)
def test_token_soup_never_crashes(text):
    assert_handled(text)


@FUZZ
@given(st.sampled_from(sorted(SMALL_SPECS)), st.data())
def test_spec_prefixes_never_crash(name, data):
    """Every prefix of a spec (an editor's view while typing) is handled."""
    text = SMALL_SPECS[name]
    cut = data.draw(st.integers(0, len(text)))
    assert_handled(text[:cut])


@pytest.mark.parametrize("text", [
    "", "\n", "\n\n\n", "# only a comment", "    ", "\t\n", "\\", "\\\n", "\r", "\r\n", "\x00", "\ufeff",
    "def f(X: a) -> a:\n    return X\n" * 2,
    "def f(X: a) -> a:\n\treturn X\n        Y = X\n",
    "(" * 200, "[" * 200 + "]" * 200, "def f(X: " + "(" * 100 + "a" + ")" * 100 + ") -> a:\n    return X\n",
    "def f(X: a) -> a:\n    return " + "-" * 500 + "X\n",
    "def f(X: a) -> a:\n    return " + "relu(" * 200 + "X" + ")" * 200 + "\n",
    "size a = " + " * ".join(["2"] * 200) + "\n",
    "size a = 2 ** 2 ** 2 ** 2 ** 2\n",
    "size a = 10 ** 100\ndef f(X: a) -> a:\n    return X\n",
    "size a = 2 // 0\n",
    "size a = 3 - 5\n",
    "def f(X: a) -> a:\n    return X[0:0]\n",
    "def f(X: a) -> a:\n    for i in 5..0:\n        X = X\n    return X\n",
    "def f(X: a) -> ():\n    return X[99999999999999999999999]\n",
    "module M(m=4):\n    L = [Linear[m -> m]() for i in 0..0]\n    def forward(X: m) -> m:\n        return L(X)\n",
    "module M(m=4):\n    L = [Linear[m -> m]() for i in 3..1]\n    def forward(X: m) -> m:\n        return L(X)\n",
], ids=lambda text: ascii(text)[1:-1][:30])
def test_edge_cases_never_crash(text):
    assert_handled(text)


def _fuzz_files(folder: Path, count: int) -> list[Path]:
    rng = random.Random(20240611)
    texts = sorted(SPEC_TEXTS.values())
    paths = []
    for n in range(count):
        text = rng.choice(texts)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(text))
            choice = rng.random()
            if choice < 0.4:
                text = text[:i] + text[i + 1:]
            elif choice < 0.7:
                text = text[:i] + rng.choice(TOKENS) + text[i:]
            else:
                lines = text.split("\n")
                a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[a], lines[b] = lines[b], lines[a]
                text = "\n".join(lines)
        path = folder / f"fuzz_{n:02d}.ncd"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def test_cli_on_fuzzed_files_gives_diagnostics_not_tracebacks(tmp_path):
    paths = _fuzz_files(tmp_path, 24)
    for fmt in ("text", "json"):
        result = subprocess.run([sys.executable, "-m", "ncdc", "check", "--format", fmt, str(tmp_path)],
                                capture_output=True, text=True, timeout=300)
        assert result.returncode in (0, 1), result.stderr
        assert "Traceback" not in result.stderr + result.stdout
        if fmt == "json":
            json.loads(result.stdout)
    for path in paths[:3]:
        result = subprocess.run([sys.executable, "-m", "ncdc", "compile", str(path)], capture_output=True,
                                text=True, timeout=300)
        assert result.returncode in (0, 1), result.stderr
        assert "Traceback" not in result.stderr
        if result.returncode == 0:
            compile(result.stdout, str(path), "exec")


# ---- (b) injection: names -------------------------------------------------------------------------

PYTHON_LOOKING_WIRES = """\
def f(lambda: a, print: a) -> a:
    self = lambda + print
    torch = relu(self)
    nn = torch * 2
    Tensor = nn
    math = sqrt(a) * Tensor
    CHECK_SHAPES = math
    _check_shape = CHECK_SHAPES
    None = _check_shape
    __class__ = None
    return __class__
"""


def test_local_wires_named_like_python_still_compute_the_right_thing():
    import torch

    module = load_source(compile_source(PYTHON_LOOKING_WIRES, "names.ncd"))
    x, y = torch.randn(5), torch.randn(5)
    assert torch.allclose(module.f(x, y), torch.relu(x + y) * 2 * 5 ** 0.5)
    assert module.CHECK_SHAPES is True  # the module's switch is not rebound by a wire
    with pytest.raises(ValueError):
        module.f(torch.randn(5), torch.randn(4))  # shape checks still work


def test_module_wires_named_like_python():
    import torch

    text = """\
module M(m=4):
    L = Linear[m -> m]()
    def forward(self: y m, super: m) -> y m:
        torch = L(self) + super
        nn = relu(torch)
        return nn
"""
    module = load_source(compile_source(text, "names.ncd"))
    model = module.M()
    a, b = torch.randn(3, 4), torch.randn(4)
    assert torch.allclose(model(a, b), torch.relu(model.L(a) + b))


# Names of Python builtins that generated code itself may call (its shape-checking helpers).
HELPER_BUILTINS = ["ValueError", "any", "enumerate", "isinstance", "len", "map", "range", "str", "tuple", "zip",
                   "print", "list", "type", "super", "object", "Callable"]


@pytest.mark.parametrize("name", HELPER_BUILTINS)
def test_def_named_like_a_builtin_does_not_break_generated_code(name):
    """A def is kept under its own name; if that would shadow what the generated code uses, it is E0102."""
    import torch

    text = f"""\
box B : 3 -> 2
def {name}(X: a) -> a:
    return X
def g(X: c 3) -> c 2:
    return B[c](X)
def fixed(X: 3) -> 3:
    return relu(X)
"""
    try:
        source = compile_source(text, "names.ncd", stubs=True)
    except NcdcError as error:
        assert [d.code for d in error.diagnostics] == ["E0102"]
        return
    module = load_source(source)
    assert module.g(torch.randn(5, 3)).shape == (5, 2)
    assert getattr(module, name)(torch.ones(2)).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="expected shape"):
        module.fixed(torch.randn(4))


@pytest.mark.parametrize("name", ["super", "print", "len", "tuple", "nn_", "Linear"])
def test_hyperparameter_named_like_a_builtin(name):
    """Hyperparameters are constructor arguments: they must not break `__init__` (or are E0102)."""
    import torch

    text = f"""\
module M({name}=4):
    L = Linear[{name} -> {name}]()
    def forward(X: y {name}) -> y {name}:
        return L(X)
"""
    try:
        source = compile_source(text, "names.ncd")
    except NcdcError as error:
        assert [d.code for d in error.diagnostics] == ["E0102"]
        return
    model = load_source(source).M()
    assert model(torch.randn(3, 4)).shape == (3, 4)


@pytest.mark.parametrize("text, line, column", [
    ("def class(X: a) -> a:\n    return X\n", 1, 5),
    ("def torch(X: a) -> a:\n    return X\n", 1, 5),
    ("def nn(X: a) -> a:\n    return X\n", 1, 5),
    ("def math(X: a) -> a:\n    return X\n", 1, 5),
    ("def _private(X: a) -> a:\n    return X\n", 1, 5),
    ("box None : a -> a\n", 1, 5),
    ("size lambda = 3\n", 1, 6),
    ("module M(self=4):\n    L = Linear[self -> self]()\n    def forward(X: self) -> self:\n        return L(X)\n",
     1, 10),
    ("module M(training=4):\n    L = Linear[training -> training]()\n"
     "    def forward(X: training) -> training:\n        return L(X)\n", 1, 10),
    ("module M(m=4):\n    forward = Linear[m -> m]()\n    def forward(X: m) -> m:\n        return X\n", 2, 5),
    ("module M(m=4):\n    parameters = Linear[m -> m]()\n    def forward(X: m) -> m:\n"
     "        return parameters(X)\n", 2, 5),
    ("module class(m=4):\n    L = Linear[m -> m]()\n    def forward(X: m) -> m:\n        return L(X)\n", 1, 8),
])
def test_api_names_that_python_needs_are_rejected(text, line, column):
    with pytest.raises(NcdcError) as info:
        check_source(text, "names.ncd")
    assert [(d.code, d.span.line, d.span.column) for d in info.value.diagnostics][:1] == [("E0102", line, column)]


def test_unicode_identifiers_compile_and_run():
    import torch

    text = "def λ(η: a) -> a:\n    μ = η * 2\n    return μ\n\ndef g(ξ: a) -> a:\n    return λ(ξ)\n"
    module = load_source(compile_source(text, "greek.ncd"))
    assert module.g(torch.ones(3)).tolist() == [2.0, 2.0, 2.0]


def test_nfkc_equivalent_local_names_stay_apart():
    """Python folds identifiers to NFKC: `ﬁ` and `fi` are one name there, two wires in the spec."""
    import torch

    text = "def f(ﬁ: a, fi: a) -> a:\n    ﬀ = ﬁ * 2\n    ff = fi * 3\n    return ﬀ - ff\n"
    module = load_source(compile_source(text, "ligatures.ncd"))
    assert module.f(torch.ones(2), torch.zeros(2)).tolist() == [2.0, 2.0]


NFKC_COLLISIONS = {
    "defs": ("def ﬁ(X: a) -> a:\n    return X * 2\n\ndef fi(X: a) -> a:\n    return X * 3\n", 4, 5),
    "boxes": ("box ﬁ : a -> a\nbox fi : a -> a\n\ndef f(X: a) -> a:\n    return fi(ﬁ(X))\n", 2, 5),
    "sizes": ("size ﬁ = 3, fi = 4\n\ndef f(X: ﬁ fi) -> ﬁ fi:\n    return X\n", 1, 13),
    "def-and-box": ("box ﬁ : a -> a\n\ndef fi(X: a) -> a:\n    return ﬁ(X)\n", 3, 5),
    "hyperparameters": ("module M(ﬁ=4, fi=5):\n    L = Linear[ﬁ -> fi]()\n\n"
                        "    def forward(X: y ﬁ) -> y fi:\n        return L(X)\n", 1, 15),
    "parts": ("module M(m=4):\n    ﬁ = Linear[m -> m]()\n    fi = Linear[m -> m]()\n\n"
              "    def forward(X: y m) -> y m:\n        return fi(ﬁ(X))\n", 3, 5),
    "superscript": ("def a²(X: a) -> a:\n    return X\n\ndef a2(X: a) -> a:\n    return X\n", 4, 5),
}


@pytest.mark.parametrize("name", sorted(NFKC_COLLISIONS))
def test_nfkc_equivalent_api_names_do_not_silently_collide(name):
    """Two spec names that Python reads as one must be an error where both are kept as written."""
    text, line, column = NFKC_COLLISIONS[name]
    with pytest.raises(NcdcError) as info:
        compile_source(text, "ligatures.ncd")
    found = [(d.code, d.span.line, d.span.column) for d in info.value.diagnostics]
    assert found and found[0][0] in ("E0102", "E0103"), found
    assert found[0][1:] == (line, column), found


@pytest.mark.parametrize("name", ["①", "x①", "a²b"])
def test_names_that_fold_to_non_identifiers(name):
    """`\\w` admits characters that are not identifiers after NFKC (`①` is `1`)."""
    import torch

    as_wire = f"def f(X: a) -> a:\n    {name} = X * 2\n    return {name}\n"
    module = load_source(compile_source(as_wire, "odd.ncd"))
    assert module.f(torch.ones(2)).tolist() == [2.0, 2.0]
    as_def = f"def {name}(X: a) -> a:\n    return X\n"
    try:
        source = compile_source(as_def, "odd.ncd")
    except NcdcError as error:
        assert error.diagnostics[0].code == "E0102"
    else:
        compile(source, "odd.py", "exec")


@pytest.mark.parametrize("literal", ["1e999", "1e308", "1e-999", "0.1", "2"])
def test_number_literals_become_valid_numbers(literal):
    """Literals that Python cannot spell back with `repr` (inf) must still give working code, or an error."""
    import torch

    text = f"def f(X: a) -> a:\n    return X * {literal}\n"
    try:
        source = compile_source(text, "numbers.ncd")
    except NcdcError as error:
        assert CODE.match(error.diagnostics[0].code)
        assert (error.diagnostics[0].span.line, error.diagnostics[0].span.column) == (2, 16)
        return
    module = load_source(source)
    expected = torch.ones(2) * float(literal)
    assert torch.equal(module.f(torch.ones(2)), expected)


# ---- (b) injection: paths -------------------------------------------------------------------------

NASTY_PATHS = [
    "spec\nimport os\nos.system('echo pwned')\n.ncd",
    'x"""; import os; """.ncd',
    'x""""".ncd',
    'x"""""""".ncd',
    "x\"\"\"\"\"+__import__('os').system('echo pwned')+\"\"\"\"\".ncd",
    'ends with a quote"',
    'ends with two quotes""',
    "ends with a backslash\\",
    "x\\\"\"\".ncd",
    "x'''.ncd",
    "a\rb.ncd",
    "a\r\nb.ncd",
    "a\u2028b\u2029c\x85d.ncd",
    "a\x00b\x1b[31m.ncd",
    "a\tb\x0bc\x0cd.ncd",
    "dir\\with\\backslashes\\x.ncd",
    "dir/\"\"\"\nprint(1)#\\.ncd",
    "\\N{BULLET}\\x41\\u0041.ncd",
    "{version}{{source}}%s.ncd",
    "# comment.ncd",
    "-*- coding: latin-1 -*-.ncd",
    "λ/ﬁ/spec.ncd",
]


def _shape(source: str) -> list[tuple]:
    tree = ast.parse(source)
    return [(type(node).__name__, getattr(node, "name", None)) for node in tree.body]


def _docstrings(source: str) -> list[str]:
    tree = ast.parse(source)
    found = [ast.get_docstring(tree, clean=False)]
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.append(ast.get_docstring(node, clean=False))
    return found


@pytest.mark.parametrize("spec", ["attention.ncd", "composition.ncd"])
@pytest.mark.parametrize("path", NASTY_PATHS, ids=lambda p: ascii(p)[1:-1][:40])
def test_spec_path_cannot_inject_code(spec, path):
    text = SPEC_TEXTS[spec]
    for stubs in (False, True):
        benign = compile_source(text, "spec.ncd", stubs=stubs)
        source = compile_source(text, path, stubs=stubs)
        try:
            tree = ast.parse(source)
        except SyntaxError as error:  # pragma: no cover - the failure is the report
            pytest.fail(f"generated code for path {path!r} is not valid Python: {error}")
        # Only what is expected at module level: the docstring, imports, assignments, defs and classes.
        assert _shape(source) == _shape(benign)
        first, *rest = tree.body
        assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
        assert not any(isinstance(node, ast.Expr) for node in rest)
        # The path adds no lines: no raw newline reached a comment or a docstring.
        assert source.count("\n") == benign.count("\n")
        assert source.splitlines()[:2] == benign.splitlines()[:2]  # nothing from the path on lines 1 and 2
        assert source.splitlines()[0].startswith("# Generated by ncdc")
        assert source.splitlines()[1].startswith('"""PyTorch code')
        for mine, theirs in zip(_docstrings(source), _docstrings(benign)):
            assert (mine or "").count("\n") == (theirs or "").count("\n")
        # And it still runs as the benign module does.
        module = load_source(source)
        assert sorted(n for n in vars(module) if not n.startswith("__")) == \
            sorted(n for n in vars(load_source(benign)) if not n.startswith("__"))


def test_path_text_survives_in_the_header():
    source = compile_source(SPEC_TEXTS["composition.ncd"], "models/figure 8 (draft).ncd")
    assert source.splitlines()[3] == "Spec: models/figure 8 (draft).ncd"
    assert "figure" not in "".join(source.splitlines()[:3])


CODING_PATHS = [
    "x  # -*- coding: utf-7 -*- +AAo-import os+AAo-os.system('echo pwned')+AAo-#.ncd",
    "coding: utf-7 +AAo-import os+AAo-.ncd",
    "coding=utf-7+AAo-raise SystemExit(3)+AAo-.ncd",
    "vim: set fileencoding=utf-7 : +AAo-import os+AAo-.ncd",
    "coding: latin-1 \xff.ncd",
    "coding: rot13 vzcbeg bf.ncd",
    "coding: undefined.ncd",
]


@pytest.mark.parametrize("path", CODING_PATHS, ids=lambda p: ascii(p)[1:-1][:40])
def test_spec_path_cannot_declare_the_encoding_of_the_generated_file(path, tmp_path, monkeypatch):
    """Python honours `coding: NAME` on line 1 or 2 of a file (PEP 263): under UTF-7 `+AAo-` is a newline,
    and what follows would run as code.  Compile and import the generated file from its bytes, as
    Python reads it from disk, and check that only the intended code runs."""
    import importlib.util

    text = SPEC_TEXTS["composition.ncd"]
    source = compile_source(text, path, stubs=True)
    data = source.encode("utf-8")
    for line in data.split(b"\n")[:2]:
        assert not re.match(rb"^[ \t\f]*#.*?coding[:=]", line), line  # PEP 263's own pattern
    code = compile(data, "generated.py", "exec")  # from bytes: honours a coding declaration
    benign = compile(compile_source(text, "spec.ncd", stubs=True).encode("utf-8"), "benign.py", "exec")
    assert [c for c in code.co_names] == [c for c in benign.co_names]  # no `os`, `system`, `SystemExit`
    assert "os" not in code.co_names and "system" not in code.co_names
    file = tmp_path / "generated_model.py"
    file.write_bytes(data)
    calls = []
    monkeypatch.setattr(os, "system", lambda *args: calls.append(args) or 0)
    spec = importlib.util.spec_from_file_location("generated_model", file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # as `import generated_model` reads it
    assert not calls
    assert "os" not in vars(module)
    assert sorted(n for n in vars(module) if not n.startswith("__")) == \
        sorted(n for n in vars(load_source(compile_source(text, "spec.ncd", stubs=True))) if not n.startswith("__"))
    assert module.__doc__.splitlines()[2].startswith("Spec: ")


# ---- (c) determinism ---------------------------------------------------------------------------------

DETERMINISM_SCRIPT = r"""
import hashlib, json, sys
from pathlib import Path
import ncdc
digest = hashlib.sha256()
for path in sorted(Path(sys.argv[1]).glob("*.ncd")):
    text = path.read_text(encoding="utf-8")
    for stubs in (False, True):
        try:
            out = ncdc.compile_source(text, path.name, stubs=stubs)
        except ncdc.NcdcError as error:
            out = json.dumps([d.to_json() for d in error.diagnostics], sort_keys=True)
        digest.update(path.name.encode() + b"\0" + out.encode("utf-8") + b"\0")
print(digest.hexdigest())
"""

EXTRA_DETERMINISM_SPECS = {
    "names.ncd": PYTHON_LOOKING_WIRES,
    "unicode.ncd": "def f(ﬁ: a, fi: a, λ: a) -> a:\n    ﬀ = ﬁ * 2\n    ff = fi * 3\n    return ﬀ - ff + λ\n",
    "errors.ncd": "def a(X: a) -> b:\n    return X\n\ndef c(X: a b) -> a:\n    return Z\n\n"
                  "def d(X: a, Y: b) -> a:\n    return einsum[a](X: q, Y: q)\n",
}


def test_same_text_same_bytes_in_fresh_interpreters(tmp_path):
    for name, text in {**SPEC_TEXTS, **EXTRA_DETERMINISM_SPECS}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    digests = set()
    for seed in ("0", "1", "4242", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-c", DETERMINISM_SCRIPT, str(tmp_path)], env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        digests.add(result.stdout.strip())
    assert len(digests) == 1, digests


def test_same_text_same_bytes_in_one_interpreter():
    for name, text in SPEC_TEXTS.items():
        path = str(SPECS / name)  # its imports are read beside it
        assert compile_source(text, path) == compile_source(text, path)


# ---- (d) sizes ---------------------------------------------------------------------------------------

NAMES = ("a", "b", "c")


def expressions(max_leaves: int = 12):
    """Trees: ("sym", name) | ("int", n) | (op, left, right) for + - *, and ("//", e, d) with d > 0."""
    leaves = st.one_of(st.sampled_from(NAMES).map(lambda n: ("sym", n)),
                       st.integers(0, 12).map(lambda n: ("int", n)))

    def extend(children):
        return st.one_of(
            st.tuples(st.sampled_from(["+", "-", "*"]), children, children),
            st.tuples(st.just("//"), children, st.integers(1, 7)),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


environments = st.fixed_dictionaries({n: st.integers(1, 40) for n in NAMES})


def to_size(e, symbols) -> Size:
    kind = e[0]
    if kind == "sym":
        return Size.of(symbols[e[1]])
    if kind == "int":
        return Size.of(e[1])
    if kind == "//":
        return to_size(e[1], symbols) // e[2]
    left, right = to_size(e[1], symbols), to_size(e[2], symbols)
    return {"+": left + right, "-": left - right, "*": left * right}[kind]


def to_int(e, env) -> int:
    kind = e[0]
    if kind == "sym":
        return env[e[1]]
    if kind == "int":
        return e[1]
    if kind == "//":
        return to_int(e[1], env) // e[2]
    left, right = to_int(e[1], env), to_int(e[2], env)
    return {"+": left + right, "-": left - right, "*": left * right}[kind]


def fresh_symbols():
    return {n: Symbol(n) for n in NAMES}


def evaluate(size: Size, symbols, env) -> int:
    value = size.evaluate({symbols[n]: v for n, v in env.items()})
    assert value is not None
    return value


PROPS = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(expressions(), environments)
def test_normal_form_evaluates_like_python(e, env):
    symbols = fresh_symbols()
    assert evaluate(to_size(e, symbols), symbols, env) == to_int(e, env)


@PROPS
@given(expressions(max_leaves=4), expressions(max_leaves=4), st.lists(environments, min_size=3, max_size=3))
def test_equal_normal_forms_mean_equal_values(e1, e2, envs):
    symbols = fresh_symbols()
    s1, s2 = to_size(e1, symbols), to_size(e2, symbols)
    if s1 == s2:
        assert hash(s1) == hash(s2)
        for env in envs:
            assert to_int(e1, env) == to_int(e2, env), (e1, e2, env)


@PROPS
@given(expressions(max_leaves=6), expressions(max_leaves=6), expressions(max_leaves=6), st.integers(1, 7))
def test_normal_form_is_canonical_under_ring_laws(x, y, z, d):
    """Commutativity, associativity, distributivity, cancellation and exact division all normalise away."""
    s = fresh_symbols()
    X, Y, Z = to_size(x, s), to_size(y, s), to_size(z, s)
    assert X + Y == Y + X
    assert X * Y == Y * X
    assert (X + Y) + Z == X + (Y + Z)
    assert (X * Y) * Z == X * (Y * Z)
    assert X * (Y + Z) == X * Y + X * Z
    assert X - X == Size.of(0)
    assert X + Y - Y == X
    assert (X * d) // d == X
    assert (X + Y * d) // d == X // d + Y
    assert X // 1 == X


@PROPS
@given(expressions(), expressions(), environments)
def test_equal_sizes_hash_alike_and_round_trip_through_substitution(x, y, env):
    s = fresh_symbols()
    X = to_size(x, s)
    assert X == to_size(x, s)
    assert hash(X) == hash(to_size(x, s))
    # Substituting the symbols by their values is evaluation.
    substituted = X.substitute(lambda atom: Size.of(env[atom.name]) if isinstance(atom, Symbol) else None)
    assert substituted.constant == to_int(x, env)


@PROPS
@given(expressions(), environments)
@example(("*", ("sym", "b"), ("//", ("sym", "a"), 2)), {"a": 3, "b": 3, "c": 1})
@example(("-", ("int", 0), ("//", ("sym", "a"), 2)), {"a": 3, "b": 1, "c": 1})
def test_generated_size_code_evaluates_to_the_size(e, env):
    """The back end writes sizes as Python: with the symbols bound, that Python gives the size's value."""
    symbols = fresh_symbols()
    size = to_size(e, symbols)
    code, _ = size_code(size, lambda atom: atom.name)
    assert eval(code, {"__builtins__": {}}, dict(env)) == to_int(e, env), code


@PROPS
@given(expressions(), environments)
@example(("*", ("sym", "b"), ("//", ("sym", "a"), 2)), {"a": 3, "b": 3, "c": 1})
@example(("-", ("int", 0), ("//", ("sym", "a"), 2)), {"a": 3, "b": 1, "c": 1})
def test_formatted_size_reads_back_as_the_size(e, env):
    """`format_size` is the spec's own spelling: read with the spec's (Python's) precedence, it is the size."""
    symbols = fresh_symbols()
    size = to_size(e, symbols)
    text = format_size(size)
    assert eval(text, {"__builtins__": {}}, dict(env)) == to_int(e, env), text


def test_product_with_a_floor_division_in_generated_code():
    """`c * (c // 2)` is not `c * c // 2`: a learned part's width must be the declared one."""
    import torch

    text = """\
module M(c=5):
    L = Linear[c (c // 2) -> c]()

    def forward(X: c (c // 2)) -> c:
        return L(X)
"""
    model = load_source(compile_source(text, "widths.ncd")).M()
    assert model.L.in_features == 5 * (5 // 2)
    assert model(torch.randn(5, 2)).shape == (5,)


# ---- (d) the unifier -----------------------------------------------------------------------------------


@PROPS
@given(st.integers(1, 9), st.integers(-20, 20), expressions(max_leaves=5), environments)
def test_unify_solves_linear_equations(a, b, t, env):
    """`a*v + b == a*t + b` binds the unknown `v` to `t`, whatever `t` is."""
    symbols = fresh_symbols()
    target = to_size(t, symbols)
    assume(to_int(t, env) > 0)
    v = Var("v")
    solver = Solver()
    expected = Size.of(v) * a + b
    actual = target * a + b
    assert solver.unify(expected, actual) is None
    solved = solver.resolve(Size.of(v))
    assert not solved.vars()
    assert evaluate(solved, symbols, env) == to_int(t, env)
    assert solver.resolve(expected) == actual or solver.equal(expected, actual)


@PROPS
@given(st.integers(1, 9), st.integers(0, 20), st.integers(1, 60))
def test_unify_solves_against_constants(a, b, value):
    v = Var("v")
    solver = Solver()
    rhs = a * value + b
    assert solver.unify(Size.of(v) * a + b, Size.of(rhs)) is None
    assert solver.resolve(Size.of(v)) == Size.of(value)


@PROPS
@given(st.integers(2, 9), st.integers(0, 20), st.integers(1, 60), st.integers(1, 8))
def test_unify_refuses_fractional_solutions(a, b, value, off):
    """`a*v + b == rhs` with `a` not dividing `rhs - b` has no integer solution."""
    assume(off % a)
    v = Var("v")
    solver = Solver()
    assert solver.unify(Size.of(v) * a + b, Size.of(a * value + b + off)) is not None
    assert v not in solver.bindings


@pytest.mark.parametrize("b, rhs", [(5, 3), (3, 1), (20, 2)])
def test_unify_refuses_sizes_that_are_not_positive(b, rhs):
    """Sizes are positive: `v + 5 == 3` has no solution (v would be -2)."""
    v = Var("v")
    assert Solver().unify(Size.of(v) + b, Size.of(rhs)) is not None


def test_negative_size_from_a_box_is_rejected():
    """`box B : (n + 5) -> n` cannot take a wire of size 3."""
    text = "box B : (n + 5) -> n\n\ndef f(X: 3) -> ():\n    Y = B(X)\n    return sum(Y)\n"
    with pytest.raises(NcdcError) as info:
        check_source(text, "negative.ncd")
    assert info.value.diagnostics[0].code in ("E0301", "E0302")


@PROPS
@given(expressions(max_leaves=5), expressions(max_leaves=5), environments)
def test_unify_of_known_sizes_is_equality(x, y, env):
    """Without unknowns, unify succeeds exactly when the sizes are provably equal, and binds nothing."""
    s = fresh_symbols()
    X, Y = to_size(x, s), to_size(y, s)
    solver = Solver()
    outcome = solver.unify(X, Y)
    assert (outcome is None) == (X == Y)
    assert not solver.bindings
    if outcome is not None and outcome.reason == "mismatch":  # provably different: differ somewhere
        assert X.symbols() == set() or any(
            to_int(x, e) != to_int(y, e) for e in [env, {n: v + 1 for n, v in env.items()}])


def test_unify_with_concrete_sizes():
    """`--sizes` values decide what symbols alone cannot."""
    k, h = Symbol("k"), Symbol("h")
    assert Solver(concrete={"k": 16, "h": 4}).unify(Size.of(k), Size.of(h)).reason == "mismatch"
    assert Solver(concrete={"k": 4, "h": 4}).unify(Size.of(k), Size.of(h)) is None
    assert Solver().unify(Size.of(k), Size.of(h)).reason == "unproven"


# ---- (e) limits: no input hangs the compiler, overflows it or makes generated code that never returns --

def first_diagnostic(text: str, path: str = "limits.ncd"):
    with pytest.raises(NcdcError) as info:
        check_source(text, path)
    return info.value.diagnostics[0]


def _timed(fn, seconds: float = 10.0):
    import time
    start = time.perf_counter()
    result = fn()
    assert time.perf_counter() - start < seconds
    return result


@pytest.mark.parametrize("text, line, column", [
    ("size a = 1 ** 4611686018427387904\n", 1, 10),
    ("size a = 0 ** 4611686018427387904\n", 1, 10),
    ("size a = 2 ** 63\n", 1, 10),
    ("size a = 2 ** 40\nmodule M(m=4):\n    L = Linear[(a a) -> m]()\n\n    def forward(X: m) -> m:\n"
     "        return X\n", 3, 16),
    ("size a = 2 ** 40\nmodule M(m=4):\n    L = Linear[m -> a a]()\n\n    def forward(X: m) -> m:\n"
     "        return X\n", 3, 21),
    ("def f(X: (1099511627776 1099511627776)) -> ():\n    return sum(X)\n", 1, 10),
    ("def f(X: (a + b + c + d + e + f + g + h) ** 62) -> ():\n    return sum(X)\n", 1, 10),
    ("def f(X: " + " * ".join(f"(a{i} + b{i})" for i in range(30)) + ") -> ():\n    return sum(X)\n", 1, 10),
], ids=["one-to-a-huge-power", "zero-to-a-huge-power", "power-over-2**62", "bound-axes", "linear-features",
        "constant-product", "polynomial-power", "polynomial-product"])
def test_sizes_over_the_limits_are_rejected_quickly(text, line, column):
    d = _timed(lambda: first_diagnostic(text))
    assert d.code == "E0310" and "too large" in d.message
    assert (d.span.line, d.span.column) == (line, column)


def test_powers_of_sizes_square_and_multiply():
    a = Symbol("a")
    assert _timed(lambda: Size.of(1) ** (2 ** 62)) == Size.of(1)
    assert (Size.of(a) + 1) ** 5 == (Size.of(a) + 1) * (Size.of(a) + 1) ** 4
    assert Size.of(3) ** 0 == Size.of(1) and Size.of(a) ** 1 == Size.of(a)


@pytest.mark.parametrize("expression", ["2 ** 2 ** 2 ** 40", "2 ** 2 ** n", "1e308 ** 2", "0.5 ** -2000",
                                        "10 ** 200 * 10 ** 200", "(-3) ** 10000"])
def test_constant_powers_in_bodies_are_bounded_at_check_time(expression):
    text = f"size n = 62\n\ndef f(X: a) -> a:\n    return X * ({expression})\n"
    d = _timed(lambda: first_diagnostic(text))
    assert d.code == "E0006" and "too large" in d.message
    assert d.span.line == 4 and d.span.column >= 16  # the first power out of range


@pytest.mark.parametrize("expression, value", [
    ("2 ** 10", 1024), ("1 ** 100000000000", 1), ("(-1) ** 100000000001", -1), ("0 ** 7", 0), ("2 ** -3", 0.125),
    ("2 ** n", 2 ** 62), ("0.5 ** 1000", 0.5 ** 1000), ("2 ** 1000 // 2 ** 996", 16)])
def test_constant_powers_within_the_limits_still_compute(expression, value):
    import torch

    text = f"size n = 62\n\ndef f(X: a) -> a:\n    return X * ({expression})\n"
    module = load_source(_timed(lambda: compile_source(text, "powers.ncd")))
    assert torch.equal(module.f(torch.ones(2, dtype=torch.float64)), torch.full((2,), float(value), dtype=torch.float64))


def _nested_fors(depth: int) -> str:
    lines = ["def f(X: a) -> a:"]
    lines += ["    " * (i + 1) + f"for i{i} in 1..1:" for i in range(depth)]
    return "\n".join(lines + ["    " * (depth + 1) + "X = relu(X)", "    return X", ""])


DEEP = {
    "calls": "def f(X: a) -> a:\n    return " + "relu(" * 3000 + "X" + ")" * 3000 + "\n",
    "tensor-powers": "def f(X: a) -> a:\n    return X" + " ** 2" * 3000 + "\n",
    "size-powers": "size a = 1" + " ** 1" * 3000 + "\n",
    "sums": "def f(X: a) -> a:\n    return X" + " + X" * 5000 + "\n",
    "loops": _nested_fors(500),
}


@pytest.mark.parametrize("name", sorted(DEEP))
def test_deep_nesting_is_e0007_naming_the_file(name):
    d = first_diagnostic(DEEP[name], "deep.ncd")
    assert d.code == "E0007" and "deep.ncd" in d.render()
    assert d.to_json()["file"] == "deep.ncd"


def test_deep_nesting_on_the_command_line_is_a_diagnostic(tmp_path):
    for name, text in DEEP.items():
        (tmp_path / f"{name}.ncd").write_text(text, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "ncdc", "check", str(tmp_path)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "VisitError" not in result.stderr
    assert result.stderr.count("E0007") == len(DEEP)
    for name in DEEP:
        assert f"{name}.ncd" in result.stderr


@pytest.mark.parametrize("kind", ["def", "module"])
def test_a_long_flat_chain_of_definitions_is_not_too_deep(kind):
    """2,000 definitions, each using the next one down the file: the order of checking recurses per element."""
    n = 2000
    if kind == "def":
        items = ["def f0(X: a) -> a:\n    return X\n"] + [f"def f{i}(X: a) -> a:\n    return f{i - 1}(X)\n"
                                                          for i in range(1, n)]
    else:
        items = ["module M0(c=4):\n    L = Linear[c -> c]()\n\n    def forward(X: c) -> c:\n        return L(X)\n"]
        items += [f"module M{i}(c=4):\n    L = M{i - 1}(c)\n\n    def forward(X: c) -> c:\n        return L(X)\n"
                  for i in range(1, n)]
    program = _timed(lambda: check_source("\n".join(reversed(items)), "chain.ncd"), 60)
    assert len(program.functions if kind == "def" else program.modules) == n


def test_a_recursive_chain_is_still_reported_once():
    text = "def f(X: a) -> a:\n    return g(X)\n\ndef g(X: a) -> a:\n    return h(X)\n\n" \
           "def h(X: a) -> a:\n    return f(X)\n"
    with pytest.raises(NcdcError) as info:
        check_source(text, "cycle.ncd")
    assert [d.code for d in info.value.diagnostics] == ["E0106"]
    assert "`f` -> `g` -> `h` -> `f`" in info.value.diagnostics[0].notes[0]


@pytest.mark.parametrize("digits", [31, 4301, 100_000])
def test_a_huge_default_is_too_large_not_a_traceback(digits, tmp_path):
    text = f"module M(c={'9' * digits}):\n    L = Linear[c -> c]()\n\n    def forward(X: c) -> c:\n        return L(X)\n"
    d = first_diagnostic(text)
    assert (d.code, d.message, d.span.line, d.span.column) == ("E0006", "this number is too large", 1, 12)
    (tmp_path / "big.ncd").write_text(text, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "ncdc", "check", str(tmp_path / "big.ncd")], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "E0006" in result.stderr


@pytest.mark.parametrize("literal", ["9" * 4301, "1" + "0" * 5000 + ".5", "1" * 5000 + "e5"])
def test_huge_literals_anywhere_are_too_large(literal):
    for text in (f"def f(X: a) -> a:\n    return X * {literal}\n", f"size a = {literal}\n",
                 f"def f(X: {literal}) -> ():\n    return sum(X)\n"):
        assert_handled(text)
        assert first_diagnostic(text).code in ("E0001", "E0002", "E0006")


def test_a_default_of_10_to_the_30_is_too_large():
    d = first_diagnostic("module M(c=1" + "0" * 29 + "):\n    L = Linear[c -> c]()\n\n"
                         "    def forward(X: c) -> c:\n        return L(X)\n")
    assert d.code == "E0313" and "too large" in d.message and "positive" not in d.message


def test_an_axis_that_is_not_positive_says_it_must_be():
    d = first_diagnostic("def f(X: (1 - 2)) -> ():\n    return sum(X)\n")
    assert d.code == "E0310" and "must be positive" in d.message and d.label == "this is -1"
