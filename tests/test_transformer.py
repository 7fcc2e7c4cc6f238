"""The transformer of specs/transformer.ncd against `torch.nn`'s: hyperparameters that are not sizes
(floats, bools, choices), static conditionals on them, and what the checker says of their misuse."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch
from torch import nn

import ncdc
from ncdc import NcdcError, check_source

SPEC = Path(__file__).resolve().parent.parent / "specs" / "transformer.ncd"
SMALL = dict(d_model=16, nhead=2, dim_feedforward=24)


@pytest.fixture(scope="module")
def transformer():
    return ncdc.load(SPEC)


def _heads_inner(w: torch.Tensor, h: int) -> torch.Tensor:
    """torch.nn.MultiheadAttention's features are (h k), heads outer; the spec's `Linear[m -> k h]`
    has them inner: the same rows in the spec's order."""
    return w.reshape(h, w.shape[0] // h, *w.shape[1:]).transpose(0, 1).reshape(w.shape)


def attention_weights(sd: dict, prefix: str, h: int) -> dict:
    """A torch.nn.MultiheadAttention's weights as the spec's MultiheadAttention names them."""
    out = {}
    weights = sd[f"{prefix}.in_proj_weight"].chunk(3)
    biases = sd[f"{prefix}.in_proj_bias"].chunk(3)
    for name, w, b in zip(("q_proj", "k_proj", "v_proj"), weights, biases):
        out[f"{name}.weight"], out[f"{name}.bias"] = _heads_inner(w, h), _heads_inner(b, h)
    out["out_proj.weight"] = _heads_inner(sd[f"{prefix}.out_proj.weight"].T, h).T
    out["out_proj.bias"] = sd[f"{prefix}.out_proj.bias"]
    return out


def encoder_layer_weights(sd: dict, h: int, prefix: str = "") -> dict:
    """A torch.nn.TransformerEncoderLayer's state_dict under the spec's names."""
    out = {f"self_attn.{k}": v for k, v in attention_weights(sd, f"{prefix}self_attn", h).items()}
    for name in ("linear1", "linear2", "norm1", "norm2"):
        for p in ("weight", "bias"):
            out[f"{name}.{p}"] = sd[f"{prefix}{name}.{p}"]
    return out


def causal_mask(t: int) -> torch.Tensor:
    """torch's additive float mask: 0 where a query may attend, -inf after it."""
    return torch.full((t, t), float("-inf")).triu(1)


def padding_mask(*shape: int) -> torch.Tensor:
    """torch's key padding mask: true at the keys to ignore; the first key of each row is kept, so
    that no query is left with nothing to attend to."""
    pad = torch.rand(shape) < 0.4
    pad[..., 0] = False
    return pad


def torch_masks(mask: torch.Tensor, pad: torch.Tensor, kind: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The masks as torch takes them, both float (additive) or both bool (true: ignore); the spec
    always takes the additive mask and the bool padding."""
    if kind == "bool":
        return mask == float("-inf"), pad
    return mask, torch.zeros(pad.shape).masked_fill(pad, float("-inf"))


@pytest.mark.parametrize("norm_first, activation", list(itertools.product([False, True], ["relu", "gelu"])))
@pytest.mark.parametrize("batch", [(), (3,)], ids=["no-batch", "batch"])
@pytest.mark.parametrize("kind", ["float", "bool"])
def test_encoder_layer_equals_torch(transformer, norm_first, activation, batch, kind):
    torch.manual_seed(0)
    reference = nn.TransformerEncoderLayer(16, 2, 24, dropout=0.1, activation=activation, norm_first=norm_first,
                                           batch_first=True).eval()
    ours = transformer.TransformerEncoderLayer(**SMALL, dropout=0.1, activation=activation,
                                               norm_first=norm_first).eval()
    ours.load_state_dict(encoder_layer_weights(reference.state_dict(), 2), strict=True)
    X = torch.randn(*batch, 5, 16, requires_grad=True)
    mask, pad = causal_mask(5), padding_mask(*batch, 5)
    src_mask, key_padding = torch_masks(mask, pad, kind)
    if batch:
        expected = reference(X, src_mask=src_mask, src_key_padding_mask=key_padding)
    else:
        expected = reference(X[None], src_mask=src_mask, src_key_padding_mask=key_padding[None])[0]
    actual = ours(X, mask, pad)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-5)
    (g_ours,) = torch.autograd.grad(actual.square().sum(), X)
    (g_ref,) = torch.autograd.grad(expected.square().sum(), X)
    torch.testing.assert_close(g_ours, g_ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["float", "bool"])
def test_attention_in_training_drops_as_torch_does(transformer, kind):
    """In training the attention weights go through dropout, as torch.nn.MultiheadAttention's do:
    from one seed, both draw the same dropout mask in the kernel, so the outputs and gradients agree."""
    reference = nn.MultiheadAttention(16, 2, dropout=0.3, batch_first=True).train()
    ours = transformer.MultiheadAttention(16, 2, 0.3).train()
    ours.load_state_dict(attention_weights({f"a.{k}": v for k, v in reference.state_dict().items()}, "a", 2))
    E, X = torch.randn(3, 5, 16, requires_grad=True), torch.randn(3, 7, 16)
    mask = torch.zeros(5, 7).masked_fill(torch.rand(5, 7) < 0.3, float("-inf"))
    mask[:, 0], pad = 0.0, padding_mask(3, 7)
    attn_mask, key_padding = torch_masks(mask, pad, kind)
    torch.manual_seed(1)
    expected = reference(E, X, X, attn_mask=attn_mask, key_padding_mask=key_padding, need_weights=False)[0]
    torch.manual_seed(1)
    actual = ours(E, X, mask, pad)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-5)
    (g_ours,) = torch.autograd.grad(actual.sum(), E)
    (g_ref,) = torch.autograd.grad(expected.sum(), E)
    torch.testing.assert_close(g_ours, g_ref, atol=1e-5, rtol=1e-5)
    torch.manual_seed(2)
    assert not torch.allclose(ours(E, X, mask, pad), actual)  # dropout draws again
    torch.testing.assert_close(ours.eval()(E, X, mask, pad), reference.eval()(E, X, X, attn_mask=attn_mask,
                               key_padding_mask=key_padding, need_weights=False)[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_of_repeated_layers_loads_torchs_weights(transformer, norm_first):
    """A repetition of a part with three inputs: the wire threads through the layers, the masks
    reach each; its state_dict keys are torch.nn.TransformerEncoder's `layers.0.…`."""
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(16, 2, 24, activation="gelu", norm_first=norm_first, batch_first=True)
    reference = nn.TransformerEncoder(layer, num_layers=3, enable_nested_tensor=False).eval()
    ours = transformer.TransformerEncoder(**SMALL, num_layers=3, activation="gelu", norm_first=norm_first).eval()
    sd = reference.state_dict()
    weights = {f"layers.{i}.{k}": v for i in range(3)
               for k, v in encoder_layer_weights(sd, 2, prefix=f"layers.{i}.").items()}
    assert set(weights) == set(ours.state_dict())
    ours.load_state_dict(weights, strict=True)
    X = torch.randn(2, 6, 16)
    mask, pad = torch.randn(6, 6), padding_mask(2, 6)  # any additive mask reaches every layer alike
    expected = reference(X, mask=mask, src_key_padding_mask=torch_masks(mask, pad, "float")[1])
    torch.testing.assert_close(ours(X, mask, pad), expected, atol=1e-5, rtol=1e-5)


def decoder_layer_weights(sd: dict, h: int, prefix: str = "") -> dict:
    """A torch.nn.TransformerDecoderLayer's state_dict under the spec's names."""
    out = {f"{a}.{k}": v for a in ("self_attn", "multihead_attn")
           for k, v in attention_weights(sd, f"{prefix}{a}", h).items()}
    for name in ("linear1", "linear2", "norm1", "norm2", "norm3"):
        for p in ("weight", "bias"):
            out[f"{name}.{p}"] = sd[f"{prefix}{name}.{p}"]
    return out


@pytest.mark.parametrize("norm_first, activation", [(False, "relu"), (True, "gelu")])
@pytest.mark.parametrize("kind", ["float", "bool"])
def test_decoder_of_repeated_layers_equals_torch(transformer, norm_first, activation, kind):
    """Masked self-attention and attention over the memory; the repetition threads the target and
    gives the memory and the four masks to every layer."""
    torch.manual_seed(0)
    layer = nn.TransformerDecoderLayer(16, 2, 24, activation=activation, norm_first=norm_first, batch_first=True)
    reference = nn.TransformerDecoder(layer, num_layers=2).eval()
    ours = transformer.TransformerDecoder(**SMALL, num_layers=2, activation=activation, norm_first=norm_first).eval()
    sd = reference.state_dict()
    ours.load_state_dict({f"layers.{i}.{k}": v for i in range(2)
                          for k, v in decoder_layer_weights(sd, 2, prefix=f"layers.{i}.").items()}, strict=True)
    X, memory = torch.randn(2, 5, 16, requires_grad=True), torch.randn(2, 7, 16)
    tgt_mask, memory_mask = causal_mask(5), torch.zeros(5, 7).masked_fill(torch.rand(5, 7) < 0.3, float("-inf"))
    memory_mask[:, 0] = 0.0
    tgt_pad, memory_pad = padding_mask(2, 5), padding_mask(2, 7)
    masks = [torch_masks(m, p, kind) for m, p in ((tgt_mask, tgt_pad), (memory_mask, memory_pad))]
    expected = reference(X, memory, tgt_mask=masks[0][0], memory_mask=masks[1][0],
                         tgt_key_padding_mask=masks[0][1], memory_key_padding_mask=masks[1][1])
    actual = ours(X, memory, tgt_mask, memory_mask, tgt_pad, memory_pad)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-5)
    (g_ours,) = torch.autograd.grad(actual.sum(), X)
    (g_ref,) = torch.autograd.grad(expected.sum(), X)
    torch.testing.assert_close(g_ours, g_ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["float", "bool"])
def test_transformer_equals_torch(transformer, kind):
    """torch.nn.Transformer: the encoder, its final norm, and the decoder over its memory."""
    torch.manual_seed(0)
    reference = nn.Transformer(16, 2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=24,
                               batch_first=True).eval()
    ours = transformer.Transformer(16, 2, 2, 1, 24).eval()
    sd = reference.state_dict()
    weights = {f"encoder_layers.{i}.{k}": v for i in range(2)
               for k, v in encoder_layer_weights(sd, 2, prefix=f"encoder.layers.{i}.").items()}
    weights |= {f"decoder_layers.0.{k}": v for k, v in decoder_layer_weights(sd, 2, prefix="decoder.layers.0.").items()}
    for ours_name, torch_name in (("encoder_norm", "encoder.norm"), ("decoder_norm", "decoder.norm")):
        weights |= {f"{ours_name}.{p}": sd[f"{torch_name}.{p}"] for p in ("weight", "bias")}
    ours.load_state_dict(weights, strict=True)
    src, tgt = torch.randn(2, 7, 16, requires_grad=True), torch.randn(2, 5, 16)
    src_mask, tgt_mask, memory_mask = torch.zeros(7, 7), causal_mask(5), torch.zeros(5, 7)
    src_pad, tgt_pad = padding_mask(2, 7), padding_mask(2, 5)
    (src_m, src_p), (tgt_m, tgt_p) = torch_masks(src_mask, src_pad, kind), torch_masks(tgt_mask, tgt_pad, kind)
    memory_m = torch_masks(memory_mask, src_pad, kind)[0]
    expected = reference(src, tgt, src_mask=src_m, tgt_mask=tgt_m, memory_mask=memory_m, src_key_padding_mask=src_p,
                         tgt_key_padding_mask=tgt_p, memory_key_padding_mask=src_p)
    actual = ours(src, tgt, src_mask, tgt_mask, memory_mask, src_pad, tgt_pad, src_pad)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-5)
    (g_ours,) = torch.autograd.grad(actual.sum(), src)
    (g_ref,) = torch.autograd.grad(expected.sum(), src)
    torch.testing.assert_close(g_ours, g_ref, atol=1e-5, rtol=1e-5)


