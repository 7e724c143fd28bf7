"""AWQ W4A16: group sizes, the narrow CPU fix, and the Qwen3-Omni mapping on a tiny Omni model built from a config.

SmolLM2's own AWQ (on the CPU) runs in the pipeline test, where the quantized model is judged and served.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config import get_settings
from training.quantize import QuantizeConfig, cpu_without_pinned_memory, main, pick_group_size


def test_group_size_divides_the_hidden_size():
    assert pick_group_size(576) == 64  # SmolLM2-135M: the default 128 would fail
    assert pick_group_size(2048) == 128  # Qwen3-Omni's thinker
    with pytest.raises(ValueError):
        pick_group_size(576, 128)
    with pytest.raises(ValueError):
        pick_group_size(100)


def test_the_cpu_fix_touches_one_method_and_only_while_quantizing():
    import torch
    from llmcompressor.pipelines.cache import IntermediatesCache

    original = IntermediatesCache.pin_memory
    with cpu_without_pinned_memory():
        if not torch.accelerator.is_available():
            assert IntermediatesCache.pin_memory is not original
            assert IntermediatesCache.pin_memory(object(), 0) is None
    assert IntermediatesCache.pin_memory is original


def tiny_omni(folder: Path) -> None:
    """A Qwen3-Omni-MoE (thinker with vision and audio towers, talker, code2wav) with tiny dimensions."""
    from transformers.models.qwen3_omni_moe.configuration_qwen3_omni_moe import Qwen3OmniMoeConfig
    from transformers.models.qwen3_omni_moe.modeling_qwen3_omni_moe import Qwen3OmniMoeForConditionalGeneration

    text = {
        "hidden_size": 64,
        "intermediate_size": 128,
        "moe_intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "num_experts": 4,
        "num_experts_per_tok": 2,
        "vocab_size": 49152,  # SmolLM2's tokenizer stands in for Qwen's
        "decoder_sparse_step": 1,
        "mlp_only_layers": [],
    }
    special = {"audio_start_token_id": 49141, "image_token_id": 49142, "video_token_id": 49143, "audio_token_id": 49144}
    config = Qwen3OmniMoeConfig(
        thinker_config={
            "text_config": text,
            "vision_config": {
                "depth": 1,
                "hidden_size": 32,
                "intermediate_size": 64,
                "num_heads": 2,
                "out_hidden_size": 64,
                "deepstack_visual_indexes": [0],
            },
            "audio_config": {
                "d_model": 32,
                "encoder_layers": 1,
                "encoder_attention_heads": 2,
                "encoder_ffn_dim": 64,
                "output_dim": 64,
            },
            **special,
        },
        talker_config={
            "text_config": {**text, "vocab_size": 500, "shared_expert_intermediate_size": 64},
            "code_predictor_config": {
                "hidden_size": 32,
                "intermediate_size": 64,
                "num_hidden_layers": 1,
                "num_attention_heads": 2,
                "num_key_value_heads": 1,
                "head_dim": 16,
                "vocab_size": 100,
            },
            "thinker_hidden_size": 64,
            "spatial_merge_size": 2,
            "vision_start_token_id": 49140,
            **special,
        },
        code2wav_config={
            "hidden_size": 32,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "num_key_value_heads": 1,
            "intermediate_size": 64,
            "decoder_dim": 32,
            "codebook_size": 64,
            "codebook_dim": 32,
        },
        enable_audio_output=True,
    )
    Qwen3OmniMoeForConditionalGeneration(config).save_pretrained(folder)


@pytest.mark.slow
def test_qwen3_omni_awq_quantizes_the_thinker_only(tmp_path, local_model, monkeypatch):
    import torch
    from safetensors import safe_open
    from transformers import AutoTokenizer

    source, out = tmp_path / "omni", tmp_path / "omni-awq"
    tiny_omni(source)
    AutoTokenizer.from_pretrained(get_settings().resolved_models_dir / "smollm2-135m-instruct").save_pretrained(source)
    # Every switch of the whole thinker to eval (or back): a walk over all its modules, 25,000 at full size.
    switches: list[bool] = []
    train = torch.nn.Module.train

    def counted(module: torch.nn.Module, mode: bool = True) -> torch.nn.Module:
        if type(module).__name__ == "Qwen3OmniMoeThinkerForConditionalGeneration":
            switches.append(mode)
        return train(module, mode)

    monkeypatch.setattr(torch.nn.Module, "train", counted)
    figures = main(QuantizeConfig(model_dir=str(source), output_dir=str(out), omni=True, num_samples=4))
    assert figures["format"] == "pack-quantized" and figures["group_size"] == 64
    # AWQ really smoothed: the basic pipeline's grid search ran with quantization off (without it, every
    # mapping came out NaN and was skipped: round-to-nearest W4 under AWQ's name).
    assert figures["awq_skipped_mappings"] == 0, figures
    # ... inside one calibration context, not one per mapping (2 layers x (q/k/v, gate/up, 4 experts' up->down)
    # would be 24 switches at least).
    assert len(switches) < 12, switches

    keys: set[str] = set()
    for shard in out.glob("*.safetensors"):
        with safe_open(str(shard), "pt") as tensors:
            keys |= set(tensors.keys())
    layer = "thinker.model.layers.1."
    # The thinker's attention and every expert are packed int4 ...
    for name in ("self_attn.q_proj", "self_attn.o_proj", "mlp.experts.3.gate_proj", "mlp.experts.0.down_proj"):
        assert f"{layer}{name}.weight_packed" in keys and f"{layer}{name}.weight" not in keys
    # ... the router, the towers, the talker and code2wav are kept as they were.
    for name in (
        f"{layer}mlp.gate.weight",
        "thinker.visual.blocks.0.attn.qkv.weight",
        "thinker.audio_tower.layers.0.fc1.weight",
        "talker.model.layers.1.self_attn.q_proj.weight",
        "talker.model.layers.1.mlp.experts.0.up_proj.weight",
        "code2wav.pre_transformer.layers.0.self_attn.q_proj.weight",
    ):
        assert name in keys, name
    assert not any(
        k.startswith(("talker.", "code2wav.", "thinker.visual", "thinker.audio")) and "packed" in k for k in keys
    )
    config = json.loads((out / "config.json").read_text())["quantization_config"]
    assert config["config_groups"]["group_0"]["weights"]["num_bits"] == 4
