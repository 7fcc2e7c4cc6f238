"""`ncdc draw`: every spec draws, deterministically; the geometry is read back from the SVG itself.

The checks parse the SVG: every wire has its label, no two boxes or labels overlap, no wire runs
through a box, every wire ends at a port, and the numbers of boxes, cups, dots and frames are what
the typed IR implies.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import ncdc
from ncdc import ir
from ncdc.backend.draw import DrawError, draw, font
from ncdc.backend.draw import diagram
from ncdc.backend.draw.diagram import joined_run
from ncdc.cli import main
from tests.update_golden import DRAWN, generate_svg

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.ncd"))
GOLDEN = ROOT / "tests" / "golden" / "draw"
NS = "{http://www.w3.org/2000/svg}"
DEPTHS = (0, 1, 10)


@pytest.fixture(scope="module")
def programs():
    return {p.stem: ncdc.check_file(p) for p in SPECS}


@pytest.fixture(scope="module")
def drawings(programs):
    return {(stem, depth): draw(program, depth=depth) for stem, program in programs.items() for depth in DEPTHS}


def classes(el) -> set[str]:
    return set((el.get("class") or "").split())


def elements(svg: str):
    return list(ET.fromstring(svg).iter())


# ---- reading geometry back -----------------------------------------------------------------------


def path_points(d: str, samples: int = 12) -> list[tuple[float, float]]:
    """Points along a path of M, L, C and A commands (arcs by their end points)."""
    points: list[tuple[float, float]] = []
    for cmd, args in re.findall(r"([MLCAHVlhvzQ])([^MLCAHVlhvzQ]*)", d):
        v = [float(t) for t in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if cmd in "ML":
            points.append((v[0], v[1]))
        elif cmd == "C":
            p0 = points[-1]
            p1, p2, p3 = (v[0], v[1]), (v[2], v[3]), (v[4], v[5])
            for i in range(1, samples + 1):
                t = i / samples
                a, b, c, e = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t ** 3
                points.append((a * p0[0] + b * p1[0] + c * p2[0] + e * p3[0],
                               a * p0[1] + b * p1[1] + c * p2[1] + e * p3[1]))
        elif cmd == "A":
            points.append((v[5], v[6]))
    return points


def dense(points, step: float = 2.0):
    out = []
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        n = max(1, int(max(abs(x1 - x0), abs(y1 - y0)) / step))
        out += [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(n)]
    return out + points[-1:]


def text_box(el) -> tuple[float, float, float, float]:
    size = float(el.get("font-size"))
    runs = []
    for part in el.iter():
        if part.tag == NS + "title":
            continue
        style = "sup" if part.get("baseline-shift") else ("b" if part.get("font-weight") else "")
        if part.text and part is not el or (part is el and el.text):
            runs.append((part.text or "", style))
    runs = [(t, s) for t, s in runs if t]
    w = font.width(runs, size)
    x, y = float(el.get("x")), float(el.get("y"))
    anchor = el.get("text-anchor", "start")
    x0 = x - w / 2 if anchor == "middle" else x - w if anchor == "end" else x
    return (x0, y - font.ASCENT * size, x0 + w, y + font.DESCENT * size)


def rect_box(el):
    x, y = float(el.get("x")), float(el.get("y"))
    return (x, y, x + float(el.get("width")), y + float(el.get("height")))


def overlap(a, b, eps=0.5) -> bool:
    return a[0] < b[2] - eps and b[0] < a[2] - eps and a[1] < b[3] - eps and b[1] < a[3] - eps


def inside(p, box, eps=1.5) -> bool:
    return box[0] + eps < p[0] < box[2] - eps and box[1] + eps < p[1] < box[3] - eps


BOXES = {"box", "learned", "module", "pointer"}


def geometry(svg: str):
    els = elements(svg)
    boxes = [(rect_box(e), e) for e in els if e.tag == NS + "rect" and classes(e) & BOXES]
    frames = [rect_box(e) for e in els if e.tag == NS + "rect" and "frame" in classes(e)]
    labels = [(text_box(e), e) for e in els if e.tag == NS + "text" and classes(e) & {"label", "skip"}]
    wires = [e for e in els if e.tag == NS + "path" and "wire" in classes(e)]
    return els, boxes, frames, labels, wires


# ---- every spec ------------------------------------------------------------------------------------


def test_every_spec_draws_at_every_depth_deterministically(programs, drawings):
    for (stem, depth), svg in drawings.items():
        assert svg == draw(programs[stem], depth=depth), f"{stem} at depth {depth} is not deterministic"
        ET.fromstring(svg)  # well-formed XML


def test_every_wire_has_its_label(drawings):
    for key, svg in drawings.items():
        els, _, _, labels, wires = geometry(svg)
        ids = {e.get("id") for _, e in labels if "label" in classes(e)}
        assert wires, key
        for w in wires:
            assert w.get("data-label") in ids, f"{key}: a wire without a label: {w.get('d')[:40]}"
            assert w.find(NS + "title") is not None


def test_no_two_boxes_or_labels_overlap(drawings):
    for key, svg in drawings.items():
        _, boxes, _, labels, _ = geometry(svg)
        shapes = [b for b, _ in boxes] + [b for b, _ in labels]
        for i, a in enumerate(shapes):
            for b in shapes[i + 1:]:
                assert not overlap(a, b), f"{key}: {a} overlaps {b}"


def test_no_wire_runs_through_a_box(drawings):
    for key, svg in drawings.items():
        _, boxes, _, _, wires = geometry(svg)
        for w in wires:
            for p in dense(path_points(w.get("d"))):
                for box, _ in boxes:
                    assert not inside(p, box), f"{key}: a wire runs through the box at {box}: {w.get('d')[:60]}"


def columns_and_widest_section(svg: str) -> tuple[int, int]:
    """From the SVG alone: the number of columns of boxes (their left edges, 10 px apart or more) and
    the most wires that any vertical line crosses (the widest section)."""
    root = ET.fromstring(svg)
    _, boxes, _, _, wires = geometry(svg)
    columns, last = 0, -1e9
    for x in sorted(b[0] for b, _ in boxes):
        if x - last > 10:
            columns, last = columns + 1, x
    spans = [(min(p[0] for p in pts), max(p[0] for p in pts)) for w in wires if (pts := path_points(w.get("d")))]
    widest = max((sum(a <= x <= b for a, b in spans) for x in range(0, int(float(root.get("width"))), 4)), default=0)
    return max(columns, 1), max(widest, 1)


def test_the_picture_is_compact(drawings):
    """Width in proportion to the steps, height to the wires of the widest section: a bound per column
    and per wire, the widest a step takes (a frame and its labels) and the tallest a wire's lane takes
    (its label, and a frame's header once per nesting), that no spec at any depth exceeds."""
    for key, svg in drawings.items():
        root = ET.fromstring(svg)
        columns, widest = columns_and_widest_section(svg)
        assert float(root.get("width")) <= 420 * columns, f"{key}: {root.get('width')} px for {columns} columns"
        assert float(root.get("height")) <= 130 * widest, f"{key}: {root.get('height')} px for {widest} wires"


def test_every_wire_ends_at_a_port_or_the_edge(drawings):
    for key, svg in drawings.items():
        els, boxes, frames, _, wires = geometry(svg)
        ports = []
        for e in els:
            if e.tag == NS + "path" and classes(e) & {"through", "cup"}:
                pts = path_points(e.get("d"))
                ports += [pts[0], pts[-1]]
            elif e.tag == NS + "circle":
                ports.append((float(e.get("cx")), float(e.get("cy"))))
            elif e.tag == NS + "text" and "skip" in classes(e):  # -> C (saved), C -> (loaded)
                x, y = float(e.get("x")), float(e.get("y")) - 5
                side = 2 if e.get("text-anchor") == "end" else -2
                ports += [(x + side, y + d) for d in range(-60, 61)]
            elif e.tag == NS + "line" and "end" in classes(e):
                ports.append((float(e.get("x1")), (float(e.get("y1")) + float(e.get("y2"))) / 2))
        edges = [b for b, _ in boxes] + frames
        # Each definition's diagram (below its title) has its own left and right edges.
        tops = sorted(float(e.get("y")) for e in els if e.tag == NS + "text" and "title" in classes(e)) + [1e9]

        def band(y, tops=tops):
            return next(i for i in range(len(tops) - 1) if y < tops[i + 1])
        sides: dict = {}
        for w in wires:
            for p in path_points(w.get("d")):
                lo, hi = sides.get(band(p[1]), (1e9, -1e9))
                sides[band(p[1])] = (min(lo, p[0]), max(hi, p[0]))
        for w in wires:
            pts = path_points(w.get("d"))
            for p in (pts[0], pts[-1]):
                left, right = sides[band(p[1])]
                ok = (abs(p[0] - left) < 0.2 or abs(p[0] - right) < 0.2
                      or any(abs(p[0] - q[0]) < 0.2 and abs(p[1] - q[1]) < 0.2 for q in ports)
                      or any(abs(p[0] - e[0]) < 0.2 or abs(p[0] - e[2]) < 0.2 for e in edges
                             if e[1] <= p[1] <= e[3]))
                # A def's inputs start at its own left edge inside a frame; its results end at its right.
                ok = ok or any(e[0] < p[0] < e[2] and e[1] < p[1] < e[3] for e in frames)
                assert ok, f"{key}: a wire ends nowhere, at {p}"


def segments(d: str) -> list:
    points = path_points(d, 8)
    return [(a, b) for a, b in zip(points, points[1:]) if a != b]


def crossing(p, q, r, s) -> bool:
    """Whether segments pq and rs cross properly (touching, as a copy leaving its wire does, is not)."""
    def side(a, b, c):
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return side(p, q, r) * side(p, q, s) < -1e-6 and side(r, s, p) * side(r, s, q) < -1e-6


def crossings(svg: str) -> int:
    """How many times two wires cross between the columns, counted on the SVG's own paths."""
    wires = [w for w in (segments(e.get("d")) for e in elements(svg) if e.tag == NS + "path"
                         and "wire" in classes(e)) if w]
    spans = [(min(min(a[0], b[0]) for a, b in w), max(max(a[0], b[0]) for a, b in w)) for w in wires]
    found = 0
    for i, w in enumerate(wires):
        for j in range(i + 1, len(wires)):
            if spans[i][0] > spans[j][1] or spans[j][0] > spans[i][1]:
                continue
            found += sum(crossing(p, q, r, s) for p, q in w for r, s in wires[j]
                         if min(p[0], q[0]) <= max(r[0], s[0]) and min(r[0], s[0]) <= max(p[0], q[0]))
    return found


def forced_crossings(program: ir.Program, fn: ir.Function, depth: int, max_depth: int,
                     inherited: frozenset[str] = frozenset()) -> int:
    """The crossings the data flow forces, from the IR alone.  A tensor drawn as n wires and read r
    times is r bundles of n wires, each but the first leaving the n points of another (a copy is a
    dot on each wire); two bundles from the same points end apart, one above the other, so they
    cross n(n-1)/2 times.  (A transpose crosses its wires inside its block, not between columns.)"""
    images = image_axes(program, fn, inherited)
    reads: dict = {}
    found = 0
    for node in ir.walk(fn.body):
        if isinstance(node, ir.Read):
            reads[node.local] = reads.get(node.local, 0) + 1
        elif isinstance(node, ir.Call) and depth < max_depth:
            found += _forced_in(program, node.target, depth, max_depth, callee_images(node, images), images)
    for local, r in reads.items():
        n = wires(local.type, images)
        found += (r - 1) * n * (n - 1) // 2
    return found


def _forced_in(program: ir.Program, target, depth: int, max_depth: int, inherited: frozenset[str],
               images: frozenset[str]) -> int:
    """The forced crossings inside an expanded call (a part of a seq or a repetition keeps the image
    axes of the body that calls it)."""
    if isinstance(target, ir.Function):
        return forced_crossings(program, target, depth + 1, max_depth, inherited)
    if isinstance(target, ir.Instance):
        module = next(m for m in program.modules if m.name == target.module)
        return forced_crossings(program, module.forward, depth + 1, max_depth, inherited)
    parts = target.parts if isinstance(target, ir.Seq) else [target.body or target.instances[0]] \
        if isinstance(target, ir.Repeat) and (target.body or target.instances) else []
    return sum(_forced_in(program, part, depth, max_depth, images & {g.name for g in part.signature.generics}, images)
               for part in parts if part.signature is not None)


PAPER = ("attention", "mlp", "resnet", "unet", "visual_attention")  # Figs 19-21, 26-28


def test_the_papers_diagrams_cross_only_where_the_data_flow_must(programs, drawings):
    for stem in PAPER:
        for depth in DEPTHS:
            program = programs[stem]
            forced = sum(forced_crossings(program, d.forward if isinstance(d, ir.Module) else d, 0, depth)
                         for d in ncdc.backend.draw.definitions(program))
            assert crossings(drawings[stem, depth]) <= forced, f"{stem} at depth {depth}: more than {forced}"


# The other specs at depths 0, 1 and 10: a bound that a layout change must not exceed.  They cross
# more than `forced_crossings` where a tensor is read several times in one column (three bundles
# from the same points cross pairwise) and fewer where a skip saves and reloads a tensor.
CROSSINGS = {"masked_attention": (6, 6, 6), "mixtral": (6, 11, 11), "vit": (4, 8, 9), "transformer": (32, 87, 179),
             "gpt2": (24, 48, 74), "llama": (44, 88, 138), "rotary": (1, 2, 2), "deepseek": (34, 65, 79)}


def test_crossings_stay_within_their_bound(drawings):
    for (stem, depth), svg in drawings.items():
        if stem not in PAPER:
            bound = CROSSINGS.get(stem, (0, 0, 0))[DEPTHS.index(depth)]
            assert crossings(svg) <= bound, f"{stem} at depth {depth}: more crossings than {bound}"


def test_crossings_are_counted():
    a, b = "M0 0L10 10", "M0 10L10 0"
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg"><path class="wire" d="{a}"/><path class="wire" d="{b}"/>'
           '<path class="wire" d="M0 0L10 0"/></svg>')
    assert crossings(svg) == 1  # the two diagonals; the wire they touch at its end is no crossing