def test_masked_attention_is_one_fused_call_a_head(transformer, monkeypatch):
    """Under their float masks, the decoder layer's self- and cross-attention each run as one
    scaled_dot_product_attention (attn_mask): no scores or softmax are materialised."""
    calls = []
    fused = nn.functional.scaled_dot_product_attention

    def counted(*args, **kwargs):
        calls.append(kwargs.get("attn_mask") is not None)
        return fused(*args, **kwargs)

    def refused(*args, **kwargs):
        raise AssertionError("attention materialised its scores")

    monkeypatch.setattr(nn.functional, "scaled_dot_product_attention", counted)
    monkeypatch.setattr(torch, "softmax", refused)
    layer = transformer.TransformerDecoderLayer(**SMALL, dropout=0.0).eval()
    layer(torch.randn(5, 16), torch.randn(7, 16), causal_mask(5), torch.zeros(5, 7), padding_mask(5),
          padding_mask(7))
    assert calls == [True, True]


def test_layer_norm_eps_reaches_the_layer(transformer):
    layer = transformer.TransformerEncoderLayer(**SMALL, layer_norm_eps=1e-3)
    assert layer.norm1.eps == layer.norm2.eps == 1e-3
    assert layer.dropout1.p == 0.1


@pytest.mark.parametrize("options, error, words", [
    (dict(activation="tanh"), ValueError, "`activation` is one of 'relu', 'gelu', got 'tanh'"),
    (dict(dropout=1.5), ValueError, "`dropout` must be between 0.0 and 1.0, got 1.5"),
    (dict(dropout="0.1"), TypeError, "`dropout` is a number"),
    (dict(norm_first=1), TypeError, "`norm_first` is a bool, got 1"),
])
def test_the_constructor_checks_its_hyperparameters(transformer, options, error, words):
    with pytest.raises(error, match=None) as info:
        transformer.TransformerEncoderLayer(**SMALL, **options)
    assert words in str(info.value) and "[transformer.ncd:" in str(info.value)


