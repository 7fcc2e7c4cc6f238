"""Generated models go where PyTorch models go: torch.export with the spec's dynamic shapes, and ONNX
(the dynamo exporter), checked by running the exported programs on new sizes against eager PyTorch
and, for ONNX, against onnxruntime."""

from __future__ import annotations

import io
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import torch

import ncdc
from ncdc import export, ir
from ncdc.runner import HYPERPARAMETER, parameter_count

SPECS = Path(__file__).resolve().parent.parent / "specs"

# Small models that cover the kinds of axes: sequences (attention), a strided image side (resnet's
# projection: least 9), a multiple (`2*H` of the U-Net's up step), a precondition (a kernel must fit).
CASES = [("attention.ncd", "MultiHeadAttention", {"m": 16, "k": 4, "h": 2}),
         ("resnet.ncd", "ProjectionResidual", {"n0": 4, "n1": 8, "s": 2}),
         ("unet.ncd", "UpStep", {"c1": 4, "c0": 2}),
         ("visual_attention.ncd", "VisualAttention", {}),
         ("visual_attention.ncd", "VisualAttentionSingleHead", {}),
         ("attention.ncd", "ScaledDotProductAttention", {}),
         ("linear_algebra.ncd", "outer_unit", {}),
         ("einsum.ncd", "scores", {})]


@pytest.fixture(scope="module")
def built(spec_path):
    """Each case's program, eager model, example inputs and dynamic shapes, built once."""
    torch.manual_seed(0)
    found = {}
    for spec, name, hparams in CASES:
        program = ncdc.check_file(spec_path(spec))
        made = getattr(ncdc.load(spec_path(spec)), name)
        model = made(**hparams).eval() if isinstance(made, type) else export.as_module(made)
        inputs = export.example_inputs(program, name, hparams)
        shapes = export.dynamic_shapes(program, name, hparams)
        shapes = shapes if isinstance(made, type) else (shapes,)  # a def's module takes `*inputs`
        found[name] = (program, model, inputs, hparams, shapes)
    return found


