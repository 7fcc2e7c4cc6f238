"""The `ncdc` command line: exit codes, folders, JSON, and safe writing of generated files.

Exit codes: 0 ok, 1 errors in the input, 2 wrong usage.  Every run is a fresh interpreter
(`python -m ncdc`), as a user or CI would run it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import ncdc

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

GOOD = (SPECS / "attention.ncd").read_text(encoding="utf-8")
COMPOSITION = (SPECS / "composition.ncd").read_text(encoding="utf-8")
BAD = "def f(X: a) -> a:\n    return Y\n"
BAD_TOO = "def g(X: a b) -> a:\n    return X\n"
UNPROVEN = """\
module M(hidden=512, classes=10):
    L1 = Linear[hidden -> classes]()
    L2 = Linear[hidden -> classes]()

    def forward(X: hidden) -> classes:
        return L2(L1(X))
"""


def ncdc_cli(*args, cwd: Path | None = None, umask: int | None = None, env: dict | None = None):
    """Run `python -m ncdc ARGS` in a fresh interpreter."""
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run([sys.executable, "-m", "ncdc", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=300, preexec_fn=preexec,
                          env=env)


def no_traceback(result) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def work(tmp_path) -> Path:
    (tmp_path / "good.ncd").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.ncd").write_text(BAD, encoding="utf-8")
    return tmp_path


# ---- exit codes -----------------------------------------------------------------------------------


def test_check_the_real_specs_exits_0():
    result = ncdc_cli("check", SPECS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
    assert result.stderr == ""
    no_traceback(result)


def test_version_prints_the_package_version():
    from importlib.metadata import version

    result = ncdc_cli("--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"ncdc {ncdc.__version__}\n", "")
    assert result.stdout == "ncdc 0.1.0\n" and version("ncdc") == ncdc.__version__


def test_check_a_good_file_exits_0(work):
    result = ncdc_cli("check", "good.ncd", cwd=work)
    assert result.returncode == 0
    assert result.stdout.strip() == "checked 1 spec: ok"


def test_check_a_bad_file_exits_1(work):
    result = ncdc_cli("check", "bad.ncd", cwd=work)
    assert result.returncode == 1
    assert "error[E0101]: unknown name `Y`" in result.stderr
    assert " --> bad.ncd:2:12" in result.stderr
    assert result.stderr.rstrip().endswith("checked 1 spec: 1 error")
    no_traceback(result)


@pytest.mark.parametrize("args", [
    ["check", "missing.ncd"],
    ["check", "good.ncd", "missing.ncd"],
    ["check", "missing-folder/"],
    ["check"],
    ["check", "good.ncd", "--sizes", "H="],
    ["check", "good.ncd", "--sizes", "H"],
    ["check", "good.ncd", "--sizes", "=5"],
    ["check", "good.ncd", "--sizes", "H=abc"],
    ["check", "good.ncd", "--sizes", "H=-1"],
    ["check", "good.ncd", "--sizes", "H=1.5"],
    ["check", "good.ncd", "--sizes", "1H=3"],
    ["check", "good.ncd", "--format", "xml"],
    ["frobnicate", "good.ncd"],
    [],
    ["compile", "missing.ncd"],
    ["compile"],
    ["compile", "."],
    ["run", "missing.ncd"],
], ids=lambda a: " ".join(a) or "no-args")
def test_wrong_usage_exits_2(work, args):
    result = ncdc_cli(*args, cwd=work)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.strip(), "wrong usage must say what is wrong"
    no_traceback(result)


def test_sizes_must_be_positive(work):
    """`--sizes` takes positive integers (sizes are positive): 0 is wrong usage."""
    result = ncdc_cli("check", "good.ncd", "--sizes", "k=0", cwd=work)  # `k` is a size of good.ncd
    assert result.returncode == 2, (result.stdout, result.stderr)


def test_missing_file_is_named(work):
    result = ncdc_cli("check", "missing.ncd", cwd=work)
    assert "missing.ncd" in result.stderr


def test_sizes_decide_what_cannot_be_proved(tmp_path):
    (tmp_path / "m.ncd").write_text(UNPROVEN, encoding="utf-8")
    unproven = ncdc_cli("check", "m.ncd", cwd=tmp_path)
    assert unproven.returncode == 1 and "E0302" in unproven.stderr
    equal = ncdc_cli("check", "m.ncd", "--sizes", "hidden=10,classes=10", cwd=tmp_path)
    assert equal.returncode == 0, equal.stderr
    differ = ncdc_cli("check", "m.ncd", "--sizes", "hidden=512,classes=10", cwd=tmp_path)
    assert differ.returncode == 1 and "E0301" in differ.stderr
    no_traceback(differ)


# ---- folders --------------------------------------------------------------------------------------


def test_check_a_folder_finds_specs_recursively(tmp_path):
    (tmp_path / "a.ncd").write_text(GOOD, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.ncd").write_text(BAD, encoding="utf-8")
    (tmp_path / "sub" / "c.ncd").write_text(BAD_TOO, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("def (((", encoding="utf-8")  # not a spec: ignored
    result = ncdc_cli("check", tmp_path, "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    files = [Path(d["file"]).relative_to(tmp_path).as_posix() for d in report["diagnostics"]]
    assert files == ["sub/b.ncd", "sub/c.ncd"]
    text = ncdc_cli("check", tmp_path)
    assert text.returncode == 1
    assert "checked 3 specs: 2 errors" in text.stderr


def test_check_a_folder_of_good_specs(tmp_path):
    for name in ("composition", "mlp", "einsum"):
        (tmp_path / f"{name}.ncd").write_text((SPECS / f"{name}.ncd").read_text(encoding="utf-8"),
                                              encoding="utf-8")
    result = ncdc_cli("check", tmp_path)
    assert result.returncode == 0
    assert "checked 3 specs: ok" in result.stdout


def test_check_an_empty_folder_is_wrong_usage(tmp_path):
    (tmp_path / "empty").mkdir()
    result = ncdc_cli("check", tmp_path / "empty")
    assert result.returncode == 2
    no_traceback(result)


# ---- JSON -----------------------------------------------------------------------------------------


def test_json_lists_diagnostics_with_places(work):
    (work / "bad2.ncd").write_text(BAD_TOO, encoding="utf-8")
    result = ncdc_cli("check", "--format", "json", "bad.ncd", "bad2.ncd", "good.ncd", cwd=work)
    assert result.returncode == 1
    report = json.loads(result.stdout)  # stdout is only the JSON document
    diags = report["diagnostics"]
    assert [(d["code"], d["file"], d["line"], d["column"]) for d in diags] == [
        ("E0101", "bad.ncd", 2, 12),
        ("E0202", "bad2.ncd", 2, 12),
    ]
    for d in diags:
        assert set(d) >= {"severity", "code", "message", "file", "line", "column", "end_line", "end_column",
                          "label", "labels", "notes", "help"}
        assert d["severity"] == "error"
        assert isinstance(d["message"], str) and d["message"]
    no_traceback(result)


def test_json_for_good_specs_is_an_empty_list(work):
    result = ncdc_cli("check", "--format", "json", "good.ncd", cwd=work)
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"diagnostics": []}


def test_json_keeps_non_ascii_text(tmp_path):
    (tmp_path / "u.ncd").write_text("def f(η: a) -> a:\n    return λ\n", encoding="utf-8")
    result = ncdc_cli("check", "--format", "json", "u.ncd", cwd=tmp_path)
    assert result.returncode == 1
    (d,) = json.loads(result.stdout)["diagnostics"]
    assert d["code"] == "E0101" and "λ" in d["message"]
    assert (d["line"], d["column"]) == (2, 12)


def test_compile_errors_as_json(work):
    result = ncdc_cli("compile", "bad.ncd", "--format", "json", cwd=work)
    assert result.returncode == 1
    (d,) = json.loads(result.stdout)["diagnostics"]
    assert (d["code"], d["file"], d["line"], d["column"]) == ("E0101", "bad.ncd", 2, 12)


# ---- compile ----------------------------------------------------------------------------------------


def test_compile_to_stdout(work):
    result = ncdc_cli("compile", "good.ncd", cwd=work)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Generated by ncdc")
    assert result.stdout == ncdc.compile_source(GOOD, "good.ncd")
    compile(result.stdout, "good.py", "exec")
    assert listing(work) == ["bad.ncd", "good.ncd"]  # nothing written


def test_compile_error_exits_1_and_writes_nothing(work):
    result = ncdc_cli("compile", "bad.ncd", "-o", "bad.py", cwd=work)
    assert result.returncode == 1
    assert "E0101" in result.stderr
    assert result.stdout == ""
    assert listing(work) == ["bad.ncd", "good.ncd"]


def _import(path: Path):
    spec = importlib.util.spec_from_file_location(f"generated_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_output_of_dash_is_standard_output(work):
    for command, want in ((["compile", "good.ncd"], "# Generated by ncdc"), (["draw", "good.ncd"], "<svg")):
        result = ncdc_cli(*command, "-o", "-", cwd=work)
        assert result.returncode == 0, result.stderr
        assert want in result.stdout
        assert result.stdout == ncdc_cli(*command, cwd=work).stdout
    assert listing(work) == ["bad.ncd", "good.ncd"]  # no file named `-`


def test_compile_to_a_file_that_imports(work):
    import torch

    result = ncdc_cli("compile", "good.ncd", "-o", "good_gen.py", cwd=work)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    out = work / "good_gen.py"
    assert out.read_text(encoding="utf-8") == ncdc.compile_source(GOOD, "good.ncd")
    assert listing(work) == ["bad.ncd", "good.ncd", "good_gen.py"]  # no temporary files left
    module = _import(out)
    model = module.MultiHeadAttention()
    E, X = torch.randn(2, 5, 128), torch.randn(2, 7, 128)
    assert model(E, X).shape == (2, 5, 128)


def test_compile_with_stubs_runs_without_boxes(tmp_path):
    import torch

    (tmp_path / "composition.ncd").write_text(COMPOSITION, encoding="utf-8")
    result = ncdc_cli("compile", "composition.ncd", "--stubs", "-o", "composition.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    module = _import(tmp_path / "composition.py")
    assert module.h(torch.randn(3), torch.randn(4, 2), torch.randn(6)).shape == (1, 2)


def test_generated_file_has_ordinary_permissions(work):
    """Written through a temporary file, but readable like any file the user creates (umask 022)."""
    result = ncdc_cli("compile", "good.ncd", "-o", "good_gen.py", cwd=work, umask=0o022)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((work / "good_gen.py").stat().st_mode) == 0o644


def test_forced_overwrite_keeps_the_file_readable(work):
    target = work / "mine.py"
    target.write_text("x = 1\n", encoding="utf-8")
    target.chmod(0o644)
    result = ncdc_cli("compile", "good.ncd", "-o", "mine.py", "--force", cwd=work, umask=0o022)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


HAND_WRITTEN = b"# my own code, CRLF and all\r\nimport torch\r\n\r\ndef f():\r\n    return '\xce\xbb'\r\n"


def test_refuses_to_overwrite_a_file_ncdc_did_not_write(work):
    target = work / "model.py"
    target.write_bytes(HAND_WRITTEN)
    before = target.stat()
    result = ncdc_cli("compile", "good.ncd", "-o", "model.py", cwd=work)
    assert result.returncode == 2
    assert "--force" in result.stderr
    assert target.read_bytes() == HAND_WRITTEN
    assert target.stat().st_mtime_ns == before.st_mtime_ns
    assert listing(work) == ["bad.ncd", "good.ncd", "model.py"]
    no_traceback(result)


@pytest.mark.parametrize("content", [
    b"",
    b"\n# Generated by ncdc 0.1.0 from x.ncd\n",  # the mark must be the first line
    b"#Generated by ncdc\n",
    b"\xff\xfe not text at all",
], ids=["empty", "mark-on-second-line", "mark-misspelt", "binary"])
def test_refuses_to_overwrite_other_files(work, content):
    target = work / "model.py"
    target.write_bytes(content)
    result = ncdc_cli("compile", "good.ncd", "-o", "model.py", cwd=work)
    assert result.returncode == 2, result.stderr
    assert target.read_bytes() == content
    no_traceback(result)


def test_force_overwrites_a_hand_written_file(work):
    target = work / "model.py"
    target.write_bytes(HAND_WRITTEN)
    result = ncdc_cli("compile", "good.ncd", "-o", "model.py", "--force", cwd=work)
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == ncdc.compile_source(GOOD, "good.ncd")
    assert listing(work) == ["bad.ncd", "good.ncd", "model.py"]


def test_overwrites_a_file_it_generated(work):
    first = ncdc_cli("compile", "good.ncd", "-o", "model.py", cwd=work)
    assert first.returncode == 0
    (work / "good.ncd").write_text(COMPOSITION, encoding="utf-8")
    second = ncdc_cli("compile", "good.ncd", "-o", "model.py", cwd=work)
    assert second.returncode == 0, second.stderr
    assert (work / "model.py").read_text(encoding="utf-8") == ncdc.compile_source(COMPOSITION, "good.ncd")
    assert listing(work) == ["bad.ncd", "good.ncd", "model.py"]


def test_output_is_replaced_not_rewritten_in_place(work):
    """Atomic writing: the new output is a new file renamed over the old one, so a reader (or a crash
    half-way) never sees a truncated module."""
    assert ncdc_cli("compile", "good.ncd", "-o", "model.py", cwd=work).returncode == 0
    reader = open(work / "model.py", "rb")  # a reader that opened the old version keeps reading it whole
    try:
        old = os.fstat(reader.fileno()).st_ino
        (work / "good.ncd").write_text(COMPOSITION, encoding="utf-8")
        assert ncdc_cli("compile", "good.ncd", "-o", "model.py", cwd=work).returncode == 0
        assert (work / "model.py").stat().st_ino != old
        assert reader.read().decode("utf-8") == ncdc.compile_source(GOOD, "good.ncd")
    finally:
        reader.close()


def test_a_failed_compile_leaves_the_previous_output(work):
    assert ncdc_cli("compile", "good.ncd", "-o", "model.py", cwd=work).returncode == 0
    before = (work / "model.py").read_bytes()
    (work / "good.ncd").write_text(BAD, encoding="utf-8")
    result = ncdc_cli("compile", "good.ncd", "-o", "model.py", cwd=work)
    assert result.returncode == 1
    assert (work / "model.py").read_bytes() == before
    assert listing(work) == ["bad.ncd", "good.ncd", "model.py"]


@pytest.mark.parametrize("output", ["good.ncd", "./good.ncd", "sub/../good.ncd", "ABSOLUTE", "LINK"])
def test_refuses_to_write_over_the_spec(work, output):
    (work / "sub").mkdir()
    if output == "ABSOLUTE":
        output = str(work / "good.ncd")
    elif output == "LINK":
        (work / "link.ncd").symlink_to(work / "good.ncd")
        output = "link.ncd"
    result = ncdc_cli("compile", "good.ncd", "-o", output, "--force", cwd=work)
    assert result.returncode == 2, result.stderr
    assert (work / "good.ncd").read_text(encoding="utf-8") == GOOD
    no_traceback(result)


def test_output_in_a_missing_folder_is_wrong_usage(work):
    result = ncdc_cli("compile", "good.ncd", "-o", "no/such/folder/out.py", cwd=work)
    assert result.returncode == 2
    assert not (work / "no").exists()
    no_traceback(result)


def test_output_that_is_a_folder_is_wrong_usage(work):
    (work / "out").mkdir()
    result = ncdc_cli("compile", "good.ncd", "-o", "out", cwd=work)
    assert result.returncode == 2
    assert listing(work / "out") == []
    no_traceback(result)


def test_no_temporary_files_are_left_behind(work):
    """Whatever happens (written, refused, failed), the folder holds only what was there and the output."""
    (work / "mine.py").write_bytes(HAND_WRITTEN)
    runs = [
        ("compile", "good.ncd", "-o", "out.py"),
        ("compile", "good.ncd", "-o", "out.py"),
        ("compile", "good.ncd", "-o", "mine.py"),
        ("compile", "bad.ncd", "-o", "out.py"),
        ("compile", "good.ncd", "-o", "good.ncd"),
        ("compile", "good.ncd", "-o", "mine.py", "--force"),
    ]
    for args in runs:
        ncdc_cli(*args, cwd=work)
        hidden = [name for name in listing(work) if name.startswith(".") or name.endswith(".tmp")]
        assert hidden == [], (args, hidden)
    assert listing(work) == ["bad.ncd", "good.ncd", "mine.py", "out.py"]


# ---- input that is not text ---------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"\xff\xfe\x00d\x00e\x00f", b"def f(X: a) -> a:\n    return X \xe9\n",
                                     b"\x80"], ids=["utf16", "latin1", "continuation-byte"])
def test_non_utf8_spec_is_an_error_not_a_traceback(tmp_path, content):
    (tmp_path / "x.ncd").write_bytes(content)
    for args in (["check", "x.ncd"], ["compile", "x.ncd"], ["compile", "x.ncd", "-o", "x.py"]):
        result = ncdc_cli(*args, cwd=tmp_path)
        assert result.returncode == 1, (args, result.stderr)
        assert "E0005" in result.stderr
        assert "x.ncd" in result.stderr
        no_traceback(result)
    assert listing(tmp_path) == ["x.ncd"]


def test_non_utf8_spec_in_json_names_its_file(tmp_path):
    (tmp_path / "x.ncd").write_bytes(b"def f(X: a) -> a:\n    return X \xe9\n")
    result = ncdc_cli("check", "--format", "json", "x.ncd", cwd=tmp_path)
    assert result.returncode == 1
    (d,) = json.loads(result.stdout)["diagnostics"]
    assert d["code"] == "E0005"
    assert d["file"] == "x.ncd"


def test_non_utf8_spec_does_not_hide_the_others(tmp_path):
    (tmp_path / "a.ncd").write_bytes(b"\xff")
    (tmp_path / "b.ncd").write_text(BAD, encoding="utf-8")
    result = ncdc_cli("check", "--format", "json", tmp_path)
    assert result.returncode == 1
    assert [d["code"] for d in json.loads(result.stdout)["diagnostics"]] == ["E0005", "E0101"]


# ---- check stays light ----------------------------------------------------------------------------------

HEAVY = ("torch", "jinja2", "ncdc.backend", "ncdc.backend.torch", "ncdc.runner")


@pytest.mark.parametrize("args, expected", [
    (["check", "specs/attention.ncd"], 0), (["check", "specs"], 0), (["check", "--format", "json", "specs"], 0),
    (["check", "tests/NO-SUCH-FILE.ncd"], 2), (["check", "--sizes", "nope=1", "specs/attention.ncd"], 2),
    (["check", "--sizes", "=", "specs/attention.ncd"], 2),  # argparse exits
])
def test_check_does_not_import_the_back_end(args, expected):
    """`ncdc check` needs neither torch nor Jinja nor the back end, whatever the outcome."""
    code = (
        "import contextlib, io, sys\n"
        "from ncdc.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):\n"
        "    try:\n"
        f"        rc = main({args!r})\n"
        "    except SystemExit as exit:\n"
        "        rc = exit.code\n"
        f"print(rc, *[m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rc, *imported = result.stdout.split()
    assert rc == str(expected)
    assert imported == []


def test_importing_ncdc_is_light():
    code = f"import sys, ncdc, ncdc.cli, ncdc.tracker\nprint(*[m for m in {HEAVY!r} if m in sys.modules])\n"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


# ---- no import cycles with the command line --------------------------------------------------------------


@pytest.mark.parametrize("module", ["ncdc.runner", "ncdc.api", "ncdc.cli"])
def test_each_module_imports_first_in_a_fresh_interpreter(module):
    result = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def test_only_the_entry_point_imports_the_command_line():
    """The command line sits on top: nothing in the package imports `ncdc.cli` (at any depth of a
    function) but `python -m ncdc`."""
    import ast

    importers = []
    for path in sorted((ROOT / "ncdc").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{a.name}" if node.module else a.name for a in node.names]
                if node.module in ("cli", "ncdc.cli") or (node.level and node.module is None and "cli" in names) \
                        or (node.module == "ncdc" and "ncdc.cli" in names):
                    importers.append(path.relative_to(ROOT).as_posix())
            elif isinstance(node, ast.Import) and any(a.name == "ncdc.cli" for a in node.names):
                importers.append(path.relative_to(ROOT).as_posix())
    assert importers == ["ncdc/__main__.py"]


def test_run_reports_a_non_utf8_spec_and_goes_on(tmp_path):
    (tmp_path / "a.ncd").write_bytes(b"\xff")
    (tmp_path / "b.ncd").write_text("def f(X: a) -> a:\n    return X\n", encoding="utf-8")
    result = ncdc_cli("run", "a.ncd", "b.ncd", cwd=tmp_path)
    assert result.returncode == 1
    assert "error[E0005]: a.ncd is not UTF-8 text" in result.stderr
    assert "b.ncd" in result.stdout and "f : a -> a" in result.stdout
    no_traceback(result)


def test_check_of_a_bad_spec_does_not_import_torch(tmp_path):
    (tmp_path / "bad.ncd").write_text(BAD, encoding="utf-8")
    code = (
        "import contextlib, io, sys\n"
        "import ncdc.cli\n"
        "with contextlib.redirect_stderr(io.StringIO()):\n"
        f"    rc = ncdc.cli.main(['check', {str(tmp_path / 'bad.ncd')!r}])\n"
        "print(rc, 'torch' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["1", "False"], result.stderr


# ---- special files: never replaced; symbolic links followed ---------------------------------------

GUARD = r"""
import os, sys, tempfile
allowed = [os.path.realpath(sys.argv[1]), os.path.realpath(os.environ["NCDC_CACHE_DIR"])]  # and ncdc's cache
def inside(p):
    folder = os.path.realpath(os.path.dirname(os.path.abspath(p)))
    return any(folder == a or folder.startswith(a + os.sep) for a in allowed)
