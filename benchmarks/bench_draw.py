"""How long `ncdc draw` takes on every shipped spec, and how large its SVGs are.

    python3 benchmarks/bench_draw.py

The specs are checked first (not timed); drawing reads the checked IR only.
"""

from __future__ import annotations

import time
from pathlib import Path

import ncdc
from ncdc.backend.draw import draw

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    programs = {p.stem: ncdc.check_file(p) for p in sorted((ROOT / "specs").glob("*.ncd"))}
    for depth in (0, 1, 10):
        start = time.perf_counter()
        sizes = {stem: len(draw(program, depth=depth).encode()) for stem, program in programs.items()}
        seconds = time.perf_counter() - start
        largest = max(sizes, key=sizes.__getitem__)
        print(f"depth {depth:2}: {len(sizes)} specs drawn in {seconds:.2f} s; "
              f"largest {largest}.svg {sizes[largest] / 1000:.0f} KB; vit.svg {sizes['vit'] / 1000:.0f} KB")


if __name__ == "__main__":
    main()
