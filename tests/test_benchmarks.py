"""Smoke test: `python benchmarks/run.py --quick` runs every registered benchmark to completion; and the
harness's interval of a median."""

from __future__ import annotations

import random
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


def test_the_interval_of_a_median_is_the_order_statistics_of_the_binomial_table():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from harness import median_interval

    assert median_interval([5.0, 1.0, 4.0, 2.0, 3.0]) is None  # 5 values: no 95 % interval
    assert median_interval([float(v) for v in range(6, 0, -1)]) == (1.0, 6.0)
    assert median_interval([float(v) for v in range(1, 26)]) == (8.0, 18.0)  # n = 25: the 8th and the 18th
    assert median_interval([float(v) for v in range(1, 61)]) == (22.0, 39.0)  # n = 60: P(B<22) = .014, P(B<23) = .026
    draws, held = random.Random(0), 0
    for _ in range(2000):  # it holds the true median (0) at least 95 % of the time
        low, high = median_interval([draws.gauss(0, 1) for _ in range(25)])
        held += low <= 0 <= high
    assert 0.94 <= held / 2000 <= 0.98
