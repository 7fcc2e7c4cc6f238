"""The benchmark harness: a registry of benchmark functions, interleaved timing, and the tables.

A benchmark is a function ``fn(cfg: Config) -> list[Row]`` registered with ``@benchmark(NAME, title)``
in ``run.py`` or in any sibling ``bench_*.py`` (``run.py`` imports those in name order).  It measures
every candidate in the same process and run, interleaved (see :func:`interleave`), and reports each
candidate as a :class:`Row`: its median time and its ratio against a reference measured alongside it.
The machine is shared and noisy, so rows carry ratios, never bare absolute claims.
"""

from __future__ import annotations

import math
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent  # the repository root


@dataclass(frozen=True)
class Config:
    quick: bool = False  # smoke mode: one or two rounds on tiny problems (that it runs, not its numbers)
    compile: bool = False  # model benchmarks compare torch.compile'd candidates (compiled vs compiled)
    cases: tuple[int, ...] = ()  # of a benchmark over several sizes, only these (0-based; empty: all)

    def reps(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def pick(self, sizes: tuple) -> tuple:
        """The sizes to run: those `--case` names (all without it)."""
        return tuple(s for i, s in enumerate(sizes) if not self.cases or i in self.cases)


@dataclass
class Row:
    name: str
    median_s: float | None = None  # median time of one call, in seconds
    ratio: float | None = None  # median of the per-round ratios to `ref` (<1: faster than ref)
    spread: tuple[float, float] | None = None  # the smallest and the largest of those ratios
    interval: tuple[float, float] | None = None  # a 95 % confidence interval of their median (`median_interval`)
    ref: str = ""  # the reference the ratio is against
    target: str = ""  # what this row should meet, in words ("<= 1.00", "< 500 ms", ...)
    ok: bool | None = None  # PASS / MISS, or None where the row has no target
    value: str | None = None  # shown instead of median_s, for rows that are not times
    note: str = ""


@dataclass
class Benchmark:
    name: str
    title: str
    fn: Callable[[Config], list[Row]]


REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, title: str):
    """Register ``fn(cfg) -> list[Row]`` under ``name`` (what ``--only`` selects)."""

    def register(fn: Callable[[Config], list[Row]]):
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} registered twice")
        REGISTRY[name] = Benchmark(name, title, fn)
        return fn

    return register


# ------------------------------------------------------------------------------------------------
# Timing
# ------------------------------------------------------------------------------------------------


@dataclass
class Samples:
    """Per-candidate times, one per round; round r of every candidate ran back to back."""

    times: dict[str, list[float]] = field(default_factory=dict)

    def median(self, name: str) -> float:
        return statistics.median(self.times[name])

    def ratios(self, name: str, ref: str) -> list[float]:
        return [a / b for a, b in zip(self.times[name], self.times[ref])]

    def row(self, name: str, ref: str | None = None, *, label: str | None = None, ref_label: str | None = None,
            target: float | None = None, note: str = "") -> Row:
        """A row for `name`, with its paired ratio to `ref`; `target`: the largest passing ratio."""
        row = Row(label or name, median_s=self.median(name), note=note)
        if ref is not None and ref != name:
            ratios = self.ratios(name, ref)
            row.ratio, row.spread, row.ref = statistics.median(ratios), (min(ratios), max(ratios)), ref_label or ref
            row.interval = median_interval(ratios)
            if target is not None:
                row.target, row.ok = f"<= {target:.2f}", row.ratio <= target
        elif ref == name:
            row.ratio, row.ref, row.note = 1.0, "", note or "reference"
        return row


CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "thread": time.thread_time}
_clock: Callable[[], float] = time.perf_counter


def use_clock(name: str) -> None:
    """Time samples by `name` in CLOCKS: `wall` (perf_counter) or `thread` (this thread's CPU time,
    which other processes on a shared machine do not inflate; use it with one torch thread)."""
    global _clock
    _clock = CLOCKS[name]