# ---- what the checker rejects --------------------------------------------------------------------

BASE = """\
module M(m=4, p: float = 0.1, act: {"relu", "gelu"} = "relu", first: bool = false):
    L = Linear[m -> m]()
    D = Dropout(p=p)

    def forward(X: t m) -> t m:
        if first:
            Y = L(X)
        else:
            Y = D(X)
        if act == "gelu":
            Z = gelu(Y)
        else:
            Z = relu(Y) * p
        return Z
"""


def test_the_base_checks():
    check_source(BASE)


def diagnostic(old: str, new: str):
    assert BASE.count(old) == 1
    with pytest.raises(NcdcError) as info:
        check_source(BASE.replace(old, new), "m.ncd")
    d = info.value.diagnostics[0]
    return d.code, d.span.line, d.span.column, d.message


@pytest.mark.parametrize("old, new, code, line, column", [
    ('act == "gelu"', 'act == "tanh"', "E0324", 10, 12),            # not one of its choices
    ("if first:", "if p:", "E0324", 6, 12),                        # a number is not a condition
    ("if first:", 'if first == "yes":', "E0324", 6, 12),           # a bool is not compared
    ("if first:", "if m:", "E0324", 6, 12),                        # a size is not known... as a branch
    ("Dropout(p=p)", "Dropout(p=first)", "E0324", 3, 17),          # a bool where a number goes
    ("= relu(Y) * p", "= relu(Y) * act", "E0324", 13, 27),         # a choice is not a number
    ('= "relu"', '= "tanh"', "E0324", 1, 55),                      # a default outside the choices
    ("p: float = 0.1", "p: float = true", "E0324", 1, 26),         # a default of the wrong kind
    ("p: float", "p: double", "E0324", 1, 18),                     # an unknown kind
    ("            Y = D(X)\n", "            W = D(X)\n", "E0405", 11, 22),  # Y only in one branch...
    ("            Y = L(X)\n", "            return L(X)\n", "E0404", 7, 13),
])
def test_misused_hyperparameters_are_errors(old, new, code, line, column):
    got = diagnostic(old, new)
    assert got[:3] == (code, line, column), got