def _outputs(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


@pytest.mark.parametrize("name", [c[1] for c in CASES])
def test_export_with_the_specs_dynamic_shapes_runs_on_new_sizes(built, name):
    program, model, inputs, hparams, shapes = built[name]
    exported = torch.export.export(model, inputs, dynamic_shapes=shapes)
    for batch, offset in [(2, 0), (5, 3)]:
        new = tuple(torch.rand(s) for s in export.example_sizes(program, name, hparams, batch=batch, offset=offset))
        assert [t.shape for t in new] != [t.shape for t in inputs]
        with torch.no_grad():
            for got, want in zip(_outputs(exported.module()(*new)), _outputs(model(*new))):
                torch.testing.assert_close(got, want)


def test_dynamic_shapes_follow_the_spec(built):
    from torch.export import Dim

    program, *_ = built["UpStep"]
    (x, c) = export.dynamic_shapes(program, "UpStep", {"c1": 4, "c0": 2})
    assert set(x) == {0, 2, 3} and set(c) == {0, 2, 3}  # the channels are fixed by the hyperparameters
    assert str(c[2]) == str(2 * Dim("H", min=2))  # `c0 (2 * H) (2 * W)`: derived from the first input's H
    program, *_ = built["ProjectionResidual"]
    (x,) = export.dynamic_shapes(program, "ProjectionResidual", {"n0": 4, "n1": 8, "s": 2})
    assert x[2].min == 3  # a stride-2 convolution: (H - 1) // 2 + 1 >= 2 (torch would specialise a side of 1)
    program, *_ = built["scores"]
    q, _ = export.dynamic_shapes(program, "scores")
    assert 2 not in q  # `/ sqrt(k)`: export specialises k, so it stays static


def test_a_precondition_that_bounds_a_size_from_above_is_its_dims_max():
    """GPT2Model's positions are `arange(t)` into a table of n_positions rows: `t <= n_positions` is the
    Dim's max, so torch.export (which would otherwise see the bound as a violated constraint) exports one
    program for every length up to the table's."""
    spec = SPECS / "gpt2.ncd"
    hp = {"n_embd": 8, "n_head": 2, "n_layer": 1, "vocab_size": 10, "n_positions": 16, "n_inner": 16}
    program = ncdc.check_file(spec)
    ids, padding = export.dynamic_shapes(program, "GPT2Model", hp)
    assert ids[1].max == 16 and ids[1].min == 2
    model = ncdc.load(spec).GPT2Model(**hp).eval()
    exported = torch.export.export(model, export.example_inputs(program, "GPT2Model", hp),
                                   dynamic_shapes=(ids, padding))
    new = export.example_inputs(program, "GPT2Model", hp, batch=5, offset=3)
    with torch.no_grad():
        torch.testing.assert_close(exported.module()(*new), model(*new))


# A bound checked inside a part: the sizes of the call (the part's `t` is the caller's `s`) and of
# the instance (its `n` is the caller's `n + 2`) carry it up; a def the part calls carries its own.
CARRIED = """
def third(X: t k) -> k:
    return X[2, :]

module Window(n=6):
    buffer table = arange(n) * 1.0

    def forward(X: t k) -> t:
        return table[0:t] + third(X)[0]

module Outer(n=6, k=4):
    window = Window(n + 2)

    def forward(X: s k) -> s:
        return window(X)
"""


def test_a_bound_checked_inside_a_part_is_carried_up_through_the_call(tmp_path):
    spec = tmp_path / "carried.ncd"
    spec.write_text(CARRIED, encoding="utf-8")
    program = ncdc.check_file(spec)
    (x,) = export.dynamic_shapes(program, "Window")
    assert (x[1].min, x[1].max) == (3, 6)  # `X[2, :]` in the def it calls; `table[0:t]` of n rows
    (x,) = export.dynamic_shapes(program, "Outer", {"n": 10})
    assert (x[1].min, x[1].max) == (3, 12)  # the same, over Outer's sizes: s, and n + 2 rows
    model = ncdc.load(spec).Outer(n=10).eval()
    exported = torch.export.export(model, export.example_inputs(program, "Outer", {"n": 10}),
                                   dynamic_shapes=(x,))
    for s in (3, 12):
        new = torch.rand(2, s, 4)
        torch.testing.assert_close(exported.module()(new), model(new))
    with pytest.raises(AssertionError, match="<= 12"):  # past the table: the exported program refuses it
        exported.module()(torch.rand(2, 13, 4))


# The models whose sequence length is bounded inside a part (a rotary table of LlamaModel and
# DeepseekV3SelfAttention, Vaswani's positional encoding), with small sizes.
BOUNDED = [("llama.ncd", "LlamaModel", "max_position_embeddings",
            dict(vocab_size=11, hidden_size=8, intermediate_size=16, num_hidden_layers=2, num_key_value_heads=1,
                 num_attention_heads=2, head_dim=4, max_position_embeddings=16)),
           ("deepseek.ncd", "DeepseekV3SelfAttention", "max_position_embeddings",
            dict(hidden_size=8, num_attention_heads=2, q_lora_rank=4, kv_lora_rank=4, qk_nope_head_dim=2,
                 qk_rope_head_dim=2, v_head_dim=2, max_position_embeddings=16)),
           ("transformer.ncd", "Vaswani", "max_len",
            dict(src_vocab_size=11, tgt_vocab_size=13, d_model=8, nhead=2, num_encoder_layers=1,
                 num_decoder_layers=1, dim_feedforward=16, max_len=16))]


@pytest.mark.parametrize("spec, name, table, hparams", BOUNDED, ids=[b[1] for b in BOUNDED])
def test_export_of_a_length_bounded_inside_a_part_runs_on_new_lengths(spec, name, table, hparams):
    program = ncdc.check_file(SPECS / spec)
    shapes = export.dynamic_shapes(program, name, hparams)
    lengths = {d.__name__: d for shape in shapes for i, d in shape.items() if i == 1}
    assert lengths and all((d.min, d.max) == (2, hparams[table]) for d in lengths.values())
    torch.manual_seed(0)
    model = getattr(ncdc.load(SPECS / spec), name)(**hparams).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exported = torch.export.export(model, export.example_inputs(program, name, hparams), dynamic_shapes=shapes)
    for batch, offset in [(5, 3), (2, 14)]:  # the second: the longest is the table's length
        new = export.example_inputs(program, name, hparams, batch=batch, offset=offset)
        with torch.no_grad():
            torch.testing.assert_close(exported.module()(*new), model(*new))
    assert max(t.shape[1] for t in new) == hparams[table]


# Fused attention on 4-D inputs (heads) and on 3-D ones (a batch, no heads), and an einsum of a
# batched input with an unbatched eye: written by `export.onnx_translations`, as the exporter's
# own translations take attention only in 4-D and onnxruntime's Einsum does not broadcast `...`.
@pytest.mark.parametrize("name", ["MultiHeadAttention", "VisualAttention", "VisualAttentionSingleHead",
                                  "ScaledDotProductAttention", "outer_unit"])
def test_onnx_export_matches_onnxruntime(built, name):
    import onnxruntime

    program, model, inputs, hparams, shapes = built[name]
    with redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's own deprecation notices
        onnx_program = torch.onnx.export(model, inputs, dynamo=True, dynamic_shapes=shapes,
                                         custom_translation_table=export.onnx_translations())
    session = onnxruntime.InferenceSession(onnx_program.model_proto.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    new = tuple(torch.rand(s) for s in export.example_sizes(program, name, hparams, offset=2))
    got = session.run(None, {i.name: t.numpy() for i, t in zip(session.get_inputs(), new)})
    with torch.no_grad():
        for g, want in zip(got, _outputs(model(*new))):
            torch.testing.assert_close(torch.from_numpy(g), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mask", ["causal", "bool", "grouped"])
def test_onnx_attention_on_3d_inputs_with_a_mask(mask):
    import onnxruntime

    class Attend(torch.nn.Module):
        def forward(self, q, k, v, m):
            if mask == "causal":
                return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            if mask == "grouped":  # 6 query heads, 2 key and value heads
                return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m)

    torch.manual_seed(0)
    q, k, v = torch.rand(2, 5, 4), torch.rand(2, 6, 4), torch.rand(2, 6, 4)
    if mask == "grouped":
        q, k, v = torch.rand(6, 5, 4), torch.rand(2, 6, 4), torch.rand(2, 6, 4)
    m = torch.rand(5, 6) > 0.5
    m[:, 0] = True  # every query sees a key
    with redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onnx_program = torch.onnx.export(Attend(), (q, k, v, m), dynamo=True,
                                         custom_translation_table=export.onnx_translations())
    session = onnxruntime.InferenceSession(onnx_program.model_proto.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    feed = {i.name: t.numpy() for i, t in zip(session.get_inputs(), (q, k, v, m))}
    (got,) = session.run(None, feed)
    torch.testing.assert_close(torch.from_numpy(got), Attend()(q, k, v, m), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mask", ["float", "bool"])
@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "legacy"])
def test_onnx_attention_over_a_wholly_dropped_row_is_zero_as_in_torch(mask, dynamo):
    """A row of scores that the mask drops at every key (a causal mask beside padding: Vaswani's
    decoder) gets weights of 0 in torch's fused attention; ONNX's Softmax of -inf everywhere is NaN,
    which the translations (`onnx_translations`, `legacy_onnx_symbolics`) must not leave."""
    import onnxruntime

    class Attend(torch.nn.Module):
        def forward(self, q, k, v, m):
            return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m)

    torch.manual_seed(0)
    q, k, v = torch.rand(2, 3, 5, 4), torch.rand(2, 3, 6, 4), torch.rand(2, 3, 6, 4)
    keep = torch.rand(5, 6) > 0.5
    keep[:, 0], keep[2] = True, False  # the third query sees no key
    m = keep if mask == "bool" else torch.zeros(5, 6).masked_fill(~keep, -torch.inf)
    want = Attend()(q, k, v, m)
    assert torch.equal(want[:, :, 2], torch.zeros(2, 3, 4)) and not want.isnan().any()
    with redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            data = torch.onnx.export(Attend(), (q, k, v, m), dynamo=True,
                                     custom_translation_table=export.onnx_translations()).model_proto
            data = data.SerializeToString()
        else:
            file = io.BytesIO()
            with export.legacy_onnx_symbolics():
                torch.onnx.export(Attend(), (q, k, v, m), file, dynamo=False)
            data = file.getvalue()
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {i.name: t.numpy() for i, t in zip(session.get_inputs(), (q, k, v, m))})
    torch.testing.assert_close(torch.from_numpy(got), want, rtol=1e-4, atol=1e-5)


