"""`ncdc run`: compile specs, build every model with its default sizes and run it on random inputs."""

from __future__ import annotations

import sys
import types
from pathlib import Path

from . import ir
from .sizes import Size, Symbol

GENERIC_SIZE = 16  # every size a signature leaves open (sequence lengths, image sides)
HYPERPARAMETER = 8  # hyperparameters without a default
BATCH = 2  # one leading batch axis, to show that every model takes one


def run_specs(files: list[Path]) -> int:
    import torch

    from .api import check_source, read_spec
    from .backend.torch import generate
    from .diagnostics import NcdcError

    torch.manual_seed(0)
    failures = 0
    for path in files:
        try:
            program = check_source(read_spec(path), str(path))
        except NcdcError as error:  # report it, and go on with the other specs
            print("\n\n".join(d.render() for d in error.diagnostics), file=sys.stderr)
            failures += 1
            continue
        except OSError as error:
            print(f"ncdc: error: cannot read {path}: {error.strerror}", file=sys.stderr)
            failures += 1
            continue
        namespace = types.ModuleType(f"ncdc_run.{path.stem}")
        exec(compile(generate(program, stubs=True), f"<ncdc:{path}>", "exec"), namespace.__dict__)
        print(path)
        values: dict[Symbol, int] = {c.symbol: c.value.constant for c in program.constants}  # type: ignore[misc]
        functions = {f.name: f for f in program.functions}
        modules = {m.name: m for m in program.modules}
        for name in program.order:
            try:
                if name in functions:
                    _run_function(namespace, functions[name], dict(values))
                elif name in modules:
                    _run_module(namespace, modules[name], dict(values))
            except Exception as error:  # a bug in ncdc, not in the spec: say so without a traceback
                print(f"  {name}: failed to run: {type(error).__name__}: {error}")
                failures += 1
    return 1 if failures else 0


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


def _run_function(namespace, f: ir.Function, values: dict) -> None:
    inputs = _inputs(f.params, values)
    out = getattr(namespace, f.name)(*inputs)
    print(f"  {f.name} : {ir.signature_text(f.inputs, f.outputs)}")
    print(f"      {_shapes(tuple(inputs))} -> {_shapes(out)}")


def _run_module(namespace, m: ir.Module, values: dict) -> None:
    import torch

    args = {}
    for hp in m.hparams:
        values[hp.symbol] = hp.default if hp.default is not None else HYPERPARAMETER
        args[hp.name] = values[hp.symbol]
    for member in m.members:
        if isinstance(member, ir.SizeMember):
            values[member.symbol] = _evaluate(member.value, values)
    model = getattr(namespace, m.name)(**args).eval()
    count = sum(p.numel() for p in model.parameters())
    inputs = _inputs(m.forward.params, values)
    with torch.no_grad():
        out = model(*inputs)
    settings = ", ".join(f"{k}={v}" for k, v in args.items())
    print(f"  {m.name}({settings}) : {ir.signature_text(m.forward.inputs, m.forward.outputs)}"
          f"    {count:,} parameters")
    print(f"      {_shapes(tuple(inputs))} -> {_shapes(out)}")
