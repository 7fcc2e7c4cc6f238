"""The drawing back end (`ncdc draw`): a spec's defs and modules as neural circuit diagrams, in SVG.

    svg = ncdc.backend.draw.draw(program, name="MultiHeadAttention", depth=1)

It reads the checked program (the typed IR) and nothing else: `diagram.py` turns each body into
steps and glyph blocks, `layout.py` places them in columns, `svg.py` writes the document.  Pure
Python, with fixed font metrics: the same spec gives the same bytes on every machine.
"""

from __future__ import annotations

from ... import ir
from ...sizes import format_size
from . import font
from .diagram import Context, bound, draw_body
from .svg import Canvas

TITLE = 15.0
NAME = 20.0  # the inputs' names at the left, as the paper writes Q, K, V
GAP = 36.0  # between the diagrams of a spec's definitions


class DrawError(Exception):
    """A definition that is not in the spec."""


def definitions(program: ir.Program) -> list:
    found = {f.name: f for f in program.functions} | {m.name: m for m in program.modules}
    return [found[n] for n in program.order if n in found]


def draw(program: ir.Program, name: str | None = None, depth: int = 1, kind: str | None = None,
         sizes: dict[str, int] | None = None) -> str:
    """The SVG of the named def or module (`kind` "def" or "module" restricts the name), else of
    every one in spec order; calls are expanded `depth` levels deep.  With `sizes`, wires show
    numbers instead of size names: those given, else a module's hyperparameters' defaults."""
    chosen = definitions(program)
    if name is not None:
        chosen = [d for d in chosen if d.name == name and
                  (kind is None or (kind == "module") == isinstance(d, ir.Module))]
        if not chosen:
            what = {"def": "def", "module": "module"}.get(kind or "", "def or module")
            have = ", ".join(d.name for d in definitions(program)) or "none"
            raise DrawError(f"no {what} `{name}` in {program.path} (it has: {have})")
    cv = Canvas()
    y, width = 8.0, 0.0
    constants = {c.name: c.value.constant for c in program.constants if c.value.constant is not None}
    for d in chosen:
        fn, module = (d.forward, d) if isinstance(d, ir.Module) else (d, None)
        numbers = None if sizes is None else \
            bound(module, None, sizes, constants) | sizes if module else dict(sizes)
        cx = Context(program, depth, numbers)
        frag = draw_body(cx, fn, module, 0)
        title = _title(d)
        cv.text(8, y + TITLE, [(title, "")], TITLE, cls="title")
        top = y + TITLE + 14
        left = 8 + max((font.width([(p.name, "")], NAME) for p in fn.params), default=0) + 8
        for p, ys in zip(fn.params, frag.in_ys):
            cy = (ys[0] + ys[-1]) / 2 + top
            cv.text(left - 6, cy + 7, [(p.name, "")], NAME, "end", cls="param", italic=True,
                    title=f"{p.name} : {p.type}")
        frag.draw(cv, left, top)
        width = max(width, left + frag.width + 8, font.width([(title, "")], TITLE) + 16)
        y = top + frag.height + GAP
    return cv.document(width, y - GAP + 8, f"{program.path}" + (f": {name}" if name else ""))


def _title(d) -> str:
    if isinstance(d, ir.Module):
        args = ", ".join(h.name + (f"={format_size(h.default_size)}" if h.default_size is not None else
                                   f"={h.default}" if h.default is not None else "") for h in d.hparams)
        return f"{d.name}({args})"
    return d.name