def interleave(candidates: dict[str, Callable[[], object]], rounds: int, *, warmup: int = 1,
               inner: int = 1, wall: bool = False) -> Samples:
    """Time each candidate once per round, the candidates interleaved.

    Every candidate first runs `warmup` times (also interleaved).  A sample is the mean of `inner`
    back-to-back calls (for calls too short to time singly).  Each round runs the candidates in a
    fresh order (shuffled, seeded: reproducible), so that no candidate always runs after the same
    other one: what a candidate leaves behind (the allocator's and the caches' state) changed the
    next one's time by up to 10 % on small problems (two copies of one model timed 1.15 and 1.05
    against a third), and a rotation keeps each candidate's predecessor fixed.  Noise that lasts a
    round or longer hits every candidate alike; per-round ratios (`Samples.ratios`) cancel it.
    Samples are taken on the clock `use_clock` chose, or on the wall clock with `wall` (for
    candidates that wait on subprocesses, whose work this thread's CPU time does not see).
    """
    clock = time.perf_counter if wall else _clock
    names = list(candidates)
    for _ in range(warmup):
        for name in names:
            candidates[name]()
    samples = Samples({name: [] for name in names})
    order = random.Random(0)
    for _ in range(rounds):
        for name in order.sample(names, len(names)):
            fn = candidates[name]
            start = clock()
            for _ in range(inner):
                fn()
            samples.times[name].append((clock() - start) / inner)
    return samples


def command(argv: list[str], *, cwd: Path = ROOT) -> Callable[[], None]:
    """A candidate that runs a command to completion (output discarded), failing on a nonzero exit."""

    def run() -> None:
        done = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")

    return run


def python_output(code: str, *, cwd: Path = ROOT) -> str:
    """Stdout of ``python -c code`` in a fresh interpreter (the one running the benchmarks)."""
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"python -c ... exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return done.stdout


def median_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """A confidence interval of the median of the distribution `values` are drawn from, from their
    order statistics alone (no assumption of a shape: the count of values below the median is
    binomial, n and 1/2); None where there are too few values for one (fewer than 6 at 95 %)."""
    ordered, n = sorted(values), len(values)
    # the widest tail of at most (1 - confidence) / 2: the values below the j-th are all below the
    # median with that probability at most
    tail, j = 0.0, 0
    while True:
        tail += math.comb(n, j) / 2 ** n
        if tail > (1 - confidence) / 2:
            break
        j += 1
    if j == 0:
        return None
    return ordered[j - 1], ordered[n - j]


# ------------------------------------------------------------------------------------------------
# Output
# ------------------------------------------------------------------------------------------------


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    ms = seconds * 1e3
    return f"{ms:.1f} ms" if ms >= 10 else f"{ms:.2f} ms" if ms >= 0.1 else f"{ms * 1e3:.1f} us"


def render(rows: list[Row]) -> str:
    header = ("name", "median", "ratio [min-max]", "95 % interval", "vs", "target", "result")
    table = [header]
    for row in rows:
        ratio = "-" if row.ratio is None else f"{row.ratio:.3f}"
        if row.spread is not None:
            ratio += f" [{row.spread[0]:.2f}-{row.spread[1]:.2f}]"
        interval = "-" if row.interval is None else f"{row.interval[0]:.3f}-{row.interval[1]:.3f}"
        result = "" if row.ok is None else ("PASS" if row.ok else "MISS")
        if row.note:
            result = f"{result}  {row.note}".strip()
        value = row.value if row.value is not None else format_time(row.median_s)
        table.append((row.name, value, ratio, interval, row.ref or "-", row.target or "-", result))
    align = ("<", ">", ">", ">", "<", "<")  # the last column (result) is not padded
    widths = [max(len(line[i]) for line in table) for i in range(len(align))]
    lines = []
    for i, line in enumerate(table):
        cells = [f"{c:{a}{w}}" for c, a, w in zip(line, align, widths)] + [line[-1]]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("-" * max(len(lines[0]), sum(widths) + 2 * len(widths) + 6))
    return "\n".join(lines)
