"""`ncdc cost` against references it did not write: PyTorch itself.

- parameters: the generated module's `sum(p.numel() for p in model.parameters())`;
- forward FLOPs of matrix products, convolutions and attention: `torch.utils.flop_counter.FlopCounterMode`
  on the generated module (attention under the math SDPA kernel: the CPU flash kernel counts 0);
- memory saved for backward: what autograd saves (`saved_tensors_hooks`), one storage counted once,
  parameters and buffers left out, within 10%.

FlopCounterMode does not count these headings, so they are not compared with it (they are checked
against their rules in closed form below instead):
- elementwise: maps (relu, gelu...), arithmetic, bias additions, pooling, reductions, the attention
  scale -- none of them is an aten matrix product or convolution;
- normalisation: softmax, log_softmax, BatchNorm, LayerNorm, GroupNorm, RMSNorm -- likewise.
The same holds for the backward pass: the counter counts the matrix products and convolutions of the
gradients (`mm`, `bmm`, `convolution_backward`), not the backward of maps, norms, softmax, pooling,
dropout or an embedding's scatter.
"""

from __future__ import annotations

import functools
import inspect
import json
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

import ncdc
from ncdc import ir
from ncdc.backend.cost import attention_transfers, cost, evaluate, matmul_transfers
from ncdc.backend.cost.report import peak_bytes, peak_of, saved_bytes
from ncdc.runner import RUN_LIMIT, random_tensor
from ncdc.sizes import Symbol

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
FREE = (6, 4, 5, 7, 3, 9)
BATCH = 2

# A second size setting per spec: hyperparameters other than the defaults (and free sizes).
SETTINGS = {
    "mlp": {"hidden": 64, "classes": 7},
    "attention": {"m": 32, "k": 8, "h": 2},
    "resnet": {"N": 2, "n0": 8, "n1": 16, "n2": 32, "n3": 64},
    "vit": {"dim": 32, "depth": 1, "heads": 2, "hidden": 48},
    "visual_attention": {"c": 5, "k": 4, "heads": 2},
    "unet": {"channels": 2, "classes": 3},
    "mixtral": {"hidden_size": 16, "intermediate_size": 24, "num_local_experts": 4, "num_experts_per_tok": 2},
    # Narrow, so that what the attention kernel holds (GPT-2's `tril & P` and its float form, the
    # masks of sizes only) shows in the peak; a few explicit layers (a repetition written out).
    "gpt2": {"n_embd": 16, "n_head": 4, "n_inner": 32, "vocab_size": 50, "n_positions": 20, "n_layer": 2},
    "transformer": {"m": 8, "h": 2, "d_model": 8, "nhead": 2, "dim_feedforward": 16, "num_encoder_layers": 1,
                    "num_decoder_layers": 2, "src_vocab_size": 30, "tgt_vocab_size": 30, "max_len": 50},
}
# Hyperparameters without a default are built as 8, except where that is degenerate: 8 heads of a
# width of 8 leave one feature per head, where the permutation of a weight is a view, not a copy.
BUILT = {"EncoderLayer": {"heads": 2}}
# Sizes of a definition's inputs where the defaults would be slow on two CPU cores.
INPUTS = {"IdentityResNet": {"H": 16, "W": 12}, "UNetFig27": {"h": 1, "w": 1}, "UNetOriginal": {"h": 1, "w": 2}}


def _programs():
    return [(p.stem, p) for p in sorted(SPECS.glob("*.ncd"))]


@functools.cache
def _parameters_at_defaults(path: Path, name: str) -> int:
    """What `ncdc cost` counts (0 where a hyperparameter has no default: those are built small)."""
    d = cost(path, name).definition(name)
    return evaluate(d.row.params, d.env) or 0


def _modules(with_settings: bool = True):
    cases = []
    for stem, path in _programs():
        program = ncdc.check_file(path)
        for m in program.modules:
            large = [pytest.mark.skip(reason="too large to build here at its default sizes")] \
                if _parameters_at_defaults(path, m.name) > RUN_LIMIT else []
            cases.append(pytest.param(path, m.name, {}, id=f"{stem}-{m.name}", marks=large))
            if with_settings and stem in SETTINGS and {hp.name for hp in m.hparams} & set(SETTINGS[stem]):
                given = {k: v for k, v in SETTINGS[stem].items() if k in {hp.name for hp in m.hparams}}
                cases.append(pytest.param(path, m.name, given, id=f"{stem}-{m.name}-other"))
    return cases


