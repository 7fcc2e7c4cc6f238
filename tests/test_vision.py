"""The vision specs (paper §3.4-3.5) against the hand-written references in tests/reference/vision.py.

For each model the generated module, built with no constructor arguments, must have the reference's
parameters (same shapes, same order, same count), take the reference's state_dict by position
(buffers too) and then compute the same function in eval mode.  On top of that: the notebook's own
checks, the ResNet's repetitions (own weights, N residual components), extra leading batch axes,
the Tracker, and `ncdc check` on the U-Net and on a variant whose skips only match for some sizes.

The U-Nets are big (123M and 31M parameters): each model is built once per module (module-scoped
fixtures), inputs are small and nothing runs backwards.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import ncdc
import vision  # tests/reference/vision.py, on the path thanks to conftest.py

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
ATOL = 1e-5

# The parameter counts of the figures' models (generated and reference alike).
COUNTS = {
    "IdentityResNet": 314_698,
    "UNetFig27": 123_664_898,
    "UNetOriginal": 31_030_658,
    "VisualAttention": 38_145,
    "VisualAttentionSingleHead": 1_113,
    "ViT": 74_570,
}


@pytest.fixture(scope="module", autouse=True)
def _threads():
    old = torch.get_num_threads()
    torch.set_num_threads(min(old, 2))
    yield
    torch.set_num_threads(old)


# ---- the generated code, loaded once per spec ----------------------------------------------------


@pytest.fixture(scope="module")
def resnet_mod():
    return ncdc.load(SPECS / "resnet.ncd")


@pytest.fixture(scope="module")
def unet_mod():
    return ncdc.load(SPECS / "unet.ncd")


@pytest.fixture(scope="module")
def va_mod():
    return ncdc.load(SPECS / "visual_attention.ncd")


@pytest.fixture(scope="module")
def vit_mod():
    return ncdc.load(SPECS / "vit.ncd")


# ---- helpers --------------------------------------------------------------------------------------


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def allowed_reshape(gen_name: str, gen_shape: tuple, ref_name: str, ref_shape: tuple) -> bool:
    """The one shape difference allowed: ViT's class token, `Parameter[1 dim]` in the spec, (dim,) in
    the reference."""
    return gen_name == "cls" and ref_name == "cls_token" and gen_shape == (1, *ref_shape)


def assert_same_parameters(gen: nn.Module, ref: nn.Module) -> None:
    gen_params = [(n, tuple(p.shape)) for n, p in gen.named_parameters()]
    ref_params = [(n, tuple(p.shape)) for n, p in ref.named_parameters()]
    assert len(gen_params) == len(ref_params), (
        f"{len(gen_params)} parameter tensors generated, {len(ref_params)} in the reference")
    for i, ((gn, gs), (rn, rs)) in enumerate(zip(gen_params, ref_params)):
        assert gs == rs or allowed_reshape(gn, gs, rn, rs), (
            f"parameter {i}: generated {gn} {gs}, reference {rn} {rs}")


def randomise_buffers(ref: nn.Module) -> None:
    """Give BatchNorm running statistics values of their own, so that copying them is tested."""
    with torch.no_grad():
        for module in ref.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.num_batches_tracked.fill_(7)


def load_by_order(gen: nn.Module, ref: nn.Module) -> None:
    """Load the reference's state_dict (parameters and buffers) into `gen`, entry by entry in order."""
    gen_state, ref_state = gen.state_dict(), ref.state_dict()
    assert len(gen_state) == len(ref_state), (
        f"{len(gen_state)} state entries generated, {len(ref_state)} in the reference")
    new = {}
    for (gn, gv), (rn, rv) in zip(gen_state.items(), ref_state.items()):
        assert tuple(gv.shape) == tuple(rv.shape) or allowed_reshape(gn, tuple(gv.shape), rn, tuple(rv.shape)), (
            f"state entry {gn} {tuple(gv.shape)} vs reference {rn} {tuple(rv.shape)}")
        assert gv.dtype == rv.dtype, f"{gn}: {gv.dtype} vs reference {rn}: {rv.dtype}"
        new[gn] = rv.reshape(gv.shape).clone()
    gen.load_state_dict(new, strict=True)
    for (gn, gv), (rn, rv) in zip(gen.state_dict().items(), ref_state.items()):
        assert torch.equal(gv.reshape(rv.shape), rv), f"{gn} was not loaded from {rn}"