# ---- counts the IR implies ---------------------------------------------------------------------------


def image_axes(program: ir.Program, fn: ir.Function, inherited: frozenset[str]) -> frozenset[str]:
    """The sizes of a body that are an image's axes, drawn as one wire: what its caller's image axes
    are called in it, and those of the convolutions in it (see `diagram.image_axes`)."""
    return inherited | diagram.image_axes(program, fn)


def callee_images(node: ir.Call, images: frozenset[str]) -> frozenset[str]:
    return frozenset(sym.name for sym, size in node.instance.items() if str(size) in images)


def wires(t, images: frozenset[str]) -> int:
    """How many wires a tensor of this type is drawn as: one per axis, adjacent image axes one."""
    if not isinstance(t, ir.TensorType):
        return 1
    run = joined_run([str(a) for a in t.axes], images)
    return max(len(t.axes), 1) - (run[1] - run[0] - 1 if run else 0)


def expected(program: ir.Program, fn: ir.Function, depth: int, max_depth: int, counts: dict,
             inherited: frozenset[str] = frozenset()) -> None:
    """The shapes a body's diagram must hold, counted from the IR alone."""
    images = image_axes(program, fn, inherited)
    reads: dict = {}
    for node in ir.walk(fn.body):
        if isinstance(node, ir.Read):
            reads[node.local] = reads.get(node.local, 0) + 1
        elif isinstance(node, ir.Einsum):
            labels = [str(lb) for i in node.inputs for lb in i]
            out = [str(lb) for lb in node.output]
            for lb in set(labels):
                if lb not in out and labels.count(lb) >= 2:
                    counts["cup"] += 1
        elif isinstance(node, ir.Index | ir.LearnedTensor | ir.Eye):
            counts["box"] += 1
        elif isinstance(node, ir.Call):
            target = node.target
            if isinstance(target, ir.Layer):
                counts["box"] += node.target.op.startswith(("Linear", "Conv", "MaxPool", "AvgPool", "Adaptive"))
            elif isinstance(target, ir.Function) and depth < max_depth:
                counts["frame"] += 1
                expected(program, target, depth + 1, max_depth, counts, callee_images(node, images))
            elif isinstance(target, ir.Instance) and depth < max_depth:
                counts["frame"] += 1
                module = next(m for m in program.modules if m.name == target.module)
                expected(program, module.forward, depth + 1, max_depth, counts, callee_images(node, images))
            elif isinstance(target, (ir.Function, ir.Box, ir.Instance)):
                counts["box"] += 1
    for local, n in reads.items():
        counts["copy"] += (n - 1) * wires(local.type, images)


