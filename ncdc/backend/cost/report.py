"""`ncdc cost` output: a terminal table and JSON (schema in docs/cost.md).

Every row carries `params`, `flops_forward`, `flops_backward`, `memory_peak` and `memory_saved`, each
with its value at the given sizes (null when a size is not given) and its formula in the spec's names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ...sizes import Size, format_size
from .model import BYTE, LONG, Row
from .rules import CATEGORIES, FLOAT, PER_CALL, ZERO

if TYPE_CHECKING:
    from . import Definition, Report


def _value(size: Size, env: dict) -> int | None:
    from . import evaluate
    return evaluate(size, env)


def _bytes(n: int | None, per: int) -> int | None:
    return None if n is None else n * per


def _widths(size: Size, long: int, byte: int) -> Size:
    return size.substitute(lambda a: Size.of(long) if a is LONG else Size.of(byte) if a is BYTE else None)


def elements(size: Size) -> Size:
    """A peak in elements, whatever their type."""
    return _widths(size, 1, 1)


def in_bytes(size: Size, env: dict, dtype_bytes: int) -> int | None:
    """A peak in bytes: floats at the dtype's size, int64 at 8, bool at 1."""
    floats, wide = _value(_widths(size, 0, 0), env), _value(_widths(size, 8, 1), env)
    return None if floats is None or wide is None else floats * dtype_bytes + wide - floats


def _peak(row: Row, env: dict, dtype_bytes: int) -> tuple[Size, str]:
    """The candidate for the peak with the most bytes at the given sizes (the first, when sizes are missing)."""
    best: tuple[Size, str, int] | None = None
    for size, where in row.peak:
        v = in_bytes(size, env, dtype_bytes)
        if v is None:
            return size, where
        if best is None or v > best[2]:
            best = (size, where, v)
    assert best is not None
    return best[0], best[1]


def peak_of(row: Row, env: dict, dtype_bytes: int = 4) -> tuple[Size, str, int | None]:
    """The peak at the given sizes: its elements, where it is reached, and their number."""
    if not row.peak:
        return ZERO, "", 0
    size, where = _peak(row, env, dtype_bytes)
    return elements(size), where, _value(elements(size), env)


def peak_bytes(row: Row, env: dict, dtype_bytes: int) -> int | None:
    """The peak at the given sizes in bytes, each element at its type's width."""
    return in_bytes(_peak(row, env, dtype_bytes)[0], env, dtype_bytes) if row.peak else 0


Text = Callable[[Size], str]  # a definition's formulas (`Definition.text`)


def peak_formula(row: Row, env: dict | None = None, text: Text = format_size) -> str:
    """The peak's formula: at the given sizes, the largest candidate; else a `max(...)` of those left."""
    env = env or {}
    _, _, value = peak_of(row, env)
    if value is None and len(row.peak) > 1:
        return "max(" + ", ".join(text(elements(s)) for s, _ in row.peak) + ")"
    return text(peak_of(row, env)[0])


def saved_elements(row: Row) -> Size:
    return sum(row.saved.values(), ZERO)


def saved_bytes(row: Row, env: dict, dtype_bytes: int) -> int | None:
    from . import ELEMENT_BYTES
    total = 0
    for dtype, n in row.saved.items():
        v = _value(n, env)
        if v is None:
            return None
        total += v * (dtype_bytes if dtype in (FLOAT, PER_CALL) else ELEMENT_BYTES[dtype])
    return total


def io_bytes(row: Row, env: dict, dtype_bytes: int) -> int | None:
    """Bytes a row reads and writes in main memory, each operation run on its own (every element at the
    dtype's size): its tensors' elements and its parameters."""
    v = _value(row.io + row.params, env)
    return None if v is None else v * dtype_bytes