# ---- the models, generated and reference, built once ----------------------------------------------


class Pair:
    def __init__(self, gen: nn.Module, ref: nn.Module):
        self.gen, self.ref = gen, ref


def make_pair(gen_cls, ref_factory, seed=0) -> Pair:
    torch.manual_seed(seed)
    gen = gen_cls()  # no constructor arguments: the spec's defaults build the figure's model
    ref = ref_factory()
    return Pair(gen, ref)


@pytest.fixture(scope="module")
def resnet_pair(resnet_mod):
    return make_pair(resnet_mod.IdentityResNet, vision.IdentityResNet)


@pytest.fixture(scope="module")
def fig27_pair(unet_mod):
    return make_pair(unet_mod.UNetFig27, vision.UNetFig27)


@pytest.fixture(scope="module")
def original_pair(unet_mod):
    return make_pair(unet_mod.UNetOriginal, vision.UNetOriginal)


@pytest.fixture(scope="module")
def va_pair(va_mod):
    return make_pair(va_mod.VisualAttention, lambda: vision.VisualAttention(33, 8, heads=4, kernel=3, stride=3))


@pytest.fixture(scope="module")
def va1_pair(va_mod):
    return make_pair(va_mod.VisualAttentionSingleHead, lambda: vision.VisualAttention(33, 8))


@pytest.fixture(scope="module")
def vit_pair(vit_mod):
    return make_pair(vit_mod.ViT, vision.ViT)


PAIRS = ["resnet_pair", "fig27_pair", "original_pair", "va_pair", "va1_pair", "vit_pair"]
NAMES = {
    "resnet_pair": "IdentityResNet",
    "fig27_pair": "UNetFig27",
    "original_pair": "UNetOriginal",
    "va_pair": "VisualAttention",
    "va1_pair": "VisualAttentionSingleHead",
    "vit_pair": "ViT",
}


def inputs_for(fixture: str) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    shapes = {
        "resnet_pair": [(3, 3, 16, 16)],
        "fig27_pair": [(1, 1, 32, 32)],
        "original_pair": [(1, 1, 32, 32)],
        "va_pair": [(1, 33, 16, 16), (1, 33, 12, 10)],
        "va1_pair": [(1, 33, 16, 16), (1, 33, 12, 10)],
        "vit_pair": [(2, 3, 32, 32)],
    }[fixture]
    return [torch.randn(s, generator=g) for s in shapes]


@pytest.fixture(scope="module")
def loaded_pairs(request):
    """Each pair with the reference's state (buffers randomised first) loaded into the generated model."""
    done = {}

    def get(fixture: str) -> Pair:
        if fixture not in done:
            pair = request.getfixturevalue(fixture)
            randomise_buffers(pair.ref)
            load_by_order(pair.gen, pair.ref)
            pair.gen.eval()
            pair.ref.eval()
            done[fixture] = pair
        return done[fixture]

    return get


# ---- 1. equivalence with the references -----------------------------------------------------------


@pytest.mark.parametrize("fixture", PAIRS, ids=[NAMES[p] for p in PAIRS])
def test_generated_class_name(fixture, request):
    pair = request.getfixturevalue(fixture)
    assert type(pair.gen).__name__ == NAMES[fixture]


@pytest.mark.parametrize("fixture", PAIRS, ids=[NAMES[p] for p in PAIRS])
def test_parameter_shapes_in_reference_order(fixture, request):
    pair = request.getfixturevalue(fixture)
    assert_same_parameters(pair.gen, pair.ref)


@pytest.mark.parametrize("fixture", PAIRS, ids=[NAMES[p] for p in PAIRS])
def test_parameter_count(fixture, request):
    pair = request.getfixturevalue(fixture)
    expected = COUNTS[NAMES[fixture]]
    assert count(pair.ref) == expected, "the reference's count changed"
    assert count(pair.gen) == expected


@pytest.mark.parametrize("fixture", PAIRS, ids=[NAMES[p] for p in PAIRS])
def test_buffers_match_reference(fixture, request):
    pair = request.getfixturevalue(fixture)
    gen_buffers = [tuple(b.shape) for b in pair.gen.buffers()]
    ref_buffers = [tuple(b.shape) for b in pair.ref.buffers()]
    assert gen_buffers == ref_buffers