def test_a_wire_assigned_in_one_branch_is_named():
    code, line, column, message = diagnostic("            Y = D(X)\n", "            W = D(X)\n")
    assert "`Y` is assigned in some branches of an `if` only" in message


# ---- token ids -------------------------------------------------------------------------------------

TOKENS = """\
module Tokens(vocab=50, m=8):
    embed = Embedding[vocab -> m]()

    def forward(T: int t) -> t m:
        return embed(T) * sqrt(m)
"""


@pytest.fixture(scope="module")
def tokens():
    namespace: dict = {}
    exec(compile(ncdc.compile_source(TOKENS, "tokens.ncd"), "tokens.py", "exec"), namespace)
    return namespace["Tokens"]


@pytest.mark.parametrize("shape", [(5,), (3, 5)], ids=["no-batch", "batch"])
def test_embedding_equals_torch(tokens, shape):
    torch.manual_seed(0)
    reference = nn.Embedding(50, 8)
    ours = tokens()
    ours.embed.load_state_dict(reference.state_dict(), strict=True)
    T = torch.randint(0, 50, shape)
    torch.testing.assert_close(ours(T), reference(T) * 8 ** 0.5)


@pytest.mark.parametrize("ids, error, words", [
    ([3, 50], ValueError, "token ids must be in 0..49, got 50"),
    ([-1, 2], ValueError, "token ids must be in 0..49, got -1"),
    ([1.0, 2.0], TypeError, "expected int elements"),
    ([1, 2], TypeError, "token ids are int64 or int32, got torch.int16"),
])
def test_token_ids_out_of_range_are_the_specs_error(tokens, ids, error, words):
    dtype = torch.int16 if "int16" in words else None
    with pytest.raises(error) as info:
        tokens()(torch.tensor(ids, dtype=dtype))
    assert words in str(info.value)