def _build(path: Path, name: str, given: dict):
    """The generated module built with these hyperparameters (8 for those without a default, but for `BUILT`), the
    sizes it is built with, and its inputs' free sizes (distinct small values)."""
    program = ncdc.check_file(path)
    module = next(m for m in program.modules if m.name == name)
    sizes = dict(given)
    for hp in module.hparams:
        if hp.default is None:
            sizes.setdefault(hp.name, BUILT.get(name, {}).get(hp.name, 8))
    loaded = ncdc.load(path, stubs=True)
    torch.manual_seed(0)
    model = getattr(loaded, name)(**sizes)
    values = {c.name: c.value.constant for c in program.constants}
    values |= {hp.name: hp.default for hp in module.hparams if hp.default is not None} | sizes
    for member in module.members:
        if isinstance(member, ir.SizeMember):
            values[member.name] = member.value.substitute(
                lambda a: ncdc.sizes.Size.of(values[a.name]) if isinstance(a, Symbol) and a.name in values else None
            ).constant
    free = iter(FREE)
    for p in module.forward.params:
        for axis in p.type.axes:
            for s in sorted(axis.size.symbols(), key=lambda s: s.uid):
                if s.name not in values:
                    values[s.name] = INPUTS.get(name, {}).get(s.name) or next(free)
                    sizes[s.name] = values[s.name]
    shapes = []
    for p in module.forward.params:
        shape = []
        for a in p.type.axes:
            v = a.size.substitute(lambda x: ncdc.sizes.Size.of(values[x.name]) if isinstance(x, Symbol) else None)
            shape.append(v.constant)
        shapes.append((BATCH, *shape))
    inputs = [random_tensor(p.type.dtype, shape) for p, shape in zip(module.forward.params, shapes)]
    return model, inputs, sizes


@pytest.mark.parametrize("path, name, given", _modules())
def test_parameters_equal_pytorch(path, name, given):
    model, _, sizes = _build(path, name, given)
    report = cost(path, name, sizes=sizes)
    d = report.definition(name)
    assert not [m for m in d.missing if m in {s.name for s in d.row.params.symbols()}]
    assert evaluate(d.row.params, d.env) == sum(p.numel() for p in model.parameters())


COUNTED = ("contraction", "convolution", "attention")


@pytest.mark.parametrize("path, name, given", _modules())
def test_forward_flops_equal_the_flop_counter(path, name, given):
    from torch.nn.attention import SDPBackend, sdpa_kernel

    model, inputs, sizes = _build(path, name, given)
    report = cost(path, name, sizes=sizes, batch=BATCH)
    d = report.definition(name)
    assert not d.missing
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
        model.eval()(*inputs)
    expected = sum(evaluate(d.row.flops.get(c, ncdc.sizes.Size.of(0)), d.env) for c in COUNTED)
    assert expected == counter.get_total_flops()


@pytest.mark.parametrize("path, name, given", _modules())
def test_backward_flops_equal_the_flop_counter(path, name, given):
    """The gradients each product computes (of a weight, of an input that needs one: not the model's own
    inputs), against what the counter counts while autograd runs the backward pass."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    model, inputs, sizes = _build(path, name, given)
    d = cost(path, name, sizes=sizes, batch=BATCH).definition(name)
    with sdpa_kernel(SDPBackend.MATH):
        out = model.train()(*inputs)
    outputs = [o for o in (out if isinstance(out, tuple) else (out,)) if o.requires_grad]
    counter = FlopCounterMode(display=False)
    with counter:
        torch.autograd.backward(outputs, [torch.ones_like(o) for o in outputs])
    expected = sum(evaluate(d.row.backward.get(c, ncdc.sizes.Size.of(0)), d.env) for c in COUNTED)
    assert expected == counter.get_total_flops()


def _saved_by_autograd(model, inputs) -> int:
    """Bytes autograd keeps for backward, each storage once, parameters and buffers left out."""
    state = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers()]}
    seen: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in state and storage.nbytes() > 0:
            seen[storage.data_ptr()] = storage.nbytes()
        return t

    from torch.nn.attention import SDPBackend, sdpa_kernel
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), sdpa_kernel(SDPBackend.MATH):
        out = model.train()(*inputs)
    del out
    return sum(seen.values())


# Saved exactly but for one einsum: VisualAttention's second contraction (the probabilities with the
# values, heads a diagonal axis) reshapes the probabilities into a copy for its batched product, which
# autograd keeps beside the softmax's own result; the model counts the one tensor.
SAVED_NEAR = {"VisualAttention"}


@pytest.mark.parametrize("path, name, given", _modules())
def test_memory_saved_for_backward_matches_autograd(path, name, given):
    """Within 10% of autograd's saved tensors for every shipped module, at two size settings (the
    issue's tolerance); exactly, but for `SAVED_NEAR`."""
    model, inputs, sizes = _build(path, name, given)
    report = cost(path, name, sizes=sizes, batch=BATCH)
    d = report.definition(name)
    ours = saved_bytes(d.row, d.env, 4)
    theirs = _saved_by_autograd(model, inputs)
    assert ours is not None
    assert abs(ours - theirs) <= 0.1 * theirs, f"cost says {ours} bytes, autograd saves {theirs}"
    if name not in SAVED_NEAR:
        assert ours == theirs


