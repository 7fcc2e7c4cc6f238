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
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import ncdc
from ncdc import ir
from ncdc.backend.cost import attention_transfers, cost, evaluate, matmul_transfers
from ncdc.backend.cost.report import saved_bytes
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


@pytest.mark.parametrize("path, name, given", [c for c in _modules() if "UNetFig27" not in c.id])
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


# Specs whose saved memory is compared; the tolerance is the brief's 10%.
SAVED = [c for c in _modules(with_settings=False)
         if any(k in c.id for k in ("mlp", "attention-", "resnet", "vit", "unet-DoubleConvolution",
                                    "unet-DownScaleBlock", "unet-UpScaleBlock", "unet-UpStep", "VisualAttention"))]


@pytest.mark.parametrize("path, name, given", SAVED)
def test_memory_saved_for_backward_matches_autograd(path, name, given):
    model, inputs, sizes = _build(path, name, given)
    report = cost(path, name, sizes=sizes, batch=BATCH)
    d = report.definition(name)
    ours = saved_bytes(d.row, d.env, 4)
    theirs = _saved_by_autograd(model, inputs)
    assert ours is not None
    assert abs(ours - theirs) <= 0.1 * theirs, f"cost says {ours} bytes, autograd saves {theirs}"


# ---- symbolic formulas ------------------------------------------------------------------------------


def test_formulas_are_in_the_specs_names():
    d = cost(SPECS / "attention.ncd", "MultiHeadAttention").definition("MultiHeadAttention")
    assert str(d.row.params) == "4*m*k*h"
    assert str(d.row.flops["attention"]) == "4*k*h*y*x*B"
    assert str(d.row.flops["contraction"]) == "4*m*k*h*y*B + 4*m*k*h*x*B"
    assert d.missing == ["x", "y"]


def test_batch_is_substituted_when_given():
    d = cost(SPECS / "mlp.ncd", batch=3).definition("BasicImageRecogniser")
    assert "B" not in {s.name for s in d.row.flops_forward.symbols()}
    assert evaluate(d.row.flops["contraction"], d.env) == 3 * 2 * (784 * 512 + 512 * 512 + 512 * 10)


def test_repetitions_are_multiplied_out():
    d = cost(SPECS / "vit.ncd", "ViT").definition("ViT")
    layers = next(r for r in d.row.children if r.label.startswith("layers"))
    assert "depth" in str(layers.flops_forward)
    one = cost(SPECS / "vit.ncd", "ViT", sizes={"depth": 1}).definition("ViT")
    two = cost(SPECS / "vit.ncd", "ViT", sizes={"depth": 2}).definition("ViT")
    per_layer = evaluate(two.row.params, two.env) - evaluate(one.row.params, one.env)
    assert per_layer > 0 and evaluate(one.row.params, one.env) + per_layer * 2 == \
        evaluate(cost(SPECS / "vit.ncd", "ViT", sizes={"depth": 3}).definition("ViT").row.params, {"depth": 3,
                                                                                               **one.env} | {"depth": 3})


def test_backward_rule():
    d = cost(SPECS / "mlp.ncd").definition("BasicImageRecogniser")
    f = d.row.flops
    assert d.row.flops_backward == 2 * f["contraction"] + f["elementwise"] + f["normalisation"]


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


def test_the_cost_page_is_current():
    """docs/cost.md names every heading, and its MHA example is what `ncdc cost` prints now."""
    from ncdc.backend.cost import CATEGORIES

    text = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    for heading in CATEGORIES:
        assert f"`{heading}`" in text
    for key in ("params", "flops_forward", "flops_backward", "memory_peak", "memory_saved", "transfers"):
        assert f'"{key}"' in text
    done = _ncdc("cost", "specs/attention.ncd", "--module", "MultiHeadAttention", "--sizes", "y=20,x=22",
                 "--fast-memory", "65536")
    assert done.returncode == 0, done.stderr
    assert done.stdout in text, "update the example in docs/cost.md"


def test_memory_peak_of_the_mlp():
    d = cost(SPECS / "mlp.ncd").definition("BasicImageRecogniser")
    assert str(d.row.peak[0][0]) == "w**2*B + 2*hidden*B" or any(
        str(p) == "w**2*B + 2*hidden*B" for p, _ in d.row.peak)  # the input and two hidden wires