def test_an_embedding_of_floats_is_an_error():
    with pytest.raises(NcdcError) as info:
        check_source(TOKENS.replace("T: int t", "T: t"), "tokens.ncd")
    d = info.value.diagnostics[0]
    assert (d.code, d.span.line, d.span.column) == ("E0325", 5, 22)


# ---- repetitions of parts with several inputs ------------------------------------------------------

THREADED = """\
module Layer(m=8):
    L = Linear[m -> m]()

    def forward(X: t m, B: t m) -> t m:
        return relu(L(X)) + B

module Stack(m=8, N=3):
    layers = [Layer(m) for i in 1..N]

    def forward(X: t m, B: t m) -> t m:
        return layers(X, B)
"""


def test_repeated_parts_thread_the_first_input():
    namespace: dict = {}
    exec(compile(ncdc.compile_source(THREADED, "threaded.ncd"), "threaded.py", "exec"), namespace)
    stack = namespace["Stack"](8, 3)
    X, B = torch.randn(4, 8), torch.randn(4, 8)
    expected = X
    for layer in stack.layers:
        expected = torch.relu(layer.L(expected)) + B
    torch.testing.assert_close(stack(X, B), expected)
    assert sorted(stack.state_dict()) == [f"layers.{i}.L.{p}" for i in range(3) for p in ("bias", "weight")]


