"""DPO after the fine-tune: the loss on a real model, a run that trains SFT then DPO and lets the gate compare
SFT alone with SFT+DPO, and the stage skipped when it is off or has too few pairs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from app.config import get_settings
from app.db import session_scope
from app.llm import prompts
from app.models import ModelVersion, TrainingRun
from tests.helpers import login, make_user
from training import evaluate, pipeline, runs
from training.dataset import DatasetInfo
from training.dpo import DpoConfig, answer_logps, dpo_loss, encode_pair
from training.dpo import main as train_dpo

MEASURES = set(evaluate.MEASURES)


def _run(status: str = "queued") -> int:
    with session_scope() as s:
        run = TrainingRun(status=status, progress={}, metrics={})
        s.add(run)
        s.flush()
        return run.id


def test_the_loss_starts_at_ln_2_and_is_smaller_the_more_the_chosen_answer_gains():
    import torch

    zero = torch.zeros(2)
    loss, margins = dpo_loss(zero, zero, zero, zero, beta=0.1)
    assert loss.item() == pytest.approx(math.log(2)) and margins.tolist() == [0.0, 0.0]
    # Against the reference the chosen answer gained 5 nats and the rejected one lost 10: margin 0.1 × 15.
    ref = torch.tensor([-10.0])
    loss, margins = dpo_loss(torch.tensor([-5.0]), torch.tensor([-20.0]), ref, ref, beta=0.1)
    assert margins.item() == pytest.approx(1.5)
    assert loss.item() == pytest.approx(-math.log(1 / (1 + math.exp(-1.5))), rel=1e-5)


@pytest.mark.slow
def test_dpo_on_a_pair_lowers_the_loss_and_raises_the_chosen_answers_margin(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from app.llm.local import ensure_default_weights

    base = ensure_default_weights(get_settings().resolved_models_dir)
    facts = ["Order A1023: shipped, tracking number SF1234567890"]
    row = {
        "messages": prompts.marked(prompts.build_messages(facts, [], "Where is my order A1023?", "en")),
        "chosen": "Your order A1023 has shipped; its tracking number is SF1234567890.",
        "rejected": "I cannot help with that.",
    }
    (tmp_path / "preferences.jsonl").write_text(json.dumps(row) + "\n")
    config = DpoConfig(
        model_dir=str(base),
        preferences_file=str(tmp_path / "preferences.jsonl"),
        output_dir=str(tmp_path / "dpo"),
        max_steps=3,
        batch_size=1,
        learning_rate=1e-3,
        max_length=128,  # the end of the prompt and the answer: short sequences keep the test quick
    )
    seen: list[dict] = []
    metrics = train_dpo(config, seen.append)
    assert [s["step"] for s in seen] == [1, 2, 3] and {"loss", "margin", "accuracy"} <= set(seen[0])
    # Before the first update the policy is the reference: the loss is ln 2 and the margin 0.
    assert metrics["losses"][0] == pytest.approx(math.log(2), abs=1e-3)
    assert metrics["margins"][0] == pytest.approx(0.0, abs=1e-3)
    assert metrics["losses"][-1] < metrics["losses"][0] and metrics["margins"][-1] > 0
    assert metrics["accuracies"][-1] == 1.0

    # The merged model prefers the chosen answer to the rejected one by more than the model it started from.
    tokenizer = AutoTokenizer.from_pretrained(base)
    chosen, rejected = encode_pair(tokenizer, row, config.max_length)

    def preference(folder: str | Path) -> float:
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        with torch.no_grad():
            scores = [float(answer_logps(model, *_one(ids, labels))) for ids, labels in (chosen, rejected)]
        return scores[0] - scores[1]

    assert preference(config.output_dir) > preference(base)


def _one(ids: list[int], labels: list[int]) -> tuple:  # type: ignore[type-arg]
    import torch

    return torch.tensor([ids]), torch.tensor([labels]), torch.ones((1, len(ids)), dtype=torch.long)


@pytest.fixture
def quick_training(settings):  # type: ignore[no-untyped-def]
    settings.training_max_steps, settings.training_batch_size, settings.training_dpo_steps = 2, 2, 2
    settings.training_eval_tokens, settings.training_min_examples, settings.training_eval_suite = 8, 4, 2
    # Both candidates judged through transformers on their merged weights: quantizing and converting them
    # (which test_pipeline.py's run covers) would double this test's time.
    settings.training_quantize, settings.llm_local_engine = False, "transformers"
    return settings


@pytest.mark.slow
def test_a_run_with_agents_corrections_trains_sft_then_dpo_and_the_gate_compares_both(
    client, corrected_turns, quick_training, local_model
):
    run_id = _run()
    assert runs.execute(run_id) == "succeeded"
    admin = login(client, make_user("admin"))
    run = client.get(f"/api/v1/training/runs/{run_id}", headers=admin).json()
    progress, metrics, log = run["progress"], run["metrics"], run["log"]
    assert log.index("stage finetune") < log.index("stage dpo") < log.index("DPO on ") < log.index("stage evaluate")
    # Each stage's own curve: the fine-tune's loss, and DPO's loss, reward margin and accuracy.
    assert len(progress["losses"]) == 2
    assert len(progress["dpo_losses"]) == len(progress["dpo_margins"]) == len(progress["dpo_accuracies"]) == 2
    assert metrics["dpo"]["pairs"] >= 4 and metrics["dpo"]["losses"] == progress["dpo_losses"]
    # The gate's table: the active model, SFT alone and SFT+DPO, each judged on the same cases.
    table = metrics["compared"]
    assert set(table) == {"active", "sft", "sft+dpo"}
    assert all(set(column) >= MEASURES and column["cases"] == table["active"]["cases"] for column in table.values())
    keep, why = evaluate.prefer(table["sft+dpo"], table["sft"])
    assert metrics["chosen"] == ("sft+dpo" if keep else "sft") and metrics["chosen_because"] == why
    assert metrics["candidate"] == table[metrics["chosen"]] and metrics["active_before"] == table["active"]
    assert evaluate.gate(metrics["candidate"], table["active"]) == (
        metrics["promoted"],
        metrics["not_promoted_because"],
    )
    with session_scope() as s:
        version = s.get(ModelVersion, run["model_version_id"])
        assert version.lineage["dpo"] == (metrics["chosen"] == "sft+dpo")
        assert version.path == version.lineage["merged"]  # not quantized in this test: the merged weights serve
        assert (Path(version.lineage["sft_merged"]).parent / "dpo" / "config.json").exists()


def test_dpo_is_skipped_when_off_or_with_too_few_pairs(settings, tmp_path):
    progress = pipeline.Progress(_run("running"))
    info = DatasetInfo(
        tmp_path / "train.jsonl", tmp_path / "eval.jsonl", tmp_path / "preferences.jsonl", 10, 2, 9, "sha"
    )
    settings.training_dpo, settings.training_dpo_min_pairs = False, 4
    off = pipeline.preference_stage(settings, info, "unused", tmp_path / "dpo", progress)
    assert off == {"skipped": "it is off (SHOPDESK_TRAINING_DPO=false)", "pairs": 9}
    settings.training_dpo = True
    info.preferences = 3
    few = pipeline.preference_stage(settings, info, "unused", tmp_path / "dpo", progress)
    assert few["skipped"] == "3 preference pairs (agents' edits and rejections); 4 are needed"
    assert not (tmp_path / "dpo").exists()
    with session_scope() as s:
        assert s.get(TrainingRun, progress.run_id).log.count("DPO skipped: ") == 2
