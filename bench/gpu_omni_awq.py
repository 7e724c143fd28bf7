"""AWQ W4A16 of the production Omni model at its real size: Qwen3-Omni-30B-A3B built from its configuration.

No hub on the GPU machine: the whole Qwen3OmniMoeForConditionalGeneration (thinker with its vision and audio
towers, talker, code predictor, code2wav) is built with random bf16 weights straight on the GPU, with the
sizes of the released config.json (below; transformers' defaults are a smaller model). Then
training/quantize.py's Omni path runs on it as a deployment runs it: `_load_omni` (experts linearized, the
thinker's config completed), `recipe()` with the Omni mappings and ignores, llm-compressor's `oneshot` on the
thinker with the basic pipeline, `modify_save_pretrained` and a compressed save of the whole model. The only
difference from `quantize.main`: the model is handed over in memory (`from_pretrained` returns it) instead of
being read from a 70 GB folder, and the calibration turns carry images and audio (quantize.main's own
calibration is the run's text turns). Qwen's processor is not available offline, so a turn is token ids (the
text through SmolLM2's tokenizer, which stands in for Qwen's; ids < 49152 lie inside Qwen's vocabulary) with
Qwen3-Omni's own media tokens, plus random pixel patches (448x448 → 784 patches, 196 image tokens) and a
random 128-bin log-mel spectrogram (4 s → 400 frames, 52 audio tokens): the shapes the processor makes.

    python bench/gpu_omni_awq.py --tokenizer DIR [--samples-text 4 --samples-image 2 --samples-audio 2]
                                 [--layers 48] [--out /tmp/omni-awq] [--no-reload] [--tiny]
                                 [--talker-on-cpu] [--smooth-unquantized | --skip-awq]
                                 [--results FILE] [--progress FILE]

Prints progress lines and one JSON line of figures (wall time per stage, peak GPU and host memory, output
size, which tensors are packed and which are kept, and whether transformers reloads the output).
--tiny builds a few-MB model of the same architecture (the CPU check of this script); --layers N cuts the
thinker's decoder to N layers (a timing probe). --progress FILE gets one JSON line per stage as it ends (its
seconds, GPU memory allocated and peak, host RSS and peak, the figures so far) and a heartbeat line every 30 s
with AWQ's progress (mappings smoothed, by kind), so a run cut off by a time limit still says where it was;
a stage that raises writes the figures with `stopped_at` and the error to --results. --smooth-unquantized
works around llm-compressor's basic pipeline, whose AWQ grid search otherwise skips every mapping (NaN/inf):
see training.quantize.smoothing_unquantized() (training/quantize.py applies it itself now). --skip-awq
quantizes with the same scheme without AWQ's smoothing (to time the save and the reload at full size when
the grid search would not fit a time limit).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import resource
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# Qwen3-Omni-30B-A3B-Instruct's config.json (the released checkpoint; 70.5 GB in bf16).
TOKENS = {
    "audio_start_token_id": 151669,
    "audio_end_token_id": 151670,
    "audio_token_id": 151675,
    "image_token_id": 151655,
    "video_token_id": 151656,
    "vision_start_token_id": 151652,
    "vision_end_token_id": 151653,
    "position_id_per_seconds": 13,
}
THINKER_TEXT = {
    "hidden_size": 2048,
    "num_hidden_layers": 48,
    "num_attention_heads": 32,
    "num_key_value_heads": 4,
    "head_dim": 128,
    "num_experts": 128,
    "num_experts_per_tok": 8,
    "moe_intermediate_size": 768,
    "intermediate_size": 6144,  # unused: every layer is MoE
    "decoder_sparse_step": 1,
    "mlp_only_layers": [],
    "norm_topk_prob": True,
    "vocab_size": 152064,
    "max_position_embeddings": 65536,
    "rope_parameters": {
        "rope_type": "default",
        "rope_theta": 1000000.0,
        "mrope_section": [24, 20, 20],
        "interleaved": True,
    },
}
VISION = {
    "depth": 27,
    "hidden_size": 1152,
    "num_heads": 16,
    "intermediate_size": 4304,
    "patch_size": 16,
    "temporal_patch_size": 2,
    "spatial_merge_size": 2,
    "out_hidden_size": 2048,
    "deepstack_visual_indexes": [8, 16, 24],
}
AUDIO = {
    "num_mel_bins": 128,
    "d_model": 1280,
    "encoder_attention_heads": 20,
    "encoder_ffn_dim": 5120,
    "encoder_layers": 32,
    "downsample_hidden_size": 480,
    "output_dim": 2048,
    "n_window": 50,
    "n_window_infer": 800,
}
TALKER_TEXT = {
    "num_hidden_layers": 20,
    "hidden_size": 1024,
    "num_attention_heads": 16,
    "num_key_value_heads": 2,
    "head_dim": 128,
    "moe_intermediate_size": 384,
    "shared_expert_intermediate_size": 768,
    "num_experts": 128,
    "num_experts_per_tok": 6,
    "norm_topk_prob": True,
    "vocab_size": 3072,
    "max_position_embeddings": 65536,
    "rope_parameters": {
        "rope_type": "default",
        "rope_theta": 1000000.0,
        "mrope_section": [24, 20, 20],
        "interleaved": True,
    },
}
CODE_PREDICTOR = {
    "num_hidden_layers": 5,
    "hidden_size": 1024,
    "head_dim": 128,
    "num_attention_heads": 16,
    "num_key_value_heads": 8,
    "intermediate_size": 3072,
    "vocab_size": 2048,
    "num_code_groups": 16,
}
TALKER = {
    "accept_hidden_layer": 24,
    "codec_bos_id": 2149,
    "codec_eos_token_id": 2150,
    "codec_pad_id": 2148,
    "codec_nothink_id": 2155,
    "codec_think_bos_id": 2156,
    "codec_think_eos_id": 2157,
    "num_code_groups": 16,
    "thinker_hidden_size": 2048,
    "spatial_merge_size": 2,
}
CODE2WAV = {
    "codebook_size": 2048,
    "hidden_size": 1024,
    "intermediate_size": 3072,
    "num_hidden_layers": 8,
    "num_attention_heads": 16,
    "num_key_value_heads": 16,
    "sliding_window": 72,
    "decoder_dim": 1536,
    "upsample_rates": [8, 5, 4, 3],
    "upsampling_ratios": [2, 2],
    "num_quantizers": 16,
}
TINY = {  # the same architecture at a few MB (the CPU check)
    "text": {
        "hidden_size": 64,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "num_experts": 8,
        "moe_intermediate_size": 64,
        "num_hidden_layers": 2,
    },
    "vision": {
        "depth": 2,
        "hidden_size": 32,
        "num_heads": 2,
        "intermediate_size": 64,
        "out_hidden_size": 64,
        "deepstack_visual_indexes": [0],
    },
    "audio": {
        "d_model": 32,
        "encoder_layers": 1,
        "encoder_attention_heads": 2,
        "encoder_ffn_dim": 64,
        "output_dim": 64,
        "downsample_hidden_size": 16,
    },
    "talker": {
        "hidden_size": 32,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 16,
        "num_experts": 4,
        "moe_intermediate_size": 16,
        "shared_expert_intermediate_size": 32,
        "num_hidden_layers": 1,
    },
    "predictor": {
        "hidden_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "head_dim": 16,
        "intermediate_size": 64,
    },
    "code2wav": {
        "hidden_size": 32,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "intermediate_size": 64,
        "decoder_dim": 32,
        "codebook_size": 64,
    },
}

GIB = 2**30
_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", flush=True)


def host_peak_gib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)  # ru_maxrss is KiB on Linux


def host_rss_gib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 2**20, 2)  # kB
    except OSError:
        pass
    return 0.0


class Progress:
    """Stage timings and memory as JSON lines, written as the run goes (a cut-off run still tells)."""

    def __init__(self, path: str, figures: dict[str, Any]) -> None:
        self.path = path
        self.figures = figures
        self.stage = "start"
        self.stage_started = time.perf_counter()
        self.gpu_peak = 0.0  # over the whole run (the bench resets torch's peak before AWQ)
        self.awq: dict[str, Any] = {"smoothed": Counter(), "seconds": Counter(), "total": 0}

    def gpu(self) -> tuple[float | None, float | None]:
        import torch

        if not torch.cuda.is_available():
            return None, None
        self.gpu_peak = max(self.gpu_peak, torch.cuda.max_memory_allocated() / GIB)
        return round(torch.cuda.memory_allocated() / GIB, 2), round(self.gpu_peak, 2)

    def write(self, record: dict[str, Any]) -> None:
        if self.path:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

    def begin(self, stage: str) -> None:
        self.stage, self.stage_started = stage, time.perf_counter()
        log(f"stage {stage}")

    def end(self, **extra: Any) -> float:
        seconds = round(time.perf_counter() - self.stage_started, 1)
        allocated, peak = self.gpu()
        self.write(
            {
                "stage": self.stage,
                "seconds": seconds,
                "at": round(time.perf_counter() - _started, 1),
                "gpu_allocated_gib": allocated,
                "gpu_peak_gib": peak,
                "host_rss_gib": host_rss_gib(),
                "host_peak_gib": host_peak_gib(),
                **extra,
                "figures": self.figures,
            }
        )
        return seconds

    def awq_summary(self) -> dict[str, Any]:
        return {
            "mappings": self.awq["total"],
            "smoothed": dict(self.awq["smoothed"]),
            "seconds": {k: round(v, 1) for k, v in self.awq["seconds"].items()},
        }

    def heartbeat(self) -> None:
        allocated, peak = self.gpu()
        record = {
            "heartbeat": self.stage,
            "stage_seconds": round(time.perf_counter() - self.stage_started, 1),
            "at": round(time.perf_counter() - _started, 1),
            "gpu_allocated_gib": allocated,
            "gpu_peak_gib": peak,
            "host_rss_gib": host_rss_gib(),
            "host_peak_gib": host_peak_gib(),
        }
        if self.stage == "awq":
            record["awq"] = self.awq_summary()
        self.write(record)
        log(f"heartbeat {json.dumps(record)}")


def count_smoothing(progress: Progress) -> None:
    """Count and time AWQ's grid searches by mapping kind (no change to what they compute)."""
    from llmcompressor.modifiers.transform.awq import AWQModifier  # the class (modifiers.awq's is a shim)

    compute, resolve = AWQModifier._compute_best_scale, AWQModifier._set_resolved_mappings

    def kind(name: str) -> str:
        return "expert.up_proj" if ".experts." in name else name.rsplit(".", 1)[-1]

    def timed(self: Any, mapping: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return compute(self, mapping, *args, **kwargs)
        finally:
            progress.awq["smoothed"][kind(mapping.smooth_name)] += 1
            progress.awq["seconds"][kind(mapping.smooth_name)] += time.perf_counter() - started

    def resolved(self: Any, model: Any) -> None:
        resolve(self, model)
        progress.awq["total"] = len(self._resolved_mappings)
        progress.awq["resolved_at"] = round(time.perf_counter() - _started, 1)

    AWQModifier._compute_best_scale = timed  # type: ignore[method-assign]
    AWQModifier._set_resolved_mappings = resolved  # type: ignore[method-assign]


def omni_config(tiny: bool, layers: int) -> Any:
    from transformers import Qwen3OmniMoeConfig

    text, vision, audio = dict(THINKER_TEXT), dict(VISION), dict(AUDIO)
    talker_text, predictor, code2wav, talker = dict(TALKER_TEXT), dict(CODE_PREDICTOR), dict(CODE2WAV), dict(TALKER)
    if tiny:
        text.update(TINY["text"])
        vision.update(TINY["vision"])
        audio.update(TINY["audio"])
        talker_text.update(TINY["talker"])
        predictor.update(TINY["predictor"])
        code2wav.update(TINY["code2wav"])
        talker.update(thinker_hidden_size=64, accept_hidden_layer=1)
    if layers:
        text["num_hidden_layers"] = layers
    return Qwen3OmniMoeConfig(
        thinker_config={"text_config": text, "vision_config": vision, "audio_config": audio, **TOKENS},
        talker_config={"text_config": talker_text, "code_predictor_config": predictor, **talker, **TOKENS},
        code2wav_config=code2wav,
        enable_audio_output=True,
    )


def parameter_parts(model: Any) -> dict[str, float]:
    parts: Counter[str] = Counter()
    for name, parameter in model.named_parameters():
        parts[part_of(name)] += parameter.numel()
    return {k: round(v / 1e9, 3) for k, v in sorted(parts.items())}


def part_of(name: str) -> str:
    name = name.removeprefix("model.")
    if name.startswith("thinker.visual"):
        return "thinker.visual"
    if name.startswith("thinker.audio_tower"):
        return "thinker.audio_tower"
    if name.startswith("thinker."):
        if "embed_tokens" in name or "lm_head" in name:
            return "thinker.embeddings"
        if ".experts." in name:
            return "thinker.experts"
        if ".self_attn." in name and "_proj" in name:
            return "thinker.attention"
        if ".mlp.gate." in name:
            return "thinker.router"
        return "thinker.other"  # norms
    return name.split(".", 1)[0]  # talker, code2wav


def calibration_turns(tokenizer: Any, config: Any, counts: tuple[int, int, int], device: str) -> list[dict[str, Any]]:
    """Shop turns: text only, with a photo, with a voice note (token ids + media tensors of the real shapes)."""
    import torch
    from transformers.models.qwen3_omni_moe.modeling_qwen3_omni_moe import _get_feat_extract_output_lengths

    thinker = config.thinker_config
    text_turns = [
        (
            "Where is my order A1023? It was supposed to arrive on Monday.",
            "Order A1023 shipped with SF Express on "
            "Friday; the tracking number is SF1234567890 and it should arrive tomorrow.",
        ),
        ("我的订单发货了吗？订单号是A2048。", "您的订单A2048已于昨天发货，快递单号SF9876543210，预计两天内送达。"),
        (
            "Can I get a VAT invoice for my last purchase?",
            "Yes: send us the company name and tax number and we will email the invoice within one business day.",
        ),
        (
            "How long does a refund take after I return the item?",
            "Refunds are issued 3-5 business days after the return arrives at our warehouse.",
        ),
    ]
    image_turns = [
        ("Here is a photo of the damaged parcel.", "Sorry about that: I have opened a claim for the damaged parcel."),
        ("Is this the invoice you need?", "Yes, that invoice shows the order number and the total; thank you."),
    ]
    audio_turns = [
        ("(voice note)", "You asked about order A1023: it has shipped and arrives tomorrow."),
        ("(voice note)", "I heard the total 186.29; the refund of that amount is on its way."),
    ]

    def ids(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    def turn(user: str, answer: str, media: list[int]) -> list[int]:
        return (
            ids("<|im_start|>system\nYou are the shop's support assistant.<|im_end|>\n<|im_start|>user\n")
            + media
            + ids(f"{user}<|im_end|>\n<|im_start|>assistant\n{answer}<|im_end|>\n")
        )

    def row(token_ids: list[int], **extra: Any) -> dict[str, Any]:
        input_ids = torch.tensor([token_ids], device=device)
        return {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids), **extra}

    generator = torch.Generator().manual_seed(0)
    samples = []
    n_text, n_image, n_audio = counts
    for i in range(n_text):
        samples.append(row(turn(*text_turns[i % len(text_turns)], [])))
    vision = thinker.vision_config
    grid = (1, 28, 28)  # a 448x448 photo in 16-pixel patches
    patches = grid[0] * grid[1] * grid[2]
    image_tokens = patches // vision.spatial_merge_size**2
    for i in range(n_image):
        media = [TOKENS["vision_start_token_id"]] + [TOKENS["image_token_id"]] * image_tokens
        media += [TOKENS["vision_end_token_id"]]
        pixels = torch.randn(patches, 3 * vision.temporal_patch_size * vision.patch_size**2, generator=generator)
        samples.append(
            row(
                turn(*image_turns[i % len(image_turns)], media),
                pixel_values=pixels.to(device),
                image_grid_thw=torch.tensor([grid], device=device),
            )
        )
    frames = 400  # 4 s of 16 kHz audio at the feature extractor's 10 ms hop
    audio_tokens = int(_get_feat_extract_output_lengths(torch.tensor(frames)))
    for i in range(n_audio):
        media = [TOKENS["audio_start_token_id"]] + [TOKENS["audio_token_id"]] * audio_tokens
        media += [TOKENS["audio_end_token_id"]]
        features = torch.randn(1, thinker.audio_config.num_mel_bins, frames, generator=generator) * 0.5
        samples.append(
            row(
                turn(*audio_turns[i % len(audio_turns)], media),
                input_features=features.to(device),
                feature_attention_mask=torch.ones(1, frames, dtype=torch.long, device=device),
            )
        )
    return samples


def linearize_one_at_a_time(model: Any) -> None:
    """llm-compressor's linearize_moe, one experts module at a time, each fused original freed before the next.

    linearize_moe keeps a list of every fused experts module until it has replaced them all, so the whole
    model's experts exist twice at its peak (30B-A3B: ≈ 120 GiB; out of memory on an 80 GB card). Done this
    way first, quantize._load_omni's own linearize_moe call then finds nothing left to do.
    """
    import torch
    from llmcompressor.modeling.moe.linear_experts import LinearExperts2D
    from llmcompressor.modeling.moe.linearize import get_non_linearized_moes

    names = [name for name, _ in get_non_linearized_moes(model)]
    for name in names:
        module = model.get_submodule(name)
        config = getattr(module, "config", model.config)
        device = next(module.parameters()).device
        with torch.device(device):
            linear = LinearExperts2D.get_linear_experts_cls(module.__class__).from_experts_module(module, config)
        model.set_submodule(name, linear)
        del module
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def layout(out: Path) -> dict[str, Any]:
    """Which tensors of the saved checkpoint are packed int4 and which are kept as they were, by part."""
    from safetensors import safe_open

    packed: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for shard in sorted(out.glob("*.safetensors")):
        with safe_open(str(shard), "pt") as tensors:
            for key in tensors.keys():  # noqa: SIM118 - safe_open is no dict
                part = part_of(key)
                if key.endswith(".weight_packed"):
                    packed[part] += 1
                    examples.setdefault(f"{part} packed", key)
                elif key.endswith(".weight") or key.endswith(".bias"):
                    kept[part] += 1
                    examples.setdefault(f"{part} kept", key)
    return {
        "packed_weights": dict(sorted(packed.items())),
        "kept_tensors": dict(sorted(kept.items())),
        "examples": dict(sorted(examples.items())),
    }


def reload(out: Path, device: Any, sample: dict[str, Any]) -> dict[str, Any]:
    """transformers' own from_pretrained on the output, then one thinker forward on a calibration turn."""
    import torch
    from transformers import CompressedTensorsConfig, Qwen3OmniMoeForConditionalGeneration

    started = time.perf_counter()
    result: dict[str, Any] = {"mode": "dequantize=True"}
    try:
        # Loaded as it is saved (run compressed), transformers 5.17 + compressed-tensors 0.19 build the packed
        # Linear layers but their forward reads a `weight` they no longer have (seen on the tiny model):
        # transformers can read the checkpoint back only unpacked to bf16.
        model, info = Qwen3OmniMoeForConditionalGeneration.from_pretrained(
            str(out),
            device_map=device,
            output_loading_info=True,
            quantization_config=CompressedTensorsConfig(dequantize=True),
        )
        result["seconds"] = round(time.perf_counter() - started, 1)
        for key in ("missing_keys", "unexpected_keys", "mismatched_keys"):
            values = sorted(str(v) for v in info.get(key, []))
            result[key] = len(values)
            result[f"{key}_sample"] = values[:6]
        experts = [
            type(m).__name__ for n, m in model.named_modules() if n.endswith("thinker.model.layers.0.mlp.experts")
        ]
        q_proj = model.thinker.model.layers[0].self_attn.q_proj
        result["thinker_q_proj"] = type(q_proj).__name__ + str(sorted(n for n, _ in q_proj.named_parameters())[:4])
        result["thinker_experts_module"] = experts[:1]
        with torch.no_grad():
            logits = model.thinker(**{k: v for k, v in sample.items()}).logits
        result["forward_ok"] = bool(torch.isfinite(logits.float()).all())
        result["gpu_gib_after_reload"] = (
            round(torch.cuda.memory_allocated() / GIB, 2) if torch.cuda.is_available() else None
        )
        del model
    except Exception as error:  # noqa: BLE001 - the figure is whether it loads; say why not
        result["error"] = f"{type(error).__name__}: {str(error)[:600]}"
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizer", required=True, help="a tokenizer folder (SmolLM2's stands in for Qwen's)")
    parser.add_argument("--samples-text", type=int, default=4)
    parser.add_argument("--samples-image", type=int, default=2)
    parser.add_argument("--samples-audio", type=int, default=2)
    parser.add_argument("--layers", type=int, default=0, help="thinker decoder layers (0: the real 48)")
    parser.add_argument("--out", default="/tmp/omni-awq")
    parser.add_argument("--results", default="", help="append the JSON line to this file too")
    parser.add_argument("--progress", default="", help="append a JSON line per stage and heartbeat to this file")
    parser.add_argument("--no-reload", action="store_true")
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument(
        "--skip-awq",
        action="store_true",
        help="the recipe's W4A16 quantization without AWQ's smoothing (the same scheme, ignores and format): "
        "times the save and the reload at full size where AWQ's grid search would not fit the time limit",
    )
    parser.add_argument(
        "--smooth-unquantized",
        action="store_true",
        help="AWQ's grid search with quantization disabled (works around the basic pipeline skipping every mapping)",
    )
    parser.add_argument(
        "--talker-on-cpu", action="store_true", help="for an 80 GB card: talker and code2wav on the host"
    )
    args = parser.parse_args()

    import torch
    import transformers

    device = "cuda" if torch.cuda.is_available() else "cpu"
    figures: dict[str, Any] = {
        "gpu": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "model": "Qwen3-Omni-30B-A3B (random weights)" if not args.tiny else "tiny Qwen3-Omni",
        "thinker_layers": args.layers or (TINY["text"]["num_hidden_layers"] if args.tiny else 48),
        "talker_on_cpu": args.talker_on_cpu,
        "smooth_unquantized": args.smooth_unquantized,
        "skip_awq": args.skip_awq,
    }
    try:
        import llmcompressor

        figures["llmcompressor"] = llmcompressor.__version__
    except Exception:  # noqa: BLE001
        pass
    progress = Progress(args.progress, figures)

    def finish(code: int) -> int:
        figures["wall_seconds"] = round(time.perf_counter() - _started, 1)
        figures["peak_host_gib"] = host_peak_gib()
        if device == "cuda":
            figures["peak_gpu_gib_run"] = progress.gpu()[1]
        stop.set()
        line = json.dumps(figures, ensure_ascii=False, default=str)
        print(line, flush=True)
        if args.results:
            with open(args.results, "a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        return code

    stop = threading.Event()

    def heartbeat() -> None:  # where it is, if the call ends before the script does
        while not stop.wait(30):
            progress.heartbeat()

    threading.Thread(target=heartbeat, daemon=True).start()
    try:
        run(args, device, figures, progress)
    except BaseException as error:  # noqa: BLE001 - a stopped run is a figure too: where, and why
        figures["stopped_at"] = progress.stage
        figures["error"] = f"{type(error).__name__}: {str(error)[:600]}"
        if progress.stage == "awq":
            figures["awq_progress"] = progress.awq_summary()
        progress.end(error=figures["error"])
        log(f"stopped in {progress.stage}: {figures['error']}")
        finish(1)
        raise
    return finish(0)


def run(args: Any, device: str, figures: dict[str, Any], progress: Progress) -> None:
    import torch
    from transformers import AutoTokenizer, Qwen3OmniMoeForConditionalGeneration

    from training import quantize

    progress.begin("build")
    config = omni_config(args.tiny, args.layers)
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    with torch.device(device):
        model = Qwen3OmniMoeForConditionalGeneration._from_config(config, dtype=torch.bfloat16)
    model.eval()
    figures["build_seconds"] = round(time.perf_counter() - progress.stage_started, 1)
    figures["parameters_b"] = parameter_parts(model)
    figures["total_parameters_b"] = round(sum(p.numel() for p in model.parameters()) / 1e9, 2)
    figures["bf16_gib"] = round(sum(p.numel() * p.element_size() for p in model.parameters()) / GIB, 2)
    log(
        f"built: {figures['total_parameters_b']}B parameters, {figures['bf16_gib']} GiB bf16, {figures['parameters_b']}"
    )
    progress.end()

    # quantize.main's Omni path from here on, with the model handed over in memory. Its folder holds what a
    # checkpoint folder holds but the weights (llm-compressor reads the config from it).
    source = Path(args.out + "-source")
    config.save_pretrained(source)
    tokenizer.save_pretrained(source)
    progress.begin("linearize")
    if args.talker_on_cpu:  # an 80 GB card: the talker and code2wav (6.6 GiB) wait on the host
        model.talker.to("cpu")
        model.code2wav.to("cpu")
        torch.cuda.empty_cache()
    linearize_one_at_a_time(model)
    original = Qwen3OmniMoeForConditionalGeneration.from_pretrained
    Qwen3OmniMoeForConditionalGeneration.from_pretrained = classmethod(lambda cls, *a, **k: model)  # type: ignore[method-assign]
    try:
        with torch.device(device):  # the linearized experts are made where the model is
            model, thinker = quantize._load_omni(str(source))
    finally:
        Qwen3OmniMoeForConditionalGeneration.from_pretrained = original  # type: ignore[method-assign]
    figures["linearize_seconds"] = round(time.perf_counter() - progress.stage_started, 1)
    log(f"experts linearized in {figures['linearize_seconds']} s")
    progress.end()

    samples = calibration_turns(tokenizer, config, (args.samples_text, args.samples_image, args.samples_audio), device)
    figures["calibration"] = {
        "text": args.samples_text,
        "image": args.samples_image,
        "audio": args.samples_audio,
        "tokens": [int(s["input_ids"].shape[1]) for s in samples],
    }
    out = Path(args.out)
    qconfig = quantize.QuantizeConfig(
        model_dir=str(source), output_dir=str(out), omni=True, num_samples=len(samples), max_seq_length=1024
    )
    hidden = model.config.get_text_config().hidden_size
    figures["group_size"] = quantize.pick_group_size(hidden, qconfig.group_size)

    from llmcompressor import oneshot
    from loguru import logger
    from torch.utils.data import DataLoader

    skipped: list[str] = []  # AWQ mappings llm-compressor gave up on (NaN/inf in the parent's output)
    logger.add(lambda m: skipped.append(m) if "Skipping smooth_layer" in m else None, level="WARNING")
    count_smoothing(progress)
    if device == "cuda":
        progress.gpu()
        torch.cuda.reset_peak_memory_stats()
    progress.begin("awq")
    recipe = quantize.recipe(qconfig, hidden)  # llm-compressor's AWQModifier shim: [AWQ, QuantizationModifier]
    if args.skip_awq:
        recipe = [m for m in recipe if type(m).__name__ != "AWQModifier"]
    figures["recipe"] = [type(m).__name__ for m in recipe]
    fix = quantize.smoothing_unquantized() if args.smooth_unquantized else contextlib.nullcontext()
    with quantize.cpu_without_pinned_memory(), fix:
        oneshot(
            model=thinker,
            processor=tokenizer,
            dataset=DataLoader(samples, batch_size=1, collate_fn=lambda batch: batch[0]),  # type: ignore[arg-type]
            recipe=recipe,
            max_seq_length=qconfig.max_seq_length,
            num_calibration_samples=len(samples),
            pipeline="basic",
        )
    figures["awq_seconds"] = round(time.perf_counter() - progress.stage_started, 1)
    text = config.thinker_config.text_config
    # qkv, o, experts' gate/up, each expert's up→down; llm-compressor drops v→o where the widths differ (GQA)
    figures["awq_mappings_in_recipe"] = text.num_hidden_layers * (3 + text.num_experts)
    figures["awq_progress"] = progress.awq_summary()
    figures["awq_mappings"] = figures["awq_progress"]["mappings"]
    figures["awq_skipped_smooth_layers"] = len(skipped)
    figures["awq_skipped_sample"] = [m.split(",")[0][-90:] for m in skipped[:3]]
    figures["awq_peak_gpu_gib"] = round(torch.cuda.max_memory_allocated() / GIB, 2) if device == "cuda" else None
    log(f"AWQ done in {figures['awq_seconds']} s, peak GPU {figures['awq_peak_gpu_gib']} GiB")
    progress.end()

    progress.begin("save")
    from llmcompressor.transformers.compression.compressed_tensors_utils import modify_save_pretrained

    out.mkdir(parents=True, exist_ok=True)
    modify_save_pretrained(model)
    model.save_pretrained(out, save_compressed=True)
    tokenizer.save_pretrained(out)
    figures["save_seconds"] = round(time.perf_counter() - progress.stage_started, 1)
    figures["output_gib"] = round(sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / GIB, 2)
    saved = json.loads((out / "config.json").read_text()).get("quantization_config", {})
    figures["format"] = saved.get("format")
    figures["ignore"] = saved.get("ignore", [])[:12]
    figures["ignore_count"] = len(saved.get("ignore", []))
    figures["layout"] = layout(out)
    figures["peak_gpu_gib"] = round(torch.cuda.max_memory_allocated() / GIB, 2) if device == "cuda" else None
    figures["peak_host_gib"] = host_peak_gib()
    log(f"saved {figures['output_gib']} GiB in {figures['save_seconds']} s")
    progress.end()

    if not args.no_reload:
        progress.begin("reload")
        sample = {k: v for k, v in samples[0].items()}
        del model, thinker
        gc.collect()
        if device == "cuda":
            torch.cuda.empty_cache()
        placement: Any = {"thinker": 0, "talker": "cpu", "code2wav": "cpu"} if args.talker_on_cpu else device
        figures["reload"] = reload(out, placement, sample)
        log(f"reload: {figures['reload']}")
        progress.end()


if __name__ == "__main__":
    raise SystemExit(main())
