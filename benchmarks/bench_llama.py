"""A Llama decoder layer: ncdc's generated LlamaDecoderLayer vs transformers' (attn_implementation="sdpa")."""

from __future__ import annotations

from harness import ROOT, Config, Row, benchmark, interleave

SIZES = (4, 128, 256, 688, 8, 2, 32)  # B, T, hidden_size, intermediate_size, query heads, key-value heads, head_dim
QUICK = (2, 8, 32, 48, 4, 2, 8)  # smoke mode: that it runs, not its numbers


@benchmark("llama_layer", "LlamaDecoderLayer, B={} T={} hidden={} intermediate={} heads={} kv_heads={} head_dim={}, "
           "causal, eval mode, float32, CPU".format(*SIZES))
def bench_llama_layer(cfg: Config) -> list[Row]:
    import torch

    import ncdc

    try:
        from transformers import LlamaConfig
        from transformers.models.llama.modeling_llama import LlamaDecoderLayer, LlamaRotaryEmbedding
    except ImportError:  # transformers is a test-only dependency
        return [Row("transformers is not installed", note="pip install -e '.[test]'")]

    B, T, M, F, H, N, D = QUICK if cfg.quick else SIZES
    sizes = dict(hidden_size=M, intermediate_size=F, num_attention_heads=H, num_key_value_heads=N, head_dim=D)
    config = LlamaConfig(**sizes, max_position_embeddings=T)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    reference = LlamaDecoderLayer(config, layer_idx=0).eval()
    with torch.no_grad():
        for p in reference.parameters():
            p.normal_(0.0, 0.05)
    generated = ncdc.load(ROOT / "specs" / "llama.ncd").LlamaDecoderLayer(**sizes, rms_norm_eps=config.rms_norm_eps)
    generated.load_state_dict(reference.state_dict(), strict=True)
    generated.eval()

    x = torch.randn(B, T, M)
    cos, sin = LlamaRotaryEmbedding(config)(x, torch.arange(T)[None])
    mask = torch.ones(T, T, dtype=torch.bool).tril()  # both are given the same causal mask
    with torch.no_grad():
        want = reference(x, attention_mask=mask[None, None], position_embeddings=(cos, sin))
        got = generated(x, cos[0], sin[0], mask)
        if not torch.allclose(got, want, rtol=1e-4, atol=1e-5):
            raise AssertionError(f"the generated layer disagrees with transformers: {(got - want).abs().max():.3g}")

    runs = {"hf": lambda: reference(x, attention_mask=mask[None, None], position_embeddings=(cos, sin)),
            "ncdc": lambda: generated(x, cos[0], sin[0], mask)}

    def forward(name):
        def run():
            with torch.no_grad():
                runs[name]()
        return run

    def step(name, model):
        def run():
            runs[name]().sum().backward()
            model.zero_grad(set_to_none=True)
        return run

    rounds, warmup = cfg.reps(30, 2), cfg.reps(5, 0)
    s = interleave({"hf_step": step("hf", reference), "ncdc_step": step("ncdc", generated),
                    "hf_fwd": forward("hf"), "ncdc_fwd": forward("ncdc")}, rounds, warmup=warmup)
    return [
        s.row("hf_step", "hf_step", label="transformers LlamaDecoderLayer (sdpa), forward+backward"),
        s.row("ncdc_step", "hf_step", label="ncdc generated layer, forward+backward", ref_label="transformers",
              target=1.0),
        s.row("hf_fwd", "hf_fwd", label="transformers LlamaDecoderLayer (sdpa), forward"),
        s.row("ncdc_fwd", "hf_fwd", label="ncdc generated layer, forward", ref_label="transformers", target=1.0),
    ]
