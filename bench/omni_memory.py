"""GPU memory of the production model, worked out from its architecture (no weights, no GPU needed).

    .venv/bin/python bench/omni_memory.py [--layers 48] [--heads 32] [--kv-heads 4] [--vocab 152064]
                                          [--group-size 128] [--context 32768] [--gpu-gib 80]

Builds the Qwen3-Omni-MoE thinker on the meta device (no memory) with the text sizes of the released
30B-A3B (the flags; transformers' default config is a smaller one), counts its parameters by part, and
prints what vLLM holds: the weights in bf16 and as AWQ W4A16 the way training/quantize.py quantizes them
(attention and expert projections at 4 bits with one bf16 scale per group; embeddings, lm_head, routers and
the vision/audio towers stay bf16), the KV cache per token, and what is left for it on a card. These are
sizes, not measurements of a running server: vLLM adds activations, CUDA graphs and the sampler on top.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

GIB = 1024**3


def parameter_counts(layers: int, heads: int, kv_heads: int, vocab: int) -> Counter[str]:
    import torch
    from transformers import Qwen3OmniMoeConfig
    from transformers.models.qwen3_omni_moe.modeling_qwen3_omni_moe import (
        Qwen3OmniMoeThinkerForConditionalGeneration,
    )

    config = Qwen3OmniMoeConfig().thinker_config
    text = config.text_config
    text.num_hidden_layers, text.num_attention_heads, text.num_key_value_heads = layers, heads, kv_heads
    text.head_dim, text.vocab_size = 128, vocab
    with torch.device("meta"):
        model = Qwen3OmniMoeThinkerForConditionalGeneration(config)
    counts: Counter[str] = Counter()
    for name, parameter in model.named_parameters():
        if name.startswith(("audio_tower", "visual")):
            part = "towers"
        elif "embed_tokens" in name or name.startswith("lm_head"):
            part = "embeddings"
        elif ".experts." in name:
            part = "experts"
        elif ".self_attn." in name and name.endswith("proj.weight"):
            part = "attention"
        else:
            part = "other"  # norms, routers (gates), biases
        counts[part] += parameter.numel()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=48)
    parser.add_argument("--heads", type=int, default=32)
    parser.add_argument("--kv-heads", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=152064)
    parser.add_argument("--group-size", type=int, default=128)
    parser.add_argument("--context", type=int, default=32768)
    parser.add_argument("--gpu-gib", type=float, default=80)
    parser.add_argument("--utilization", type=float, default=0.9)
    args = parser.parse_args()

    counts = parameter_counts(args.layers, args.heads, args.kv_heads, args.vocab)
    quantized = counts["experts"] + counts["attention"]
    kept = sum(counts.values()) - quantized
    bf16_bytes = 2 * sum(counts.values())
    awq_bytes = quantized * (4 / 8 + 2 / args.group_size) + 2 * kept  # packed int4 + a bf16 scale per group
    kv_per_token = args.layers * args.kv_heads * 128 * 2 * 2  # K and V, bf16
    budget = args.gpu_gib * args.utilization * GIB - awq_bytes
    result = {
        "parameters_b": {k: round(v / 1e9, 3) for k, v in sorted(counts.items())},
        "total_parameters_b": round(sum(counts.values()) / 1e9, 2),
        "weights_bf16_gib": round(bf16_bytes / GIB, 1),
        "weights_awq_w4a16_gib": round(awq_bytes / GIB, 1),
        "kv_cache_kib_per_token": round(kv_per_token / 1024, 1),
        "kv_cache_gib_per_full_context": round(kv_per_token * args.context / GIB, 2),
        f"kv_tokens_left_on_{args.gpu_gib:g}_gib_at_{args.utilization}": int(budget / kv_per_token),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
