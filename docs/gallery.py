"""Build docs/gallery.md: every shipped spec's diagrams (`ncdc draw`, docs/gallery/*.svg) beside its source.

    python docs/gallery.py            # rewrite docs/gallery.md and docs/gallery/
    python docs/gallery.py --check    # exit 1 if either is out of date
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))


def build() -> dict[Path, str]:
    """Every file of the gallery, by path, with its text."""
    import ncdc
    from ncdc.backend.draw import draw

    os.chdir(ROOT)
    files: dict[Path, str] = {}
    page = ["# Gallery", "",
            ("Every spec in `specs/`, drawn by `ncdc draw` (calls expanded one level deep, `--depth 1`), beside "
            "its source.  Built by `python docs/gallery.py`; a test checks that it is current.  Hover over a "
            "wire or a box in a browser to see its type and its line in the spec."), ""]
    for spec in sorted((ROOT / "specs").glob("*.ncd")):
        rel = spec.relative_to(ROOT).as_posix()
        svg = draw(ncdc.check_file(rel))
        files[DOCS / "gallery" / f"{spec.stem}.svg"] = svg
        source = spec.read_text(encoding="utf-8").rstrip("\n")
        page += [f"## `{rel}`", "", f"![{spec.stem}](gallery/{spec.stem}.svg)", "",
                 "<details><summary>source</summary>", "", "```ncd", source, "```", "", "</details>", ""]
    files[DOCS / "gallery.md"] = "\n".join(page)
    return files


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    files = build()
    stale = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    extra = [p for p in (DOCS / "gallery").glob("*.svg") if p not in files]
    if args.check:
        for p in stale + extra:
            print(f"out of date: {p.relative_to(ROOT)} (run python docs/gallery.py)")
        return 1 if stale or extra else 0
    (DOCS / "gallery").mkdir(exist_ok=True)
    for p in stale:
        p.write_text(files[p], encoding="utf-8", newline="\n")
    for p in extra:
        p.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
