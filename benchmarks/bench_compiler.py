"""The compiler itself: per-spec check and compile times, and the `ncdc check` command's wall time."""

from __future__ import annotations

import compileall
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import ROOT, Config, Row, Samples, benchmark, format_time, interleave, python_output

SPECS = ROOT / "specs"
CHECK_BUDGET_S = 0.5  # `ncdc check specs/` should take well under this
CHECK_VS_LARK = 1.5  # ... and at most this many times `python -c "import lark"` (its parser's import)


def _spec_files() -> list[Path]:
    return sorted(SPECS.glob("*.ncd"))


# The first check in a process makes the Lark parser (built, or loaded from Lark's cache) and the
# first compile loads the Jinja templates: timed in fresh interpreters, as this process has done both.
_COLD = """
import json, sys, time
t0 = time.perf_counter()
import ncdc
t1 = time.perf_counter(); ncdc.check_file(sys.argv[1])
t2 = time.perf_counter(); ncdc.check_file(sys.argv[1])
t3 = time.perf_counter(); ncdc.compile_file(sys.argv[1])
t4 = time.perf_counter(); ncdc.compile_file(sys.argv[1])
t5 = time.perf_counter()
print(json.dumps({"import": [t1 - t0], "check_cold": [t2 - t1], "check_warm": [t3 - t2],
                  "compile_cold": [t4 - t3], "compile_warm": [t5 - t4]}))
"""


@benchmark("specs", "Per-spec check (parse + check) and compile (to source) times, in-process")
def bench_specs(cfg: Config) -> list[Row]:
    import ncdc

    rows: list[Row] = []

    # Cold start, once per fresh interpreter (median of a few interpreters).
    first = _spec_files()[0]
    cold = Samples({})
    for _ in range(cfg.reps(5, 1)):
        out = python_output(_COLD.replace("sys.argv[1]", repr(str(first))))
        for key, value in json.loads(out.strip().splitlines()[-1]).items():
            cold.times.setdefault(key, []).extend(value)
    name = first.name
    rows += [
        cold.row("import", label="cold: import ncdc"),
        cold.row("check_cold", "check_warm", ref_label="2nd check",
                 label=f"cold: 1st check_file({name}), makes parser"),
        cold.row("check_warm", label=f"cold: 2nd check_file({name})"),
        cold.row("compile_cold", "compile_warm", ref_label="2nd compile",
                 label=f"cold: 1st compile_file({name}), loads templates"),
        cold.row("compile_warm", label=f"cold: 2nd compile_file({name})"),
    ]

    # Warm, in this process: every spec's check and compile, interleaved.
    candidates, broken = {}, []
    for path in _spec_files():
        try:
            ncdc.compile_file(path)
        except ncdc.NcdcError as error:  # a spec being edited right now: report it, skip it
            first = error.diagnostics[0]
            broken.append(Row(path.name, note=f"not timed: error[{first.code}] {first.message[:70]}"))
            continue
        except Exception as error:  # a bug in ncdc: report it, skip the spec, time the others
            broken.append(Row(path.name, note=f"not timed: ncdc raised {type(error).__name__}: {error}"[:100]))
            continue
        candidates[f"{path.name} check"] = lambda path=path: ncdc.check_file(path)
        candidates[f"{path.name} compile"] = lambda path=path: ncdc.compile_file(path)
    s = interleave(candidates, cfg.reps(30, 1), warmup=cfg.reps(1, 0), inner=cfg.reps(3, 1))
    for key in candidates:
        spec, kind = key.rsplit(" ", 1)
        rows.append(s.row(key, f"{spec} check" if kind == "compile" else None, ref_label="check",
                          label=f"{spec:<20} {kind}"))
    checks = [k for k in candidates if k.endswith(" check")]
    compiles = [k for k in candidates if k.endswith(" compile")]
    rows.append(Row(f"all {len(checks)} specs, check (sum of medians)", sum(s.median(k) for k in checks)))
    rows.append(Row(f"all {len(compiles)} specs, compile (sum of medians)", sum(s.median(k) for k in compiles)))
    return rows + broken


def _ncdc_argv() -> tuple[list[str], str]:
    """The `ncdc` script of this interpreter's environment, or `python -m ncdc` without one."""
    script = Path(sys.executable).with_name("ncdc")
    if script.is_file():
        return [str(script)], "ncdc"
    found = shutil.which("ncdc")
    if found:
        return [found], "ncdc"
    return [sys.executable, "-m", "ncdc"], "python -m ncdc"


_IMPORT_PROBES = {
    "check_file(attention.ncd)": "import sys, ncdc; ncdc.check_file('specs/attention.ncd')",
    "ncdc check specs/ (cli.main)": "import sys, ncdc.cli; ncdc.cli.main(['check', 'specs/'])",
    "compile_file(attention.ncd)": "import sys, ncdc; ncdc.compile_file('specs/attention.ncd')",
}


