"""Transformer layers: ncdc's generated encoder layer vs torch.nn.TransformerEncoderLayer, and its
GPT-2 block vs transformers' GPT2Block (attn_implementation="sdpa"), on the same weights (checked)."""

from __future__ import annotations

from harness import ROOT, Config, Row, benchmark

ENCODER = (8, 128, 256, 8, 1024)  # B, S, d_model, nhead, dim_feedforward
GPT2 = (4, 128, 256, 4)  # B, T, n_embd, n_head (n_inner = 4 n_embd)
QUICK_ENCODER, QUICK_GPT2 = (2, 8, 16, 2, 32), (2, 8, 16, 2)  # smoke mode: that it runs, not its numbers


class _Called:
    """A module called with fixed extra arguments (a mask), so that both candidates take `(x,)`."""

    def __new__(cls, module, call):
        import torch

        class Called(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.module = module

            def forward(self, x):
                return call(self.module, x)

        return Called()


@benchmark("encoder", "TransformerEncoderLayer, B={} S={} d_model={} nhead={} dim_feedforward={}, post-norm, relu, "
           "dropout 0, float32, CPU: specs/transformer.ncd vs torch.nn".format(*ENCODER))
def bench_encoder(cfg: Config) -> list[Row]:
    import torch
    from torch import nn

    import ncdc
    from compare import compare_models

    B, S, M, H, F = QUICK_ENCODER if cfg.quick else ENCODER
    torch.manual_seed(0)
    reference = nn.TransformerEncoderLayer(M, H, F, dropout=0.0, batch_first=True)
    generated = ncdc.load(ROOT / "specs" / "transformer.ncd").TransformerEncoderLayer(M, H, F, dropout=0.0)
    # torch packs q, k, v in one in_proj, heads outer `(h k)`; the spec has three Linears, heads inner `k h`.
    def heads_inner(w):
        return w.reshape(H, M // H, *w.shape[1:]).transpose(0, 1).reshape(w.shape)

    state = reference.state_dict()
    weights, biases = state.pop("self_attn.in_proj_weight").chunk(3), state.pop("self_attn.in_proj_bias").chunk(3)
    for name, w, b in zip(("q_proj", "k_proj", "v_proj"), weights, biases):
        state[f"self_attn.{name}.weight"], state[f"self_attn.{name}.bias"] = heads_inner(w), heads_inner(b)
    state["self_attn.out_proj.weight"] = heads_inner(state["self_attn.out_proj.weight"].T).T
    generated.load_state_dict(state, strict=True)
    mask, padding = torch.zeros(S, S), torch.zeros(B, S, dtype=torch.bool)  # no key is padding
    x = torch.randn(B, S, M)
    # The spec's layer always takes a padding mask; torch's may go without one (its cheapest call) or take
    # the same one (the like-for-like call, whose saved tensors hold the same mask).
    rows = compare_models(cfg, "encoder layer", _Called(reference, lambda m, x: m(x, src_mask=mask)).eval(),
                          _Called(generated, lambda m, x: m(x, mask, padding)).eval(), (x,),
                          rounds=cfg.reps(30, 2), warmup=cfg.reps(3, 0), atol=1e-4,
                          ref_label="torch.nn", note="torch's fused fast path in the forward row; "
                          "saved: the generated layer also keeps its padding mask")
    padded = _Called(reference, lambda m, x: m(x, src_mask=mask, src_key_padding_mask=padding)).eval()
    return rows + compare_models(cfg, "encoder layer padded", padded,
                                 _Called(generated, lambda m, x: m(x, mask, padding)).eval(), (x,),
                                 rounds=cfg.reps(30, 2), warmup=cfg.reps(3, 0), atol=1e-4,
                                 ref_label="torch.nn", note="both given the same padding mask")


@benchmark("gpt2_block", "GPT2Block, B={} T={} n_embd={} n_head={}, gelu_new, eval mode, float32, CPU: "
           "specs/gpt2.ncd vs transformers (sdpa), with and without padding".format(*GPT2))
def bench_gpt2_block(cfg: Config) -> list[Row]:
    import torch

    import ncdc
    from compare import compare_models

    try:
        from transformers import GPT2Config
        from transformers.models.gpt2.modeling_gpt2 import GPT2Block
    except ImportError:  # transformers is a test-only dependency
        return [Row("transformers is not installed", note="pip install -e '.[test]'")]

    B, T, M, H = QUICK_GPT2 if cfg.quick else GPT2
    config = GPT2Config(n_embd=M, n_head=H, bos_token_id=0, eos_token_id=0)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    reference = GPT2Block(config).eval()
    generated = ncdc.load(ROOT / "specs" / "gpt2.ncd").GPT2Block(M, H, 4 * M).eval()
    generated.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(B, T, M)
    tokens = torch.ones(B, T, dtype=torch.bool)
    padded = torch.arange(T).expand(B, T) < torch.arange(T, T // 2, -T // (2 * B))[:B, None]
    causal = (torch.ones(T, T, dtype=torch.bool).tril() & padded[:, None, :])[:, None]  # what GPT2Model passes
    rows = compare_models(cfg, "GPT2Block", _Called(reference, lambda m, x: m(x)),
                          _Called(generated, lambda m, x: m(x, tokens)), (x,),
                          rounds=cfg.reps(30, 2), warmup=cfg.reps(3, 0), atol=1e-4,
                          ref_label="transformers",
                          note="no padding: transformers' is_causal, the generated block's mask of all true")
    rows += compare_models(cfg, "GPT2Block padded", _Called(reference, lambda m, x: m(x, attention_mask=causal)),
                           _Called(generated, lambda m, x: m(x, padded)), (x,),
                           rounds=cfg.reps(30, 2), warmup=cfg.reps(3, 0), atol=1e-4, ref_label="transformers")
    return rows


LLAMA = (4, 128, 256, 8, 2, 688)  # B, T, hidden_size, num_attention_heads, num_key_value_heads, intermediate_size
QUICK_LLAMA = (2, 8, 32, 4, 2, 48)


@benchmark("llama_layer", "LlamaDecoderLayer, B={} T={} hidden={} heads={} kv_heads={} intermediate={}, causal mask, "
           "float32, CPU: specs/llama.ncd vs transformers (sdpa)".format(*LLAMA))
def bench_llama_layer(cfg: Config) -> list[Row]:
    import torch

    import ncdc
    from compare import compare_models

    try:
        from transformers import LlamaConfig
        from transformers.models.llama.modeling_llama import LlamaDecoderLayer, LlamaRotaryEmbedding
    except ImportError:  # transformers is a test-only dependency
        return [Row("transformers is not installed", note="pip install -e '.[test]'")]

    B, T, M, H, KV, F = QUICK_LLAMA if cfg.quick else LLAMA
    config = LlamaConfig(hidden_size=M, num_attention_heads=H, num_key_value_heads=KV, intermediate_size=F,
                         head_dim=M // H)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    reference = LlamaDecoderLayer(config, layer_idx=0).eval()
    generated = ncdc.load(ROOT / "specs" / "llama.ncd").LlamaDecoderLayer(
        hidden_size=M, intermediate_size=F, num_key_value_heads=KV, num_attention_heads=H, head_dim=M // H,
        rms_norm_eps=config.rms_norm_eps).eval()
    generated.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(B, T, M)
    cos, sin = LlamaRotaryEmbedding(config)(x, torch.arange(T)[None])
    mask = torch.ones(T, T, dtype=torch.bool).tril()  # what LlamaModel passes its layers, without padding
    return compare_models(cfg, "LlamaDecoderLayer",
                          _Called(reference, lambda m, x: m(x, attention_mask=mask, position_embeddings=(cos, sin))),
                          _Called(generated, lambda m, x: m(x, cos[0], sin[0], mask)), (x,),
                          rounds=cfg.reps(30, 2), warmup=cfg.reps(3, 0), atol=1e-4, ref_label="transformers")
