"""LoRA SFT with peft + transformers: loss on the assistant's tokens only; CPU for SmolLM2, CUDA where there is one.

python -m training.finetune training/configs/smollm2-cpu.yaml
"""

from __future__ import annotations

import functools
import json
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from app.llm import prompts


@dataclass
class FinetuneConfig:
    base_model: str  # a Hugging Face model folder
    train_file: str
    output_dir: str
    eval_file: str = ""
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    target_modules: str = "all-linear"
    learning_rate: float = 5e-4
    max_steps: int = 30
    batch_size: int = 4
    max_length: int = 512
    seed: int = 0
    gradient_checkpointing: bool = False  # on CUDA for large models
    # On a CPU with native bf16 (AVX512-BF16 or AMX): the forward and backward (and the eval loss) under bf16
    # autocast, the weights and the optimizer in fp32: 2.1x the steps/s on SmolLM2 (what it costs: see
    # docs/retraining.md). Ignored on CUDA, which trains in bf16 anyway, and on CPUs without it.
    cpu_bf16: bool = False
    packing: bool = False  # examples packed end to end into max_length rows (positions restart), no padding
    qlora: bool = False  # 4-bit base (bitsandbytes, CUDA only)
    merge: bool = True  # merge the adapter and save the merged model (benchmarks of the training alone skip it)

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> FinetuneConfig:
        import yaml

        data = yaml.safe_load(Path(path).read_text()) or {}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in {**data, **overrides}.items() if k in known})


class Cancelled(RuntimeError):
    """The run was cancelled between steps."""


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    if not path or not Path(path).exists():
        return []
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def encode(tokenizer: Any, messages: list[dict[str, str]], max_length: int) -> tuple[list[int], list[int]]:
    """Token ids and labels: -100 everywhere but the assistant's answer (and its end-of-turn token).

    The model reads text alone, so the row's media markers are dropped, as the turn sends such a model its
    prompt: the prompt's ids are the ones the local backend generates from.
    """
    messages = prompts.without_markers(messages)
    prompt_ids = list(
        tokenizer.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=True, return_dict=True)[
            "input_ids"
        ]
    )
    ids = list(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"])
    labels = [-100] * len(prompt_ids) + ids[len(prompt_ids) :]
    if len(ids) > max_length:  # keep the answer: cut the prompt from the left
        ids, labels = ids[-max_length:], labels[-max_length:]
    return ids, labels


def stack(rows: list[tuple[list[int], list[int]]], pad: int, device: Any = None) -> tuple[Any, Any, Any]:
    """Encoded examples as one right-padded batch: ids, labels (-100 on the padding) and the attention mask."""
    import torch

    width = max(len(ids) for ids, _ in rows)
    input_ids = torch.full((len(rows), width), pad)
    labels = torch.full((len(rows), width), -100)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for row, (ids, labs) in enumerate(rows):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, : len(labs)] = torch.tensor(labs)
        mask[row, : len(ids)] = 1
    return input_ids.to(device), labels.to(device), mask.to(device)


def _batches(encoded: list[tuple[list[int], list[int]]], size: int, pad_id: int, rng: random.Random):  # type: ignore[no-untyped-def]
    while True:
        order = list(range(len(encoded)))
        rng.shuffle(order)
        for start in range(0, len(order), size):
            yield stack([encoded[i] for i in order[start : start + size]], pad_id)


def _packed_batches(encoded: list[tuple[list[int], list[int]]], size: int, width: int, pad_id: int, rng: random.Random):  # type: ignore[no-untyped-def]
    """Rows of `width` tokens filled with whole examples, each starting again at position 0.

    The position ids mark where an example starts; with no attention mask transformers builds a causal mask
    per example from them, so examples in one row don't see each other. An example that does not fit what
    is left of a row opens the next; the rest of the row is padding (its own segment, no labels). Yields
    ids, labels, position ids and the number of real tokens.
    """
    import torch

    def stream():  # type: ignore[no-untyped-def]
        while True:
            order = list(range(len(encoded)))
            rng.shuffle(order)
            yield from (encoded[i] for i in order)

    examples = stream()
    pending: tuple[list[int], list[int]] | None = None
    while True:
        input_ids = torch.full((size, width), pad_id)
        labels = torch.full((size, width), -100)
        positions = torch.zeros((size, width), dtype=torch.long)
        real = 0
        for row in range(size):
            used = 0
            while used < width:
                ids, labs = pending or next(examples)
                pending = None
                if used + len(ids) > width:  # encode() cut every example to max_length, so it fits a new row
                    pending = (ids, labs)
                    break
                input_ids[row, used : used + len(ids)] = torch.tensor(ids)
                labels[row, used : used + len(ids)] = torch.tensor(labs)
                positions[row, used : used + len(ids)] = torch.arange(len(ids))
                used += len(ids)
            positions[row, used:] = torch.arange(width - used)
            real += used
        yield input_ids, labels, positions, real