def test_vit_class_token_is_the_only_reshape(vit_pair):
    gen = dict((n, tuple(p.shape)) for n, p in vit_pair.gen.named_parameters())
    assert gen["cls"] == (1, 64)
    assert tuple(vit_pair.ref.cls_token.shape) == (64,)
    pairs = zip(vit_pair.gen.named_parameters(), vit_pair.ref.named_parameters())
    differing = [(gn, rn) for (gn, gp), (rn, rp) in pairs if gp.shape != rp.shape]
    assert differing == [("cls", "cls_token")]


def test_resnet_has_batchnorm_buffers(resnet_pair):
    buffers = dict(resnet_pair.gen.named_buffers())
    assert len(buffers) == len(dict(resnet_pair.ref.named_buffers())) == 84  # 28 BatchNorms x 3
    assert sum(1 for n in buffers if n.endswith("running_mean")) == 28


@pytest.mark.parametrize("fixture", PAIRS, ids=[NAMES[p] for p in PAIRS])
def test_same_outputs_in_eval_mode(fixture, loaded_pairs):
    pair = loaded_pairs(fixture)
    xs = inputs_for(fixture)
    with torch.no_grad():
        got = pair.gen(*xs)
        want = pair.ref(*xs)
    assert got.shape == want.shape
    assert torch.allclose(got, want, atol=ATOL, rtol=0), (got - want).abs().max().item()


def test_resnet_buffers_change_the_output(loaded_pairs, resnet_mod):
    """The equivalence above is not vacuous: without the copied running statistics the outputs differ."""
    pair = loaded_pairs("resnet_pair")
    x = inputs_for("resnet_pair")[0]
    fresh = resnet_mod.IdentityResNet()
    fresh.load_state_dict({k: v for k, v in pair.gen.state_dict().items() if "running" not in k}, strict=False)
    fresh.eval()
    with torch.no_grad():
        assert not torch.allclose(fresh(x), pair.ref(x), atol=ATOL)
        assert torch.allclose(pair.gen(x), pair.ref(x), atol=ATOL, rtol=0)


def test_resnet_small_variants_match_reference(resnet_mod):
    """Non-default hyperparameters build the same layers as the reference with the same arguments."""
    for N in (1, 2):
        torch.manual_seed(0)
        gen = resnet_mod.IdentityResNet(N=N, n0=4, n1=8, n2=8, n3=16, classes=3)
        ref = vision.IdentityResNet(N=N, n_mu=(4, 8, 8, 16), y=3)
        assert_same_parameters(gen, ref)
        randomise_buffers(ref)
        load_by_order(gen, ref)
        gen.eval(), ref.eval()
        x = torch.randn(2, 3, 8, 8)
        with torch.no_grad():
            assert torch.allclose(gen(x), ref(x), atol=ATOL, rtol=0)


# ---- 2. the notebook's own checks on the generated modules ---------------------------------------


def test_resnet_notebook_check(resnet_mod):
    torch.manual_seed(0)
    model = resnet_mod.IdentityResNet()  # training mode, as in the notebook
    with torch.no_grad():
        out = model(torch.rand(3, 3, 16, 16))
    assert tuple(out.shape) == (3, 10)
    assert torch.allclose(out.sum(-1), torch.ones(3), atol=1e-5)
    assert (out >= 0).all()


def test_visual_attention_notebook_check(va_pair):
    model = va_pair.gen
    assert (model.c, model.k, model.heads, model.kernel, model.stride) == (33, 8, 4, 3, 3)
    torch.manual_seed(0)
    E, X = torch.rand(1, 33, 16, 16), torch.rand(1, 33, 16, 16)
    with torch.no_grad():
        out = model(E, X)
    assert tuple(out.shape) == (1, 33, 15, 15)  # 16 -> floor((16 - 3) / 3) + 1 = 5 -> (5 - 1) * 3 + 3 = 15


def test_visual_attention_single_head_keeps_size(va1_pair):
    with torch.no_grad():
        out = va1_pair.gen(torch.rand(1, 33, 16, 16), torch.rand(1, 33, 7, 9))
    assert tuple(out.shape) == (1, 33, 16, 16)


