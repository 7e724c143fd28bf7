"""The fine-tune's loss on the answer's tokens alone: computed at those positions only, it must be the loss the
model itself computes over the whole sequence (padded, packed, and as DPO sums it per row)."""

from __future__ import annotations

import random

import pytest

from app.config import get_settings
from app.llm import prompts
from training.finetune import _packed_batches, encode, eval_loss, labelled_logits, labelled_loss, pad_id, stack

pytestmark = pytest.mark.slow

ANSWERS = {
    "Where is my order A1023?": "Your order A1023 has shipped with SF Express; its tracking number is SF1234567890.",
    "我的订单B4735到哪了？": "您的订单B4735已签收。",
    "Can I return my keyboard?": "Yes, within 7 days of delivery.",
}


@pytest.fixture(scope="module")
def smollm2():  # type: ignore[no-untyped-def]
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from app.llm.local import ensure_default_weights

    folder = ensure_default_weights(get_settings().resolved_models_dir)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(folder)


def _rows() -> list[dict]:
    facts = ["order A1023: status shipped; carrier SF Express; tracking number SF1234567890"]
    return [
        {"messages": [*prompts.build_messages(facts, [], q, "en"), {"role": "assistant", "content": a}]}
        for q, a in ANSWERS.items()
    ]


def test_the_loss_on_the_answer_alone_is_the_models_own_loss(smollm2):  # type: ignore[no-untyped-def]
    import torch

    model, tokenizer = smollm2
    encoded = [encode(tokenizer, row["messages"], 512) for row in _rows()]
    input_ids, labels, mask = stack(encoded, pad_id(tokenizer))
    assert len({len(ids) for ids, _ in encoded}) > 1  # padded rows, so the mask matters
    with torch.no_grad():
        full = model(input_ids=input_ids, labels=labels, attention_mask=mask).loss
        ours = labelled_loss(model, input_ids, labels, attention_mask=mask)
        # Per row, as DPO sums it: the log-probabilities of the answer's tokens from the full logits.
        logps = torch.log_softmax(model(input_ids=input_ids, attention_mask=mask).logits[:, :-1], -1)
        targets = labels[:, 1:]
        picked = logps.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1) * (targets != -100)
        logits, tokens, row = labelled_logits(model, input_ids, labels, attention_mask=mask)
        token_logps = -torch.nn.functional.cross_entropy(logits, tokens, reduction="none")
        sums = torch.zeros(len(encoded)).index_add(0, row, token_logps)
    assert ours.item() == pytest.approx(full.item(), rel=1e-5)
    assert len(tokens) == int((labels != -100).sum()) < input_ids.numel() / 4  # the head ran on the answers only
    assert torch.allclose(sums, picked.sum(-1), atol=1e-3)
    # The eval loss is the mean of the rows' losses, each as the model computes it alone.
    alone = [model(input_ids=torch.tensor([ids]), labels=torch.tensor([labs])).loss.item() for ids, labs in encoded]
    assert eval_loss(model, tokenizer, _rows(), 512, batch_size=2) == pytest.approx(sum(alone) / len(alone), abs=2e-4)


def test_packed_rows_give_the_models_own_loss(smollm2):  # type: ignore[no-untyped-def]
    import torch

    model, tokenizer = smollm2
    encoded = [encode(tokenizer, row["messages"], 512) for row in _rows()]
    input_ids, labels, positions, _ = next(_packed_batches(encoded, 2, 512, pad_id(tokenizer), random.Random(0)))
    inputs = {"position_ids": positions, "use_cache": False}
    with torch.no_grad():
        full = model(input_ids=input_ids, labels=labels, **inputs).loss
        ours = labelled_loss(model, input_ids, labels, **inputs)
    assert ours.item() == pytest.approx(full.item(), rel=1e-5)
