"""`ncdc run`: compile specs, build every model with its default sizes and run it on random inputs."""

from __future__ import annotations

import os
import shutil
import sys
import types
from pathlib import Path
from typing import Callable

from . import ir
from .names import python_name
from .sizes import Size, Symbol

GENERIC_SIZE = 16  # every size a signature leaves open (sequence lengths, image sides)
HYPERPARAMETER = 8  # hyperparameters without a default
BATCH = 2  # one leading batch axis, to show that every model takes one
# Models with more parameters (at their default sizes: a published configuration such as Mixtral's)
# are built on the meta device, which allocates nothing, and are not run.
RUN_LIMIT = 2 ** 27


def run_specs(files: list[Path]) -> int:
    import torch

    from .api import check_source, read_spec
    from .diagnostics import NcdcError

    import time

    torch.manual_seed(0)
    failures = 0
    start = time.perf_counter()
    totals = {"built": 0, "parameters": 0}
    progress = Progress()
    report = progress.print
    for i, path in enumerate(files, 1):
        progress.show(f"checking {path} (spec {i} of {len(files)})")
        try:
            program = check_source(read_spec(path), str(path))
        except NcdcError as error:  # report it, and go on with the other specs
            report("\n\n".join(d.render() for d in error.diagnostics), error=True)
            failures += 1
            continue
        except OSError as error:
            report(f"ncdc: error: cannot read {path}: {error.strerror}", error=True)
            failures += 1
            continue
        failures += len(run_program(program, path, report, totals=totals, progress=progress.show))
    seconds = time.perf_counter() - start
    progress.show("")
    report(f"ran {len(files)} spec{'s' if len(files) != 1 else ''}: {totals['built']} built "
           f"({totals['parameters']:,} parameters), {failures} failed")
    if progress.on:  # for a person waiting; never in a log that should read the same each run
        print(f"in {seconds:.1f} s", file=sys.stderr)
    return 1 if failures else 0


def _on_terminal() -> bool:
    try:
        return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


class Progress:
    """What is running, for a person watching a terminal: the last line of standard error, rewritten
    in place, kept below the report's lines as they come and erased at the end.  Off when standard
    error is not a terminal: a log or a pipe gets the report's lines only, each as it comes."""

    def __init__(self) -> None:
        self.on = _on_terminal()
        self.text = ""

    def show(self, text: str) -> None:
        """Say what runs now ("" to erase the line)."""
        if self.on:
            width = shutil.get_terminal_size().columns - 1  # a line that wraps cannot be erased in place
            sys.stderr.write(f"\r\x1b[K{text[:width]}")
            sys.stderr.flush()
        self.text = text

    def print(self, line: str, error: bool = False) -> None:
        """A line of the report (on standard error if `error`), flushed: a log shows what ran so far."""
        text = self.text
        self.show("")
        print(line, file=sys.stderr if error else sys.stdout, flush=True)
        if text:
            self.show(text)


def run_program(program: ir.Program, path: Path, report: Callable[[str], None] = print,
                totals: dict[str, int] | None = None,
                progress: Callable[[str], None] | None = None) -> list[tuple[str, Exception]]:
    """Compile a checked spec with stubs, build each def and module with its default sizes and run it
    on random inputs; `report` gets each line that `ncdc run` prints, with what it assumed (the batch
    axis, the sizes it chose); `totals` counts what was built and its parameters; `progress` is told
    which def or module runs, before it runs.  The defs and modules that
    failed to run, with what they raised (a bug in ncdc, not in the spec)."""
    from .backend.torch import generate

    namespace = types.ModuleType(f"ncdc_run.{path.stem}")
    exec(compile(generate(program, stubs=True), f"<ncdc:{path}>", "exec"), namespace.__dict__)
    report(str(path))
    values: dict[Symbol, int] = {c.symbol: c.value.constant for c in program.constants}  # type: ignore[misc]
    functions = {f.name: f for f in program.functions}
    modules = {m.name: m for m in program.modules}
    failed: list[tuple[str, Exception]] = []
    runs = [name for name in program.order if name in functions or name in modules]
    for number, name in enumerate(runs, 1):
        if progress is not None:
            progress(f"running {name} ({number} of {len(runs)} in {path})")
        try:
            parameters = None
            if name in functions:
                parameters = _run_function(namespace, functions[name], dict(values), report)
            elif name in modules:
                parameters = _run_module(namespace, modules[name], dict(values), report)
            if totals is not None and parameters is not None:
                totals["built"] = totals.get("built", 0) + 1
                totals["parameters"] = totals.get("parameters", 0) + parameters
        except Exception as error:  # say so without a traceback
            report(f"  {name}: failed to run: {type(error).__name__}: {error}")
            failed.append((name, error))
    return failed


