"""Hand-written reference implementations of the companion notebook, sections 3.4 - 3.5,
plus two further references (the original U-Net and a small vision transformer).

Source: the companion notebook of "Neural Circuit Diagrams: Robust Diagrams for the
Communication, Implementation, and Analysis of Deep Learning Architectures" (V. Abbott,
TMLR 2024, arXiv 2402.05424), stored at ``/work/shared/seed/000_c57bf1a5b6734bba.txt``;
figure numbers are the notebook's headings.  Code follows the notebook (same attribute names,
same module order) with its bugs fixed (``/work/shared/design/paper-notes.md`` section 4):

* Identity ResNet (Fig 26): the notebook's ``[ResidualConnection(...)] * N`` repeats ONE module
  object (shared weights) and builds N+1 residual components per block.  Here each block has
  exactly N residual components: one projection residual, then N-1 identity residuals, each
  built fresh (own weights).
* U-Net (Fig 27): ``DoubleConvolution``'s second conv is c1 -> c1 (notebook: c0 -> c1); block
  lists are ``nn.ModuleList`` (notebook: plain lists, parameters invisible); ``forward``
  returns its result; concatenation is ``torch.cat((x, skip), 1)`` (notebook:
  ``torch.concat(x, cLambda, 1)``); the final conv is ``nn.Conv2d(c[1], y, 1)`` (notebook: no
  kernel size); ``nn.MaxPool2d(2, 2)`` and ``nn.ConvTranspose2d(c_in, c_out, 2, 2)`` without
  the notebook's padding=1 (which made 64 -> 33 on the way down and x -> 2x-2 on the way up,
  breaking the skip shapes).
* Visual attention (Fig 28): behaviour kept exactly (including the 16 -> 15 shrink).  The
  notebook's explanation of the shrink is wrong; the right one: Conv2d(kernel 3, stride 3)
  gives floor((16 - 3) / 3) + 1 = 5, and ConvTranspose2d(kernel 3, stride 3) gives
  (5 - 1) * 3 + 3 = 15.  Restoring 16 would need output_padding=1 in general.

This file is self-contained (it does not import ``notebook.py`` or ``ncdc``); the multi-head
attention used by ``VisualAttention`` and ``ViT`` is the notebook's Fig 21 code, copied.
"""

from __future__ import annotations

import math

import einops
import torch
import torch.nn as nn

T = torch.Tensor


def MultiHeadDotProductAttention(q: T, k: T, v: T) -> T:
    """y k h, x k h, x k h -> y k h  (notebook Fig 21; SoftMax over x)"""
    klength = k.size()[-2]
    x = einops.einsum(q, k, "... y k h, ... x k h -> ... y x h")
    x = torch.nn.Softmax(-2)(x / math.sqrt(klength))
    x = einops.einsum(x, v, "... y x h, ... x k h -> ... y k h")
    return x


class MultiHeadAttention(nn.Module):
    """y m, x m -> y m  (notebook Fig 21, copied).  Bias-free Lq, Lk, Lv : m -> (k h),
    Lo : (k h) -> m; the bound axis is (k h), k outer, h inner.
    Parameters (in order): Lq.weight, Lk.weight, Lv.weight, Lo.weight."""

    def __init__(self, m, k, h):
        super().__init__()
        self.m, self.k, self.h = m, k, h
        self.Lq = nn.Linear(m, k * h, False)
        self.Lk = nn.Linear(m, k * h, False)
        self.Lv = nn.Linear(m, k * h, False)
        self.Lo = nn.Linear(k * h, m, False)

    def forward(self, Eym: T, Xxm: T) -> T:
        unbind = lambda x: einops.rearrange(x, "... (k h) -> ... k h", h=self.h)  # noqa: E731
        q = unbind(self.Lq(Eym))
        k = unbind(self.Lk(Xxm))
        v = unbind(self.Lv(Xxm))
        o = MultiHeadDotProductAttention(q, k, v)
        o = einops.rearrange(o, "... k h -> ... (k h)", h=self.h)
        return self.Lo(o)


# =============================================================================================
# 3.4 Figure 26: Identity residual network
# =============================================================================================