@pytest.mark.parametrize("stem", ["attention", "composition", "broadcasting", "einsum", "linear_algebra",
                                  "mlp", "unet", "indexes", "elementwise"])
@pytest.mark.parametrize("depth", [0, 1])
def test_counts_match_the_ir(programs, drawings, stem, depth):
    program = programs[stem]
    counts = {"cup": 0, "box": 0, "frame": 0, "copy": 0}
    for d in ncdc.backend.draw.definitions(program):
        expected(program, d.forward if isinstance(d, ir.Module) else d, 0, depth, counts)
    els = elements(drawings[stem, depth])
    found = {"cup": sum(1 for e in els if e.tag == NS + "path" and "cup" in classes(e)),
             "box": sum(1 for e in els if e.tag == NS + "rect" and classes(e) & BOXES),
             "frame": sum(1 for e in els if e.tag == NS + "rect" and "frame" in classes(e)),
             "copy": sum(1 for e in els if e.tag == NS + "circle" and "copy" in classes(e))}
    assert found == counts


def test_attention_draws_the_papers_glyphs(programs):
    svg = draw(programs["attention"], "ScaledDotProductAttention")
    els = elements(svg)
    assert sum(1 for e in els if "cup" in classes(e)) == 2  # k, then x, contracted
    assert sum(1 for e in els if "tri" in classes(e)) == 1  # SoftMax over x
    assert "−1/2" in svg and "∗k" in svg  # the scale arrow *k^-1/2
    # Fig 20: K's wires cross so that its k lies next to Q's, and the arrow comes out of their cup.
    cup = next(e for e in els if "cup" in classes(e) and e.find(NS + "title").text.startswith("contract k"))
    (x0, y0), (_, y1) = path_points(cup.get("d"))
    arrow = next(e for e in els if "arrow" in classes(e))
    assert path_points(arrow.get("d"))[0] == pytest.approx((x0 + (y1 - y0) / 2, (y0 + y1) / 2), abs=0.1)
    mha = draw(programs["attention"], "MultiHeadAttention", depth=1)
    assert sum(1 for e in elements(mha) if "frame" in classes(e)) == 1
    assert "L" in mha and mha.count('class="learned"') == 4


