"""The typed IR: its printed form (golden files in tests/golden/ir/, `ncdc check --emit ir`) and its
verifier (ncdc/verify.py), on every spec, every example of the language reference and on IR broken
by hand.

If a change in the IR is intended, refresh the golden files with `python -m tests.update_golden`
(from the repository root) and review `git diff tests/golden/ir`.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ncdc
from ncdc import ir
from ncdc.backend.fuse import fuse_attention
from ncdc.ir_text import format_program
from ncdc.sizes import Size, Symbol, Var
from ncdc.verify import IRError, verify, verify_body
from update_golden import GOLDEN_IR, generate_ir, golden_ir_path, spec_names

ROOT = Path(__file__).resolve().parent.parent
SPECS = spec_names()
HINT = "if the change is intended, refresh the golden files with `python -m tests.update_golden` " \
       "(from the repository root) and review `git diff tests/golden/ir`"
DOC = (ROOT / "docs" / "language.src.md").read_text(encoding="utf-8")
DOC_BLOCKS = {f"line {DOC.count(chr(10), 0, m.start()) + 1}": m.group(1)
              for m in re.finditer(r"^```ncd\n(.*?)^```$", DOC, re.M | re.S)}
IDS = [Path(s).stem for s in SPECS]


def _check(spec: str) -> ir.Program:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return ncdc.check_file(spec)
    finally:
        os.chdir(cwd)


# ---- golden files of the printed IR -------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_printed_ir_matches_golden(spec):
    golden = golden_ir_path(spec)
    if not golden.exists():
        pytest.fail(f"no golden file {golden.relative_to(ROOT)} for {spec}: {HINT}")
    expected = golden.read_text(encoding="utf-8")
    actual = generate_ir(spec)
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                            fromfile=f"tests/golden/ir/{golden.name}",
                                            tofile=f"ncdc check --emit ir {spec}"))
        pytest.fail(f"the IR of {spec} differs from its golden file:\n{diff}\n{HINT}", pytrace=False)


def test_no_ir_golden_file_without_a_spec():
    stems = {Path(s).stem for s in SPECS}
    stale = sorted(p.name for p in GOLDEN_IR.glob("*") if p.suffix != ".txt" or p.stem not in stems)
    assert not stale, f"IR golden files without a spec: {stale}; {HINT}"


def test_cli_emits_the_golden_ir():
    spec = "specs/attention.ncd"
    result = subprocess.run([sys.executable, "-m", "ncdc", "check", "--emit", "ir", spec], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout == golden_ir_path(spec).read_text(encoding="utf-8")
    assert "checked 1 spec: ok" in result.stderr


def test_cli_emit_ir_reports_errors_as_usual(tmp_path):
    bad = tmp_path / "bad.ncd"
    bad.write_text("def f(X: a) -> a:\n    return Y\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "ncdc", "check", "--emit", "ir", str(bad)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "E0101" in result.stderr and result.stdout == ""


def test_check_with_emit_ir_imports_neither_torch_nor_jinja():
    code = ("import sys; from ncdc.cli import main; import io, contextlib\n"
            "with contextlib.redirect_stdout(io.StringIO()): rc = main(['check', '--emit', 'ir', 'specs/vit.ncd'])\n"
            "assert rc == 0, rc\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'jinja2')]\n"
            "assert not bad, bad\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_printed_ir_is_the_same_in_every_process():
    """No ids, hashes or set orders leak into the text: two hash seeds, the same bytes."""
    code = ("import sys; sys.path.insert(0, 'tests'); from update_golden import spec_names, generate_ir\n"
            "sys.stdout.write(''.join(generate_ir(s) for s in spec_names()))\n")
    outputs = []
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                                timeout=300, env=env)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
    assert outputs[0] == "".join(golden_ir_path(s).read_text(encoding="utf-8") for s in SPECS)


def test_the_printer_shows_what_it_promises():
    text = generate_ir("specs/attention.ncd")
    assert "def ScaledDotProductAttention[y, k, x](Q: y k, K: x k, V: x k) -> y k  @11:1" in text
    assert "%0 = read Q : y k  @12:21" in text
    assert "einsum[inputs=[[y, k], [x, k]], output=[y, x]" in text
    assert "normalise[fn=softmax, dim=1](%6) : y x" in text
    assert "module MultiHeadAttention(m=128, k=16, h=4)" in text
    assert "part Lq = layer Linear[inputs=`m`, outputs=`k h`, bias=false, transposed=false]" in text
    assert "lifted=[h], after=[h]" in text and "instance={y=y, k=k, x=x}" in text


def test_a_new_node_class_prints_without_new_code():
    @dataclasses.dataclass(frozen=True, eq=False)
    class Clamp(ir.Value):
        operand: ir.Value
        low: float
        high: float = 1.0

    program = _check("specs/attention.ncd")
    function = program.functions[1]
    ret = function.body[-1]
    ret.values = [Clamp(ret.values[0].type, ret.values[0].span, ret.values[0], 0.0)]
    text = format_program(program)
    assert re.search(r"%\d+ = clamp\[low=0\.0\]\(%9\) : y k  @13:12", text), text


def test_a_wire_assigned_twice_prints_with_a_suffix(tmp_path):
    spec = "def f(X: a) -> a:\n    Y = X * 2\n    Y = Y + X\n    return Y\n"
    text = format_program(ncdc.check_source(spec, "f.ncd"))
    assert "  Y = %2  @2:5" in text and "read Y : a" in text and "  Y.1 = %5  @3:5" in text
    assert "read Y.1 : a" in text


# ---- the verifier on everything the checker builds ----------------------------------------------


def _bodies(program: ir.Program):
    for function in program.functions:
        yield function, None
    for module in program.modules:
        yield module.forward, module


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_verifier_passes_on_every_spec(spec):
    program = _check(spec)
    verify(program)
    for function, module in _bodies(program):  # and on the back end's rewrite of each body
        verify_body(function, fuse_attention(function.body), program, module)


@pytest.mark.parametrize("spec", DOC_BLOCKS.values(), ids=DOC_BLOCKS.keys())
def test_verifier_passes_on_every_documentation_example(spec):
    program = ncdc.check_source(spec, "language.md")
    verify(program)
    for function, module in _bodies(program):
        verify_body(function, fuse_attention(function.body), program, module)


def test_the_fusion_is_verified_somewhere():
    program = _check("specs/attention.ncd")
    fused = [fuse_attention(f.body) for f, _ in _bodies(program)]
    assert any(isinstance(n, ir.Attention) for body in fused for n in ir.walk(body))


# ---- the verifier on IR broken by hand ----------------------------------------------------------


SPEC = """\
size N = 3
box F: a -> a
def f(X: a b, Y: b) -> a:
    S = X * 2
    T = sum[b](S)
    for i in 0..N:
        T = T + 1
    return F(T)
