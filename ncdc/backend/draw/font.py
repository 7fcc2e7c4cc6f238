"""Text measured with the fixed advance widths of DejaVu Sans (`metrics.py`): the geometry of a
diagram never depends on the fonts of the machine that draws or shows it."""

from __future__ import annotations

from .metrics import BOLD, BOOK

FAMILY = "DejaVu Sans, Verdana, sans-serif"
SCRIPT = 0.7  # superscripts and subscripts, as a fraction of the text's size
ASCENT, DESCENT = 0.78, 0.24  # of the em, above and below the baseline (DejaVu Sans' digits and descenders)
_FALLBACK = 0.65  # a character the table lacks: a wide letter, never too narrow


def advance(text: str, size: float, bold: bool = False) -> float:
    table = BOLD if bold else BOOK
    return sum(table.get(ord(c), 1000 * _FALLBACK) for c in text) * size / 1000


def width(runs, size: float) -> float:
    """The width of text given as runs `(text, style)`: style "" , "b" (bold), "sup" or "sub"."""
    return sum(advance(t, size * (SCRIPT if s in ("sup", "sub") else 1), s == "b") for t, s in runs)