def roofline(row: Row, env: dict, report: Report, text: Text = format_size) -> dict | None:
    """The roofline bound of a row's forward pass on the report's machine: the bound of its totals, and
    the sum of the bounds of its operations (each limited by compute or memory on its own)."""
    machine = report.machine
    if machine is None:
        return None
    flops, nbytes = _value(row.flops_forward, env), io_bytes(row, env, report.dtype_bytes)
    out: dict = {"elements": _value(row.io + row.params, env), "bytes": nbytes,
                 "formula": text(row.io + row.params)}
    if flops is None or nbytes is None:
        return out | {"seconds": None, "compute_seconds": None, "memory_seconds": None, "bound": None,
                      "operations_seconds": None}
    out |= machine.seconds(flops, nbytes, report.dtype)
    if row.children:
        parts = [roofline(c, env, report, text) for c in row.children]
        out["operations_seconds"] = None if any(p is None or p["operations_seconds"] is None for p in parts) \
            else sum(p["operations_seconds"] for p in parts)  # type: ignore[index]
    else:
        out["operations_seconds"] = out["seconds"]
    return out


def row_json(row: Row, env: dict, report: Report, text: Text = format_size) -> dict:
    from . import transfers

    dtype_bytes, fast_memory = report.dtype_bytes, report.fast_memory

    params = _value(row.params, env)
    peak, where, peak_value = peak_of(row, env, dtype_bytes)
    out: dict = {
        "name": row.label, "kind": row.kind, "line": row.line,
        "params": {"value": params, "bytes": _bytes(params, dtype_bytes), "formula": text(row.params)},
        "flops_forward": {"value": _value(row.flops_forward, env), "formula": text(row.flops_forward),
                          "by_heading": {c: {"value": _value(row.flops[c], env), "formula": text(row.flops[c])}
                                         for c in CATEGORIES if c in row.flops}},
        "flops_backward": {"value": _value(row.flops_backward, env), "formula": text(row.flops_backward),
                           "by_heading": {c: {"value": _value(row.backward[c], env), "formula": text(row.backward[c])}
                                          for c in CATEGORIES if c in row.backward}},
        "memory_peak": {"elements": peak_value, "bytes": peak_bytes(row, env, dtype_bytes),
                        "formula": peak_formula(row, env, text), "where": where},
        "memory_saved": {"elements": _value(saved_elements(row), env),
                         "bytes": saved_bytes(row, env, dtype_bytes),
                         "formula": text(saved_elements(row)),
                         "by_element_type": {d: text(n) for d, n in row.saved.items()}},
    }
    if fast_memory is not None:
        out["transfers"] = transfers(row, fast_memory, env)
    if report.machine is not None:
        out["roofline"] = roofline(row, env, report, text)
    if row.notes:
        out["notes"] = list(row.notes)
    out["children"] = [row_json(c, env, report, text) for c in row.children]
    return out


def to_json(report: Report) -> dict:
    from . import SCHEMA_VERSION
    m = report.machine
    machine = None if m is None else {"key": m.key, "name": m.name, "peak": m.peak, "bandwidth": m.bandwidth,
                                      "source": m.source, "quote": m.quote, "derived": m.derived}
    return {"schema": SCHEMA_VERSION, "spec": report.spec, "dtype": report.dtype, "dtype_bytes": report.dtype_bytes,
            "batch": report.batch, "fast_memory": report.fast_memory, "machine": machine,
            "definitions": [{"name": d.name, "kind": d.kind, "sizes": d.env, "missing_sizes": d.missing,
                             "names": names_json(d), **row_json(d.row, d.env, report, d.text)}
                            for d in report.definitions]}


def names_json(d: Definition) -> dict:
    """The strided sizes a definition's formulas name: each name's formula and value."""
    values = d.formulas.values(d.env)
    return {name: {"formula": text, "value": values[name]} for name, text in d.formulas.definitions()}


# ---- the table --------------------------------------------------------------------------------


