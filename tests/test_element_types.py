"""Element types: `int` and `bool` wires beside the default floats, in the checker, the generated
code's run-time checks, and the inputs the tests and `ncdc run` make."""

from __future__ import annotations

import pytest
import torch

import ncdc
from ncdc import ir
from ncdc.runner import random_tensor

SPEC = "tests/constructs/element_types.ncd"


@pytest.fixture(scope="module")
def defs():
    return ncdc.load(SPEC)


def test_element_types_are_in_the_ir():
    program = ncdc.check_file(SPEC)
    types = {f.name: (f.inputs, f.outputs) for f in program.functions}
    assert [t.dtype for t in types["total"][0]] == ["int"] and types["total"][1][0].dtype == "int"
    assert types["halves"][1][0].dtype == "float"  # integers divided are floats
    assert str(types["transpose"][1][0]) == "bool x y"


def test_generated_code_computes_in_the_declared_element_types(defs):
    T = torch.tensor([1, 2, 3])
    assert defs.total(T).dtype == torch.int64 and defs.total(T).item() == 6
    torch.testing.assert_close(defs.halves(T), torch.tensor([0.5, 1.0, 1.5]))
    X = torch.rand(3)
    torch.testing.assert_close(defs.weigh(T, X), X * (T * 3 + 1) / 4)
    M = torch.tensor([[True, False, True]])
    assert torch.equal(defs.transpose(M), M.T)
    assert defs.both(M[0], ~M[0]).dtype == torch.bool


@pytest.mark.parametrize("wrong, expected", [(torch.rand(3), "int"), (torch.tensor([True, False]), "int")])
def test_inputs_of_another_element_type_are_rejected_at_run_time(defs, wrong, expected):
    with pytest.raises(TypeError, match=rf"T: expected {expected} elements for `int t`"):
        defs.total(wrong)


def test_float_inputs_are_checked_too(defs):
    with pytest.raises(TypeError, match="X: expected float elements for `t`"):
        defs.weigh(torch.tensor([1, 2]), torch.tensor([1, 2]))
    with pytest.raises(TypeError, match="M: expected bool elements"):
        defs.transpose(torch.zeros(2, 2))


@pytest.mark.parametrize("dtype, check", [("float", torch.Tensor.is_floating_point),
                                          ("int", lambda t: t.dtype == torch.int64),
                                          ("bool", lambda t: t.dtype == torch.bool)])
def test_random_inputs_follow_the_element_type(dtype, check):
    assert check(random_tensor(dtype, (2, 3)))


ILL_TYPED = [
    ("def f(T: int t) -> int t:\n    return softmax[t](T)\n", "E0316", "`softmax` takes float elements"),
    ("def f(T: int t) -> int t:\n    return relu(T)\n", "E0316", "`relu` takes float elements"),
    ("def f(M: bool t) -> bool t:\n    return M + M\n", "E0316", "arithmetic on bool elements"),
    ("def f(T: int t, X: u) -> t u:\n    return einsum[t u](T, X)\n", "E0316", "`einsum` takes float"),
    ("def f(T: int t) -> t:\n    return T\n", "E0316", "the returned value holds int elements, expected float"),
    ("def g(X: t) -> t:\n    return X\ndef f(T: int t) -> t:\n    return g(T)\n", "E0316",
     "argument 1 of `g` holds int elements"),
    ("module M(m=4):\n    L = Linear[m -> m]()\n\n    def forward(T: int m) -> m:\n        return L(T)\n",
     "E0316", "holds int elements, expected float"),
    ("def f(A: int t, B: t) -> t:\n    return concat[t](A, B)\n", "E0316", "one element type"),
    ("def f(X: t int) -> t:\n    return X\n", "E0008", "`int` is an element type, not an axis"),
    ("def f(X: t) -> t:\n    return softmax[int t](X)\n", "E0316", "an axis list has no element type"),
]


@pytest.mark.parametrize("source, code, message", ILL_TYPED, ids=[c for _, c, _ in ILL_TYPED])
def test_ill_typed_element_types_are_rejected(source, code, message):
    with pytest.raises(ncdc.NcdcError) as info:
        ncdc.check_source(source, "bad.ncd")
    diagnostic = info.value.diagnostics[0]
    assert diagnostic.code == code and message in diagnostic.message, diagnostic.render()
    assert diagnostic.span is not None


def test_the_scalar_type_is_a_float():
    assert ir.SCALAR.dtype == "float"