def test_long_wires_are_labelled_again(programs):
    """V runs alongside two columns to the last contraction: labelled again there, as in Fig 20."""
    svg = draw(programs["attention"], "ScaledDotProductAttention")
    v = [e for e in elements(svg) if e.tag == NS + "text" and "label" in classes(e)
         and e.find(NS + "title").text.startswith("V :")]
    assert len(v) == 4 and len({e.get("id") for e in v}) == 4


def test_repetitions_collapse_with_their_range(programs):
    svg = draw(programs["resnet"], "Block", depth=0)
    assert "i = 2 … N" in svg and "× N - 1" in svg


def test_for_loops_draw_as_a_repetition():
    program = ncdc.check_source("def powers(X: n) -> n:\n    Y = X\n    for i in 2..4:\n        Y = Y * X\n"
                                "    return Y\n", "loop.ncd")
    svg = draw(program)
    assert "i = 2 … 4" in svg and "× 3" in svg
    assert sum(1 for e in elements(svg) if "repeat" in classes(e)) == 2  # the two parentheses
    drawings = {("loop", 0): svg}
    test_every_wire_has_its_label(drawings)
    test_no_two_boxes_or_labels_overlap(drawings)
    test_no_wire_runs_through_a_box(drawings)
    test_every_wire_ends_at_a_port_or_the_edge(drawings)


