"""The checker on ill-typed vision specs: each mistake is caught with its code, a span at the right
place and an explanation.

Most variants are the real specs (specs/unet.ncd, resnet.ncd, visual_attention.ncd, vit.ncd) with one
piece of text replaced; lines and columns are computed from the variant's text, so the tests follow
the specs when they are edited elsewhere.  Small specs written here cover the remaining constructs.
A few tests (marked "should") assert what a diagnostic ought to say where the checker's current
wording or code is misleading; they are described in the module docstrings of those tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import ncdc

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

UNET = (SPECS / "unet.ncd").read_text(encoding="utf-8")
RESNET = (SPECS / "resnet.ncd").read_text(encoding="utf-8")
VA = (SPECS / "visual_attention.ncd").read_text(encoding="utf-8")
VIT = (SPECS / "vit.ncd").read_text(encoding="utf-8")

PATH = "variant.ncd"


# ---- helpers --------------------------------------------------------------------------------------


def variant(text: str, *replacements: tuple[str, str]) -> str:
    """`text` with each `old` (which must occur exactly once) replaced by `new`."""
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def diagnostics(text: str, sizes: dict | None = None) -> list:
    with pytest.raises(ncdc.NcdcError) as info:
        ncdc.check_source(text, PATH, sizes)
    found = info.value.diagnostics
    assert found, "NcdcError without diagnostics"
    return found


def first(text: str, sizes: dict | None = None):
    return diagnostics(text, sizes)[0]


def only(text: str, sizes: dict | None = None):
    found = diagnostics(text, sizes)
    assert len(found) == 1, "\n\n".join(d.render() for d in found)
    return found[0]


def at(text: str, marker: str, token: str | None = None, nth: int = 1, after: str | None = None) -> tuple[int, int]:
    """(line, column), 1-based, of `token` (default: the marker itself) in the only line containing
    `marker` (the first one after the line containing `after`, if given); `nth` picks a later
    occurrence of the token after the marker's start."""
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if marker in line]
    if after is not None:
        (start,) = [i for i, line in enumerate(lines) if after in line]
        hits = [i for i in hits if i > start][:1]
    assert len(hits) == 1, f"{marker!r} is on {len(hits)} lines"
    line = lines[hits[0]]
    column = line.index(marker)
    token = marker if token is None else token
    for _ in range(nth):
        column = line.index(token, column if _ == 0 else column + 1)
    return hits[0] + 1, column + 1


def where(diag) -> tuple[int, int]:
    assert diag.span is not None, f"{diag.code} has no span"
    return diag.span.line, diag.span.column


def notes(diag) -> str:
    return "\n".join(diag.notes)


def labels(diag) -> str:
    """The secondary labels, one a line: `file:line:column: text`."""
    return "\n".join(f"{label.span.location}: {label.text}" for label in diag.labels)


def everything(diag) -> str:
    return "\n".join([diag.message, diag.label or "", notes(diag), diag.help or ""])


def ok(text: str, sizes: dict | None = None) -> None:
    ncdc.check_source(text, PATH, sizes)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ncdc", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_the_real_specs_check():
    for text in (UNET, RESNET, VA, VIT):
        ok(text)


# ---- U-Net variants: skips whose spatial size no longer matches ------------------------------------

DOWN_POOL = "    pool = MaxPool2d(2)\n\n    def forward(X: c0 H W) -> c1 (H // 2) (W // 2), c1 H W:"
DOWN_TYPE = "-> c1 (H // 2) (W // 2), c1 H W:"
FIG27_INPUT = "def forward(X: 1 (16 * h) (16 * w)) -> classes (16 * h) (16 * w):"
ORIGINAL_INPUT = "def forward(X: channels (16 * h) (16 * w)) -> classes (16 * h) (16 * w):"
ORIGINAL_POOL = "    pool = MaxPool2d(2)\n    bottleneck"