def _evaluate(size: Size, values: dict) -> int:
    # A size given only as a multiple (`16*h`) is already as large as a generic size: h = 1.
    multiple = len(size.terms) == 1 and len(size.terms[0][0]) == 1 and size.terms[0][1] > 1
    for symbol in size.symbols():
        values.setdefault(symbol, 1 if multiple else GENERIC_SIZE)
    value = size.evaluate(values)
    assert value is not None  # every symbol has a value now
    return value


def _inputs(params: list[ir.Param], values: dict):
    return [random_tensor(p.type.dtype, (BATCH, *(_evaluate(a.size, values) for a in p.type.axes))) for p in params]


def random_tensor(dtype: str, shape: tuple):
    """A random input of an element type: floats in [0, 1), integers in [0, 16), fair booleans."""
    import torch

    if dtype == ir.INT:
        return torch.randint(0, GENERIC_SIZE, shape)
    if dtype == ir.BOOL:
        return torch.rand(shape) < 0.5
    return torch.rand(shape)


def _shapes(tensors) -> str:
    tensors = tensors if isinstance(tensors, tuple) else (tensors,)
    return ", ".join(str(tuple(t.shape)) for t in tensors)


def _assumed(values: dict, before: set, filled: dict[str, int]) -> str:
    """`assumed a batch axis of 2; y = 16, x = 16; m = 8 (no default)`: what ncdc run chose, for its report."""
    chosen = [f"{s.name} = {v}" for s, v in values.items() if s not in before]
    parts = [f"a batch axis of {BATCH} before each input"] + ([", ".join(chosen)] if chosen else [])
    parts += [", ".join(f"{k} = {v}" for k, v in filled.items()) + " (no default)"] if filled else []
    return f"      assumed {'; '.join(parts)}"


def _run_function(namespace, f: ir.Function, values: dict, report: Callable[[str], None] = print) -> int:
    before = set(values)
    inputs = _inputs(f.params, values)
    out = getattr(namespace, python_name(f.name))(*inputs)  # the name as Python folds it (NFKC)
    report(f"  {f.name} : {ir.signature_text(f.inputs, f.outputs)}")
    report(f"      {_shapes(tuple(inputs))} -> {_shapes(out)}")
    report(_assumed(values, before, {}))
    return 0


def _run_module(namespace, m: ir.Module, values: dict, report: Callable[[str], None] = print) -> int:
    import torch

    args, filled = {}, {}
    for hp in m.hparams:
        name = python_name(hp.name)  # the keyword as Python folds it (NFKC)
        if hp.default_size is not None:  # `n_inner=4 * n_embd`: of the values before it, as the module computes it
            values[hp.symbol] = args[name] = _evaluate(hp.default_size, values)
            continue
        values[hp.symbol] = hp.default if hp.default is not None else HYPERPARAMETER
        args[name] = values[hp.symbol]
        if hp.default is None:
            filled[name] = HYPERPARAMETER
    for member in m.members:
        if isinstance(member, ir.SizeMember):
            values[member.symbol] = _evaluate(member.value, values)
    cls = getattr(namespace, python_name(m.name))
    count = parameter_count(cls, args)
    settings = ", ".join(f"{k}={v}" for k, v in args.items())
    report(f"  {m.name}({settings}) : {ir.signature_text(m.forward.inputs, m.forward.outputs)}"
           f"    {count:,} parameters")
    if count > RUN_LIMIT:
        report(f"      built on the meta device only: too large to run here (over {RUN_LIMIT:,} parameters)")
        return count
    model = cls(**args).eval()
    before = set(values)
    inputs = _inputs(m.forward.params, values)
    with torch.no_grad():
        out = model(*inputs)
    report(f"      {_shapes(tuple(inputs))} -> {_shapes(out)}")
    report(_assumed(values, before, filled))
    return count


def parameter_count(cls, args: dict) -> int:
    """The parameters of a generated module built with `args`, counted on the meta device."""
    import torch

    with torch.device("meta"):
        return sum(p.numel() for p in cls(**args).parameters())