def wire_labels(svg: str) -> list[str]:
    return ["".join(e.itertext()).split("]")[-1] for e in elements(svg) if e.tag == NS + "text"
            and "label" in classes(e)]


def test_sizes_put_numbers_on_the_wires(programs, tmp_path, capsys):
    assert "hidden" in wire_labels(draw(programs["mlp"]))
    labels = wire_labels(draw(programs["mlp"], sizes={}))  # the hyperparameters' defaults: Fig 19
    assert {"28", "512", "10"} <= set(labels) and "hidden" not in labels
    assert "7" in wire_labels(draw(programs["mlp"], sizes={"w": 7}))
    out = tmp_path / "mlp.svg"
    assert main(["draw", str(ROOT / "specs/mlp.ncd"), "--sizes", "hidden=64", "-o", str(out)]) == 0
    assert ">64<" in out.read_text() and ">28<" in out.read_text()
    assert main(["draw", str(ROOT / "specs/mlp.ncd"), "--sizes", "hiden=64"]) == 2
    assert "did you mean `hidden`" in capsys.readouterr().err


def test_sizes_bind_a_callees_hyperparameters_to_its_arguments(programs):
    """Inside an expanded MultiheadAttention(m=d_model, h=nhead), m is d_model's number, h nhead's,
    and its derived k = m // h their quotient; the def it calls shows them too."""
    svg = draw(programs["transformer"], "TransformerEncoderLayer", depth=2, sizes={"d_model": 64, "nhead": 4, "t": 10})
    labels = set(wire_labels(svg))
    assert {"64", "16", "4", "10"} <= labels and not labels & {"m", "k", "h", "d_model", "nhead", "t", "y", "x"}


