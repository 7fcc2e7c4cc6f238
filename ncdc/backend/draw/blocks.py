"""Blocks: what one step of a diagram draws in its column, between its input and output wires.

A block knows its width, its caption (drawn above it) and the least height of its body; the column
layout (`layout.py`) places its input and output wires, stacked from the top of the body, and then
asks it to draw itself there.  Blocks draw the paper's glyphs: boxes, cups, dots, bars, triangles,
circles, the ★ pictogram, arrows and frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from . import font
from .svg import Canvas, num

PITCH = 20.0  # between the wires of one tensor
WIRE_TOP = 14.0  # from the top of a tensor's place to its first wire (room for the label above it)
SEG_GAP = 14.0  # between tensors of a tuple (a dashed line runs in the middle)
CAPTION = 16.0  # the band above a block for its name
LABEL = 12.0  # font size of wire labels
SMALL = 11.0  # captions
Runs = list  # [(text, style)]


def stack_height(counts: list[int]) -> float:
    return sum(max(n, 1) * PITCH for n in counts) + SEG_GAP * max(len(counts) - 1, 0)


def stack_ys(top: float, counts: list[int]) -> list[list[float]]:
    """The y of each wire of tensors of `counts` wires stacked from `top`."""
    out, y = [], top
    for n in counts:
        out.append([y + WIRE_TOP + PITCH * j for j in range(max(n, 1))])
        y += max(n, 1) * PITCH + SEG_GAP
    return out


def curve(x0: float, y0: float, x1: float, y1: float) -> str:
    """A smooth S from (x0, y0) to (x1, y1), horizontal at both ends (a path's continuation)."""
    if abs(y0 - y1) < 0.05:
        return f"L{num(x1)} {num(y1)}"
    xm = (x0 + x1) / 2
    return f"C{num(xm)} {num(y0)} {num(xm)} {num(y1)} {num(x1)} {num(y1)}"


def link(cv: Canvas, x0, y0, x1, y1, title=None, cls="through") -> None:
    cv.path(f"M{num(x0)} {num(y0)}" + curve(x0, y0, x1, y1), cls, title)


LONGEST = 18  # characters of a wire's label; a longer size is cut short (its title has it whole)


def text_runs(text: str) -> Runs:
    """A size as the paper writes it: `x**2` as x², `k*h` as k·h."""
    if len(text) > LONGEST:
        text = text[: LONGEST - 1].rstrip() + "…"
    runs: Runs = []
    i = 0
    while i < len(text):
        j = text.find("**", i)
        if j < 0:
            runs.append((text[i:], ""))
            break
        runs.append((text[i:j], ""))
        k = j + 2
        while k < len(text) and (text[k].isalnum() or text[k] == "_"):
            k += 1
        runs.append((text[j + 2:k], "sup"))
        i = k
    return [(t.replace("*", "·").replace("//", "/"), s) for t, s in runs if t]


@dataclass
class Block:
    """One step's drawing.  `draw(cv, x, body_top, body_bottom, ins, outs)` gets the y of every
    input and output wire; wires reach the block's left and right edges there."""

    width: float
    ins: list[int]
    outs: list[int]
    draw: Callable
    caption: Runs | None = None
    body: float = 0.0  # least body height
    kind: str = ""  # what it is, for the diagram's counts
    swapped: Callable | None = None  # a commutative step of two inputs: the block taking them swapped
    # For a block that meets some axes at one bar: whether the axes [a, b) of its input (or output, with
    # `out`) may stay one wire there, the paper's x̄; None where the block's kind decides.
    joins: Callable | None = None

    def body_height(self) -> float:
        return max(stack_height(self.ins) if self.ins else 0, stack_height(self.outs) if self.outs else 0,
                   self.body) + 4


def caption_width(runs: Runs | None) -> float:
    return font.width(runs, SMALL) + 8 if runs else 0


def through(cv: Canvas, x0: float, x1: float, sources: list[float], target: float, title=None) -> None:
    """Wires passing a block: one goes straight across; several meet at a dot (a diagonal)."""
    if len(sources) == 1:
        link(cv, x0, sources[0], x1, target, title)
        return
    xm = (x0 + x1) / 2
    for y in sources:
        link(cv, x0, y, xm, target, title)
    cv.path(f"M{num(xm)} {num(target)}L{num(x1)} {num(target)}", "through", title)
    cv.circle(xm, target, 3.2, "dot", title)


@dataclass
class Lift:
    """How a call's arguments meet its callee: `own[i]` the axes of argument i the callee acts on,
    `own_out[o]` the axes of result o it makes, and `passing`: (axis name, [(argument, axis)],
    (result, axis)) for every broadcast wire that runs across."""

    own: list[list[int]]
    own_out: list[list[int]]
    passing: list[tuple[str, list[tuple[int, int]], list[tuple[int, int]]]] = field(default_factory=list)

    @staticmethod
    def plain(ins: list[int], outs: list[int]) -> Lift:
        return Lift([list(range(n)) for n in ins], [list(range(n)) for n in outs])


def draw_passing(cv: Canvas, lift: Lift, x0: float, x1: float, ins, outs, title=None) -> None:
    for _name, sources, targets in lift.passing:
        ys = [ins[i][a] for i, a in sources]
        for o, a in targets:
            through(cv, x0, x1, ys, outs[o][a], title)
