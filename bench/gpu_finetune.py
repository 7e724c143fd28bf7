"""LoRA vs QLoRA (and AWQ) on a GPU, for a Qwen3-architecture model built from a config at a realistic size.

No hub on the GPU machine: the model is random-initialised from a Qwen3 config (the sizes of Qwen3-8B by
default; the vocabulary is SmolLM2's, whose tokenizer travels with the run), saved in bf16, then trained
with training.finetune exactly as a retraining run trains: LoRA r=16 on all linear layers, loss on the
answer, gradient checkpointing; QLoRA loads the base in 4-bit NF4 (bitsandbytes). Random weights train as
fast as real ones, so memory and tokens/s are real figures; the losses mean nothing.

    python bench/gpu_finetune.py --tokenizer DIR [--size 8b] [--steps 12] [--seq 2048] [--batch 1,4]
    python bench/gpu_finetune.py --tokenizer DIR --awq-size 1.7b      # AWQ W4A16 with llm-compressor

Prints one JSON line per configuration.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# Qwen3 dense sizes (config.json of the published models), with SmolLM2's vocabulary.
SIZES = {
    "0.6b": {"hidden_size": 1024, "intermediate_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16},
    "1.7b": {"hidden_size": 2048, "intermediate_size": 6144, "num_hidden_layers": 28, "num_attention_heads": 16},
    "4b": {"hidden_size": 2560, "intermediate_size": 9728, "num_hidden_layers": 36, "num_attention_heads": 32},
    "8b": {"hidden_size": 4096, "intermediate_size": 12288, "num_hidden_layers": 36, "num_attention_heads": 32},
}


def build(size: str, tokenizer_dir: str, folder: Path) -> float:
    """A random-initialised Qwen3 model of that size in bf16, saved with the tokenizer; returns its GiB."""
    import torch
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = Qwen3Config(
        **SIZES[size],
        num_key_value_heads=8,
        head_dim=128,
        vocab_size=len(tokenizer),
        max_position_embeddings=32768,
        tie_word_embeddings=False,
        dtype="bfloat16",
    )
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = Qwen3ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    gib = sum(p.numel() * p.element_size() for p in model.parameters()) / 2**30
    del model
    torch.cuda.empty_cache()
    return round(gib, 2)


def conversations(path: Path, count: int, words: int) -> None:
    """Long shop conversations (about `words` words each), so each example fills the sequence length."""
    rng = random.Random(0)
    facts = ["Order A1023 shipped with SF Express.", "Refunds take 3-5 business days.", "订单已发货。", "可以报销。"]
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            context = " ".join(rng.choice(facts) for _ in range(words // 5))
            row = {
                "messages": [
                    {"role": "system", "content": f"Facts: {context}"},
                    {"role": "user", "content": f"Where is my order A{1000 + i}?"},
                    {"role": "assistant", "content": "Your order has shipped; the tracking number is SF1234567890."},
                ]
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def finetune_runs(args: argparse.Namespace, base: Path, work: Path) -> None:
    import torch

    from training.finetune import FinetuneConfig
    from training.finetune import main as finetune

    data = work / "train.jsonl"
    conversations(data, 64, args.seq // 2)
    for mode in args.modes.split(","):
        for batch in (int(b) for b in args.batch.split(",")):
            torch.cuda.empty_cache()
            config = FinetuneConfig(
                base_model=str(base),
                train_file=str(data),
                output_dir=str(work / f"{mode}-{batch}"),
                lora_r=16,
                lora_alpha=32,
                max_steps=args.steps,
                batch_size=batch,
                max_length=args.seq,
                gradient_checkpointing=True,
                qlora=mode == "qlora",
                merge=False,
            )
            try:
                metrics = finetune(config)
            except torch.OutOfMemoryError:
                print(json.dumps({"mode": mode, "batch": batch, "error": "out of GPU memory"}), flush=True)
                continue
            print(
                json.dumps(
                    {
                        "mode": mode,
                        "size": args.size,
                        "batch": batch,
                        "seq": args.seq,
                        "steps": args.steps,
                        "train_tokens_per_s": metrics["train_tokens_per_s"],
                        "peak_train_gib": metrics["peak_train_gib"],
                        "seconds_per_step": round(metrics["train_seconds"] / args.steps, 2),
                    }
                ),
                flush=True,
            )


def awq_run(args: argparse.Namespace, work: Path) -> None:
    import torch

    from training.quantize import QuantizeConfig
    from training.quantize import main as quantize

    base = work / f"qwen3-{args.awq_size}"
    gib = build(args.awq_size, args.tokenizer, base)
    data = work / "calibration.jsonl"
    conversations(data, args.awq_samples, 200)
    torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    figures = quantize(
        QuantizeConfig(
            model_dir=str(base),
            output_dir=str(work / "awq"),
            calibration_file=str(data),
            num_samples=args.awq_samples,
            max_seq_length=512,
        )
    )
    print(
        json.dumps(
            {
                "awq_size": args.awq_size,
                "bf16_gib": gib,
                "awq_gib": round(figures["bytes"] / 2**30, 2),
                "seconds": round(time.perf_counter() - started, 1),
                "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
                "calibration_samples": figures["calibration_samples"],
                "group_size": figures["group_size"],
                "format": figures["format"],
            }
        ),
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenizer", required=True, help="a tokenizer folder (SmolLM2's)")
    parser.add_argument("--size", default="8b", choices=sorted(SIZES))
    parser.add_argument("--modes", default="lora,qlora")
    parser.add_argument("--batch", default="1,4")
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--awq-size", default="", choices=["", *sorted(SIZES)], help="run AWQ instead of training")
    parser.add_argument("--awq-samples", type=int, default=64)
    args = parser.parse_args()

    import torch

    print(json.dumps({"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__}), flush=True)
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        work = Path(tmp)
        if args.awq_size:
            awq_run(args, work)
            return 0
        base = work / f"qwen3-{args.size}"
        gib = build(args.size, args.tokenizer, base)
        print(json.dumps({"built": args.size, "bf16_gib": gib}), flush=True)
        finetune_runs(args, base, work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