"""


def _program() -> ir.Program:
    program = ncdc.check_source(SPEC, "broken.ncd")
    verify(program)  # intact, it verifies
    return program


def _first(program: ir.Program, cls):
    return next(n for n in ir.walk(program.functions[0].body) if isinstance(n, cls))


def _replace(program: ir.Program, old: ir.Value, new: ir.Value) -> None:
    """Put `new` where `old` is, anywhere in the first function's body."""
    def swap(node):
        return new if node is old else ir.map_node(node, lambda s: s, swap)

    def block(stmts):
        for stmt in stmts:
            if isinstance(stmt, ir.Assign):
                stmt.value = swap(stmt.value)
            elif isinstance(stmt, ir.Return):
                stmt.values = [swap(v) for v in stmt.values]
            else:
                block(stmt.body)

    block(program.functions[0].body)


def _caught(program: ir.Program, *words: str) -> str:
    with pytest.raises(IRError) as info:
        verify(program)
    message = str(info.value)
    assert message.startswith("broken.ncd:"), message
    for word in words:
        assert word in message, message
    return message


def test_a_read_of_an_undefined_wire_is_caught():
    program = _program()
    read = _first(program, ir.Read)
    stray = ir.Local("Z", read.local.type, read.span)
    _replace(program, read, ir.Read(read.type, read.span, stray))
    _caught(program, "reads `Z`", "not defined before")


def test_a_read_before_its_definition_is_caught():
    program = _program()
    body = program.functions[0].body
    body[0], body[1] = body[1], body[0]  # T = sum[b](S) before S = X * 2
    _caught(program, "reads `S`")


def test_a_var_left_in_a_type_is_caught():
    program = _program()
    stmt = program.functions[0].body[0]
    unknown = ir.Axis(Size.of(Var("b", owner="f")))
    t = stmt.value.type.with_axes((stmt.value.type.axes[0], unknown))
    stmt.value = dataclasses.replace(stmt.value, type=t)
    stmt.targets[0].type = t
    _caught(program, "unknown `b`")


