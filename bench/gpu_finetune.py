"""LoRA vs QLoRA (and DPO, and AWQ) on a GPU, for a Qwen3-architecture model built from a config at a realistic size.

No hub on the GPU machine: the model is random-initialised from a Qwen3 config (the sizes of Qwen3-8B by
default; the vocabulary is SmolLM2's, whose tokenizer travels with the run), saved in bf16, then trained
with training.finetune exactly as a retraining run trains: LoRA r=16 on all linear layers, loss on the
answer; QLoRA loads the base in 4-bit NF4 (bitsandbytes). Random weights train as fast as real ones, so
memory and tokens/s are real figures; the losses mean nothing.

    python bench/gpu_finetune.py --tokenizer DIR [--size 8b] [--steps 12] [--seq 2048] [--runs SPEC,...]
                                 [--results FILE] [--budget SECONDS]
    python bench/gpu_finetune.py --tokenizer DIR --awq-size 1.7b      # AWQ W4A16 with llm-compressor

A run is MODE-BATCH[-FLAG...], MODE lora or qlora; flags: gc (gradient checkpointing), d0 (LoRA dropout 0
instead of 0.05), pack (packing: examples end to end in rows of --seq tokens), mixed (shop-like examples of
150-1,500 tokens instead of ones that fill the sequence). Tokens/s count real tokens only (no padding) and
come from the median step after two warm-up steps; MFU is 6·N·tokens/s over the dense bf16 peak (989
TFLOP/s, the H100/H200 SXM datasheet) and over the bf16 matrix rate measured in the same call (8192³
products), N all the base model's parameters. LoRA's backward computes no weight gradients for the frozen
base, so 6N overstates its work: `executed_tflops` counts what runs (forward 2N, input gradients 2N, the
recomputed forward 2N under gc, attention on top). The run dpo-B times training/dpo.py's step (B pairs of
--seq/2-token sequences: the policy's forward and backward over chosen and rejected, the reference's
forward with the adapter disabled). Prints one JSON line per configuration.
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
    "tiny": {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 8,
    },  # CPU check
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
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
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


def mixed_conversations(path: Path, count: int, low: int, high: int) -> None:
    """Shop conversations of varied length (≈ low..high tokens), as a real training set has them."""
    rng = random.Random(1)
    facts = ["Order A1023 shipped with SF Express.", "Refunds take 3-5 business days.", "订单已发货。", "可以报销。"]
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            words = rng.randint(low, high) // 2  # about two tokens a word here
            context = " ".join(rng.choice(facts) for _ in range(max(1, words // 5)))
            row = {
                "messages": [
                    {"role": "system", "content": f"Facts: {context}"},
                    {"role": "user", "content": f"Where is my order A{1000 + i}?"},
                    {"role": "assistant", "content": "Your order has shipped; the tracking number is SF1234567890."},
                ]
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


PEAK_BF16 = 989e12  # dense bf16, H100/H200 SXM datasheet


def matmul_rate() -> float:
    """bf16 8192³ products on random data, median of 20 after warm-up (FLOP/s)."""
    import torch

    if not torch.cuda.is_available():
        return float("nan")
    a, b = (torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16) for _ in range(2))
    for _ in range(5):
        a @ b
    times = []
    for _ in range(20):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        a @ b
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1000)
    del a, b
    torch.cuda.empty_cache()
    return 2 * 8192**3 / sorted(times)[len(times) // 2]


class StepClock:
    """Times steps through the progress callback (called after each step's loss is read, so synchronised)."""

    def __init__(self) -> None:
        self.marks = [time.perf_counter()]

    def __call__(self, info: dict) -> None:  # type: ignore[type-arg]
        self.marks.append(time.perf_counter())

    def median_step(self, warmup: int = 2) -> float:
        steps = [b - a for a, b in zip(self.marks, self.marks[1:], strict=False)][warmup:]
        return sorted(steps)[len(steps) // 2] if steps else float("nan")


def model_shape(base: Path) -> dict[str, float]:
    config = json.loads((base / "config.json").read_text())
    h, layers, inter, vocab = (
        config[k] for k in ("hidden_size", "num_hidden_layers", "intermediate_size", "vocab_size")
    )
    heads, kv, head_dim = config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"]
    linear = layers * (h * heads * head_dim * 2 + 2 * h * kv * head_dim + 3 * h * inter)
    params = linear + 2 * vocab * h + layers * (2 * h + 2 * head_dim) + h
    return {"params": params, "linear": linear + vocab * h, "attn_width": heads * head_dim, "layers": layers}


def flops_figures(shape: dict[str, float], tokens_per_s: float, gc: bool, mean_context: float, rate: float) -> dict:  # type: ignore[type-arg]
    six_n = 6 * shape["params"] * tokens_per_s
    attn_fwd = 2 * 2 * mean_context * shape["attn_width"] * shape["layers"]  # QK and PV per token, causal
    per_token = (6 if gc else 4) * shape["linear"] + attn_fwd * (4 if gc else 3)
    return {
        "tflops_6n": round(six_n / 1e12, 1),
        "mfu_6n_vs_989": round(six_n / PEAK_BF16, 3),
        "mfu_6n_vs_measured": round(six_n / rate, 3),
        "executed_tflops": round(per_token * tokens_per_s / 1e12, 1),
        "executed_vs_989": round(per_token * tokens_per_s / PEAK_BF16, 3),
    }


def finetune_runs(args: argparse.Namespace, base: Path, work: Path) -> None:
    import torch

    from training.finetune import FinetuneConfig
    from training.finetune import main as finetune

    data = {"long": work / "train-long.jsonl", "mixed": work / "train-mixed.jsonl"}
    conversations(data["long"], 64, args.seq // 2)
    mixed_conversations(data["mixed"], 256, 150, 1500)
    shape = model_shape(base)
    for spec in args.runs.split(","):
        if time.perf_counter() - STARTED > args.budget:
            emit(args, {"run": spec, "skipped": f"over the {args.budget} s budget of this call"})
            continue
        mode, batch, *flags = spec.split("-")
        if mode == "dpo":
            dpo_run(args, base, work, int(batch))
            continue
        gc, packing, kind = "gc" in flags, "pack" in flags, "mixed" if "mixed" in flags else "long"
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        clock = StepClock()
        config = FinetuneConfig(
            base_model=str(base),
            train_file=str(data[kind]),
            output_dir=str(work / spec),
            lora_r=16,
            lora_alpha=32,
            lora_dropout=0.0 if "d0" in flags else 0.05,
            max_steps=args.steps,
            batch_size=int(batch),
            max_length=args.seq,
            gradient_checkpointing=gc,
            packing=packing,
            qlora=mode == "qlora",
            merge=False,
        )
        row: dict = {"run": spec, "mode": mode, "size": args.size, "batch": int(batch), "seq": args.seq}  # type: ignore[type-arg]
        row.update(gradient_checkpointing=gc, packing=packing, lora_dropout=config.lora_dropout, data=kind)
        try:
            metrics = finetune(config, clock)
        except torch.OutOfMemoryError:
            emit(args, {**row, "error": "out of GPU memory"})
            continue
        except Exception as error:  # noqa: BLE001 - one failed configuration must not end the call
            emit(args, {**row, "error": f"{type(error).__name__}: {str(error)[:300]}"})
            continue
        tokens_per_step = metrics["train_tokens_per_s"] * metrics["train_seconds"] / args.steps
        step = clock.median_step()
        tokens_per_s = tokens_per_step / step
        # Mean attention context per token: half the example's length (causal), the row's when packed or long.
        mean_context = (args.seq if kind == "long" else 825) / 2
        row.update(
            tokens_per_step=round(tokens_per_step),
            seconds_per_step=round(step, 3),
            train_tokens_per_s=round(tokens_per_s, 1),
            train_tokens_per_s_all_steps=metrics["train_tokens_per_s"],
            peak_train_gib=metrics.get("peak_train_gib"),
            **({} if mode == "qlora" else flops_figures(shape, tokens_per_s, gc, mean_context, args.rate)),
        )
        emit(args, row)


def dpo_run(args: argparse.Namespace, base: Path, work: Path, pairs_per_step: int) -> None:
    import torch

    try:
        from training.dpo import DpoConfig
        from training.dpo import main as dpo
    except ImportError as error:
        emit(args, {"dpo": "skipped", "error": str(error)})
        return
    rng = random.Random(2)
    facts = ["Order A1023 shipped with SF Express.", "Refunds take 3-5 business days.", "订单已发货。", "可以报销。"]
    pairs = work / "pairs.jsonl"
    count = pairs_per_step * (args.steps + 1)  # every step draws new pairs, so every step runs the reference too
    with pairs.open("w", encoding="utf-8") as out:
        for i in range(count):
            context = " ".join(rng.choice(facts) for _ in range(args.seq // 2 // 12))
            row = {
                "messages": [
                    {"role": "system", "content": f"Facts: {context}"},
                    {"role": "user", "content": f"Where is my order A{1000 + i}?"},
                ],
                "chosen": "Your order has shipped with SF Express; the tracking number is SF1234567890.",
                "rejected": "I don't know; please ask somewhere else.",
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    clock = StepClock()
    config = DpoConfig(
        model_dir=str(base),
        preferences_file=str(pairs),
        output_dir=str(work / "dpo"),
        lora_r=16,
        lora_alpha=32,
        max_steps=args.steps,
        batch_size=pairs_per_step,
        max_length=args.seq // 2,
        merge=False,
    )
    row: dict = {"run": f"dpo-{pairs_per_step}", "mode": "dpo", "size": args.size, "pairs_per_step": pairs_per_step}  # type: ignore[type-arg]
    try:
        metrics = dpo(config, clock)
    except Exception as error:  # noqa: BLE001
        emit(args, {**row, "error": f"{type(error).__name__}: {str(error)[:300]}"})
        return
    step = clock.median_step()
    from transformers import AutoTokenizer

    from training.dpo import encode_pair

    tokenizer = AutoTokenizer.from_pretrained(base)
    first = json.loads(pairs.read_text(encoding="utf-8").splitlines()[0])
    chosen, rejected = encode_pair(tokenizer, first, config.max_length)
    tokens = pairs_per_step * (len(chosen[0]) + len(rejected[0]))  # per step: the policy reads these, the reference too
    shape = model_shape(base)
    # The policy's forward + input gradients (4N) and the reference's forward (2N) per token.
    executed = (6 * shape["linear"]) * tokens / step
    row.update(
        sequence_tokens=[len(chosen[0]), len(rejected[0])],
        seconds_per_step=round(step, 3),
        pairs_per_s=round(pairs_per_step / step, 2),
        policy_tokens_per_s=round(tokens / step, 1),
        executed_tflops=round(executed / 1e12, 1),
        executed_vs_989=round(executed / PEAK_BF16, 3),
        peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2) if torch.cuda.is_available() else None,
        train_seconds=metrics["train_seconds"],
    )
    emit(args, row)


STARTED = time.perf_counter()


def emit(args: argparse.Namespace, row: dict) -> None:  # type: ignore[type-arg]
    line = json.dumps(row, ensure_ascii=False)
    print(line, flush=True)
    if args.results:
        with open(args.results, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


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
    parser.add_argument("--runs", default="lora-1-gc,lora-4-gc,qlora-1-gc,qlora-4-gc")
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--results", default="", help="append each JSON line to this file too")
    parser.add_argument("--budget", type=float, default=1e9, help="start no configuration after this many seconds")
    parser.add_argument("--awq-size", default="", choices=["", *sorted(SIZES)], help="run AWQ instead of training")
    parser.add_argument("--awq-samples", type=int, default=64)
    args = parser.parse_args()

    import peft
    import torch
    import transformers

    args.rate = matmul_rate()
    head = {
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }
    head.update(peft=peft.__version__, matmul_bf16_tflops=round(args.rate / 1e12, 1))
    try:
        import bitsandbytes

        head["bitsandbytes"] = bitsandbytes.__version__
    except Exception:  # noqa: BLE001
        pass
    emit(args, head)
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        work = Path(tmp)
        if args.awq_size:
            awq_run(args, work)
            return 0
        base = work / f"qwen3-{args.size}"
        gib = build(args.size, args.tokenizer, base)
        emit(args, {"built": args.size, "bf16_gib": gib, "parameters": model_shape(base)["params"]})
        finetune_runs(args, base, work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