FIG27_HW = variant(UNET, (FIG27_INPUT, "def forward(X: 1 H W) -> classes H W:"))
ORIGINAL_HW = variant(UNET, (ORIGINAL_INPUT, "def forward(X: channels H W) -> classes H W:"))


def test_pool_3_no_longer_gives_the_declared_half_size():
    text = variant(UNET, (DOWN_POOL, DOWN_POOL.replace("MaxPool2d(2)", "MaxPool2d(3)")))
    d = only(text)
    assert d.code == "E0302"
    assert where(d) == at(text, "return pool(C), C", "pool(C)")
    assert "cannot prove" in d.message and "`H//3`" in d.message and "`H//2`" in d.message
    assert "returned value 1" in d.message
    assert "expected `c1 (H//2) (W//2)`, found `c1 (H//3) (W//3)`" in notes(d)
    line, column = at(text, "pool = MaxPool2d(3)", "MaxPool2d")
    assert f"{PATH}:{line}:{column}: `H//3` comes from here" in labels(d)  # where H//3 comes from: the pool
    assert "--sizes" in d.help


def test_pool_3_declared_breaks_the_skip_at_the_first_up_block():
    """With the block's type updated too, the skip C4 and the upward wire differ in size."""
    text = variant(UNET, (DOWN_POOL, DOWN_POOL.replace("MaxPool2d(2)", "MaxPool2d(3)")),
                   (DOWN_TYPE, "-> c1 (H // 3) (W // 3), c1 H W:"))
    d = only(text)
    assert d.code == "E0302"
    assert where(d) == at(text, "X = up[1](X, C4)", "C4")
    assert "cannot prove" in d.message and "argument 2 of `up[1]`" in d.message
    assert "`up[1]` takes `1024 H W`" in notes(d)


def test_pool_stride_3_no_longer_gives_the_declared_half_size():
    text = variant(UNET, (DOWN_POOL, DOWN_POOL.replace("MaxPool2d(2)", "MaxPool2d(2, stride=3)")))
    d = only(text)
    assert d.code == "E0302"
    assert where(d) == at(text, "return pool(C), C", "pool(C)")
    assert "`(H + 1)//3`" in d.message and "`H//2`" in d.message


def test_pool_stride_3_declared_breaks_the_skip():
    text = variant(UNET, (DOWN_POOL, DOWN_POOL.replace("MaxPool2d(2)", "MaxPool2d(2, stride=3)")),
                   (DOWN_TYPE, "-> c1 ((H - 2) // 3 + 1) ((W - 2) // 3 + 1), c1 H W:"))
    d = only(text)
    assert d.code == "E0302"
    assert where(d) == at(text, "X = up[1](X, C4)", "C4")


def test_original_unet_pool_3_breaks_the_deepest_skip():
    text = variant(UNET, (ORIGINAL_POOL, ORIGINAL_POOL.replace("MaxPool2d(2)", "MaxPool2d(3)")))
    d = only(text)
    assert d.code == "E0302"
    assert where(d) == at(text, "X = decoder[1](X, C4)", "C4")
    assert "argument 2 of `decoder[1]`" in d.message
    assert "`decoder[1]` takes `512 (2*H) (2*W)`" in notes(d)


@pytest.mark.parametrize("sizes, call, skip, found, expected", [
    ({"H": 63, "W": 64}, "X = up[1](X, C4)", "C4", "H//8 (= 7)", "2*(H//16) (= 6)"),
    ({"H": 572, "W": 572}, "X = up[1](X, C4)", "C4", "H//8 (= 71)", "2*(H//16) (= 70)"),
    ({"H": 66, "W": 64}, "X = up[3](X, C2)", "C2", "H//2 (= 33)", "8*(H//16) (= 32)"),
    ({"H": 64, "W": 40}, "X = up[1](X, C4)", "C4", "W//8 (= 5)", "2*(W//16) (= 4)"),
], ids=["63", "572", "66", "W40"])
def test_fig27_odd_input_sizes(sizes, call, skip, found, expected):
    d = only(FIG27_HW, sizes)
    assert d.code == "E0301"
    assert where(d) == at(FIG27_HW, call, skip)
    assert "size mismatch" in d.message
    assert f"`{found}`" in d.message and f"`{expected}`" in d.message
    assert found in d.label


