"""Run ncdc's benchmarks and print one table per benchmark: medians, and ratios measured in this run.

    python benchmarks/run.py                  # everything (a few minutes)
    python benchmarks/run.py --quick          # smoke mode: fewer repetitions (the test suite runs this)
    python benchmarks/run.py --only mha,cli   # some of them; --list names them
    python benchmarks/run.py --threads 1 --clock thread --only mha_hand,vit   # CPU time of one thread

Benchmarks are functions registered with ``@harness.benchmark(NAME, TITLE)``, here or in a sibling
``bench_*.py`` (imported in name order, so the tables come out in that order):

    bench_attention.py   mha     generated MultiHeadAttention vs torch.nn.MultiheadAttention vs notebook
                         mha_hand generated MultiHeadAttention vs hand-written (benchmarks/handwritten.py), 5 sizes
    bench_compiler.py    specs   per-spec check / compile times, and the parser's cold start
                         cli     `ncdc check specs/` wall time; whether checking imports torch or Lark
    bench_moe.py         moe     generated Mixtral MoE block vs transformers' MixtralSparseMoeBlock
    bench_transformers.py encoder, gpt2_block, llama_layer: generated vs torch.nn / transformers (sdpa)
    bench_vision.py      resnet, vit, unet, unet_fig27: generated models vs hand-written ones

Timings are only comparable within one run.  Ratios cancel most noise, not all: when other work
loads the machine (the header and footer print the load average), torch's threads contend and
the ratios drift towards 1; rerun, or pin the thread count with --threads 1.

Exit status: 0 when every benchmark ran (a MISS is reported, not fatal: the machine is noisy),
1 when one raised, or with --strict when a row missed its target; 2 for wrong usage.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402


def discover() -> None:
    for path in sorted(HERE.glob("bench_*.py")):
        importlib.import_module(path.stem)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke mode: one or two rounds on tiny problems")
    parser.add_argument("--only", action="append", default=[], metavar="NAME[,NAME]",
                        help="run only these benchmarks (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any row misses its target")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="torch.set_num_threads(N) first (default: leave torch's default)")
    parser.add_argument("--clock", choices=sorted(harness.CLOCKS), default="wall",
                        help="time samples by the wall clock (default), or by this thread's CPU time (`thread`:"
                             " what other processes do on a shared machine does not count; use with --threads 1)")
    parser.add_argument("--compile", action="store_true",
                        help="model benchmarks compare torch.compile'd candidates (slow to compile on few cores)")
    parser.add_argument("--case", action="append", default=[], metavar="I[,I]",
                        help="of a benchmark over several sizes (mha_hand), run only these, counted from 0"
                             " (keeps a --compile run short)")
    args = parser.parse_args(argv)
    harness.use_clock(args.clock)
    if args.threads is not None:
        if args.threads < 1:
            parser.error("--threads must be at least 1")
        import torch

        torch.set_num_threads(args.threads)

    discover()
    if args.list:
        for bench in harness.REGISTRY.values():
            print(f"{bench.name:<10} {bench.title}")
        return 0
    only = [name for item in args.only for name in item.split(",") if name]
    unknown = [name for name in only if name not in harness.REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(harness.REGISTRY)}")
    selected = [b for b in harness.REGISTRY.values() if not only or b.name in only]

    try:
        cases = tuple(int(i) for item in args.case for i in item.split(",") if i)
    except ValueError:
        parser.error("--case takes numbers: --case 0,2")
    cfg = harness.Config(quick=args.quick, compile=args.compile, cases=cases)
    print(_environment(cfg))
    if _busy():
        print("warning: the machine is busy (load average above the CPU count): torch's threads contend,"
              " so ratios drift towards 1; rerun later, or with --threads 1")
    failed, missed = [], []
    for bench in selected:
        print(f"\n== {bench.name}: {bench.title}")
        start = time.perf_counter()
        try:
            rows = bench.fn(cfg)
        except Exception:  # report it, and go on with the other benchmarks
            traceback.print_exc()
            failed.append(bench.name)
            print(f"({bench.name} FAILED after {time.perf_counter() - start:.1f} s)")
            continue
        print(harness.render(rows))
        missed += [f"{bench.name}: {row.name}" for row in rows if row.ok is False]
        print(f"({bench.name} took {time.perf_counter() - start:.1f} s)")

    print(f"\nload average at the end: {_load()}")
    print("ratios are medians of per-round ratios (candidates interleaved, order shuffled each round);"
          " <1 means faster than `vs`; [min-max] is their range, and the 95 % interval that of their"
          " distribution's median (a ratio whose interval holds 1.00 is not told apart from 1.00 by this run)")
    if missed:
        print("MISS: " + "; ".join(missed))
    if failed:
        print("FAILED: " + ", ".join(failed))
    return 1 if failed or (args.strict and missed) else 0


def _environment(cfg: harness.Config) -> str:
    parts = [f"python {platform.python_version()}", platform.machine()]
    try:
        import torch

        parts.insert(1, f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    except ImportError:
        parts.insert(1, "no torch")
    parts.append(f"load average {_load()}")
    mode = "quick (smoke: few repetitions, do not quote)" if cfg.quick else "full"
    mode += ", torch.compile'd" if cfg.compile else ""
    return f"ncdc benchmarks, {mode} mode: " + ", ".join(parts)


def _busy() -> bool:
    try:
        return os.getloadavg()[0] > (os.cpu_count() or 1)
    except (OSError, AttributeError):
        return False


def _load() -> str:
    """The 1-minute load average against the CPU count: other work on the machine skews timings."""
    try:
        return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    except (OSError, AttributeError):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
