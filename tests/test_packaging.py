"""An installed wheel works on its own: the grammar and the templates travel with it."""

from __future__ import annotations

import os
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
    out = tmp_path / "attention.py"
    compiled = run(wheel_env, "ncdc", "compile", str(SPECS / "attention.ncd"), "-o", str(out), cwd=tmp_path)
    assert compiled.returncode == 0, compiled.stderr
    script = ("import torch, attention\n"
              "m = attention.MultiHeadAttention()\n"
              "print(tuple(m(torch.rand(2, 5, 128), torch.rand(2, 7, 128)).shape))\n")
    ran = run(wheel_env, "python", "-c", script, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "(2, 5, 128)"