def test_an_images_axes_travel_as_one_wire(programs):
    """Fig 26's x̄: a residual's image axes H W are one double wire, its sizes in its hover title;
    with numbers for them, it is labelled as a power, as Fig 19 writes 28²."""
    svg = draw(programs["resnet"], "IdentityResidual", depth=0)
    joined = [e for e in elements(svg) if e.tag == NS + "path" and {"wire", "joined"} <= classes(e)]
    assert joined and all("n1 H W" in e.find(NS + "title").text for e in joined)
    doubled = [e for e in elements(svg) if e.tag == NS + "path" and "joined" in classes(e)]  # wires, passing lines
    assert sum(1 for e in elements(svg) if "core" in classes(e)) == len(doubled) > len(joined)
    labels = wire_labels(svg)
    assert "x̄" in labels and "H" not in labels and "W" not in labels
    assert "322" in wire_labels(draw(programs["resnet"], "IdentityResidual", depth=0, sizes={"H": 32, "W": 32}))
    # Without a convolution there is no image: attention's axes stay apart.
    assert not [e for e in elements(draw(programs["attention"])) if "joined" in classes(e)]


# ---- golden files, size, the command -------------------------------------------------------------------

@pytest.mark.parametrize("stem", DRAWN)
def test_golden_svg(stem):
    assert generate_svg(f"specs/{stem}.ncd") == (GOLDEN / f"{stem}.svg").read_text(encoding="utf-8"), \
        f"refresh with python -m tests.update_golden and review the diff of tests/golden/draw/{stem}.svg"


def test_vit_at_full_depth_is_small(drawings):
    assert len(drawings["vit", 10].encode()) < 200_000


def test_the_command(tmp_path, capsys):
    out = tmp_path / "mha.svg"
    assert main(["draw", str(ROOT / "specs/attention.ncd"), "--module", "MultiHeadAttention", "-o", str(out)]) == 0
    assert out.read_text().startswith("<svg")
    assert main(["draw", str(ROOT / "specs/attention.ncd"), "--module", "MultiHeadAttention", "-o", str(out)]) == 0
    mine = tmp_path / "mine.svg"
    mine.write_text("hand drawn")
    assert main(["draw", str(ROOT / "specs/attention.ncd"), "-o", str(mine)]) == 2
    assert mine.read_text() == "hand drawn"
    assert main(["draw", str(ROOT / "specs/attention.ncd"), "--def", "Nope"]) == 2
    assert "no def `Nope`" in capsys.readouterr().err
    bad = tmp_path / "bad.ncd"
    bad.write_text("def f(X: a) -> b:\n    return X\n")
    assert main(["draw", str(bad)]) == 1


def test_draw_names_a_missing_definition(programs):
    with pytest.raises(DrawError):
        draw(programs["mlp"], "Nope")


def test_loaded_specs_display_as_diagrams():
    models = ncdc.load(ROOT / "specs/mlp.ncd")
    assert models._repr_svg_().startswith("<svg")
    assert "BasicImageRecogniser" in models.BasicImageRecogniser()._repr_svg_()


def test_the_gallery_is_current():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(ROOT / "docs/gallery.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, "run `python docs/gallery.py`:\n" + result.stdout + result.stderr


@pytest.mark.parametrize("seed", [0, 33, 42, 47])
def test_random_specs_draw_with_sound_geometry(seed):
    """Specs of the soundness test's generator (every construct, loops and layers) draw as well."""
    from tests.spec_generator import generate

    program = ncdc.check_source(generate(seed).text, f"gen{seed}.ncd")
    drawings = {(seed, depth): draw(program, depth=depth) for depth in (0, 2)}
    test_every_wire_has_its_label(drawings)
    test_no_two_boxes_or_labels_overlap(drawings)
    test_no_wire_runs_through_a_box(drawings)
    test_every_wire_ends_at_a_port_or_the_edge(drawings)


def test_the_order_search_finds_the_fewest_crossings():
    """Two tensors swap places between the inputs and the results, with a third made in between:
    one crossing is needed, and the order of the middle column gets it down to that."""
    from ncdc.backend.draw.order import Node, crossings as counted, minimise

    inputs = [Node("a", [], 1), Node("b", [], 1)]
    middle = [Node("f", [[("a", 0)]], 1), Node("g", [[("b", 0)]], 1), Node("c", [], 1)]
    results = [Node("out", [[("g", 0)], [("c", 0)], [("f", 0)]], 0)]
    layers = [inputs, middle, results]
    assert counted(layers) == 2
    orders = minimise(layers)
    assert counted(layers) == 1 and orders[0] == ["a", "b"] and orders[2] == ["out"]
