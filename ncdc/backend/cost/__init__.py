"""The cost back end: parameters, FLOPs, memory and memory transfers of a spec, read off its typed IR.

    ncdc.cost("specs/attention.ncd", module="MultiHeadAttention", sizes={"y": 20, "x": 22})

returns a `Report`: a tree of rows (operations, calls of modules and defs, repetitions multiplied
out), each with symbolic costs in the spec's own size names and their values at the given sizes.
`Report.json()` is the documented schema of `ncdc cost --format json` (docs/cost.md); `Report.table()`
its terminal table.  Nothing here imports torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ... import ir
from ...sizes import Size, Symbol, format_size
from . import rules
from .formula import Formulas, factored
from .model import ONCE, CostError, Model, Row
from .roofline import Machine, machine as find_machine, machines
from .rules import CATEGORIES, FLOAT, ZERO

SCHEMA_VERSION = 1
DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}
ELEMENT_BYTES = {rules.INT64: 8, rules.BOOL: 1}  # floats: the dtype's size


@dataclass
class Definition:
    """The costs of one module or def, with the sizes its numbers are evaluated at."""

    name: str
    kind: str
    row: Row
    env: dict[str, int]
    missing: list[str]
    formulas: Formulas

    def text(self, size: Size) -> str:
        """A formula of this definition: in its names for strided sizes, common factors taken out."""
        return self.formulas.text(size)


@dataclass
class Report:
    spec: str
    dtype: str
    batch: int | None
    fast_memory: int | None
    machine: Machine | None = None
    definitions: list[Definition] = field(default_factory=list)

    @property
    def dtype_bytes(self) -> int:
        return DTYPES[self.dtype]

    def definition(self, name: str) -> Definition:
        for d in self.definitions:
            if d.name == name:
                return d
        raise KeyError(name)

    def json(self) -> dict:
        from .report import to_json
        return to_json(self)

    def table(self) -> str:
        from .report import to_table
        return to_table(self)


def cost(spec: str | Path | ir.Program, module: str | None = None, sizes: dict[str, int] | None = None,
         batch: int | None = None, dtype: str = "float32", fast_memory: int | None = None,
         machine: str | Machine | None = None, machine_file: str | Path | None = None) -> Report:
    """The costs of the modules (and defs) of a spec, or of the one named `module`; with `machine` (a key
    of machines.toml or `machine_file`, or `peak=...,bandwidth=...`) also the roofline bound."""
    from ...api import check_file

    sizes = dict(sizes or {})
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype `{dtype}`: one of {', '.join(DTYPES)}")
    found_machine = None
    if machine is not None:
        found_machine = find_machine(machine, machine_file)
        found_machine.peak_for(dtype)
    program = spec if isinstance(spec, ir.Program) else check_file(spec, sizes)
    model = Model(program)
    report = Report(program.path, dtype, batch, fast_memory, found_machine)
    found = {f.name: f for f in program.functions} | {m.name: m for m in program.modules}
    names = [n for n in program.order if n in found]
    if module is not None:
        if module not in found:
            raise CostError(f"{program.path} has no module or def `{module}`"
                            + (f" (it has {', '.join(names)})" if names else ""))
        names = [module]
    for name in names:
        report.definitions.append(_definition(model, program, found[name], sizes, batch))
    return report


def batch_symbol(definition) -> Symbol:
    taken = {s.name for p in _params(definition) for a in p.type.axes for s in a.size.symbols()}
    taken |= {hp.name for hp in getattr(definition, "hparams", [])}
    return Symbol(next(n for n in ("B", "batch", "B_") if n not in taken))


def _params(definition) -> list[ir.Param]:
    return definition.forward.params if isinstance(definition, ir.Module) else definition.params


def _definition(model: Model, program: ir.Program, d, sizes: dict[str, int], batch: int | None) -> Definition:
    B = batch_symbol(d)
    f = d.forward if isinstance(d, ir.Module) else d
    module = d if isinstance(d, ir.Module) else None
    result = model.body(f, tuple(False for _ in f.params), module)
    # per sample times the batch, but what is made once per call (`ONCE`)
    row = result.row.mapped(lambda s: s, Size.of(B), d.name)
    row.__dict__.update(row.mapped(lambda s: s.substitute(lambda a: Size.of(1) if a is ONCE else None),
                                   Size.of(1)).__dict__)
    row.kind = "module" if module else "def"
    row.params = model.module_params(module) if module else ZERO
    row.saved = {}
    for ident, (dtype, n) in result.saved.items():  # per sample, but for the weight copies made once
        row.add_saved(dtype, n if ident in result.unbatched else rules.multiplied(dtype, n, Size.of(B)))
    env: dict[str, int] = {c.name: c.value.constant for c in program.constants
                           if c.value.constant is not None}
    fixed = {c.symbol: c.value.constant for c in program.constants if c.value.constant is not None}
    env.update(ir.hparam_sizes(getattr(d, "hparams", []), sizes, fixed))  # `n_inner=4 * n_embd` of those given
    env.update(sizes)
    if batch is not None:
        env[B.name] = batch
    else:
        env.setdefault(B.name, 1)
    if batch is not None:
        _substitute(row, {B.name: batch})
    every = list(_sizes(row))
    symbols = {a for s in every for a in s.symbols()}
    missing = sorted({s.name for s in symbols} - env.keys())
    return Definition(d.name, row.kind, row, env, missing, Formulas(every, {s.name for s in symbols}))


def _sizes(row: Row) -> Iterator[Size]:
    """Every size of a row and the rows under it (a peak in elements)."""
    from .report import elements

    yield row.params
    yield row.io
    yield from row.flops.values()
    yield from row.saved.values()
    yield from (elements(p) for p, _ in row.peak)
    for c in row.children:
        yield from _sizes(c)


def _substitute(row: Row, values: dict[str, int]) -> None:
    mapped = row.mapped(lambda s: evaluate_partly(s, values), Size.of(1))
    row.__dict__.update(mapped.__dict__)


def evaluate_partly(size: Size, values: dict[str, int]) -> Size:
    return size.substitute(lambda a: Size.of(values[a.name]) if isinstance(a, Symbol) and a.name in values else None)


def evaluate(size: Size, env: dict[str, int]) -> int | None:
    """A size's value when every symbol in it has one in `env` (by name), else None."""
    return evaluate_partly(size, env).constant


