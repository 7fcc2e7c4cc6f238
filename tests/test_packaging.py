"""An installed wheel works on its own: the grammar, the templates and the table of machines travel with it."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    """A fresh virtual environment (no system packages) with only the built wheel and its needs."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    wheel = next(dist.glob("ncdc-*.whl"))
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    return env_dir


def run(env_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(env_dir / "bin" / args[0]), *args[1:]], capture_output=True, text=True, cwd=cwd,
                          env=env)


def test_installed_wheel_checks_compiles_and_runs(wheel_env, tmp_path):
    # Run from an empty folder so that nothing can come from the checkout.
    where = run(wheel_env, "python", "-c", "import ncdc; print(ncdc.__file__)", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    assert str(wheel_env) in where.stdout
    checked = run(wheel_env, "ncdc", "check", str(SPECS), cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    costed = run(wheel_env, "ncdc", "cost", str(SPECS / "mlp.ncd"), "--machine", "h100", cwd=tmp_path)
    assert costed.returncode == 0 and "roofline of the forward pass on NVIDIA H100" in costed.stdout, costed.stderr
    out = tmp_path / "attention.py"
    compiled = run(wheel_env, "ncdc", "compile", str(SPECS / "attention.ncd"), "-o", str(out), cwd=tmp_path)
    assert compiled.returncode == 0, compiled.stderr
    script = ("import torch, attention\n"
              "m = attention.MultiHeadAttention()\n"
              "print(tuple(m(torch.rand(2, 5, 128), torch.rand(2, 7, 128)).shape))\n")
    ran = run(wheel_env, "python", "-c", script, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "(2, 5, 128)"


def test_installed_ncdc_runs_quietly(wheel_env, tmp_path):
    """A fresh environment has what torch needs to import without a word on standard error (with no
    NumPy it warns "Failed to initialize NumPy" on every import)."""
    ran = run(wheel_env, "ncdc", "run", str(SPECS / "mlp.ncd"), cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr == "", ran.stderr
    assert "BasicImageRecogniser" in ran.stdout
    imported = run(wheel_env, "python", "-c", "import torch, numpy; torch.ones(2).numpy()", cwd=tmp_path)
    assert (imported.returncode, imported.stderr) == (0, "")


# ---- CI: .ci/run is the README's commands, in a clean virtual environment ----------------------------

CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The two commands", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_ci_runs_exactly_the_readme_commands():
    steps = [shlex.split(line)[1] for line in CI.splitlines() if line.startswith("step ")]
    assert steps == readme_commands()
    assert steps[0].startswith("python3 -m venv .venv-") and "activate" in steps[0]
    assert steps[-1].endswith("python3 -m pytest")


@pytest.mark.parametrize("command, status, message", [
    ("true", 0, ""), ("(exit 5)", 1, "no tests were collected"), ("false && true", 1, "failed with exit 1"),
    ("(exit 3) && true", 3, "failed with exit 3"), ("true && (exit 2)", 2, "failed with exit 2")])
def test_a_ci_step_fails_on_any_failure_and_on_no_tests(command, status, message):
    step = CI[CI.index("step() {"):CI.index("\n}\n") + 3]
    result = subprocess.run(["bash", "-c", f"set -euo pipefail\n{step}\nstep {shlex.quote(command)}\necho after"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == status, result.stderr
    assert message in result.stderr
    assert ("after" in result.stdout) == (status == 0)
