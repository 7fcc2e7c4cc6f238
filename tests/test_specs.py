"""Every spec in specs/ checks, compiles to valid and deterministic Python, imports, and runs.

The specs are found by globbing, so a new spec is covered as soon as it is added.  Each function
and module of a spec is run on random inputs whose shapes come from the typed IR (`ncdc.check_file`),
with no, one and two leading batch axes, and its outputs must have the declared result types.

Sizes: spec constants keep their values, hyperparameters their defaults (8 without one), derived
sizes (`ir.SizeMember`) are evaluated from those, and every other symbol gets a small value,
distinct from the others in the same signature, so that two axes swapped by mistake show up as a
wrong shape.  A size that only an output names (a box's free output wire, e.g. `G : a -> b`) is
read off the output, and must then be the same wherever it appears again.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import ncdc
from ncdc import ir
from ncdc.runner import RUN_LIMIT, parameter_count, random_tensor
from ncdc.sizes import Size, Symbol

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SPEC_FILES = sorted(SPECS.glob("*.ncd"))
SPEC_IDS = [p.stem for p in SPEC_FILES]

HYPERPARAMETER = 8  # a hyperparameter without a default
FREE_SIZES = (6, 4, 5, 7, 3, 9)  # other symbols, in order of first appearance in a signature
SCALED_SIZES = (1, 2, 3, 4)  # symbols that only appear scaled (`16 * h`): the product is big enough
BATCHES = [(), (2,), (1, 2)]  # two batch axes cost no more than one
BATCH_IDS = ["no-batch", "batch", "two-batch-axes"]

pytestmark = pytest.mark.skipif(not SPEC_FILES, reason="no specs")


# ---- sizes and random inputs from the IR ---------------------------------------------------------


def definitions(program: ir.Program) -> list[tuple[str, ir.Function | ir.Module]]:
    """The program's functions and modules, in spec order."""
    found = {f.name: f for f in program.functions} | {m.name: m for m in program.modules}
    return [(name, found[name]) for name in program.order if name in found]


def base_sizes(program: ir.Program) -> dict[Symbol, int]:
    return {c.symbol: c.value.evaluate({}) for c in program.constants}


def module_sizes(module: ir.Module, values: dict, small: bool = False) -> tuple[dict, dict]:
    """Size hyperparameter values (defaults, else 8; all 8 when `small`, but for a default that is an
    expression of them) and the constructor arguments to pass.

    Hyperparameters with a default are not passed: the module is built with its own defaults."""
    values = dict(values)
    kwargs = {}
    for hp in module.hparams:
        if hp.kind != "size":  # a number, a bool or a choice: its default, at any size
            continue
        if hp.default_size is not None:  # `n_inner=4 * n_embd`: not passed, the module computes it
            values[hp.symbol] = hp.default_size.evaluate(values)
            assert values[hp.symbol] is not None, f"{module.name}({hp.name}={hp.default_size}) cannot be evaluated"
        elif hp.default is not None and not small:
            values[hp.symbol] = hp.default
        else:
            values[hp.symbol] = HYPERPARAMETER
            kwargs[hp.name] = HYPERPARAMETER
    for member in module.members:
        if isinstance(member, ir.SizeMember):
            value = member.value.evaluate(values)
            assert value is not None, f"{module.name}.{member.name} = {member.value} cannot be evaluated"
            values[member.symbol] = value
    return values, kwargs


def bind_free_sizes(params: list[ir.Param], values: dict) -> dict:
    """Give every symbol that the parameters name and `values` does not fix a small, distinct value.

    A symbol that is an axis of its own somewhere gets one of FREE_SIZES; one that only appears
    inside larger sizes (`16 * h`) gets one of SCALED_SIZES, which keeps the tensor small."""
    values = dict(values)
    order, bare = [], set()
    for p in params:
        for axis in p.type.axes:
            if isinstance(axis.size.atom, Symbol):
                bare.add(axis.size.atom)
            for symbol in sorted(axis.size.symbols(), key=lambda s: s.uid):
                if symbol not in values and symbol not in order:
                    order.append(symbol)
    free, scaled = iter(FREE_SIZES), iter(SCALED_SIZES)
    for symbol in order:
        values[symbol] = next(free, 8) if symbol in bare else next(scaled, 1)
    return values