@pytest.mark.parametrize("fixture", ["fig27_pair", "original_pair"], ids=["UNetFig27", "UNetOriginal"])
def test_unet_notebook_check_64(fixture, loaded_pairs):
    """1 x 1 x 64 x 64 -> 1 x 2 x 64 x 64 (one forward each: a second or less on 2 cores)."""
    pair = loaded_pairs(fixture)
    x = torch.rand(vision.UNET_FIG27_INPUT_FOR_64)
    with torch.no_grad():
        out = pair.gen(x)
    assert tuple(out.shape) == vision.UNET_FIG27_OUTPUT_FOR_64 == (1, 2, 64, 64)


@pytest.mark.parametrize("name", ["UNetFig27", "UNetOriginal"])
def test_unet_types_give_64_for_64(name):
    """The same check from the IR alone: input `1 (16*h) (16*w)` -> output `classes (16*h) (16*w)`."""
    program = ncdc.check_file(SPECS / "unet.ncd")
    module = {m.name: m for m in program.modules}[name]
    defaults = {hp.name: hp.default for hp in module.hparams}
    named = {"h": 4, "w": 4, **defaults}

    def shape(t):
        values = {s: named[s.name] for a in t.axes for s in a.size.symbols()}
        return tuple(a.size.evaluate(values) for a in t.axes)

    (param,) = module.forward.params
    (result,) = module.forward.results
    assert shape(param.type) == (1, 64, 64)
    assert shape(result) == (2, 64, 64)


def test_unet_fig27_saves_c1_without_loading_it(fig27_pair):
    """The figure's full-resolution C_1 is saved (returned by the first block) but never used."""
    with torch.no_grad():
        x, c1 = fig27_pair.gen.first(torch.rand(1, 1, 32, 32))
    assert tuple(x.shape) == (1, 128, 16, 16)
    assert tuple(c1.shape) == (1, 128, 32, 32)


def test_unet_shape_check_rejects_wrong_size(original_pair):
    """33 is not 16 * h: the generated model's own shape check refuses it."""
    with torch.no_grad(), pytest.raises(ValueError, match="16"):
        original_pair.gen(torch.rand(1, 1, 33, 32))


# ---- 3. the ResNet's repetitions ------------------------------------------------------------------


def residuals(block: nn.Module, mod) -> list[nn.Module]:
    return [m for m in block.modules() if isinstance(m, (mod.ProjectionResidual, mod.IdentityResidual))]


def test_resnet_repetitions_have_their_own_weights(resnet_pair, resnet_mod):
    model = resnet_pair.gen
    for name in ("block1", "block2", "block3"):
        block = getattr(model, name)
        assert isinstance(block.identities, nn.ModuleList)
        parts = list(block.identities)
        assert len(parts) == 2
        assert len({id(p) for p in parts}) == len(parts), "the same module object is repeated"
        pointers = [p.data_ptr() for part in parts for p in part.parameters()]
        assert len(pointers) == len(set(pointers)), f"{name}: repetitions share parameter storage"
        # nor with the projection residual
        projection = {p.data_ptr() for p in block.projection.parameters()}
        assert not projection & set(pointers)
    every = [p.data_ptr() for p in model.parameters()]
    assert len(every) == len(set(every))


@pytest.mark.parametrize("N", [3, 2, 1])
def test_resnet_blocks_have_n_residuals(resnet_mod, N):
    model = resnet_mod.IdentityResNet() if N == 3 else resnet_mod.IdentityResNet(N=N)
    assert model.N == N
    for name in ("block1", "block2", "block3"):
        block = getattr(model, name)
        found = residuals(block, resnet_mod)
        assert len(found) == N, f"{name}: {len(found)} residual components, expected N = {N}"
        assert sum(isinstance(r, resnet_mod.ProjectionResidual) for r in found) == 1
        assert isinstance(block.identities, nn.ModuleList)
        assert len(block.identities) == N - 1
    ref = vision.IdentityResNet(N=N)
    assert count(model) == count(ref)
    assert_same_parameters(model, ref)


def test_resnet_n1_runs(resnet_mod):
    model = resnet_mod.IdentityResNet(N=1).eval()
    with torch.no_grad():
        out = model(torch.rand(2, 3, 8, 8))
    assert tuple(out.shape) == (2, 10)