class NormActivate(nn.Sequential):
    """Batch norm then activate: a repeated motif.  Children: 0 = Norm(nf), 1 = Activation()."""

    def __init__(self, nf, Norm=nn.BatchNorm2d, Activation=nn.ReLU):
        super().__init__(Norm(nf), Activation())


class ResidualConnection(nn.Module):
    """x -> main(x) + secondary(x); secondary defaults to the identity."""

    def __init__(self, mainline: nn.Module, connection: nn.Module | None = None) -> None:
        super().__init__()
        self.main = mainline
        self.secondary = nn.Identity() if connection is None else connection

    def forward(self, x: T) -> T:
        return self.main(x) + self.secondary(x)


class Block(nn.Sequential):
    """Block(s, N) : n0 x -> n1 x/s, bottleneck nb = n1 // 4.

    Children (in order):
      0      NormActivate(n0)                      (applied once, before the residuals)
      1      projection residual: main = Conv 1x1 stride s n0->nb, NA(nb), Conv 3x3 nb->nb
             (padding 1), NA(nb), Conv 1x1 nb->n1;  secondary = Conv 1x1 stride s n0->n1
      2..N   N-1 identity residuals, each freshly built: main = NA(n1), Conv 1x1 n1->nb, NA(nb),
             Conv 3x3 nb->nb (padding 1), NA(nb), Conv 1x1 nb->n1; secondary = Identity
    i.e. exactly N residual components (the notebook had 1 + N, the last N sharing weights).
    All convs have bias (PyTorch default), as in the notebook.
    """

    def __init__(self, s, N, n0, n1):
        nb = n1 // 4
        super().__init__(
            *[
                NormActivate(n0),
                ResidualConnection(
                    nn.Sequential(
                        nn.Conv2d(n0, nb, 1, s),
                        NormActivate(nb),
                        nn.Conv2d(nb, nb, 3, padding=1),
                        NormActivate(nb),
                        nn.Conv2d(nb, n1, 1),
                    ),
                    nn.Conv2d(n0, n1, 1, s),
                ),
            ]
            + [
                # Fixed: a fresh module per repetition (notebook: `[module] * N`, shared weights),
                # and N - 1 of them (notebook: N, giving N + 1 residuals in all).
                ResidualConnection(
                    nn.Sequential(
                        NormActivate(n1),
                        nn.Conv2d(n1, nb, 1),
                        NormActivate(nb),
                        nn.Conv2d(nb, nb, 3, padding=1),
                        NormActivate(nb),
                        nn.Conv2d(nb, n1, 1),
                    ),
                )
                for _ in range(N - 1)
            ]
        )


class IdentityResNet(nn.Sequential):
    """3 x -> y  (Fig 26).  Children (in order):
      0  stem nn.Conv2d(3, n_mu[0], 3, padding=1)
      1  Block(1, N, n_mu[0], n_mu[1])
      2  Block(2, N, n_mu[1], n_mu[2])
      3  Block(2, N, n_mu[2], n_mu[3])
      4  NormActivate(n_mu[3])
      5  nn.AdaptiveAvgPool2d(1)   (the figure's 8x8 mean pool for 32x32 inputs; adaptive here,
                                    as in the notebook, so any input size works)
      6  nn.Flatten()
      7  nn.Linear(n_mu[3], y)
      8  nn.Softmax(-1)            (kept from the notebook: the model outputs probabilities)
    """

    def __init__(self, N=3, n_mu=(16, 64, 128, 256), y=10):
        super().__init__(
            nn.Conv2d(3, n_mu[0], 3, padding=1),  # stem: 3x3 conv, 3 -> n_mu[0], 'same' padding
            Block(1, N, n_mu[0], n_mu[1]),
            Block(2, N, n_mu[1], n_mu[2]),
            Block(2, N, n_mu[2], n_mu[3]),
            NormActivate(n_mu[3]),
            nn.AdaptiveAvgPool2d(1),  # global average pool
            nn.Flatten(),
            nn.Linear(n_mu[3], y),
            nn.Softmax(-1),
        )


# =============================================================================================
# 3.4 Figure 27: The U-Net
# =============================================================================================