@pytest.mark.parametrize("layer", [
    "    def forward(X: t m, B: t 2) -> t 2:\n        return B\n",                 # gives another type
    "    def forward(X: t m, B: t m) -> t m, t m:\n        return L(X), B\n",      # gives two wires
])
def test_a_repeated_part_must_give_what_it_takes_first(layer):
    text = THREADED.replace("    def forward(X: t m, B: t m) -> t m:\n        return relu(L(X)) + B\n", layer)
    if "t 2" in layer:  # the stack takes what its layers take
        text = text.replace("forward(X: t m, B: t m) -> t m:\n        return layers",
                            "forward(X: t m, B: t 2) -> t m:\n        return layers")
    with pytest.raises(NcdcError) as info:
        check_source(text, "threaded.ncd")
    d = info.value.diagnostics[0]
    assert (d.code, d.span.line) == ("E0326", 8)


# ---- size hyperparameters given by a pattern ---------------------------------------------------------

HALVES = """\
module Halves(m: (2 * n) = 8):
    down = Linear[m -> n]()

    def forward(X: t m) -> t m:
        H = down(X)
        return concat[n](H, relu(H))

module Outer(d=6):
    inner = Halves(d)

    def forward(X: t d) -> t d:
        return inner(X)
"""


@pytest.fixture(scope="module")
def halves():
    namespace: dict = {}
    exec(compile(ncdc.compile_source(HALVES, "halves.ncd"), "halves.py", "exec"), namespace)
    return namespace


def test_a_pattern_names_the_half_and_the_constructor_checks_it(halves):
    model = halves["Halves"](12)
    assert model.n == 6 and model.down.out_features == 6
    X = torch.randn(3, 12)
    H = model.down(X)
    torch.testing.assert_close(model(X), torch.cat((H, torch.relu(H)), -1))
    for build in (lambda: halves["Halves"](7), lambda: halves["Outer"](7)):
        with pytest.raises(ValueError, match=r"needs (m|d) % 2 == 0"):
            build()


@pytest.mark.parametrize("old, new, code, line, column", [
    ("m: (2 * n) = 8", "m: (2 * n) = 7", "E0327", 1, 15),
    ("m: (2 * n) = 8", "m: (n + 1) = 8", "E0327", 1, 19),
    ("m: (2 * n) = 8", "m: (2 * m) = 8", "E0327", 1, 23),  # the half is a new size
    ("inner = Halves(d)", "inner = Halves(5)", "E0313", 9, 20),
])
def test_bad_patterns_are_errors(old, new, code, line, column):
    with pytest.raises(NcdcError) as info:
        check_source(HALVES.replace(old, new), "halves.ncd")
    d = info.value.diagnostics[0]
    assert (d.code, d.span.line, d.span.column) == (code, line, column), d.render()


# ---- dropout is a part of a module ------------------------------------------------------------------

DROPPED = """\
def attention(Q: y k, K: x k, V: x k) -> y k:
    S = einsum[y x](Q, K) / sqrt(k)
    return einsum[y k](softmax[x](S), V)
"""


@pytest.mark.parametrize("weights, column, words", [
    ("Dropout(0.1)(softmax[x](S))", 24, "a def is a pure function and has no parts"),
    ("dropout(softmax[x](S))", 24, "a def is a pure function and has no parts"),
    ("layer_norm(softmax[x](S))", 24, "has weights of its own"),
])
def test_dropout_in_a_def_is_an_error_that_says_how_to_lift_a_module(weights, column, words):
    with pytest.raises(NcdcError) as info:
        check_source(DROPPED.replace("softmax[x](S)", weights), "dropped.ncd")
    d = info.value.diagnostics[0]
    assert (d.code, d.span.line, d.span.column) == ("E0370", 3, column), d.render()
    assert words in d.render()


