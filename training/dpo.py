"""DPO after the fine-tune: the replies agents sent preferred to the model's candidates they replaced.

python -m training.dpo training/configs/smollm2-cpu-dpo.yaml model_dir=MERGED preferences_file=P output_dir=OUT

The policy is the merged SFT model with a new LoRA adapter (peft); the reference is the same model with the
adapter disabled, so no second copy is loaded. Log-probabilities are summed over the answer's tokens only,
after the prompt the turn sent (the dataset's, as the fine-tune reads it), and the loss is DPO's:
-log σ(β · ((log π(chosen) - log π_ref(chosen)) - (log π(rejected) - log π_ref(rejected)))).
The adapter is merged into the model and saved, as the fine-tune does.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from training.finetune import (
    encode,
    optimizer_and_schedule,
    pad_id,
    per_row,
    read_jsonl,
    stack,
    token_losses,
    with_lora,
)

Encoded = tuple[list[int], list[int]]  # token ids, labels (-100 but on the answer)


@dataclass
class DpoConfig:
    model_dir: str  # the merged SFT model (a Hugging Face folder)
    preferences_file: str  # JSONL rows: messages (the turn's prompt), chosen, rejected
    output_dir: str
    beta: float = 0.1  # larger: the policy is held closer to the reference
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0  # dropout would set the policy apart from the reference before any step
    target_modules: str = "all-linear"
    learning_rate: float = 1e-4
    max_steps: int = 20
    batch_size: int = 2  # pairs per step (each step reads twice as many sequences)
    max_length: int = 512
    seed: int = 0
    gradient_checkpointing: bool = False  # on CUDA for large models
    merge: bool = True

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> DpoConfig:
        import yaml

        data = yaml.safe_load(Path(path).read_text()) or {}
        types = {f.name: f.type for f in fields(cls)}
        # key=value from the command line comes as text: read it as YAML where the field is not a string.
        values = {
            k: yaml.safe_load(v) if isinstance(v, str) and types.get(k) != "str" else v for k, v in overrides.items()
        }
        return cls(**{k: v for k, v in {**data, **values}.items() if k in types})


def encode_pair(tokenizer: Any, row: dict[str, Any], max_length: int) -> tuple[Encoded, Encoded]:
    """The chosen and the rejected answer, each after the row's prompt, labelled as the fine-tune labels them."""
    prompt = row["messages"]
    chosen = encode(tokenizer, [*prompt, {"role": "assistant", "content": row["chosen"]}], max_length)
    rejected = encode(tokenizer, [*prompt, {"role": "assistant", "content": row["rejected"]}], max_length)
    return chosen, rejected


def answer_logps(model: Any, input_ids: Any, labels: Any, mask: Any) -> Any:
    """Per row, the log-probability of its labelled tokens (the answer), summed."""
    losses, rows = token_losses(model, input_ids, labels, attention_mask=mask)
    return per_row(-losses, rows, len(input_ids))


def dpo_loss(
    policy_chosen: Any, policy_rejected: Any, ref_chosen: Any, ref_rejected: Any, beta: float
) -> tuple[Any, Any]:
    """The mean DPO loss and each pair's reward margin, β · (chosen's log-ratio - rejected's log-ratio)."""
    import torch

    margins = beta * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))
    return -torch.nn.functional.logsigmoid(margins).mean(), margins


def _batches(count: int, size: int, rng: random.Random) -> Iterator[list[int]]:
    """Pair indices, size at a time, reshuffled every pass."""
    while True:
        order = list(range(count))
        rng.shuffle(order)
        for start in range(0, count, size):
            yield order[start : start + size]


def main(config: DpoConfig, progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Train a LoRA adapter with DPO on the merged SFT model, merge it, save the result; return the metrics."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    torch.manual_seed(config.seed)
    cuda = torch.cuda.is_available()
    rows = [r for r in read_jsonl(config.preferences_file) if r.get("chosen") and r.get("rejected")]
    if not rows:
        raise ValueError(f"no preference pairs in {config.preferences_file}")
    tokenizer = AutoTokenizer.from_pretrained(config.model_dir)
    model = AutoModelForCausalLM.from_pretrained(config.model_dir, dtype=torch.bfloat16 if cuda else torch.float32)
    if cuda:
        model = model.to("cuda")
    if config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    pairs = [encode_pair(tokenizer, row, config.max_length) for row in rows]
    model = with_lora(model, config)
    pad = pad_id(tokenizer)
    device = next(model.parameters()).device
    optimizer, scheduler = optimizer_and_schedule(model, config.learning_rate, config.max_steps)
    # The reference never changes: each pair's log-probabilities are computed the first time it is drawn.
    reference: dict[int, tuple[float, float]] = {}
    batches = _batches(len(pairs), config.batch_size, random.Random(config.seed))
    losses: list[float] = []
    margins: list[float] = []
    accuracies: list[float] = []
    loop_started = time.perf_counter()
    for step in range(1, config.max_steps + 1):
        chunk = next(batches)
        n = len(chunk)
        # Chosen answers first, then the rejected ones: one forward pass reads both.
        batch = stack([pairs[i][0] for i in chunk] + [pairs[i][1] for i in chunk], pad, device)
        if any(i not in reference for i in chunk):
            with torch.no_grad(), model.disable_adapter():
                ref = answer_logps(model, *batch).tolist()
            reference.update({i: (ref[k], ref[n + k]) for k, i in enumerate(chunk)})
        ref_chosen = torch.tensor([reference[i][0] for i in chunk], device=device)
        ref_rejected = torch.tensor([reference[i][1] for i in chunk], device=device)
        logps = answer_logps(model, *batch)
        loss, margin = dpo_loss(logps[:n], logps[n:], ref_chosen, ref_rejected, config.beta)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        losses.append(round(float(loss.detach()), 4))
        margins.append(round(float(margin.detach().mean()), 4))
        accuracies.append(round(float((margin.detach() > 0).float().mean()), 3))
        if progress:  # may raise Cancelled
            info = {"loss": losses[-1], "margin": margins[-1], "accuracy": accuracies[-1]}
            progress({"step": step, "max_steps": config.max_steps, **info})
    train_seconds = time.perf_counter() - loop_started

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if config.merge:
        merged = model.merge_and_unload()
        merged.save_pretrained(out)
        tokenizer.save_pretrained(out)
    metrics = {
        "pairs": len(pairs),
        "losses": losses,
        "margins": margins,
        "accuracies": accuracies,
        "seconds": round(time.perf_counter() - started, 1),
        "train_seconds": round(train_seconds, 1),
        "device": "cuda" if cuda else "cpu",
        "config": asdict(config),
    }
    (out / "dpo_metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


if __name__ == "__main__":
    cfg = DpoConfig.from_yaml(sys.argv[1], **dict(a.split("=", 1) for a in sys.argv[2:]))
    print(json.dumps(main(cfg, lambda p: print(p, flush=True)), indent=2))