def test_fig27_sizes_that_divide_by_16_pass():
    for n in (16, 32, 64, 512):
        ok(FIG27_HW, {"H": n, "W": n})
    ok(FIG27_HW, {"H": 48, "W": 80})


def test_fig27_only_one_size_given_still_cannot_be_proved():
    d = only(FIG27_HW, {"H": 64})
    assert d.code == "E0302"
    assert "axis 3" in d.message and "W//8" in d.message  # W is still symbolic


def test_original_unet_odd_input_size():
    d = only(ORIGINAL_HW, {"H": 66, "W": 64})
    assert d.code == "E0301"
    assert where(d) == at(ORIGINAL_HW, "X = decoder[3](X, C2)", "C2")
    assert "`H//2 (= 33)`" in d.message and "(= 32)" in d.message
    ok(ORIGINAL_HW, {"H": 64, "W": 64})
    d = only(ORIGINAL_HW)
    assert d.code == "E0302"
    assert where(d) == at(ORIGINAL_HW, "X = decoder[1](X, C4)", "C4")


def test_odd_size_through_the_cli(tmp_path):
    path = tmp_path / "unet_hw.ncd"
    path.write_text(FIG27_HW, encoding="utf-8")
    result = cli("check", str(path), "--sizes", "H=63,W=63", "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    (d,) = json.loads(result.stdout)["diagnostics"]
    assert d["code"] == "E0301"
    assert (d["line"], d["column"]) == at(FIG27_HW, "X = up[1](X, C4)", "C4")
    assert d["file"] == str(path)
    assert cli("check", str(path), "--sizes", "H=64,W=64").returncode == 0


# ---- channel mismatches between blocks --------------------------------------------------------------

UP_LIST = "up = [UpScaleBlock(64 * 2**(5 - i), 64 * 2**(4 - i)) for i in 1..3]"


def test_up_block_with_wrong_output_channels():
    """up[1] = UpScaleBlock(1024, 256) gives 256 channels where up[2] takes 512."""
    text = variant(UNET, (UP_LIST, UP_LIST.replace("64 * 2**(4 - i)", "64 * 2**(3 - i)")))
    d = only(text)
    assert d.code == "E0301"
    assert where(d) == at(text, "X = up[2](X, C3)", "X", nth=2)
    assert "argument 1 of `up[2]`" in d.message and "`256`" in d.message and "`512`" in d.message
    assert "expected `512 H W`" in notes(d) and "found `256 (4*h) (4*w)`" in notes(d)


def test_conv_fed_the_wrong_channels():
    """The notebook's bug: DoubleConvolution's second conv declared c0 -> c1 but fed the c1 wire."""
    text = variant(UNET, ("conv2 = Conv2d[c1 -> c1](3, padding=1)", "conv2 = Conv2d[c0 -> c1](3, padding=1)"))
    d = only(text)
    assert d.code == "E0302"
    assert where(d) == at(text, "return relu(conv2(relu(conv1(X))))", "relu(conv1")
    assert "`c1`" in d.message and "`c0`" in d.message and "argument 1 of `conv2`" in d.message
    assert "expected `c0 H W`" in notes(d) and "found `c1 H W`" in notes(d)
    line, column = at(text, "conv2 = Conv2d[c0 -> c1]", "c0")
    assert f"{PATH}:{line}:{column}: `c0` is declared here" in labels(d)


def test_final_conv_with_wrong_channels():
    text = variant(UNET, ("final = Conv2d[128 -> classes](1)", "final = Conv2d[64 -> classes](1)"))
    d = only(text)
    assert d.code == "E0301"
    assert where(d) == at(text, "return final(X)", "X", after="module UNetFig27")
    assert "`128` where `64` is expected" in d.message


# ---- transposed convolution that does not restore the size ------------------------------------------

VA_RESULT = ("-> c (stride * ((Y1 - kernel) // stride) + kernel) "
             "(stride * ((Y2 - kernel) // stride) + kernel):")
VA_KEEPS = variant(VA, (VA_RESULT, "-> c Y1 Y2:"))
VA_RETURN = "return Co(rearrange[(k heads) a b](O: (a b) k heads))"


def test_visual_attention_declared_to_keep_the_size():
    d = only(VA_KEEPS)
    assert d.code == "E0302"
    assert where(d) == at(VA_KEEPS, VA_RETURN, "Co(")
    assert "cannot prove" in d.message
    assert "`stride*((Y1 - kernel)//stride) + kernel`" in d.message and "`Y1`" in d.message
    assert "expected `c Y1 Y2`" in notes(d)
    line, column = at(VA_KEEPS, "Co = ConvTranspose2d[(k heads) -> c]", "ConvTranspose2d")
    assert f"{PATH}:{line}:{column}: `stride*((Y1 - kernel)//stride) + kernel` comes from here" \
        in labels(d)  # the transposed convolution


def test_visual_attention_concrete_sizes_show_15_for_16():
    d = only(VA_KEEPS, {"Y1": 16, "Y2": 16, "kernel": 3, "stride": 3})
    assert d.code == "E0301"
    assert where(d) == at(VA_KEEPS, VA_RETURN, "Co(")
    assert "(= 15)" in d.message and "`Y1 (= 16)`" in d.message
    assert "(= 15)" in d.label


def test_visual_attention_sizes_where_it_happens_to_fit():
    ok(VA_KEEPS, {"Y1": 15, "Y2": 15, "kernel": 3, "stride": 3})
    ok(VA_KEEPS, {"Y1": 16, "Y2": 16, "kernel": 1, "stride": 1})
    ok(VA, {"Y1": 16, "Y2": 16})


def test_visual_attention_second_axis():
    d = only(VA_KEEPS, {"Y1": 15, "Y2": 16, "kernel": 3, "stride": 3})
    assert d.code == "E0301"
    assert "axis 3" in d.message and "Y2 (= 16)" in d.message


def test_visual_attention_image_sizes_alone_leave_kernel_and_stride_open():
    """kernel and stride are hyperparameters: the module can be built with others, so giving only
    the image size does not prove the type."""
    d = only(VA_KEEPS, {"Y1": 16, "Y2": 16})
    assert d.code in ("E0301", "E0302")
    assert where(d) == at(VA_KEEPS, VA_RETURN, "Co(")


def test_visual_attention_output_padding_does_not_fix_it_for_16():
    text = variant(VA_KEEPS, ("Co = ConvTranspose2d[(k heads) -> c](kernel, stride=stride)",
                              "Co = ConvTranspose2d[(k heads) -> c](kernel, stride=stride, output_padding=1)"))
    d = only(text, {"Y1": 15, "Y2": 15, "kernel": 3, "stride": 3})
    assert d.code == "E0301"
    assert "(= 16)" in d.message and "(= 15)" in d.message
    ok(text, {"Y1": 16, "Y2": 16, "kernel": 3, "stride": 3})


def test_visual_attention_through_the_cli(tmp_path):
    path = tmp_path / "va.ncd"
    path.write_text(VA_KEEPS, encoding="utf-8")
    result = cli("check", str(path), "--format", "json")
    assert result.returncode == 1
    (d,) = json.loads(result.stdout)["diagnostics"]
    assert d["code"] == "E0302"
    assert (d["line"], d["column"]) == at(VA_KEEPS, VA_RETURN, "Co(")
    result = cli("check", str(path), "--sizes", "Y1=16,Y2=16,kernel=3,stride=3", "--format", "json")
    assert result.returncode == 1
    (d,) = json.loads(result.stdout)["diagnostics"]
    assert d["code"] == "E0301"


# ---- every new construct, ill-typed ------------------------------------------------------------------

CONV1 = "conv1 = Conv2d[c0 -> c1](3, padding=1)"


def test_conv_without_kernel():
    text = variant(UNET, (CONV1, "conv1 = Conv2d[c0 -> c1](padding=1)"))
    d = only(text)
    assert d.code == "E0201"
    assert where(d) == at(text, "conv1 = Conv2d[c0 -> c1](padding=1)", "Conv2d")
    assert "`Conv2d` needs `kernel`" in d.message
    assert "kernel" in d.label


def test_conv_unknown_option():
    text = variant(UNET, (CONV1, "conv1 = Conv2d[c0 -> c1](3, pad=1)"))
    d = only(text)
    assert d.code == "E0203"
    assert where(d) == at(text, "conv1 = Conv2d[c0 -> c1](3, pad=1)", "pad=1")
    assert "no option `pad`" in d.message
    assert "`padding`" in d.help and "`stride`" in d.help and "`kernel`" in d.help


def test_padding_same_with_stride_2():
    text = variant(UNET, (CONV1, 'conv1 = Conv2d[c0 -> c1](3, padding="same", stride=2)'))
    d = only(text)
    assert d.code == "E0313"
    assert where(d) == at(text, 'conv1 = Conv2d[c0 -> c1](3, padding="same"', 'padding="same"')
    assert "stride 1" in d.message and '"same"' in d.message
    assert "padding=" in d.help


def test_padding_same_with_stride_1_is_fine():
    ok(variant(UNET, (CONV1, 'conv1 = Conv2d[c0 -> c1](3, padding="same")')))


ENCODER = "encoder = [DoubleConvolution(32 * 2**i, 64 * 2**i) for i in 1..3]"
NOT_CHAINING = variant(UNET, (ENCODER, "encoder = [DoubleConvolution(64, 64 * 2**i) for i in 1..3]"),
                       ("        C2 = encoder[1](pool(C1))\n", "        C2 = encoder(pool(C1))\n"))


def test_repetition_that_does_not_chain_called_whole():
    d = only(NOT_CHAINING)
    assert d.code == "E0314"
    assert where(d) == at(NOT_CHAINING, "C2 = encoder(pool(C1))", "encoder")
    assert "repetitions of `encoder` cannot be applied one after another" in d.message
    assert "encoder[i]" in d.help
    line, column = at(NOT_CHAINING, "encoder = [DoubleConvolution(64", "DoubleConvolution")
    assert labels(d).startswith(f"{PATH}:{line}:{column}: takes ")  # points at the repetition


def test_repetition_that_does_not_chain_says_what_differs():
    """The diagnostic says which sizes fail to chain (DoubleConvolution(64, 128) gives `128 H W`,
    the next repetition takes `64 H W`): the inner diagnostic's label becomes a label on the
    repetition, beside the note "this part takes what the part before it gives"."""
    d = only(NOT_CHAINING)
    assert "64 H W" in labels(d) and "128 H W" in labels(d), d.render()


def test_repetition_of_two_output_blocks_called_whole():
    text = variant(UNET, ("        X, C2 = down[2](X)\n", "        X, C2 = down(X)\n"))
    d = only(text)
    assert d.code == "E0314"
    assert where(d) == at(text, "X, C2 = down(X)", "down")
    assert "one tensor" in notes(d)


def test_repetition_small_spec_not_chaining():
    text = (
        "module M():\n"
        "    blocks = [Linear[4 * i -> 8]() for i in 1..3]\n"
        "\n"
        "    def forward(X: 4) -> 8:\n"
        "        return blocks(X)\n"
    )
    d = only(text)
    assert d.code == "E0314"
    assert where(d) == (5, 16)
    ok(text.replace("return blocks(X)", "return blocks[1](X)"))


@pytest.mark.parametrize("index", [5, 1], ids=["above", "below"])
def test_repetition_index_out_of_range(index):
    line = "        X, C4 = down[4](X)\n" if index == 5 else "        X, C2 = down[2](X)\n"
    new = line.replace("down[4]", "down[5]") if index == 5 else line.replace("down[2]", "down[1]")
    text = variant(UNET, (line, new))
    d = only(text)
    assert d.code == "E0307"
    assert where(d) == at(text, new.strip(), str(index))
    assert "`down` has repetitions 2..4" in d.message and f"not {index}" in d.message
    assert d.label == "out of range"


CONCAT_MODULE = (
    "module M(c0, c1):\n"
    "    conv = Conv2d[c0 -> c1](1)\n"
    "\n"
    "    def forward(X: c0 H W, C: c0 H W) -> (c1 + c0) H W:\n"
    "        return concat[c1](conv(X), C)\n"
)


def test_concat_along_an_axis_one_argument_lacks():
    d = only(CONCAT_MODULE)
    assert d.code == "E0303"
    assert where(d) == (5, 36)  # the argument C
    assert "`c0 H W` has no axis `c1`" in d.message
    assert "c1" in d.label
    assert "concat[c1](C: ...)" in d.help


def test_concat_first_argument_lacks_the_axis():
    d = only(CONCAT_MODULE.replace("concat[c1]", "concat[c0]"))
    assert d.code == "E0303"
    assert where(d) == (5, 27)  # conv(X)
    assert "`c1 H W` has no axis `c0`" in d.message


def test_concat_pattern_naming_the_axes_fixes_it():
    ok(CONCAT_MODULE.replace("concat[c1](conv(X), C)", "concat[t](conv(X): t H W, C: t H W)"))


def test_concat_pattern_without_the_axis_says_what_the_pattern_named():
    """should: with a pattern, the message shows the pattern's names.  Today `concat[c1](X, C: c0 H W)`
    with C of type `c1 H W` reports "`c1 H W` has no axis `c1`", which contradicts itself."""
    text = variant(UNET, ("return up(convs(concat[c1](X, C)))", "return up(convs(concat[c1](X, C: d H W)))"))
    d = only(text)
    assert d.code == "E0303"
    assert where(d) == at(text, "concat[c1](X, C: d H W)", "C:")
    assert "d H W" in d.message, d.render()


def test_concat_other_axes_differ_concrete():
    text = "def F(A: c 4 5, B: c 4 6) -> (2 * c) 4 5:\n    return concat[c](A, B)\n"
    d = only(text)
    assert d.code == "E0301"
    assert where(d) == (2, 25)
    assert "`concat`, axis 3" in d.message and "`6` where `5` is expected" in d.message
    assert "joined along `c` only" in notes(d)


def test_concat_other_axes_differ_symbolic():
    text = "def F(A: c H W, B: c H V) -> (2 * c) H W:\n    return concat[c](A, B)\n"
    d = only(text)
    assert d.code == "E0302"
    assert where(d) == (2, 25)
    assert "`V`" in d.message and "`W`" in d.message


def test_concat_of_unet_skip_at_twice_the_size():
    text = variant(UNET, ("    def forward(X: c1 H W, C: c1 H W) -> c0 (2 * H) (2 * W):",
                          "    def forward(X: c1 H W, C: c1 (2 * H) (2 * W)) -> c0 (2 * H) (2 * W):"))
    d = first(text)
    assert d.code == "E0301"  # sizes are positive: `2*H` is never `H`
    assert where(d) == at(text, "return up(convs(concat[c1](X, C)))", "C)")
    assert "`2*H`" in d.message and "`H`" in d.message and "`concat`, axis 2" in d.message


IDENTITY_MAIN = "NormActivate(n1),\n        Conv2d[n1 -> nb](1),"
IDENTITY_END = "        Conv2d[nb -> n1](1),\n    )\n\n    def forward(X: n1 H W)"
RESIDUAL = "return main(X) + X"


def residual_spans(text: str) -> set[tuple[int, int]]:
    """The addition (which starts with `main(X)`) or its right operand `X`: either is a fine place."""
    return {at(text, RESIDUAL, "main(X)"), at(text, RESIDUAL, "X", nth=2)}


@pytest.mark.parametrize("change", [
    (IDENTITY_MAIN, "NormActivate(n1),\n        Conv2d[n1 -> nb](1, stride=2),"),
    ("Conv2d[nb -> nb](3, padding=1),\n        NormActivate(nb),\n" + IDENTITY_END,
     "Conv2d[nb -> nb](3),\n        NormActivate(nb),\n" + IDENTITY_END),
], ids=["stride-2", "no-padding"])
def test_residual_whose_main_branch_changes_the_size(change):
    """should: `main(X) + X` with `main` giving `n1 ((H + 1)//2) ...` or `n1 (H - 2) ...` is a size
    error on an axis (E0301/E0302, with the expected and found types), as for any other pair of
    wires of the same rank.  Today the checker reports E0309 "cannot line up" without saying which
    axis differs or where the sizes come from."""
    text = variant(RESNET, change)
    d = only(text)
    assert where(d) in residual_spans(text)
    assert d.code in ("E0301", "E0302"), d.render()
    assert "axis 2" in d.message
    assert "n1 H W" in everything(d)


def test_residual_whose_main_branch_changes_the_channels():
    """`main` ending in `Conv2d[nb -> nb]` gives `nb H W`: axes named `nb` and `n1` are different
    named axes, so "cannot line up" (E0309) is a fair diagnosis here, as is a size error."""
    text = variant(RESNET, (IDENTITY_END, IDENTITY_END.replace("Conv2d[nb -> n1]", "Conv2d[nb -> nb]")))
    d = only(text)
    assert where(d) in residual_spans(text)
    assert d.code in ("E0301", "E0302", "E0309"), d.render()
    assert "n1 H W" in everything(d) and "nb" in everything(d)


def test_residual_sizes_the_checker_catches_today():
    """Whatever the code, the residual is rejected at the addition."""
    text = variant(RESNET, (IDENTITY_MAIN, "NormActivate(n1),\n        Conv2d[n1 -> nb](1, stride=2),"))
    d = only(text)
    assert where(d) in residual_spans(text)
    assert "n1 ((H + 1)//2) ((W + 1)//2)" in everything(d)


def test_size_that_cannot_be_read_off_the_inputs():
    text = (
        "module M(n=4):\n"
        "    bn = BatchNorm2d[n]()\n"
        "\n"
        "    def forward(X: n (H + 1) W) -> n (H + 1) W:\n"
        "        return bn(X)\n"
    )
    d = only(text)
    assert d.code == "E0305"
    assert where(d) == (4, 23)
    assert "`H` cannot be read off the inputs" in d.message
    assert "inside an expression" in d.label
    assert "`H`" in d.help


def test_size_that_cannot_be_read_off_the_unet_input():
    text = variant(UNET, (FIG27_INPUT, "def forward(X: 1 (16 * h) (16 * h + w)) -> classes (16 * h) (16 * h + w):"))
    d = only(text)
    assert d.code == "E0305"
    assert where(d) == at(text, "def forward(X: 1 (16 * h) (16 * h + w))", "16 * h + w")
    assert "`w`" in d.message


def test_batchnorm_on_other_channels_concrete():
    text = (
        "module M():\n"
        "    bn = BatchNorm2d[8]()\n"
        "\n"
        "    def forward(X: 4 H W) -> 4 H W:\n"
        "        return bn(X)\n"
    )
    d = only(text)
    assert d.code == "E0301"
    assert where(d) == (5, 19)
    assert "argument 1 of `bn`" in d.message and "`4` where `8` is expected" in d.message
    assert "`bn` takes `8 H W`" in notes(d)


def test_batchnorm_on_other_channels_in_resnet():
    text = variant(RESNET, ("    bn = BatchNorm2d[n]()", "    bn = BatchNorm2d[2 * n]()"))
    d = only(text)
    assert d.code == "E0301"  # sizes are positive: `2*n` is never `n`
    assert where(d) == at(text, "return relu(bn(X))", "X")
    assert "`n`" in d.message and "`2*n`" in d.message


def test_layernorm_on_a_wire_whose_last_axis_differs():
    text = variant(VIT, ("    norm1 = LayerNorm[dim]()", "    norm1 = LayerNorm[hidden]()"))
    d = only(text)
    assert d.code == "E0302"
    assert where(d) == at(text, "Z = norm1(X)", "X")
    assert "`dim`" in d.message and "`hidden`" in d.message and "`norm1`" in d.message


def test_layernorm_concrete_and_axis_order():
    text = (
        "module M():\n"
        "    norm = LayerNorm[8]()\n"
        "\n"
        "    def forward(X: t 4) -> t 4:\n"
        "        return norm(X)\n"
    )
    d = only(text)
    assert d.code == "E0301"
    assert where(d) == (5, 21)
    assert "`4` where `8` is expected" in d.message
    ok(text.replace("t 4", "t 8"))
    # LayerNorm[m] normalises the LAST axis: `m t` is not `t m`
    text = (
        "module M(m=4):\n"
        "    norm = LayerNorm[m]()\n"
        "\n"
        "    def forward(X: m t) -> m t:\n"
        "        return norm(X)\n"
    )
    d = only(text)
    assert d.code == "E0318"  # axes in another order, not a size question
    assert where(d) == (5, 21)
    assert "`t`" in d.message and "`m`" in d.message


def test_parameter_called_like_a_box():
    text = variant(VIT, ("T = concat[t](cls: t dim, P: t dim) + pos", "T = concat[t](cls(P): t dim, P: t dim) + pos"))
    d = only(text)
    assert d.code == "E0105"
    assert where(d) == at(text, "T = concat[t](cls(P)", "cls")
    assert "`cls` is a learned tensor, not a box" in d.message
    assert "use it as a value" in d.help


def test_range_that_runs_backwards():
    text = variant(VIT, ("for i in 1..depth]", "for i in 3..1]"))
    d = only(text)
    assert d.code == "E0313"
    assert where(d) == at(text, "layers = [EncoderLayer", "[")
    assert "3..1 runs backwards" in d.message
    assert "both ends" in d.help


def test_range_that_runs_backwards_in_unet():
    text = variant(UNET, ("for i in 2..4]", "for i in 4..2]"))
    d = only(text)
    assert d.code == "E0313"
    assert where(d) == at(text, "down = [DownScaleBlock", "[")
    assert "4..2" in d.message


# ---- notes that name sizes of another scope ---------------------------------------------------------


def test_note_on_a_fixed_size_says_whose_size_it_is():
    """should: in the U-Net typed `1 H W`, the note "`H` was fixed to `2*(H//16)` ... by `X`" talks
    about two different `H`s (UpScaleBlock's, and UNetFig27's inside the expression), which reads as
    circular; in UNetOriginal it even says "`H` was fixed to `H//16`".  The note should say that the
    `H` fixed is the callee's, e.g. "`H` of `up[1]` was fixed to ...".  The rest of the diagnostic is
    right and is tested above."""
    d = only(FIG27_HW)
    fixed = [label.text for label in d.labels if "was fixed to" in label.text]
    assert fixed, d.render()
    assert all("up[1]" in n for n in fixed), d.render()
    d = only(ORIGINAL_HW)
    fixed = [label.text for label in d.labels if "was fixed to" in label.text]
    assert fixed and all("decoder[1]" in n for n in fixed), d.render()