# ---- the model of Vaswani et al. (2017) ------------------------------------------------------------

TINY = dict(src_vocab_size=23, tgt_vocab_size=19, d_model=16, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
            dim_feedforward=24, max_len=40)


def paper_encoding(max_len: int, d_model: int) -> torch.Tensor:
    """§3.5 of the paper, written here from its formula: PE(pos, 2i) = sin(pos / 10000^(2i / d_model)),
    PE(pos, 2i + 1) = cos(pos / 10000^(2i / d_model)), in float64."""
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]
    angle = pos / 10000.0 ** (torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    table = torch.empty(max_len, d_model, dtype=torch.float64)
    table[:, 0::2], table[:, 1::2] = torch.sin(angle), torch.cos(angle)
    return table


class Reference(nn.Module):
    """The same model from torch.nn's parts: nn.Transformer, two nn.Embeddings, a Linear, and the
    paper's table."""

    def __init__(self, src_vocab_size, tgt_vocab_size, d_model, nhead, num_encoder_layers, num_decoder_layers,
                 dim_feedforward, max_len, dropout=0.1):
        super().__init__()
        self.src_embed, self.tgt_embed = nn.Embedding(src_vocab_size, d_model), nn.Embedding(tgt_vocab_size, d_model)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward,
                                          dropout, batch_first=True)
        self.generator = nn.Linear(d_model, tgt_vocab_size)
        self.drop = nn.Dropout(dropout)
        self.register_buffer("pe", paper_encoding(max_len, d_model).float(), persistent=False)

    def forward(self, src, tgt, src_pad, tgt_pad):
        scale = self.src_embed.embedding_dim ** 0.5
        X = self.drop(self.src_embed(src) * scale + self.pe[:src.shape[-1]])
        Y = self.drop(self.tgt_embed(tgt) * scale + self.pe[:tgt.shape[-1]])
        causal = nn.Transformer.generate_square_subsequent_mask(tgt.shape[-1])
        src_pad, tgt_pad = (torch.zeros(p.shape).masked_fill(p, float("-inf")) for p in (src_pad, tgt_pad))
        H = self.transformer(X, Y, tgt_mask=causal, src_key_padding_mask=src_pad, tgt_key_padding_mask=tgt_pad,
                             memory_key_padding_mask=src_pad)
        return torch.log_softmax(self.generator(H), dim=-1)


def vaswani_weights(sd: dict, layers: tuple[int, int], h: int) -> dict:
    """The reference's state_dict under the spec's names: the mapping of nn.Transformer's layers and
    final norms, the embeddings and the Linear."""
    out = {k: v for k, v in sd.items() if k.split(".")[0] in ("src_embed", "tgt_embed", "generator")}
    for i in range(layers[0]):
        prefix = f"transformer.encoder.layers.{i}."
        out |= {f"transformer.encoder_layers.{i}.{k}": v for k, v in encoder_layer_weights(sd, h, prefix).items()}
    for i in range(layers[1]):
        prefix = f"transformer.decoder.layers.{i}."
        out |= {f"transformer.decoder_layers.{i}.{k}": v for k, v in decoder_layer_weights(sd, h, prefix).items()}
    for ours, theirs in (("encoder_norm", "encoder.norm"), ("decoder_norm", "decoder.norm")):
        out |= {f"transformer.{ours}.{p}": sd[f"transformer.{theirs}.{p}"] for p in ("weight", "bias")}
    return out


@pytest.fixture(scope="module")
def vaswani_pair(transformer):
    torch.manual_seed(0)
    reference = Reference(**TINY)
    ours = transformer.Vaswani(**TINY)
    ours.load_state_dict(vaswani_weights(reference.state_dict(), (2, 2), 2), strict=True)
    return ours, reference