def evaluate(size: Size, values: dict) -> int:
    value = size.evaluate(values)
    assert value is not None, f"size {size} cannot be evaluated from {values}"
    assert value > 0, f"size {size} evaluates to {value}"
    return value


def input_shapes(params: list[ir.Param], values: dict, batch: tuple = ()) -> list[tuple[int, ...]]:
    return [(*batch, *(evaluate(a.size, values) for a in p.type.axes)) for p in params]


def random_inputs(params: list[ir.Param], values: dict, batch: tuple = ()) -> list[torch.Tensor]:
    """Random inputs; integers (token ids) below HYPERPARAMETER, the vocabulary of a model built small."""
    return [random_tensor(p.type.dtype, shape) % HYPERPARAMETER if p.type.dtype == ir.INT
            else random_tensor(p.type.dtype, shape) for p, shape in zip(params, input_shapes(params, values, batch))]


def check_outputs(what: str, out, results: list[ir.TensorType], values: dict, batch: tuple) -> None:
    """The outputs have exactly the declared result types, after the batch axes."""
    values = dict(values)
    outs = out if isinstance(out, tuple) else (out,)
    if len(results) == 1:
        assert isinstance(out, torch.Tensor), f"{what}: returned {type(out).__name__}, expected one tensor"
    assert len(outs) == len(results), f"{what}: returned {len(outs)} values, declared {len(results)}"
    for i, (o, t) in enumerate(zip(outs, results)):
        assert isinstance(o, torch.Tensor), f"{what}: output {i + 1} is a {type(o).__name__}"
        got = tuple(o.shape)
        assert len(got) == len(batch) + t.rank and got[: len(batch)] == batch, (
            f"{what}: output {i + 1} has shape {got}, expected batch {batch} + `{t}`")
        expected = []
        for axis, n in zip(t.axes, got[len(batch):]):
            size = axis.size.evaluate(values)
            if size is None and isinstance(axis.size.atom, Symbol):
                values[axis.size.atom] = size = n  # fixed by the output only (a box's free output)
            assert size is not None, f"{what}: result size {axis.size} cannot be evaluated"
            expected.append(size)
        assert got[len(batch):] == tuple(expected), (
            f"{what}: output {i + 1} has shape {got}, expected {batch} + {tuple(expected)} for `{t}`")
        dtype = {ir.FLOAT: torch.float32, ir.INT: torch.int64, ir.BOOL: torch.bool}[t.dtype]
        assert o.dtype == dtype, f"{what}: output {i + 1} has dtype {o.dtype}, declared `{t}`"
        assert o.dtype == torch.bool or torch.isfinite(o).all(), f"{what}: output {i + 1} is not finite"


def prepare(name: str, definition, program: ir.Program, loaded):
    """(callable, its IR signature, sizes) for one function or module of a loaded spec."""
    values = base_sizes(program)
    if isinstance(definition, ir.Module):
        sizes, kwargs = module_sizes(definition, values)
        if parameter_count(getattr(loaded, name), kwargs) > RUN_LIMIT:  # a published size: too large here
            sizes, kwargs = module_sizes(definition, values, small=True)
        values = sizes
        target = getattr(loaded, name)(**kwargs).eval()
        signature = definition.forward
    else:
        target = getattr(loaded, name)
        signature = definition
    values = bind_free_sizes(signature.params, values)
    return target, signature, values


# ---- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=SPEC_FILES, ids=SPEC_IDS)
def spec(request) -> Path:
    return request.param


@pytest.fixture(scope="module")
def program(spec) -> ir.Program:
    return ncdc.check_file(spec)


@pytest.fixture(scope="module")
def loaded(spec):
    """The spec's code, imported with stubs for its abstract boxes."""
    torch.manual_seed(0)
    return ncdc.load(spec, stubs=True)


@pytest.fixture(scope="module")
def targets(program, loaded) -> list[tuple[str, object, ir.Function, dict]]:
    """(name, callable or built module, IR signature, sizes) for every definition, built once."""
    torch.manual_seed(0)
    return [(name, *prepare(name, definition, program, loaded)) for name, definition in definitions(program)]


@pytest.fixture()
def check_shapes(loaded):
    """Set the loaded module's CHECK_SHAPES flag for one test; restored afterwards."""
    def set_flag(flag: bool) -> None:
        loaded.CHECK_SHAPES = flag
    yield set_flag
    loaded.CHECK_SHAPES = True