class _LiveStorages(TorchDispatchMode):
    """The most bytes of tensor storages alive at once while a forward pass runs: every storage an
    operation makes counts from that operation until the last tensor viewing it dies (weak references:
    CPython frees a tensor as soon as nothing holds it).  The inputs count throughout (the caller holds
    them); parameters and buffers not at all; `aten.clone` (what `.contiguous()` and the reshape of a
    permuted tensor do) makes no new wire, only a copy in another layout: it counts as the tensor it copies,
    alive until both are dead."""

    def __init__(self, held: int, state: set[int]):
        super().__init__()
        # data pointer -> [its wire, tensors viewing it]; a wire: [bytes, tensors viewing it or a copy of it]
        self.live: dict[int, list] = {}
        self.now = self.peak = held
        self.state = state

    def _release(self, ptr: int) -> None:
        entry = self.live[ptr]
        wire = entry[0]
        entry[1] -= 1
        wire[1] -= 1
        if entry[1] == 0:
            del self.live[ptr]
        if wire[1] == 0:
            self.now -= wire[0]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if not isinstance(t, torch.Tensor):
                continue
            storage = t.untyped_storage()
            ptr = storage.data_ptr()
            if ptr == 0 or ptr in self.state:
                continue
            if ptr not in self.live:
                source = self.live.get(args[0].untyped_storage().data_ptr()) \
                    if func is torch.ops.aten.clone.default else None
                if source is not None:
                    wire = source[0]
                else:
                    wire = [storage.nbytes(), 0]
                    self.now += storage.nbytes()
                    self.peak = max(self.peak, self.now)
                self.live[ptr] = [wire, 0]
            self.live[ptr][1] += 1
            self.live[ptr][0][1] += 1
            weakref.finalize(t, self._release, ptr)
        return out


def _measured_peak(model, inputs) -> int:
    state = {t.untyped_storage().data_ptr() for t in [*model.parameters(), *model.buffers(), *inputs]}
    mode = _LiveStorages(sum(t.untyped_storage().nbytes() for t in inputs), state)
    with torch.no_grad(), mode:
        model.eval()(*inputs)
    return mode.peak


# A sparse mixture of experts holds what its experts make for the slots each expert takes, one expert
# after another: the model counts one expert taking every slot, the most that routing can give.
ROUTED = {"MixtralExperts", "MixtralSparseMoeBlock"}


@pytest.mark.parametrize("path, name, given", _modules())
def test_memory_peak_is_what_pytorch_holds(path, name, given):
    """The peak of a forward pass (no gradients), exactly: wires held from their statement until their
    name is bound again, temporaries until the operation that consumes them returns, and what PyTorch's
    attention kernel holds (the fused kernel on four axes, the math path on three)."""
    model, inputs, sizes = _build(path, name, given)
    d = cost(path, name, sizes=sizes, batch=BATCH).definition(name)
    ours = peak_bytes(d.row, d.env, 4)
    assert ours is not None
    theirs = _measured_peak(model, inputs)
    if name in ROUTED:
        assert theirs <= ours
    else:
        assert ours == theirs


