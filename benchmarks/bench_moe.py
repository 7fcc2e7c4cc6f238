"""Mixtral's sparse mixture of experts: ncdc's generated block vs transformers' MixtralSparseMoeBlock."""

from __future__ import annotations

from harness import ROOT, Config, Row, benchmark, interleave

B, T = 4, 128  # batch, tokens
M, F, E, K = 256, 512, 8, 2  # hidden_size, intermediate_size, num_local_experts, num_experts_per_tok


@benchmark("moe", f"Mixtral sparse MoE block, B={B} T={T} hidden={M} intermediate={F}, top-{K} of {E}, "
                  "float32, CPU")
def bench_moe(cfg: Config) -> list[Row]:
    import torch

    import ncdc

    try:
        from transformers import MixtralConfig
        from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock
    except ImportError:  # transformers is a test-only dependency
        return [Row("transformers is not installed", note="pip install -e '.[test]'")]

    config = MixtralConfig(hidden_size=M, intermediate_size=F, num_local_experts=E, num_experts_per_tok=K)
    config._experts_implementation = "eager"  # transformers' default loop over the experts
    torch.manual_seed(0)
    reference = MixtralSparseMoeBlock(config)
    with torch.no_grad():
        for p in reference.parameters():
            p.normal_(0.0, 0.05)
    generated = ncdc.load(ROOT / "specs" / "mixtral.ncd").MixtralSparseMoeBlock(M, F, E, K)
    generated.load_state_dict(reference.state_dict(), strict=True)

    x = torch.randn(B, T, M)
    with torch.no_grad():
        want, got = reference(x), generated(x)
        if not torch.allclose(got, want, rtol=1e-4, atol=1e-5):
            raise AssertionError(f"the generated block disagrees with transformers: {(got - want).abs().max():.3g}")

    def forward(model):
        def run():
            with torch.no_grad():
                model(x)
        return run

    def step(model):
        def run():
            model(x).sum().backward()
            model.zero_grad(set_to_none=True)
        return run

    rounds, warmup = cfg.reps(40, 3), cfg.reps(5, 1)
    s = interleave({"hf_step": step(reference), "ncdc_step": step(generated),
                    "hf_fwd": forward(reference), "ncdc_fwd": forward(generated)}, rounds, warmup=warmup)
    return [
        s.row("hf_step", "hf_step", label="transformers MixtralSparseMoeBlock, forward+backward"),
        s.row("ncdc_step", "hf_step", label="ncdc generated block, forward+backward", ref_label="transformers",
              target=1.0),
        s.row("hf_fwd", "hf_fwd", label="transformers MixtralSparseMoeBlock, forward"),
        s.row("ncdc_fwd", "hf_fwd", label="ncdc generated block, forward", ref_label="transformers", target=1.0),
    ]