class DoubleConvolution(nn.Sequential):
    """c0 x -> c1 x : Conv 3x3 c0->c1 (padding 1), ReLU, Conv 3x3 c1->c1 (padding 1), ReLU.
    Children: 0 conv, 1 act, 2 conv, 3 act.  (Fixed: notebook's second conv was c0 -> c1.)"""

    def __init__(self, c0, c1, Activation=nn.ReLU):
        super().__init__(
            nn.Conv2d(c0, c1, 3, padding=1),
            Activation(),
            nn.Conv2d(c1, c1, 3, padding=1),
            Activation(),
        )


class DownScaleBlock(nn.Module):
    """c0 x -> (c1 x/2, saved c1 x) : double conv, save, 2x2 max-pool (no padding)."""

    def __init__(self, c0, c1) -> None:
        super().__init__()
        self.doubleConvolution = DoubleConvolution(c0, c1)
        self.downScaler = nn.MaxPool2d(2, 2)  # fixed: notebook had padding=1

    def forward(self, x: T):
        cLambda = self.doubleConvolution(x)
        x = self.downScaler(cLambda)
        return x, cLambda


class UpScaleBlock(nn.Module):
    """(c1 x, saved c1 x) -> c0 2x : concatenate on channels (2 c1), double conv 2c1 -> c1,
    transposed conv 2x2 stride 2 c1 -> c0 (no padding).  Argument order (c1, c0) as in the
    notebook."""

    def __init__(self, c1, c0) -> None:
        super().__init__()
        self.doubleConvolution = DoubleConvolution(2 * c1, c1)
        self.upScaler = nn.ConvTranspose2d(c1, c0, 2, 2)  # fixed: notebook had padding=1

    def forward(self, x: T, cLambda: T) -> T:
        # Concatenation over the channel axis (dim=1); the upward tensor comes first.
        x = torch.cat((x, cLambda), 1)
        x = self.doubleConvolution(x)
        x = self.upScaler(x)
        return x


# Fig 27 U-Net, channel / skip / size arithmetic (c = [1, 128, 256, 512, 1024, 2048], input
# 1 x S x S with S divisible by 16; S = 64 below):
#
#   down 0: DoubleConv 1 -> 128     save C1 = 128 @ 64x64   pool -> 128 @ 32x32
#   down 1: DoubleConv 128 -> 256   save C2 = 256 @ 32x32   pool -> 256 @ 16x16
#   down 2: DoubleConv 256 -> 512   save C3 = 512 @ 16x16   pool -> 512 @ 8x8
#   down 3: DoubleConv 512 -> 1024  save C4 = 1024 @ 8x8    pool -> 1024 @ 4x4
#   middle: DoubleConv 1024 -> 2048 @ 4x4, ConvT 2048 -> 1024 @ 8x8
#   up 1 = UpScaleBlock(1024, 512): cat with C4 -> 2048 @ 8x8,   DoubleConv 2048 -> 1024,
#                                   ConvT 1024 -> 512 @ 16x16
#   up 2 = UpScaleBlock(512, 256):  cat with C3 -> 1024 @ 16x16, DoubleConv 1024 -> 512,
#                                   ConvT 512 -> 256 @ 32x32
#   up 3 = UpScaleBlock(256, 128):  cat with C2 -> 512 @ 32x32,  DoubleConv 512 -> 256,
#                                   ConvT 256 -> 128 @ 64x64
#   final: Conv 1x1 128 -> y @ 64x64
#
# Four poolings are undone by four transposed convs (the middle one plus one per up block),
# so the figure DOES return to full resolution: every concatenation matches (upward tensor
# has the same channels and size as the loaded skip), and the final 1x1 conv sees c[1] = 128
# channels.  The full-resolution skip C1 (128 @ 64x64) is saved but never loaded, as drawn.
UNET_FIG27_INPUT_FOR_64 = (1, 1, 64, 64)
UNET_FIG27_OUTPUT_FOR_64 = (1, 2, 64, 64)