def guard(name, fn):
    def guarded(src, dst, *a, **k):
        if not inside(dst):
            raise SystemExit(f"guard: {name} onto {dst} refused")
        return fn(src, dst, *a, **k)
    return guarded
os.replace, os.rename = guard("replace", os.replace), guard("rename", os.rename)
mkstemp = tempfile.mkstemp
def guarded_mkstemp(*a, dir=None, **k):
    if dir is None or not inside(os.path.join(str(dir), "x")):
        raise SystemExit(f"guard: a temporary file in {dir} refused")
    return mkstemp(*a, dir=dir, **k)
tempfile.mkstemp = guarded_mkstemp
from ncdc.cli import main
sys.exit(main(sys.argv[2:]))
"""


def guarded_cli(allowed: Path, *args, cwd: Path):
    """`ncdc ARGS` that cannot rename, or make a temporary file, outside `allowed` and ncdc's cache
    (whatever the code under test does), so that a test writing to /dev/null can never replace it."""
    return subprocess.run([sys.executable, "-c", GUARD, str(allowed), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("force", [False, True])
def test_writing_to_dev_null_keeps_it_a_device(work, force):
    null = Path(os.devnull)
    if not stat.S_ISCHR(null.stat().st_mode):  # pragma: no cover
        pytest.skip("no character device /dev/null here")
    before = os.stat(null)
    for target in (null, work / "null-link"):
        if target != null:
            target.symlink_to(null)
        result = guarded_cli(work, "compile", "good.ncd", "-o", target, *["--force"] * force, cwd=work)
        assert result.returncode == 0, result.stderr
        no_traceback(result)
        after = os.stat(null)
        assert stat.S_ISCHR(after.st_mode) and (after.st_rdev, after.st_ino) == (before.st_rdev, before.st_ino)
    assert (work / "null-link").is_symlink() and os.readlink(work / "null-link") == str(null)
    assert listing(work) == ["bad.ncd", "good.ncd", "null-link"]


def test_writing_to_a_fifo_writes_into_it(work):
    import threading

    fifo = work / "pipe"
    os.mkfifo(fifo)
    received = []

    def read():
        with open(fifo, "rb") as reader:
            received.append(reader.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        result = guarded_cli(work, "compile", "good.ncd", "-o", fifo, cwd=work)
    finally:
        try:  # unblock a reader still waiting for a writer
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
        reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert received == [ncdc.compile_source(GOOD, "good.ncd").encode("utf-8")]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert listing(work) == ["bad.ncd", "good.ncd", "pipe"]


def test_a_socket_is_refused(work, monkeypatch):
    import socket

    monkeypatch.chdir(work)  # a short relative name: socket paths have a small limit
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind("sock")
        result = guarded_cli(work, "compile", "good.ncd", "-o", "sock", "--force", cwd=work)
        assert result.returncode == 2 and "socket" in result.stderr
        no_traceback(result)
        assert stat.S_ISSOCK(os.lstat(work / "sock").st_mode)
    finally:
        server.close()


def test_a_symbolic_link_is_followed_and_kept(work):
    (work / "out").mkdir()
    target = work / "out" / "model.py"
    link = work / "model.py"
    link.symlink_to(Path("out") / "model.py")  # dangling: the file it names is created
    first = guarded_cli(work, "compile", "good.ncd", "-o", "model.py", cwd=work)
    assert first.returncode == 0, first.stderr
    assert link.is_symlink() and target.read_text(encoding="utf-8") == ncdc.compile_source(GOOD, "good.ncd")
    (work / "good.ncd").write_text(COMPOSITION, encoding="utf-8")
    second = guarded_cli(work, "compile", "good.ncd", "-o", "model.py", cwd=work)
    assert second.returncode == 0, second.stderr
    assert link.is_symlink() and os.readlink(link) == str(Path("out") / "model.py")
    assert target.read_text(encoding="utf-8") == ncdc.compile_source(COMPOSITION, "good.ncd")
    assert listing(work) == ["bad.ncd", "good.ncd", "model.py", "out"] and listing(work / "out") == ["model.py"]


def test_a_symbolic_link_to_a_hand_written_file_needs_force(work):
    (work / "notes.txt").write_text("my notes\n", encoding="utf-8")
    (work / "model.py").symlink_to("notes.txt")
    refused = guarded_cli(work, "compile", "good.ncd", "-o", "model.py", cwd=work)
    assert refused.returncode == 2 and "not generated by ncdc" in refused.stderr
    assert (work / "notes.txt").read_text(encoding="utf-8") == "my notes\n"
    forced = guarded_cli(work, "compile", "good.ncd", "-o", "model.py", "--force", cwd=work)
    assert forced.returncode == 0, forced.stderr
    assert (work / "model.py").is_symlink()
    assert (work / "notes.txt").read_text(encoding="utf-8") == ncdc.compile_source(GOOD, "good.ncd")


def test_a_symbolic_link_loop_is_wrong_usage(work):
    (work / "a.py").symlink_to("b.py")
    (work / "b.py").symlink_to("a.py")
    result = guarded_cli(work, "compile", "good.ncd", "-o", "a.py", "--force", cwd=work)
    assert result.returncode == 2 and "symbolic link" in result.stderr
    no_traceback(result)
    assert (work / "a.py").is_symlink() and (work / "b.py").is_symlink()


def test_a_symbolic_link_to_the_spec_is_refused(work):
    (work / "model.py").symlink_to("good.ncd")
    result = guarded_cli(work, "compile", "good.ncd", "-o", "model.py", "--force", cwd=work)
    assert result.returncode == 2 and "the spec itself" in result.stderr
    assert (work / "good.ncd").read_text(encoding="utf-8") == GOOD


def test_ncdc_run_says_what_it_assumed_and_sums_up(tmp_path, capsys):
    from ncdc.cli import main as ncdc_main

    spec = tmp_path / "m.ncd"
    spec.write_text("module M(m, k=3):\n    L = Linear[m -> k]()\n\n    def forward(X: y m) -> y k:\n"
                    "        return L(X)\n", encoding="utf-8")
    assert ncdc_main(["run", str(spec)]) == 0
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert out[1:4] == ["  M(m=8, k=3) : y m -> y k    27 parameters", "      (2, 16, 8) -> (2, 16, 3)",
                        "      assumed a batch axis of 2 before each input; y = 16; m = 8 (no default)"]
    assert out[-1] == "ran 1 spec: 1 built (27 parameters), 0 failed" and captured.err == ""


class _Stream:
    """A text stream that says whether it is a terminal, and keeps what was written at each flush."""

    def __init__(self, tty: bool) -> None:
        self.tty, self.text, self.flushed = tty, "", []

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        self.flushed.append(len(self.text))

    def isatty(self) -> bool:
        return self.tty


RUN_SPEC = "module M(m=4):\n    L = Linear[m -> m]()\n\n    def forward(X: y m) -> y m:\n        return L(X)\n"


@pytest.mark.parametrize("terminal", [True, False])
def test_ncdc_run_shows_progress_on_a_terminal_and_each_line_as_it_comes_elsewhere(tmp_path, monkeypatch, terminal):
    """On a terminal, a progress line on standard error says what runs, kept below the report and
    erased at the end (it never leaves a line behind); elsewhere (a log, a pipe) standard error gets
    nothing, and each line of the report is flushed as it is printed, not when the run ends."""
    import re

    from ncdc.cli import main as ncdc_main

    for name in ("a.ncd", "b.ncd"):
        (tmp_path / name).write_text(RUN_SPEC, encoding="utf-8")
    out, err = _Stream(tty=False), _Stream(tty=terminal)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("COLUMNS", "300")  # the line is cut to the terminal's width: it must not wrap
    assert ncdc_main(["run", str(tmp_path / "a.ncd"), str(tmp_path / "b.ncd")]) == 0
    ends = [i + 1 for i, c in enumerate(out.text) if c == "\n"]
    assert set(ends) <= set(out.flushed)  # every line reached the reader when it was printed
    assert out.text.splitlines()[-1] == "ran 2 specs: 2 built (40 parameters), 0 failed"
    if not terminal:
        assert err.text == ""
        return
    assert f"\r\x1b[Krunning M (1 of 1 in {tmp_path / 'b.ncd'})" in err.text
    # Only lines that are rewritten in place (no newline), each erased, then the time the run took.
    assert re.fullmatch(r"(\r\x1b\[K[^\r\n]*)*\r\x1b\[Kin \d+\.\d s\n", err.text), err.text
