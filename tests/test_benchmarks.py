"""Smoke test: `python benchmarks/run.py --quick` runs every registered benchmark to completion."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = [sys.executable, str(ROOT / "benchmarks" / "run.py")]


def test_quick_run_completes_every_benchmark():
    listed = subprocess.run(RUN + ["--list"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    assert names, "no benchmarks registered"

    done = subprocess.run(RUN + ["--quick"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    for name in names:
        assert f"== {name}:" in done.stdout, f"benchmark {name} did not run:\n{output[-4000:]}"
        assert f"({name} took " in done.stdout, f"benchmark {name} did not finish:\n{output[-4000:]}"