class UNetFig27(nn.Module):
    """1 x -> y x  (Fig 27 "with padding", bugs fixed).  Attributes / parameter order:
    DownScaleBlocks[0..3], middleDoubleConvolution, middleUpscale, upScaleBlocks[0..2],
    finalConvolution."""

    def __init__(self, y=2):
        super().__init__()
        c = [1 if i == 0 else 64 * 2**i for i in range(6)]  # [1, 128, 256, 512, 1024, 2048]
        self.c = c
        self.DownScaleBlocks = nn.ModuleList([DownScaleBlock(c[i], c[i + 1]) for i in range(0, 4)])
        self.middleDoubleConvolution = DoubleConvolution(c[4], c[5])
        self.middleUpscale = nn.ConvTranspose2d(c[5], c[4], 2, 2)
        self.upScaleBlocks = nn.ModuleList([UpScaleBlock(c[5 - i], c[4 - i]) for i in range(1, 4)])
        self.finalConvolution = nn.Conv2d(c[1], y, 1)

    def forward(self, x: T) -> T:
        cLambdas = []
        for dsb in self.DownScaleBlocks:
            x, cLambda = dsb(x)
            cLambdas.append(cLambda)
        x = self.middleDoubleConvolution(x)
        x = self.middleUpscale(x)
        for usb in self.upScaleBlocks:
            cLambda = cLambdas.pop()  # C4, then C3, then C2; C1 stays unused
            x = usb(x, cLambda)
        return self.finalConvolution(x)


class _UNetUpStep(nn.Module):
    """(c_in x, skip c_in/2 2x) -> c_in/2 2x : ConvT 2x2 stride 2 c_in -> c_in/2, concatenate
    (upward tensor first) to c_in, double conv c_in -> c_in/2."""

    def __init__(self, c_in, c_out) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(c_in, c_out, 2, 2)
        self.conv = DoubleConvolution(2 * c_out, c_out)

    def forward(self, x: T, skip: T) -> T:
        x = self.up(x)
        x = torch.cat((x, skip), 1)
        return self.conv(x)


class UNetOriginal(nn.Module):
    """Ronneberger et al. (2015) U-Net with 'same' (padding=1) convolutions.

    in_channels x -> classes x (x divisible by 16).  Convs have bias, ReLU after each, no norm.
      encoder[0..3]: DoubleConv in->64, 64->128, 128->256, 256->512; each output saved, then
                     MaxPool2d(2, 2) (the pool has no parameters and is shared)
      bottleneck:    DoubleConv 512 -> 1024
      decoder[0..3]: ConvT(2, stride 2) 1024->512, cat skip 512 -> 1024, DoubleConv 1024->512;
                     512->256, cat -> 512, DC 512->256; 256->128, cat -> 256, DC 256->128;
                     128->64, cat -> 128, DC 128->64   (all four skips used, deepest first)
      final:         Conv 1x1 64 -> classes
    Parameter order: encoder.*, bottleneck, decoder.i.up, decoder.i.conv (i = 0..3), final.
    (The same order as grouping the steps the Fig 27 way: ConvT first, then cat + DC.)
    """

    def __init__(self, in_channels=1, classes=2):
        super().__init__()
        ch = [64, 128, 256, 512, 1024]
        self.encoder = nn.ModuleList(
            [DoubleConvolution(in_channels if i == 0 else ch[i - 1], ch[i]) for i in range(4)]
        )
        self.pool = nn.MaxPool2d(2, 2)
        self.bottleneck = DoubleConvolution(ch[3], ch[4])
        self.decoder = nn.ModuleList([_UNetUpStep(ch[4 - i], ch[3 - i]) for i in range(4)])
        self.final = nn.Conv2d(ch[0], classes, 1)

    def forward(self, x: T) -> T:
        skips = []
        for enc in self.encoder:
            x = enc(x)
            skips.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for dec in self.decoder:
            x = dec(x, skips.pop())
        return self.final(x)


# =============================================================================================
# 3.5 Figure 28: Visual attention
# =============================================================================================