# Modules with int64 or bool tensors: routing indices and positions, a mask of a comparison (held while
# the selection runs, kept for its backward).
WIDE = [("mixtral", "MixtralSparseMoeBlock", {"hidden_size": 16, "intermediate_size": 24, "num_local_experts": 4}),
        (None, "Clipped", {})]
CLIPPED = """module Clipped(n=6):
    lin = Linear[n -> n]()

    def forward(X: n, T: n) -> n:
        Y = lin(X)
        M = Y > T
        return where(M, Y * T, -Y)
"""


@pytest.mark.parametrize("stem, name, given", WIDE, ids=[w[1] for w in WIDE])
def test_int64_and_bool_tensors_count_at_their_width(stem, name, given, tmp_path):
    """In float64 a float takes 8 bytes, a bool still 1 and an int64 8: the saved memory and the peak
    count each at its own width, as autograd and the allocator do (in float32 too: the tests above)."""
    path = SPECS / f"{stem}.ncd" if stem else tmp_path / "clipped.ncd"
    if stem is None:
        path.write_text(CLIPPED)
    model, inputs, sizes = _build(path, name, given)
    model = model.double()
    inputs = [t.double() if t.is_floating_point() else t for t in inputs]
    d = cost(path, name, sizes=sizes, batch=BATCH, dtype="float64").definition(name)
    kinds = set(d.row.saved) | {a.name for p, _ in d.row.peak for a in p.symbols()}
    assert kinds & {"int64", "bool"}
    theirs = _saved_by_autograd(model, inputs)
    assert abs(saved_bytes(d.row, d.env, 8) - theirs) <= 0.1 * theirs
    peak, measured = peak_bytes(d.row, d.env, 8), _measured_peak(model, inputs)
    assert measured <= peak if name in ROUTED else measured == peak


# Dropout: in eval mode its input itself, also when that is a callee's input and so its result; in training
# a mask in the dtype, or nothing with a probability of 0 (passed down by the caller).  A constant of
# sizes only (a causal mask) is made once per call, whatever the batch and the heads.
DROPPED = """module Drop(p: float = 0.5):
    drop = Dropout(p=p)

    def forward(X: t m) -> t m:
        return drop(X)

module Dropped(m=8, p: float = 0.5):
    inner = Drop(p)
    lin = Linear[m -> m]()

    def forward(X: t m) -> t m:
        Y = inner(lin(X))
        return relu(inner(Y)) * Y

def Additive(Q: y k, K: x k, V: x k, M: y x) -> y k:
    S = einsum[y x](Q, K) / sqrt(k) + M
    return einsum[y k](softmax[x](S), V)

module Heads(m=8, h=2):
    lin = Linear[m -> h m]()

    def forward(X: t m) -> t m h:
        C = where(tril(t, t), 0.0, -inf)
        Q = lin(X)
        return Additive[h](Q, Q, Q, C)

module HeadsInline(m=8, h=2):
    lin = Linear[m -> h m]()

    def forward(X: t m) -> t m h:
        Q = lin(X)
        return Additive[h](Q, Q, Q, where(tril(t, t), 0.0, -inf))

module Flat(m=8):
    lin = Linear[m -> m]()

    def forward(X: t m) -> t m:
        C = where(tril(t, t), 0.0, -inf)
        Y = lin(X)
        return Additive(Y, Y, Y, C)
"""


@pytest.mark.parametrize("name, given", [("Dropped", {}), ("Dropped", {"p": 0.0}), ("Drop", {}), ("Heads", {}),
                                         ("HeadsInline", {}), ("Flat", {})])
def test_dropout_and_constants_as_pytorch_holds_them(name, given, tmp_path):
    path = tmp_path / "dropped.ncd"
    path.write_text(DROPPED)
    model, inputs, sizes = _build(path, name, given)
    hparams = {k: v for k, v in given.items() if not isinstance(v, float)}
    program = ncdc.check_file(path)
    if "p" in given:  # a number hyperparameter: the cost model reads it off the module's default
        program = ncdc.check_source(DROPPED.replace("p: float = 0.5", f"p: float = {given['p']}"), path)
    d = cost(program, name, sizes=sizes | hparams, batch=BATCH).definition(name)
    assert saved_bytes(d.row, d.env, 4) == _saved_by_autograd(model, inputs)
    assert peak_bytes(d.row, d.env, 4) == _measured_peak(model, inputs)


