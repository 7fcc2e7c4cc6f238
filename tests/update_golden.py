"""Refresh the golden files: `python -m tests.update_golden` (from the repository root).

tests/golden/<stem>.py holds `ncdc.compile_file("specs/<stem>.ncd")` (or of a spec in
tests/constructs/), compiled with the working
directory at the repository root so that the header names the spec as `specs/<stem>.ncd`.  Golden
files of specs that no longer exist are removed.  Review the diff (`git diff tests/golden`) before
committing: every change in it is a change in the code ncdc generates.

tests/golden/ir/<stem>.txt holds the typed IR of the same spec as `ncdc check --emit ir` prints it
(`ncdc.ir_text.format_program`): a change there is a change in what the checker builds.

ncdc/_ahead.py, the methods of the checker's node classes compiled ahead (`ncdc.nodes.ahead_source`),
is written again too: a change there follows a change in those classes' fields.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC_DIRS = ("specs", "tests/constructs")  # the paper's models, and a gallery of every layer
GOLDEN = Path(__file__).resolve().parent / "golden"
GOLDEN_IR = GOLDEN / "ir"
GOLDEN_DRAW = GOLDEN / "draw"
DRAWN = ("composition", "broadcasting", "attention")  # small specs whose SVG (`ncdc draw`) is golden


def golden_path(spec: str | Path) -> Path:
    return GOLDEN / f"{Path(spec).stem}.py"


def golden_ir_path(spec: str | Path) -> Path:
    return GOLDEN_IR / f"{Path(spec).stem}.txt"


def spec_names() -> list[str]:
    """The specs, as paths relative to the repository root: `specs/<name>.ncd`."""
    return sorted(f"{folder}/{p.name}" for folder in SPEC_DIRS for p in (ROOT / folder).glob("*.ncd"))


def generate(spec: str) -> str:
    """The generated source of one spec, compiled from the repository root (whatever the cwd)."""
    import ncdc

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return ncdc.compile_file(spec)
    finally:
        os.chdir(cwd)


def generate_ir(spec: str) -> str:
    """The printed IR of one spec, checked from the repository root (whatever the cwd)."""
    import ncdc
    from ncdc.ir_text import format_program

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return format_program(ncdc.check_file(spec))
    finally:
        os.chdir(cwd)


def generate_svg(spec: str) -> str:
    """`ncdc draw` of one spec, from the repository root."""
    import ncdc
    from ncdc.backend.draw import draw

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return draw(ncdc.check_file(spec))
    finally:
        os.chdir(cwd)


def generate_ahead() -> str:
    """ncdc/_ahead.py as a fresh process that imported ncdc makes it (the classes checking makes)."""
    code = "import sys, ncdc.nodes; sys.stdout.write(ncdc.nodes.ahead_source())"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout


def _refresh(path: Path, text: str) -> int:
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old == text:
        return 0
    path.write_text(text, encoding="utf-8", newline="\n")
    print(f"{'updated' if old is not None else 'created'} {path.relative_to(ROOT)}")
    return 1


def main() -> int:
    GOLDEN.mkdir(exist_ok=True)
    GOLDEN_IR.mkdir(exist_ok=True)
    specs = spec_names()
    changed = 0
    for make, where, pattern in ((generate, golden_path, "*.py"), (generate_ir, golden_ir_path, "*.txt")):
        for spec in specs:
            text = make(spec)
            path = where(spec)
            old = path.read_text(encoding="utf-8") if path.exists() else None
            if old != text:
                path.write_text(text, encoding="utf-8", newline="\n")
                print(f"{'updated' if old is not None else 'created'} {path.relative_to(ROOT)}")
                changed += 1
        wanted = {where(s).name for s in specs}
        for path in sorted(where("x").parent.glob(pattern)):
            if path.name not in wanted:
                path.unlink()
                print(f"removed {path.relative_to(ROOT)} (no spec)")
                changed += 1
    GOLDEN_DRAW.mkdir(exist_ok=True)
    for stem in DRAWN:
        changed += _refresh(GOLDEN_DRAW / f"{stem}.svg", generate_svg(f"specs/{stem}.ncd"))
    changed += _refresh(ROOT / "ncdc" / "_ahead.py", generate_ahead())
    print(f"{len(specs)} specs, {2 * len(specs) + len(DRAWN)} golden files, {changed} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
