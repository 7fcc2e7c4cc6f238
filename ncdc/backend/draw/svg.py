"""SVG emission: a canvas of the diagram's shapes, written as one standalone SVG document.

Every shape is one element with a class that says what it is (`wire`, `box`, `learned`, `frame`,
`cup`, `dot`, ...) and a `<title>` with its type and spec line, so that a browser explains it on
hover and tests can read the geometry back.  Coordinates are rounded to 0.1 so output is stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from . import font

STYLE = (
    "text{font-family:" + font.FAMILY + ";fill:#111}"
    ".wire,.through{fill:none;stroke:#222;stroke-width:1.3}"
    ".wire.joined,.through.joined{stroke-width:4.4}"
    ".core{fill:none;stroke:#fff;stroke-width:1.8}"
    ".sep{stroke:#222;stroke-width:1.4;stroke-dasharray:6 4}"
    ".box{fill:#eef2f7;stroke:#333;stroke-width:1}"
    ".learned{fill:#e8eef0;stroke:#111;stroke-width:2.4}"
    ".module{fill:#c9e9a0;stroke:#111;stroke-width:2}"
    ".side{fill:#a9d47a;stroke:#111;stroke-width:1.2}"
    ".frame{fill:#f3f1fa;fill-opacity:.55;stroke:#7a70a8;stroke-width:1.2}"
    ".repeat{fill:none;stroke:#111;stroke-width:3}"
    ".cup{fill:none;stroke:#222;stroke-width:1.3}"
    ".dot{fill:#111}"
    ".plus{stroke:#111;stroke-width:1.6}"
    ".bar{fill:#111}"
    ".tri{fill:#fff;stroke:#111;stroke-width:1.3}"
    ".norm{fill:#fff;stroke:#111;stroke-width:2.2}"
    ".conv{fill:#aee0fb;stroke:#111;stroke-width:1.2}"
    ".arrow{fill:none;stroke:#111;stroke-width:1.4}"
    ".head{fill:#111}"
    ".end{stroke:#222;stroke-width:1.6}"
    ".pointer{fill:#fff6c8;stroke:#333;stroke-width:1}"
    ".band{fill:#fde7e7}"
    ".scale{fill:#fff6b0}"
    ".softmax{fill:#d9f0dc}"
)


def num(v: float) -> str:
    text = f"{round(v, 1):.1f}"
    return text[:-2] if text.endswith(".0") else text


@dataclass
class Canvas:
    """Shapes in drawing order (backgrounds first); each is an SVG element's text."""

    back: list[str] = field(default_factory=list)
    front: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    fragments: int = 0  # fragments drawn so far: each names its labels apart
    _through: dict = field(default_factory=dict)  # where each passing line is, to draw a second one double

    def _el(self, layer: list[str], tag: str, cls: str, title: str | None, attrs: dict) -> None:
        a = "".join(f' {k}="{v}"' for k, v in attrs.items())
        if title:
            layer.append(f'<{tag} class="{cls}"{a}><title>{escape(title)}</title></{tag}>')
        else:
            layer.append(f'<{tag} class="{cls}"{a}/>')

    def rect(self, x, y, w, h, cls, title=None, back=True, rx=0):
        attrs = {"x": num(x), "y": num(y), "width": num(w), "height": num(h)}
        if rx:
            attrs["rx"] = num(rx)
        self._el(self.back if back else self.front, "rect", cls, title, attrs)

    def path(self, d: str, cls: str, title=None, back=False, **extra):
        layer = self.back if back else self.front
        if cls == "through" and (d, back) in self._through:  # two axes of one wire, x̄: a double line
            at = self._through.pop((d, back))
            layer[at] = layer[at].replace('class="through"', 'class="through joined"', 1) + \
                f'<path class="core" d="{d}"/>'
            return
        if cls == "through":
            self._through[d, back] = len(layer)
        self._el(layer, "path", cls, title, {"d": d, **extra})

    def circle(self, x, y, r, cls, title=None):
        self._el(self.front, "circle", cls, title, {"cx": num(x), "cy": num(y), "r": num(r)})

    def line(self, x1, y1, x2, y2, cls, title=None):
        attrs = {"x1": num(x1), "y1": num(y1), "x2": num(x2), "y2": num(y2)}
        self._el(self.front, "line", cls, title, attrs)

    def text(self, x, y, runs, size, anchor="start", cls="t", title=None, italic=False, ident=None) -> None:
        """Text as runs (text, style); `cls` "label" marks a wire's label."""
        body = []
        for t, s in runs:
            if s in ("sup", "sub"):
                shift = "super" if s == "sup" else "sub"
                small = num(size * font.SCRIPT)
                body.append(f'<tspan font-size="{small}" baseline-shift="{shift}">{escape(t)}</tspan>')
            elif s == "b":
                body.append(f'<tspan font-weight="bold">{escape(t)}</tspan>')
            else:
                body.append(escape(t))
        attrs = f'class="{cls}" x="{num(x)}" y="{num(y)}" font-size="{num(size)}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if italic:
            attrs += ' font-style="italic"'
        if ident:
            attrs += f' id="{ident}"'
        inner = (f"<title>{escape(title)}</title>" if title else "") + "".join(body)
        self.texts.append(f"<text {attrs}>{inner}</text>")

    def document(self, width: float, height: float, title: str) -> str:
        w, h = num(width), num(height)
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" data-generator="ncdc" width="{w}" height="{h}" '
                f'viewBox="0 0 {w} {h}">'
                f"<title>{escape(title)}</title><style>{STYLE}</style>"
                f'<rect class="bg" width="{w}" height="{h}" fill="#fff"/>')
        return "\n".join([head, *self.back, *self.front, *self.texts, "</svg>"]) + "\n"
