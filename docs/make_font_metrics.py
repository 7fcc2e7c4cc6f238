"""Writes ncdc/backend/draw/metrics.py: the advance widths of DejaVu Sans (Book and Bold) for the
characters diagrams use, read from the font files once, so that drawing never looks up a system font
and its geometry is the same on every machine.

    python3 docs/make_font_metrics.py /usr/share/fonts/truetype/dejavu
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

# Basic Latin, Latin-1, Greek, punctuation, super/subscripts, letterlike, arrows, maths, shapes, dingbats.
RANGES = [(0x20, 0x7E), (0xA0, 0xFF), (0x391, 0x3C9), (0x2010, 0x2044), (0x2070, 0x209C),
          (0x2100, 0x214F), (0x2190, 0x21FF), (0x2200, 0x22FF), (0x25A0, 0x25FF), (0x2605, 0x2606),
          (0x27A4, 0x27A4)]


def tables(data: bytes) -> dict[str, bytes]:
    count = struct.unpack(">H", data[4:6])[0]
    found = {}
    for i in range(count):
        tag, _, offset, length = struct.unpack(">4sIII", data[12 + 16 * i: 28 + 16 * i])
        found[tag.decode()] = data[offset: offset + length]
    return found


def cmap4(cmap: bytes) -> dict[int, int]:
    count = struct.unpack(">H", cmap[2:4])[0]
    for i in range(count):
        platform, encoding, offset = struct.unpack(">HHI", cmap[4 + 8 * i: 12 + 8 * i])
        if platform == 3 and encoding == 1 and struct.unpack(">H", cmap[offset: offset + 2])[0] == 4:
            sub = cmap[offset:]
            segs = struct.unpack(">H", sub[6:8])[0] // 2
            ends = struct.unpack(f">{segs}H", sub[14: 14 + 2 * segs])
            base = 16 + 2 * segs
            starts = struct.unpack(f">{segs}H", sub[base: base + 2 * segs])
            deltas = struct.unpack(f">{segs}h", sub[base + 2 * segs: base + 4 * segs])
            range_at = base + 4 * segs
            ranges = struct.unpack(f">{segs}H", sub[range_at: range_at + 2 * segs])
            out = {}
            for s in range(segs):
                for c in range(starts[s], ends[s] + 1):
                    if ranges[s] == 0:
                        glyph = (c + deltas[s]) & 0xFFFF
                    else:
                        at = range_at + 2 * s + ranges[s] + 2 * (c - starts[s])
                        glyph = struct.unpack(">H", sub[at: at + 2])[0]
                        glyph = (glyph + deltas[s]) & 0xFFFF if glyph else 0
                    if glyph:
                        out[c] = glyph
            return out
    raise SystemExit("no Unicode BMP cmap")


def widths(path: Path) -> dict[str, int]:
    t = tables(path.read_bytes())
    units = struct.unpack(">H", t["head"][18:20])[0]
    metrics = struct.unpack(">H", t["hhea"][34:36])[0]
    advances = [struct.unpack(">H", t["hmtx"][4 * i: 4 * i + 2])[0] for i in range(metrics)]
    glyphs = cmap4(t["cmap"])
    out = {}
    for lo, hi in RANGES:
        for c in range(lo, hi + 1):
            if c in glyphs:
                g = glyphs[c]
                out[chr(c)] = round(1000 * advances[min(g, metrics - 1)] / units)
    return out


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/truetype/dejavu")
    lines = ['"""Advance widths of DejaVu Sans, in thousandths of an em (written by docs/make_font_metrics.py)."""',
             "", "# fmt: off"]
    for name, file in (("BOOK", "DejaVuSans.ttf"), ("BOLD", "DejaVuSans-Bold.ttf")):
        table = widths(folder / file)
        lines.append(f"{name}: dict[int, int] = {{")
        items = [f"{ord(c)}: {w}" for c, w in table.items()]
        for i in range(0, len(items), 9):
            lines.append("    " + ", ".join(items[i: i + 9]) + ",")
        lines.append("}")
    lines.append("")
    Path(__file__).resolve().parent.parent.joinpath("ncdc/backend/draw/metrics.py").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