def test_other_repetitions_are_module_lists(fig27_pair, original_pair, vit_pair):
    assert isinstance(fig27_pair.gen.down, nn.ModuleList) and len(fig27_pair.gen.down) == 3
    assert isinstance(fig27_pair.gen.up, nn.ModuleList) and len(fig27_pair.gen.up) == 3
    assert isinstance(original_pair.gen.encoder, nn.ModuleList) and len(original_pair.gen.encoder) == 3
    assert isinstance(original_pair.gen.decoder, nn.ModuleList) and len(original_pair.gen.decoder) == 4
    assert isinstance(vit_pair.gen.layers, nn.ModuleList) and len(vit_pair.gen.layers) == 2
    assert vit_pair.gen.layers[0] is not vit_pair.gen.layers[1]


# ---- 4. extra leading batch axes ------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["resnet_pair", "vit_pair"], ids=["IdentityResNet", "ViT"])
def test_double_batch_agrees_with_slices(fixture, loaded_pairs):
    model = loaded_pairs(fixture).gen  # eval mode: BatchNorm uses its running statistics
    x = torch.randn(2, 3, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        out = model(x)
        assert tuple(out.shape) == (2, 3, 10)
        for i in range(2):
            assert torch.allclose(out[i], model(x[i]), atol=ATOL, rtol=0)
            for j in range(3):
                assert torch.allclose(out[i, j], model(x[i, j]), atol=ATOL, rtol=0)
        # and with the reference on the flattened batch
        ref = loaded_pairs(fixture).ref
        assert torch.allclose(out.reshape(6, 10), ref(x.reshape(6, 3, 32, 32)), atol=ATOL, rtol=0)


# ---- 5. the Tracker -------------------------------------------------------------------------------


def test_tracker_on_unet_fig27(fig27_pair):
    model = fig27_pair.gen.eval()
    out = io.StringIO()
    with ncdc.Tracker(model, SPECS / "unet.ncd", out=out), torch.no_grad():
        model(torch.rand(1, 1, 32, 32))
    lines = out.getvalue().splitlines()
    assert "first.pool (MaxPool2d): 1 128 32 32 -> 1 128 16 16    spec: H W -> (H//2) (W//2)" in lines
    assert ("first (DownScaleBlock): 1 1 32 32 -> 1 128 16 16, 1 128 32 32    "
            "spec: 1 H W -> 128 (H//2) (W//2), 128 H W") in lines
    assert ("up.0 (UpScaleBlock): 1 1024 4 4, 1 1024 4 4 -> 1 512 8 8    "
            "spec: 1024 H W, 1024 H W -> 512 (2*H) (2*W)") in lines
    assert "middle_up (ConvTranspose2d): 1 2048 2 2 -> 1 1024 4 4    spec: 2048 H W -> 1024 (2*H) (2*W)" in lines
    assert lines[-1] == "final (Conv2d): 1 128 32 32 -> 1 2 32 32    spec: 128 H W -> classes H W"
    # one line per part called: every module under first/down/middle/up/final that the spec declares
    names = [line.split(" ", 1)[0] for line in lines]
    for part in ("first", "first.convs", "first.convs.conv1", "first.convs.conv2", "first.pool",
                 "down.0", "down.1", "down.2", "middle", "middle_up", "up.0", "up.1", "up.2", "up.2.up", "final"):
        assert names.count(part) == 1, part
    # 4 down blocks x 5 (block, convs, conv1, conv2, pool) + middle 3 + middle_up + 3 up blocks x 5
    # (block, convs, conv1, conv2, up) + final
    assert len(lines) == 4 * 5 + 3 + 1 + 3 * 5 + 1 == 40
    for line in lines:
        assert re.fullmatch(r"[\w.]+ \(\w+\): [\d ,]+ -> [\d ,]+    spec: .+ -> .+", line), line


def test_tracker_on_unet_original_and_hooks_removed(original_pair):
    model = original_pair.gen.eval()
    out = io.StringIO()
    with ncdc.Tracker(model, SPECS / "unet.ncd", out=out), torch.no_grad():
        model(torch.rand(1, 1, 32, 32))
    lines = out.getvalue().splitlines()
    pools = [line for line in lines if line.startswith("pool ")]
    assert pools == [
        "pool (MaxPool2d): 1 64 32 32 -> 1 64 16 16    spec: H W -> (H//2) (W//2)",
        "pool (MaxPool2d): 1 128 16 16 -> 1 128 8 8    spec: H W -> (H//2) (W//2)",
        "pool (MaxPool2d): 1 256 8 8 -> 1 256 4 4    spec: H W -> (H//2) (W//2)",
        "pool (MaxPool2d): 1 512 4 4 -> 1 512 2 2    spec: H W -> (H//2) (W//2)",
    ]
    assert ("decoder.0 (UpStep): 1 1024 2 2, 1 512 4 4 -> 1 512 4 4    "
            "spec: 1024 H W, 512 (2*H) (2*W) -> 512 (2*H) (2*W)") in lines
    # after the block, nothing is printed any more
    with torch.no_grad():
        model(torch.rand(1, 1, 16, 16))
    assert out.getvalue().splitlines() == lines


# ---- 6. `ncdc check` on the U-Net and on a variant typed `1 H W` ------------------------------------


FIG27_INPUT = "def forward(X: 1 (16 * h) (16 * w)) -> classes (16 * h) (16 * w):"


def ncdc_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ncdc", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


@pytest.fixture(scope="module")
def hw_variant(tmp_path_factory) -> tuple[Path, str]:
    text = (SPECS / "unet.ncd").read_text(encoding="utf-8")
    assert text.count(FIG27_INPUT) == 1
    text = text.replace(FIG27_INPUT, "def forward(X: 1 H W) -> classes H W:")
    path = tmp_path_factory.mktemp("unet") / "unet_hw.ncd"
    path.write_text(text, encoding="utf-8")
    return path, text


def position(text: str, line_marker: str, token: str) -> tuple[int, int]:
    """(line, column), 1-based, of `token` in the only line containing `line_marker`."""
    lines = [i for i, line in enumerate(text.splitlines()) if line_marker in line]
    assert len(lines) == 1, line_marker
    line = text.splitlines()[lines[0]]
    return lines[0] + 1, line.index(token, line.index(line_marker)) + 1


def test_check_unet_exits_0():
    result = ncdc_cli("check", "specs/unet.ncd")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok" in result.stdout + result.stderr


def test_hw_variant_cannot_be_proved(hw_variant):
    path, text = hw_variant
    result = ncdc_cli("check", str(path), "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    (diag,) = json.loads(result.stdout)["diagnostics"]
    assert diag["code"] == "E0302"
    assert "cannot prove" in diag["message"] and "equal" in diag["message"]
    assert "up[1]" in diag["message"]
    assert "H//8" in diag["message"] and "2*(H//16)" in diag["message"]
    # at the first concatenating call, on the skip C4 that no longer provably matches
    assert (diag["line"], diag["column"]) == position(text, "X = up[1](X, C4)", "C4")
    assert "--sizes" in diag["help"]


def test_hw_variant_text_output(hw_variant):
    path, text = hw_variant
    result = ncdc_cli("check", str(path))
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert "error[E0302]" in output
    line, column = position(text, "X = up[1](X, C4)", "C4")
    assert f"{path}:{line}:{column}" in output


def test_hw_variant_passes_for_64(hw_variant):
    path, _ = hw_variant
    result = ncdc_cli("check", str(path), "--sizes", "H=64,W=64")
    assert result.returncode == 0, result.stdout + result.stderr


def test_hw_variant_fails_for_572(hw_variant):
    """572 is not divisible by 16: 572 // 8 = 71 on the skip, 2 * (572 // 16) = 70 coming up."""
    path, text = hw_variant
    result = ncdc_cli("check", str(path), "--sizes", "H=572,W=572", "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    (diag,) = json.loads(result.stdout)["diagnostics"]
    assert diag["code"] == "E0301"
    assert "71" in diag["message"] and "70" in diag["message"]
    assert (diag["line"], diag["column"]) == position(text, "X = up[1](X, C4)", "C4")


def test_hw_variant_with_python_api(hw_variant):
    _, text = hw_variant
    with pytest.raises(ncdc.NcdcError) as info:
        ncdc.check_source(text, "unet_hw.ncd")
    assert [d.code for d in info.value.diagnostics] == ["E0302"]
    program = ncdc.check_source(text, "unet_hw.ncd", sizes={"H": 64, "W": 64})
    assert "UNetFig27" in program.order
    with pytest.raises(ncdc.NcdcError) as info:
        ncdc.check_source(text, "unet_hw.ncd", sizes={"H": 572, "W": 572})
    assert [d.code for d in info.value.diagnostics] == ["E0301"]


def test_check_usage_error_exits_2():
    result = ncdc_cli("check", "specs/unet.ncd", "--sizes", "H=big")
    assert result.returncode == 2