def with_lora(model: Any, config: Any) -> Any:
    """The model with a new LoRA adapter of config's shape (lora_r, lora_alpha, lora_dropout, target_modules),
    in training mode: the fine-tune's and DPO's."""
    from peft import LoraConfig, get_peft_model

    adapter = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=config.target_modules,
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, adapter)
    model.train()
    return model


def optimizer_and_schedule(model: Any, learning_rate: float, max_steps: int) -> tuple[Any, Any]:
    """AdamW on the trainable parameters, with 3 warm-up steps and a cosine decay over max_steps."""
    import torch

    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=learning_rate)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / 3) * 0.5 * (1 + math.cos(math.pi * step / max_steps))
    )
    return optimizer, scheduler


def pad_id(tokenizer: Any) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def labelled_logits(model: Any, input_ids: Any, labels: Any, **inputs: Any) -> tuple[Any, Any, Any]:
    """The logits at the positions that predict a labelled token, those tokens, and the row of each.

    Only the answer is labelled (a tenth of a shop's example), so the output head (a product with the whole
    vocabulary) and the softmax over it are computed there alone instead of at every position: the same
    loss, a quarter off a CPU step on SmolLM2. A model whose decoder or head can't be had apart, that caps its
    logits, or that does work in hooks on its own forward (compressed-tensors decompresses its weights there)
    goes through its own forward.
    """
    targets = labels[:, 1:]
    where = targets != -100
    decoder, head = model.get_decoder(), model.get_output_embeddings()
    top = model.get_base_model() if hasattr(model, "get_base_model") else model  # under a peft adapter
    hooked = bool(top._forward_pre_hooks or top._forward_hooks)
    if decoder is None or head is None or hooked or getattr(top.config, "final_logit_softcapping", None):
        logits = model(input_ids=input_ids, **inputs).logits[:, :-1][where]
    else:
        logits = head(decoder(input_ids=input_ids, **inputs).last_hidden_state[:, :-1][where])
    return logits, targets[where], where.nonzero()[:, 0]


def token_losses(model: Any, input_ids: Any, labels: Any, **inputs: Any) -> tuple[Any, Any]:
    """The cross-entropy of each labelled token (computed at those positions alone) and the row of each."""
    import torch

    logits, targets, rows = labelled_logits(model, input_ids, labels, **inputs)
    return torch.nn.functional.cross_entropy(logits.float(), targets, reduction="none"), rows


def per_row(values: Any, rows: Any, count: int) -> Any:
    """Per-token values summed by the row they belong to (count rows)."""
    import torch

    return torch.zeros(count, dtype=values.dtype, device=values.device).index_add(0, rows, values)


def labelled_loss(model: Any, input_ids: Any, labels: Any, **inputs: Any) -> Any:
    """The mean cross-entropy on the labelled tokens (what the model's own loss is, computed on those alone)."""
    return token_losses(model, input_ids, labels, **inputs)[0].mean()


def cpu_bf16_supported() -> bool:
    """Whether this CPU multiplies bf16 natively (AVX512-BF16 or AMX); elsewhere autocast would emulate it."""
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def eval_loss(
    model: Any, tokenizer: Any, rows: list[dict[str, Any]], max_length: int, batch_size: int = 8
) -> float | None:
    """Mean loss on the assistant tokens of the rows (each row's mean, averaged over the rows)."""
    import torch

    if not rows:
        return None
    device = next(model.parameters()).device
    encoded = [encode(tokenizer, row["messages"], max_length) for row in rows]
    losses: list[float] = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(encoded), batch_size):
            input_ids, labels, mask = stack(encoded[start : start + batch_size], pad_id(tokenizer), device)
            token, owner = token_losses(model, input_ids, labels, attention_mask=mask)
            count = len(input_ids)
            losses.extend((per_row(token, owner, count) / per_row(torch.ones_like(token), owner, count)).tolist())
    return round(sum(losses) / len(losses), 4)