# ---- symbolic formulas ------------------------------------------------------------------------------


def test_formulas_are_in_the_specs_names():
    d = cost(SPECS / "attention.ncd", "MultiHeadAttention").definition("MultiHeadAttention")
    assert str(d.row.params) == "4*m*k*h"
    assert str(d.row.flops["attention"]) == "4*k*h*y*x*B"
    assert str(d.row.flops["contraction"]) == "4*m*k*h*y*B + 4*m*k*h*x*B"
    assert d.missing == ["x", "y"]


@pytest.mark.parametrize("stem", [stem for stem, _ in _programs()])
def test_every_formula_gives_its_number(stem):
    """Every formula of the JSON, read as Python arithmetic, gives the number beside it, at two settings."""
    program = ncdc.check_file(SPECS / f"{stem}.ncd")
    free = {s.name for d in [*program.functions, *(m.forward for m in program.modules)]
            for p in d.params for a in p.type.axes for s in a.size.symbols()}
    checked = 0
    for scale in (1, 2):
        sizes = {name: 4 + 3 * scale + i for i, name in enumerate(sorted(free))}
        for d in cost(program, sizes=sizes, batch=scale + 1).json()["definitions"]:
            env = {**d["sizes"], "B": scale + 1}
            for name, named in d["names"].items():  # each from the sizes and the names before it
                if named["value"] is not None:
                    assert eval(named["formula"], {}, dict(env)) == named["value"]
                    env[name] = named["value"]

            def check(row, env=env):
                nonlocal checked
                for key, number in (("params", "value"), ("flops_forward", "value"), ("flops_backward", "value"),
                                    ("memory_saved", "elements")):
                    if row[key][number] is not None:
                        assert eval(row[key]["formula"], {}, dict(env)) == row[key][number], (row["name"], key)
                        checked += 1
                for child in row["children"]:
                    check(child, env)
            check(d)
    assert checked


def test_batch_is_substituted_when_given():
    d = cost(SPECS / "mlp.ncd", batch=3).definition("BasicImageRecogniser")
    assert "B" not in {s.name for s in d.row.flops_forward.symbols()}
    assert evaluate(d.row.flops["contraction"], d.env) == 3 * 2 * (784 * 512 + 512 * 512 + 512 * 10)


def test_repetitions_are_multiplied_out():
    d = cost(SPECS / "vit.ncd", "ViT").definition("ViT")
    layers = next(r for r in d.row.children if r.label.startswith("layers"))
    assert "depth" in str(layers.flops_forward)
    params = [evaluate(d.row.params, d.env) for d in
              (cost(SPECS / "vit.ncd", "ViT", sizes={"depth": n}).definition("ViT") for n in (1, 2, 3))]
    assert params[1] - params[0] == params[2] - params[1] > 0


def test_backward_rule():
    """The first Linear computes its weight's gradient only (the image needs none), the others their
    input's too; the maps and softmax one pass of their forward FLOPs."""
    d = cost(SPECS / "mlp.ncd", batch=1).definition("BasicImageRecogniser")
    forward = {k: evaluate(v, d.env) for k, v in d.row.flops.items()}
    backward = {k: evaluate(v, d.env) for k, v in d.row.backward.items()}
    assert backward["contraction"] == 2 * 784 * 512 + 2 * 2 * (512 * 512 + 512 * 10)
    assert forward["contraction"] == 2 * (784 * 512 + 512 * 512 + 512 * 10)
    assert {k: backward[k] for k in ("elementwise", "normalisation")} == \
        {k: forward[k] for k in ("elementwise", "normalisation")}


def test_elementwise_and_normalisation_rules():
    d = cost(SPECS / "mlp.ncd", batch=1).definition("BasicImageRecogniser")
    f = {k: evaluate(v, d.env) for k, v in d.row.flops.items()}
    assert f["elementwise"] == 2 * 512 + (512 + 512 + 10)  # two relus, three biases
    assert f["normalisation"] == 5 * 10  # softmax: max, subtract, exp, sum, divide


# ---- the transfer model -------------------------------------------------------------------------------


def test_fan_closed_forms():
    assert matmul_transfers(64, 128, 32, 1024) == 2 * 64 * 128 * 32 / 32 + 64 * 32
    assert attention_transfers(512, 1024, 64, 8192) == 2 * 512 * 64 + 4 * 512 * 1024 * 64 ** 2 / 8192