# ---- checking and compiling -------------------------------------------------------------------------


def test_spec_checks(spec):
    program = ncdc.check_file(spec)
    assert isinstance(program, ir.Program)
    assert program.order, f"{spec.name} defines nothing"
    assert len(set(program.order)) == len(program.order), "a name is defined twice"
    names = {f.name for f in program.functions} | {m.name for m in program.modules} | {b.name for b in program.boxes}
    assert names == set(program.order)


def test_spec_checks_from_text(spec):
    """check_source on the text gives the same definitions as check_file."""
    from_text = ncdc.check_source(spec.read_text(encoding="utf-8"), str(spec))
    assert from_text.order == ncdc.check_file(spec).order


@pytest.mark.parametrize("stubs", [False, True], ids=["plain", "stubs"])
def test_compiles_to_valid_python(spec, stubs):
    source = ncdc.compile_file(spec, stubs=stubs)
    assert isinstance(source, str) and source.endswith("\n")
    assert source.startswith("# Generated by ncdc")
    compile(source, f"<ncdc:{spec.name}>", "exec")


@pytest.mark.parametrize("stubs", [False, True], ids=["plain", "stubs"])
def test_compile_is_deterministic(spec, stubs):
    first = ncdc.compile_file(spec, stubs=stubs).encode()
    second = ncdc.compile_file(spec, stubs=stubs).encode()
    assert first == second
    text = spec.read_text(encoding="utf-8")
    assert ncdc.compile_source(text, str(spec), stubs=stubs).encode() == first