def test_a_var_left_in_a_field_is_caught():
    program = _program()
    call = _first(program, ir.Call)
    instance = {g: Size.of(Var(g.name)) for g in call.instance}
    _replace(program, call, dataclasses.replace(call, instance=instance))
    _caught(program, "unknown")


def test_a_size_out_of_scope_is_caught():
    program = _program()
    stmt = program.functions[0].body[0]
    stray = ir.Axis(Size.of(Symbol("q")))
    t = stmt.value.type.with_axes((stmt.value.type.axes[0], stray))
    stmt.value = dataclasses.replace(stmt.value, type=t)
    stmt.targets[0].type = t
    _caught(program, "`q` is not in scope")


def test_the_loop_index_is_out_of_scope_after_the_loop():
    program = _program()
    loop = next(s for s in program.functions[0].body if isinstance(s, ir.For))
    ret = program.functions[0].body[-1]
    call = ret.values[0]
    const = ir.SizeValue(ir.SCALAR, call.span, Size.of(loop.var))
    ret.values = [ir.Binary(call.type, call.span, "*", call, const)]
    _caught(program, "`i` is not in scope")


def test_a_wrong_target_count_is_caught():
    program = _program()
    stmt = program.functions[0].body[0]
    stmt.targets.append(ir.Local("S2", stmt.targets[0].type, stmt.span))
    _caught(program, "2 targets", "1 output")


def test_a_target_of_another_type_is_caught():
    program = _program()
    stmt = program.functions[0].body[1]
    stmt.targets[0].type = program.functions[0].params[0].type
    _caught(program, "target `T` has type")


def test_a_tuple_used_as_one_value_is_caught():
    program = _program()
    read = _first(program, ir.Read)  # the operand of `X * 2`
    pair = ir.TupleType((read.type, read.type))
    _replace(program, read, dataclasses.replace(read, type=pair))
    _caught(program, "several outputs", "used as one value")


def test_reduce_dims_out_of_range_or_unsorted_are_caught():
    for dims in ((2,), (1, 0)):
        program = _program()
        node = _first(program, ir.Reduce)
        _replace(program, node, dataclasses.replace(node, dims=dims))
        _caught(program, "dims")


def test_a_normalise_dim_out_of_range_is_caught():
    program = ncdc.check_source("def f(X: a b) -> a b:\n    return softmax[b](X)\n", "broken.ncd")
    verify(program)
    node = program.functions[0].body[-1].values[0]
    program.functions[0].body[-1].values = [dataclasses.replace(node, dim=2)]
    _caught(program, "dim 2")


def test_einsum_labels_are_checked():
    spec = "def f(X: a b, Y: b c) -> a c:\n    return einsum[a c](X, Y)\n"
    for change in ({"inputs": (("a",), ("b", "c"))}, {"output": ("a", "z")}):
        program = ncdc.check_source(spec, "broken.ncd")
        verify(program)
        node = program.functions[0].body[-1].values[0]
        program.functions[0].body[-1].values = [dataclasses.replace(node, **change)]
        _caught(program, "Einsum")


def test_call_arity_and_instances_are_checked():
    program = _program()
    call = _first(program, ir.Call)
    _replace(program, call, dataclasses.replace(call, layouts=call.layouts * 2))
    _caught(program, "layouts")
    program = _program()
    call = _first(program, ir.Call)
    _replace(program, call, dataclasses.replace(call, instance={}))
    _caught(program, "instantiates")


def test_index_items_must_match_the_rank():
    program = ncdc.check_source("def f(X: 4 5) -> 5:\n    return X[2]\n", "broken.ncd")
    verify(program)
    node = program.functions[0].body[-1].values[0]
    program.functions[0].body[-1].values = [dataclasses.replace(node, items=node.items[:1])]
    _caught(program, "index items")


def test_a_node_without_a_span_is_caught():
    program = _program()
    node = _first(program, ir.Const)
    _replace(program, node, dataclasses.replace(node, span=None))
    _caught(program, "no span")


def test_a_missing_return_is_caught():
    program = _program()
    program.functions[0].body.pop()
    _caught(program, "return")


def test_a_broken_fused_body_is_caught():
    program = _check("specs/attention.ncd")
    function = program.functions[0]
    fused = fuse_attention(function.body)
    verify_body(function, fused, program)
    with pytest.raises(IRError, match="not defined before"):
        verify_body(function, fused[1:], program)  # a statement the fusion kept, dropped