def main(config: FinetuneConfig, progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Train a LoRA adapter, merge it into the base, save the merged model; return the metrics."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    torch.manual_seed(config.seed)
    cuda = torch.cuda.is_available()
    tokenizer = AutoTokenizer.from_pretrained(config.base_model)
    load: dict[str, Any] = {"dtype": torch.bfloat16 if cuda else torch.float32}
    if config.qlora and cuda:
        from transformers import BitsAndBytesConfig

        load["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
        )
    model = AutoModelForCausalLM.from_pretrained(config.base_model, **load)
    if cuda and not config.qlora:
        model = model.to("cuda")
    if config.qlora and cuda:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=config.gradient_checkpointing)
    elif config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    train_rows, eval_rows = read_jsonl(config.train_file), read_jsonl(config.eval_file)
    if not train_rows:
        raise ValueError(f"no training examples in {config.train_file}")
    # The steps and the eval loss (before and after alike) at the training's precision.
    autocast = config.cpu_bf16 and not cuda and cpu_bf16_supported()
    precision = functools.partial(torch.autocast, "cpu", dtype=torch.bfloat16, enabled=autocast)
    with precision():
        loss_before = eval_loss(model, tokenizer, eval_rows, config.max_length)

    model = with_lora(model, config)
    encoded = [encode(tokenizer, row["messages"], config.max_length) for row in train_rows]
    pad = pad_id(tokenizer)
    if config.packing:
        batches = _packed_batches(encoded, config.batch_size, config.max_length, pad, random.Random(config.seed))
    else:
        batches = _batches(encoded, config.batch_size, pad, random.Random(config.seed))
    optimizer, scheduler = optimizer_and_schedule(model, config.learning_rate, config.max_steps)
    device = next(model.parameters()).device
    losses: list[float] = []
    tokens = 0
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    loop_started = time.perf_counter()
    for step in range(1, config.max_steps + 1):
        with precision():
            if config.packing:  # no mask and no cache: the position ids delimit the examples
                input_ids, labels, positions, real = next(batches)
                inputs = {"input_ids": input_ids, "labels": labels, "position_ids": positions}
                loss = labelled_loss(model, **{k: v.to(device) for k, v in inputs.items()}, use_cache=False)
            else:
                input_ids, labels, mask = (t.to(device) for t in next(batches))
                loss = labelled_loss(model, input_ids, labels, attention_mask=mask)
                real = int(mask.sum())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        losses.append(round(float(loss.detach()), 4))
        tokens += real
        if progress:
            progress({"step": step, "max_steps": config.max_steps, "loss": losses[-1]})  # may raise Cancelled
    if cuda:
        torch.cuda.synchronize()
    loop_seconds = time.perf_counter() - loop_started
    peak_train_gib = round(torch.cuda.max_memory_allocated() / 2**30, 2) if cuda else None

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    loss_after = None
    if config.merge:
        merged = _merged(model, config, out) if config.qlora and cuda else model.merge_and_unload()
        merged.eval()
        with precision():
            loss_after = eval_loss(merged, tokenizer, eval_rows, config.max_length)
        merged.save_pretrained(out)
        tokenizer.save_pretrained(out)
    seconds = time.perf_counter() - started
    metrics = {
        "losses": losses,
        "eval_loss_before": loss_before,
        "eval_loss_after": loss_after,
        "train_examples": len(train_rows),
        "eval_examples": len(eval_rows),
        "seconds": round(seconds, 1),
        "tokens_per_s": round(tokens / seconds, 1),
        "train_seconds": round(loop_seconds, 1),
        "train_tokens_per_s": round(tokens / loop_seconds, 1),
        "device": "cuda" if cuda else "cpu",
        "precision": "bf16" if cuda else "bf16 autocast" if autocast else "fp32",
        "config": asdict(config),
    }
    if cuda:
        metrics["peak_train_gib"] = peak_train_gib
    (out / "finetune_metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


def _merged(model: Any, config: FinetuneConfig, out: Path) -> Any:
    """QLoRA: merge the adapter into the bf16 base, not into its 4-bit copy (that would bake the rounding in)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    adapter = out / "adapter"
    model.save_pretrained(adapter)
    base = AutoModelForCausalLM.from_pretrained(config.base_model, dtype=torch.bfloat16).to("cuda")
    return PeftModel.from_pretrained(base, adapter).merge_and_unload()


if __name__ == "__main__":
    cfg = FinetuneConfig.from_yaml(sys.argv[1], **dict(a.split("=", 1) for a in sys.argv[2:]))
    print(json.dumps(main(cfg, lambda p: print(p, flush=True)), indent=2))