def test_compile_is_deterministic_across_processes():
    """The same bytes whatever the hash seed of the process (no set or dict-order leaks)."""
    script = (
        "import hashlib, sys, ncdc\n"
        "for p in sys.argv[1:]:\n"
        "    for stubs in (False, True):\n"
        "        print(p, stubs, hashlib.sha256(ncdc.compile_file(p, stubs=stubs).encode()).hexdigest())\n"
    )
    paths = [f"specs/{p.name}" for p in SPEC_FILES]
    outputs = []
    for seed in ("0", "1", "4242"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        done = subprocess.run([sys.executable, "-c", script, *paths], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    here = "".join(
        f"{p} {stubs} {hashlib.sha256(ncdc.compile_source((ROOT / p).read_text(encoding='utf-8'), p, stubs=stubs).encode()).hexdigest()}\n"
        for p in paths for stubs in (False, True))
    assert outputs[0] == here


def test_load_exposes_every_definition(spec, program):
    for stubs in (False, True):
        loaded = ncdc.load(spec, stubs=stubs)
        assert loaded.CHECK_SHAPES is True
        for name, definition in definitions(program):
            assert hasattr(loaded, name), f"{spec.name}: `{name}` missing from the generated code"
            if isinstance(definition, ir.Module):
                assert issubclass(getattr(loaded, name), torch.nn.Module)
            else:
                assert callable(getattr(loaded, name))


def test_boxes_are_keyword_only(spec, program):
    """Functions that use abstract boxes take them as keyword-only arguments (defaults only with stubs)."""
    for stubs in (False, True):
        loaded = ncdc.load(spec, stubs=stubs)
        for f in program.functions:
            parameters = inspect.signature(getattr(loaded, f.name)).parameters
            positional = [n for n, p in parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
            assert positional == [p.name for p in f.params], f"{f.name}: parameters {positional}"
            keyword = {n: p for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY}
            assert set(keyword) == set(f.boxes), f"{f.name}: keyword-only {sorted(keyword)}, boxes {f.boxes}"
            for name, p in keyword.items():
                assert (p.default is not p.empty) == stubs, f"{f.name}: box `{name}` default with stubs={stubs}"


# ---- running ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", BATCHES, ids=BATCH_IDS)
def test_every_definition_runs_with_declared_shapes(spec, program, targets, batch):
    for name, target, signature, values in targets:
        inputs = random_inputs(signature.params, values, batch)
        with torch.no_grad():
            out = target(*inputs)
        check_outputs(f"{spec.stem}.{name}{[tuple(x.shape) for x in inputs]}", out, signature.results, values, batch)
    assert len(targets) == len(program.functions) + len(program.modules)


def test_modules_build_with_default_hyperparameters(spec, program, loaded):
    for m in program.modules:
        parameters = inspect.signature(getattr(loaded, m.name)).parameters
        for hp in m.hparams:
            assert hp.name in parameters, f"{m.name}: hyperparameter `{hp.name}` is not a constructor argument"
            default = parameters[hp.name].default
            expected = hp.default if hp.default is not None else inspect.Parameter.empty
            if hp.default_size is not None:  # `n_inner=4 * n_embd`: None means the expression
                expected = None
            assert default == expected, f"{m.name}({hp.name}): default {default}, spec says {hp.default}"


def test_results_do_not_depend_on_check_shapes(targets, check_shapes):
    """Switching the shape checks off changes nothing on well-shaped inputs."""
    for name, target, signature, values in targets:
        inputs = random_inputs(signature.params, values)
        results = []
        for flag in (True, False):
            check_shapes(flag)
            torch.manual_seed(1)  # the same stub outputs both times
            with torch.no_grad():
                out = target(*inputs)
            results.append(out if isinstance(out, tuple) else (out,))
        for a, b in zip(*results):
            torch.testing.assert_close(a, b, rtol=0, atol=0, msg=lambda m: f"{name}: {m}")


def _checked_axes(params: list[ir.Param], values: dict) -> list[tuple[int, int]]:
    """(parameter, axis) positions whose size is fixed before the axis is read: every axis but the
    first occurrence of a size symbol that nothing else fixes."""
    known = set(values)
    checked = []
    for i, p in enumerate(params):
        for j, axis in enumerate(p.type.axes):
            atom = axis.size.atom
            if isinstance(atom, Symbol) and atom not in known:
                known.add(atom)  # this axis fixes the symbol
            elif axis.size.symbols() <= known:
                checked.append((i, j))
    return checked


def test_shape_checks_reject_wrong_sizes(program, targets):
    """Every axis whose size is fixed (a constant, a hyperparameter, or a size seen before) is
    checked: one more along it raises ValueError naming the input, with or without batch axes."""
    fixed = base_sizes(program)
    modules = {m.name: m for m in program.modules}
    for name, target, signature, values in targets:
        known = module_sizes(modules[name], fixed)[0] if name in modules else fixed
        for batch in ((), (2,)):
            for i, j in _checked_axes(signature.params, known):
                shapes = input_shapes(signature.params, values, batch)
                shape = list(shapes[i])
                shape[len(batch) + j] += 1
                shapes[i] = tuple(shape)
                with pytest.raises(ValueError, match=re.escape(signature.params[i].name)), torch.no_grad():
                    target(*(random_tensor(p.type.dtype, s) for p, s in zip(signature.params, shapes)))


def test_shape_checks_reject_missing_axes(targets):
    """An input with fewer axes than its type raises the shape check's ValueError (not an
    IndexError or an unpacking error from reading its sizes first)."""
    wrong = []
    for name, target, signature, values in targets:
        for i, p in enumerate(signature.params):
            if p.type.rank == 0:
                continue
            inputs = random_inputs(signature.params, values)
            inputs[i] = inputs[i][0]  # drop the first axis
            try:
                with torch.no_grad():
                    target(*inputs)
            except ValueError as error:
                if "expected shape" in str(error) and p.name in str(error):
                    continue
                wrong.append(f"{name}({p.name} of shape {tuple(inputs[i].shape)}): {type(error).__name__}: {error}")
            except Exception as error:  # noqa: BLE001 - reported below
                wrong.append(f"{name}({p.name} of shape {tuple(inputs[i].shape)}): {type(error).__name__}: {error}")
            else:
                wrong.append(f"{name}({p.name} of shape {tuple(inputs[i].shape)}): no error")
    assert not wrong, "inputs missing an axis are not caught by the shape checks:\n  " + "\n  ".join(wrong)


# ---- the command line ------------------------------------------------------------------------------


def test_ncdc_run_specs_exits_0():
    done = subprocess.run([sys.executable, "-m", "ncdc", "run", "specs"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "failed to run" not in done.stdout
    for path in SPEC_FILES:
        assert f"specs/{path.name}" in done.stdout


def test_ncdc_check_specs_exits_0():
    done = subprocess.run([sys.executable, "-m", "ncdc", "check", "specs"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