def test_the_positional_encoding_is_the_papers_formula_and_a_buffer(transformer):
    encoding = transformer.PositionalEncoding(16, 40)
    torch.testing.assert_close(encoding.pe.double(), paper_encoding(40, 16), atol=1e-5, rtol=0)
    assert encoding.state_dict() == {}  # computed at construction, not saved
    X = torch.randn(3, 7, 16)
    torch.testing.assert_close(encoding(X), X + paper_encoding(7, 16).float(), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match=r"needs max_len >= t"):
        encoding(torch.randn(41, 16))


@pytest.mark.parametrize("batch", [(), (3,)], ids=["no-batch", "batch"])
def test_vaswani_equals_torch_with_padding_and_causal_masks(vaswani_pair, batch):
    ours, reference = vaswani_pair
    ours.eval(), reference.eval()
    torch.manual_seed(1)
    src, tgt = torch.randint(0, 23, (*batch, 9)), torch.randint(0, 19, (*batch, 6))
    src_pad, tgt_pad = padding_mask(*batch, 9), padding_mask(*batch, 6)
    actual = ours(src, tgt, src_pad, tgt_pad)
    if batch:
        expected = reference(src, tgt, src_pad, tgt_pad)
    else:
        expected = reference(src[None], tgt[None], src_pad[None], tgt_pad[None])[0]
    assert actual.shape == (*batch, 6, 19)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-5)
    ours.zero_grad(), reference.zero_grad()
    actual[..., 0].sum().backward()
    expected[..., 0].sum().backward()
    grads = vaswani_weights({k: p.grad for k, p in reference.named_parameters()}, (2, 2), 2)
    for name, p in ours.named_parameters():
        torch.testing.assert_close(p.grad, grads[name], atol=1e-5, rtol=1e-4, msg=name)


def test_vaswani_trains(transformer):
    """A few Adam steps on copying a sequence lower the loss, dropout on."""
    torch.manual_seed(0)
    model = transformer.Vaswani(**TINY).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    src = torch.randint(1, 19, (8, 7))
    tgt = torch.cat([torch.zeros(8, 1, dtype=torch.long), src[:, :-1]], dim=1)  # the target, shifted right
    no_pad = torch.zeros(8, 7, dtype=torch.bool)
    losses = []
    for _ in range(8):
        loss = nn.functional.nll_loss(model(src, tgt, no_pad, no_pad).flatten(0, 1), src.flatten())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.3, losses


def test_vaswani_defaults_are_the_base_model(transformer):
    """The defaults build the base model (Table 3): d_model 512, 8 heads, d_ff 2048, N = 6, dropout
    0.1; built on the meta device, its parameters are those of the torch.nn reference's, one for one."""
    with torch.device("meta"):
        ours = transformer.Vaswani()
        reference = Reference(37000, 37000, 512, 8, 6, 6, 2048, 5000)
    assert ours.transformer.encoder_layers[5].self_attn.attention.drop.p == 0.1
    assert len(ours.transformer.decoder_layers) == 6 and ours.positions.pe.shape == (5000, 512)
    shapes = {k: v.shape for k, v in vaswani_weights(reference.state_dict(), (6, 6), 8).items()}
    assert {k: v.shape for k, v in ours.state_dict().items()} == shapes
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in reference.parameters())


def test_vaswani_compiles_to_one_graph(transformer, vaswani_pair, monkeypatch):
    ours, _ = vaswani_pair
    ours.eval()
    # The token-id check reads the ids' values (a graph break); the checks run in eager mode above.
    monkeypatch.setattr(transformer, "CHECK_SHAPES", False)
    src, tgt = torch.randint(0, 23, (2, 9)), torch.randint(0, 19, (2, 6))
    src_pad, tgt_pad = padding_mask(2, 9), padding_mask(2, 6)
    compiled = torch.compile(ours, fullgraph=True, backend="eager")
    with torch.no_grad():
        torch.testing.assert_close(compiled(src, tgt, src_pad, tgt_pad), ours(src, tgt, src_pad, tgt_pad))