def test_onnx_of_vaswani_with_dynamic_shapes_matches_eager_on_new_lengths():
    """Vaswani's decoder drops whole rows (query 0 sees only key 0, padding in the examples): the
    exported graph gave NaN there, where eager PyTorch gives finite numbers."""
    import onnxruntime

    spec, name, _, hparams = BOUNDED[2]
    program = ncdc.check_file(SPECS / spec)
    torch.manual_seed(0)
    model = ncdc.load(SPECS / spec).Vaswani(**hparams).eval()
    inputs = export.example_inputs(program, name, hparams)
    with redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onnx_program = torch.onnx.export(model, inputs, dynamo=True,
                                         dynamic_shapes=export.dynamic_shapes(program, name, hparams),
                                         custom_translation_table=export.onnx_translations())
    session = onnxruntime.InferenceSession(onnx_program.model_proto.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    new = export.example_inputs(program, name, hparams, batch=5, offset=3)
    (got,) = session.run(None, {i.name: t.numpy() for i, t in zip(session.get_inputs(), new)})
    with torch.no_grad():
        want = model(*new)
    assert not want.isnan().any()
    torch.testing.assert_close(torch.from_numpy(got), want, rtol=1e-4, atol=1e-5)


def test_a_trace_is_clean(built):
    """The shape checks stand aside under torch.jit.trace (which fixes the example's sizes anyway)."""
    _, model, inputs, _, _ = built["MultiHeadAttention"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        traced = torch.jit.trace(model, inputs)
    assert not [w for w in caught if issubclass(w.category, torch.jit.TracerWarning)]
    torch.testing.assert_close(traced(*inputs), model(*inputs))


# Wrong inputs: a size that differs (read off another input, or fixed by a hyperparameter), a missing
# axis, the wrong element type, a precondition checked at each call (a pooling kernel must fit).
WRONG = [("attention.ncd", "MultiHeadAttention", {"m": 16, "k": 4, "h": 2},
          [((3, 5, 16), (3, 6, 16))], [(3, 5, 15), (3, 6, 16)]),
         ("attention.ncd", "ScaledDotProductAttention", None, [((5, 4), (6, 4), (6, 4))], [(5, 4), (6, 4), (6, 3)]),
         ("attention.ncd", "MultiHeadAttention", {"m": 16, "k": 4, "h": 2},
          [((3, 5, 16), (3, 6, 16))], [(16,), (6, 16)]),
         ("attention.ncd", "ScaledDotProductAttention", None, [((5, 4), (6, 4), (6, 4))], [(5, 4), (6, 4), "int"]),
         ("unet.ncd", "DownScaleBlock", {"c0": 2, "c1": 4}, [((1, 2, 8, 8),), ((1, 2, 6, 8),)], [(1, 2, 1, 8)])]


@pytest.mark.parametrize("first", ["right", "wrong"])
@pytest.mark.parametrize("case", range(len(WRONG)), ids=[f"{w[1]}-{i}" for i, w in enumerate(WRONG)])
def test_a_wrong_input_under_torch_compile_fullgraph_gets_the_shape_check_message(spec_path, first, case):
    """Under torch.compile(fullgraph=True) a wrong input raises the message eager PyTorch raises (as an
    AssertionError: dynamo lets no other exception type leave compiled code), not dynamo's
    `Unsupported: Observed exception`: whether the first call compiles it (static sizes) or a
    recompilation after right calls does (sizes that changed are then symbolic)."""
    spec, name, hparams, right, wrong = WRONG[case]
    made = getattr(ncdc.load(spec_path(spec)), name)
    model = made(**hparams) if hparams is not None else made
    bad = tuple(torch.randint(0, 3, right[0][-1]) if s == "int" else torch.rand(s) for s in wrong)
    with pytest.raises((ValueError, TypeError)) as eager:
        model(*bad)
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True, backend="eager" if first == "right" else "inductor")
    if first == "right":  # inductor is never reached when the first call fails
        for shapes in right:
            compiled(*(torch.rand(s) for s in shapes))
    with pytest.raises(AssertionError) as caught:
        compiled(*bad)
    assert str(caught.value).split("\n")[0] == str(eager.value)


def test_the_compatibility_table_covers_every_shipped_model(spec_path):
    """docs/compat.md (written by docs/compat.py, which measures each cell) names every def and module
    of specs/, and every cell passes or says why not."""
    root = Path(__file__).resolve().parent.parent
    lines = (root / "docs" / "compat.md").read_text(encoding="utf-8").splitlines()
    header = next(line.split("|")[1:-1] for line in lines if line.startswith("| spec "))
    rows = [line.split("|")[1:-1] for line in lines if line.startswith("| ") and not line.startswith("| spec ")]
    listed = {(r[0].strip(), r[1].strip()) for r in rows}
    shipped = set()
    for spec in sorted((root / "specs").glob("*.ncd")):
        program = ncdc.check_file(spec)
        shipped |= {(spec.name, item.name) for item in [*program.modules, *program.functions]}
    assert listed == shipped, "run `python docs/compat.py` to refresh docs/compat.md"
    assert all(len(r) == len(header) and all(c.strip() for c in r) for r in rows)


# The TorchScript-based ONNX exporter (`dynamo=False`, deprecated since torch 2.9) on every shipped
# def and module, except these, which it cannot take (the dynamo exporter, above, takes them all but
# the routed Mixtral models):
LEGACY_ONNX_CANNOT = {
    "Gc": "abstract boxes run under torch.vmap, which TorchScript tracing does not support",
    "Hc0": "abstract boxes run under torch.vmap, which TorchScript tracing does not support",
    # An einsum whose `...` stand for different numbers of axes (an unbatched eye beside a batched
    # input), which torch broadcasts: the exporter crashes (a segmentation fault) on F_linear_transpose's,
    # and writes outer_unit's as an Einsum that onnxruntime rejects (`onnx_translations` pads them for dynamo).
    "F_linear_transpose": "the exporter's einsum translation crashes the process",
    "outer_unit": "onnxruntime's Einsum rejects `...` of different ranks",
    "MixtralExperts": "the routing's stable argsort: the exporter has no Sort with an out parameter",
    "MixtralSparseMoeBlock": "the routing's stable argsort: the exporter has no Sort with an out parameter",
    "keep_padded": "onnxruntime has no Where of bool operands (the exporter writes one for `where` of masks)",
    "LlamaDecoderLayer": "the exporter has no translation of aten::rms_norm",
    "LlamaModel": "the exporter has no translation of aten::rms_norm",
    "DeepseekV3Attention": "the exporter has no translation of aten::rms_norm",
    "DeepseekV3SelfAttention": "the exporter has no translation of aten::rms_norm",
}

# Sizes the example inputs need beyond 4 (none today: kept for a table that must cover the sequence).
LEGACY_ONNX_SIZES: dict[str, dict[str, int]] = {}


LEGACY_ONNX_PARAMETERS = 2 ** 20


def _shipped() -> list[tuple[str, str]]:
    found = []
    for spec in sorted(SPECS.glob("*.ncd")):
        program = ncdc.check_file(spec)
        found += [(spec.name, name) for name in program.order
                  if name in {d.name for d in [*program.functions, *program.modules]}]
    return found


SHIPPED = _shipped()


def test_the_legacy_onnx_exceptions_are_shipped_models():
    assert set(LEGACY_ONNX_CANNOT) <= {name for _, name in SHIPPED}


@pytest.mark.parametrize("spec, name", [s for s in SHIPPED if s[1] not in LEGACY_ONNX_CANNOT],
                         ids=[f"{s[0][:-4]}-{s[1]}" for s in SHIPPED if s[1] not in LEGACY_ONNX_CANNOT])
def test_legacy_onnx_export_matches_onnxruntime(spec, name):
    """Every permutation is emitted as transposes: a `movedim` of negative dims became a Transpose
    with a negative `perm` (`Invalid attribute perm {0, -1, 1, 2}`), which onnxruntime rejects.
    Attention goes through `export.legacy_onnx_symbolics`: the exporter's own translation gives NaN
    for a row that a float mask drops wholly (Vaswani's decoder: causal mask and padding), where
    torch gives 0."""
    import onnxruntime

    program = ncdc.check_file(SPECS / spec)
    made = getattr(ncdc.load(SPECS / spec, stubs=True), name)
    item = next(d for d in [*program.functions, *program.modules] if d.name == name)
    # Every size hyperparameter 4 (layers, heads, widths): the exporter traces each layer, and writes
    # every weight into the file.
    hparams = {h.name: 4 if h.kind == "size" else HYPERPARAMETER for h in getattr(item, "hparams", [])
               if h.default is None or h.kind == "size"} | LEGACY_ONNX_SIZES.get(name, {})
    if isinstance(item, ir.Module) and parameter_count(made, hparams) > LEGACY_ONNX_PARAMETERS:
        pytest.skip("its sizes are fixed in the spec, over a million parameters: docs/compat.md measures it")
    model = made(**hparams).eval() if isinstance(item, ir.Module) else export.as_module(made)
    torch.manual_seed(0)
    inputs = export.example_inputs(program, name, hparams)
    file = io.BytesIO()
    with redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's deprecation notice, and TracerWarnings
        with export.legacy_onnx_symbolics():
            torch.onnx.export(model, inputs, file, dynamo=False)
    session = onnxruntime.InferenceSession(file.getvalue(), providers=["CPUExecutionProvider"])
    got = session.run(None, {i.name: t.numpy() for i, t in zip(session.get_inputs(), inputs)})
    with torch.no_grad():
        want = _outputs(model(*inputs))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if item.boxes:  # random stubs: only the shapes mean anything
            assert g.shape == tuple(w.shape)
        else:
            torch.testing.assert_close(torch.from_numpy(g), w, rtol=1e-4, atol=1e-5)