def _num(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        v = round(v)
    return f"{v:,}"


def _time(seconds: float | None) -> str:
    """Seconds, to three significant digits in a readable unit."""
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _cell(size: Size, env: dict, show: Text = format_size, width: int = 60) -> str:
    text = show(size)
    if len(text) > width:
        text = text[: width - 3] + "..."
    return f"{_num(_value(size, env)):>16}  {text}"


def to_table(report: Report) -> str:
    blocks = []
    for d in report.definitions:
        blocks.append(_definition_table(d, report))
    return "\n\n".join(blocks) + "\n"


def _definition_table(d: Definition, report: Report) -> str:
    env = d.env
    shown = ", ".join(f"{k}={v}" for k, v in env.items())
    batch = "" if report.batch is not None else " (B: the batch, counted as 1 in numbers)"
    lines = [f"{d.kind} {d.name}    sizes: {shown or 'none'}{batch}"]
    if d.missing:
        lines.append(f"  no value for {', '.join(d.missing)}: give them with --sizes; numbers show as -")
    bound = report.machine is not None
    lines.append(f"  {'operation':<44}{'params':>16}  {'forward FLOPs':>16}  {'backward FLOPs':>16}  "
                 f"{'saved (elements)':>16}" + (f"  {'roofline':>10}" if bound else ""))

    def walk(row: Row, depth: int) -> None:
        label = ("  " * depth + row.label)[:44]
        line = (f"  {label:<44}{_num(_value(row.params, env)):>16}  {_num(_value(row.flops_forward, env)):>16}  "
                f"{_num(_value(row.flops_backward, env)):>16}  {_num(_value(saved_elements(row), env)):>16}")
        if bound:
            r = roofline(row, env, report)
            line += f"  {_time(r['operations_seconds'] if r else None):>10}"
        lines.append(line)
        for c in row.children:
            walk(c, depth + 1)

    for c in d.row.children:
        walk(c, 0)
    row = d.row
    lines.append("")
    for name, text in d.formulas.definitions():
        lines.append(f"  where {name} = {text}")
    lines.append(f"  total ({report.dtype}, {report.dtype_bytes} bytes an element)")
    lines.append(f"    {'parameters':<24}{_cell(row.params, env, d.text)}")
    lines.append(f"    {'forward FLOPs':<24}{_cell(row.flops_forward, env, d.text)}")
    for heading in CATEGORIES:
        if heading in row.flops:
            lines.append(f"      {heading:<22}{_cell(row.flops[heading], env, d.text)}")
    lines.append(f"    {'backward FLOPs':<24}{_cell(row.flops_backward, env, d.text)}")
    peak, where, value = peak_of(row, env, report.dtype_bytes)
    lines.append(f"    {'memory peak':<24}{_num(value):>16}  {peak_formula(row, env, d.text)[:60]}")
    lines.append(f"    {'  in bytes':<24}{_num(peak_bytes(row, env, report.dtype_bytes)):>16}")
    lines.append(f"    {'saved for backward':<24}{_cell(saved_elements(row), env, d.text)}")
    b = saved_bytes(row, env, report.dtype_bytes)
    lines.append(f"    {'  in bytes':<24}{_num(b):>16}")
    if report.fast_memory is not None:
        from . import transfers
        t = transfers(row, report.fast_memory, env)
        lines.append(f"    transfers, fast memory M = {report.fast_memory:,} elements")
        lines.append(f"      {'naive':<22}{_num(t['naive']['value']):>16}  {t['naive']['formula'][:60]}")
        lines.append(f"      {'tiled':<22}{_num(t['tiled']['value']):>16}  {t['tiled']['formula'][:60]}")
    if report.machine is not None:
        m, r = report.machine, roofline(row, env, report)
        assert r is not None
        lines.append(f"    roofline of the forward pass on {m.name} ({report.dtype} peak "
                     f"{m.peak_for(report.dtype):.4g} FLOP/s, bandwidth {m.bandwidth:.4g} bytes/s)")
        lines.append(f"      {'elements moved':<22}{_num(r['elements']):>16}  {r['formula'][:60]}")
        lines.append(f"      {'  in bytes':<22}{_num(r['bytes']):>16}")
        lines.append(f"      {'compute (FLOPs/peak)':<22}{_time(r['compute_seconds']):>16}")
        lines.append(f"      {'memory (bytes/bw)':<22}{_time(r['memory_seconds']):>16}")
        lines.append(f"      {'bound':<22}{_time(r['seconds']):>16}  {r['bound'] or ''}")
        lines.append(f"      {'sum over operations':<22}{_time(r['operations_seconds']):>16}  "
                     f"(each operation run on its own)")
    for note in row.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)