def test_fan_transfers_of_attention():
    M = 4096
    r = cost(SPECS / "attention.ncd", "ScaledDotProductAttention", sizes={"y": 128, "x": 256, "k": 32},
             fast_memory=M, batch=1)
    t = r.json()["definitions"][0]["transfers"]
    assert t["tiled"]["value"] == pytest.approx(attention_transfers(128, 256, 32, M))
    assert t["tiled"]["formula"] == "2*y*k + 4*y*k**2*x/M"
    assert t["naive"]["value"] > t["tiled"]["value"]


def test_fan_transfers_of_a_linear_map():
    M = 1024
    r = cost(SPECS / "mlp.ncd", sizes={"hidden": 256}, batch=64, fast_memory=M)
    t = r.json()["definitions"][0]["transfers"]
    expected = sum(matmul_transfers(64, b, c, M) for b, c in ((784, 256), (256, 256), (256, 10)))
    assert t["tiled"]["value"] == pytest.approx(expected)
    assert t["naive"]["value"] == sum(2 * 64 * b * c + 64 * c for b, c in ((784, 256), (256, 256), (256, 10)))


# ---- the command and its JSON ---------------------------------------------------------------------------


def _ncdc(*args):
    return subprocess.run([sys.executable, "-m", "ncdc", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_json_schema_every_row_carries_the_five_numbers():
    done = _ncdc("cost", "specs/resnet.ncd", "--module", "IdentityResNet", "--sizes", "H=32,W=32",
                 "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["schema"] == 1 and data["dtype"] == "float32"

    def check(row):
        for key in ("params", "flops_forward", "flops_backward"):
            assert isinstance(row[key]["formula"], str) and "value" in row[key]
        for key in ("memory_peak", "memory_saved"):
            assert {"elements", "bytes", "formula"} <= row[key].keys()
        for child in row["children"]:
            check(child)

    (d,) = data["definitions"]
    check(d)
    assert d["params"]["value"] == 314698 and d["params"]["bytes"] == 4 * 314698
    assert d["memory_saved"]["bytes"] is not None


def test_table_shows_formula_beside_number():
    done = _ncdc("cost", "specs/attention.ncd", "--module", "MultiHeadAttention", "--sizes", "y=20,x=22")
    assert done.returncode == 0, done.stderr
    assert "32,768  4*m*k*h" in done.stdout
    assert "ScaledDotProductAttention[h]" in done.stdout


def test_cost_does_not_import_torch():
    script = "import sys, ncdc.cli; ncdc.cli.main(['cost', 'specs/vit.ncd']); assert 'torch' not in sys.modules"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr


def test_unknown_module_is_a_usage_error():
    done = _ncdc("cost", "specs/mlp.ncd", "--module", "Nope")
    assert done.returncode == 2 and "no module or def `Nope`" in done.stderr


def test_python_api_returns_the_same_numbers():
    a = ncdc.cost(SPECS / "attention.ncd", "MultiHeadAttention", sizes={"y": 20, "x": 22}).json()
    b = cost(SPECS / "attention.ncd", "MultiHeadAttention", sizes={"y": 20, "x": 22}).json()
    assert a == b and a["definitions"][0]["params"]["value"] == 32768


def test_the_cost_page_names_every_heading_and_key():
    """docs/cost.md (generated: tests/test_docs.py checks it is current) documents every FLOP heading and
    every key of the JSON schema."""
    from ncdc.backend.cost import CATEGORIES

    text = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    for heading in CATEGORIES:
        assert f"`{heading}`" in text
    data = cost(SPECS / "attention.ncd", "MultiHeadAttention", sizes={"y": 4, "x": 5}, fast_memory=64,
                machine="h100").json()
    keys = set(data) | set(data["machine"]) | set(data["definitions"][0])
    for row in (data["definitions"][0], data["definitions"][0]["children"][0]):
        for name, value in row.items():  # (not the keys of maps: size names, headings, element types)
            if isinstance(value, dict) and name not in ("sizes", "names"):
                keys |= set(value)
    for key in sorted(keys):
        assert f'"{key}"' in text, f"docs/cost.src.md does not document the key {key}"


def test_memory_peak_of_the_mlp():
    """At `X = relu(L1(X))`: the input (its caller holds it), the hidden wire X, and L1's and relu's results."""
    d = cost(SPECS / "mlp.ncd").definition("BasicImageRecogniser")
    assert str(peak_of(d.row, d.env)[0]) == "w**2*B + 3*hidden*B"


# ---- the roofline bound -------------------------------------------------------------------------------


def _mlp_bytes(B: int, w=28, hidden=512, classes=10) -> int:
    """What the MLP's operations read and write, each run on its own, in float32: every Linear its input,
    result, weight and bias; every relu and the softmax their input and result."""
    n_in = w * w
    linears = [(n_in, hidden), (hidden, hidden), (hidden, classes)]
    elements = sum(B * i + B * o + i * o + o for i, o in linears) + 2 * (2 * B * hidden) + 2 * B * classes
    return 4 * elements


@pytest.mark.parametrize("key", ["a100", "h100", "h200", "apple-m1", "epyc-9654"])
def test_roofline_follows_from_the_machine_table(key):
    import tomllib

    from ncdc.backend.cost.roofline import MACHINES

    entry = tomllib.loads(MACHINES.read_text(encoding="utf-8"))[key]
    assert entry["source"].startswith(("NVIDIA", "Apple", "AMD")) and "https://" in entry["source"] and entry["quote"]
    B = 64
    data = cost(SPECS / "mlp.ncd", batch=B, machine=key).json()
    r = data["definitions"][0]["roofline"]
    flops = data["definitions"][0]["flops_forward"]["value"]
    nbytes = _mlp_bytes(B)
    assert r["bytes"] == nbytes
    assert r["compute_seconds"] == flops / entry["peak"]["float32"]
    assert r["memory_seconds"] == nbytes / entry["bandwidth"]
    assert r["seconds"] == max(flops / entry["peak"]["float32"], nbytes / entry["bandwidth"])
    assert data["machine"]["key"] == key and data["machine"]["source"] == entry["source"]
    ops = data["definitions"][0]["children"]
    assert r["operations_seconds"] == pytest.approx(sum(o["roofline"]["seconds"] for o in ops), rel=1e-12)
    assert r["operations_seconds"] >= r["seconds"] * (1 - 1e-12)


def test_roofline_per_operation_and_dtype():
    data = cost(SPECS / "mlp.ncd", batch=8, dtype="bfloat16", machine="h100").json()
    L0 = data["definitions"][0]["children"][0]
    assert L0["name"] == "L0: Linear"
    flops = 2 * 8 * 784 * 512 + 8 * 512
    nbytes = 2 * (8 * 784 + 8 * 512 + 784 * 512 + 512)
    assert L0["roofline"]["seconds"] == max(flops / 989.5e12, nbytes / 3.35e12)
    assert L0["roofline"]["bound"] == "memory"
    with pytest.raises(ncdc.backend.cost.CostError, match="no peak rate for bfloat16"):
        cost(SPECS / "mlp.ncd", dtype="bfloat16", machine="epyc-9654")


def test_a_machine_of_ones_own(tmp_path):
    mine = tmp_path / "mine.toml"
    mine.write_text('[lab]\nname = "the lab box"\nbandwidth = 1e11\npeak = { float32 = 2e12 }\n', encoding="utf-8")
    a = cost(SPECS / "mlp.ncd", batch=2, machine="lab", machine_file=mine).json()["definitions"][0]["roofline"]
    b = cost(SPECS / "mlp.ncd", batch=2, machine="peak.float32=2e12,bandwidth=1e11").json()["definitions"][0]
    assert a["seconds"] == b["roofline"]["seconds"] == max(b["flops_forward"]["value"] / 2e12, _mlp_bytes(2) / 1e11)
    done = _ncdc("cost", "specs/mlp.ncd", "--machine", "lab", "--machine-file", str(mine))
    assert done.returncode == 0 and "roofline of the forward pass on the lab box" in done.stdout
    mine.write_text('[lab]\nbandwidth = -1\npeak = { float32 = 2e12 }\n', encoding="utf-8")
    done = _ncdc("cost", "specs/mlp.ncd", "--machine", "lab", "--machine-file", str(mine))
    assert done.returncode == 2 and "bandwidth must be a positive number" in done.stderr
    done = _ncdc("cost", "specs/mlp.ncd", "--machine", "nope")
    assert done.returncode == 2 and "no machine `nope`: one of a100, h100" in done.stderr


# ---- formulas in the generated code's docstrings ------------------------------------------------------


def _docstring_formulas(doc: str) -> dict[str, str]:
    """`label: formula` lines of a cost docstring, continuation lines joined."""
    found: dict[str, str] = {}
    label = None
    for line in inspect.cleandoc(doc).split("Costs (", 1)[1].splitlines()[1:]:
        if line.startswith("      ") and label:
            found[label] += " " + line.strip()
        elif ":" in line:
            label, _, text = line.strip().partition(": ")
            found[label] = text
    return found


@pytest.mark.parametrize("stem", [stem for stem, _ in _programs()])
def test_cost_docstrings_give_the_formulas_of_ncdc_cost(stem):
    path = SPECS / f"{stem}.ncd"
    plain = ncdc.compile_file(path)
    source = ncdc.compile_file(path, cost_docstrings=True)
    assert source != plain and plain == ncdc.compile_file(path, cost_docstrings=False)
    namespace: dict = {}
    exec(compile(source, f"{stem}.py", "exec"), namespace)
    report = cost(path)
    for d in report.definitions:
        doc = namespace[d.name].__doc__
        formulas = _docstring_formulas(doc)
        row = d.row
        assert formulas["forward FLOPs"] == d.text(row.flops_forward)
        assert formulas["backward FLOPs"] == d.text(row.flops_backward)
        if d.kind == "module":
            assert formulas["parameters"] == d.text(row.params)
        names = [line.strip()[len("where "):].split(" = ") for line in doc.splitlines()
                 if line.strip().startswith("where ")]
        assert names == [list(n) for n in d.formulas.definitions()]
        # The text is Python arithmetic: at any sizes it gives the numbers ncdc cost gives.
        for scale in (1, 3):
            env = {k: v * scale for k, v in d.env.items()} | {m: 5 + scale for m in d.missing}
            for name, text in names:
                env[name] = eval(text, {}, dict(env))
            for label, size in (("forward FLOPs", row.flops_forward), ("backward FLOPs", row.flops_backward)):
                assert eval(formulas[label], {}, dict(env)) == evaluate(size, env), (d.name, label)


def test_compile_cost_docstrings_on_the_command_line():
    done = _ncdc("compile", "specs/mlp.ncd", "--cost-docstrings")
    assert done.returncode == 0, done.stderr
    assert "      parameters: hidden*(w**2 + hidden + classes + 2) + classes\n" in done.stdout


def test_strided_sizes_are_named_once_per_module():
    """A bottleneck's costs in `H_s`, `W_s` (its strided sizes), common factors taken out: the expanded
    polynomial's 24 terms in one product."""
    d = cost(SPECS / "resnet.ncd", "ProjectionResidual").definition("ProjectionResidual")
    assert d.formulas.definitions() == [("H_s", "(H - 1)//s + 1"), ("W_s", "(W - 1)//s + 1")]
    assert len(d.row.flops_forward.terms) == 24
    assert d.text(d.row.flops_forward) == "B*H_s*W_s*(2*(n1//4)*(n0 + n1 + 9*(n1//4) + 10) + n1*(2*n0 + 3))"
    nested = cost(SPECS / "resnet.ncd", "IdentityResNet").definition("IdentityResNet").formulas.definitions()
    assert nested == [("H_2", "(H + 1)//2"), ("W_2", "(W + 1)//2"), ("H_4", "(H_2 + 1)//2"), ("W_4", "(W_2 + 1)//2")]


def test_factored_text_is_the_polynomial():
    from ncdc.backend.cost.formula import factored
    from ncdc.sizes import Size
    a, b, c = (Size.of(Symbol(n)) for n in "abc")
    size = 6 * a * a * b + 4 * a * b * c - 2 * a * (c // 4) + 2 * b * c * c + 8 * a * c - 2 * c - 3
    text = factored(size)
    for values in ({"a": 5, "b": 7, "c": 9}, {"a": 2, "b": 1, "c": 13}):
        assert eval(text, {}, values) == evaluate(size, values)
    assert factored(4 * a * b + 4 * a * c) == "4*a*(b + c)" and factored(-a * b - a) == "-a*(b + 1)"
