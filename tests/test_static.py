"""Static checks: `ruff check ncdc` and `mypy` (configured in pyproject.toml) must report nothing."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("tool, args", [("ruff", ["check", "ncdc"]), ("mypy", [])])
def test_static(tool, args):
    if importlib.util.find_spec(tool) is None:
        pytest.skip(f"{tool} is not installed (it is in the `test` extra: pip install -e '.[test]')")
    result = subprocess.run([sys.executable, "-m", tool, *args], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"`{tool} {' '.join(args)}` failed:\n{result.stdout}{result.stderr}"