class VisualAttention(nn.Module):
    """c Y, c X -> c Y'  (notebook Fig 28, behaviour kept).

    Cq, Ck, Cv = Conv2d(c, k*heads, kernel, stride) (with bias); Co = ConvTranspose2d(k*heads,
    c, kernel, stride) (with bias).  Parameter order: Cq.{weight,bias}, Ck.*, Cv.*, Co.*.
    The channel axis is bound as (k h) (k outer) and unbound with
    'N (k h) H W -> N (H W) k h'.  Output spatial size is (floor((Y - kernel)/stride) + 1 - 1)
    * stride + kernel, e.g. 16 -> 5 -> 15 for kernel 3, stride 3 (no output_padding).
    """

    def __init__(self, c, k, heads=1, kernel=1, stride=1):
        super().__init__()
        self.c, self.k, self.h, self.w = c, k, heads, kernel
        self.Cq = nn.Conv2d(c, k * heads, kernel, stride)
        self.Ck = nn.Conv2d(c, k * heads, kernel, stride)
        self.Cv = nn.Conv2d(c, k * heads, kernel, stride)
        self.Co = nn.ConvTranspose2d(k * heads, c, kernel, stride)

    def MultiHeadDotProductAttention(self, q: T, k: T, v: T) -> T:
        """y k h, x k h, x k h -> y k h"""
        return MultiHeadDotProductAttention(q, k, v)

    def forward(self, EcY: T, XcX: T) -> T:
        """cY, cX -> cY : injects information from X into Y."""
        unbind = lambda x: einops.rearrange(x, "N (k h) H W -> N (H W) k h", h=self.h)  # noqa: E731
        q = self.Cq(EcY)
        W = q.size()[-1]  # saved to recover the spatial shape later
        q = unbind(q)
        k = unbind(self.Ck(XcX))
        v = unbind(self.Cv(XcX))
        o = self.MultiHeadDotProductAttention(q, k, v)
        o = einops.rearrange(o, "N (H W) k h -> N (k h) H W", h=self.h, W=W)
        return self.Co(o)


# =============================================================================================
# 3.5 Vision transformer (paper section 3.5; no notebook code): pre-norm ViT encoder.
# =============================================================================================


class ViTEncoderLayer(nn.Module):
    """n dim -> n dim : x = x + MHA(LN(x), LN(x)); x = x + MLP(LN(x)).
    Children / parameter order: norm1, attn (Lq, Lk, Lv, Lo), norm2, mlp (0 Linear dim->mlp,
    1 GELU, 2 Dropout, 3 Linear mlp->dim, 4 Dropout)."""

    def __init__(self, dim, heads, mlp, dropout=0.0):
        super().__init__()
        assert dim % heads == 0, "dim must be divisible by heads"
        self.norm1 = nn.LayerNorm(dim)
        self.attn = MultiHeadAttention(dim, dim // heads, heads)  # k = dim // heads, (k h) layout
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(mlp, dim),
            nn.Dropout(dropout),
        )

    def forward(self, x: T) -> T:
        z = self.norm1(x)
        x = x + self.attn(z, z)
        x = x + self.mlp(self.norm2(x))
        return x


class ViT(nn.Module):
    """channels image image -> classes (logits, no SoftMax).

    Parameter registration order:
      cls_token      nn.Parameter, shape (dim,)               (randn * 0.02)
      pos_embedding  nn.Parameter, shape (n + 1, dim), n = (image // patch)**2  (randn * 0.02)
      patch          nn.Conv2d(channels, dim, patch, stride=patch)   (with bias)
      layers         nn.ModuleList of `depth` ViTEncoderLayer
      norm           nn.LayerNorm(dim)
      head           nn.Linear(dim, classes)
    Forward: patch conv -> 'N d H W -> N (H W) d' (row-major patches) -> prepend the class token
    (position 0) -> add pos_embedding -> dropout -> layers -> norm -> head on position 0.
    """

    def __init__(
        self,
        image=32,
        patch=4,
        channels=3,
        classes=10,
        dim=64,
        depth=2,
        heads=4,
        mlp=128,
        dropout=0.0,
    ):
        super().__init__()
        assert image % patch == 0, "image size must be divisible by patch size"
        n = (image // patch) ** 2
        self.cls_token = nn.Parameter(torch.randn(dim) * 0.02)
        self.pos_embedding = nn.Parameter(torch.randn(n + 1, dim) * 0.02)
        self.patch = nn.Conv2d(channels, dim, patch, stride=patch)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            [ViTEncoderLayer(dim, heads, mlp, dropout) for _ in range(depth)]
        )
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, img: T) -> T:
        x = self.patch(img)  # N dim H/p W/p
        x = einops.rearrange(x, "N d H W -> N (H W) d")
        cls = self.cls_token.expand(x.size(0), 1, -1)  # N 1 dim
        x = torch.cat((cls, x), 1)  # N (n+1) dim
        x = x + self.pos_embedding
        x = self.dropout(x)
        for layer in self.layers:
            x = layer(x)
        x = self.norm(x)
        return self.head(x[:, 0])


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _names(module: nn.Module):
    return [(n, tuple(p.shape)) for n, p in module.named_parameters()]


