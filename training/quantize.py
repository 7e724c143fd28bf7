"""AWQ W4A16 with llm-compressor: the merged model → compressed-tensors, the format vLLM loads.

python -m training.quantize MERGED_DIR OUT_DIR [--samples N] [--data train.jsonl]

The same code serves the embedded SmolLM2 (on the CPU) and Qwen3-Omni (on a GPU; its thinker only,
with the mapping below, which llm-compressor doesn't ship).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from training.finetune import read_jsonl

# Never quantized: the output head, the MoE routers (tiny, and routing is sensitive to error), the vision
# and audio towers, and the speech-generating talker / code2wav of an Omni model.
DEFAULT_IGNORE = ["lm_head", "re:.*lm_head$", "re:.*mlp\\.gate$", "re:.*shared_expert_gate$"]
OMNI_IGNORE = [
    "re:.*visual.*",
    "re:.*audio_tower.*",
    "re:^talker.*",
    "re:^code2wav.*",
    "re:.*mlp\\.gate$",
    "re:.*lm_head$",
]
# Qwen3-Omni-MoE's thinker: the Qwen3-MoE decoder under thinker.model. The patterns are anchored there, so
# the talker's decoder (same layer names) and the towers are never touched. Experts are linearized first
# (llm-compressor's linearize_moe), which gives experts.<i>.{gate,up,down}_proj.
_THINKER = r"^(?:thinker\.)?model\.layers\.\d+\."
OMNI_THINKER_MAPPINGS = [
    (f"re:{_THINKER}input_layernorm$", [f"re:{_THINKER}self_attn\\.{p}_proj$" for p in ("q", "k", "v")]),
    (f"re:{_THINKER}self_attn\\.v_proj$", [f"re:{_THINKER}self_attn\\.o_proj$"]),
    (
        f"re:{_THINKER}post_attention_layernorm$",
        [f"re:{_THINKER}mlp\\.experts\\.\\d+\\.gate_proj$", f"re:{_THINKER}mlp\\.experts\\.\\d+\\.up_proj$"],
    ),
    (f"re:{_THINKER}mlp\\.experts\\.\\d+\\.up_proj$", [f"re:{_THINKER}mlp\\.experts\\.\\d+\\.down_proj$"]),
]


@dataclass
class QuantizeConfig:
    model_dir: str  # the merged model (Hugging Face folder)
    output_dir: str
    calibration_file: str = ""  # ms-swift JSONL (the run's training set); empty: a built-in sample
    num_samples: int = 32
    max_seq_length: int = 256
    # Scales tried per mapping in AWQ's grid search (llm-compressor's default is 20); the search is most of
    # the stage's time on the CPU (docs/retraining.md has what fewer cost in quality).
    n_grid: int = 20
    group_size: int = 0  # 0: the largest of 128/64/32 that divides the hidden size (SmolLM2's 576 needs 64)
    ignore: list[str] = field(default_factory=lambda: list(DEFAULT_IGNORE))
    omni: bool = False  # Qwen3-Omni: thinker mappings, towers and talker ignored
    # llm-compressor's calibration pipeline; empty: its default (sequential). Omni uses "basic": in
    # llm-compressor 0.14 with transformers 5.17 the tracer finds one subgraph in the thinker instead of
    # one per decoder layer, and AWQ then smooths nothing.
    pipeline: str = ""
    seed: int = 0


def pick_group_size(hidden_size: int, wanted: int = 0) -> int:
    """A W4 group size that divides the hidden size (llm-compressor fails otherwise)."""
    if wanted:
        if hidden_size % wanted:
            raise ValueError(f"group size {wanted} does not divide the hidden size {hidden_size}")
        return wanted
    for size in (128, 64, 32):
        if hidden_size % size == 0:
            return size
    raise ValueError(f"no group size of 128, 64 or 32 divides the hidden size {hidden_size}")


@contextlib.contextmanager
def cpu_without_pinned_memory() -> Iterator[None]:
    """Let llm-compressor's AWQ run without an accelerator.

    Its smoothing step pins each cached batch (`IntermediatesCache.pin_memory`) to speed up host→GPU
    copies; pinning needs an accelerator and fails on a CPU-only machine ("Cannot access accelerator
    device when none is available"). With no accelerator there is nothing to copy to, so for the
    duration of the call that one method does nothing. With an accelerator nothing is changed.
    """
    import torch
    from llmcompressor.pipelines.cache import IntermediatesCache

    if torch.accelerator.is_available():
        yield
        return
    original = IntermediatesCache.pin_memory
    IntermediatesCache.pin_memory = lambda self, batch_index, input_names=None: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        IntermediatesCache.pin_memory = original  # type: ignore[method-assign]


@contextlib.contextmanager
def smoothing_unquantized() -> Iterator[None]:
    """Run AWQ's grid search with quantization disabled in llm-compressor's "basic" pipeline.

    The sequential pipeline ends each subgraph (`sequential_epoch_end`, where AWQ's grid search runs) inside
    `DisableQuantization`; the basic pipeline (the Omni path's) calls it after leaving that context, so the
    parent module's "unquantized" outputs go through weight quantizers whose scales are not computed yet,
    come out NaN/inf, and AWQ skips the mapping ("Skipping smooth_layer …, NaN or inf"): the checkpoint is
    then round-to-nearest W4, not AWQ (llm-compressor 0.14.0.1; found on the full-size Omni run,
    docs/retraining.md). With this on, the grid search runs as the sequential pipeline runs it.

    It also enters llm-compressor's calibration context (no grad, no KV cache, eval mode, lm_head off) once
    for the whole smoothing: AWQ enters it again for every mapping, and each entry switches every module of
    the model to eval and back. The 30B thinker has about 25,000 modules once its experts are linearized,
    and 6,240 mappings: that per-mapping walk was most of the ≈ 330 ms each mapping took on an H100, of
    which the grid search itself was ≈ 70 ms (docs/retraining.md). Inside the one context nothing changes
    for a mapping: the model is in the same state the per-mapping context would have put it in.
    """
    import llmcompressor.modifiers.transform.awq.base as awq
    import llmcompressor.pipelines.basic.pipeline as basic
    from llmcompressor.core import active_session
    from llmcompressor.utils.helpers import DisableQuantization, calibration_forward_context

    callbacks = basic.LifecycleCallbacks
    per_mapping = awq.calibration_forward_context

    class Unquantized(callbacks):  # type: ignore[misc, valid-type]
        @classmethod
        def sequential_epoch_end(cls, *args: Any, **kwargs: Any) -> Any:
            model = active_session().state.model
            with DisableQuantization(model), calibration_forward_context(model):
                awq.calibration_forward_context = lambda _model: contextlib.nullcontext()
                try:
                    return callbacks.sequential_epoch_end(*args, **kwargs)
                finally:
                    awq.calibration_forward_context = per_mapping

    basic.LifecycleCallbacks = Unquantized
    try:
        yield
    finally:
        basic.LifecycleCallbacks = callbacks


@contextlib.contextmanager
def skipped_smoothing() -> Iterator[list[str]]:
    """The AWQ mappings llm-compressor gives up on while the block runs (its "Skipping smooth_layer" warnings)."""
    from loguru import logger

    skipped: list[str] = []
    sink = logger.add(lambda m: skipped.append(str(m)) if "Skipping smooth_layer" in str(m) else None, level="WARNING")
    try:
        yield skipped
    finally:
        logger.remove(sink)


_FALLBACK_CALIBRATION = [
    [{"role": "user", "content": "Where is my order A1023?"}, {"role": "assistant", "content": "It has shipped."}],
    [{"role": "user", "content": "我的订单发货了吗？"}, {"role": "assistant", "content": "您的订单已发货。"}],
    [{"role": "user", "content": "How long does a refund take?"}, {"role": "assistant", "content": "3-5 days."}],
    [{"role": "user", "content": "Can I get an invoice?"}, {"role": "assistant", "content": "Yes, by email."}],
]


def calibration_texts(tokenizer: Any, config: QuantizeConfig) -> list[str]:
    """Chat-formatted conversations from the run's own training set (what the model will see in use)."""
    rows = [r["messages"] for r in read_jsonl(config.calibration_file) if r.get("messages")]
    rows = rows or _FALLBACK_CALIBRATION
    rows = (rows * (config.num_samples // len(rows) + 1))[: config.num_samples]
    texts = []
    for messages in rows:
        plain = [
            {"role": m["role"], "content": str(m["content"]).replace("<image>", "").replace("<audio>", "")}
            for m in messages
        ]
        texts.append(tokenizer.apply_chat_template(plain, tokenize=False))
    return texts


def recipe(config: QuantizeConfig, hidden_size: int) -> Any:
    from llmcompressor.modifiers.awq import AWQMapping, AWQModifier

    group = pick_group_size(hidden_size, config.group_size)
    scheme = {
        "targets": ["Linear"],
        "weights": {
            "num_bits": 4,
            "type": "int",
            "symmetric": True,
            "strategy": "group",
            "group_size": group,
        },
    }
    kwargs: dict[str, Any] = {
        "config_groups": {"group_0": scheme},
        "ignore": list(config.ignore),
        "n_grid": config.n_grid,
    }
    if config.omni:
        kwargs["ignore"] = sorted(set(kwargs["ignore"]) | set(OMNI_IGNORE))
        kwargs["mappings"] = [AWQMapping(smooth, balance) for smooth, balance in OMNI_THINKER_MAPPINGS]
    return AWQModifier(**kwargs)


def _load_omni(model_dir: str) -> tuple[Any, Any]:
    """A Qwen3-Omni model with its experts as separate Linear layers, and its thinker (what gets quantized)."""
    from llmcompressor.modeling.moe.linearize import linearize_moe
    from transformers import Qwen3OmniMoeForConditionalGeneration

    model = Qwen3OmniMoeForConditionalGeneration.from_pretrained(model_dir, dtype="auto")
    linearize_moe(model)  # fused 3-D expert weights → experts.<i>.{gate,up,down}_proj, the names vLLM loads
    thinker = model.thinker
    thinker.config.name_or_path = model_dir  # oneshot reads the checkpoint's config from here
    for name in ("vision_start_token_id", "position_id_per_seconds"):
        # The thinker's text-only forward reads these; in transformers 5.17 only the talker config has them.
        if not hasattr(thinker.config, name) and hasattr(model.config.talker_config, name):
            setattr(thinker.config, name, getattr(model.config.talker_config, name))
    return model, thinker


def main(config: QuantizeConfig, progress: Any = None) -> dict[str, Any]:
    """Quantize config.model_dir into config.output_dir; returns figures (seconds, size, group size)."""
    import torch
    from datasets import Dataset
    from llmcompressor import oneshot
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    torch.manual_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(config.model_dir)
    if config.omni:
        model, target = _load_omni(config.model_dir)
    else:
        model = target = AutoModelForCausalLM.from_pretrained(config.model_dir, dtype="auto")
    hidden = model.config.get_text_config().hidden_size
    texts = calibration_texts(tokenizer, config)
    data = Dataset.from_dict({"text": texts}).map(
        lambda row: tokenizer(row["text"], max_length=config.max_seq_length, truncation=True, add_special_tokens=False),
        remove_columns=["text"],
    )
    if progress:
        progress(f"AWQ W4A16 on {len(texts)} calibration conversations")
    pipeline = (config.pipeline or "basic") if config.omni else config.pipeline
    unquantized = smoothing_unquantized() if pipeline == "basic" else contextlib.nullcontext()
    with cpu_without_pinned_memory(), unquantized, skipped_smoothing() as skipped:
        oneshot(
            model=target,
            processor=tokenizer,
            dataset=data,
            recipe=recipe(config, hidden),
            max_seq_length=config.max_seq_length,
            num_calibration_samples=len(texts),
            **({"pipeline": pipeline} if pipeline else {}),
        )
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if target is not model:
        # oneshot gave only the thinker a compressing save_pretrained; the whole Omni model needs one, so
        # the checkpoint keeps the towers and the talker beside the packed thinker (what vLLM loads).
        from llmcompressor.transformers.compression.compressed_tensors_utils import modify_save_pretrained

        modify_save_pretrained(model)
    model.save_pretrained(out, save_compressed=True)
    tokenizer.save_pretrained(out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    figures = {
        "seconds": round(time.perf_counter() - started, 1),
        "bytes": size,
        "group_size": pick_group_size(hidden, config.group_size),
        "calibration_samples": len(texts),
        "grid": config.n_grid,
        "awq_skipped_mappings": len(skipped),  # smoothed as round-to-nearest instead (NaN/inf in the search)
        "format": json.loads((out / "config.json").read_text()).get("quantization_config", {}).get("format"),
    }
    (out / "shopdesk-quantize.json").write_text(json.dumps({"config": asdict(config), **figures}, indent=2))
    return figures


def onnx_int4(model_dir: str | Path, source_dir: str | Path | None = None) -> dict[str, Any]:
    """The local backend's int4 engine model: source_dir's weights (default model_dir's) converted by ONNX
    Runtime GenAI's model builder into model_dir/onnx-int4, where LocalChatModel finds it."""
    from app.llm import onnx_engine

    started = time.perf_counter()
    folder = onnx_engine.convert(Path(model_dir), Path(source_dir) if source_dir else None)
    return {
        "path": str(folder),
        "seconds": round(time.perf_counter() - started, 1),
        "bytes": sum(p.stat().st_size for p in folder.iterdir() if p.is_file()),
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir")
    parser.add_argument("output_dir")
    parser.add_argument("--data", default="", help="calibration JSONL (ms-swift messages)")
    parser.add_argument("--samples", type=int, default=32)
    parser.add_argument("--max-seq-length", type=int, default=256)
    parser.add_argument("--grid", type=int, default=20, help="scales tried per mapping in the grid search")
    parser.add_argument("--group-size", type=int, default=0)
    parser.add_argument("--omni", action="store_true", help="Qwen3-Omni: quantize the thinker only")
    args = parser.parse_args()
    result = main(
        QuantizeConfig(
            model_dir=args.model_dir,
            output_dir=args.output_dir,
            calibration_file=args.data,
            num_samples=args.samples,
            max_seq_length=args.max_seq_length,
            n_grid=args.grid,
            group_size=args.group_size,
            omni=args.omni,
        ),
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(json.dumps(result, indent=2))