@benchmark("cli", f"Wall time of `ncdc check specs/` as a subprocess (budget {CHECK_BUDGET_S * 1e3:.0f} ms)")
def bench_cli(cfg: Config) -> list[Row]:
    argv, shown = _ncdc_argv()
    status: list[int] = []

    def ncdc_check() -> None:
        done = subprocess.run(argv + ["check", "specs/"], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        status.append(done.returncode)

    # A one-off check, as on a fresh CI runner: a cache of its own with the parser's tables but no
    # trees (each run writes the specs' texts there, which are removed before the next).
    from ncdc import cache_files, syntax

    syntax._tables()  # made, where they were not yet
    one_off = Path(tempfile.mkdtemp(prefix="ncdc-bench-cache-"))
    shutil.copytree(cache_files.folder("parser"), one_off / "parser")
    env = {**os.environ, "NCDC_CACHE_DIR": str(one_off)}

    def ncdc_check_one_off() -> None:
        shutil.rmtree(one_off / "trees", ignore_errors=True)  # (19 small files: well under 1 ms)
        subprocess.run(argv + ["check", "specs/"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=env)

    def python(code: str):
        return lambda: subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)

    # Bytecode first, as an installed package has it (pip compiles Lark's): where PYTHONDONTWRITEBYTECODE
    # is set, an editable checkout is otherwise compiled from source on every run, Lark never.
    compileall.compile_dir(str(ROOT / "ncdc"), quiet=1)
    for _ in range(2):  # a tree is kept the second time its text is seen: every timed check reads them back
        ncdc_check()
    candidates = {"python": python("pass"), "lark": python("import lark"), "import": python("import ncdc.cli"),
                  "check": ncdc_check, "one_off": ncdc_check_one_off}
    s = interleave(candidates, cfg.reps(15, 1), warmup=cfg.reps(1, 0), wall=True)
    check = s.row("check", "import", ref_label="import ncdc.cli", label=f"{shown} check specs/")
    check.target, check.ok = f"< {CHECK_BUDGET_S * 1e3:.0f} ms", check.median_s < CHECK_BUDGET_S
    if any(status):
        check.note = f"exit {max(status)}: the specs have errors"
    rows = [
        s.row("python", label="python -c pass"),
        s.row("lark", "python", ref_label="python -c pass", label="python -c 'import lark'"),
        s.row("import", "python", ref_label="python -c pass", label="python -c 'import ncdc.cli'"),
        check,
        s.row("check", "lark", ref_label="import lark", label=f"{shown} check specs/ vs import lark",
              target=CHECK_VS_LARK),
        s.row("one_off", "lark", ref_label="import lark", label="  the same, one-off (no trees kept)"),
    ]
    shutil.rmtree(one_off, ignore_errors=True)
    for module in ("torch", "lark"):
        for what, code in _IMPORT_PROBES.items():
            out = python_output(code + f"; print({module!r} in sys.modules)").strip().splitlines()[-1]
            checking = "compile" not in what  # only checking valid specs promises to need neither
            rows.append(Row(f"imports {module}: {what}", value=out,
                            target="False" if checking else "", ok=(out == "False") if checking else None))
    return rows


# ------------------------------------------------------------------------------------------------
# Scaling: generated specs of 1,000 and 10,000 units (benchmarks/scaling_specs.py)
# ------------------------------------------------------------------------------------------------

SCALING_RATIO = 12  # 10x the spec may take at most this many times as long (linear, with slack)
SCALING_CHECK_BUDGET_S = 2.0  # checking the larger spec of every family, in-process


@benchmark("scaling", f"Check and compile time of generated specs, 1k vs 10k units: ratio < {SCALING_RATIO}, "
                      f"10k check < {SCALING_CHECK_BUDGET_S:.0f} s")
def bench_scaling(cfg: Config) -> list[Row]:
    """Per family (one def's statements, defs, chained modules, lifted calls, size constants): the
    median CPU time for N and for 10 N units, and their ratio.  N is 1,000 (50 in --quick mode, where
    the 2 s budget is not applied: it is for 10,000)."""
    import ncdc
    from scaling_specs import FAMILIES

    small = 50 if cfg.quick else 1000
    big = 10 * small
    rows = []
    for family, make in FAMILIES.items():
        texts = {n: make(n) for n in (small, big)}
        for kind, fn in (("check", ncdc.check_source), ("compile", ncdc.compile_source)):
            times = {}
            for n, text in texts.items():
                samples = []
                for _ in range(cfg.reps(5, 1) if n == small else cfg.reps(2, 1)):
                    gc.collect()  # the samples before left cycles of garbage: freed now, not timed
                    start = time.process_time()  # CPU time: the machine is shared, waits are not ours
                    fn(text, f"{family}_{n}.ncd")
                    samples.append(time.process_time() - start)
                times[n] = statistics.median(samples)
            ratio = times[big] / times[small]
            ok = ratio < SCALING_RATIO
            target = f"< {SCALING_RATIO}"
            if kind == "check" and not cfg.quick:
                ok = ok and times[big] < SCALING_CHECK_BUDGET_S
                target += f", 10k < {SCALING_CHECK_BUDGET_S:.0f} s"
            rows.append(Row(f"{family:<10} {kind:<7} {small:>5} / {big:>5}", median_s=times[big],
                            value=f"{format_time(times[small])} / {format_time(times[big])}",
                            ratio=ratio, ref=f"{small} units", target=target, ok=ok))
    return rows
