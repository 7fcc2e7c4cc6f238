"""Vision models: ncdc's generated modules vs hand-written ones (tests/reference/vision.py, handwritten.py).

Each benchmark builds the hand-written reference and the module generated from the spec, copies
the reference's weights into the generated one (state_dict entries by order: the two register
parameters and buffers in the same order; the ViT's by name, with its heads reordered), checks
that they compute the same function (eval mode, no grad), and then times, in train mode (so
BatchNorm uses batch statistics), one training step of each (forward, loss = out.sum(), backward,
zero the gradients) and one forward under torch.inference_mode (compare.py).  Float32, CPU.

Quick mode (the test suite's smoke run) uses tiny inputs as well as few repetitions: the point is
that the benchmark runs, not its numbers.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from harness import ROOT, Config, Row, benchmark

ATOL = 1e-4  # generated vs reference outputs, eval mode, same weights


@dataclass(frozen=True)
class Case:
    spec: str  # file in specs/
    model: str  # class name, the same in the spec and in tests/reference/vision.py
    batch: int
    size: int  # input height = width
    channels: int  # input channels
    rounds: int  # timed rounds (full mode)
    warmup: int  # untimed rounds (full mode)
    quick_batch: int
    quick_size: int  # U-Nets need a multiple of 16 (four 2x2 poolings)

    def shape(self, cfg: Config) -> tuple[int, int, int, int]:
        if cfg.quick:
            return (self.quick_batch, self.channels, self.quick_size, self.quick_size)
        return (self.batch, self.channels, self.size, self.size)


# Full-mode sizes: ResNet at the figure's 32 x 32; the U-Nets small enough that the three stay
# within a few minutes on a 2-core machine (UNetFig27 has 123M parameters: batch 1 at 32 x 32).
RESNET = Case("resnet.ncd", "IdentityResNet", 32, 32, 3, rounds=15, warmup=1, quick_batch=2, quick_size=16)
UNET = Case("unet.ncd", "UNetOriginal", 2, 64, 1, rounds=8, warmup=1, quick_batch=1, quick_size=16)
VIT = Case("vit.ncd", "ViT", 32, 32, 3, rounds=15, warmup=1, quick_batch=2, quick_size=32)
UNET27 = Case("unet.ncd", "UNetFig27", 1, 32, 1, rounds=6, warmup=1, quick_batch=1, quick_size=16)


def compare(cfg: Config, case: Case) -> list[Row]:
    import torch

    import ncdc
    from compare import compare_models

    sys.path.insert(0, str(ROOT / "tests" / "reference"))
    import handwritten
    import vision

    torch.manual_seed(0)
    generated = getattr(ncdc.load(ROOT / "specs" / case.spec), case.model)()
    if case.model == "ViT":
        reference = handwritten.ViT()
        handwritten.load_from(reference, generated)
    else:
        # The same weights (and BatchNorm buffers) in both, by registration order.
        reference = getattr(vision, case.model)()
        ref_state, gen_state = reference.state_dict(), generated.state_dict()
        if [v.shape for v in ref_state.values()] != [v.shape for v in gen_state.values()]:
            raise AssertionError(f"{case.model}: generated and reference state_dicts differ in order or shapes")
        generated.load_state_dict(dict(zip(gen_state.keys(), ref_state.values())))

    shape = case.shape(cfg)
    x = torch.randn(*shape)
    reference.eval()
    generated.eval()
    from compare import check_same

    check_same(case.model, reference, generated, (x,), ATOL)  # eval mode: BatchNorm's running statistics
    reference.train()
    generated.train()
    params = sum(p.numel() for p in reference.parameters())
    return compare_models(cfg, case.model, reference, generated, (x,), rounds=cfg.reps(case.rounds, 2),
                          warmup=cfg.reps(case.warmup, 0), atol=ATOL,
                          note=f"input {'x'.join(map(str, shape))}, {params / 1e6:.2f}M params")


def _title(case: Case) -> str:
    return (f"{case.model} forward+backward (train mode), B={case.batch} {case.channels}x{case.size}x{case.size},"
            f" float32, CPU: specs/{case.spec} vs tests/reference/vision.py")


@benchmark("resnet", _title(RESNET))
def bench_resnet(cfg: Config) -> list[Row]:
    return compare(cfg, RESNET)


@benchmark("vit", _title(VIT).replace("tests/reference/vision.py", "benchmarks/handwritten.py"))
def bench_vit(cfg: Config) -> list[Row]:
    return compare(cfg, VIT)


@benchmark("unet", _title(UNET))
def bench_unet(cfg: Config) -> list[Row]:
    return compare(cfg, UNET)


@benchmark("unet_fig27", _title(UNET27))
def bench_unet_fig27(cfg: Config) -> list[Row]:
    return compare(cfg, UNET27)