def formula(size: Size) -> str:
    """A size's formula, its common factors taken out (a definition's `text` also names strided sizes)."""
    return factored(size)


# ---- the transfer model of "FlashAttention on a Napkin" --------------------------------------------


def transfers(row: Row, fast_memory: int, env: dict[str, int]) -> dict:
    """Elements moved between slow and fast memory (of `fast_memory` elements) by the contractions and
    attention under a row: naive (no reuse) and tiled (FAN's closed forms)."""
    M = fast_memory
    naive_f, tiled_f = [], []
    naive_v: float | None = 0.0
    tiled_v: float | None = 0.0
    for m in row.matmuls:
        abc, ac = m.a * m.b * m.c * m.count, m.a * m.c * m.count
        naive_f.append(f"2*{_p(abc)} + {_p(ac)}")
        tiled_f.append(f"2*{_p(abc)}/sqrt(M) + {_p(ac)}")
        vals = evaluate(abc, env), evaluate(ac, env)
        if None in vals or naive_v is None or tiled_v is None:
            naive_v = tiled_v = None
        else:
            naive_v += 2 * vals[0] + vals[1]  # type: ignore[operator]
            tiled_v += 2 * vals[0] / math.sqrt(M) + vals[1]  # type: ignore[operator]
    for a in row.attention:
        qd, qx, qxd, qxdd = (a.q * a.d * a.count, a.q * a.x * a.count, a.q * a.x * a.d * a.count,
                             a.q * a.x * a.d * a.d * a.count)
        # Unfused: two tiled matrix products, and the scores written, read and written again by softmax.
        naive_f.append(f"4*{_p(qxd)}/sqrt(M) + 3*{_p(qx)} + {_p(qd)}")
        tiled_f.append(f"2*{_p(qd)} + 4*{_p(qxdd)}/M")
        values = [evaluate(s, env) for s in (qd, qx, qxd, qxdd)]
        if None in values or naive_v is None or tiled_v is None:
            naive_v = tiled_v = None
        else:
            vd, vx, vxd, vxdd = values
            naive_v += 4 * vxd / math.sqrt(M) + 3 * vx + vd  # type: ignore[operator]
            tiled_v += 2 * vd + 4 * vxdd / M  # type: ignore[operator]
    return {"fast_memory": M, "naive": {"value": naive_v, "formula": " + ".join(naive_f) or "0"},
            "tiled": {"value": tiled_v, "formula": " + ".join(tiled_f) or "0"}}


def _p(size: Size) -> str:
    text = format_size(size)
    return text if size.atom is not None or size.constant is not None or (
        len(size.terms) == 1 and "//" not in text) else f"({text})"


def matmul_transfers(a: int, b: int, c: int, M: int) -> float:
    """FAN: a tiled a x b x c matrix product with fast memory M moves about 2abc/sqrt(M) + ac elements."""
    return 2 * a * b * c / math.sqrt(M) + a * c


def attention_transfers(q: int, x: int, d: int, M: int) -> float:
    """FAN: attention streamed over key tiles, with query tiles of about M/(2d): 2qd + 4qxd^2/M."""
    return 2 * q * d + 4 * q * x * d * d / M


__all__ = ["cost", "Report", "Machine", "machines", "Definition", "CostError", "CATEGORIES", "FLOAT",
           "SCHEMA_VERSION", "evaluate", "formula", "transfers", "matmul_transfers", "attention_transfers"]
