"""Index wires and constant buffers: `arange(t)`, and `buffer NAME = ...` in a module.

The references are written here in plain torch: the positions, the sinusoidal table computed
with `exp` and `log` rather than a power (as tensor2tensor's timing signal is), and an Embedding's
own rows.  Buffers are not state (state_dicts stay those of the reference modules), move with
`.to()`, are sliced to the call's length behind a clear precondition, and survive
torch.compile(fullgraph=True) and torch.export.
"""

from __future__ import annotations

import math

import pytest
import torch

import ncdc
from ncdc import NcdcError

SPEC = "tests/constructs/buffers.ncd"


@pytest.fixture(scope="module")
def spec():
    return ncdc.load(SPEC)


def _x(*shape, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0), dtype=dtype)


def _table(m: int, rows: int) -> torch.Tensor:
    """The half-split sinusoidal table: sin(p w_i) then cos(p w_i), w_i = 10000^(-2i/m)."""
    freq = torch.exp(torch.arange(0, m, 2, dtype=torch.float64) * (-math.log(10000.0) / m))
    angle = torch.arange(rows, dtype=torch.float64)[:, None] * freq[None, :]
    return torch.cat([angle.sin(), angle.cos()], dim=-1).float()


def test_arange_promotes_to_floats_in_arithmetic(spec):
    x = _x(2, 5, 3)
    torch.testing.assert_close(spec.ramp(x), x * (torch.arange(5.0) / 5)[:, None])


def test_positions_index_an_embedding(spec):
    model = spec.LearnedPositions(n=10, m=4)
    x = _x(3, 7, 4)
    torch.testing.assert_close(model(x), x + model.wpe.weight[:7])
    with pytest.raises(ValueError, match=r"needs t <= n .*got n = 10, t = 11"):
        model(_x(11, 4))


def test_sinusoidal_buffer_is_computed_by_the_spec(spec):
    model = spec.SinusoidalEncoding(m=16, max_len=50)
    torch.testing.assert_close(model.table, _table(16, 50), atol=1e-5, rtol=1e-5)
    x = _x(2, 9, 16)
    torch.testing.assert_close(model(x), x + _table(16, 9), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(model(x[0]), x[0] + _table(16, 9), atol=1e-5, rtol=1e-5)  # no batch axis


def test_buffers_are_not_state_and_move_with_the_module(spec):
    model = spec.SinusoidalEncoding(m=8, max_len=12)
    assert list(model.state_dict()) == []  # non-persistent: a reference's state_dict loads strictly
    model.load_state_dict({}, strict=True)
    assert [name for name, _ in model.named_buffers()] == ["inv_freq", "angle", "table"]
    wide = model.to(torch.float64)
    assert wide.table.dtype == torch.float64
    x = _x(4, 8, dtype=torch.float64)
    torch.testing.assert_close(wide(x), x + _table(8, 4).double(), atol=1e-5, rtol=1e-5)


def test_a_call_longer_than_the_table_is_a_clear_error(spec):
    model = spec.SinusoidalEncoding(m=8, max_len=12)
    with pytest.raises(ValueError, match=r"needs max_len >= t .*got max_len = 12, t = 13"):
        model(_x(13, 8))


def test_buffers_compile_and_export(spec):
    model = spec.SinusoidalEncoding(m=8, max_len=12).eval()
    x = _x(2, 5, 8)
    torch.testing.assert_close(torch.compile(model, fullgraph=True, backend="eager")(x), model(x))
    exported = torch.export.export(model, (x,))
    torch.testing.assert_close(exported.module()(x), model(x))


def test_generated_code_registers_and_slices(spec):
    code = ncdc.compile_file(SPEC)
    table = "torch.cat((torch.sin(self.angle), torch.cos(self.angle)), dim=-1)"
    assert f'self.register_buffer("table", {table}, persistent=False)' in code
    assert "self.base ** (2 * torch.arange(self.half) / self.m)" in code
    assert "return X + self.table[..., :t, :]" in code
    assert "self.wpe(torch.arange(t, device=X.device))" in code  # no id check: the range is a size precondition


@pytest.mark.parametrize("text, code, message", [
    ("def f(X: t) -> int t:\n    return arange(X)\n", "E0104", "unknown size `X`"),
    ("def f(X: t) -> int t:\n    return arange(t, t)\n", "E0350", "`arange` takes one size"),
    ("module M(n=4):\n    buffer b = 2.0 * n\n\n    def forward(X: n) -> n:\n        return X\n", "E0351",
     "buffer `b` is a number, not a wire"),
    (("module M(n=4):\n    w = Parameter[n]()\n    buffer b = w * 2.0\n\n"
      "    def forward(X: n) -> n:\n        return X + b\n"), "E0351", "buffer `b` reads a learned part"),
    ("module M(n=4):\n    buffer b = arange(n) * 1.0\n\n    def forward(X: t) -> t:\n        return X + b\n",
     "E0309", None),
    ("module M(n=4):\n    buffer b = arange(n) * 1.0\n\n    def forward(X: t) -> t:\n        return X + b[0:t + n]\n",
     "E0307", None),
])
def test_ill_typed_index_wires_and_buffers(text, code, message):
    with pytest.raises(NcdcError) as error:
        ncdc.check_source(text, "x.ncd")
    diagnostic = error.value.diagnostics[0]
    assert diagnostic.code == code, diagnostic
    if message:
        assert message in diagnostic.message