if __name__ == "__main__":
    torch.manual_seed(0)

    # ---- Fig 26: notebook check, batch 3, 3 channels, 16x16 -> 3 10.
    idresnet = IdentityResNet()
    assert list(idresnet(torch.rand(3, 3, 16, 16)).size()) == [3, 10]
    out = idresnet(torch.rand(2, 3, 32, 32))
    assert list(out.size()) == [2, 10]
    assert torch.allclose(out.sum(-1), torch.ones(2), atol=1e-5)
    for blk in list(idresnet)[1:4]:
        res = [m for m in blk if isinstance(m, ResidualConnection)]
        assert len(res) == 3  # N residual components
        ids = {id(p) for r in res for p in r.parameters()}
        assert len(ids) == sum(1 for r in res for _ in r.parameters())  # no sharing
    print("IdentityResNet() parameters:", _count(idresnet))
    small = IdentityResNet(N=2, n_mu=(4, 8, 8, 8), y=3)
    print("IdentityResNet(N=2, n_mu=(4, 8, 8, 8), y=3) parameter order:")
    for n_, s_ in _names(small):
        print("   ", n_, s_)

    # ---- Fig 27 U-Net: 64x64, 1 channel -> 2 x 64 x 64.
    unet = UNetFig27()
    with torch.no_grad():
        o = unet(torch.rand(*UNET_FIG27_INPUT_FOR_64))
    assert tuple(o.size()) == UNET_FIG27_OUTPUT_FOR_64, o.size()
    unused = unet.DownScaleBlocks[0].doubleConvolution(torch.rand(1, 1, 64, 64))
    assert unused.size() == torch.Size([1, 128, 64, 64])  # C1: saved but never loaded
    print("UNetFig27() parameters:", _count(unet))
    print("UNetFig27() parameter order:")
    for n_, s_ in _names(unet):
        print("   ", n_, s_)

    # ---- Original U-Net: 64x64 -> 64x64.
    unet0 = UNetOriginal()
    with torch.no_grad():
        o = unet0(torch.rand(1, 1, 64, 64))
    assert tuple(o.size()) == (1, 2, 64, 64), o.size()
    print("UNetOriginal() parameters:", _count(unet0))
    print("UNetOriginal() parameter order:")
    for n_, s_ in _names(unet0):
        print("   ", n_, s_)

    # ---- Fig 28: notebook check, batch 1, c=33, 16x16, k=8, heads=4, kernel=3, stride=3.
    EYc = torch.rand(1, 33, 16, 16)
    XXc = torch.rand(1, 33, 16, 16)
    va = VisualAttention(33, 8, 4, 3, 3)
    assert tuple(va(EYc, XXc).size()) == (1, 33, 15, 15)
    va1 = VisualAttention(33, 8, 4)  # kernel 1, stride 1: size kept
    assert tuple(va1(EYc, XXc).size()) == (1, 33, 16, 16)
    print("VisualAttention(33, 8, 4, 3, 3) parameters:", _count(va))
    print("   ", _names(va))

    # ---- ViT.
    vit = ViT()
    out = vit(torch.rand(2, 3, 32, 32))
    assert tuple(out.size()) == (2, 10)
    print("ViT() parameters:", _count(vit))
    print("ViT(depth=1) parameter order:")
    for n_, s_ in _names(ViT(depth=1)):
        print("   ", n_, s_)
    print("vision.py: all checks passed")
